#!/usr/bin/env bash
# Evidence-log benchmark: durable appends per second through the group-committing sequencer
# (embedded store: SQLite journal with synchronous=FULL + tile files), inclusion-proof
# generation at 10^7 leaves, and bytes of storage per leaf. Prints the figures; copy them into
# docs/benchmarks.md with the date and machine.
#
#   bash bench/ledger_bench.sh
#   APPENDS=1000000 LEAVES=10000000 ENTRY_SIZE=64 bash bench/ledger_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
APPENDS="${APPENDS:-1000000}"
LEAVES="${LEAVES:-10000000}"
ENTRY_SIZE="${ENTRY_SIZE:-64}"
CONCURRENCY="${CONCURRENCY:-1024}"

cargo build --release --quiet -p signet
BIN=target/release/signet
WORK="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/signet-ledger-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); file system of the logs: $(df -T "$WORK" | awk 'NR==2 {print $2}')"

echo "== 1. durable appends, journal only ($APPENDS entries of $ENTRY_SIZE bytes, $CONCURRENCY concurrent appenders)"
$BIN log init --dir "$WORK/a" --origin bench.example/a >/dev/null
$BIN log load --dir "$WORK/a" --count "$APPENDS" --entry-size "$ENTRY_SIZE" --concurrency "$CONCURRENCY"

echo "== 2. durable appends while integrating tiles and signing a checkpoint every second"
$BIN log init --dir "$WORK/b" --origin bench.example/b >/dev/null
$BIN log load --dir "$WORK/b" --count "$APPENDS" --entry-size "$ENTRY_SIZE" --concurrency "$CONCURRENCY" --sign

echo "== 3. a log of $LEAVES leaves: build it, then time inclusion proofs"
$BIN log init --dir "$WORK/c" --origin bench.example/c >/dev/null
$BIN log load --dir "$WORK/c" --count "$LEAVES" --entry-size "$ENTRY_SIZE" --concurrency "$CONCURRENCY" --sign --proofs 10000
echo "   one 'signet log proof' process (open, prove, write the file):"
s=$(date +%s.%N)
$BIN log proof --dir "$WORK/c" --index $((LEAVES / 2)) --out "$WORK/p.tlog-proof"
e=$(date +%s.%N)
echo "   $(python3 -c "print(f'{($e - $s) * 1000:.1f}')") ms for the whole command"

echo "== 4. storage per leaf at $LEAVES leaves ($ENTRY_SIZE-byte entries)"
total=$(du -sb "$WORK/c" | cut -f1)
bundles=$(du -sb "$WORK/c/tile/entries" | cut -f1)
all_tiles=$(du -sb "$WORK/c/tile" | cut -f1)
db=$(du -cb "$WORK/c"/log.db* | tail -1 | cut -f1)
per() { python3 -c "print(f'{$1 / $LEAVES:.2f}')"; }
echo "   total:            $total bytes = $(per "$total") bytes/leaf"
echo "   entry bundles:    $bundles bytes = $(per "$bundles") bytes/leaf (entry + 2-byte length)"
echo "   hash tiles:       $((all_tiles - bundles)) bytes = $(per $((all_tiles - bundles))) bytes/leaf"
echo "   journal (SQLite): $db bytes = $(per "$db") bytes/leaf"
