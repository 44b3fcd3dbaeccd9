#!/usr/bin/env bash
# The web honeypot (every request parsed, classified against the exploit rules, logged as an
# event and shipped) against nginx `return 200` with a buffered access log, under wrk, on the
# same bed: a private network namespace (its own loopback), both servers up, loaded in turn
# (ours, nginx, ours, ...) ROUNDS times each, keep-alive and Connection: close; medians.
# Checks that no request is lost: events shipped = requests the honeypot answered, and
# >= the requests wrk counted (wrk does not count the ones cut by its end).
#
# Usage (root): bench/honeypot_http_bench.sh VANTAGE_BINARY [SECONDS=10] [ROUNDS=3]
# Needs nginx-light, wrk, iproute2 (scripts/install-deps.sh --test).
set -euo pipefail
vantage="$(readlink -f "$1")"
secs="${2:-10}"
rounds="${3:-3}"
src="$(cd "$(dirname "$0")/.." && pwd)"
ns="vbench_http_$$"
work="$(mktemp -d /dev/shm/vantage_http_bench.XXXXXX)"  # tmpfs: the disk is not what we time
chmod 755 "$work"
hp_pid="" ng_started=0
cleanup() {
  [[ -n "$hp_pid" ]] && kill -INT "$hp_pid" 2>/dev/null && wait "$hp_pid" 2>/dev/null || true
  [[ $ng_started == 1 ]] && ip netns exec "$ns" nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

mkdir -p "$work/inbox" "$work/nginx"
chown nobody:nogroup "$work/inbox" "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 8192; }
http {
  access_log $work/nginx/access.log combined buffer=64k flush=1s;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:8081 reuseport;
    location / { return 200 "ok\n"; }
  }
}
EOF
ip netns exec "$ns" nginx -c "$work/nginx.conf"
ng_started=1
VANTAGE_HONEYPOT_RULES_DIR="$src/conf/honeypot" VANTAGE_HONEYPOT_THREADS=2 \
  ip netns exec "$ns" "$vantage" --data-dir "$work/hp" honeypot --listen http=127.0.0.1:8080 \
  --inbox "$work/inbox" --user nobody >"$work/hp.out" 2>"$work/hp.err" &
hp_pid=$!
for _ in $(seq 50); do grep -q "listening" "$work/hp.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$work/hp.out" || { cat "$work/hp.err"; exit 1; }

events_now() { cat "$work"/inbox/*.jsonl 2>/dev/null | wc -l; }
answered_now() {  # the honeypot's own count: events journaled so far
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['journal']['records'])" \
    "$work/hp/sensors/honeypot/status.json" 2>/dev/null || echo 0
}
cpu_ticks() {  # PID...: user + system clock ticks of the processes (all their threads)
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
run_wrk() {  # NAME PORT [wrk header args]: prints requests/s, requests, server CPU us/request
  local who="$1" port="$2" pids
  shift 2
  if [[ $who == nginx ]]; then pids=$(pgrep -f "nginx: worker process" | tr '\n' ' '); else pids=$hp_pid; fi
  local before after
  before=$(cpu_ticks $pids)
  ip netns exec "$ns" wrk -t2 -c100 -d"${secs}s" "$@" "http://127.0.0.1:$port/" 2>&1 |
    awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%d %d ", r, n}'
  after=$(cpu_ticks $pids)
  echo "$(( (after - before) * 1000000 / $(getconf CLK_TCK) ))"
}

echo "honeypot_http_bench: $secs s x $rounds rounds each, wrk -t2 -c100, $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A results cpu
total_wrk=0
for mode in keepalive close; do
  hdr=()
  [[ $mode == close ]] && hdr=(-H "Connection: close")
  for r in $(seq "$rounds"); do
    for who in honeypot nginx; do
      port=8080
      [[ $who == nginx ]] && port=8081
      read -r rps n cpu_us < <(run_wrk "$who" "$port" "${hdr[@]}")
      per=$(echo "$cpu_us / $n" | bc -l)
      results[$mode.$who]+="$rps "
      cpu[$mode.$who]+="$per "
      [[ $who == honeypot ]] && total_wrk=$((total_wrk + n))
      printf "  %-9s %-8s round %d: %8d req/s (%d requests, server CPU %.2f us/request)\n" \
        "$mode" "$who" "$r" "$rps" "$n" "$per"
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for mode in keepalive close; do
  h=$(echo "${results[$mode.honeypot]}" | median)
  g=$(echo "${results[$mode.nginx]}" | median)
  hc=$(echo "${cpu[$mode.honeypot]}" | median)
  gc=$(echo "${cpu[$mode.nginx]}" | median)
  printf "%-9s honeypot %8d req/s  nginx %8d req/s  ratio %.2f | CPU/request honeypot %.2f us" \
    "$mode" "$h" "$g" "$(echo "$h / $g" | bc -l)" "$hc"
  printf "  nginx %.2f us  (nginx/honeypot %.2f)\n" "$gc" "$(echo "$gc / $hc" | bc -l)"
done
kill -INT "$hp_pid"
wait "$hp_pid" || true
hp_pid=""
journaled=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['journal']['records'])" \
  "$work/hp/sensors/honeypot/status.json")
lost=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['journal']['records_lost'])" \
  "$work/hp/sensors/honeypot/status.json")
shipped=$(events_now)
echo "requests counted by wrk: $total_wrk; events journaled: $journaled; shipped: $shipped;" \
  "lost: $lost; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
if ((shipped < total_wrk || shipped != journaled || lost != 0)); then
  echo "honeypot_http_bench: EVENTS LOST" >&2
  exit 1
fi
