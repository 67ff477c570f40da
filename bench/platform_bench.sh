#!/usr/bin/env bash
# Platform benchmark: contracts completed end to end through the API (create + send, two
# signers each requesting a code and signing, completion with B-LTA) by concurrent clients, and
# the p50/p99 latency of one signing call. Starts a release `signet serve` on a fresh data
# directory (embedded store) and drives it with the typed client.
#
#   bash bench/platform_bench.sh                 # 40 contracts, 4 clients
#   CONTRACTS=100 CONCURRENCY=8 bash bench/platform_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONTRACTS="${CONTRACTS:-40}"
CONCURRENCY="${CONCURRENCY:-4}"
PORT="${PORT:-18790}"
cargo build --release --quiet -p signet
cargo build --release --quiet -p signet-client --example platform_bench
WORK="$(mktemp -d)"
BIN=target/release/signet
$BIN sample-pdf -o "$WORK/contract.pdf" --pages 2
$BIN serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
KEY=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api_key'])" "$WORK/data/demo-credentials.json")
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); server and clients on the same machine"
target/release/examples/platform_bench "http://127.0.0.1:$PORT" "$KEY" "$WORK/contract.pdf" "$CONTRACTS" "$CONCURRENCY"
