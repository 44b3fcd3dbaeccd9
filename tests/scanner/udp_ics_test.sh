#!/usr/bin/env bash
# UDP and ICS probe modules end to end against real servers from Debian packages, each started
# here inside a network namespace this test creates (target namespace vt<pid>, addresses
# 198.18.41.2 and 2001:db8:41::2, joined by a veth pair to the scanner namespace vs<pid> at
# 198.18.41.1 / 2001:db8:41::1). Nothing leaves the two namespaces; both are deleted on exit.
# Packages come from scripts/install-deps.sh (test list); a server that is not installed is
# reported as "skip" and its module is left to the unit tests.
#
# Real servers: openbsd-inetd (chargen, internal service), tftpd-hpa, rpcbind, samba's nmbd,
# avahi-daemon, strongSwan's charon (IKEv1), coturn, libcoap3's coap-server, OpenIPMI's
# ipmi_sim, xdm (XDMCP), ngtcp2's gtlsserver (QUIC), pymodbus' Modbus/TCP server.
# usage: udp_ics_test.sh path/to/vantage
set -u
V=$(readlink -f "$1")
source "$(dirname "$0")/netns_bed.sh"
bed_up vs$$ vt$$ "198.18.41.1/24 2001:db8:41::1/64" "198.18.41.2/24 2001:db8:41::2/64"
TA=198.18.41.2 TA6=2001:db8:41::2

# --- the servers, in the target namespace (own mount namespace: a tmpfs /run for pid files)
mkdir -p "$T/tftp" "$T/samba" "$T/avahi-services" "$T/ipmi" "$T/xdm"
printf 'chargen dgram udp wait root internal\n' >"$T/inetd.conf"
cat >"$T/smb.conf" <<EOF
[global]
workgroup = VANTAGETEST
netbios name = VTARGET
interfaces = vt0
bind interfaces only = yes
lock directory = $T/samba
state directory = $T/samba
cache directory = $T/samba
pid directory = $T/samba
private dir = $T/samba
ncalrpc dir = $T/samba/ncalrpc
log file = $T/samba/log.%m
EOF
cat >"$T/avahi.conf" <<EOF
[server]
host-name=vtarget
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=vt0
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=yes
publish-addresses=yes
EOF
cat >"$T/avahi-services/http.service" <<'EOF'
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>Vantage Test Printer</name>
  <service><type>_http._tcp</type><port>8080</port><txt-record>path=/status</txt-record></service>
</service-group>
EOF
cat >"$T/strongswan.conf" <<'EOF'
charon {
  port = 500
  port_nat_t = 4500
  install_routes = no
  load_modular = yes
  plugins {
    include /etc/strongswan.d/charon/*.conf
  }
}
EOF
cat >"$T/ipmi/lan.conf" <<EOF
name "vantage"
set_working_mc 0x20
  startlan 1
    addr $TA 623
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  user 1 true  ""        "test" user     10       none md2 md5 straight
  user 2 true  "ipmiusr" "test" admin    10       none md2 md5 straight
EOF
printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n' >"$T/ipmi/emu"
: >"$T/xdm/Xservers"
printf '*\n' >"$T/xdm/Xaccess"
cat >"$T/xdm/xdm-config" <<EOF
DisplayManager.servers: $T/xdm/Xservers
DisplayManager.requestPort: 177
DisplayManager.accessFile: $T/xdm/Xaccess
DisplayManager.pidFile: $T/xdm/xdm.pid
DisplayManager.errorLogFile: $T/xdm/xdm.log
DisplayManager.authDir: $T/xdm
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/quic.key" \
  -out "$T/quic.crt" -days 2 -subj /CN=quic.vantage.test 2>/dev/null
cat >"$T/modbus.py" <<EOF
from pymodbus.server import StartTcpServer
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.datastore import ModbusSlaveContext, ModbusServerContext
identity = ModbusDeviceIdentification(info_name={
    "VendorName": "Vantage Test", "ProductCode": "VT-PLC", "VendorUrl": "http://vantage.test/",
    "ProductName": "Vantage PLC", "ModelName": "VT-1000", "MajorMinorRevision": "3.0.0"})
StartTcpServer(context=ModbusServerContext(slaves=ModbusSlaveContext(), single=True),
               identity=identity, address=("$TA", 502))
EOF

# Each server is started only if installed; its pid goes to $T/pids (killed on exit).
cat >"$T/services.sh" <<EOF
mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind /run/avahi-daemon /run/samba
have() { command -v "\$1" >/dev/null || [[ -x "\$1" ]]; }
start() { "\$@" >>"$T/services.log" 2>&1 & echo \$! >>"$T/pids"; }
have inetd && start inetd -d "$T/inetd.conf"
have in.tftpd && start in.tftpd -L -a $TA:69 -s -u root "$T/tftp"
have rpcbind && start rpcbind -f -w
have nmbd && start nmbd -F --no-process-group --configfile="$T/smb.conf"
if have avahi-daemon; then
  mount --bind "$T/avahi-services" /etc/avahi/services
  start avahi-daemon -f "$T/avahi.conf" --no-drop-root --no-chroot --no-rlimits
fi
have /usr/lib/ipsec/charon && STRONGSWAN_CONF="$T/strongswan.conf" start /usr/lib/ipsec/charon
have turnserver && start turnserver -n --listening-ip $TA --listening-ip $TA6 --listening-port 3478 \
  --no-tls --no-dtls --stun-only --no-cli --log-file stdout --pidfile "$T/turn.pid"
have coap-server-openssl && start coap-server-openssl -A $TA -p 5683
have ipmi_sim && start ipmi_sim -c "$T/ipmi/lan.conf" -f "$T/ipmi/emu" -s "$T/ipmi" -n
have xdm && start xdm -nodaemon -config "$T/xdm/xdm-config"
have /usr/sbin/gtlsserver && start /usr/sbin/gtlsserver -q $TA 443 "$T/quic.key" "$T/quic.crt"
/usr/bin/python3 -c "import pymodbus.server" 2>/dev/null && start /usr/bin/python3 "$T/modbus.py"
touch "$T/started"
exec sleep 170  # the pid the test kills
EOF
ip netns exec "$N" unshare -m --propagation private bash "$T/services.sh" & BED_PIDS+=($!)
for i in $(seq 100); do [[ -e $T/started ]] && break; sleep 0.1; done
# Wait until each installed server is bound (UDP or TCP) in the target namespace.
for p in 19 69 111 137 177 443 500 502 623 3478 5353 5683; do
  for i in $(seq 50); do ip netns exec "$N" ss -Hlnu "sport = :$p" | grep -q . && break
    ip netns exec "$N" ss -Hlnt "sport = :$p" | grep -q . && break; sleep 0.1; done
done
sleep 2  # avahi probes its host name and nmbd registers its names before answering

probe() {  # module host:port -> $T/<module>.jsonl
  ip netns exec "$S" "$V" probe --allow-reserved 198.18.41.0/24 --allow-reserved 2001:db8:41::/64 \
    --module "$1" --read-timeout-ms 3000 --events "$T/$1.jsonl" "$2" 2>"$T/$1.err"
}
expect() {  # installed? module host:port python-condition-on-e-and-f
  local have=$1 m=$2 target=$3 check=$4
  if ! $have; then skip "$m: server not installed"; return; fi
  probe "$m" "$target"
  if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/$m.jsonl')]; f=e[0]['fields']; sys.exit(0 if len(e)==1 and ($check) else 1)" 2>/dev/null; then
    ok "$m against the real server"
  else bad "$m: $(cat "$T/$m.jsonl" "$T/$m.err" 2>/dev/null | head -c 1500)"; fi
}
has() { command -v "$1" >/dev/null || [[ -x "$1" ]]; }
B() { has "$1" && echo true || echo false; }

expect "$(B inetd)" chargen $TA:19 "e[0]['type']=='scan_chargen' and f['response_size']>=72 and f['amplification']>=72"
expect "$(B in.tftpd)" tftp $TA:69 "e[0]['type']=='scan_tftp' and f['opcode']==5 and f['errorcode']==1 and f['error']=='File not found' and f['errormessage']"
expect "$(B rpcbind)" portmapper $TA:111 "e[0]['type']=='scan_portmapper' and '100000/2/udp/111 portmapper' in f['programs'] and f['amplification']>1"
expect "$(B nmbd)" netbios $TA:137 "e[0]['type']=='scan_netbios' and f['machine_name']=='VTARGET' and f['workgroup']=='VANTAGETEST' and len(f['mac_address'])==17"
expect "$(B avahi-daemon)" mdns $TA:5353 "e[0]['type']=='scan_mdns' and '_http._tcp.local' in f['services'] and f['http_name']=='Vantage Test Printer' and f['http_port']==8080 and f['http_info']=='path=/status' and f['http_ipv4']=='$TA' and f['workstation_name'].startswith('vtarget') and f['workstation_ipv4']=='$TA' and f['mdns_name']=='vtarget.local'"
expect "$(B /usr/lib/ipsec/charon)" isakmp $TA:500 "e[0]['type']=='scan_isakmp' and f['initiator_spi']=='56414e5441474531' and f['exchange_type']==5 and f['notify_message_type']==14 and f['domain_of_interpretation']==1"
expect "$(B turnserver)" stun $TA:3478 "e[0]['type']=='scan_stun' and f['xor_mapped_address']=='198.18.41.1' and f['mapped_address']=='198.18.41.1' and f['software'].startswith('Coturn') and len(f['fingerprint'])==8"
expect "$(B turnserver)" stun "[$TA6]:3478" "e[0]['type']=='scan6_stun' and f['ip']=='$TA6' and f['xor_mapped_address']=='2001:db8:41::1' and f['xor_mapped_family']==2"
expect "$(B coap-server-openssl)" coap $TA:5683 "e[0]['type']=='scan_coap' and f['version']==1 and '</time>' in f['response']"
expect "$(B ipmi_sim)" ipmi $TA:623 "e[0]['type']=='scan_ipmi' and f['ipmi_version']=='2.0' and f['md5_auth'] is True and f['none_auth'] is True and f['nulluser'] is True and f['usernames'] is True"
expect "$(B xdm)" xdmcp $TA:177 "e[0]['type']=='scan_xdmcp' and f['opcode']=='Willing' and f['reported_hostname']"
expect "$(B /usr/sbin/gtlsserver)" quic $TA:443 "e[0]['type']=='scan_quic' and '00000001' in [f.get('version_field_%d' % i) for i in range(1, 5)]"
if /usr/bin/python3 -c "import pymodbus.server" 2>/dev/null; then pym=true; else pym=false; fi
expect $pym modbus $TA:502 "e[0]['type']=='scan_ics' and f['tag']=='modbus' and f['device_vendor']=='Vantage Test' and f['device_id']=='VT-PLC' and f['device_version']=='3.0.0' and f['device_model']=='VT-1000' and f['device_type']=='Vantage PLC'"

# `vantage scan --connect` (no raw sockets): every address of a /29 probed, one answers.
if has inetd; then
  ip netns exec "$S" "$V" scan --connect --allow-reserved 198.18.41.0/24 --module chargen --port 19 \
    --read-timeout-ms 1000 --events "$T/connect.jsonl" 198.18.41.0/29 2>"$T/connect.err"
  if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/connect.jsonl')]; sys.exit(0 if [x['fields']['ip'] for x in e]==['$TA'] else 1)" \
    && grep -q "probe: 8 jobs, 1 events" "$T/connect.err"; then ok "scan --connect: 8 addresses probed, the one chargen server reported"
  else bad "scan --connect: $(cat "$T/connect.jsonl" 2>/dev/null) $(tail -3 "$T/connect.err")"; fi
fi
# A port with nothing behind it: no event (ICMP port unreachable).
probe chargen $TA:7
[[ ! -s "$T/chargen.jsonl" ]] && ok "closed UDP port: no event" || bad "closed port gave an event"
# The blocklist guards these modules too: without --allow-reserved the range is refused.
ip netns exec "$S" "$V" probe --module chargen $TA:19 >/dev/null 2>&1 && bad "blocklist ignored" \
  || ok "blocklist refuses the test range unless lifted"

((fails > 0)) && { echo "--- server log (tail)"; tail -40 "$T/services.log"; }
echo "udp_ics_test: $fails failure(s)"
exit $((fails > 0))
