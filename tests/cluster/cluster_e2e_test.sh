#!/usr/bin/env bash
# Cluster mode end to end (issue #19): the same generated day -- 300 organisations, malformed
# rows included -- through `vantage cluster publish` -> NATS JetStream (3 nodes) -> worker ->
# ClickHouse (2 shards), with the worker killed -9 KILLS times while it consumes, must give the
# reports of a direct `vantage ingest` into the embedded SQLite store byte for byte, and every
# occurrence exactly once. Real servers, started by scripts/cluster.sh on free loopback ports.
# Usage: cluster_e2e_test.sh VANTAGE_BINARY SOURCE_DIR [EVENTS] [KILLS]
set -euo pipefail
vantage="$1"; src="$2"; events="${3:-150000}"; kills="${4:-3}"
for server in clickhouse-server nats-server; do
  command -v "$server" >/dev/null 2>&1 || { echo "$server not installed"; exit 77; }
done
work="$(mktemp -d /tmp/vantage-cle2e.XXXXXX)"
worker_pid=""
cleanup() {
  [[ -n "$worker_pid" ]] && kill -9 "$worker_pid" 2>/dev/null || true
  "$src/scripts/cluster.sh" down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "cluster_e2e: FAILED: $*" >&2; exit 1; }

eval "$("$src/scripts/cluster.sh" up --dir "$work/cluster" | grep -E '^(CLICKHOUSE|NATS)_' | sed 's/^/export /')"
day=2026-01-15
"$vantage" --data-dir "$work/ref" generate --registry-only --orgs 300 --seed 19 >/dev/null 2>&1
cp -a "$work/ref" "$work/cl"
"$vantage" --data-dir "$work/ref" generate -n "$events" --bad-every 97 --seed 19 --date "$day" \
  -o "$work/feed.jsonl" >/dev/null 2>&1
"$vantage" --data-dir "$work/ref" ingest -q "$work/feed.jsonl" 2>/dev/null

# The cluster's settings: ClickHouse store, NATS bus, small messages, a short ack wait. `env`
# execs vantage, so a background worker's PID in $! is vantage's own (kill -9 hits it).
cluster_env=(VANTAGE_STORE_ENGINE=clickhouse VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS" VANTAGE_STORE_CLICKHOUSE_DATABASE=e2e
  VANTAGE_CLUSTER_NATS_URLS="$NATS_URLS" VANTAGE_CLUSTER_PUBLISH_LINES=2000
  VANTAGE_CLUSTER_ACK_WAIT_S=3)
cluster() { env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" "$@"; }
published=$(cluster cluster publish "$work/feed.jsonl" 2>&1) || { echo "$published" >&2; fail "publish"; }
grep 'published' <<<"$published" | sed 's/^/cluster_e2e: /'

# Kill the worker while it consumes (after its start-up), then let a last one drain the rest.
killed=0
for ((i = 0; i < kills; i++)); do
  env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" cluster run --role worker --drain \
    >"$work/worker.$i.log" 2>&1 &
  worker_pid=$!
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", 1.5 + (r % 20) / 10 }')"
  kill -9 "$worker_pid" 2>/dev/null && killed=$((killed + 1))
  wait "$worker_pid" 2>/dev/null || true
  worker_pid=""
done
sleep 4  # ack_wait: what a killed worker held is delivered again
cluster cluster run --role worker --drain >"$work/worker.last.log" 2>&1 || {
  cat "$work/worker.last.log" >&2
  fail "the last worker failed"
}
grep 'cluster worker:' "$work/worker.last.log" | sed 's/^/cluster_e2e: last worker: /'
cluster cluster status 2>/dev/null | grep 'consumer:' | sed 's/^ */cluster_e2e: /' || true

hashes() {  # "sha256  name" of every report of the day, built and exported as files
  local who="$1"; shift
  "$@" report build --date "$day" >/dev/null 2>&1 || fail "$who: report build"
  "$@" report export --date "$day" --dir "$work/$who.exported" >/dev/null 2>&1 || fail "$who: export"
  (cd "$work/$who.exported" && find . -name '*.csv' | sort | xargs -r sha256sum)
}
hashes ref "$vantage" --data-dir "$work/ref" >"$work/ref.sha"
hashes cl cluster >"$work/cl.sha"
n=$(wc -l <"$work/ref.sha")
((n > 100)) || fail "only $n reports from the embedded store"
want=$(sqlite3 "$work/ref/events.sqlite" 'SELECT sum(count) FROM events')
got=$(curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "SELECT uniqExact(occurrence_id) FROM e2e.occurrences_all")
rows=$(curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "SELECT count() FROM e2e.occurrences_all")
echo "cluster_e2e: worker killed $killed times; occurrences: embedded $want, cluster $got distinct ($rows rows stored); $n reports"
[[ "$got" == "$want" ]] || fail "occurrences: lost or duplicated ($got vs $want)"
diff -u "$work/ref.sha" "$work/cl.sha" >&2 || fail "reports differ"
echo "cluster_e2e: reports byte-identical, lost 0, duplicated 0"
