#!/usr/bin/env bash
# `vantage store migrate --to segment` end to end, no servers: an embedded SQLite installation
# (generated events over three days, repeats, malformed rows in quarantine) is migrated into
# the segment store (docs/store.md). Checks: the canonical dumps of both stores are identical,
# every day's reports built from each store are byte-identical (manifest: name, size, rows,
# sha256), a second migrate into the now non-empty target is refused, and ingesting the same
# input again on the segment store adds nothing (the checkpoints came along).
#
# Usage: store_migrate_segment_test.sh VANTAGE [EVENTS]
set -euo pipefail
vantage="$1"
events="${2:-20000}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "store_migrate_segment: FAIL: $*" >&2
  exit 1
}

data="$work/data"
"$vantage" --data-dir "$data" generate --registry-only --orgs 300 --seed 3 2>/dev/null
"$vantage" --data-dir "$data" generate -n "$events" --days 3 --seed 3 --bad-every 97 \
  -o "$work/feed.jsonl" 2>/dev/null
"$vantage" --data-dir "$data" ingest "$work/feed.jsonl" 2>"$work/ingest.log" ||
  fail "ingest: $(tail -2 "$work/ingest.log")"

"$vantage" --data-dir "$data" store migrate --to segment 2>"$work/migrate.log" >"$work/migrate.out" ||
  fail "migrate: $(tail -3 "$work/migrate.log")"
grep -q "statistics checked equal" "$work/migrate.out" || fail "migrate did not check statistics"
if "$vantage" --data-dir "$data" store migrate --to segment >/dev/null 2>&1; then
  fail "a second migrate into the non-empty segment store was not refused"
fi

"$vantage" --data-dir "$data" store dump >"$work/sqlite.dump" || fail "dump of the SQLite store"
"$vantage" --data-dir "$data" store dump --engine segment >"$work/segment.dump" ||
  fail "dump of the segment store"
[[ -s "$work/sqlite.dump" ]] || fail "empty dump"
grep -q '^Q ' "$work/sqlite.dump" || fail "nothing quarantined"
grep -qE '^E ([^ ]+ ){5}[2-9]' "$work/sqlite.dump" || fail "no event seen more than once"
cmp -s "$work/sqlite.dump" "$work/segment.dump" ||
  fail "the dumps differ: $(diff "$work/sqlite.dump" "$work/segment.dump" | head -5)"

# Every day's reports from each store, built in a copy of the data directory.
hashes() {  # NAME [VAR=VALUE...]
  local name="$1" day
  shift
  cp -a "$data" "$work/$name"
  for day in $(grep '^E ' "$work/sqlite.dump" | awk '{print $2}' | sort -u); do
    day=$(date -u -d "@$((day * 86400))" +%F)
    env "$@" "$vantage" --data-dir "$work/$name" report build --date "$day" >/dev/null \
      2>>"$work/report.log" || fail "$name: report build $day: $(tail -2 "$work/report.log")"
  done
  python3 - "$work/$name/reports.sqlite" <<'PY'
import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(
        "SELECT day, org_id, type, filter, file_name, size, rows, sha256 FROM reports "
        "ORDER BY day, org_id, type, filter"):
    print(*row)
PY
}
hashes from_sqlite >"$work/sqlite.sha"
hashes from_segment VANTAGE_STORE_ENGINE=segment >"$work/segment.sha"
[[ -s "$work/sqlite.sha" ]] || fail "no reports built"
cmp -s "$work/sqlite.sha" "$work/segment.sha" ||
  fail "reports differ: $(diff "$work/sqlite.sha" "$work/segment.sha" | head -5)"

# The checkpoints came along: the same input again adds nothing to the segment store.
VANTAGE_STORE_ENGINE=segment "$vantage" --data-dir "$data" ingest "$work/feed.jsonl" \
  2>"$work/again.log" || fail "ingest again: $(tail -2 "$work/again.log")"
"$vantage" --data-dir "$data" store dump --engine segment >"$work/segment2.dump" ||
  fail "dump after the second ingest"
cmp -s "$work/segment.dump" "$work/segment2.dump" || fail "the second ingest changed the store"

echo "store_migrate_segment: OK ($(grep -c '^E ' "$work/sqlite.dump") events," \
  "$(wc -l <"$work/sqlite.sha") reports identical)"
