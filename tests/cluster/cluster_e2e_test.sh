#!/usr/bin/env bash
# Cluster mode end to end (issue #19): the same generated day -- 300 organisations, malformed
# rows included -- through `vantage cluster publish` -> NATS JetStream (3 nodes) -> worker ->
# ClickHouse (2 shards), with the worker killed -9 KILLS times while it consumes, must give the
# reports of a direct `vantage ingest` into the embedded SQLite store byte for byte, every
# occurrence exactly once, the same quarantine and the same api2 and dashboard answers. Real
# servers, started by scripts/cluster.sh on free loopback ports. The fault variants (x10 worker
# kills, stream leader, a shard, ClickHouse down at start) are in cluster_faults_test.sh.
# Usage: cluster_e2e_test.sh VANTAGE_BINARY SOURCE_DIR [EVENTS] [KILLS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
events="${3:-150000}"; kills="${4:-3}"
# shellcheck source=lib.sh
source "$here/lib.sh"
cl_init cluster_e2e "$1" "$2"
cl_up
cl_day 300 "$events" 19
cl_env e2e
cl_publish

# Kill the worker while it consumes -- once it has acknowledged a message, so that the kill
# cannot land in its start-up -- then let a last one drain the rest.
killed=0
for ((i = 0; i < kills; i++)); do
  read -r before _ <<<"$(cl_consumer)"
  cl_worker_start "$work/worker.$i.log"
  for ((t = 0; t < 240; t++)); do
    read -r now _ <<<"$(cl_consumer)"
    ((now > before)) && break
    kill -0 "$worker_pid" 2>/dev/null || cl_fail "worker $i exited"
    sleep 0.5
  done
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", (r % 10) / 10 }')"
  kill -9 "$worker_pid" 2>/dev/null || cl_fail "worker $i exited before its kill"
  killed=$((killed + 1))
  wait "$worker_pid" 2>/dev/null || true
  worker_pid=""
  read -r after pending ack_pending <<<"$(cl_consumer)"
  ((after > before)) || cl_fail "worker $i acknowledged nothing in 120 s"
  cl_say "kill -9 $((i + 1)) mid-consumption: acknowledged up to $before -> $after, $pending pending, $ack_pending held by the killed worker"
done
sleep 4  # ack_wait: what a killed worker held is delivered again
cl_drain
cl_say "$(cluster cluster status 2>/dev/null | grep 'consumer:' | sed 's/^ *//')"
cl_say "worker killed $killed times"
cl_compare
