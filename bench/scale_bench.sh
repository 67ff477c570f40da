#!/usr/bin/env bash
# Scale-out benchmark, in one run on one machine: contracts completed end to end per second
# (bench/platform_bench.sh's workload) on the embedded default (SQLite + files), on one server
# over PostgreSQL + an S3-compatible store, and on two servers over the same. Needs the
# PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) and an S3 server on
# 127.0.0.1:5000 (moto, started here from the venv .ci/run makes when none listens).
#
#   bash bench/scale_bench.sh                    # 40 contracts, 8 clients per configuration
#   CONTRACTS=100 CONCURRENCY=8 bash bench/scale_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONTRACTS="${CONTRACTS:-40}"
CONCURRENCY="${CONCURRENCY:-8}"
PG="${SIGNET_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export PGOPTIONS="--client-min-messages=warning"
S3="${SIGNET_BENCH_S3_ENDPOINT:-http://127.0.0.1:5000}"
export AWS_ACCESS_KEY_ID=signet-bench AWS_SECRET_ACCESS_KEY=signet-bench-secret
cargo build --release --quiet -p signet
cargo build --release --quiet -p signet-client --example platform_bench
BIN=target/release/signet
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 300); do port_open "$1" && return 0; sleep 0.1; done; echo "nothing listens on $1"; return 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

S3_PORT="${S3##*:}"
if ! port_open "$S3_PORT"; then
    "${SIGNET_VENV:-$HOME/.cache/signet-venv}/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$WORK/moto.log" 2>&1 &
    PIDS+=($!)
    wait_port "$S3_PORT"
fi
$BIN sample-pdf -o "$WORK/contract.pdf" --pages 2

# start NAME ENV... : a server on a fresh data directory; its URL in $URL_OF.
start() {
    local name=$1; shift
    local port; port=$(free_port)
    env "$@" $BIN serve --data "$WORK/$name" --listen "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    URL_OF="http://127.0.0.1:$port"
}
stop_all() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    PIDS=()
}
key_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api_key'])" "$1/demo-credentials.json"; }
run() { target/release/examples/platform_bench "$1" "$2" "$WORK/contract.pdf" "$CONTRACTS" "$CONCURRENCY" | tee -a "$WORK/results.txt"; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; servers, PostgreSQL, S3 (moto) and clients on the same machine"

echo "== embedded default (SQLite + files), 1 server"
start embedded
run "$URL_OF" "$(key_of "$WORK/embedded")"
stop_all

for SERVERS in 1 2; do
    SCHEMA="signet_bench_$$_$SERVERS"
    BUCKET="signet-bench-$$-$SERVERS"
    psql "$PG" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
    curl -sf -X PUT "$S3/$BUCKET" >/dev/null
    ENV=(SIGNET_DATABASE_URL="$PG?options=-c%20search_path%3D$SCHEMA" SIGNET_BLOB_URL="s3://$BUCKET?endpoint=$S3&region=us-east-1&path_style=true" SIGNET_MASTER_KEY_FILE="$WORK/master-$SERVERS.key")
    echo "== PostgreSQL + S3, $SERVERS server(s)"
    start "pg-$SERVERS-a" "${ENV[@]}"
    URLS="$URL_OF"
    KEY=$(key_of "$WORK/pg-$SERVERS-a")
    if [ "$SERVERS" = 2 ]; then start "pg-$SERVERS-b" "${ENV[@]}"; URLS="$URLS,$URL_OF"; fi
    run "$URLS" "$KEY"
    stop_all
    psql "$PG" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null
done
