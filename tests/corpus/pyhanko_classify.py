#!/usr/bin/env python3
"""Classify signed PDFs as OK or REJECT the way pyHanko sees them (trust ignored).

    pyhanko_classify.py FILE...

Prints one JSON object per input file, one per line, in argument order:

    {"file": FILE, "class": "OK" | "REJECT", "detail": "..."}

A file is OK only if
  * it opens with pyHanko's strict reader,
  * it holds at least one embedded signature (regular or document time-stamp),
  * and for EVERY embedded signature pyHanko reports
      - the signature intact and valid (cryptographic check only: no trust roots,
        no fetching, lenient key usage, so trust never decides),
      - coverage ENTIRE_FILE or ENTIRE_REVISION (not CONTIGUOUS_BLOCK_FROM_START
        or UNCLEAR),
      - later changes judged at most FORM_FILLING (NONE, LTA_UPDATES or
        FORM_FILLING; never ANNOTATIONS or OTHER),
      - DocMDP not violated (docmdp_ok is not False).
Anything else is REJECT, including any exception pyHanko raises (its type and
message go into "detail"). Each file is handled on its own: a bad file never
stops the batch. All files are checked in this one process, because importing
pyHanko costs far more than validating a signature.

"detail" lists, per signature in file order, "field[kind]: intact=.. valid=..
coverage=.. modification=.. docmdp_ok=.." (plus pyHanko's summary and the
signature time-stamp's state where there is one), joined by " | ", followed by
the reason for REJECT when there is one.

Used to cross-check crates/signet/tests/data/corpora/EXPECTED.tsv; the files
where pyHanko and our expectations differ are listed, with reasons, in
crates/signet/tests/data/corpora/PYHANKO_DIFFERENCES.md.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

GOOD_COVERAGE = {SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION}
MAX_MODIFICATION = ModificationLevel.FORM_FILLING
# Empty key-usage set = no key usage required; extended key usage left at
# pyHanko's default for signatures (none required). Key usage only ever feeds
# the trust verdict, which is ignored here anyway.
LENIENT_KEY_USAGE = KeyUsageConstraints(key_usage=set())


def no_trust_context() -> ValidationContext:
    """A fresh context with no trust roots at all (not the OS list) and no fetching."""
    return ValidationContext(trust_roots=[], allow_fetching=False)


def exc_text(e: BaseException) -> str:
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def name_of(level) -> str:
    return level.name if level is not None else "None"


def check_signature(sig) -> tuple[bool, str]:
    """(ok, detail) for one embedded signature; may raise."""
    is_doc_ts = sig.sig_object_type == "/DocTimeStamp"
    if is_doc_ts:
        st = validate_pdf_timestamp(sig, validation_context=no_trust_context())
    else:
        st = validate_pdf_signature(
            sig,
            signer_validation_context=no_trust_context(),
            ts_validation_context=no_trust_context(),
            key_usage_settings=LENIENT_KEY_USAGE,
        )
    cov = st.coverage
    mod = st.modification_level
    docmdp_ok = getattr(st, "docmdp_ok", None)
    parts = [
        f"intact={st.intact}",
        f"valid={st.valid}",
        f"coverage={name_of(cov)}",
        f"modification={name_of(mod)}",
        f"docmdp_ok={docmdp_ok}",
    ]
    ts = None if is_doc_ts else getattr(st, "timestamp_validity", None)
    if ts is not None:
        parts.append(f"sig_tst={'intact' if ts.intact and ts.valid else 'BROKEN'}")
    try:
        parts.append(f"summary={st.summary()}")
    except Exception:  # summary() is cosmetic only
        pass

    problems = []
    if not (st.intact and st.valid):
        problems.append("not intact and valid")
    if cov not in GOOD_COVERAGE:
        problems.append(f"coverage {name_of(cov)}")
    if mod is not None and mod > MAX_MODIFICATION:
        problems.append(f"modification {name_of(mod)}")
    if docmdp_ok is False:
        problems.append("DocMDP violated")
    detail = " ".join(parts)
    if problems:
        detail += " => " + ", ".join(problems)
    return not problems, detail


def classify(path: str) -> dict:
    details: list[str] = []
    ok = True
    try:
        with open(path, "rb") as f:
            reader = PdfFileReader(f, strict=True)
            sigs = list(reader.embedded_signatures)
            if not sigs:
                return {"file": path, "class": "REJECT", "detail": "no embedded signatures"}
            for sig in sigs:
                try:
                    label = f"{sig.field_name}[{'doc-ts' if sig.sig_object_type == '/DocTimeStamp' else 'sig'}]"
                except Exception as e:
                    label = f"?[{exc_text(e)}]"
                try:
                    sig_ok, sig_detail = check_signature(sig)
                except Exception as e:
                    sig_ok, sig_detail = False, f"EXCEPTION {exc_text(e)}"
                ok = ok and sig_ok
                details.append(f"{label}: {sig_detail}")
    except Exception as e:
        details.append(f"EXCEPTION {exc_text(e)}")
        ok = False
    return {"file": path, "class": "OK" if ok else "REJECT", "detail": " | ".join(details)}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    # pyHanko logs (and warns) freely about malformed input; the verdict is in
    # the JSON, so keep stderr quiet.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    for path in argv[1:]:
        try:
            result = classify(path)
        except BaseException as e:  # belt and braces: never lose a line
            if isinstance(e, KeyboardInterrupt):
                raise
            result = {"file": path, "class": "REJECT", "detail": f"EXCEPTION {exc_text(e)}"}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
