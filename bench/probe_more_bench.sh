#!/usr/bin/env bash
# The scan types of branch scan-more (issue #18): banners/s per module against `nmap -sV` on
# the same server, and the fingerprint matrix (every module against every server of its
# transport: an event off the diagonal is a false positive). The servers are those of
# tests/scanner/probes_more_e2e.sh (tests/scanner/more_servers.sh: real Debian servers and
# more_responders.py, each on its well-known port inside a target network namespace); the
# scanner runs in a second namespace. Each module's target is listed N times, so both tools
# grab N banners from one server: ours with N probes in flight, nmap with --min-hostgroup N
# --min-parallelism N (repeated targets are scanned as separate hosts), -sV at intensity 7
# (-sU for the UDP modules). nmap's time includes its own port scan; ours is the probe only.
# Needs root, iproute2 and nmap.
# usage: bench/probe_more_bench.sh path/to/vantage   (env: N=5, INTENSITY=7, TABLE=1|0,
#   MATRIX=1|0, ONLY="module ..." for part of the table)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(realpath "${1:-$ROOT/build/release/apps/vantage/vantage}")
# N names the target namespace once netns_bed.sh is sourced, so the count gets its own name.
COPIES=${N:-5}
command -v nmap >/dev/null || { echo "probe_more_bench: nmap missing" >&2; exit 2; }
source "$ROOT/tests/scanner/netns_bed.sh"
bed_up vsb$$ vtb$$ "198.18.48.1/24" "198.18.48.2/24"
TA=198.18.48.2
source "$ROOT/tests/scanner/more_servers.sh"
RESPONDER_SECONDS=3600 more_servers_start "$ROOT"
more_servers_wait 150
[[ -z $MISSING ]] || echo "probe_more_bench: not listening:$MISSING" >&2
now() { date +%s.%N; }
echo "probe_more_bench: N=$COPIES, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# module:port:transport (hadoop's DataNode is one more server of the hadoop module).
SPECS="rsync:873:tcp epmd:4369:tcp activemq:61616:tcp bgp:179:tcp socks:1080:tcp mqtt_anon:1883:tcp
 mqtts_anon:8883:tcp msrpc:135:tcp afp:548:tcp adb:5555:tcp cisco_smart_install:4786:tcp
 radmin:4899:tcp cwmp:7547:tcp hadoop:50070:tcp exchange:443:tcp cldap:389:udp sip_udp:5060:udp
 db2:523:udp ard:3283:udp rdpeudp:3389:udp netis:53413:udp"
probe() {  # "module..." events-file targets...
  local mods=$1 out=$2 args=() m
  shift 2
  for m in $mods; do args+=(--module "$m"); done
  ip netns exec "$S" "$V" probe --allow-reserved 198.18.48.0/24 "${args[@]}" --concurrency 64 \
    --read-timeout-ms 3000 --events "$out" "$@" 2>/dev/null
}
[[ ${TABLE:-1} == 1 ]] && echo && echo "| module | port | tool | banners | seconds | banners/s | nmap's service/version |" &&
  echo "|---|---|---|---|---|---|---|"
for spec in $SPECS; do
  [[ ${TABLE:-1} == 1 ]] || break
  IFS=: read -r m port proto <<<"$spec"
  [[ -z ${ONLY:-} || " $ONLY " == *" $m "* ]] || continue
  targets=() hosts=()
  for i in $(seq "$COPIES"); do targets+=($TA:$port); hosts+=($TA); done
  t0=$(now)
  probe "$m" "$T/ours_$m.jsonl" "${targets[@]}"
  t1=$(now)
  scan=-sS
  [[ $proto == udp ]] && scan=-sU
  ip netns exec "$S" nmap $scan -sV -n -Pn -p "$port" --version-intensity "${INTENSITY:-7}" -T5 --max-retries 1 \
    --host-timeout 90s --min-hostgroup "$COPIES" --min-parallelism "$COPIES" -oG "$T/nmap_$m.gnmap" "${hosts[@]}" \
    >/dev/null 2>&1
  t2=$(now)
  python3 - "$m" "$port" "$proto" "$T/ours_$m.jsonl" "$t0" "$t1" "$T/nmap_$m.gnmap" "$t2" "$COPIES" <<'PY'
import re, sys
m, port, proto, ours, t0, t1, gnmap, t2, n = sys.argv[1:]
got = sum(1 for _ in open(ours))
svc, theirs = "", 0
for line in open(gnmap):
    x = re.search(r"Ports: %s/open(?:\|filtered)?/%s//([^/]*)//([^/]*)/" % (port, proto), line)
    if x and x.group(1) not in ("", "unknown", "tcpwrapped"):
        theirs += 1
        svc = (x.group(1) + " " + x.group(2)).strip()
for tool, b, a, z, s in ((f"vantage probe --module {m}", got, t0, t1, ""), (f"nmap -sV", theirs, t1, t2, svc)):
    secs = float(z) - float(a)
    print(f"| {m} | {port}/{proto} | {tool} | {b}/{n} | {secs:.2f} | {b / secs:,.1f} | {s} |")
PY
done

[[ ${MATRIX:-1} == 1 ]] || exit 0
# Fingerprint matrix: each module against every server of its transport at once.
echo
echo "Fingerprint matrix: events per (module, server); the diagonal should be 1, everything else 0"
echo "(mqtt_anon/mqtts_anon: one protocol in the clear and over TLS; hadoop has a DataNode too)."
python3 - "$SPECS" >"$T/servers" <<'PY'
import sys
for s in sys.argv[1].split():
    m, port, proto = s.split(":")
    print(m, port, proto)
print("hadoop_datanode 50075 tcp")
print("nginx 80 tcp")
print("exim 25 tcp")
print("mqtt_no_anon 1884 tcp")
PY
fp=0 hit=0 miss=0
for spec in $SPECS; do
  IFS=: read -r m port proto <<<"$spec"
  targets=($(awk -v p="$proto" -v ta="$TA" '$3 == p { print ta ":" $2 }' "$T/servers"))
  probe "$m" "$T/matrix_$m.jsonl" "${targets[@]}"
  read -r h f x < <(python3 - "$m" "$T/matrix_$m.jsonl" "$T/servers" <<'PY'
import json, sys
m, path, servers = sys.argv[1:]
port_to = {}
for line in open(servers):
    name, port, proto = line.split()
    port_to[int(port)] = name
same = {"mqtt_anon": {"mqtts_anon"}, "mqtts_anon": {"mqtt_anon"}, "hadoop": {"hadoop_datanode"}}
hits = [port_to.get(json.loads(l)["fields"]["port"], "?") for l in open(path)]
own = sum(1 for s in hits if s == m or s in same.get(m, ()))
false = [s for s in hits if s != m and s not in same.get(m, ())]
for s in false: print(f"false positive: module {m} on {s}", file=sys.stderr)
print(own, len(false), 0 if own else 1)
PY
)
  printf '%-22s own=%s false=%s\n' "$m" "$h" "$f"
  hit=$((hit + h)) fp=$((fp + f)) miss=$((miss + x))
done
echo "modules: $(echo $SPECS | wc -w), servers: $(wc -l <"$T/servers"); found on own server: $hit; missed: $miss; false positives: $fp"
