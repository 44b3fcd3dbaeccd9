#!/usr/bin/env bash
# The sinkhole under load on loopback, with exact counts:
#   1. dnsperf while the domain file is rewritten every half second (hot reloads): every query
#      sent is answered and counted -- the period rows' counts add up to dnsperf's "sent";
#   2. ab, keep-alive and one connection per request, exact request counts: requests sent =
#      event4_sinkhole_http rows;
#   3. kill -9 of the sinkhole in the middle of a dnsperf run, restart on the same state: no
#      answered query is lost (sum >= completed) and none is counted twice (sum <= sent).
# Usage: load_test.sh VANTAGE SOURCE_DIR
set -euo pipefail
vantage=$1
source_dir=$2
for tool in dnsperf ab python3; do
  command -v "$tool" >/dev/null || { echo "load_test: $tool missing (scripts/install-deps.sh --test)"; exit 77; }
done

tmp=$(mktemp -d /tmp/vantage_sinkhole_load.XXXXXX)
chmod 755 "$tmp"  # the sensor drops to `nobody` when run as root
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 777 "$tmp/inbox"
cp -r "$source_dir/conf/sinkhole" "$tmp/conf"
chmod 666 "$tmp/conf/domains.txt"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dns_port=$(free_port)
http_port=$(free_port)
cat >"$tmp/vantage.toml" <<EOF
[sinkhole]
domains = "$tmp/conf/domains.txt"
families = "$tmp/conf/families.json"
rules = "$tmp/conf/rules.json"
dns_period_s = 10
reload_interval_s = 1
EOF

start() {
  "$vantage" --config "$tmp/vantage.toml" --data-dir "$tmp/data" sinkhole --inbox "$tmp/inbox" \
    --listen "dns=127.0.0.1:$dns_port" --listen "http=127.0.0.1:$http_port" >>"$tmp/sinkhole.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q "http listening" "$tmp/sinkhole.log" 2>/dev/null && [[ -f "$tmp/data/sensors/sinkhole/status.json" ]] && return 0
    sleep 0.1
  done
  echo "load_test: the sinkhole did not start"; cat "$tmp/sinkhole.log"; exit 1
}
field() { sed -n "s/^ *$1: *\([0-9]*\).*/\1/p" "$2"; }

# Names under sinkholed zones, our own zone, and elsewhere; several query types.
python3 - "$tmp/queries" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(f"host{i % 500}.necurs-demo.test A\n")
        if i % 3 == 0: f.write(f"c{i % 50}.zeus-demo.test AAAA\n")
        if i % 7 == 0: f.write("necurs-demo.test NS\n")
        if i % 11 == 0: f.write(f"x{i % 20}.example.org A\n")
        if i % 13 == 0: f.write(f"nx{i}.sinkhole.test MX\n")
EOF

start
echo "== 1. dnsperf with hot reloads"
(for i in $(seq 8); do echo "domain reload$i.test family=zeus" >>"$tmp/conf/domains.txt"; sleep 0.5; done) &
reloader=$!
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$tmp/queries" -l 4 -Q 15000 -c 4 -q 200 >"$tmp/dnsperf1" 2>&1
wait "$reloader"
sent1=$(field "Queries sent" "$tmp/dnsperf1")
done1=$(field "Queries completed" "$tmp/dnsperf1")
lost1=$(field "Queries lost" "$tmp/dnsperf1")
echo "dnsperf: sent $sent1, completed $done1, lost $lost1"
[[ "$sent1" -gt 10000 && "$lost1" -eq 0 && "$done1" -eq "$sent1" ]] || { echo "FAIL: queries lost"; exit 1; }
sleep 6  # the status file (every 5 s)
reloads=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['services']['sinkhole']['data']['reloads'])" \
  "$tmp/data/sensors/sinkhole/status.json")
echo "reloads during the run: $reloads"
[[ "$reloads" -ge 2 ]] || { echo "FAIL: the domain file was not reloaded under load"; exit 1; }

echo "== 2. ab, exact request counts"
ab -q -k -n 20000 -c 20 -H "Host: www.zeus-demo.test" "http://127.0.0.1:$http_port/panel/gate.php" >"$tmp/ab1"
ab -q -n 3000 -c 10 -H "Host: www.necurs-demo.test" "http://127.0.0.1:$http_port/close" >"$tmp/ab2"
grep -E "^(Complete|Failed) requests" "$tmp/ab1" "$tmp/ab2"
for f in ab1 ab2; do
  grep -q "^Failed requests: *0" "$tmp/$f" || { echo "FAIL: ab saw failed requests"; exit 1; }
done

echo "== 3. kill -9 under load, restart"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$tmp/queries" -l 5 -Q 10000 -c 2 -q 100 -t 1 >"$tmp/dnsperf2" 2>&1 &
perf=$!
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
start
wait "$perf" || true
sent2=$(field "Queries sent" "$tmp/dnsperf2")
done2=$(field "Queries completed" "$tmp/dnsperf2")
echo "dnsperf across the kill: sent $sent2, completed $done2"

# Every period over (10 s + grace + the maintenance second), then a clean stop.
sleep 13
kill -TERM "$pid"
wait "$pid"
pid=""

python3 - "$tmp/inbox" "$sent1" "$sent2" "$done2" <<'EOF'
import json, os, sys
inbox, sent1, sent2, done2 = sys.argv[1], *map(int, sys.argv[2:])
dns = http = 0
rows = {}
for name in sorted(os.listdir(inbox)):
    for line in open(os.path.join(inbox, name)):
        e = json.loads(line)
        f = e["fields"]
        if e["type"] == "event4_sinkhole_dns":
            dns += f["count"]
            key = (f["timestamp"][:18], f["protocol"], f["src_ip"], f["query_type"], f["query"])
            rows[key] = rows.get(key, 0) + 1
        elif e["type"] == "event4_sinkhole_http":
            http += 1
dup = [k for k, n in rows.items() if n > 1]
print(f"DNS rows count {dns}: phase 1 sent {sent1}; across the kill sent {sent2}, answered {done2}")
print(f"HTTP rows {http}: ab sent 23000")
ok = True
if dup:
    print("FAIL: a key emitted twice in one period:", dup[:3]); ok = False
if not (sent1 + done2 <= dns <= sent1 + sent2):
    print("FAIL: DNS counts do not add up (an answered query lost, or one counted twice)"); ok = False
if http != 23000:
    print("FAIL: requests sent != requests logged"); ok = False
sys.exit(0 if ok else 1)
EOF
echo "load_test: passed"
