#!/usr/bin/env bash
# Cluster mode end to end on the ClickHouse store, 1 and 2 workers, beside the embedded
# default, on the same input: `vantage cluster publish` -> NATS JetStream (3 nodes, R$REPLICAS)
# -> `vantage cluster run --role worker --drain` (unordered) -> ClickHouse (2 shards), then the
# reporter's day close (`report build`). All servers on loopback, started here by
# scripts/cluster.sh and stopped (by PID) at exit.
#
#   bash bench/cluster_scale_bench.sh VANTAGE [EVENTS] [ORGS] [REPLICAS] [PERF]
#
# Prints per phase: events/s over its wall time (start-up included), CPU seconds, peak RSS
# (/usr/bin/time; the servers' from /proc VmHWM). End to end = events / (publish + drain).
# PERF=1 records the 1-worker drain with `perf record -g -F 499` (user space) and prints the
# top symbols (self time) and the worker's CPU seconds per event.
set -euo pipefail
vantage="$(realpath "$1")"
events="${2:-200000}"
orgs="${3:-100000}"
replicas="${4:-1}"
perf_on="${5:-1}"
src="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d /tmp/vantage-scale.XXXXXX)
trap '"$src/scripts/cluster.sh" down --dir "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "cluster_scale: $events events, $orgs organisations, R$replicas, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$vantage" --data-dir "$work/base" generate --registry-only --orgs "$orgs" --seed 5 >/dev/null 2>&1
day=2026-01-01
input="$work/$day-scan_http-bench.jsonl"
"$vantage" --data-dir "$work/base" generate --events "$events" --seed 5 --date "$day" \
  --output "$input" >/dev/null 2>&1
echo "cluster_scale: input $(du -m "$input" | cut -f1) MB"
eval "$("$src/scripts/cluster.sh" up --dir "$work/cluster" | grep -E '^(CLICKHOUSE|NATS)_' | sed 's/^/export /')"
export VANTAGE_CLUSTER_NATS_URLS="$NATS_URLS" VANTAGE_CLUSTER_REPLICAS="$replicas" \
  VANTAGE_CLUSTER_ORDERED=false VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL" \
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS"

declare -A wall
ch_pids=$(cat "$work"/cluster/clickhouse/n*/pid)
ch_cpu() {  # CPU seconds of the ClickHouse servers so far
  local t=0 pid
  for pid in $ch_pids; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$t / 100" | bc -l
}
ch_before=0
line() {  # LABEL WALL CPU RSS_KB: the ClickHouse servers' CPU since ch_before beside it
  printf '%-24s %8.0f events/s %7.2f s | CPU %6.2f s | peak RSS %5d MB | ClickHouse CPU %6.2f s\n' \
    "$1" "$(echo "$events / $2" | bc -l)" "$2" "$3" $(($4 / 1024)) \
    "$(echo "$(ch_cpu) - $ch_before" | bc -l)"
}
timed() {  # LABEL CMD... -> one line; the command's stderr in $work/LABEL.log
  local label="$1" t0 t1
  shift
  ch_before=$(ch_cpu)
  t0=$(date +%s.%N)
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$work/$label.time" "$@" >/dev/null 2>"$work/$label.log" || rc=$?
  t1=$(date +%s.%N)
  if ((rc != 0)); then
    echo "cluster_scale: $label exited with $rc:" >&2
    tail -3 "$work/$label.log" >&2
  fi
  read -r _ user sys rss < <(tail -1 "$work/$label.time")
  wall[$label]=$(echo "$t1 - $t0" | bc -l)
  line "$label" "${wall[$label]}" "$(echo "$user + $sys" | bc -l)" "$rss"
  return "$rc"
}

# (a) the embedded default
cp -r "$work/base" "$work/direct"
timed direct_ingest "$vantage" --data-dir "$work/direct" ingest --quiet "$input"
timed direct_report_build "$vantage" --data-dir "$work/direct" report build --date "$day"

# (b) one worker; perf on it when asked
cp -r "$work/base" "$work/one"
export VANTAGE_STORE_ENGINE=clickhouse
one=(env VANTAGE_CLUSTER_STREAM=S1 VANTAGE_CLUSTER_SUBJECT_PREFIX=s1 VANTAGE_STORE_CLICKHOUSE_DATABASE=one)
timed publish_1 "${one[@]}" "$vantage" --data-dir "$work/one" cluster publish "$input"
worker=("${one[@]}" "$vantage" --data-dir "$work/one" cluster run --role worker --drain)
if [[ "$perf_on" == 1 ]] && command -v perf >/dev/null; then
  timed worker_1_of_1 perf record -q -g -F 499 -o "$work/worker.perf" -- "${worker[@]}"
else
  timed worker_1_of_1 "${worker[@]}"
fi
grep -h "cluster worker:" "$work/worker_1_of_1.log" | sed 's/^/  /'
ch_before=$(ch_cpu)
line "end_to_end_1_worker" "$(echo "${wall[publish_1]} + ${wall[worker_1_of_1]}" | bc -l)" 0 0
# The reporter: one distributed query per report (docs/cluster.md); bounded by REPORT_S seconds
# (default 150): a cut-off build still shows the reporter's memory.
timed report_build_1 timeout "${REPORT_S:-150}" "${one[@]}" "$vantage" --data-dir "$work/one" \
  report build --date "$day" || echo "  (report build stopped after ${REPORT_S:-150} s; the line above is partial)"

# (c) two workers at once on one database
cp -r "$work/base" "$work/two"
two=(env VANTAGE_CLUSTER_STREAM=S2 VANTAGE_CLUSTER_SUBJECT_PREFIX=s2 VANTAGE_STORE_CLICKHOUSE_DATABASE=two)
timed publish_2 "${two[@]}" "$vantage" --data-dir "$work/two" cluster publish "$input"
ch_before=$(ch_cpu)
t0=$(date +%s.%N)
for w in a b; do
  /usr/bin/time -f "%e %U %S %M" -o "$work/worker_$w.time" "${two[@]}" "$vantage" \
    --data-dir "$work/two" cluster run --role worker --drain >/dev/null 2>"$work/worker_$w.log" &
done
wait
t1=$(date +%s.%N)
wall[workers_2]=$(echo "$t1 - $t0" | bc -l)
for w in a b; do
  read -r _ user sys rss <"$work/worker_$w.time"
  line "worker_${w}_of_2" "${wall[workers_2]}" "$(echo "$user + $sys" | bc -l)" "$rss"
  grep -h "cluster worker:" "$work/worker_$w.log" | sed 's/^/  /'
done
ch_before=$(ch_cpu)
line "end_to_end_2_workers" "$(echo "${wall[publish_2]} + ${wall[workers_2]}" | bc -l)" 0 0

for pidfile in "$work"/cluster/nats/n*.pid "$work"/cluster/clickhouse/n*/pid; do
  pid=$(cat "$pidfile")
  name=$(basename "$(dirname "$pidfile")")/$(basename "$pidfile")
  echo "server ${name%/pid} (pid $pid) peak RSS $(($(awk '/VmHWM/{print $2}' "/proc/$pid/status") / 1024)) MB, CPU $(awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$pid/stat") s"
done
a=$(sqlite3 "$work/direct/events.sqlite" 'SELECT count(*), sum(count) FROM events')
ch() { curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "$1"; }
for db in one two; do
  echo "cluster_scale: $db: $(ch "SELECT uniqExact(day, event_key), uniqExact(occurrence_id) FROM $db.occurrences_all FORMAT TSV" | tr '\t' '|') (events|occurrences; direct $a)"
done
if [[ -f "$work/worker.perf" ]]; then
  echo "cluster_scale: worker_1_of_1 profile (self time, top 25):"
  perf report -i "$work/worker.perf" --no-children -g none --stdio --sort dso,symbol 2>/dev/null |
    grep -E "^ +[0-9]" | cut -c1-150 | sed "s/ *$//" | head -25 || true
  echo "cluster_scale: worker_1_of_1 profile by library (self time):"
  perf report -i "$work/worker.perf" --no-children -g none --stdio --sort dso 2>/dev/null |
    grep -E "^ +[0-9]" | cut -c1-100 | sed "s/ *$//" | head -12 || true
fi
