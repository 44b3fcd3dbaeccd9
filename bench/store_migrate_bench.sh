#!/usr/bin/env bash
# `vantage store migrate` both ways: EVENTS synthetic events over two days for ORGS synthetic
# organisations are ingested into the embedded SQLite store, migrated into a real ClickHouse
# (one shard, scripts/cluster.sh, started here on loopback and killed by PID at exit), and from
# there into a fresh SQLite store. Prints per direction the migrate command's summary (events,
# occurrences) and /usr/bin/time's wall time and peak RSS.
#
# Usage: bench/store_migrate_bench.sh [VANTAGE_BINARY] [EVENTS] [ORGS]
set -euo pipefail
cd "$(dirname "$0")/.."
vantage="$(realpath "${1:-build/release/apps/vantage/vantage}")"
events="${2:-200000}"
orgs="${3:-1000}"
w=$(mktemp -d /tmp/vantage-migrate-bench.XXXXXX)
cleanup() {
  local p
  for p in "$w"/cl/clickhouse/*/pid "$w"/cl/nats/*.pid; do
    [[ ! -f "$p" ]] || kill -9 "$(cat "$p")" 2>/dev/null || true
  done
  rm -rf "$w"
}
trap cleanup EXIT
CLICKHOUSE_SHARDS=1 scripts/cluster.sh up --dir "$w/cl" >"$w/up.out"
eval "$(grep -E '^CLICKHOUSE_' "$w/up.out" | sed 's/^/export /')"
"$vantage" --data-dir "$w/a" generate --registry-only --orgs "$orgs" --seed 7 >/dev/null 2>&1
"$vantage" --data-dir "$w/a" generate -n "$events" --days 2 --seed 7 -o "$w/feed.jsonl" \
  >/dev/null 2>&1
"$vantage" --data-dir "$w/a" ingest -q "$w/feed.jsonl" 2>/dev/null
echo "SQLite store: $(du -h "$w/a/events.sqlite" | cut -f1)"
export VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
export VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS"
export VANTAGE_STORE_CLICKHOUSE_DATABASE=bench
/usr/bin/time -f "sqlite -> clickhouse: wall %e s, peak RSS %M KB" \
  "$vantage" --data-dir "$w/a" store migrate --to clickhouse 2>&1 |
  grep -E '^store migrate|^sqlite ->' | sed 's/ copied from.*//'
mkdir -p "$w/b"
cp "$w/a/registry.sqlite" "$w/b/"
VANTAGE_STORE_ENGINE=clickhouse /usr/bin/time -f "clickhouse -> sqlite: wall %e s, peak RSS %M KB" \
  "$vantage" --data-dir "$w/b" store migrate --to sqlite 2>&1 |
  grep -E '^store migrate|^clickhouse ->' | sed 's/ copied from.*//'
