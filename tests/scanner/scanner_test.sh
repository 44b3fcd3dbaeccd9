#!/usr/bin/env bash
# Scanner end to end against real local services on 127.0.0.1 high ports (started here,
# stopped on exit) and loopback listeners for the SYN discovery scan. Installs nothing:
# packages come from scripts/install-deps.sh (test_pkgs). Traffic stays on 127.0.0.0/8.
# usage: scanner_test.sh path/to/vantage source_dir
set -u
V=$1
SRC=$2
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

# Safety: refuses without targets; blocklist applies unless lifted for exactly the range.
"$V" scan --dry-run >/dev/null 2>&1 && bad "scan without targets accepted" || ok "no targets refused"
"$V" scan --dry-run -q 127.0.0.1 >/dev/null 2>&1 && bad "reserved target scanned" || ok "blocklist applies"
n=$("$V" scan --dry-run -q --allow-reserved 127.0.0.0/30 --port 80,443 127.0.0.0/29 | sort -u | wc -l)
[[ $n == 8 ]] && ok "allow-reserved lifts exactly its range (8 probes)" || bad "dry-run probes: $n"
a=$("$V" scan --dry-run -q --allow-reserved 127.0.0.0/8 --seed 5 --shard 0/2 127.1.0.0/20 | sort)
b=$("$V" scan --dry-run -q --allow-reserved 127.0.0.0/8 --seed 5 --shard 1/2 127.1.0.0/20 | sort)
[[ $(printf '%s\n%s\n' "$a" "$b" | sort -u | wc -l) == 4096 && $(comm -12 <(echo "$a") <(echo "$b") | wc -l) == 0 ]] \
  && ok "CLI shards disjoint and complete" || bad "CLI shards"

# Scripted responders (python3 stdlib): HTTP with a vulnerable-looking page, FTP, SMTP, telnet.
cat > "$T/resp.py" <<'PY'
import socket, sys, threading, time
port, kind = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64); s.settimeout(1)
end = time.time() + 120
def serve(c):
    try:
        c.settimeout(3)
        if kind == "http":
            req = c.recv(4096).decode(errors="replace")
            path = req.split(" ")[1] if " " in req else "/"
            body = b"Active connections: 1 \nReading: 0 Writing: 1 Waiting: 0 \n" if path == "/nginx_status" else b"<html>hi</html>"
            code = b"200 OK" if path in ("/", "/nginx_status") else b"404 Not Found"
            c.sendall(b"HTTP/1.1 " + code + b"\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        elif kind == "ftp": c.sendall(b"220-Welcome\r\n220 (vsFTPd 3.0.3)\r\n"); time.sleep(0.5)
        elif kind == "smtp": c.sendall(b"220 mx.test ESMTP Postfix (Debian/GNU)\r\n"); time.sleep(0.5)
        elif kind == "telnet": c.sendall(b"\xff\xfd\x18\xff\xfb\x01Debian GNU/Linux 12\r\nlogin: "); time.sleep(0.5)
        elif kind == "mysql":  # MariaDB 10.11 greeting, protocol 10 (capabilities 0xf7fe/0x81ff)
            p = (b"\x0a5.5.5-10.11.6-MariaDB-0+deb12u1\x00\x05\x00\x00\x00abcdefgh\x00\xfe\xf7\x2d\x02\x00\xff\x81"
                 b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00mysql_native_password\x00")
            c.sendall(bytes([len(p), 0, 0, 0]) + p); time.sleep(0.5)
        elif kind == "postgres":  # SSLRequest -> 'N'; startup 0.0 -> FATAL 0A000 (as postmaster.c)
            if c.recv(8) != b"\x00\x00\x00\x08\x04\xd2\x16\x2f": return
            c.sendall(b"N")
            c.recv(8)
            f = b"".join(k + v + b"\x00" for k, v in ((b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", b"0A000"),
                (b"M", b"unsupported frontend protocol 0.0: server supports 3.0 to 3.0"),
                (b"F", b"postmaster.c"), (b"L", b"2188"), (b"R", b"ProcessStartupPacket"))) + b"\x00"
            c.sendall(b"E" + (len(f) + 4).to_bytes(4, "big") + f)
        elif kind == "elasticsearch":
            c.recv(4096)
            body = (b'{"name":"node-1","cluster_name":"vantage-test","cluster_uuid":"x","version":{"number":"7.17.9",'
                    b'"build_hash":"ef48222227ee6b9e70e502f0f0daa52435ee634d","build_date":"2023-01-31T05:34:43Z",'
                    b'"build_snapshot":false,"lucene_version":"8.11.1"},"tagline":"You Know, for Search"}')
            c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    finally: c.close()
while time.time() < end:
    try: c, _ = s.accept()
    except socket.timeout: continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# UDP responders on 127.0.0.1: a DNS server that offers recursion (NXDOMAIN + RA for the
# probe's .invalid name, a version.bind TXT), an old ntpd (mode 6 readvar in two fragments,
# mode 4, mode 7 monlist in three datagrams) and an SSDP device.
cat > "$T/udp_resp.py" <<'PY'
import socket, struct, sys, time, select
base = int(sys.argv[1])
addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
socks = {}
for off, kind in ((0, "dns"), (1, "ntp"), (2, "ssdp")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, base + off)); socks[s] = kind
VARS = (b'version="ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:51 UTC 2016 (1)", processor="x86_64", '
        b'system="Linux/3.10.0", leap=0, stratum=2, precision=-23, rootdelay=14.123, rootdisp=31.5, '
        b'refid=192.0.2.1, reftime=0xe3b0c442.1a2b3c4d, offset=-0.250, frequency=12.345, sys_jitter=0.5')
def dns(q):
    qid, flags = q[:2], q[2:4]
    qd = q[12:]
    if b"\x07version\x04bind" in q:
        txt = b"9.18.28-test"
        ans = b"\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00" + struct.pack(">H", len(txt) + 1) + bytes([len(txt)]) + txt
        return [qid + b"\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00" + qd + ans]
    return [qid + b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00" + qd]
def ntp(q):
    mode = q[0] & 7
    if mode == 6:
        half = len(VARS) // 2
        out = []
        for off, chunk, more in ((0, VARS[:half], 0x20), (half, VARS[half:], 0)):
            out.append(bytes([0x16, 0x82 | more]) + q[2:4] + b"\x06\x15\x00\x00" + struct.pack(">HH", off, len(chunk)) + chunk)
        return out
    if mode == 3:
        return [bytes([0x24, 2, 6, 0xe9]) + b"\x00" * 8 + bytes([192, 0, 2, 1]) + b"\x00" * 32]
    if mode == 7 and len(q) >= 4 and q[3] == 42:
        out = []
        for i in range(3):
            more = 0x40 if i < 2 else 0
            out.append(bytes([0x80 | more | 0x17, i, 3, 42]) + struct.pack(">HH", 6, 72) + b"\x01" * (6 * 72))
        return out
    return []
def ssdp(q):
    if not q.startswith(b"M-SEARCH"): return []
    return [b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://127.0.0.1:5000/rootDesc.xml\r\n"
            b"SERVER: Linux/5.10 UPnP/1.0 miniupnpd/2.2\r\nST: upnp:rootdevice\r\nUSN: uuid:vantage-test::upnp:rootdevice\r\n\r\n"]
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select(list(socks), [], [], 1)
    for s in r:
        q, peer = s.recvfrom(4096)
        for d in {"dns": dns, "ntp": ntp, "ssdp": ssdp}[socks[s]](q):
            s.sendto(d, peer)
PY
base=$((20000 + RANDOM % 20000))
HTTP=$base FTP=$((base+1)) SMTP=$((base+2)) TEL=$((base+3)) REDIS=$((base+4)) MC=$((base+5)) SSH=$((base+6))
for kv in "$HTTP http" "$FTP ftp" "$SMTP smtp" "$TEL telnet"; do
  python3 "$T/resp.py" $kv & pids+=($!)
done
if command -v redis-server >/dev/null; then redis-server --port $REDIS --bind 127.0.0.1 --save '' --daemonize no >/dev/null & pids+=($!); fi
if command -v memcached >/dev/null; then memcached -l 127.0.0.1 -p $MC -U 0 -u root >/dev/null 2>&1 & pids+=($!); fi
if [[ -x /usr/sbin/sshd ]]; then
  mkdir -p /run/sshd  # sshd's privilege-separation directory (Debian creates it at boot)
  ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
  printf 'HostKey %s\nListenAddress 127.0.0.1\nPidFile %s\nUsePAM no\n' "$T/hostkey" "$T/sshd.pid" > "$T/sshd_config"
  /usr/sbin/sshd -D -f "$T/sshd_config" -p $SSH & pids+=($!)
fi
# TLS: openssl s_server with a self-signed certificate made here.
TLS=$((base+7)) MQTT=$((base+8)) MQTTAUTH=$((base+9)) MYSQL=$((base+10)) PG=$((base+11)) ES=$((base+12))
UDPB=$((base+13))  # UDP: dns, ntp, ssdp responders on UDPB, UDPB+1, UDPB+2; snmpd on UDPB+3
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 30 \
  -subj "/C=NL/O=Vantage Test/CN=tls.vantage.test" 2>/dev/null
openssl s_server -quiet -accept 127.0.0.1:$TLS -cert "$T/tls.crt" -key "$T/tls.key" -naccept 5 \
  </dev/null >/dev/null 2>&1 & pids+=($!)
if command -v mosquitto >/dev/null; then
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' $MQTT > "$T/mq1.conf"
  printf 'listener %s 127.0.0.1\nallow_anonymous false\npersistence false\n' $MQTTAUTH > "$T/mq2.conf"
  mosquitto -c "$T/mq1.conf" >/dev/null 2>&1 & pids+=($!)
  mosquitto -c "$T/mq2.conf" >/dev/null 2>&1 & pids+=($!)
fi
for kv in "$MYSQL mysql" "$PG postgres" "$ES elasticsearch"; do
  python3 "$T/resp.py" $kv & pids+=($!)
done
python3 "$T/udp_resp.py" $UDPB & pids+=($!)
if command -v snmpd >/dev/null; then
  printf 'agentaddress udp:127.0.0.1:%s\nrocommunity public 127.0.0.1\nsysName vantage-test\nsysDescr Vantage test agent\n' $((UDPB+3)) > "$T/snmpd.conf"
  SNMP_PERSISTENT_DIR="$T" snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid" >/dev/null 2>&1 & pids+=($!)
fi
for port in $HTTP $FTP $SMTP $TEL $REDIS $MC $SSH $TLS $MQTT $MQTTAUTH $MYSQL $PG $ES; do
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
for port in $UDPB $((UDPB+1)) $((UDPB+2)) $((UDPB+3)); do  # UDP: wait until bound
  for i in $(seq 50); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.1; done
done

probe() {  # module port -> events file
  "$V" probe --allow-reserved 127.0.0.0/8 --module "$1" --events "$T/$1.jsonl" 127.0.0.1:$2 2>"$T/$1.err"
}
expect() {  # module port jq-ish python check
  local m=$1 p=$2 check=$3
  probe "$m" "$p"
  if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/$m.jsonl')]; f=e[0]['fields']; sys.exit(0 if len(e)==1 and ($check) else 1)" 2>/dev/null; then
    ok "probe $m"
  else bad "probe $m: $(cat "$T/$m.jsonl" "$T/$m.err")"; fi
}
expect http $HTTP "e[0]['type']=='scan_http' and f['http_code']==200 and f['server']=='nginx/1.22.1' and f['port']==$HTTP"
expect ftp $FTP "e[0]['type']=='scan_ftp' and 'vsFTPd' in f['banner']"
expect smtp $SMTP "e[0]['type']=='scan_smtp' and f['banner'].startswith('220 mx.test')"
expect telnet $TEL "e[0]['type']=='scan_telnet' and f['banner'].endswith('login: ')"
if command -v redis-server >/dev/null; then expect redis $REDIS "e[0]['type']=='scan_redis' and f['version'][0].isdigit() and f['mode']=='standalone'"; else echo "skip - redis-server not installed"; fi
if command -v memcached >/dev/null; then expect memcached $MC "e[0]['type']=='scan_memcached' and f['version'][0].isdigit()"; else echo "skip - memcached not installed"; fi
if [[ -x /usr/sbin/sshd ]]; then
  # The host key fingerprint must be the SHA-256 of the key blob in hostkey.pub (what
  # `ssh-keygen -l` prints, in hex), reached through a real curve25519 key exchange.
  fp=$(python3 -c "import base64,hashlib,sys; print(hashlib.sha256(base64.b64decode(open('$T/hostkey.pub').read().split()[1])).hexdigest())")
  expect ssh $SSH "e[0]['type']=='scan_ssh' and f['serverid_software'].startswith('OpenSSH') and 'curve25519' in f['available_kex'] and f['server_host_key_sha256']=='$fp' and f['algorithm']=='ssh-ed25519' and f['selected_kex'].startswith('curve25519') and len(f['hassh'])==32"
else echo "skip - sshd not installed"; fi
tls_fp=$(openssl x509 -in "$T/tls.crt" -noout -fingerprint -sha256 | cut -d= -f2)
expect ssl $TLS "e[0]['type']=='scan_ssl' and f['subject_common_name']=='tls.vantage.test' and f['issuer_organization_name']=='Vantage Test' and f['sha256_fingerprint']=='$tls_fp' and f['self_signed'] is True and f['cert_expired'] is False and f['key_algorithm']=='rsaEncryption' and f['cert_length']==2048 and f['handshake'].startswith('TLSv1.') and f['cipher_suite'].startswith('TLS_')"
expect mysql $MYSQL "e[0]['type']=='scan_mysql' and f['server_version']=='5.5.5-10.11.6-MariaDB-0+deb12u1' and f['client_protocol_41'] is True and f['client_ssl'] is False"
expect postgres $PG "e[0]['type']=='scan_postgres' and f['client_ssl'] is False and f['protocol_error_code']=='0A000' and f['supported_protocols']=='3.0 to 3.0'"
expect elasticsearch $ES "e[0]['type']=='scan_elasticsearch' and f['version']=='7.17.9' and f['cluster_name']=='vantage-test' and f['build_snapshot'] is False"
if command -v mosquitto >/dev/null; then
  expect mqtt $MQTT "e[0]['type']=='scan_mqtt' and f['anonymous_access'] is True and f['hex_code']=='00'"
  probe mqtt $MQTTAUTH
  python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/mqtt.jsonl')]; sys.exit(0 if len(e)==1 and e[0]['fields']['anonymous_access'] is False and e[0]['fields']['hex_code']=='05' else 1)" \
    && ok "probe mqtt (broker requiring credentials)" || bad "mqtt auth: $(cat "$T/mqtt.jsonl" "$T/mqtt.err")"
else echo "skip - mosquitto not installed"; fi
expect dns $UDPB "e[0]['type']=='scan_dns' and f['protocol']=='udp' and f['dns_version']=='9.18.28-test' and f['min_amplification']>0"
expect ntp $((UDPB+1)) "e[0]['type']=='scan_ntp' and f['version'].startswith('ntpd 4.2.6p5') and f['stratum']==2 and f['poll']==6 and f['rootdispersion']==31.5 and f['response_size']>48"
expect ntpmonitor $((UDPB+1)) "e[0]['type']=='scan_ntpmonitor' and f['packets']==3 and f['response_size']==3*440 and f['amplification']>20"
expect ssdp $((UDPB+2)) "e[0]['type']=='scan_ssdp' and f['server'].endswith('miniupnpd/2.2') and f['search_target']=='upnp:rootdevice'"
if command -v snmpd >/dev/null; then
  expect snmp $((UDPB+3)) "e[0]['type']=='scan_snmp' and f['sysdesc']=='Vantage test agent' and f['sysname']=='vantage-test' and f['version']=='2c' and f['uptime']>=0"
else echo "skip - snmpd not installed"; fi
# A UDP port with nothing behind it: ICMP port unreachable, no event, reported as refused.
probe dns $((UDPB+9))
[[ ! -s "$T/dns.jsonl" ]] && grep -q "connection-refused" "$T/dns.err" && ok "closed UDP port: no event" \
  || bad "closed UDP port: $(cat "$T/dns.jsonl" "$T/dns.err")"
# Template check against the responder: matches /nginx_status, not /.git/config.
"$V" probe --allow-reserved 127.0.0.0/8 --checks "$SRC/conf/checks" \
  --events "$T/checks.jsonl" 127.0.0.1:$HTTP 2>"$T/checks.err"
python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/checks.jsonl')]; sys.exit(0 if len(e)==1 and e[0]['type']=='scan_http_vulnerable' and e[0]['fields']['tag']=='nginx-status-exposed' and e[0]['fields']['severity']=='low' else 1)" \
  && ok "template checks" || bad "template checks: $(cat "$T/checks.jsonl")"
# Blocklist also guards `vantage probe`.
"$V" probe --module http 127.0.0.1:$HTTP >/dev/null 2>&1 && bad "probe ignored blocklist" || ok "probe honours blocklist"

# SYN discovery on lo, inside a private network namespace (unshare -n) so nothing leaves it
# and the sysctls below stay local: frames injected on lo with a loopback source are martians
# unless route_localnet and accept_local are set. Needs root / CAP_NET_RAW + CAP_SYS_ADMIN.
if [[ $(id -u) != 0 ]] || ! command -v unshare >/dev/null; then
  echo "skip - SYN discovery test needs root (CAP_NET_RAW) and unshare"
else
  cat > "$T/syn.sh" <<SH
set -e
ip link set lo up
for k in route_localnet accept_local; do sysctl -qw net.ipv4.conf.lo.\$k=1 net.ipv4.conf.all.\$k=1; done
python3 -c "
import socket,time
ss=[]
for a,p in (('127.0.0.1',31001),('127.0.0.9',31002),('127.0.0.14',31001)):
  s=socket.socket(); s.bind((a,p)); s.listen(64); ss.append(s)
open('$T/ready','w').close()
time.sleep(15)" &
for i in \$(seq 50); do [[ -e $T/ready ]] && break; sleep 0.1; done
"$V" scan -q --allow-reserved 127.0.0.0/8 --iface lo --src-ip 127.0.0.1 --port 31001,31002,31003 \
  --cooldown 1 --no-probes --out $T/hits.txt 127.0.0.0/28 2>$T/scan.err
"$V" scan -q --allow-reserved 127.0.0.0/8 --iface lo --src-ip 127.0.0.1 --port 31001 --cooldown 1 \
  --module http --connect-timeout-ms 500 --read-timeout-ms 500 --events $T/scan.jsonl 127.0.0.0/28 2>>$T/scan.err || true
# UDP discovery (raw DNS payload) then the UDP dns probe on the hit: a resolver on 127.0.0.5:53.
python3 $T/udp_resp.py 53 127.0.0.5 &
for i in \$(seq 50); do ss -Hlun 'sport = :53' | grep -q 127.0.0.5 && break; sleep 0.1; done
"$V" scan -q --allow-reserved 127.0.0.0/8 --iface lo --src-ip 127.0.0.1 --udp dns --port 53 \
  --cooldown 1 --read-timeout-ms 1000 --out $T/udp_hits.txt --events $T/udp.jsonl 127.0.0.0/28 2>$T/udp.err || true
kill %1 %2
SH
  unshare -n bash "$T/syn.sh"
  want=$(printf '127.0.0.1,31001\n127.0.0.14,31001\n127.0.0.9,31002')
  if [[ "$(sort "$T/hits.txt")" == "$want" ]]; then ok "SYN discovery on lo finds exactly the listeners (3 of 48)"
  else bad "SYN discovery: got [$(cat "$T/hits.txt")] want [$want] $(cat "$T/scan.err")"; fi
  # Discovery then probes: the two listeners on 31001 were found and handed to the http module
  # (they accept and never answer, so no event, but two jobs ran).
  grep -q "probe: 2 jobs" "$T/scan.err" && ok "scan hands hits to probes" || bad "scan then probe: $(cat "$T/scan.err")"
  if [[ "$(cat "$T/udp_hits.txt" 2>/dev/null)" == "127.0.0.5" ]] && python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/udp.jsonl')]; sys.exit(0 if len(e)==1 and e[0]['type']=='scan_dns' and e[0]['fields']['ip']=='127.0.0.5' and e[0]['fields']['protocol']=='udp' else 1)" 2>/dev/null; then
    ok "UDP discovery finds the resolver (1 of 16) and the dns probe reports it"
  else bad "UDP scan: hits [$(cat "$T/udp_hits.txt" 2>/dev/null)] events [$(cat "$T/udp.jsonl" 2>/dev/null)] $(cat "$T/udp.err")"; fi
fi
echo "scanner_test: $fails failure(s)"
exit $((fails > 0))
