#!/usr/bin/env python3
"""pyHanko's signing throughput on the same PDF and the same kind of key, in one Python
process: B-B (no time-stamp) and B-T (with pyHanko's in-process DummyTimeStamper, the
counterpart of Signet's in-process TSA). Prints one JSON line per level, like `signet bench`.

usage: pyhanko_bench.py PDF P12 PASSWORD TSA_CERT TSA_KEY SECONDS"""
import io, json, sys, time

from asn1crypto import keys as asn1_keys, x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def load_pem_cert(path):
    from cryptography import x509
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def load_pem_key(path):
    with open(path, "rb") as f:
        k = serialization.load_pem_private_key(f.read(), password=None)
    der = k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


def main() -> None:
    pdf_path, p12, password, tsa_cert, tsa_key, seconds = sys.argv[1:7]
    seconds = float(seconds)
    with open(pdf_path, "rb") as f:
        pdf = f.read()
    signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=password.encode())
    tsa = DummyTimeStamper(tsa_cert=load_pem_cert(tsa_cert), tsa_key=load_pem_key(tsa_key))
    for level, ts in (("B-B", None), ("B-T", tsa)):
        meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES)
        pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=ts)
        n = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            w = IncrementalPdfFileWriter(io.BytesIO(pdf))
            out = io.BytesIO()
            pdf_signer.sign_pdf(w, output=out)
            n += 1
        elapsed = time.monotonic() - start
        print(json.dumps({"tool": "pyhanko", "level": level, "threads": 1, "signatures": n,
                          "seconds": elapsed, "per_second": n / elapsed, "pdf_bytes": len(pdf)}))


if __name__ == "__main__":
    main()
