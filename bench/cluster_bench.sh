#!/usr/bin/env bash
# Cluster mode throughput: the same synthetic input (a) ingested directly (`vantage ingest`,
# the embedded default) and (b) through the bus: `vantage cluster publish` -> NATS JetStream
# (3-node cluster on loopback, started here) -> `vantage cluster run --role worker --drain`
# into a SQLite store, ordered (the default) and unordered. Reports events/s over each
# command's wall time (start-up included), CPU seconds and peak RSS per role (/usr/bin/time).
#
#   bash bench/cluster_bench.sh VANTAGE [EVENTS] [ORGS] [REPLICAS]
#
# One worker only: the SQLite store has one writer (a second worker on the same data
# directory stands by). Two working workers need a store with several writers (ClickHouse).
set -euo pipefail
vantage="$(realpath "$1")"
events="${2:-300000}"
orgs="${3:-100000}"
replicas="${4:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../scripts/cluster/nats.sh"
work=$(mktemp -d)
trap 'nats_down "$work/bus"; rm -rf "$work"' EXIT

echo "cluster_bench: $events events, $orgs organisations, R$replicas, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$vantage" --data-dir "$work/base" generate --registry-only --orgs "$orgs" --seed 5 >/dev/null 2>&1
input="$work/2026-01-01-scan_http-bench.jsonl"
"$vantage" --data-dir "$work/base" generate --events "$events" --seed 5 --date 2026-01-01 \
  --output "$input" >/dev/null 2>&1
echo "cluster_bench: input $(du -m "$input" | cut -f1) MB"
eval "$(nats_up "$work/bus")"
export VANTAGE_CLUSTER_NATS_URLS="$NATS_URLS" VANTAGE_CLUSTER_REPLICAS="$replicas"

timed() {  # LABEL CMD... -> prints one line; the command's stderr in $work/LABEL.log
  local label="$1"
  shift
  local t0 t1
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f "%e %U %S %M" -o "$work/$label.time" "$@" >/dev/null 2>"$work/$label.log"; then
    echo "cluster_bench: $label failed:" >&2
    tail -5 "$work/$label.log" >&2
    return 1
  fi
  t1=$(date +%s.%N)
  read -r wall user sys rss <"$work/$label.time"
  printf '%-22s %8.0f events/s %7.2f s | CPU %6.2f s | peak RSS %5d MB\n' "$label" \
    "$(echo "$events / ($t1 - $t0)" | bc -l)" "$(echo "$t1 - $t0" | bc -l)" \
    "$(echo "$user + $sys" | bc -l)" $((rss / 1024))
}

# (a) embedded
cp -r "$work/base" "$work/direct"
timed direct_ingest "$vantage" --data-dir "$work/direct" ingest --quiet "$input"

# (b) 1 worker, ordered: publish first, then drain (each role measured on its own)
cp -r "$work/base" "$work/one"
export VANTAGE_CLUSTER_STREAM=BENCH1
timed publish_ordered "$vantage" --data-dir "$work/one" cluster publish "$input"
timed worker_1 "$vantage" --data-dir "$work/one" cluster run --role worker --drain
grep -h "cluster worker:" "$work/worker_1.log" | sed 's/^/  /'

# (c) 1 worker, unordered: publishes pipelined, fetches of cluster.fetch_batch messages
cp -r "$work/base" "$work/two"
export VANTAGE_CLUSTER_STREAM=BENCH2 VANTAGE_CLUSTER_SUBJECT_PREFIX=bench2 VANTAGE_CLUSTER_ORDERED=false
timed publish_pipelined "$vantage" --data-dir "$work/two" cluster publish "$input"
timed worker_unordered "$vantage" --data-dir "$work/two" cluster run --role worker --drain
grep -h "cluster worker:" "$work/worker_unordered.log" | sed 's/^/  /'
for i in 1 2 3; do
  pid=$(cat "$work/bus/nats/n$i.pid")
  echo "nats n$i peak RSS $(($(awk '/VmHWM/{print $2}' "/proc/$pid/status") / 1024)) MB"
done
a=$(sqlite3 "$work/direct/events.sqlite" 'SELECT count(*), sum(count) FROM events')
b=$(sqlite3 "$work/one/events.sqlite" 'SELECT count(*), sum(count) FROM events')
c=$(sqlite3 "$work/two/events.sqlite" 'SELECT count(*), sum(count) FROM events')
echo "cluster_bench: events|occurrences: direct $a, ordered $b, unordered $c"
