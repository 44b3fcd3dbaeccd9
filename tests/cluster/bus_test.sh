#!/usr/bin/env bash
# Cluster mode over a real 3-node NATS JetStream cluster (nats-server from Debian, started here
# on free loopback ports, stopped by PID): the same input ingested directly (`vantage ingest`)
# and through the bus (`vantage cluster publish` -> stream -> `vantage cluster run --role
# worker` -> SQLite store) must give identical stores and byte-identical report files.
#
#   bus_test.sh VANTAGE MODE [EVENTS] [KILLS]
#     e2e          publish started while NATS is down (it retries, then publishes), a publisher
#                  retry of the same file (dropped as duplicates), the push endpoint of the
#                  ingest role, status/metrics; NATS unreachable -> clear error
#     worker-kill  kill -9 of the worker at random points KILLS times (redeliveries)
#     leader-kill  R3 stream: kill -9 of the stream leader while publishing and consuming,
#                  restarted after 5 s
# Skips (77) only when nats-server is not installed.
set -euo pipefail
vantage="$1"
mode="$2"
events="${3:-60000}"
kills="${4:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v nats-server >/dev/null; then
  echo "bus_test: nats-server not installed (apt-get install nats-server); skipped" >&2
  exit 77
fi
# shellcheck source=../../scripts/cluster/nats.sh
source "$here/../../scripts/cluster/nats.sh"
work=$(mktemp -d)
worker_pid=""
cleanup() {
  [[ -n "$worker_pid" ]] && kill -9 "$worker_pid" 2>/dev/null || true
  nats_down "$work/bus" || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "bus_test($mode): FAILED: $*" >&2
  for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}

export VANTAGE_CLUSTER_NATS_URLS
VANTAGE_CLUSTER_NATS_URLS=$(nats_urls "$work/bus")  # ports chosen; servers not started yet
export VANTAGE_CLUSTER_STREAM="T_${mode//-/_}"
export VANTAGE_CLUSTER_ACK_WAIT_S=3         # a killed worker's messages come back quickly
export VANTAGE_CLUSTER_PUBLISH_LINES=2000   # many messages
export VANTAGE_CLUSTER_CONNECT_ATTEMPTS=60
export VANTAGE_PIPELINE_SPOOL_FLUSH_EVENTS=5000
[[ "$mode" == leader-kill ]] && export VANTAGE_CLUSTER_REPLICAS=3
# The fault tests restart the worker often: without enrichment data each start is quick.
flags="--no-enrich"
[[ "$mode" == e2e ]] && flags=""

"$vantage" --data-dir "$work/ref" generate --registry-only --orgs 300 --seed 7 >/dev/null
cp -r "$work/ref" "$work/cl"
input="$work/2026-01-01-scan_http-synthetic-feed.csv"
"$vantage" --data-dir "$work/ref" generate --events "$events" --seed 7 --bad-every 997 \
  --date 2026-01-01 --output "$input" --type scan_http >/dev/null
input2="$work/2026-01-01-honeypot-synthetic.jsonl"  # JSON Lines, type per record
"$vantage" --data-dir "$work/ref" generate --events $((events / 4)) --seed 8 --bad-every 501 \
  --date 2026-01-01 --output "$input2" --type event4_honeypot_brute_force >/dev/null
"$vantage" --data-dir "$work/ref" ingest --quiet $flags "$input" "$input2"

# The http://HOST:PORT a role prints as "listening http://... ..." in FILE, waiting up to 20 s.
listening_url() {
  local url
  for _ in $(seq 1 200); do
    url=$(sed -n 's/.*listening \(http:[^ ]*\) .*/\1/p' "$1")
    [[ -n "$url" ]] && { echo "$url"; return 0; }
    sleep 0.1
  done
  return 1
}

worker() {  # extra args; exec: a background `worker &` has the worker's own PID in $!
  exec "$vantage" --data-dir "$work/cl" cluster run --role worker $flags "$@"
}

case "$mode" in
  e2e)
    # NATS unreachable: a clear error after the configured attempts.
    if VANTAGE_CLUSTER_CONNECT_ATTEMPTS=2 "$vantage" --data-dir "$work/cl" cluster publish \
      "$input" 2>"$work/unreachable.log"; then
      fail "publish succeeded with NATS down"
    fi
    grep -q "unreachable.*retrying" "$work/unreachable.log" || fail "no retry message"
    grep -q "cannot connect to NATS at" "$work/unreachable.log" || fail "no clear error"
    echo "bus_test: NATS down -> $(tail -1 "$work/unreachable.log")"
    # Started while NATS is down: it retries, then publishes.
    "$vantage" --data-dir "$work/cl" cluster publish "$input" 2>"$work/publish.log" &
    pub=$!
    sleep 2
    nats_up "$work/bus" >/dev/null
    wait "$pub" || fail "publish after NATS came up"
    grep -q "retrying" "$work/publish.log" || fail "the publisher did not wait for NATS"
    # A publisher retry (same file, same message ids) is dropped by the stream.
    "$vantage" --data-dir "$work/cl" cluster publish "$input" 2>"$work/republish.log"
    grep -Eq "in ([0-9]+) messages published \(\1 already in the stream\)" "$work/republish.log" ||
      fail "republish was not dropped as duplicates: $(cat "$work/republish.log")"
    # The ingest role's push endpoint: the JSON Lines input as one push body, sent twice (a
    # client retry after a lost answer: the same message ids, dropped by the stream).
    issued=$("$vantage" --data-dir "$work/cl" key issue --ingest --label "bus test sensor")
    key=$(sed -n 's/^ *key: *//p' <<<"$issued")
    secret=$(sed -n 's/^ *secret: *//p' <<<"$issued")
    [[ -n "$key" && -n "$secret" ]] || fail "no ingest key issued: $issued"
    "$vantage" --data-dir "$work/cl" cluster run --role ingest --listen 127.0.0.1:0 \
      >"$work/ingest.out" 2>"$work/ingest.log" &
    ingest_pid=$!
    base=$(listening_url "$work/ingest.out") || fail "the ingest role did not start"
    mac=$(openssl dgst -sha256 -hmac "$secret" -r "$input2" | cut -d' ' -f1)
    push() {
      curl -sS -X POST --data-binary "@$input2" -H "X-Vantage-Key: $key" -H "HMAC2: $1" \
        -o "$work/push.json" -w '%{http_code}' "$base/ingest"
    }
    [[ $(push 0000) == 401 ]] || fail "a bad HMAC2 was not refused"
    [[ $(push "$mac") == 200 ]] || fail "push: $(cat "$work/push.json")"
    first=$(cat "$work/push.json")
    [[ $(push "$mac") == 200 ]] || fail "second push: $(cat "$work/push.json")"
    python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.load(open(sys.argv[2]))
assert a["duplicate_messages"] == 0 and a["messages"] > 0, a
assert b["duplicate_messages"] == b["messages"] == a["messages"], b' "$first" "$work/push.json" ||
      fail "push retry not dropped: $first / $(cat "$work/push.json")"
    echo "bus_test: push endpoint: $first, then the retry: $(cat "$work/push.json")"
    metrics=$(curl -sS "$base/metrics")
    grep -q '^vantage_bus_up 1' <<<"$metrics" || fail "ingest /metrics: $metrics"
    grep -q '^vantage_bus_consumer_pending [1-9]' <<<"$metrics" || fail "no lag in /metrics"
    kill -TERM "$ingest_pid"
    wait "$ingest_pid" || fail "the ingest role did not stop cleanly"
    (worker --drain) 2>"$work/worker.log" >/dev/null || fail "worker"
    ;;
  worker-kill)
    nats_up "$work/bus" >/dev/null
    "$vantage" --data-dir "$work/cl" cluster publish "$input" "$input2" 2>/dev/null
    killed=0
    for ((k = 0; k < kills; k++)); do
      worker >/dev/null 2>>"$work/worker.log" &
      worker_pid=$!
      # The runtime opens in ~0.1 s; kills land in opening, fetching, ingesting and acking.
      sleep "$(printf '0.%03d' $((100 + RANDOM % 800)))"
      if kill -9 "$worker_pid" 2>/dev/null; then killed=$((killed + 1)); fi
      wait "$worker_pid" 2>/dev/null || true
      worker_pid=""
    done
    ((killed == kills)) || fail "the worker finished before it was killed $kills times ($killed)"
    (worker --drain) 2>"$work/worker.log" >/dev/null || fail "final worker"
    echo "bus_test: worker killed $killed times with kill -9"
    ;;
  leader-kill)
    nats_up "$work/bus" >/dev/null
    worker >/dev/null 2>"$work/worker1.log" &
    worker_pid=$!
    "$vantage" --data-dir "$work/cl" cluster publish "$input" "$input2" 2>"$work/publish.log" &
    pub=$!
    leader=""
    for _ in $(seq 1 100); do
      leader=$(nats_stream_leader "$work/bus" "$VANTAGE_CLUSTER_STREAM" || true)
      [[ -n "$leader" ]] && break
      sleep 0.1
    done
    [[ "$leader" =~ ^n[123]$ ]] || fail "no stream leader found"
    sleep 0.5
    nats_node_kill "$work/bus" "${leader#n}" KILL
    echo "bus_test: killed the stream leader $leader with kill -9"
    sleep 5
    nats_node_up "$work/bus" "${leader#n}"
    wait "$pub" || fail "publish did not survive the leader kill"
    new_leader=$(nats_stream_leader "$work/bus" "$VANTAGE_CLUSTER_STREAM" || true)
    echo "bus_test: $leader restarted; stream leader now ${new_leader:-?}"
    "$vantage" --data-dir "$work/cl" cluster status
    worker_wait=0
    # Let the running worker finish what it fetched, then stop it and drain the rest.
    kill -TERM "$worker_pid"
    wait "$worker_pid" || worker_wait=$?
    worker_pid=""
    ((worker_wait == 0)) || fail "worker exited with $worker_wait"
    (worker --drain) 2>"$work/worker.log" >/dev/null || fail "final worker"
    ;;
  *)
    echo "usage: bus_test.sh VANTAGE e2e|worker-kill|leader-kill [EVENTS] [KILLS]" >&2
    exit 2
    ;;
esac
echo "bus_test: $(tail -1 "$work/worker.log")"

status=$("$vantage" --data-dir "$work/cl" status)
echo "$status" | grep -q "consumer: lag 0 messages, ack pending 0" ||
  fail "status does not show an empty consumer: $status"
if [[ "$mode" == e2e ]]; then
  echo "$status" | sed -n '/^cluster/,/workers here/p'
  # The api role: the service on the shared store, without an ingest endpoint of its own,
  # its /metrics with the bus figures.
  "$vantage" --data-dir "$work/cl" cluster run --role api --listen 127.0.0.1:0 \
    >"$work/api.out" 2>"$work/api.log" &
  api_pid=$!
  base=$(listening_url "$work/api.out") || fail "the api role did not start"
  metrics=$(curl -sS "$base/metrics")
  grep -q '^vantage_bus_consumer_pending 0' <<<"$metrics" || fail "api /metrics: no bus lag"
  grep -q '^vantage_events_accepted_total [1-9]' <<<"$metrics" || fail "api /metrics: no events"
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary x "$base/ingest")
  [[ "$code" == 404 || "$code" == 405 ]] || fail "the api role accepts pushes ($code)"
  kill -TERM "$api_pid"
  wait "$api_pid" || fail "the api role did not stop cleanly"
  echo "bus_test: api role: /metrics has the bus lag, POST /ingest answers $code"
fi

dump() {  # everything a reader sees, without what names the input (source keys, lines)
  sqlite3 "$1/events.sqlite" <<'SQL'
.mode list
SELECT 'E', day, event_key, first_seen, last_seen, count, ip, asn, geo, severity, tag, hex(row) FROM events ORDER BY day, event_key;
SELECT 'S', e.day, j.value / 4, e.type_id, j.value % 4, e.event_key FROM events e, json_each(e.routes) j ORDER BY 2,3,4,5,6;
SELECT 'R', day, type_id, geo, region, asn, severity, events FROM stats ORDER BY 2,3,4,5,6,7;
SELECT 'T', day, type_id, geo, tag, events FROM stats_tags ORDER BY 2,3,4,5;
SELECT 'O', day, org_id, type_id, severity, events FROM org_stats ORDER BY 2,3,4,5;
SELECT 'Q', field, reason, count(*) FROM quarantine GROUP BY field, reason ORDER BY 2,3;
SELECT 'C', sum(accepted), sum(rejected), sum(deduplicated), sum(routed) FROM sources;
SQL
}
reports() {  # "sha256  name" of every report of the day, exported from its pack as files
  "$vantage" --data-dir "$1" report build --date 2026-01-01 >/dev/null
  rm -rf "$1/exported"
  "$vantage" --data-dir "$1" report export --date 2026-01-01 --dir "$1/exported" >/dev/null
  (cd "$1/exported" && find . -name '*.csv' | sort | xargs -r sha256sum)
}
dump "$work/ref" >"$work/ref.dump"
dump "$work/cl" >"$work/cl.dump"
reports "$work/ref" >"$work/ref.reports"
reports "$work/cl" >"$work/cl.reports"
events_ref=$(grep -c '^E' "$work/ref.dump" || true)
events_cl=$(grep -c '^E' "$work/cl.dump" || true)
occ_ref=$(sqlite3 "$work/ref/events.sqlite" 'SELECT coalesce(sum(count),0) FROM events')
occ_cl=$(sqlite3 "$work/cl/events.sqlite" 'SELECT coalesce(sum(count),0) FROM events')
q_ref=$(sqlite3 "$work/ref/events.sqlite" 'SELECT count(*) FROM quarantine')
q_cl=$(sqlite3 "$work/cl/events.sqlite" 'SELECT count(*) FROM quarantine')
n_reports=$(wc -l <"$work/ref.reports")
echo "bus_test($mode): direct: $events_ref events ($occ_ref occurrences), $q_ref quarantined, $n_reports report files"
echo "bus_test($mode): bus:    $events_cl events ($occ_cl occurrences), $q_cl quarantined, $(wc -l <"$work/cl.reports") report files"
if ! cmp -s "$work/ref.dump" "$work/cl.dump"; then
  diff "$work/ref.dump" "$work/cl.dump" | head -20 >&2
  fail "the store fed through the bus differs from the direct ingest"
fi
cmp -s "$work/ref.reports" "$work/cl.reports" || {
  diff "$work/ref.reports" "$work/cl.reports" | head >&2
  fail "report files differ (sha256)"
}
((events_ref > 0 && n_reports > 0 && q_ref > 0)) || fail "nothing ingested, quarantined or reported"
echo "bus_test($mode): identical stores and report files: lost $((occ_ref - occ_cl)), duplicated 0"
