#!/usr/bin/env bash
# Report build from the cluster store beside the embedded one (issue #19: "Report build for
# 100,000 organisations from the cluster, beside the embedded builder"). ORGS synthetic
# organisations and EVENTS synthetic events on one day are ingested into the embedded SQLite
# store and into the ClickHouse store on two real shards (scripts/cluster.sh, started here on
# loopback and stopped at exit); then `vantage report build --date DAY` builds the day from each,
# SQLite and ClickHouse alternating ROUNDS times (default 1) so that a shared box's noise hits
# both. Prints per build: reports, rows, wall time, reports/s, rows/s, CPU seconds and peak RSS
# of the builder; checks that both builds list the same reports with the same sha256; and, for
# ClickHouse, the time the answering node spent in the builder's queries (its system.query_log:
# query_duration_ms of the initial queries), the rest being transfer, our decoding and the
# builder's own work.
#
# Usage: bench/cluster_report_bench.sh [VANTAGE_BINARY] [EVENTS] [ORGS]
#   ROUNDS=N       builds per store (alternating, SQLite first)
#   KEEP=DIR       keeps the data directories and the cluster's files in DIR (removed otherwise)
# Figures: bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD"
vantage="$(realpath "${1:-build/release/apps/vantage/vantage}")"
events="${2:-20000}"
orgs="${3:-100000}"
rounds="${ROUNDS:-1}"
day=2026-01-05
command -v clickhouse-server >/dev/null || { echo "cluster_report_bench: clickhouse-server is not installed (scripts/install-deps.sh --test)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq time
command -v bc >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq bc
command -v sqlite3 >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq sqlite3
if [[ -n "${KEEP:-}" ]]; then
  work="$KEEP"
  mkdir -p "$work"
else
  work=$(mktemp -d)
fi
cleanup() {
  "$src/scripts/cluster.sh" down --dir "$work/cluster" >/dev/null 2>&1 || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

echo "cluster_report_bench: $events events on $day, $orgs organisations, $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
eval "$(CLICKHOUSE_SHARDS=2 CLICKHOUSE_LOG_QUERIES=1 "$src/scripts/cluster.sh" up --dir "$work/cluster" |
  grep '^CLICKHOUSE_' | sed 's/^/export /')"
database=report_bench
ch_sql() { curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "$1"; }
with_ch=(env VANTAGE_STORE_ENGINE=clickhouse VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS"
  VANTAGE_STORE_CLICKHOUSE_DATABASE="$database")

sql="$work/sqlite"; ch="$work/clickhouse"
rm -rf "$sql" "$ch"
"$vantage" --data-dir "$sql" generate --registry-only --orgs "$orgs" --seed 6 >/dev/null 2>&1
cp -a "$sql" "$ch"  # the same registry in both
input="$work/feed.jsonl"
"$vantage" --data-dir "$sql" generate -n "$events" --seed 6 --date "$day" -o "$input" >/dev/null 2>&1
ch_sql "DROP DATABASE IF EXISTS $database" >/dev/null

ingest() {  # LABEL CMD...
  local label="$1" t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" --quiet "$input" 2>"$work/ingest-$label.log" || { cat "$work/ingest-$label.log" >&2; return 1; }
  t1=$(date +%s.%N)
  printf "cluster_report_bench: ingest into %-10s %6.1f s\n" "$label" "$(echo "$t1 - $t0" | bc -l)"
}
ingest sqlite "$vantage" --data-dir "$sql" ingest
# Smaller batches into ClickHouse: the store's per-batch "which of these are stored" query
# lists the batch's event keys once and occurrence ids three times, and the ingest's group
# commit merges up to queue_depth queued batches (ClickHouse writes are slow, so they queue):
# 8 x 8192 events exceed 18.16's max_ast_elements (50,000). 4 x 2048 stay below.
ingest clickhouse "${with_ch[@]}" VANTAGE_PIPELINE_BATCH_SIZE=2048 VANTAGE_PIPELINE_QUEUE_DEPTH=4 "$vantage" --data-dir "$ch" ingest

build() {  # LABEL ROUND CMD...  (the command ends with `--data-dir DIR`)
  local label="$1" round="$2" dir
  shift 2
  dir="${*: -1}"
  rm -rf "$dir/reports" "$dir/reports.sqlite" "$dir/reports.sqlite-wal" "$dir/reports.sqlite-shm"
  sync
  local t0 t1 secs line reports rows rss user sys
  t0=$(date +%s.%N)
  started=$(date -u '+%Y-%m-%d %H:%M:%S')
  /usr/bin/time -f "%M %U %S" -o "$work/build.time" "$@" report build --date "$day" \
    >"$work/built-$label.txt" 2>"$work/build-$label.log" || { cat "$work/build-$label.log" >&2; return 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  # "report: 2026-01-05: 1234 reports, 5678 rows, 91011 bytes in 1.23s"
  line=$(grep -o '[0-9]* reports, [0-9]* rows, [0-9]* bytes in [0-9.]*s' "$work/build-$label.log" | tail -1)
  read -r reports _ rows _ <<<"$line"
  read -r rss user sys <"$work/build.time"
  printf "cluster_report_bench: [%s #%d] %d reports, %d rows in %.2f s: %.0f reports/s, %.0f rows/s; CPU %.2f s, peak RSS %d MB\n" \
    "$label" "$round" "$reports" "$rows" "$secs" "$(echo "$reports / $secs" | bc -l)" \
    "$(echo "$rows / $secs" | bc -l)" "$(echo "$user + $sys" | bc -l)" $((rss / 1024))
  last_secs="$secs"
}

query_time() {  # STARTED: the answering node's time in this database's queries since then
  ch_sql "SYSTEM FLUSH LOGS" >/dev/null 2>&1 || sleep 2
  # Every query of the build, then the bulk report reads alone (their join's alias).
  ch_sql "SELECT count(), sum(query_duration_ms) / 1000, countIf(bulk), sumIf(query_duration_ms, bulk) / 1000,
      sumIf(result_rows, bulk), maxIf(memory_usage, bulk)
    FROM (SELECT *, position(query, 'report_org') > 0 AS bulk FROM system.query_log
      WHERE type = 2 AND is_initial_query AND event_time >= toDateTime('$1')
        AND query LIKE '%$database.%' AND query NOT LIKE '%system.query_log%') FORMAT TabSeparated"
}

for ((round = 1; round <= rounds; round++)); do
  build sqlite "$round" "$vantage" --data-dir "$sql"
  sleep 1  # query_log's event_time has whole seconds: nothing earlier in this build's window
  build clickhouse "$round" "${with_ch[@]}" "$vantage" --data-dir "$ch"
  read -r queries qsecs bulk bsecs brows bmem <<<"$(query_time "$started")"
  printf "cluster_report_bench: [clickhouse #%d] inside ClickHouse: %d queries %.2f s, of which %d bulk report reads %.2f s (%d rows answered, peak %d MB per query); the rest of the build %.2f s (transfer, decoding, writing)\n" \
    "$round" "$queries" "$qsecs" "$bulk" "$bsecs" "$brows" $((bmem / 1048576)) "$(echo "$last_secs - $qsecs" | bc -l)"
done
# Every report's name, rows, size and sha256, from each build's manifest.
listing() { sqlite3 "$1/reports.sqlite" "SELECT file_name, rows, size, sha256 FROM reports ORDER BY file_name"; }
if diff <(listing "$sql") <(listing "$ch") >"$work/built.diff"; then
  echo "cluster_report_bench: both builds hold the same $(listing "$sql" | wc -l) reports (name, rows, size, sha256)"
else
  echo "cluster_report_bench: FAILED: the builds differ ($(wc -l <"$work/built.diff") diff lines)" >&2
  exit 1
fi
echo "cluster_report_bench: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
