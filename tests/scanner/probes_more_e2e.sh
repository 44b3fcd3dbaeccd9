#!/usr/bin/env bash
# The scan types of branch scan-more end to end: each module against a real Debian 12 server
# (rsync, epmd, ActiveMQ, BIRD, Dante, Mosquitto, Samba AD DC, Kamailio) or, where Debian has
# none, against tests/scanner/more_responders.py, every server on its well-known port inside a
# network namespace this test creates (target 198.18.47.2, scanner 198.18.47.1; nothing
# leaves the two namespaces). Then the fingerprint matrix: every TCP module against every TCP
# server and every UDP module against every UDP server, where only the module's own server
# may yield an event. Packages come from scripts/install-deps.sh (test list); a server that
# does not come up is a failure, since CI installs them all.
# usage: probes_more_e2e.sh path/to/vantage source_dir
set -u
V=$(readlink -f "$1")
SRC=$(readlink -f "$2")
source "$SRC/tests/scanner/netns_bed.sh"
bed_up vs$$ vt$$ "198.18.47.1/24" "198.18.47.2/24"
TA=198.18.47.2
source "$SRC/tests/scanner/more_servers.sh"
more_servers_start "$SRC"
more_servers_wait 100
for l in $MISSING; do bad "server for $l did not come up"; done

probe() {  # module host:port -> $T/<module>.jsonl
  ip netns exec "$S" "$V" probe --allow-reserved 198.18.47.0/24 --module "$1" \
    --read-timeout-ms 4000 --events "$T/$1.jsonl" "$2" 2>"$T/$1.err"
}
expect() {  # module port type python-condition-on-f
  local m=$1 p=$2 type=$3 check=$4
  probe "$m" "$TA:$p"
  if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/$m.jsonl')]; f=e[0]['fields']; sys.exit(0 if len(e)==1 and e[0]['type']=='$type' and f['port']==$p and ($check) else 1)" 2>/dev/null; then
    ok "probe $m ($type)"
  else bad "probe $m: $(head -c 1500 "$T/$m.jsonl" 2>/dev/null) $(tail -3 "$T/$m.err")"; fi
}
CERT="f['subject_common_name']=='probe.vantage.test' and f['issuer_organization_name']=='Vantage Test' and f['sha256_fingerprint']=='$FP' and f['cert_length']==2048"

# Real servers.
expect rsync 873 scan_rsync "f['module']=='pub|backup' and f['motd']=='Welcome to the Vantage test mirror'"
# epmd lists the node name without its host part ("name vantage_node at port N").
expect epmd 4369 scan_epmd "any(n.startswith('vantage_node:') for n in f['nodes'].split('|'))"
expect activemq 61616 scan_activemq "f['command']=='WireFormatInfo' and f['vendor']=='ActiveMQ' and f['version']=='$(dpkg-query -W -f='${Version}' activemq 2>/dev/null | sed -E 's/[+~-].*//')'"
expect bgp 179 scan_bgp "f['message_type']=='OPEN' and f['bgp_version']==4 and f['sender_asn']==65010 and f['bgp_identifier']=='192.0.2.179' and f['message2_type']=='NOTIFICATION' and f['major_error_code']=='OPEN Message Error' and f['minor_error_code']=='Bad Peer AS'"
expect socks 1080 scan_socks "f['tag']=='socks5' and f['severity']=='high'"
expect mqtt_anon 1883 scan_mqtt_anon "f['code']=='Connection Accepted' and f['hex_code']=='00'"
expect mqtts_anon 8883 scan_mqtt_anon "f['code']=='Connection Accepted' and $CERT"
expect msrpc 135 scan_msrpc "f['packet_type']=='bind_ack' and f['packet_type_value']==12 and f['version']==5.0 and f['max_transmit']>=1024 and f['data_representation']=='10000000' and f['raw_response'].startswith('05000c')"
expect cldap 389 scan_ldap_udp "f['default_naming_context']=='DC=vantage,DC=test' and f['dns_host_name']=='vdc.vantage.test' and f['response_size']>1000 and f['amplification']>20 and f['is_synchronized'] is True"
expect sip_udp 5060 scan_sip "f['sip_code']=='200' and f['server']=='kamailio (vantage test)' and 'received=198.18.47.1' in f['sip_via'] and f['protocol']=='udp' and f['response_size']>200"

# Scripted (no Debian package).
expect afp 548 scan_afp "f['machine_type']=='Xserve' and f['afp_versions'].startswith('AFP3.4|') and f['utf8_servername']=='Vantage Mac' and f['network_address']=='192.0.2.48:548|vantage-mac.local'"
expect adb 5555 scan_adb "f['model']=='sdk_gphone64_x86_64' and f['device']=='emu64xa' and 'shell_v2' in f['features']"
expect cisco_smart_install 4786 scan_cisco_smart_install "f['tag']=='cisco-smart-install'"
expect radmin 4899 scan_radmin "f['version']=='3.x'"
expect cwmp 7547 scan_cwmp "f['http_code']==401 and f['www_authenticate'].startswith('Digest') and f['server']=='gSOAP/2.7'"
expect hadoop 50070 scan_hadoop "f['server_type']=='namenode' and f['version']=='3.3.6' and f['total_disk']==1000*2**30 and f['namenodeaddress']=='vnn.vantage.test:8020'"
expect hadoop 50075 scan_hadoop "f['server_type']=='datanode' and f['namenodeaddress']=='vnn.vantage.test'"
# scan_smtp_vulnerable is filled by the Exim checks of conf/checks (vulnerability checks are
# data, docs/checks.md), here against the scripted Exim 4.92.1 (Debian 12 ships 4.96).
ip netns exec "$S" "$V" probe --allow-reserved 198.18.47.0/24 --checks "$SRC/conf/checks" \
  --read-timeout-ms 2000 --events "$T/exim.jsonl" "$TA:25" 2>"$T/exim.err"
if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/exim.jsonl')]; v=[x['fields'] for x in e if x['type']=='scan_smtp_vulnerable']; sys.exit(0 if sorted(f['tag'] for f in v)==['cve-2019-15846','cve-2019-16928','cve-2020-28017','cve-2023-42115'] and all(f['banner'].startswith('220 vmx.vantage.test ESMTP Exim 4.92.1') for f in v) else 1)"; then
  ok "checks on Exim 4.92.1 (scan_smtp_vulnerable)"
else bad "checks on Exim: $(grep -h smtp_vulnerable "$T/exim.jsonl" | head -c 1500) $(tail -3 "$T/exim.err")"; fi
expect exchange 443 scan_exchange "f['version']=='15.1.2507' and f['servername']=='VEXCH01'"
expect db2 523 scan_db2 "f['db2_hostname']=='VDB2HOST' and f['servername']=='SQL11058' and f['amplification']>10"
expect ard 3283 scan_ard "f['machine_name']=='Vantage iMac' and f['amplification']>100"
expect rdpeudp 3389 scan_rdpeudp "f['sessionid']=='1c2a3b4d' and f['response_size']==1232"
expect netis 53413 scan_netis_router "f['response']=='Login:'"

# A broker that refuses anonymous clients is no scan_mqtt_anon event (scan_mqtt reports it).
probe mqtt_anon $TA:1884
[[ ! -s $T/mqtt_anon.jsonl ]] && ok "mqtt_anon: no event from a broker without anonymous access" \
  || bad "mqtt_anon on 1884: $(cat "$T/mqtt_anon.jsonl")"

# The fingerprint matrix: every module against every other server of its transport, all the
# modules of one server in one `vantage probe` run. An event is a false positive.
TCP_SERVERS="rsync:873 epmd:4369 activemq:61616 bgp:179 socks:1080 mqtt_anon:1883 mqtts_anon:8883
msrpc:135 exim:25 afp:548 adb:5555 cisco_smart_install:4786 radmin:4899 cwmp:7547 hadoop:50070 exchange:443
nginx:80"
UDP_SERVERS="cldap:389 sip_udp:5060 db2:523 ard:3283 rdpeudp:3389 netis:53413"
matrix() {  # "owner:port ..." -> checks every other module of the list against each port
  local servers=$1 s owner port m args fp=0
  for s in $servers; do
    owner=${s%:*} port=${s#*:} args=()
    for m in $servers; do
      m=${m%:*}
      [[ $m == "$owner" || $m == nginx || $m == exim ]] && continue  # no module of their own
      # mqtt_anon/mqtts_anon are one protocol (in the clear and over TLS) and hadoop has two ports.
      [[ "$owner/$m" == mqtt_anon/mqtts_anon || "$owner/$m" == mqtts_anon/mqtt_anon ]] && continue
      args+=(--module "$m")
    done
    ip netns exec "$S" "$V" probe --allow-reserved 198.18.47.0/24 "${args[@]}" --read-timeout-ms 1500 \
      --events "$T/matrix.jsonl" "$TA:$port" 2>"$T/matrix.err"
    if [[ -s $T/matrix.jsonl ]]; then
      bad "false positive on the $owner server: $(head -c 600 "$T/matrix.jsonl")"
      fp=$((fp + 1))
    fi
  done
  ((fp == 0)) && ok "fingerprint matrix ($2): no module claims another's server"
}
matrix "$TCP_SERVERS" tcp
matrix "$UDP_SERVERS" udp

((fails > 0)) && { echo "--- server log (tail)"; tail -30 "$T/services.log"; tail -5 "$T/dc/provision.log" 2>/dev/null; }
echo "probes_more_e2e: $fails failure(s)"
exit $((fails > 0))
