#!/usr/bin/env python3
"""pyHanko's verification throughput: validate every signature of every file, in one Python
process (no per-file process start) or in a pool of worker processes. The root is trusted, no
fetching (no network, no revocation look-ups). Each file must hold the expected number of
signatures, each intact, valid, trusted, with pyHanko's bottom line OK and, when
`--timestamps` is given, a valid and trusted signature time-stamp. A file that fails is an
error (exit 1): a throughput over failures would mean nothing.

Prints one JSON line: {"tool": "pyhanko", "workers", "files", "signatures", "failed",
"seconds", "per_second", "cpu_seconds"}; `seconds` and `cpu_seconds` cover the validations
only (imports and reading the root excluded; with --workers > 1, starting the pool and the
workers' CPU time are included).

usage: pyhanko_verify_bench.py --root ROOT.pem --expect 2 [--timestamps] [--workers N] FILE...
       pyhanko_verify_bench.py ... --files-from LIST   (one path per line)"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import sys
import time

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

ROOTS_DER: list[bytes] = []
EXPECT = 0
TIMESTAMPS = False


def init(root_path: str, expect: int, timestamps: bool) -> None:
    global ROOTS_DER, EXPECT, TIMESTAMPS
    ROOTS_DER = [c.dump() for c in load_certs_from_pemder([root_path])]
    EXPECT = expect
    TIMESTAMPS = timestamps
    logging.getLogger().setLevel(logging.ERROR)


def validate_file(path: str):
    """(path, number of signatures, failure text or None)."""
    try:
        with open(path, "rb") as f:
            reader = PdfFileReader(f, strict=True)
            sigs = list(reader.embedded_signatures)
            if len(sigs) != EXPECT:
                return path, len(sigs), f"{len(sigs)} signatures, expected {EXPECT}"
            # One validation context per file, as a fresh validator would have; fetching off.
            # Fresh root objects too: certvalidator keeps state on the certificate objects, and
            # sharing them between contexts makes the second file's path building fail.
            roots = [asn1_x509.Certificate.load(der) for der in ROOTS_DER]
            vc = ValidationContext(trust_roots=roots, allow_fetching=False)
            for sig in sigs:
                st = validate_pdf_signature(sig, signer_validation_context=vc)
                if not (st.intact and st.valid and st.trusted and st.bottom_line):
                    return path, len(sigs), f"{sig.field_name}: {st.summary()}"
                if TIMESTAMPS:
                    ts = st.timestamp_validity
                    if ts is None or not (ts.intact and ts.valid and ts.trusted):
                        return path, len(sigs), f"{sig.field_name}: time-stamp {ts.summary() if ts else 'missing'}"
            return path, len(sigs), None
    except Exception as e:  # pyHanko's own words
        return path, 0, f"{type(e).__name__}: {e}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--timestamps", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--files-from")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = list(a.files)
    if a.files_from:
        with open(a.files_from) as f:
            files += [line.rstrip("\n") for line in f if line.strip()]
    init(a.root, a.expect, a.timestamps)

    cpu0 = os.times()
    start = time.monotonic()
    if a.workers <= 1:
        results = [validate_file(p) for p in files]
    else:
        # fork: the workers inherit the imported modules; starting them is timed.
        pool = mp.get_context("fork").Pool(a.workers, initializer=init, initargs=(a.root, a.expect, a.timestamps))
        results = pool.map(validate_file, files, chunksize=max(1, len(files) // (a.workers * 8)))
        pool.close()
        pool.join()  # workers reaped: their CPU time is in os.times() children
    elapsed = time.monotonic() - start
    cpu1 = os.times()
    cpu = sum(cpu1[i] - cpu0[i] for i in range(4))  # user, system, children user, children system

    bad = [(p, msg) for p, _, msg in results if msg]
    for p, msg in bad[:5]:
        print(f"pyhanko: {p}: {msg}", file=sys.stderr)
    print(json.dumps({"tool": "pyhanko", "workers": a.workers, "files": len(files),
                      "signatures": sum(n for _, n, _ in results), "failed": len(bad),
                      "seconds": round(elapsed, 4), "per_second": round(len(files) / elapsed, 2),
                      "cpu_seconds": round(cpu, 3)}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
