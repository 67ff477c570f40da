#!/usr/bin/env python3
"""Batch validation of signed PDFs with pyHanko's Python API, plus CMS extraction.

One Python process checks a whole batch (importing pyHanko costs far more than
validating one signature). Used by `crates/signet/tests/interop.rs`; also
runnable by hand:

    pyhanko_check.py JOBS.json RESULTS.json

JOBS.json:
    {"jobs": [{
        "name": "fixture-a/p256/B-LT/visible",   # echoed in every failure
        "file": "/tmp/x/out.pdf",
        "trust": ["/tmp/x/ca/root.pem", ...],     # PEM files (bundles allowed)
        "extract_dir": "/tmp/x/extract/0",        # where CMS/content/token go
        "signatures": [                           # every regular signature, oldest first
            {"level": "B-B"},                     # B-B | B-T | B-LT | B-LTA
            {"level": "B-LTA", "certify": false}
        ]
    }]}

Per job it checks, in pyHanko's own words on failure:
  * the file parses strictly and holds exactly the expected regular signatures;
  * every regular signature: intact, valid, trusted (ValidationContext with the
    job's trust roots only), DocMDP respected, coverage ENTIRE_FILE when it is
    the last thing in the file, otherwise ENTIRE_REVISION with only
    LTA_UPDATES / FORM_FILLING after it (never ANNOTATIONS/OTHER);
  * level >= B-T: a signature time-stamp token that is valid and trusted;
  * level >= B-LT: validation "now" from a ValidationContext built ONLY from the
    document's DSS (no fetching, revocation info required for every
    certificate that declares where to find it);
  * level B-LTA: a document time-stamp after the signature, and AdES LTA
    validation (ETSI EN 319 102-1) passing;
  * every document time-stamp: intact, valid, trusted.

It also writes, for each embedded signature (regular or document time-stamp),
the raw CMS (trailing /Contents padding removed), the signed byte-range
content, and the RFC 3161 token with the message digest it must carry, so the
caller can run `openssl cms -verify` and `openssl ts -verify` on them.

RESULTS.json: {"results": [{"name", "failures": [str], "signatures": [
    {"field", "kind": "signature"|"doc-timestamp", "subfilter", "p7s",
     "content", "tst", "tst_digest_hex", "summary"}]}]}
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import sys
import traceback
from dataclasses import replace

from asn1crypto import cms, tsp
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
ALLOWED_LATER_CHANGES = {ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
# Revocation info must be present (here: in the DSS) for every certificate that
# declares a CRL distribution point or an OCSP responder; certificates that
# declare neither (e.g. the openssl-made fixture signer) need none.
DSS_ONLY_REVOCATION = RevocationCheckingPolicy(
    RevocationCheckingRule.CHECK_IF_DECLARED,
    RevocationCheckingRule.CHECK_IF_DECLARED,
)


def level_at_least(level: str, floor: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(floor)


def load_roots(paths):
    roots = []
    for p in paths:
        roots.extend(load_certs_from_pemder([p]))
    if not roots:
        raise ValueError(f"no certificates in trust files {paths}")
    return roots


def der_length(data: bytes) -> int:
    """Length of the DER TLV at the start of `data` (to drop /Contents padding)."""
    if len(data) < 2 or data[0] != 0x30:
        raise ValueError("signature /Contents does not start with a DER SEQUENCE")
    first = data[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(data) < 2 + n:
        raise ValueError("bad DER length in signature /Contents")
    return 2 + n + int.from_bytes(data[2 : 2 + n], "big")


def raw_signature_parts(pdf: bytes, byte_range):
    """Signed content and CMS bytes taken straight from the file bytes.

    Deliberately independent of pyHanko's parser: the gap between the two
    ranges must be exactly `<hex>`.
    """
    if len(byte_range) != 4:
        raise ValueError(f"/ByteRange has {len(byte_range)} entries, not 4")
    a, b, c, d = (int(x) for x in byte_range)
    if a != 0 or b <= 0 or c <= b or d < 0 or c + d > len(pdf):
        raise ValueError(f"/ByteRange {byte_range} does not fit a {len(pdf)}-byte file")
    gap = pdf[a + b : c]
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        raise ValueError(f"/ByteRange gap is not a hex string: {gap[:16]!r}...")
    hexpart = re.sub(rb"\s", b"", gap[1:-1])
    raw = bytes.fromhex(hexpart.decode("ascii"))
    cms_der = raw[: der_length(raw)]
    if any(raw[len(cms_der) :]):
        raise ValueError("non-zero bytes after the CMS in /Contents")
    return pdf[a : a + b] + pdf[c : c + d], cms_der


def timestamp_token_parts(token_der: bytes):
    """(hash algorithm name, message imprint bytes) of an RFC 3161 token."""
    ci = cms.ContentInfo.load(token_der)
    sd = ci["content"]
    econtent = sd["encap_content_info"]
    if econtent["content_type"].native != "tst_info":
        raise ValueError(f"time-stamp token carries {econtent['content_type'].native}, not tst_info")
    tst_info = econtent["content"].parsed
    if not isinstance(tst_info, tsp.TSTInfo):
        tst_info = tsp.TSTInfo.load(econtent["content"].contents)
    imprint = tst_info["message_imprint"]
    return imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native


def hash_with(alg: str, data: bytes) -> bytes:
    return hashlib.new(alg.replace("_", "-") if alg.startswith("sha3") else alg, data).digest()


def status_words(status) -> str:
    try:
        return status.summary()
    except Exception:  # pragma: no cover - summary() is best effort
        return repr(status)


def check_timestamp_status(ts, what, fail):
    if ts is None:
        fail(f"{what}: no signature time-stamp token found")
        return
    if not (ts.intact and ts.valid):
        fail(f"{what}: signature time-stamp is not intact/valid ({status_words(ts)})")
    if not ts.trusted:
        fail(f"{what}: signature time-stamp is not trusted ({status_words(ts)})")


def coverage_ok(status, is_last: bool, fail, what):
    cov = status.coverage
    if is_last:
        if cov == SignatureCoverageLevel.ENTIRE_FILE:
            return
        # B-LT(A): a DSS (or the TSA's revocation info) may follow the last signature.
        if cov == SignatureCoverageLevel.ENTIRE_REVISION and status.modification_level == ModificationLevel.LTA_UPDATES:
            return
        fail(f"{what}: last signature covers {cov.name if cov else None} "
             f"with later changes {status.modification_level}, expected ENTIRE_FILE "
             f"(or ENTIRE_REVISION + LTA_UPDATES)")
        return
    if cov != SignatureCoverageLevel.ENTIRE_REVISION:
        fail(f"{what}: earlier signature covers {cov.name if cov else None}, expected ENTIRE_REVISION")
    lvl = status.modification_level
    if lvl is not None and lvl not in ALLOWED_LATER_CHANGES:
        fail(f"{what}: changes after it are judged {lvl.name} (allowed: LTA_UPDATES, FORM_FILLING)")


def dss_only_context(reader, roots):
    dss = DocumentSecurityStore.read_dss(reader)
    return dss.as_validation_context(
        {
            "trust_roots": roots,
            "allow_fetching": False,
            "revocation_mode": "hard-fail",
        }
    )


async def ades_lta(embedded_sig, roots):
    trust = SimpleTrustManager.build(trust_roots=roots)
    cert_policy = CertValidationPolicySpec(
        trust_manager=trust,
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO,
            freshness=None,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        ),
    )
    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(cert_validation_policy=cert_policy),
        diff_policy=DEFAULT_DIFF_POLICY,
    )
    return await ades_lta_validation(embedded_sig, spec, timing_info=ValidationTimingInfo.now())


class _LogCollector(logging.Handler):
    """Keeps pyHanko's warnings (first line each) to quote them when a job fails."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        line = record.getMessage().splitlines()[0] if record.getMessage() else ""
        if line and line not in self.lines:
            self.lines.append(line)


LOGS = _LogCollector()


def run_job(job) -> dict:
    name = job["name"]
    failures: list[str] = []
    sig_records: list[dict] = []
    LOGS.lines.clear()

    def fail(msg):
        failures.append(msg)

    try:
        roots = load_roots(job["trust"])
        with open(job["file"], "rb") as f:
            pdf = f.read()
        with open(job["file"], "rb") as f:
            reader = PdfFileReader(f, strict=True)
            check_reader(job, reader, pdf, roots, fail, sig_records)
    except Exception as e:  # the validator's own words
        fail(f"pyHanko raised {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
    if failures and LOGS.lines:
        failures.append("pyHanko log: " + " | ".join(LOGS.lines[:8]))
    return {"name": name, "failures": failures, "signatures": sig_records}


def check_reader(job, reader, pdf, roots, fail, sig_records):
    expected = job["signatures"]
    all_sigs = list(reader.embedded_signatures)  # regular + document time-stamps, in file order
    regular = [s for s in all_sigs if s.sig_object_type == "/Sig"]
    doc_ts = [s for s in all_sigs if s.sig_object_type == "/DocTimeStamp"]
    if len(regular) != len(expected):
        fail(f"found {len(regular)} signatures ({[s.field_name for s in regular]}), expected {len(expected)}")
    if not all_sigs:
        return

    extract_dir = job["extract_dir"]
    os.makedirs(extract_dir, exist_ok=True)
    vc_plain = lambda: ValidationContext(trust_roots=roots)  # noqa: E731 - fresh per signature
    last = all_sigs[-1]

    reg_ix = 0
    for ix, sig in enumerate(all_sigs):
        is_doc_ts = sig.sig_object_type == "/DocTimeStamp"
        field = sig.field_name
        what = f"{'doc time-stamp' if is_doc_ts else 'signature'} {field!r}"
        record = {"field": field, "kind": "doc-timestamp" if is_doc_ts else "signature",
                  "subfilter": str(sig.sig_object.get("/SubFilter")),
                  "p7s": None, "content": None, "tst": None, "tst_digest_hex": None, "summary": None}
        sig_records.append(record)

        # --- raw extraction for the openssl checks -----------------------------------------
        try:
            content, cms_der = raw_signature_parts(pdf, sig.sig_object["/ByteRange"])
            base = os.path.join(extract_dir, f"{ix:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', field)}")
            record["p7s"], record["content"] = base + ".p7s", base + ".content"
            with open(record["p7s"], "wb") as f:
                f.write(cms_der)
            with open(record["content"], "wb") as f:
                f.write(content)
            if is_doc_ts:
                token = cms_der
                imprinted = content
            else:
                token = None
                signer_info = cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]
                for attr in signer_info["unsigned_attrs"] or []:
                    if attr["type"].dotted == "1.2.840.113549.1.9.16.2.14":
                        token = attr["values"][0].dump()
                imprinted = signer_info["signature"].native
            if token is not None:
                alg, imprint = timestamp_token_parts(token)
                digest = hash_with(alg, imprinted)
                if digest != imprint:
                    fail(f"{what}: time-stamp imprint {imprint.hex()} != {alg}({'byte-range content' if is_doc_ts else 'signature value'}) {digest.hex()}")
                record["tst"] = base + ".tst"
                record["tst_digest_hex"] = digest.hex()
                with open(record["tst"], "wb") as f:
                    f.write(token)
        except Exception as e:
            fail(f"{what}: cannot extract CMS/byte range: {type(e).__name__}: {e}")

        # --- pyHanko validation ----------------------------------------------------------
        if is_doc_ts:
            st = validate_pdf_timestamp(sig, validation_context=vc_plain())
            record["summary"] = status_words(st)
            if not (st.intact and st.valid):
                fail(f"{what}: not intact/valid: {status_words(st)}")
            if not st.trusted:
                fail(f"{what}: not trusted: {status_words(st)}")
            coverage_ok(st, sig is last, fail, what)
            continue

        exp = expected[reg_ix] if reg_ix < len(expected) else {"level": "B-B"}
        reg_ix += 1
        level = exp["level"]
        what = f"{what} ({level})"
        st = validate_pdf_signature(sig, signer_validation_context=vc_plain())
        record["summary"] = status_words(st)
        if not st.intact:
            fail(f"{what}: not intact: {status_words(st)}")
        if not st.valid:
            fail(f"{what}: not valid: {status_words(st)}")
        if not st.trusted:
            fail(f"{what}: not trusted: {status_words(st)}")
        if st.docmdp_ok is False:
            fail(f"{what}: DocMDP violated: {status_words(st)}")
        if not st.bottom_line:
            fail(f"{what}: pyHanko bottom line INVALID: {status_words(st)}")
        coverage_ok(st, sig is last, fail, what)
        if exp.get("certify"):
            perm = sig.docmdp_level
            if perm is None or perm.value != exp["certify"]:
                fail(f"{what}: expected a certification signature with P={exp['certify']}, pyHanko sees {perm}")

        if level_at_least(level, "B-T"):
            check_timestamp_status(st.timestamp_validity, what, fail)

        if level_at_least(level, "B-LT"):
            try:
                vc_dss = dss_only_context(reader, roots)
            except NoDSSFoundError:
                fail(f"{what}: no /DSS in the document")
            else:
                st_dss = validate_pdf_signature(
                    sig, signer_validation_context=vc_dss,
                    ts_validation_context=dss_only_context(reader, roots))
                if not (st_dss.intact and st_dss.valid and st_dss.trusted and st_dss.bottom_line):
                    fail(f"{what}: fails with a validation context built only from the DSS "
                         f"(no fetching, hard-fail revocation): {status_words(st_dss)}")
                check_timestamp_status(st_dss.timestamp_validity, what + " [DSS-only]", fail)

        if level == "B-LTA":
            later_ts = [t for t in doc_ts if all_sigs.index(t) > ix]
            if not later_ts:
                fail(f"{what}: B-LTA but no document time-stamp after the signature")
            res = asyncio.run(ades_lta(sig, roots))
            if res.ades_subindic != AdESPassed.OK:
                fail(f"{what}: AdES LTA validation gives {res.ades_subindic}: {res.failure_msg}")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root_logger = logging.getLogger()
    root_logger.handlers[:] = [LOGS]
    root_logger.setLevel(logging.WARNING)
    with open(argv[1]) as f:
        jobs = json.load(f)["jobs"]
    results = []
    for job in jobs:
        results.append(run_job(job))
    with open(argv[2], "w") as f:
        json.dump({"results": results}, f, indent=1)
    bad = sum(1 for r in results if r["failures"])
    print(f"pyhanko_check: {len(results) - bad} passed, {bad} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
