#!/usr/bin/env bash
# The sinkhole side by side with the servers a sinkhole operator would otherwise run, in one
# network namespace of its own (lo only), alternating ours and the baseline REPS times each:
#   DNS   dnsperf -c4 -T2 -q500 -l10 against `vantage sinkhole` (domain sinkhole.test) and
#         against NSD serving the wildcard zone *.sinkhole.test (RRL off), both with THREADS
#         workers (NSD server-count); ours must also have counted every query sent;
#   HTTP  wrk -t2 -c100 -d10s, keep-alive and "Connection: close", against the sinkhole's http
#         listener and nginx (THREADS workers, `return 200`, buffered access log); ours must
#         have logged every request wrk completed.
# Prints one line per run and the medians; the load average before and after.
# Usage (root): bench/sinkhole_bench.sh VANTAGE [REPS] [SECONDS]
set -euo pipefail
vantage=$(readlink -f "$1")
reps=${2:-3}
secs=${3:-10}
threads=${THREADS:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "sinkhole_bench: needs root (network namespace)"; exit 1; }
for t in dnsperf wrk nsd nginx python3; do
  command -v "$t" >/dev/null || { echo "sinkhole_bench: $t missing (scripts/install-deps.sh --test)"; exit 1; }
done
ns=skbench$$
tmp=$(mktemp -d /tmp/sinkhole_bench.XXXXXX)
chmod 755 "$tmp"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[[ -n "${KEEP:-}" ]] && trap - EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# ---- the query file and the servers' configurations ------------------------------------------
python3 -c "
import random
r = random.Random(5)
with open('$tmp/queries', 'w') as f:
    for i in range(100000):
        f.write(f'h{r.randrange(1000000)}.sinkhole.test A\n')
"
mkdir -p "$tmp/nsd" "$tmp/conf" "$tmp/nginx"
cat >"$tmp/nsd/sinkhole.test.zone" <<'EOF'
$ORIGIN sinkhole.test.
$TTL 300
@ IN SOA ns1.sinkhole.test. hostmaster.sinkhole.test. 1 3600 900 1209600 300
@ IN NS ns1.sinkhole.test.
ns1 IN A 198.18.0.1
* IN A 198.18.0.1
EOF
cat >"$tmp/nsd/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1
  port: 53
  server-count: $threads
  username: ""
  chroot: ""
  zonesdir: "$tmp/nsd"
  database: ""
  zonelistfile: "$tmp/nsd/zone.list"
  xfrdfile: "$tmp/nsd/xfrd.state"
  xfrdir: "$tmp/nsd"
  pidfile: "$tmp/nsd/nsd.pid"
  logfile: "$tmp/nsd/nsd.log"
  verbosity: 0
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: sinkhole.test
  zonefile: sinkhole.test.zone
EOF
cp "$here/conf/sinkhole/families.json" "$here/conf/sinkhole/rules.json" "$tmp/conf/"
echo "domain sinkhole.test family=necurs" >"$tmp/conf/domains.txt"
cat >"$tmp/vantage.toml" <<EOF
[sinkhole]
domains = "$tmp/conf/domains.txt"
families = "$tmp/conf/families.json"
rules = "$tmp/conf/rules.json"
addresses = ["198.18.0.1"]
threads = $threads
EOF
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes $threads;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log $tmp/nginx/access.log combined buffer=64k flush=1s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:8081;
    location / { return 200; }
  }
}
EOF

# ---- runs ------------------------------------------------------------------------------------
start_ours() {
  rm -rf "$tmp/data" "$tmp/inbox"
  mkdir -m 777 "$tmp/inbox"
  ip netns exec "$ns" "$vantage" --config "$tmp/vantage.toml" --data-dir "$tmp/data" sinkhole --inbox "$tmp/inbox" \
    --listen dns=127.0.0.1:53 --listen http=127.0.0.1:8080 >"$tmp/ours.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "http listening" "$tmp/ours.log" && break; sleep 0.1; done
  sleep 0.5
}
stop_ours() {
  kill -TERM "$server"
  wait "$server" || true
  server=""
}
ours_counted() {
  python3 -c "import json; print(json.load(open('$tmp/data/sensors/sinkhole/status.json'))['services']['sinkhole']['dns_counts']['counted'])"
}
ours_logged() {
  python3 -c "import json; print(json.load(open('$tmp/data/sensors/sinkhole/status.json'))['journal']['records'])"
}
field() { sed -n "s/^ *$1: *\([0-9.]*\).*/\1/p" "$2"; }
# CPU seconds (user + system) used so far by the namespace's processes named NAME*: the server
# side of a run, whatever else the box is doing (steadier than throughput on a shared box).
cpu_of() {
  local total=0 pid stat
  for pid in $(ip netns pids "$ns"); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1"* ]] || continue  # "nsd: server 1"
    # utime and stime: the 14th and 15th fields, counted after the comm's closing parenthesis
    # (a comm may hold spaces: "nsd: server 1").
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f12,13) || continue
    total=$((total + ${stat% *} + ${stat#* }))
  done
  python3 -c "print($total / $(getconf CLK_TCK))"
}
per_op() { python3 -c "print(f'{1e6 * ($2 - $1) / max(1, $3):.1f}')"; }  # µs of CPU per op

echo "sinkhole_bench: $(nproc) cores, $threads worker(s) each, ${secs}s per run, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A results cpu
dns_run() {  # NAME
  in_ns dnsperf -s 127.0.0.1 -p 53 -d "$tmp/queries" -c 4 -T 2 -q 500 -l "$secs" >"$tmp/dnsperf.out" 2>&1
  local qps sent lost
  qps=$(field "Queries per second" "$tmp/dnsperf.out")
  sent=$(field "Queries sent" "$tmp/dnsperf.out")
  lost=$(field "Queries lost" "$tmp/dnsperf.out")
  echo "$1 $qps $sent $lost"
}
for rep in $(seq "$reps"); do
  start_ours
  c0=$(cpu_of vantage)
  read -r _ qps sent lost < <(dns_run dns_ours)
  c1=$(cpu_of vantage)
  results[dns_ours]+="$qps "
  cpu[dns_ours]+="$(per_op "$c0" "$c1" "$sent") "
  stop_ours
  counted=$(ours_counted)
  echo "run $rep  dns  ours   $qps qps  sent $sent lost $lost counted $counted  unlogged $((sent - counted))  cpu $(per_op "$c0" "$c1" "$sent") us/query"
  ip netns exec "$ns" nsd -c "$tmp/nsd/nsd.conf" -d >"$tmp/nsd.out" 2>&1 &
  server=$!
  sleep 1
  c0=$(cpu_of nsd)
  read -r _ qps sent lost < <(dns_run dns_nsd)
  c1=$(cpu_of nsd)
  results[dns_nsd]+="$qps "
  cpu[dns_nsd]+="$(per_op "$c0" "$c1" "$sent") "
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  echo "run $rep  dns  nsd    $qps qps  sent $sent lost $lost  cpu $(per_op "$c0" "$c1" "$sent") us/query"
done
http_run() {  # NAME PORT EXTRA...
  local name=$1 port=$2
  shift 2
  in_ns wrk -t2 -c100 -d"${secs}s" "$@" "http://127.0.0.1:$port/gate.php" >"$tmp/wrk.out" 2>&1
  local rps total
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$tmp/wrk.out")
  total=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.out")
  echo "$rps $total"
}
for mode in keepalive close; do
  extra=()
  [[ $mode == close ]] && extra=(-H "Connection: close")
  for rep in $(seq "$reps"); do
    start_ours
    c0=$(cpu_of vantage)
    read -r rps total < <(http_run "http_${mode}_ours" 8080 "${extra[@]}")
    c1=$(cpu_of vantage)
    results[http_${mode}_ours]+="$rps "
    cpu[http_${mode}_ours]+="$(per_op "$c0" "$c1" "$total") "
    stop_ours
    logged=$(ours_logged)
    echo "run $rep  http $mode  ours   $rps req/s  completed $total logged $logged  unlogged $((total > logged ? total - logged : 0))  cpu $(per_op "$c0" "$c1" "$total") us/req"
    ip netns exec "$ns" nginx -c "$tmp/nginx/nginx.conf" -g "daemon off;" &
    server=$!
    sleep 0.5
    c0=$(cpu_of nginx)
    read -r rps total < <(http_run "http_${mode}_nginx" 8081 "${extra[@]}")
    c1=$(cpu_of nginx)
    results[http_${mode}_nginx]+="$rps "
    cpu[http_${mode}_nginx]+="$(per_op "$c0" "$c1" "$total") "
    kill -QUIT "$server"; wait "$server" 2>/dev/null || true; server=""
    echo "run $rep  http $mode  nginx  $rps req/s  completed $total  cpu $(per_op "$c0" "$c1" "$total") us/req"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $reps (load average now: $(cut -d' ' -f1-3 /proc/loadavg)):"
for pair in dns http_keepalive http_close; do
  if [[ $pair == dns ]]; then o=dns_ours b=dns_nsd; else o=${pair}_ours b=${pair}_nginx; fi
  mo=$(echo "${results[$o]}" | median)
  mb=$(echo "${results[$b]}" | median)
  co=$(echo "${cpu[$o]}" | median)
  cb=$(echo "${cpu[$b]}" | median)
  printf "  %-15s ours %8.0f/s  baseline %8.0f/s  ratio %.2f   server CPU per op: ours %6.1f us  baseline %6.1f us\n" \
    "$pair" "$mo" "$mb" "$(python3 -c "print($mo / $mb)")" "$co" "$cb"
done
