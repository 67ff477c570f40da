#!/usr/bin/env bash
# Signing benchmark: Signet vs pyHanko on the same ~100 KB three-page PDF, in one run, plus
# Signet's peak memory signing a 1 GB PDF. Prints JSON lines and a Markdown summary; copy the
# summary into docs/benchmarks.md with the date and machine.
#
#   bash bench/run.sh            # needs the venv made by .ci/run (SIGNET_VENV)
#   SECONDS_PER_RUN=5 BIG_MB=1024 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECONDS_PER_RUN:-5}"
BIG_MB="${BIG_MB:-1024}"
VENV="${SIGNET_VENV:-$HOME/.cache/signet-venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no Python venv at $VENV: run bash .ci/run first (it creates it)"; exit 2; }

cargo build --release --quiet
BIN=target/release/signet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
$BIN sample-pdf -o "$WORK/contract.pdf" --pages 3 --pad-kb 100
echo "== PDF: $(stat -c %s "$WORK/contract.pdf") bytes, 3 pages"

echo "== Signet (P-256, in-process TSA)"
$BIN bench --pdf "$WORK/contract.pdf" --alg p256 --levels B-B,B-T --threads 1,0 --seconds "$SECS" | tee "$WORK/signet.jsonl"

echo "== pyHanko (P-256 signer, one Python process, in-process DummyTimeStamper)"
# pyHanko's DummyTimeStamper signs with RSA keys only: its TSA comes from an RSA-2048 CA.
$BIN ca init --dir "$WORK/ca" --alg p256 >/dev/null
$BIN ca init --dir "$WORK/ca-rsa" --alg rsa2048 >/dev/null
printf 'bench\n' > "$WORK/pw"
$BIN ca issue --dir "$WORK/ca" --name "Bench Signer" --out "$WORK/signer.p12" --password-file "$WORK/pw" >/dev/null
"$PY" bench/pyhanko_bench.py "$WORK/contract.pdf" "$WORK/signer.p12" bench "$WORK/ca-rsa/tsa.pem" "$WORK/ca-rsa/private/tsa.key" "$SECS" | tee "$WORK/pyhanko.jsonl"

echo "== Peak memory signing a ${BIG_MB} MB PDF (B-T, in-process TSA)"
python3 bench/make_big_pdf.py "$WORK/big.pdf" "$BIG_MB"
echo "   input: $(stat -c %s "$WORK/big.pdf") bytes"
python3 bench/maxrss.py $BIN sign "$WORK/big.pdf" -o "$WORK/big-signed.pdf" --p12 "$WORK/signer.p12" \
    --password-file "$WORK/pw" --level B-T --tsa-dir "$WORK/ca" | tee "$WORK/rss.json"
rm -f "$WORK/big.pdf" "$WORK/big-signed.pdf"

echo
echo "== Summary (Markdown)"
"$PY" - "$WORK/signet.jsonl" "$WORK/pyhanko.jsonl" "$WORK/rss.json" <<'PY'
import json, sys
sig = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
pyh = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
rss = [json.loads(l) for l in open(sys.argv[3]) if l.startswith("{")][-1]
py_rate = {r["level"]: r["per_second"] for r in pyh}
print("| level | pyHanko, 1 process | Signet, 1 thread | Signet, all cores | Signet all cores / pyHanko |")
print("|---|---|---|---|---|")
for level in ("B-B", "B-T"):
    one = max((r for r in sig if r["level"] == level), key=lambda r: -r["threads"])
    alls = max((r for r in sig if r["level"] == level), key=lambda r: r["threads"])
    p = py_rate.get(level, 0.0)
    ratio = alls["per_second"] / p if p else float("nan")
    print(f"| {level} | {p:,.1f}/s | {one['per_second']:,.0f}/s | {alls['per_second']:,.0f}/s ({alls['threads']} threads) | {ratio:,.0f}x |")
print()
print(f"Peak RSS signing the 1 GB PDF (B-T): {rss['peak_rss_mib']} MiB in {rss['seconds']} s")
PY
