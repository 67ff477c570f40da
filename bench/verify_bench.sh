#!/usr/bin/env bash
# Verification benchmark: files verified per second for two-signature B-T PDFs, in one run, over
# the same files: `signet verify` (one process, all cores, and --jobs 1), poppler's `pdfsig`
# (a process per file, sequential and with xargs -P $(nproc)) and pyHanko (one Python process,
# and a pool of $(nproc) worker processes). Prints JSON lines and a Markdown summary; copy the
# summary into docs/benchmarks.md with the date, the machine and its load.
#
#   bash bench/verify_bench.sh               # needs the venv made by .ci/run (SIGNET_VENV)
#   N=500 ROUNDS=2 DISTINCT=0 bash bench/verify_bench.sh
#
#   N         number of files (default 500)
#   ROUNDS    every measurement is repeated this many times, tools interleaved (default 2)
#   DISTINCT  0: N copies of one twice-signed contract (distinct file names);
#             1: N distinct contracts (titles differ), each signed twice (default 0)
#   SKIP_BUILD=1  use the existing target/release/signet
#   KEEP=1    keep the work directory
#
# Every file holds two B-T signatures (signer 1, then signer 2 over signer 1's output), made
# with `signet sign --tsa-dir` (in-process time-stamps) under a fresh P-256 CA. Every
# measurement also checks its verdicts (all files VALID / both signatures valid and trusted),
# so no tool is timed while failing.
#
# pdfsig checks certificates against an NSS database that trusts the root. It needs the CA's
# OCSP responder to call a certificate trusted (with -no-ocsp it reports "Unknown issue with
# Certificate" for these certificates), so `signet ca serve` runs on a free loopback port for
# the whole run and its CPU time is counted with pdfsig's. `pdfsig -nocert` (signature values
# only, no certificate checks) is measured for reference.
# pyHanko trusts the root, never fetches (no revocation look-ups), one ValidationContext per
# file. signet verify trusts the root (--trust) and makes no network requests.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-500}"
ROUNDS="${ROUNDS:-2}"
DISTINCT="${DISTINCT:-0}"
VENV="${SIGNET_VENV:-$HOME/.cache/signet-venv}"
PY="$VENV/bin/python"
CORES="$(nproc)"
[ -x "$PY" ] || { echo "no Python venv at $VENV: run bash .ci/run first (it creates it)"; exit 2; }
for tool in pdfsig certutil; do
    command -v "$tool" >/dev/null || { echo "$tool not found (poppler-utils, libnss3-tools)"; exit 2; }
done

[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet -p signet
BIN="$PWD/target/release/signet"
REPO="$PWD"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cd "$WORK"

load1() { cut -d' ' -f1 /proc/loadavg; }
echo "== machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
# Which code is measured: HEAD, uncommitted changes, and (SKIP_BUILD=1) sources newer than the binary.
SRC="$(git -C "$REPO" rev-parse --short HEAD)"
git -C "$REPO" diff --quiet HEAD -- crates || SRC="$SRC, crates/ modified"
[ -z "$(find "$REPO/crates" -type f -newer "$BIN" | head -1)" ] || SRC="$SRC, crates/ has changes newer than the binary"
echo "== signet $("$BIN" --version | cut -d' ' -f2) ($SRC), $(pdfsig -v 2>&1 | sed -n 1p), pyHanko $("$PY" -c 'from importlib.metadata import version as v; print(v("pyHanko"), "/ certvalidator", v("pyhanko-certvalidator"))')"

# --- the files ------------------------------------------------------------------------------
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$BIN" ca init --dir ca --base-url "http://127.0.0.1:$PORT" >/dev/null
printf 'bench\n' > pw
"$BIN" ca issue --dir ca --name "Bench Signer One" --out signer1.p12 --password-file pw >/dev/null
"$BIN" ca issue --dir ca --name "Bench Signer Two" --out signer2.p12 --password-file pw >/dev/null
sign_twice() { # IN OUT
    "$BIN" sign "$1" -o "$2.1" --p12 signer1.p12 --password-file pw --level B-T --tsa-dir ca >/dev/null
    "$BIN" sign "$2.1" -o "$2" --p12 signer2.p12 --password-file pw --level B-T --tsa-dir ca >/dev/null
    rm -f "$2.1"
}
mkdir files
if [ "$DISTINCT" = 1 ]; then
    WHAT="$N distinct contracts (titles differ), each signed twice"
    for i in $(seq -f '%05g' 1 "$N"); do
        "$BIN" sample-pdf -o "contract-$i.pdf" --pages 3 --pad-kb 100 --title "Contract $i" >/dev/null
        sign_twice "contract-$i.pdf" "files/contract-$i.pdf"
        rm -f "contract-$i.pdf"
    done
else
    WHAT="$N copies of one twice-signed contract"
    "$BIN" sample-pdf -o contract.pdf --pages 3 --pad-kb 100 >/dev/null
    sign_twice contract.pdf signed.pdf
    for i in $(seq -f '%05g' 1 "$N"); do cp signed.pdf "files/contract-$i.pdf"; done
fi
FILES=("$WORK"/files/*.pdf)
printf '%s\n' "${FILES[@]}" > files.txt
printf '%s\0' "${FILES[@]}" > files.nul
cat "${FILES[@]}" > /dev/null # page cache: every tool reads warm files
echo "== files: $WHAT; $(stat -c %s "${FILES[0]}") bytes each (first), 2 B-T signatures (P-256)"

# NSS database for pdfsig, as in crates/signet/tests/interop.rs: trusts the root only.
mkdir nssdb
certutil -N -d sql:nssdb --empty-password
certutil -A -d sql:nssdb -n bench-root -t CT,C,C -i ca/root.pem
NSS="sql:$WORK/nssdb"

"$BIN" ca serve --dir ca --addr "127.0.0.1:$PORT" > serve.log 2>&1 &
SERVER_PID=$!
"$PY" - "$PORT" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("signet ca serve did not start")
PY
server_cpu() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; } # clock ticks

# --- every file checked by every tool first -------------------------------------------------
echo "== checks"
"$BIN" verify --trust ca/root.pem --json "${FILES[@]}" > check-signet.jsonl \
    || { echo "signet verify: not every file is VALID"; head -3 check-signet.jsonl; exit 1; }
[ "$(grep -c '"verdict":"VALID"' check-signet.jsonl)" = "$N" ] || { echo "signet verify: not $N VALID lines"; exit 1; }
echo "   signet verify: $N/$N VALID"
pdfsig_ok() { # OUTPUT-FILE WANT-TRUSTED
    local valid trusted
    valid=$(grep -c 'Signature Validation: Signature is Valid.' "$1" || true)
    trusted=$(grep -c 'Certificate Validation: Certificate is Trusted.' "$1" || true)
    [ "$valid" = $((2 * N)) ] && [ "$trusted" -ge "$2" ] \
        || { echo "pdfsig: $valid valid signatures, $trusted trusted certificates, want $((2 * N)) and >= $2"; exit 1; }
}
xargs -0 -n1 pdfsig -nssdir "$NSS" < files.nul > check-pdfsig.txt 2>/dev/null
pdfsig_ok check-pdfsig.txt $((2 * N))
echo "   pdfsig: $((2 * N))/$((2 * N)) signatures valid, certificates trusted"
"$PY" "$REPO/bench/pyhanko_verify_bench.py" --root ca/root.pem --expect 2 --timestamps --files-from files.txt > check-pyhanko.json
echo "   pyHanko: $(grep -o '"failed": [0-9]*' check-pyhanko.json), $N files"
cat > job.json <<EOF
{"jobs": [{"name": "first file", "file": "${FILES[0]}", "trust": ["$WORK/ca/root.pem"],
  "extract_dir": "$WORK/extract", "signatures": [{"level": "B-T"}, {"level": "B-T"}]}]}
EOF
"$PY" "$REPO/tests/interop/pyhanko_check.py" job.json job-results.json | sed 's/^/   full check of the first file, /'
grep -q '"failures": \[\]' job-results.json || { echo "pyhanko_check failed:"; cat job-results.json; exit 1; }

# --- measurements ---------------------------------------------------------------------------
# measure ROUND NAME WORKERS CMD...: wall clock (ns), CPU (user+sys of CMD and its children,
# plus the OCSP responder's), load before; stdout to out.txt.
measure() {
    local round=$1 name=$2 workers=$3
    shift 3
    local load t0 t1 s0 s1
    load=$(load1)
    s0=$(server_cpu)
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o cpu.txt "$@" > out.txt 2> err.txt || { echo "$name failed:"; tail -5 err.txt; exit 1; }
    t1=$(date +%s%N)
    s1=$(server_cpu)
    "$PY" - "$round" "$name" "$workers" "$N" "$t0" "$t1" "$(tail -1 cpu.txt)" "$((s1 - s0))" "$(getconf CLK_TCK)" "$load" <<'PY' | tee -a results.jsonl
import json, sys
r, name, workers, n, t0, t1, cpu, srv, tck, load = sys.argv[1:]
n, secs = int(n), (int(t1) - int(t0)) / 1e9
cpu = sum(map(float, cpu.split())) + int(srv) / int(tck)  # the responder only works for pdfsig's OCSP
print(json.dumps({"round": int(r), "tool": name, "workers": int(workers), "files": n, "seconds": round(secs, 3),
                  "per_second": round(n / secs, 1), "cpu_ms_per_file": round(1000 * cpu / n, 2), "load1": float(load)}))
PY
}
# Python's own timing excludes its imports; CPU from os.times (workers included).
measure_py() {
    local round=$1 name=$2 workers=$3 load
    load=$(load1)
    "$PY" "$REPO/bench/pyhanko_verify_bench.py" --root ca/root.pem --expect 2 --timestamps \
        --workers "$workers" --files-from files.txt > out.txt 2> err.txt || { echo "$name failed:"; tail -5 err.txt; exit 1; }
    "$PY" - "$round" "$name" "$load" "$(tail -1 out.txt)" <<'PY' | tee -a results.jsonl
import json, sys
r, name, load, line = sys.argv[1:]
d = json.loads(line)
print(json.dumps({"round": int(r), "tool": name, "workers": d["workers"], "files": d["files"], "seconds": d["seconds"],
                  "per_second": d["per_second"], "cpu_ms_per_file": round(1000 * d["cpu_seconds"] / d["files"], 2),
                  "load1": float(load)}))
PY
}
signet_ok() {
    [ "$(grep -c ': VALID (2 signature(s)' out.txt)" = "$N" ] || { echo "signet verify: not $N VALID lines"; exit 1; }
}

echo "== measurements ($ROUNDS rounds, tools interleaved)"
: > results.jsonl
for round in $(seq 1 "$ROUNDS"); do
    measure "$round" "signet verify" "$CORES" "$BIN" verify --trust ca/root.pem "${FILES[@]}"; signet_ok
    measure "$round" "signet verify --jobs 1" 1 "$BIN" verify --trust ca/root.pem --jobs 1 "${FILES[@]}"; signet_ok
    measure "$round" "pdfsig (OCSP)" 1 xargs -0 -n1 pdfsig -nssdir "$NSS" < files.nul; pdfsig_ok out.txt $((2 * N))
    measure "$round" "pdfsig (OCSP) xargs -P" "$CORES" xargs -0 -n1 -P "$CORES" pdfsig -nssdir "$NSS" < files.nul; pdfsig_ok out.txt $((2 * N))
    measure_py "$round" "pyHanko, 1 process" 1
    measure_py "$round" "pyHanko, pool" "$CORES"
    measure "$round" "pdfsig -nocert" 1 xargs -0 -n1 pdfsig -nocert < files.nul; pdfsig_ok out.txt 0
    measure "$round" "pdfsig -nocert xargs -P" "$CORES" xargs -0 -n1 -P "$CORES" pdfsig -nocert < files.nul; pdfsig_ok out.txt 0
done

echo
echo "== Summary (Markdown)"
"$PY" - results.jsonl "$CORES" "$WHAT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cores, what = int(sys.argv[2]), sys.argv[3]
rounds = sorted({r["round"] for r in rows})
tools = list(dict.fromkeys(r["tool"] for r in rows))
get = lambda tool, rd: next(r for r in rows if r["tool"] == tool and r["round"] == rd)
print(f"{what}; load (1 min) during the runs: {min(r['load1'] for r in rows):.2f}–{max(r['load1'] for r in rows):.2f}")
print()
print("| measurement | " + " | ".join(f"round {rd}: files/s" for rd in rounds) + " | CPU ms/file |")
print("|---|" + "---|" * len(rounds) + "---|")
for t in tools:
    rs = [get(t, rd) for rd in rounds]
    label = t.replace("xargs -P", f"xargs -P {cores}").replace("pool", f"pool of {cores}")
    if t == "signet verify":
        label += f" ({cores} threads)"
    cpu = "–".join(sorted({f"{r['cpu_ms_per_file']:.2f}" for r in rs}, key=float))
    print(f"| {label} | " + " | ".join(f"{r['per_second']:,.1f}" for r in rs) + f" | {cpu} |")
print()
pairs = [
    ("signet verify", "pdfsig (OCSP) xargs -P", "signet, all cores / pdfsig, all cores"),
    ("signet verify --jobs 1", "pdfsig (OCSP)", "signet, 1 thread / pdfsig, sequential"),
    ("signet verify", "pdfsig (OCSP)", "signet, all cores / pdfsig, sequential"),
    ("signet verify", "pdfsig -nocert xargs -P", "signet, all cores / pdfsig -nocert, all cores"),
    ("signet verify", "pyHanko, pool", "signet, all cores / pyHanko pool, all cores"),
    ("signet verify --jobs 1", "pyHanko, 1 process", "signet, 1 thread / pyHanko, 1 process"),
]
print("| ratio (files/s) | " + " | ".join(f"round {rd}" for rd in rounds) + " | CPU per file |")
print("|---|" + "---|" * len(rounds) + "---|")
for a, b, label in pairs:
    ra = [get(a, rd)["per_second"] / get(b, rd)["per_second"] for rd in rounds]
    cpu = [get(b, rd)["cpu_ms_per_file"] / get(a, rd)["cpu_ms_per_file"] for rd in rounds]
    print(f"| {label} | " + " | ".join(f"{x:,.1f}×" for x in ra) + f" | {min(cpu):,.1f}–{max(cpu):,.1f}× |")
PY
