#!/usr/bin/env bash
# Parallel cluster workers on one ClickHouse database (issue #19, docs/cluster.md "Several
# workers"): the same generated day -- 300 organisations, malformed rows included -- published
# unordered to NATS JetStream (3 nodes) and consumed by TWO workers at once into ClickHouse (2
# shards); one worker is killed -9 while it consumes, the other takes over what it held. The
# reports must equal a direct `vantage ingest` into the embedded SQLite store byte for byte,
# every occurrence must be stored exactly once, event ids must be unique and the read_after
# watermark must cover every stored row. Real servers, started by scripts/cluster.sh on free
# loopback ports.
# Usage: cluster_parallel_test.sh VANTAGE_BINARY SOURCE_DIR [EVENTS]
set -euo pipefail
vantage="$1"; src="$2"; events="${3:-80000}"
for server in clickhouse-server nats-server; do
  command -v "$server" >/dev/null 2>&1 || { echo "$server not installed"; exit 77; }
done
work="$(mktemp -d /tmp/vantage-clpar.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$src/scripts/cluster.sh" down --dir "$work/cluster" >/dev/null 2>&1 || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "cluster_parallel: FAILED: $*" >&2; exit 1; }

eval "$("$src/scripts/cluster.sh" up --dir "$work/cluster" | grep -E '^(CLICKHOUSE|NATS)_' | sed 's/^/export /')"
day=2026-01-15
"$vantage" --data-dir "$work/ref" generate --registry-only --orgs 300 --seed 23 >/dev/null 2>&1
cp -a "$work/ref" "$work/cl"
"$vantage" --data-dir "$work/ref" generate -n "$events" --bad-every 97 --seed 23 --date "$day" \
  -o "$work/feed.jsonl" >/dev/null 2>&1
"$vantage" --data-dir "$work/ref" ingest -q "$work/feed.jsonl" 2>/dev/null

# Unordered: publishes pipelined, each worker fetches 2 messages at a time. A worker is started
# by `env` directly (not through a function): env execs vantage, so the PID in $! is vantage's
# own and kill -9 hits it.
db=par
cluster_env=(VANTAGE_STORE_ENGINE=clickhouse VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS" VANTAGE_STORE_CLICKHOUSE_DATABASE=$db
  VANTAGE_CLUSTER_NATS_URLS="$NATS_URLS" VANTAGE_CLUSTER_PUBLISH_LINES=1000
  VANTAGE_CLUSTER_ACK_WAIT_S=3 VANTAGE_CLUSTER_ORDERED=false VANTAGE_CLUSTER_FETCH_BATCH=2)
cluster() { env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" "$@"; }
published=$(cluster cluster publish "$work/feed.jsonl" 2>&1) || { echo "$published" >&2; fail "publish"; }
grep 'published' <<<"$published" | sed 's/^/cluster_parallel: /'
messages=$(grep -oE 'in [0-9]+ messages published' <<<"$published" | grep -oE '[0-9]+' | head -1)
[[ -n "$messages" ]] || fail "cannot tell how many messages were published: $published"

# Two workers on the same consumer and database; the first is killed while both consume.
env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" cluster run --role worker --drain \
  >"$work/worker.a.log" 2>&1 &
a=$!; pids+=("$a")
sleep 0.5
env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" cluster run --role worker --drain \
  >"$work/worker.b.log" 2>&1 &
b=$!; pids+=("$b")
ch() { curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "$1"; }
# Mid-way: once a quarter to a half of the records are stored (bounded wait, 0.2 s polls).
target=$((events * (25 + RANDOM % 25) / 100))
for ((i = 0; i < 600; i++)); do
  stored=$(ch "SELECT count() FROM $db.occurrences_all" 2>/dev/null || echo 0)
  ((stored >= target)) && break
  sleep 0.2
done
# ... and while A holds a message: each worker holds at most cluster.fetch_batch (2) delivered,
# unacknowledged messages, so 3 or more pending acknowledgements mean A holds at least one.
# (Killed between two fetches, A would hand nothing over and B would see no redelivery.)
for ((i = 0; i < 200; i++)); do
  pending=$(cluster cluster status 2>/dev/null | sed -nE 's/.*ack pending ([0-9]+).*/\1/p')
  ((${pending:-0} >= 3)) && break
  sleep 0.05
done
kill -9 "$a" 2>/dev/null || fail "worker A had already ended: start it later or give more events"
echo "cluster_parallel: worker A killed with $stored occurrences stored, ${pending:-0} messages unacknowledged"
wait "$a" 2>/dev/null || true
wait "$b" || { cat "$work/worker.b.log" >&2; fail "worker B failed"; }
grep 'cluster worker:' "$work/worker.b.log" | sed 's/^/cluster_parallel: worker B: /'
b_messages=$(grep -oE 'cluster worker: [0-9]+ messages' "$work/worker.b.log" | grep -oE '[0-9]+')
((b_messages < messages)) || fail "worker B took all $messages messages: A consumed nothing"
b_redelivered=$(grep -oE '[0-9]+ redeliveries' "$work/worker.b.log" | grep -oE '[0-9]+')
((b_redelivered > 0)) || fail "A held no message when it was killed (B saw no redelivery)"
echo "cluster_parallel: worker A (killed) acknowledged $((messages - b_messages)) of $messages messages, B the rest"

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
want_events=$(sqlite3 "$work/ref/events.sqlite" 'SELECT count(*) FROM events')
got=$(ch "SELECT uniqExact(occurrence_id) FROM $db.occurrences_all")
rows=$(ch "SELECT count() FROM $db.occurrences_all")
read -r events_ch ids max_id <<<"$(ch "SELECT count(), uniqExact(id), max(id) FROM (SELECT min(seq) AS id FROM $db.occurrences_all GROUP BY day, event_key) FORMAT TSV")"
watermark=$(ch "SELECT max(seq) FROM $db.commits")
echo "cluster_parallel: occurrences: embedded $want, cluster $got distinct ($rows rows stored); events $want_events / $events_ch, $ids distinct ids; $n reports"
[[ "$got" == "$want" ]] || fail "occurrences: lost or duplicated ($got vs $want)"
[[ "$events_ch" == "$want_events" ]] || fail "events: $events_ch vs $want_events"
[[ "$ids" == "$events_ch" ]] || fail "event ids collide: $ids distinct for $events_ch events"
((watermark >= max_id)) || fail "the read_after watermark $watermark is below the greatest id $max_id"
diff -u "$work/ref.sha" "$work/cl.sha" >&2 || fail "reports differ"
echo "cluster_parallel: reports byte-identical, lost 0, duplicated 0, ids unique, watermark covers all"
