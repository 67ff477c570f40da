#!/usr/bin/env bash
# Usage: fuzz/run.sh TARGET [SECONDS [LIBFUZZER_FLAGS...]]  — one job, keeps going after a crash (findings in artifacts/TARGET, output in logs/TARGET.fuzz.log).
# Targets: pdf_document cms_signed_data tsp ocsp_crl pkcs12 pem_certs verify_pdf verify_appended.
set -u
cd "$(dirname "$0")"
t=$1; secs=${2:-600}; shift; shift 2>/dev/null
mkdir -p corpus/$t artifacts/$t logs
RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a "$t" corpus/$t -- \
  -jobs=1 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -artifact_prefix=artifacts/$t/ "$@" \
  > logs/$t.log 2>&1
# With -jobs=1 libFuzzer writes the job's output to ./fuzz-0.log.
mv -f fuzz-0.log logs/$t.fuzz.log 2>/dev/null
tail -n 3 logs/$t.fuzz.log
