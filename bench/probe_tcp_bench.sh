#!/usr/bin/env bash
# TCP application-layer probes (issue #18): banners/s per module against `nmap -sV` on the
# same target, and the fingerprint matrix (every module against every server: an event off
# the diagonal is a false positive). The servers are those of tests/scanner/probes_tcp_e2e.sh
# (tests/scanner/tcp_servers.sh: real Debian servers on 127.0.0.1, scripted responders where
# Debian has no package). Each module's target is listed N times, so both tools grab N
# banners from one server: ours with N connections in flight, nmap with --min-hostgroup N
# --min-parallelism N (it scans repeated targets as separate hosts), -sV at its default
# intensity. nmap's time includes its own port check; ours is connect + exchange only.
# Needs root and nmap.
# usage: bench/probe_tcp_bench.sh path/to/vantage   (env: N=5, INTENSITY=7, TABLE=1|0,
#   MATRIX=1|0, ONLY="module ..." for part of the table)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(realpath "${1:-$ROOT/build/release/apps/vantage/vantage}")
SRC=$ROOT
N=${N:-5}
[[ $(id -u) == 0 ]] || { echo "probe_tcp_bench: needs root" >&2; exit 2; }
command -v nmap >/dev/null || { echo "probe_tcp_bench: nmap missing" >&2; exit 2; }
T=$(mktemp -d /tmp/probe_tcp_bench.XXXXXX)
chmod 755 "$T"
groups=()
ok() { :; }
bad() { echo "probe_tcp_bench: $*" >&2; }
source "$ROOT/tests/scanner/tcp_servers.sh"
trap 'tcp_servers_stop; wait 2>/dev/null; rm -rf "$T"' EXIT
RESPONDER_SECONDS=7200 tcp_servers_start  # nmap alone takes ~40 min at N=5
wait_port "$AMQP" 60 || bad "rabbitmq-server did not start"
now() { date +%s.%N; }
echo "probe_tcp_bench: N=$N, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
SPECS="imap:$IMAP pop3:$POP3 ftp:$FTP smtp:$SMTP vnc:$VNC rdp:$RDP smb:$SMB ldap:$LDAP amqp:$AMQP
 sip:$SIP ipp:$IPP etcd:$ETCD http_proxy:$PROXY mongodb:$(port_of mongodb) mssql_tds:$(port_of mssql)
 couchdb:$(port_of couchdb) docker:$DOCKER kubernetes:$(port_of kubernetes)
 citrix:$(port_of citrix) fortinet:$(port_of fortinet) ivanti:$(port_of ivanti) paloalto:$(port_of paloalto)"
[[ ${TABLE:-1} == 1 ]] && echo && echo "| module | port | tool | banners | seconds | banners/s | nmap's service/version |" &&
  echo "|---|---|---|---|---|---|---|"
for spec in $SPECS; do
  [[ ${TABLE:-1} == 1 ]] || break
  m=${spec%%:*} port=${spec##*:}
  [[ -z ${ONLY:-} || " $ONLY " == *" $m "* ]] || continue
  targets=() hosts=()
  for i in $(seq "$N"); do targets+=(127.0.0.1:$port); hosts+=(127.0.0.1); done
  t0=$(now)
  "$V" probe --allow-reserved 127.0.0.0/8 --module "$m" --concurrency "$N" --read-timeout-ms 5000 \
    --events "$T/ours_$m.jsonl" "${targets[@]}" 2>"$T/ours_$m.err"
  t1=$(now)
  # nmap's default intensity (7): at intensity 0 (bench/scan_bench.sh's choice) it names
  # none of rdp, ldap, amqp, sip here.
  nmap -sV -n -Pn -p "$port" --version-intensity "${INTENSITY:-7}" -T5 --max-retries 1 --host-timeout 90s \
    --min-hostgroup "$N" --min-parallelism "$N" -oG "$T/nmap_$m.gnmap" "${hosts[@]}" >/dev/null 2>&1
  t2=$(now)
  python3 - "$m" "$port" "$T/ours_$m.jsonl" "$t0" "$t1" "$T/nmap_$m.gnmap" "$t2" "$N" <<'PY'
import re, sys
m, port, ours, t0, t1, gnmap, t2, n = sys.argv[1:]
got = sum(1 for _ in open(ours))
svc, theirs = "", 0
for line in open(gnmap):
    x = re.search(r"Ports: %s/open/tcp//([^/]*)//([^/]*)/" % port, line)
    if x and x.group(1) not in ("", "unknown", "tcpwrapped"):
        theirs += 1
        svc = (x.group(1) + " " + x.group(2)).strip()
for tool, b, a, z, s in ((f"vantage probe --module {m}", got, t0, t1, ""), ("nmap -sV", theirs, t1, t2, svc)):
    secs = float(z) - float(a)
    print(f"| {m} | {port} | {tool} | {b}/{n} | {secs:.2f} | {b / secs:,.1f} | {s} |")
PY
done

[[ ${MATRIX:-1} == 1 ]] || exit 0
# Fingerprint matrix: each module against every server at once (one command per module).
echo
echo "Fingerprint matrix: events per (module, server); the diagonal (the module's own server) should be 1, everything else 0."
SERVERS="$SPECS nginx:$(port_of nginx) nginx_tls:$(port_of nginx_tls)"
all=()
for s in $SERVERS; do all+=(127.0.0.1:${s##*:}); done
fp=0 hit=0 miss=0
for spec in $SPECS; do
  m=${spec%%:*}
  "$V" probe --allow-reserved 127.0.0.0/8 --module "$m" --concurrency 64 --read-timeout-ms 3000 \
    --events "$T/matrix_$m.jsonl" "${all[@]}" 2>/dev/null
  read -r h f x < <(python3 - "$m" "$T/matrix_$m.jsonl" $SERVERS <<'PY'
import json, sys
m, path, servers = sys.argv[1], sys.argv[2], sys.argv[3:]
port_to = {int(s.split(":")[1]): s.split(":")[0] for s in servers}
# etcd answers as scan_http; the edge modules each have their own responder.
hits = [port_to.get(json.loads(l)["fields"]["port"], "?") for l in open(path)]
own = sum(1 for s in hits if s == m)
false = [s for s in hits if s != m]
for s in false: print(f"false positive: module {m} on {s}", file=sys.stderr)
print(own, len(false), 0 if own else 1)
PY
)
  hit=$((hit + h)) fp=$((fp + f)) miss=$((miss + x))
done
echo "modules: $(echo $SPECS | wc -w), servers: $(echo $SERVERS | wc -w); found on own server: $hit; missed: $miss; false positives: $fp"
