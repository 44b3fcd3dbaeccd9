#!/usr/bin/env bash
# `vantage store migrate` on real parts: an embedded installation (SQLite) with ten generated
# days, the six oldest dropped by retention (`vantage serve` with retention.days = 5: their
# statistics only are left), malformed rows in quarantine; migrated to a real ClickHouse (one
# shard, started here by scripts/cluster.sh) and from there back into a fresh SQLite store.
# Each store must answer exactly as the original (`vantage store dump`: events with counts,
# first/last seen, representative rows and routes, statistics of every day, per-organisation
# counters, every report's rows with new-since-previous-day, quarantine, checkpoints) and give
# byte-identical reports (sha256 of every file `report build` wrote, for each live day). Then
# the round-tripped store resumes: the inputs already ingested add nothing (their checkpoints
# came along) and a new input leaves it equal to the original given the same input; a push
# subscription's cursor names the same event after both migrations. Refusals:
# a migration while `vantage serve` holds the store, and one into a non-empty store.
#
# Usage: store_migrate_test.sh VANTAGE SOURCE_DIR [EVENTS]
set -euo pipefail
src_dir="$2"
events="${3:-6000}"
# shellcheck source=lib.sh
source "$src_dir/tests/cluster/lib.sh"
cl_init store_migrate "$1" "$src_dir"
export CLICKHOUSE_SHARDS=1
cl_up
cl_say "ClickHouse at $CLICKHOUSE_URL"

a="$work/a"  # the original embedded installation
b="$work/b"  # the round trip's end: a fresh SQLite store from the ClickHouse one
ch_env=(VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS"
  VANTAGE_STORE_CLICKHOUSE_DATABASE=migrated)
v() {  # DATA_DIR ARGS...: vantage with the ClickHouse settings (store.engine stays sqlite)
  local d="$1"
  shift
  env "${ch_env[@]}" "$vantage" --data-dir "$d" "$@"
}

today=$(date -u +%F)
first=$(date -u -d "$today - 10 days" +%F)
"$vantage" --data-dir "$a" generate --registry-only --orgs 200 --seed 5 >/dev/null 2>&1
"$vantage" --data-dir "$a" generate -n "$events" --days 10 --date "$first" --bad-every 97 \
  --seed 5 -o "$work/feed1.jsonl" >/dev/null 2>&1
"$vantage" --data-dir "$a" generate -n 1500 --date "$(date -u -d "$today - 1 day" +%F)" \
  --bad-every 89 --seed 6 -o "$work/feed2.jsonl" >/dev/null 2>&1
v "$a" ingest -q "$work/feed1.jsonl" 2>"$work/ingest.log" || cl_fail "ingest"

# Retention through the real path: `vantage serve` drops the days before today - 4 at start
# (service.json counts its runs). While it runs it holds the store: a migration is refused.
# (`env` execs vantage, so $! is vantage's own PID.)
VANTAGE_RETENTION_DAYS=5 env "${ch_env[@]}" "$vantage" --data-dir "$a" serve --no-day-close \
  --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
cl_pids+=("$serve_pid")
for _ in $(seq 1 300); do
  grep -q '"retention_runs": *[1-9]' "$a/service.json" 2>/dev/null && break
  sleep 0.1
done
grep -q '"retention_runs": *[1-9]' "$a/service.json" || cl_fail "retention did not run"
if v "$a" store migrate --to clickhouse >"$work/refused.out" 2>&1; then
  cl_fail "a migration ran while vantage serve held the store"
fi
grep -q "another vantage process uses the event store" "$work/refused.out" ||
  cl_fail "unclear refusal: $(cat "$work/refused.out")"
kill -TERM "$serve_pid"
wait "$serve_pid" || true
cl_say "refused while vantage serve ran: $(tail -1 "$work/refused.out")"

v "$a" store dump >"$work/a.dump" || cl_fail "dump of the original"
live_days=$(grep '^E ' "$work/a.dump" | awk '{print $2}' | sort -u | wc -l)
all_days=$(grep '^R ' "$work/a.dump" | awk '{print $2}' | sort -u | wc -l)
((live_days == 4 && all_days == 10)) ||
  cl_fail "expected 10 days of statistics, 4 with events: $all_days, $live_days"
grep -q '^Q ' "$work/a.dump" || cl_fail "nothing quarantined"
grep -qE '^E ([^ ]+ ){5}[2-9]' "$work/a.dump" || cl_fail "no event seen more than once"
grep -q '^O ' "$work/a.dump" || cl_fail "no per-organisation statistics"

# Reports of every live day: name, size, rows and sha256 of each report as the manifest of
# `report build` records them (built in a copy of the data directory, so the stores under test
# are only read).
hashes() {  # NAME DATA_DIR [VAR=VALUE...]
  local name="$1" dir="$2" day
  shift 2
  rm -rf "$work/$name.reports"
  cp -a "$dir" "$work/$name.reports"
  for day in $(grep '^E ' "$work/a.dump" | awk '{print $2}' | sort -u); do
    day=$(date -u -d "@$((day * 86400))" +%F)
    env "${ch_env[@]}" "$@" "$vantage" --data-dir "$work/$name.reports" report build \
      --date "$day" >/dev/null 2>>"$work/report.log" || cl_fail "$name: report build $day"
  done
  python3 - "$work/$name.reports/reports.sqlite" <<'PY'
import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(
        "SELECT day, org_id, type, filter, file_name, size, rows, sha256 FROM reports "
        "ORDER BY day, org_id, type, filter"):
    print(*row)
PY
}
hashes a "$a" >"$work/a.sha"
[[ -s "$work/a.sha" ]] || cl_fail "no reports built"

# A push subscription's cursor (integrations.sqlite, as the dispatcher keeps it) after the
# 101st event: after both migrations it must name the same event in the new store's ids.
cursor=$(python3 - "$a/events.sqlite" "$a/integrations.sqlite" <<'PY'
import sqlite3, sys
id, day, key = sqlite3.connect(sys.argv[1]).execute(
    "SELECT id, day, event_key FROM events ORDER BY id LIMIT 1 OFFSET 100").fetchone()
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE IF NOT EXISTS cursors(sub_id INTEGER PRIMARY KEY, after_id INTEGER NOT NULL, "
           "next_seq INTEGER NOT NULL, updated INTEGER NOT NULL)")
db.execute("INSERT OR REPLACE INTO cursors VALUES(1, ?, 1, 0)", (id,))
db.commit()
print(id, f"{day}/{key}")
PY
) || cl_fail "no cursor set"
read -r cursor_id cursor_event <<<"$cursor"

# sqlite -> clickhouse
v "$a" store migrate --to clickhouse >"$work/m1.out" 2>"$work/m1.log" ||
  cl_fail "migrate to clickhouse: $(tail -3 "$work/m1.log")"
cl_say "$(cat "$work/m1.out")"
grep -q "vantage store migrate: .* events" "$work/m1.log" || cl_fail "no progress on stderr"
v "$a" store dump --engine clickhouse >"$work/ch.dump" || cl_fail "dump of the ClickHouse store"
cmp -s "$work/a.dump" "$work/ch.dump" ||
  cl_fail "the ClickHouse store differs: $(diff "$work/a.dump" "$work/ch.dump" | head -5)"
hashes ch "$a" VANTAGE_STORE_ENGINE=clickhouse >"$work/ch.sha"
cmp -s "$work/a.sha" "$work/ch.sha" ||
  cl_fail "reports from ClickHouse differ: $(diff "$work/a.sha" "$work/ch.sha" | head -5)"
if v "$a" store migrate --to clickhouse >"$work/again.out" 2>&1; then
  cl_fail "a migration into the non-empty ClickHouse store ran"
fi
grep -q "not empty" "$work/again.out" || cl_fail "unclear refusal: $(cat "$work/again.out")"

# clickhouse -> sqlite, into a copy of the data directory without its store
cp -a "$a" "$b"
rm -rf "$b"/events.sqlite* "$b/service.json"
VANTAGE_STORE_ENGINE=clickhouse v "$b" store migrate --to sqlite >"$work/m2.out" 2>"$work/m2.log" ||
  cl_fail "migrate to sqlite: $(tail -3 "$work/m2.log")"
cl_say "$(cat "$work/m2.out")"
v "$b" store dump >"$work/b.dump" || cl_fail "dump of the round trip"
cmp -s "$work/a.dump" "$work/b.dump" ||
  cl_fail "the round-tripped store differs: $(diff "$work/a.dump" "$work/b.dump" | head -5)"
moved=$(python3 - "$b/events.sqlite" "$b/integrations.sqlite" <<'PY'
import sqlite3, sys
(after,) = sqlite3.connect(sys.argv[2]).execute(
    "SELECT after_id FROM cursors WHERE sub_id = 1").fetchone()
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT day, event_key FROM events WHERE id = ?", (after,)).fetchone()
print(f"{row[0]}/{row[1]}" if row else f"no event {after}")
PY
)
[[ "$moved" == "$cursor_event" ]] ||
  cl_fail "the integrations cursor moved to $moved, not to the event it was after ($cursor_event)"
grep -q "cursor $cursor_id -> " "$work/m1.log" || cl_fail "migrate did not report the cursor"
cl_say "integrations cursor: sqlite $cursor_id -> clickhouse $(sed -n 's/.*cursor [0-9]* -> //p' \
  "$work/m1.log") -> sqlite $(sed -n 's/.*cursor [0-9]* -> //p' "$work/m2.log"), event $moved"
hashes b "$b" >"$work/b.sha"
cmp -s "$work/a.sha" "$work/b.sha" ||
  cl_fail "reports from the round-tripped store differ: $(diff "$work/a.sha" "$work/b.sha" | head -5)"

# Resuming: the old input adds nothing, a new one the same as on the original.
v "$b" ingest -q "$work/feed1.jsonl" 2>>"$work/ingest.log" || cl_fail "ingest again"
v "$b" store dump >"$work/b2.dump"
cmp -s "$work/a.dump" "$work/b2.dump" || cl_fail "ingesting a done input again changed the store"
v "$a" ingest -q "$work/feed2.jsonl" 2>>"$work/ingest.log" || cl_fail "ingest feed2 (original)"
v "$b" ingest -q "$work/feed2.jsonl" 2>>"$work/ingest.log" || cl_fail "ingest feed2 (round trip)"
v "$a" store dump >"$work/a3.dump"
v "$b" store dump >"$work/b3.dump"
cmp -s "$work/a3.dump" "$work/b3.dump" ||
  cl_fail "after a new input the stores differ: $(diff "$work/a3.dump" "$work/b3.dump" | head -5)"
cmp -s "$work/a.dump" "$work/a3.dump" && cl_fail "the new input changed nothing"
cl_say "OK: $(grep -c '^E ' "$work/a.dump") events, $(grep -c '^P ' "$work/a.dump") reports, \
$(wc -l <"$work/a.sha") report files, $((all_days - live_days)) days of statistics only: \
identical after sqlite -> clickhouse -> sqlite"
