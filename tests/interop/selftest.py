#!/usr/bin/env python3
"""Self-test of the interop checkers: they must accept good files and reject bad ones.

A checker that passes everything proves nothing. This script makes its own
PKI (Python `cryptography`: root, issuing CA, signer, TSA, CRLs served over
HTTP on 127.0.0.1), has pyHanko sign a PDF at every PAdES level, plus a
two-signer and a certified document, and runs `pyhanko_check.py` on them:
every good file must pass. Then it feeds deliberately broken files: a flipped
byte in the signed range, a B-T file claimed as B-LT (no DSS), a B-LT whose DSS
has no revocation info, a B-LT claimed as B-LTA (no document time-stamp), and
a good file checked against a foreign root: each must fail. It finally runs
`openssl cms -verify` / `openssl ts -verify` on the extracted parts.

    selftest.py WORKDIR [INPUT.pdf]     (without INPUT.pdf, a 3-page PDF is generated)

Ends with a line 'N passed, N failed' and exits non-zero on any failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import io
import json
import os
import subprocess
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = dt.datetime.now(dt.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Selftest"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject_cn, key, issuer_cert, issuer_key, *, ca=False, crl_url=None, eku=None, serial=None):
    b = (x509.CertificateBuilder()
         .subject_name(name(subject_cn))
         .issuer_name(issuer_cert.subject if issuer_cert else name(subject_cn))
         .public_key(key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(days=1))
         .not_valid_after(NOW + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    elif eku is None:
        b = b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    if issuer_cert is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if crl_url:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None,
            reasons=None, crl_issuer=None)]), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def make_crl(issuer_cert, issuer_key):
    return (x509.CertificateRevocationListBuilder()
            .issuer_name(issuer_cert.subject)
            .last_update(NOW - dt.timedelta(minutes=5))
            .next_update(NOW + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def write_pem(path, obj):
    with open(path, "wb") as f:
        if isinstance(obj, x509.Certificate):
            f.write(obj.public_bytes(serialization.Encoding.PEM))
        else:
            f.write(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


class PKI:
    def __init__(self, d, base_url, label):
        os.makedirs(d, exist_ok=True)
        keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("root", "issuing", "signer", "signer2")}
        # pyHanko's in-process DummyTimeStamper signs with RSA only.
        keys["tsa"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root = make_cert(f"{label} Root", keys["root"], None, None, ca=True)
        issuing = make_cert(f"{label} Issuing", keys["issuing"], root, keys["root"], ca=True,
                            crl_url=f"{base_url}/{label}-root.crl")
        leaf_crl = f"{base_url}/{label}-issuing.crl"
        signer = make_cert("Zhang San", keys["signer"], issuing, keys["issuing"], crl_url=leaf_crl)
        signer2 = make_cert("Li Si", keys["signer2"], issuing, keys["issuing"], crl_url=leaf_crl)
        tsa = make_cert(f"{label} TSA", keys["tsa"], issuing, keys["issuing"], crl_url=leaf_crl,
                        eku=ExtendedKeyUsageOID.TIME_STAMPING)
        for n, c in (("root", root), ("issuing", issuing), ("signer", signer), ("signer2", signer2), ("tsa", tsa)):
            write_pem(f"{d}/{n}.pem", c)
            write_pem(f"{d}/{n}.key", keys[n])
        for n, crl in (("root", make_crl(root, keys["root"])), ("issuing", make_crl(issuing, keys["issuing"]))):
            with open(f"{d}/{label}-{n}.crl", "wb") as f:
                f.write(crl.public_bytes(serialization.Encoding.DER))
        self.dir = d
        self.root_pem = f"{d}/root.pem"
        load = lambda n: load_cert_from_pemder(f"{d}/{n}.pem")  # noqa: E731
        self.root, self.issuing = load("root"), load("issuing")
        chain = SimpleCertificateStore.from_certs([self.issuing, self.root])
        self.signers = [
            signers.SimpleSigner(signing_cert=load(n), signing_key=load_private_key_from_pemder(f"{d}/{n}.key", None),
                                 cert_registry=chain)
            for n in ("signer", "signer2")]
        self.tsa = DummyTimeStamper(tsa_cert=load("tsa"), tsa_key=load_private_key_from_pemder(f"{d}/tsa.key", None),
                                    certs_to_embed=chain)


def sign(pki, data: bytes, level: str, *, signer=0, field=None, certify=False, new_fields=(), visible=False):
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    for spec in new_fields:
        fields.append_signature_field(w, spec)
    if field is None:
        field = f"Sig{len(list(PdfFileReader(io.BytesIO(data)).embedded_signatures)) + 1}"
        if visible:
            fields.append_signature_field(w, fields.SigFieldSpec(field, on_page=0, box=(300, 60, 500, 140)))
    meta = signers.PdfSignatureMetadata(
        field_name=field, certify=certify,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=level in ("B-LT", "B-LTA"),
        use_pades_lta=level == "B-LTA",
        validation_context=ValidationContext(trust_roots=[pki.root], allow_fetching=True),
    )
    out = signers.sign_pdf(w, meta, signer=pki.signers[signer],
                           timestamper=pki.tsa if level != "B-B" else None)
    return out.getvalue()


def serve(directory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=directory)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def flip_signed_byte(data: bytes) -> bytes:
    """Flip one byte of page content inside the first signed range (not /Contents)."""
    pos = data.find(b"stream\n") + 10
    assert 0 < pos < data.find(b"/ByteRange"), "no content stream before the signature"
    b = bytearray(data)
    b[pos] ^= 0x01
    return bytes(b)


def minimal_pdf(pages=3) -> bytes:
    """A small uncompressed PDF with a classic xref table (independent of Signet)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for i in range(pages):
        text = b"BT /F1 24 Tf 72 720 Td (Self-test contract, page %d) Tj ET" % (i + 1)
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text))
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 3 0 R >> >> >>" % len(objs))
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), pages)
    out, offsets = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", []
    for i, body in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i + 1, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    work = argv[1]
    os.makedirs(work, exist_ok=True)
    if len(argv) == 3:
        input_pdf = argv[2]
    else:
        input_pdf = os.path.join(work, "input.pdf")
        with open(input_pdf, "wb") as f:
            f.write(minimal_pdf())
    crl_dir = os.path.join(work, "crl")
    os.makedirs(crl_dir, exist_ok=True)
    srv = serve(crl_dir)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    pki = PKI(crl_dir, base, "good")
    other = PKI(os.path.join(work, "other"), base, "other")
    src = open(input_pdf, "rb").read()

    files, jobs = {}, []

    def job(label, data, sigs, *, good=True, trust=None):
        path = os.path.join(work, f"{label}.pdf")
        with open(path, "wb") as f:
            f.write(data)
        files[label] = data
        jobs.append({"name": label, "file": path, "trust": trust or [pki.root_pem],
                     "extract_dir": os.path.join(work, "x", label), "signatures": sigs, "_good": good})

    by_level = {}
    for level in ("B-B", "B-T", "B-LT", "B-LTA"):
        by_level[level] = sign(pki, src, level, visible=level in ("B-T", "B-LTA"))
        job(level, by_level[level], [{"level": level}])
    two = sign(pki, sign(pki, src, "B-T"), "B-LT", signer=1)
    job("two-signers", two, [{"level": "B-T"}, {"level": "B-LT"}])
    spec = fields.SigFieldSpec("Signer2", on_page=0, box=(300, 200, 500, 280))
    cert = sign(pki, src, "B-T", certify=True, field="Signer1", new_fields=[spec])
    job("certified", sign(pki, cert, "B-T", signer=1, field="Signer2"),
        [{"level": "B-T", "certify": 2}, {"level": "B-T"}])

    # --- must fail ---------------------------------------------------------------------
    job("bad-flipped-byte", flip_signed_byte(by_level["B-T"]), [{"level": "B-T"}], good=False)
    job("bad-no-dss", by_level["B-T"], [{"level": "B-LT"}], good=False)
    job("bad-no-doc-ts", by_level["B-LT"], [{"level": "B-LTA"}], good=False)
    job("bad-foreign-root", by_level["B-B"], [{"level": "B-B"}], good=False, trust=[other.root_pem])
    # B-T plus a DSS holding certificates but no revocation info.
    buf = io.BytesIO(by_level["B-T"])
    sig = next(iter(PdfFileReader(io.BytesIO(by_level["B-T"])).embedded_signatures))
    DocumentSecurityStore.add_dss(buf, sig.pkcs7_content, certs=[pki.issuing, pki.root], force_write=True)
    job("bad-dss-without-revinfo", buf.getvalue(), [{"level": "B-LT"}], good=False)

    jobs_path = os.path.join(work, "jobs.json")
    with open(jobs_path, "w") as f:
        json.dump({"jobs": jobs}, f, indent=1)
    res_path = os.path.join(work, "results.json")
    subprocess.run([sys.executable, os.path.join(HERE, "pyhanko_check.py"), jobs_path, res_path], check=True)
    results = json.load(open(res_path))["results"]

    passed = failed = 0
    for j, r in zip(jobs, results):
        if j["_good"] and r["failures"]:
            failed += 1
            print(f"FAIL {j['name']}: good file rejected:\n  " + "\n  ".join(r["failures"]))
        elif not j["_good"] and not r["failures"]:
            failed += 1
            print(f"FAIL {j['name']}: bad file accepted")
        else:
            passed += 1
            print(f"ok   {j['name']}" + ("" if j["_good"] else f"  (rejected: {r['failures'][0].splitlines()[0]})"))

    # openssl on the extracted parts of the good files
    tsa_chain = os.path.join(work, "tsa-chain.pem")
    with open(tsa_chain, "w") as f:
        f.write(open(f"{crl_dir}/tsa.pem").read() + open(f"{crl_dir}/issuing.pem").read())
    for j, r in zip(jobs, results):
        if not j["_good"]:
            continue
        for s in r["signatures"]:
            cmds = []
            if s["kind"] == "signature":
                cmds.append(["openssl", "cms", "-verify", "-inform", "DER", "-in", s["p7s"], "-content", s["content"],
                             "-binary", "-CAfile", pki.root_pem, "-purpose", "any", "-out", "/dev/null"])
            if s["tst"]:
                cmds.append(["openssl", "ts", "-verify", "-in", s["tst"], "-token_in", "-digest", s["tst_digest_hex"],
                             "-CAfile", pki.root_pem, "-untrusted", tsa_chain])
            for c in cmds:
                p = subprocess.run(c, capture_output=True, text=True)
                if p.returncode != 0:
                    failed += 1
                    print(f"FAIL {j['name']} {s['field']}: {' '.join(c[:2])}: {p.stdout}{p.stderr}")
                else:
                    passed += 1
    srv.shutdown()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
