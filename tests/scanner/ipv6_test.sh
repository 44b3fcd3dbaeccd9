#!/usr/bin/env bash
# IPv6 end to end: hit list -> SYN and UDP discovery over IPv6 (AF_PACKET frames, IPv6
# pseudo-header checksums) -> probes -> scan6_* events -> `vantage ingest` -> the report of an
# organisation that owns the prefix. Two network namespaces made here (scanner vs<pid> at
# 2001:db8:46::1, target vt<pid> at 2001:db8:46::2, a veth pair between them): the
# documentation prefix exists only inside them, so nothing leaves the test.
# Real servers in the target namespace: OpenSSH (scan6_ssh), Mosquitto (scan6_mqtt), net-snmp
# (scan6_snmp), coturn (scan6_stun).
# Then the schedule: `vantage serve` with scan.schedule runs the stun module over the prefix
# (its hit list comes from the events ingested before), the events come in through the inbox,
# and `vantage status` shows the module's last scan.
# usage: ipv6_test.sh path/to/vantage
set -u
# The report files are read from disk below: the one-file-per-report layout (report.layout).
export VANTAGE_REPORT_LAYOUT=files
V=$(readlink -f "$1")
source "$(dirname "$0")/netns_bed.sh"
bed_up vs6$$ vt6$$ "2001:db8:46::1/64" "2001:db8:46::2/64"
GW=$(ip -n "$N" -br link show vt0 | awk '{print $3}')
TA=2001:db8:46::2
ALLOW=(--allow-reserved 2001:db8:46::/64)

# --- real servers on the target's IPv6 address
mkdir -p "$T/run"
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
printf 'HostKey %s\nListenAddress %s\nPidFile %s\nUsePAM no\n' "$T/hostkey" "$TA" "$T/sshd.pid" >"$T/sshd_config"
printf 'listener 1883 %s\nallow_anonymous true\npersistence false\n' "$TA" >"$T/mq.conf"
printf 'agentaddress udp6:[%s]:161\nrocommunity6 public\nsysName vantage-v6\nsysDescr Vantage IPv6 agent\n' "$TA" >"$T/snmpd.conf"
cat >"$T/services.sh" <<EOF
start() { "\$@" >>"$T/services.log" 2>&1 & echo \$! >>"$T/pids"; }
mkdir -p /run/sshd
[[ -x /usr/sbin/sshd ]] && start /usr/sbin/sshd -D -f "$T/sshd_config"
command -v mosquitto >/dev/null && start mosquitto -c "$T/mq.conf"
command -v snmpd >/dev/null && SNMP_PERSISTENT_DIR="$T" start snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid"
command -v turnserver >/dev/null && start turnserver -n --listening-ip $TA --listening-port 3478 \
  --no-tls --no-dtls --stun-only --no-cli --log-file stdout --pidfile "$T/turn.pid"
touch "$T/started"
exec sleep 170  # the pid the test kills
EOF
ip netns exec "$N" bash "$T/services.sh" & BED_PIDS+=($!)
for i in $(seq 100); do [[ -e $T/started ]] && break; sleep 0.1; done
for p in 22 1883; do for i in $(seq 50); do ip netns exec "$N" ss -Hlnt "sport = :$p" | grep -q . && break; sleep 0.1; done; done
for p in 161 3478; do for i in $(seq 50); do ip netns exec "$N" ss -Hlnu "sport = :$p" | grep -q . && break; sleep 0.1; done; done

# The hit list: the target, two silent neighbours, a comment, and a blocklisted address that
# must be dropped (fe80:: is link-local; no --allow-reserved lifts it here).
printf '# IPv6 hit list\n2001:db8:46::2\n2001:db8:46::3\n2001:db8:46::99\nfe80::1\n' >"$T/hitlist"

# Blocklist: without the explicit allow, the documentation prefix is refused.
ip netns exec "$S" "$V" scan -q --dry-run --ipv6-targets "$T/hitlist" --port 22 >/dev/null 2>&1 \
  && bad "IPv6 blocklist ignored" || ok "IPv6 documentation prefix blocked unless lifted"
n=$(ip netns exec "$S" "$V" scan -q --dry-run "${ALLOW[@]}" --ipv6-targets "$T/hitlist" --port 22,80 | sort -u | wc -l)
[[ $n == 6 ]] && ok "dry run: 3 listed addresses x 2 ports (fe80::1 dropped)" || bad "dry run probes: $n"

# SYN discovery over IPv6 on the veth (AF_PACKET), discovery only.
ip netns exec "$S" "$V" scan -q "${ALLOW[@]}" --iface vs0 --gateway-mac "$GW" --ipv6-targets "$T/hitlist" \
  --port 22,1883,2222 --cooldown 1 --no-probes --out "$T/hits.txt" 2>"$T/syn.err"
want=$(printf '2001:db8:46::2,1883\n2001:db8:46::2,22')
[[ "$(sort "$T/hits.txt" 2>/dev/null)" == "$want" ]] && ok "IPv6 SYN discovery finds exactly the two listeners (2 of 9)" \
  || bad "IPv6 SYN discovery: got [$(cat "$T/hits.txt" 2>/dev/null)] $(cat "$T/syn.err")"
# Discovery then probes (module by port): scan6_ssh and scan6_mqtt events.
ip netns exec "$S" "$V" scan -q "${ALLOW[@]}" --iface vs0 --gateway-mac "$GW" --ipv6-targets "$T/hitlist" \
  --port 22,1883 --cooldown 1 --events "$T/tcp6.jsonl" 2>"$T/tcp6.err"
# UDP discovery over IPv6 (the SNMP payload), then the snmp probe on the hit.
ip netns exec "$S" "$V" scan -q "${ALLOW[@]}" --iface vs0 --gateway-mac "$GW" --ipv6-targets "$T/hitlist" \
  --udp snmp --port 161 --cooldown 1 --out "$T/udp_hits.txt" --events "$T/udp6.jsonl" 2>"$T/udp6.err"
[[ "$(cat "$T/udp_hits.txt" 2>/dev/null)" == "$TA" ]] && ok "IPv6 UDP discovery finds the SNMP agent (1 of 3)" \
  || bad "IPv6 UDP discovery: [$(cat "$T/udp_hits.txt" 2>/dev/null)] $(cat "$T/udp6.err")"
ip netns exec "$S" "$V" probe "${ALLOW[@]}" --module stun --events "$T/stun6.jsonl" "[$TA]:3478" 2>"$T/stun6.err"
cat "$T/tcp6.jsonl" "$T/udp6.jsonl" "$T/stun6.jsonl" >"$T/events.jsonl" 2>/dev/null
if python3 - "$T/events.jsonl" "$TA" <<'PY'; then ok "scan6_ssh, scan6_mqtt, scan6_mqtt_anon, scan6_snmp, scan6_stun events for $TA"; else bad "IPv6 events: $(cat "$T/events.jsonl" "$T"/*.err | head -c 2000)"; fi
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
types = sorted(e["type"] for e in ev)
# Port 1883 has two modules: the broker scan and the anonymous-access check.
assert types == ["scan6_mqtt", "scan6_mqtt_anon", "scan6_snmp", "scan6_ssh", "scan6_stun"], types
for e in ev:
    assert e["fields"]["ip"] == sys.argv[2], e
by = {e["type"]: e["fields"] for e in ev}
assert by["scan6_ssh"]["serverid_software"].startswith("OpenSSH"), by["scan6_ssh"]
assert by["scan6_snmp"]["sysdesc"] == "Vantage IPv6 agent", by["scan6_snmp"]
assert by["scan6_stun"]["xor_mapped_address"] == "2001:db8:46::1", by["scan6_stun"]
assert by["scan6_mqtt"]["anonymous_access"] is True, by["scan6_mqtt"]
assert by["scan6_mqtt_anon"]["code"] == "Connection Accepted", by["scan6_mqtt_anon"]
PY

# --- pipeline: an organisation owns the prefix; ingest; its report holds the scan6_ rows
D=$T/data
day=$(date -u +%F)
"$V" --data-dir "$D" org add --name "IPv6 Test Org" --short V6_Test >/dev/null
"$V" --data-dir "$D" org resource add V6_Test 2001:db8:46::/48 >/dev/null
"$V" --data-dir "$D" ingest -q "$T/events.jsonl" 2>"$T/ingest.err"
"$V" --data-dir "$D" report build --date "$day" >"$T/built.txt" 2>>"$T/ingest.err"
for t in scan6_ssh scan6_mqtt scan6_mqtt_anon scan6_snmp scan6_stun; do
  f=$(grep -o "[^[:space:]]*$day-$t-V6_Test-cidr\.csv" "$T/built.txt" | head -1)
  if [[ -n $f && -f $f ]] && grep -q "$TA" "$f"; then ok "report $t for V6_Test holds $TA"
  else bad "report $t: [$(cat "$T/built.txt")] $(cat "$T/ingest.err")"; fi
done
"$V" --data-dir "$D" hitlist --within 2001:db8:46::/48 --out "$T/seen.txt" 2>/dev/null
[[ "$(cat "$T/seen.txt")" == "$TA" ]] && ok "hitlist exports the IPv6 address the pipeline saw" \
  || bad "hitlist: [$(cat "$T/seen.txt")]"

# --- the schedule: serve (in the scanner namespace) runs stun every minute over the
# registry's prefix; the prefix's hit list is what the pipeline saw; results come back
# through the inbox; status shows the last scan.
cat >"$T/vantage.toml" <<EOF
[scan]
enabled = true
schedule = ["stun:1"]
allow_reserved = ["2001:db8:46::/64"]
rate = 100
[api]
listen = "127.0.0.1:0"
EOF
ip netns exec "$S" ip link set lo up
ip netns exec "$S" "$V" --data-dir "$D" --config "$T/vantage.toml" serve --no-day-close >"$T/serve.log" 2>&1 &
serve_pid=$!
BED_PIDS+=($serve_pid)
for i in $(seq 150); do
  grep -q '"module": "stun"' "$D/scan_state.json" 2>/dev/null && ls "$D/inbox/done" 2>/dev/null | grep -q scan-stun && break
  sleep 0.2
done
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
"$V" --data-dir "$D" status >"$T/status.txt" 2>&1
if grep -E "^  stun +scan6_stun .* 1 addresses, 1 events +targets 2001:db8:46::/48 +ok" "$T/status.txt" >/dev/null \
  && ls "$D/inbox/done" | grep -q '^scan-stun-.*\.jsonl$'; then
  ok "scheduled stun scan over the registered prefix: recorded, ingested, shown by status"
else bad "schedule: $(grep -A3 'last scan' "$T/status.txt") $(ls "$D/inbox" "$D/inbox/done" 2>&1) $(tail -5 "$T/serve.log")"; fi

echo "ipv6_test: $fails failure(s)"
exit $((fails > 0))
