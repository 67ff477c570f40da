#!/usr/bin/env python3
"""Seeds for the `verify_appended` fuzz target: incremental updates to append to
`fuzz/assets/honest-approval.pdf`.

    python3 fuzz/appended_seeds.py OUT_DIR [SIGNED.pdf ...]

Writes hand-written updates (classic xref sections and xref streams with /Prev to the base's
last section) that redefine the page, the page tree, the catalog, the signature field, the
signature dictionary, add annotations, form fields and a DSS, free an object, or chain two
revisions. Each SIGNED.pdf whose bytes start with the base (an attack fixture or a
countersignature made from this very file) contributes its appended tail. Python 3 standard
library only. The object numbers below are those of the base as `tests/attacks/make_attacks.py`
writes `honest-approval.pdf`: catalog 1, pages 2, font 3, page 1 = 5 (content 6), page 2 = 7,
signature dictionary 9, seal appearance 12, signature field/widget 13, /Size 14.
"""

import pathlib
import re
import sys
import zlib

HERE = pathlib.Path(__file__).resolve().parent
BASE = (HERE / "assets" / "honest-approval.pdf").read_bytes()
PREV = int(re.findall(rb"startxref\s+(\d+)", BASE)[-1])
SIZE = 14

PAGE1 = (b"<</Type /Page/Parent 2 0 R/MediaBox [0 0 595 842]"
         b"/Resources <</Font <</F1 3 0 R>>>>/Contents %s/Annots [%s]>>")
CATALOG = b"<</Type /Catalog/Pages 2 0 R/AcroForm <</Fields [%s]/SigFlags 3>>%s>>"
TEXT = (b"BT /F1 12 Tf 72 700 Td (3. The Client shall pay a penalty of EUR 50,000.00 "
        b"with every invoice.) Tj ET")


def stream(data: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data)
        extra += b"/Filter /FlateDecode"
    return b"<<%s/Length %d>>\nstream\n%s\nendstream" % (extra, len(data), data)


def classic(objs, start: int, prev: int, size: int, free=()) -> bytes:
    """One classic update at absolute offset `start`: objects, xref table, trailer."""
    out, offs = bytearray(), {}
    for num, body in objs:
        offs[num] = start + len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    xref = start + len(out)
    out += b"xref\n"
    entries = {n: b"%010d 00000 n \n" % o for n, o in offs.items()}
    entries.update({n: b"0000000000 00001 f \n" for n in free})
    for num in sorted(entries):
        out += b"%d 1\n" % num + entries[num]
    out += (b"trailer\n<</Size %d/Root 1 0 R/Info 4 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
            % (size, prev, xref))
    return bytes(out)


def xref_stream(objs, start: int, prev: int, size: int, objstm=None) -> bytes:
    """One update whose section is an xref stream (W [1 4 2]); `objstm` = (num, [(n, body)])
    puts those objects in a compressed object stream."""
    out, rows = bytearray(), {}
    for num, body in objs:
        rows[num] = (1, start + len(out), 0)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    if objstm:
        snum, inner = objstm
        head, body = b"", b""
        for i, (n, b) in enumerate(inner):
            head += b"%d %d " % (n, len(body))
            body += b + b"\n"
            rows[n] = (2, snum, i)
        rows[snum] = (1, start + len(out), 0)
        extra = b"/Type /ObjStm/N %d/First %d" % (len(inner), len(head))
        out += b"%d 0 obj\n%s\nendobj\n" % (snum, stream(head + body, extra, compress=True))
    xnum = size
    size += 1
    rows[xnum] = (1, start + len(out), 0)
    nums = sorted(rows)
    index = b" ".join(b"%d 1" % n for n in nums)
    data = b"".join(bytes([rows[n][0]]) + rows[n][1].to_bytes(4, "big") + rows[n][2].to_bytes(2, "big")
                    for n in nums)
    extra = (b"/Type /XRef/Size %d/Root 1 0 R/Info 4 0 R/Prev %d/W [1 4 2]/Index [%s]"
             % (size, prev, index))
    out += b"%d 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (xnum, stream(data, extra), rows[xnum][1])
    return bytes(out)


def at_end(build, *args, **kw) -> bytes:
    return build(*args, start=len(BASE), prev=PREV, **kw)


def signer_certificate() -> bytes:
    """The first certificate in the base's CMS (DER), for the DSS seed."""
    m = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", BASE)
    cms = bytes.fromhex(m.group(1).decode()) if m else b""
    i = cms.find(b"\xa0\x82")
    while i >= 0 and cms[i + 4:i + 6] != b"\x30\x82":
        i = cms.find(b"\xa0\x82", i + 1)
    if i < 0:
        return b"0\x82\x01\x00" + bytes(256)  # not found: a DER header and zeros
    n = int.from_bytes(cms[i + 6:i + 8], "big")
    return cms[i + 4:i + 8 + n]


def handwritten():
    new_content = stream(TEXT)
    freetext_ap = stream(b"1 1 1 rg 0 0 400 60 re f BT /F1 12 Tf 5 20 Td (Clause 3 removed) Tj ET",
                         b"/Type /XObject/Subtype /Form/BBox [0 0 400 60]"
                         b"/Resources <</Font <</F1 3 0 R>>>>")
    cert = signer_certificate()
    seeds = {
        "page-new-contents": at_end(classic, [(14, new_content), (5, PAGE1 % (b"14 0 R", b"13 0 R"))],
                                    size=15),
        "page-contents-array": at_end(classic, [(14, new_content),
                                                (5, PAGE1 % (b"[6 0 R 14 0 R]", b"13 0 R"))], size=15),
        "content-redefined": at_end(classic, [(6, new_content)], size=SIZE),
        "page-no-annots": at_end(classic, [(5, PAGE1.replace(b"/Annots [%s]", b"") % b"6 0 R")],
                                 size=SIZE),
        "pages-reordered": at_end(classic, [(2, b"<</Type /Pages/Kids [7 0 R 5 0 R]/Count 2>>")],
                                  size=SIZE),
        "catalog-openaction": at_end(classic, [(1, CATALOG % (b"13 0 R", b"/OpenAction [7 0 R /Fit]"
                                                              b"/Names <<>>/Perms <</DocMDP 9 0 R>>"))],
                                     size=SIZE),
        "catalog-no-acroform": at_end(classic, [(1, b"<</Type /Catalog/Pages 2 0 R>>")], size=SIZE),
        "field-moved": at_end(classic, [(13, b"<</FT /Sig/T (Signer1)/V 9 0 R/Type /Annot/Subtype /Widget"
                                             b"/F 132/Rect [0 0 595 842]/P 5 0 R/AP <</N 14 0 R>>>>"),
                                        (14, freetext_ap)], size=15),
        "sigdict-redefined": at_end(classic, [(9, b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached"
                                                  b"/ByteRange [0 10 20 30]/Contents <00>/M(D:20300101000000Z)>>")],
                                    size=SIZE),
        "text-field-added": at_end(classic, [
            (14, b"<</FT /Tx/T (Fee)/V (EUR 50,000.00)/DA (/F1 12 Tf 0 g)/Type /Annot/Subtype /Widget"
                 b"/F 4/Rect [72 690 400 710]/P 5 0 R/AP <</N 15 0 R>>>>"),
            (15, stream(b"/Tx BMC BT /F1 12 Tf 2 4 Td (EUR 50,000.00) Tj ET EMC",
                        b"/Type /XObject/Subtype /Form/BBox [0 0 328 20]/Resources <</Font <</F1 3 0 R>>>>")),
            (5, PAGE1 % (b"6 0 R", b"13 0 R 14 0 R")),
            (1, CATALOG % (b"13 0 R 14 0 R", b""))], size=16),
        "freetext-annotation": at_end(classic, [
            (14, b"<</Type /Annot/Subtype /FreeText/Rect [60 600 460 660]/Contents (Clause 3 removed)"
                 b"/DA (/F1 12 Tf 0 g)/F 4/P 5 0 R/AP <</N 15 0 R>>>>"),
            (15, freetext_ap),
            (5, PAGE1 % (b"6 0 R", b"13 0 R 14 0 R"))], size=16),
        "sticky-note": at_end(classic, [
            (14, b"<</Type /Annot/Subtype /Text/Rect [500 800 520 820]/Contents (ok)/P 5 0 R>>"),
            (5, PAGE1 % (b"6 0 R", b"13 0 R 14 0 R"))], size=15),
        "new-signature-field": at_end(classic, [
            (14, b"<</FT /Sig/T (Sneaky)/Type /Annot/Subtype /Widget/F 4/Rect [0 0 595 842]/P 7 0 R"
                 b"/AP <</N 15 0 R>>>>"),
            (15, freetext_ap),
            (7, PAGE1.replace(b"/Contents %s/Annots [%s]", b"/Contents 8 0 R/Annots [14 0 R]")),
            (1, CATALOG % (b"13 0 R 14 0 R", b""))], size=16),
        "dss": at_end(classic, [
            (14, stream(cert)),
            (15, stream(zlib.compress(b"\x30\x03\x0a\x01\x01"), b"/Filter /FlateDecode")),
            (1, CATALOG % (b"13 0 R", b"/DSS <</Certs [14 0 R]/OCSPs [15 0 R]/CRLs [15 0 R]"
                                      b"/VRI <</ABCDEF <</Cert [14 0 R]>>>>>>"))], size=16),
        "object-freed": at_end(classic, [], size=SIZE, free=[12]),
        "xref-stream-page": at_end(xref_stream, [(14, new_content),
                                                 (5, PAGE1 % (b"14 0 R", b"13 0 R"))], size=15),
        "objstm-catalog-page": at_end(xref_stream, [(14, stream(TEXT, compress=True))], size=16,
                                      objstm=(15, [(5, PAGE1 % (b"14 0 R", b"13 0 R")),
                                                   (1, CATALOG % (b"13 0 R", b"/Lang (en)"))])),
        "object-after-eof": b"6 0 obj\n" + new_content + b"\nendobj\n",
    }
    # Two revisions: a sticky note, then the page content redefined on top of it.
    first = seeds["sticky-note"]
    second = classic([(6, new_content)], start=len(BASE) + len(first),
                     prev=int(re.findall(rb"startxref\s+(\d+)", first)[-1]), size=15)
    seeds["two-revisions"] = first + second
    return seeds


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seeds = handwritten()
    for path in map(pathlib.Path, sys.argv[2:]):
        data = path.read_bytes()
        if data.startswith(BASE) and len(data) > len(BASE):
            seeds["tail-" + path.stem] = data[len(BASE):]
        else:
            print(f"skipped {path.name}: does not extend the base", file=sys.stderr)
    for name, data in seeds.items():
        (out / f"{name}.bin").write_bytes(data)
    print(f"{len(seeds)} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
