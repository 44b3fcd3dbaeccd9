#!/usr/bin/env bash
# Cluster mode under faults (issue #19): `vantage cluster publish` -> NATS JetStream (3 nodes)
# -> worker -> ClickHouse (2 shards), one fault per run, and afterwards everything a reader sees
# must equal a direct `vantage ingest` of the same day into the embedded SQLite store (which
# equals an uninterrupted cluster run: test cluster_e2e): report files (sha256), every
# occurrence exactly once (lost 0, duplicated 0), quarantine, and the api2 and dashboard
# answers (tests/cluster/api_compare.py). Real servers from scripts/cluster.sh on free
# loopback ports.
#
#   cluster_faults_test.sh VANTAGE SOURCE_DIR MODE [EVENTS] [ARG]
#     worker-kill     kill -9 of the worker ARG (10) times at random points: some in its
#                     start-up, most while it consumes; the consumer's acknowledgement floor
#                     before and after each kill proves which ones landed mid-consumption
#     leader-kill     kill -9 of the R3 stream's leader node while the worker consumes,
#                     restarted after 10 s
#     shard-kill      kill -9 of ClickHouse shard n2, later of n1 (the node the store talks
#                     to; ARG: other shard numbers, e.g. "1"), each while the worker consumes and
#                     restarted after 10 s: the worker reports the node's error, acknowledges
#                     nothing while it is down, and goes on by itself
#     clickhouse-late ClickHouse down when the worker starts: it names the URL, keeps trying
#                     without fetching or acknowledging, and drains once ClickHouse is up
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="$3"; arg="${5:-}"
events="${4:-40000}"
[[ "$mode" == worker-kill && -z "${4:-}" ]] && events=60000  # outlasts 10 workers' consumption
# shellcheck source=lib.sh
source "$here/lib.sh"
cl_init "cluster_fault_${mode//-/_}" "$1" "$2"

cl_up
# The worker is restarted often: without enrichment data each start is quick (both sides).
cl_day 300 "$events" 19 --no-enrich
# Small messages, so that there are many and a fault lands inside the stream's middle.
cl_env faults VANTAGE_CLUSTER_PUBLISH_LINES=500 VANTAGE_CLUSTER_STREAM=FAULTS
acked() { local c; c=$(cl_consumer) || cl_fail "cluster status"; echo "${c%% *}"; }
# Waits until the consumer acknowledged at least $1 messages (up to 120 s).
wait_acked() {
  for ((t = 0; t < 240; t++)); do
    (($(acked) >= $1)) && return 0
    kill -0 "$worker_pid" 2>/dev/null || cl_fail "the worker exited"
    sleep 0.5
  done
  cl_fail "the worker acknowledged fewer than $1 messages in 120 s"
}
stream_messages() { cluster cluster status 2>/dev/null | sed -nE 's/.*stream: ([0-9]+) messages.*/\1/p'; }

case "$mode" in
  worker-kill)
    kills="${arg:-10}"
    cl_publish
    total=$(stream_messages)
    killed=0 mid=0 early=0
    for ((i = 1; i <= kills; i++)); do
      # (On a fast machine the last workers may find the stream consumed: such a kill counts
      # as one before any acknowledgement, and at least 3 must still land mid-consumption.)
      read -r before _ <<<"$(cl_consumer)"
      cl_worker_start "$work/worker.$i.log"
      # A random point: a third in the start-up (opening ClickHouse and the consumer, under a
      # second), the others while it consumes -- after the ack wait, when what the previous
      # worker held has come back.
      if ((RANDOM % 3 == 0)); then
        delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + (r % 90) / 100 }')
      else
        delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 3.3 + (r % 150) / 100 }')
      fi
      sleep "$delay"
      kill -9 "$worker_pid" 2>/dev/null || cl_fail "worker $i had exited before its kill"
      wait "$worker_pid" 2>/dev/null || true
      worker_pid=""
      killed=$((killed + 1))
      read -r after pending ack_pending <<<"$(cl_consumer)"
      if ((after > before && pending + ack_pending > 0)); then
        mid=$((mid + 1)); at="mid-consumption"
      else
        early=$((early + 1)); at="before its first acknowledgement"
      fi
      cl_say "kill -9 $i after ${delay} s ($at): acknowledged up to $before -> $after of $total, $pending pending, $ack_pending held by the killed worker"
    done
    ((mid >= 3)) || cl_fail "only $mid of $killed kills landed mid-consumption"
    cl_say "worker killed $killed times: $mid mid-consumption, $early in start-up or while waiting for a redelivery"
    sleep 4  # ack_wait: what the last killed worker held is delivered again
    cl_drain
    ;;
  leader-kill)
    cl_env faults VANTAGE_CLUSTER_PUBLISH_LINES=500 VANTAGE_CLUSTER_STREAM=FAULTS \
      VANTAGE_CLUSTER_REPLICAS=3
    cl_worker_start "$work/worker.log"
    cluster cluster publish "$work/feed.jsonl" >"$work/publish.log" 2>&1 &
    publisher=$!
    cl_pids+=("$publisher")
    wait_acked 10
    leader=$(nats_stream_leader "$work/cluster" FAULTS) || cl_fail "no stream leader found"
    [[ "$leader" =~ ^n[123]$ ]] || cl_fail "stream leader '$leader'"
    read -r a p ap <<<"$(cl_consumer)"
    ((p + ap > 0)) || cl_fail "the worker consumed everything before the kill: raise EVENTS"
    nats_node_kill "$work/cluster" "${leader#n}" KILL
    cl_say "kill -9 of the stream leader $leader with $a messages acknowledged, $p pending"
    sleep 10
    nats_node_up "$work/cluster" "${leader#n}"
    wait "$publisher" || cl_fail "publish did not survive the leader kill: $(tail -3 "$work/publish.log")"
    grep 'published' "$work/publish.log" | sed "s/^/$cl_name: /"
    cl_wait_consumed 180 || cl_fail "the worker did not drain the stream after the leader came back"
    new_leader=$(nats_stream_leader "$work/cluster" FAULTS || echo '?')
    cl_say "$leader restarted after 10 s; stream leader now $new_leader; consumer: $(cl_consumer)"
    cl_worker_stop || cl_fail "the worker did not stop cleanly"
    grep 'cluster worker:' "$work/worker.log" | tail -1 | sed "s/^/$cl_name: worker: /"
    cl_drain
    ;;
  shard-kill)
    cl_publish
    cl_worker_start "$work/worker.log"
    for n in ${arg:-2 1}; do  # one shard after the other, each while the worker consumes
      shard="n$n"
      shard_url="http://127.0.0.1:$(awk -v n="$shard" '$1 == n {print $2}' "$work/cluster/clickhouse/ports")"
      read -r a _ <<<"$(cl_consumer)"
      wait_acked $((a + 10))
      read -r a p ap <<<"$(cl_consumer)"
      ((p + ap > 0)) || cl_fail "the worker consumed everything before the kill: raise EVENTS"
      clickhouse_node_kill "$work/cluster" "$shard" KILL
      killed_at=$(date +%s.%N)
      cl_say "kill -9 of ClickHouse shard $shard ($shard_url) with $a messages acknowledged, $p pending"
      # Nothing is acknowledged while the shard is down (what was in flight at the kill settles
      # within the first 2 s).
      sleep 2
      down_from=$(acked)
      sleep "$(awk -v t="$killed_at" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f", 10 - (now - t) }')"
      down_to=$(acked)
      kill -0 "$worker_pid" 2>/dev/null || cl_fail "the worker exited while the shard was down"
      ((down_from == down_to)) ||
        cl_fail "acknowledged $down_from -> $down_to while shard $shard was down"
      clickhouse_node_up "$work/cluster" "$shard" || cl_fail "shard $shard did not restart"
      cl_say "shard $shard restarted after 10 s; acknowledged while it was down: 0 ($down_from -> $down_to)"
    done
    cl_wait_consumed 180 || cl_fail "the worker did not drain the stream after the restart"
    cl_worker_stop || cl_fail "the worker did not stop cleanly"
    errors=$(grep -c 'not acknowledged' "$work/worker.log" || true)
    ((errors > 0)) || cl_fail "the worker reported no store error while the shard was down"
    grep -q 'ClickHouse at http://127.0.0.1:[0-9]*' "$work/worker.log" ||
      cl_fail "the worker's errors do not name the ClickHouse node"
    cl_say "worker: $errors store errors (messages not acknowledged), by kind:"
    grep 'not acknowledged' "$work/worker.log" |
      sed -E 's/.*(ClickHouse at .*); not acknowledged/\1/' | cut -c1-150 | sort | uniq -c | sed "s/^/$cl_name:   /"
    grep 'cluster worker:' "$work/worker.log" | tail -1 | sed "s/^/$cl_name: worker: /"
    cl_drain
    ;;
  clickhouse-late)
    for n in $(awk '{print $1}' "$work/cluster/clickhouse/ports"); do
      clickhouse_node_kill "$work/cluster" "$n" TERM
    done
    cl_publish
    total=$(stream_messages)
    cl_worker_start "$work/worker.log" --drain
    sleep 6
    kill -0 "$worker_pid" 2>/dev/null || cl_fail "the worker exited while ClickHouse was down"
    grep -q "cannot open the event store.*ClickHouse at $CLICKHOUSE_URL" "$work/worker.log" ||
      cl_fail "no clear error naming $CLICKHOUSE_URL"
    cl_say "ClickHouse down: $(grep -m1 'cannot open the event store' "$work/worker.log" | cut -c1-220)"
    read -r a p ap <<<"$(cl_consumer)"
    ((a == 0 && ap == 0 && p == total)) ||
      cl_fail "the worker consumed with ClickHouse down: acknowledged $a, $p pending, $ap unacknowledged"
    cl_say "after 6 s: $(grep -c 'cannot open the event store' "$work/worker.log") attempts reported, 0 of $total messages fetched or acknowledged"
    for n in $(awk '{print $1}' "$work/cluster/clickhouse/ports"); do
      clickhouse_node_up "$work/cluster" "$n" || cl_fail "ClickHouse $n did not start"
    done
    cl_say "ClickHouse started"
    for ((t = 0; t < 360; t++)); do
      kill -0 "$worker_pid" 2>/dev/null || break
      sleep 0.5
    done
    rc=0
    wait "$worker_pid" || rc=$?
    worker_pid=""
    ((rc == 0)) || cl_fail "the draining worker exited with $rc"
    grep -E 'reachable after|cluster worker: [0-9]' "$work/worker.log" | sed "s/^/$cl_name: worker: /"
    ;;
  *)
    echo "usage: cluster_faults_test.sh VANTAGE SOURCE_DIR worker-kill|leader-kill|shard-kill|clickhouse-late [EVENTS] [ARG]" >&2
    exit 2
    ;;
esac
read -r a p ap <<<"$(cl_consumer)"
((p == 0 && ap == 0)) || cl_fail "consumer not empty: $p pending, $ap unacknowledged"
cl_compare
