#!/usr/bin/env python3
"""What pyHanko says about each fixture of make_attacks.py (a cross-check, not a test).

    $HOME/.cache/signet-venv/bin/python tests/attacks/pyhanko_report.py DIR

Reads DIR/manifest.json, validates every embedded signature of every fixture with pyHanko
(trust anchor DIR/ca/root.pem, no fetching) and prints one block per file: the manifest's
expectation, then per signature pyHanko's intact/valid/trusted flags, coverage, the
modification level of its difference analysis, DocMDP compliance and its bottom line, or
the error pyHanko raised. A line "pyHanko: REJECTS" or "pyHanko: ACCEPTS" sums up the file
(REJECTS: some signature is not intact/valid, or a later change is beyond what its policy
allows, or pyHanko cannot read the file). Exit 0 always; the report is for people.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def main() -> int:
    logging.disable(logging.CRITICAL)
    out = sys.argv[1]
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    root_pem = os.path.join(out, "ca", "root.pem")
    for entry in manifest:
        path = os.path.join(out, entry["file"])
        print(f"== {entry['file']}  (expect {entry['expect']}, attack {entry['attack']})")
        verdict = "ACCEPTS"
        try:
            with open(path, "rb") as fh:
                reader = PdfFileReader(fh)
                sigs = reader.embedded_signatures
                if not sigs:
                    print("   no embedded signatures found")
                    verdict = "REJECTS"
                for sig in sigs:
                    # A fresh context (and root list) per signature: reusing them across
                    # validations made later signatures come out untrusted.
                    roots = load_certs_from_pemder([root_pem])
                    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
                    try:
                        if sig.sig_object_type == "/DocTimeStamp":
                            st = validate_pdf_timestamp(sig, validation_context=vc)
                            kind = "doc-timestamp"
                        else:
                            st = validate_pdf_signature(sig, signer_validation_context=vc)
                            kind = "signature"
                    except Exception as e:  # pyHanko's own words
                        print(f"   {sig.field_name}: ERROR {type(e).__name__}: {e}")
                        verdict = "REJECTS"
                        continue
                    bottom = getattr(st, "bottom_line", None)
                    if bottom is None:  # document time-stamps have no bottom line
                        bottom = bool(st.intact and st.valid and st.trusted)
                    mod = getattr(st, "modification_level", None)
                    docmdp = getattr(st, "docmdp_ok", None)
                    print(
                        f"   {sig.field_name} ({kind}): intact={st.intact} valid={st.valid} "
                        f"trusted={st.trusted} coverage={getattr(st.coverage, 'name', st.coverage)} "
                        f"modification={getattr(mod, 'name', mod)} docmdp_ok={docmdp} "
                        f"bottom_line={bottom}"
                    )
                    if not (st.intact and st.valid) or docmdp is False or not bottom:
                        verdict = "REJECTS"
                    diff = getattr(st, "diff_result", None)
                    if diff is not None and type(diff).__name__ != "DiffResult":
                        print(f"      diff: {diff}")
        except Exception as e:
            print(f"   cannot read: {type(e).__name__}: {e}")
            verdict = "REJECTS"
        print(f"   pyHanko: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
