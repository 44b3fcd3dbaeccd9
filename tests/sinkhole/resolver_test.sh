#!/usr/bin/env bash
# The sinkhole as it runs on the Internet, in three network namespaces of this test's own:
#
#   clients (10.77.1.2-4, fd77:1::2-3) -- resolver: unbound (10.77.1.1 | 10.77.2.1) -- sinkhole (10.77.2.2, fd77:2::2)
#
# unbound delegates the test zones to our DNS server (stub zones), knows a "compromised" web
# site (local data), holds a domain whose delegation the criminals took back (NS elsewhere) and
# one that no longer exists. Then:
#   * dig through the resolver from several client addresses -> rows with the resolver as
#     src_ip; dig straight to the sinkhole -> rows with the client, exact counts (v4 and v6);
#   * curl from the clients (v4, v6) with Referers to the compromised sites -> referer rows
#     with the sites' addresses as resolved through unbound; raw TCP first packets;
#   * the lifecycle watch, asking unbound, reports the lost delegation, the vanished domain and
#     the lapsed registration, and nothing for the healthy ones (status file, `vantage status`);
#   * every event is ingested into a fresh data directory with an organisation owning
#     10.77.0.0/16 and fd77::/16, the day's reports are built, and every report passes the
#     IntelMQ Shadowserver parser's rules with 0 problems.
# Nothing leaves the namespaces: they have no route anywhere else.
# Usage: resolver_test.sh VANTAGE SOURCE_DIR [SHARED_DIR]
set -euo pipefail
# The report files are read from disk below: the one-file-per-report layout (report.layout).
export VANTAGE_REPORT_LAYOUT=files
vantage=$(readlink -f "$1")
source_dir=$(readlink -f "$2")
shared="${3:-$(cd "$source_dir/.." && pwd)/shared}"
[[ $(id -u) -eq 0 ]] || { echo "resolver_test: needs root (network namespaces); skipped"; exit 77; }
for tool in unbound dig curl ip python3; do
  command -v "$tool" >/dev/null || { echo "resolver_test: $tool missing (scripts/install-deps.sh --test)"; exit 77; }
done

id=$$
cli=vskc$id res=vskr$id srv=vsks$id
tmp=$(mktemp -d /tmp/vantage_sinkhole_ns.XXXXXX)
chmod 755 "$tmp"
sinkhole_pid="" unbound_pid=""
cleanup() {
  [[ -n "$sinkhole_pid" ]] && kill "$sinkhole_pid" 2>/dev/null && wait "$sinkhole_pid" 2>/dev/null
  [[ -n "$unbound_pid" ]] && kill "$unbound_pid" 2>/dev/null
  for ns in "$cli" "$res" "$srv"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
[[ -n "${KEEP:-}" ]] && trap - EXIT  # KEEP=1: leave the namespaces and files for a look
fail() { echo "FAIL: $*"; [[ -f $tmp/sinkhole.log ]] && tail -20 "$tmp/sinkhole.log"; exit 1; }

# ---- the namespaces ------------------------------------------------------------------------
for ns in "$cli" "$res" "$srv"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # No duplicate address detection: addresses (link-local ones too) usable at once.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add "c$id" type veth peer name "rc$id"
ip link add "s$id" type veth peer name "rs$id"
ip link set "c$id" netns "$cli"; ip link set "rc$id" netns "$res"
ip link set "s$id" netns "$srv"; ip link set "rs$id" netns "$res"
for a in 10.77.1.2/24 10.77.1.3/24 10.77.1.4/24; do ip -n "$cli" addr add "$a" dev "c$id"; done
for a in fd77:1::2/64 fd77:1::3/64; do ip -n "$cli" addr add "$a" dev "c$id" nodad; done
ip -n "$res" addr add 10.77.1.1/24 dev "rc$id"; ip -n "$res" addr add fd77:1::1/64 dev "rc$id" nodad
ip -n "$res" addr add 10.77.2.1/24 dev "rs$id"; ip -n "$res" addr add fd77:2::1/64 dev "rs$id" nodad
ip -n "$srv" addr add 10.77.2.2/24 dev "s$id"; ip -n "$srv" addr add fd77:2::2/64 dev "s$id" nodad
for l in "$cli c$id" "$res rc$id" "$res rs$id" "$srv s$id"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$cli" route add default via 10.77.1.1; ip -n "$cli" -6 route add default via fd77:1::1
ip -n "$srv" route add default via 10.77.2.1; ip -n "$srv" -6 route add default via fd77:2::1
ip netns exec "$res" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# ---- the resolver --------------------------------------------------------------------------
cat >"$tmp/unbound.conf" <<EOF
server:
  interface: 10.77.1.1
  interface: 10.77.2.1
  interface: fd77:1::1
  interface: fd77:2::1
  port: 53
  access-control: 10.77.0.0/16 allow
  access-control: fd77::/16 allow
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: "$tmp/unbound.pid"
  logfile: "$tmp/unbound.log"
  use-syslog: no
  verbosity: 1
  do-daemonize: no
  module-config: "iterator"
  qname-minimisation: no
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  # .test is one of unbound's built-in empty zones (RFC 6761); these are delegated.
  local-zone: "test." nodefault
  local-zone: "lost-demo.test." static
  local-data: "lost-demo.test. 300 IN NS ns1.criminal.test."
  local-data: "lost-demo.test. 300 IN NS ns2.criminal.test."
  local-zone: "gone-demo.test." always_nxdomain
  local-zone: "compromised.test." static
  local-data: "compromised.test. 300 IN A 10.77.9.9"
  local-zone: "compromised6.test." static
  local-data: "compromised6.test. 300 IN AAAA fd77:9::9"
EOF
for zone in sinkhole.test necurs-demo.test zeus-demo.test lapsed-demo.test; do
  printf 'stub-zone:\n  name: "%s."\n  stub-addr: 10.77.2.2\n' "$zone" >>"$tmp/unbound.conf"
done
ip netns exec "$res" unbound -d -c "$tmp/unbound.conf" &
unbound_pid=$!

# ---- the sinkhole --------------------------------------------------------------------------
mkdir -m 777 "$tmp/inbox"
mkdir "$tmp/conf"
cp "$source_dir/conf/sinkhole/families.json" "$source_dir/conf/sinkhole/rules.json" "$tmp/conf/"
cat >"$tmp/conf/domains.txt" <<'EOF'
zone   sinkhole.test
domain necurs-demo.test  family=necurs  expires=2099-01-01
domain zeus-demo.test    family=zeus
domain lost-demo.test    family=zeus
domain gone-demo.test    family=necurs
domain lapsed-demo.test  family=necurs  expires=2024-06-30
EOF
cat >"$tmp/vantage.toml" <<EOF
[sinkhole]
domains = "$tmp/conf/domains.txt"
families = "$tmp/conf/families.json"
rules = "$tmp/conf/rules.json"
addresses = ["10.77.2.2", "fd77:2::2"]
nameservers = ["ns1.sinkhole.test", "ns2.sinkhole.test"]
resolver = "10.77.2.1:53"
dns_period_s = 10
sensor_name = "netns-sinkhole"
EOF
ip netns exec "$srv" "$vantage" --config "$tmp/vantage.toml" --data-dir "$tmp/data" sinkhole \
  --inbox "$tmp/inbox" --listen dns=10.77.2.2:53 --listen dns=[fd77:2::2]:53 \
  --listen http=10.77.2.2:80 --listen http=[fd77:2::2]:80 --listen https=10.77.2.2:443 \
  --listen tcp=10.77.2.2:23 --listen tcp=[fd77:2::2]:23 >"$tmp/sinkhole.log" 2>&1 &
sinkhole_pid=$!
for _ in $(seq 100); do
  if [[ -f "$tmp/data/sensors/sinkhole/status.json" ]] &&
    ip netns exec "$cli" dig +time=1 +tries=1 +short @10.77.1.1 ns1.sinkhole.test | grep -q 10.77.2.2 &&
    ip netns exec "$cli" dig +time=1 +tries=1 +short @fd77:2::2 ns1.sinkhole.test AAAA | grep -q fd77:2::2; then
    break
  fi
  sleep 0.2
done
grep -q "tcp listening on \[fd77:2::2\]:23" "$tmp/sinkhole.log" || fail "the sinkhole did not start"

cdig() { ip netns exec "$cli" dig +time=2 +tries=1 "$@"; }
# Through the resolver, from three client addresses: our server sees only the resolver.
for n in 2 3 4; do
  for i in 1 2; do
    a=$(cdig -b "10.77.1.$n" +short @10.77.1.1 "via-$n-$i.necurs-demo.test" A)
    [[ $a == 10.77.2.2 ]] || fail "via the resolver, via-$n-$i.necurs-demo.test answered '$a'"
  done
done
a=$(cdig -b fd77:1::3 +short @fd77:1::1 "via-6.zeus-demo.test" AAAA)
[[ $a == fd77:2::2 ]] || fail "via the resolver over IPv6: '$a'"
# Straight to the sinkhole: the clients themselves, exact counts.
for i in 1 2 3 4 5; do cdig -b 10.77.1.3 +short @10.77.2.2 direct.necurs-demo.test A >/dev/null; done
for i in 1 2 3; do cdig -b fd77:1::2 +short @fd77:2::2 direct6.zeus-demo.test AAAA >/dev/null; done
cdig -b 10.77.1.4 +tcp +short @10.77.2.2 tcp.zeus-demo.test A >/dev/null
cdig -b 10.77.1.4 @10.77.2.2 not-ours.example A | grep -q "status: REFUSED" || fail "not refused"

# Bots calling home, over both families; Referers from "compromised" sites the resolver knows.
ccurl() { ip netns exec "$cli" curl -s -g -m 5 -o /dev/null -w "%{http_code}" "$@"; }
[[ $(ccurl --interface 10.77.1.2 -H "Host: www.necurs-demo.test" http://10.77.2.2/forum/db.php -X POST --data-binary x) == 200 ]] || fail "http v4"
[[ $(ccurl --interface fd77:1::3 -H "Host: www.zeus-demo.test" "http://[fd77:2::2]/cfg/config.bin") == 200 ]] || fail "http v6"
ccurl --interface 10.77.1.3 -H "Host: www.zeus-demo.test" -H "Referer: http://compromised.test/blog/post.html" http://10.77.2.2/js/x.js >/dev/null
ccurl --interface 10.77.1.4 -H "Host: www.necurs-demo.test" -H "Referer: https://compromised6.test/" http://10.77.2.2/ >/dev/null
ccurl -k --interface 10.77.1.2 --resolve www.zeus-demo.test:443:10.77.2.2 https://www.zeus-demo.test/gate.php >/dev/null
ip netns exec "$cli" python3 - <<'EOF'
import socket
for fam, dst, src in ((socket.AF_INET, "10.77.2.2", "10.77.1.2"), (socket.AF_INET6, "fd77:2::2", "fd77:1::2")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect((dst, 23))
    s.sendall(b"\x00\x00\x00\x01\x04bot7")
    s.close()
EOF

# The watch's first round runs 2 s after start; the status file is rewritten every 5 s.
problems=""
for _ in $(seq 40); do
  problems=$(python3 - "$tmp/data/sensors/sinkhole/status.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))["services"]["domain-watch"]
if w["rounds"] < 1: sys.exit(0)
print(" ".join(sorted(f"{p['domain']}:{p['problem']}" for p in w["problems"])))
EOF
)
  [[ -n "$problems" ]] && break
  sleep 0.5
done
echo "watch: $problems"
[[ "$problems" == "gone-demo.test:not-delegated lapsed-demo.test:expired lost-demo.test:delegation-lost" ]] ||
  fail "the lifecycle watch reported '$problems'"
status_text=$("$vantage" --data-dir "$tmp/data" status 2>/dev/null)
grep -q "lost-demo.test: delegation-lost -- NS: ns1.criminal.test" <<<"$status_text" ||
  fail "vantage status does not show the lost delegation: $status_text"

# The DNS period (10 s) ends; its rows are emitted; a clean stop ships the rest.
sleep 12
kill -TERM "$sinkhole_pid"
wait "$sinkhole_pid" || fail "unclean stop"
sinkhole_pid=""

python3 - "$tmp/inbox" <<'EOF' || fail "events"
import json, os, sys
rows = []
for n in sorted(os.listdir(sys.argv[1])):
    rows += [json.loads(l) for l in open(os.path.join(sys.argv[1], n))]
dns = {}
for r in rows:
    if r["type"] == "event4_sinkhole_dns":
        f = r["fields"]
        dns.setdefault((f["src_ip"], f["query"], f["query_type"]), 0)
        dns[(f["src_ip"], f["query"], f["query_type"])] += f["count"]
ok = True
def need(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok &= cond
for n in (2, 3, 4):
    for i in (1, 2):
        q = f"via-{n}-{i}.necurs-demo.test"
        srcs = {k[0] for k in dns if k[1] == q}
        need(srcs == {"10.77.2.1"}, f"{q}: seen from the resolver only ({srcs})")
need(any(k[1] == "via-6.zeus-demo.test" and k[0] in ("10.77.2.1", "fd77:2::1") for k in dns), "IPv6 via the resolver")
need(dns.get(("10.77.1.3", "direct.necurs-demo.test", "A")) == 5, "direct v4: 5 queries from the client")
need(dns.get(("fd77:1::2", "direct6.zeus-demo.test", "AAAA")) == 3, "direct v6: 3 queries from the client")
need(dns.get(("10.77.1.4", "tcp.zeus-demo.test", "A")) == 1, "over TCP")
need(dns.get(("10.77.1.4", "not-ours.example", "A")) == 1, "refused, still counted")
types = {r["type"] for r in rows}
for t in ("event4_sinkhole_dns", "event4_sinkhole_http", "event6_sinkhole_http", "event4_sinkhole",
          "event6_sinkhole", "event4_sinkhole_http_referer", "event6_sinkhole_http_referer"):
    need(t in types, f"{t} produced")
ref = {r["fields"].get("http_referer_hostname"): r for r in rows if "referer" in r["type"]}
need(ref.get("compromised.test", {}).get("fields", {}).get("http_referer_ip") == "10.77.9.9", "referer v4 resolved through unbound")
need(ref.get("compromised6.test", {}).get("fields", {}).get("http_referer_ip") == "fd77:9::9", "referer v6 resolved through unbound")
sys.exit(0 if ok else 1)
EOF

# ---- the pipeline and the IntelMQ check ------------------------------------------------------
day=$(date -u +%F)
v() { "$vantage" --data-dir "$tmp/pipe" "$@"; }
v org add --name "Test network" --short test_net >/dev/null
v org resource add test_net 10.77.0.0/16 >/dev/null
v org resource add test_net fd77::/16 >/dev/null
v org approve test_net 10.77.0.0/16 >/dev/null
v org approve test_net fd77::/16 >/dev/null
v ingest -q "$tmp"/inbox/*.jsonl
v report build --date "$day" >"$tmp/built.txt"
cat "$tmp/built.txt"
for t in event4_sinkhole_dns event4_sinkhole_http event6_sinkhole_http event4_sinkhole event6_sinkhole \
  event4_sinkhole_http_referer event6_sinkhole_http_referer; do
  grep -q -- "-$t-test_net-" "$tmp/built.txt" || fail "no $t report for the organisation"
done
if [[ -f "$shared/report_schema/intelmq.json" ]]; then
  cut -f1 "$tmp/built.txt" | xargs python3 "$source_dir/tests/report/intelmq_check.py" \
    "$shared/report_schema/intelmq.json" || fail "IntelMQ check"
else
  echo "resolver_test: $shared/report_schema/intelmq.json missing: IntelMQ check skipped"
fi
echo "resolver_test: passed"
