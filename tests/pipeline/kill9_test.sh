#!/usr/bin/env bash
# Crash-safety test: ingest a large input once without interruption, and once more while
# killing the process with SIGKILL at >= 20 random points (restarting after each), then
# compare the two stores: events (with counts and first/last seen), report spool, rollups,
# quarantine and per-source counters must be identical -- nothing lost, nothing twice. The
# spool is compared twice: its truth (each event's routes, read with plain SQL) and what the
# readers see through its per-organisation runs (the reports built from both stores). A small
# pipeline.spool_flush_events makes the crashed ingest fold its spool tail into runs often, so
# kills land inside those folds too.
#
# STORE_ENGINE=segment runs it on the segment store (docs/store.md): its events are not in SQL,
# so the comparison takes what the store answers -- the reports built from it (every routed
# event's row, count and first/last seen), its per-day event counts and repeat states, and
# the statistics, quarantine and source tables of its meta database.
#
# PROCESSING_THREADS=N runs the killed and restarted ingests with N processing threads
# (pipeline.processing_threads) and the uninterrupted reference with one: the stores must
# still be identical.
#
# Usage: [STORE_ENGINE=sqlite|segment] [PROCESSING_THREADS=N] kill9_test.sh VANTAGE_BINARY [EVENTS] [KILLS]
set -euo pipefail
vantage="$1"
events="${2:-300000}"
kills="${3:-20}"
# Enrichment data load takes seconds; without it every kill lands in the ingest itself.
flags="${INGEST_FLAGS:---no-enrich}"
export VANTAGE_PIPELINE_SPOOL_FLUSH_EVENTS="${SPOOL_FLUSH_EVENTS:-5000}"
engine="${STORE_ENGINE:-sqlite}"
export VANTAGE_STORE_ENGINE="$engine"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A registry with organisations so that routing (the spool) is exercised too.
"$vantage" --data-dir "$work/ref" generate --registry-only --orgs 200 --seed 7 >/dev/null
cp -r "$work/ref" "$work/crash"
input="$work/2026-01-01-scan_http-synthetic-feed.csv"
"$vantage" --data-dir "$work/ref" generate --events "$events" --seed 7 --bad-every 997 \
  --date 2026-01-01 --output "$input" --type scan_http >/dev/null

threads="${PROCESSING_THREADS:-}"
ref_threads="${threads:+1}"
VANTAGE_PIPELINE_PROCESSING_THREADS="${ref_threads:-${VANTAGE_PIPELINE_PROCESSING_THREADS:-0}}" \
  "$vantage" --data-dir "$work/ref" ingest --quiet $flags "$input"
if [[ -n $threads ]]; then export VANTAGE_PIPELINE_PROCESSING_THREADS="$threads"; fi

size=$(stat -c %s "$input")
killed=0
attempts=0
while ((killed < kills)); do
  attempts=$((attempts + 1))
  if ((attempts > kills * 5)); then
    echo "kill9: FAILED: the ingest finished before it was killed $kills times ($killed)" >&2
    exit 1
  fi
  # Random delay between 20 and 270 ms: short enough that the ingest is still running after
  # `kills` restarts on a fast machine, long enough to land in every phase of it.
  delay_ms=$((20 + RANDOM % 250))
  "$vantage" --data-dir "$work/crash" ingest --quiet $flags "$input" 2>/dev/null &
  pid=$!
  sleep "$(printf '0.%03d' "$delay_ms")"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    killed=$((killed + 1))
  else
    wait "$pid" || true
    echo "kill9: FAILED: the ingest completed after only $killed kills; use a larger input" >&2
    exit 1
  fi
done
"$vantage" --data-dir "$work/crash" ingest --quiet $flags "$input"
echo "kill9 ($engine${threads:+, $threads processing threads vs 1}): killed $killed times during ingest of $size bytes ($events events)"

dump() {
  local db events
  if [[ $engine == segment ]]; then
    db="$1/events.segment/meta.sqlite"
    events="SELECT 'E', day, events FROM day_counts ORDER BY day;
SELECT 'X', e.day, e.event_key, e.first_seen, e.last_seen, e.count, e.rep, e.routes, hex(e.repr) FROM event_state e ORDER BY 2, 3;"
  else
    db="$1/events.sqlite"
    events="SELECT 'E', day, event_key, first_seen, last_seen, count, ip, asn, geo, severity, tag, hex(row) FROM events ORDER BY day, event_key;
SELECT 'S', e.day, j.value / 4, e.type_id, j.value % 4, e.event_key FROM events e, json_each(e.routes) j ORDER BY 2,3,4,5,6;"
  fi
  # The statistics, quarantine and checkpoints: the same tables in both engines.
  sqlite3 "$db" <<SQL
.mode list
$events
SELECT 'R', day, type_id, geo, region, asn, severity, events FROM stats ORDER BY 2,3,4,5,6,7;
SELECT 'T', day, type_id, geo, tag, events FROM stats_tags ORDER BY 2,3,4,5;
SELECT 'O', day, org_id, type_id, severity, events FROM org_stats ORDER BY 2,3,4,5;
SELECT 'Q', source, line, field, reason FROM quarantine ORDER BY line, field;
SELECT 'C', source_key, line, done, accepted, rejected, deduplicated, routed FROM sources ORDER BY 2;
SQL
}
reports() {  # every report of the day, as its readers get it: file name and content
  "$vantage" --data-dir "$1" report build --date 2026-01-01 >/dev/null
  "$vantage" --data-dir "$1" report export --date 2026-01-01 --dir "$1/export" 2>/dev/null
  (cd "$1/export" && find . -name '*.csv' | sort | while read -r f; do
    echo "== $f"
    cat "$f"
  done)
}
dump "$work/ref" >"$work/ref.dump"
dump "$work/crash" >"$work/crash.dump"
reports "$work/ref" >>"$work/ref.dump"
reports "$work/crash" >>"$work/crash.dump"
ref_reports=$(grep -c '^== ' "$work/ref.dump" || true)
ref_events=$(grep -c '^E' "$work/ref.dump" || true)
if [[ $engine == segment ]]; then  # one E line per day, with its count
  ref_events=$(awk -F'|' '/^E/ {n += $3} END {print n + 0}' "$work/ref.dump")
fi
if ! cmp -s "$work/ref.dump" "$work/crash.dump"; then
  echo "kill9: FAILED: the store after $killed kills differs from the uninterrupted run" >&2
  diff "$work/ref.dump" "$work/crash.dump" | head -20 >&2
  exit 1
fi
if ((ref_events == 0 || ref_reports == 0)); then
  echo "kill9: FAILED: nothing was ingested or reported ($ref_events events, $ref_reports reports)" >&2
  exit 1
fi
echo "kill9: identical stores ($ref_events distinct events, $ref_reports reports) after $killed kills: 0 lost, 0 duplicated"
