#!/usr/bin/env bash
# Report-build benchmark (issue #6, scaled to the box): ORGS synthetic organisations in the
# registry, EVENTS synthetic events on one day ingested through the full pipeline (the same
# path as bench/pipeline_bench.sh), then `vantage report build --date DAY` writes every
# (organisation, type, filter) report of that day. Prints the ingest rate, then reports/s,
# rows/s and MB/s of the build with its peak RSS, and the load average before and after (the
# box may be shared). Figures: bench/README.md.
#
# Usage: bench/report_bench.sh [VANTAGE_BINARY] [EVENTS] [ORGS]
#   LAYOUTS="files pack" builds the same ingested day once per report.layout, in that order,
#   each from an empty report directory and manifest (default: "pack", the default layout);
#   side by side in one run, so a shared box's noise hits both.
#   KEEP=DIR keeps the data directory in DIR (default: a temporary one, removed at exit).
#   BUILD_LIMIT=SECONDS stops the build after that long (the files layout writes one file per
#   report, so a large day can take hours on a slow disk) and rates the report files finished
#   (files layout only: a pack build stopped before its commit has no report yet).
#   ENGINES="sqlite segment" builds the day from each event store (store.engine) in turn: the
#   SQLite store is migrated into a segment store (`vantage store migrate --to segment`) after
#   the ingest. ROUNDS=N repeats the engines' builds N times, alternating (default 1). Each
#   build prints the sha256 of its manifest (every report's name, size, rows and sha256), and
#   the bench fails when two builds of the day differ.
set -euo pipefail
cd "$(dirname "$0")/.."
vantage="${1:-build/release/apps/vantage/vantage}"
events="${2:-2000000}"
orgs="${3:-100000}"
day=2026-01-05
if [[ -n "${KEEP:-}" ]]; then
  work="$KEEP"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
command -v /usr/bin/time >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq time
command -v bc >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq bc

echo "report_bench: $events events on $day, $orgs organisations, $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
data="$work/data"
"$vantage" --data-dir "$data" generate --registry-only --orgs "$orgs" --seed 6 2>/dev/null
input="$work/feed.jsonl"
"$vantage" --data-dir "$data" generate -n "$events" --seed 6 --date "$day" -o "$input" 2>/dev/null

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/ingest.rss" "$vantage" --data-dir "$data" ingest "$input" \
  2>"$work/ingest.log"
end=$(date +%s.%N)
summary=$(grep -o '[0-9]* new, [0-9]* duplicates, [0-9]* routed, [0-9.]*s ([0-9]* ev/s)' \
  "$work/ingest.log" | tail -1)
printf "report_bench: ingest %.0f events/s over %.1f s (%s), peak RSS %.0f MB\n" \
  "$(echo "$events / ($end - $start)" | bc -l)" "$(echo "$end - $start" | bc -l)" "$summary" \
  "$(echo "$(cat "$work/ingest.rss") / 1024" | bc -l)"
ls -l "$data/events.sqlite" | awk '{printf "report_bench: event store %.0f MB\n", $5/1e6}'

# The spool: each event's routes (schema 3: a JSON array of org_id * 4 + filter), or the
# per-row spool table of older stores (so the bench also runs on older builds).
day_no="CAST(strftime('%s', '$day') AS INTEGER) / 86400"
if [[ $(sqlite3 "$data/events.sqlite" "SELECT count(*) FROM sqlite_master WHERE name = 'spool'") == 1 ]]; then
  spool="SELECT org_id, type_id, filter FROM spool WHERE day = $day_no"
else
  spool="SELECT j.value / 4 AS org_id, e.type_id, j.value % 4 AS filter FROM events e, \
json_each(e.routes) j WHERE e.day = $day_no"
fi
expected=$(sqlite3 "$data/events.sqlite" "SELECT count(*), sum(n) FROM (SELECT count(*) AS n FROM \
  ($spool) GROUP BY org_id, type_id, filter)")
echo "report_bench: the day holds ${expected%|*} reports, ${expected#*|} rows (spool)"

engines="${ENGINES:-}"
if [[ " $engines " == *" segment "* ]]; then
  "$vantage" --data-dir "$data" store migrate --to segment >"$work/migrate.log" 2>&1 ||
    { cat "$work/migrate.log" >&2; exit 1; }
  du -sm "$data/events.segment" | awk '{printf "report_bench: segment store %d MB (migrated)\n", $1}'
fi
manifests=()

build_one() {  # LAYOUT [ENGINE]
  local layout="$1" engine="${2:-}" label="$1"
  [[ -z "$engine" ]] || label="$layout $engine"
  rm -rf "$data/reports" "$data/reports.sqlite" "$data/reports.sqlite-wal" "$data/reports.sqlite-shm"
  sync
  echo "report_bench: [$label] build starts, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  start=$(date +%s.%N)
  rc=0
  env VANTAGE_REPORT_LAYOUT="$layout" ${engine:+VANTAGE_STORE_ENGINE="$engine"} \
    /usr/bin/time -f "%M %U %S" -o "$work/build.rss" \
    timeout "${BUILD_LIMIT:-0}" "$vantage" --data-dir "$data" report build --date "$day" >"$work/build.out" \
    2>"$work/build.log" || rc=$?
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  if ((rc == 124)); then
    # Stopped by BUILD_LIMIT: rate the report files already renamed into place (the builder's
    # stdout is block-buffered and lost on the kill). Rows = lines minus one header per file.
    dir="$data/reports/${day:0:4}/${day:5:2}/${day:8:2}"
    reports=$(find "$dir" -name '*.csv' 2>/dev/null | wc -l)
    lines=$(find "$dir" -name '*.csv' -print0 2>/dev/null | xargs -0 -r cat | wc -l)
    rows=$((lines - reports))
    bytes=$(find "$dir" -name '*.csv' -printf '%s\n' 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')
    printf "report_bench: [$label] STOPPED after %.0f s (BUILD_LIMIT): %d of %s reports, %d rows, %.1f MB\n" \
      "$secs" "$reports" "${expected%|*}" "$rows" "$(echo "$bytes / 1000000" | bc -l)"
    printf "report_bench: [$label] %.0f reports/s, %.0f rows/s, %.1f MB/s\n" "$(echo "$reports / $secs" | bc -l)" \
      "$(echo "$rows / $secs" | bc -l)" "$(echo "$bytes / 1000000 / $secs" | bc -l)"
    echo "report_bench: [$label] load average after $(cut -d' ' -f1-3 /proc/loadavg)"
    return 0
  fi
  # "report: 2026-01-05: 1234 reports, 5678 rows, 91011 bytes in 1.23s"
  line=$(grep -o '[0-9]* reports, [0-9]* rows, [0-9]* bytes in [0-9.]*s' "$work/build.log" | tail -1)
  if [[ -z "$line" ]]; then
    echo "report_bench: FAILED: no summary from report build" >&2
    cat "$work/build.log" >&2
    return 1
  fi
  read -r reports _ rows _ bytes _ _ own <<<"$line"
  own="${own%s}"
  read -r rss user sys <"$work/build.rss"
  printf "report_bench: [$label] build %d reports, %d rows, %.1f MB in %.2f s (builder's own %.2f s), CPU %.2f s\n" \
    "$reports" "$rows" "$(echo "$bytes / 1000000" | bc -l)" "$secs" "$own" "$(echo "$user + $sys" | bc -l)"
  printf "report_bench: [$label] %.0f reports/s, %.0f rows/s, %.1f MB/s, peak RSS %.0f MB\n" \
    "$(echo "$reports / $secs" | bc -l)" "$(echo "$rows / $secs" | bc -l)" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
  files=$(find "$data/reports" -type f | wc -l)
  du_mb=$(du -sm "$data/reports" | cut -f1)
  echo "report_bench: [$label] $files files, $du_mb MB on disk under reports/;" \
    "load average after $(cut -d' ' -f1-3 /proc/loadavg)"
  local manifest
  manifest=$(sqlite3 "$data/reports.sqlite" "SELECT day, org_id, type, filter, file_name, size, \
    rows, sha256 FROM reports ORDER BY day, org_id, type, filter" | sha256sum | cut -c1-16)
  echo "report_bench: [$label] manifest sha256 $manifest"
  manifests+=("$manifest")
}

read -ra engine_list <<<"$engines"
((${#engine_list[@]})) || engine_list=("")  # the configured store.engine
for ((round = 1; round <= ${ROUNDS:-1}; round++)); do
  for engine in "${engine_list[@]}"; do
    for layout in ${LAYOUTS:-pack}; do
      build_one "$layout" "$engine"
    done
  done
done
if [[ -n "$engines" ]]; then
  if [[ $(printf '%s\n' "${manifests[@]}" | sort -u | wc -l) != 1 ]]; then
    echo "report_bench: FAILED: the builds' reports differ (${manifests[*]})" >&2
    exit 1
  fi
  echo "report_bench: every build's reports identical (manifest sha256 ${manifests[0]})"
fi
