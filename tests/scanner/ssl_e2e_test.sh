#!/usr/bin/env bash
# scan_ssl end to end against real `openssl s_server` on 127.0.0.1 with certificates made here:
# a private CA (trusted through --ca-file, unknown to the system store), leaves with and
# without CA/Browser Forum policy OIDs, one chosen by SNI; an untrusted self-signed server;
# target given as NAME@ADDRESS:PORT (SNI without DNS) and as localhost:PORT (resolved). Checks
# cert_valid, browser_trusted, browser_error, validation_level, SNI and JARM (the fingerprint
# of OpenSSL's default server is the one published for Metasploit, whose listener is OpenSSL).
# Traffic stays on 127.0.0.0/8. usage: ssl_e2e_test.sh path/to/vantage
set -u
V=$1
source "$(dirname "$0")/e2e_lib.sh"
cd "$T"

# A private CA and two leaves: tls.vantage.test (OV policy, an organisation) and
# default.vantage.test (DV policy), both for server authentication.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/O=Vantage Test CA/CN=Vantage Test Root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() {  # name subject policy
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\ncertificatePolicies=%s\n' "$1" "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 30 -extfile "$1.ext" 2>/dev/null
}
leaf tls.vantage.test "/O=Vantage Test Org/CN=tls.vantage.test" 2.23.140.1.2.2
leaf default.vantage.test "/CN=default.vantage.test" 2.23.140.1.2.1
openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -days 30 -subj "/CN=self.vantage.test" 2>/dev/null

P1=$(free_port) P2=$(free_port)
# s_server sends default.vantage.test, or tls.vantage.test when the client's SNI names it.
openssl s_server -quiet -accept 127.0.0.1:$P1 -cert default.vantage.test.pem -key default.vantage.test.key \
  -cert_chain ca.pem -servername tls.vantage.test -cert2 tls.vantage.test.pem -key2 tls.vantage.test.key \
  </dev/null >/dev/null 2>&1 & pids+=($!)
openssl s_server -quiet -accept 127.0.0.1:$P2 -cert self.pem -key self.key </dev/null >/dev/null 2>&1 & pids+=($!)
wait_tcp $P1 $P2

probe() {  # args... -> $T/ev.json (the one event's fields)
  "$V" probe --allow-reserved 127.0.0.0/8 --module ssl --read-timeout-ms 3000 "$@" >ev.jsonl 2>probe.err
  python3 -c "import json; e=[json.loads(l) for l in open('ev.jsonl')]; assert len(e)==1; json.dump(e[0]['fields'], open('ev.json','w'))" 2>/dev/null \
    || echo '{}' > ev.json
}
expect() {  # label python-condition-over-f
  if python3 -c "import json,sys; f=json.load(open('ev.json')); sys.exit(0 if ($2) else 1)"; then ok "$1"
  else bad "$1: $(cat ev.json) $(tail -3 probe.err)"; fi
}
METASPLOIT_JARM=07d14d16d21d21d00042d43d000000aa99ce74e2c6d013c745aa52b5cc042d

probe --ca-file ca.pem tls.vantage.test@127.0.0.1:$P1
expect "SNI selects the named certificate" "f['subject_common_name']=='tls.vantage.test'"
expect "private CA via --ca-file: cert_valid, browser_trusted, no browser_error" \
  "f['cert_valid'] is True and f['browser_trusted'] is True and 'browser_error' not in f"
expect "validation_level OV from policy 2.23.140.1.2.2" "f['validation_level']=='OV'"
expect "JARM present (62 hex digits)" "len(f['jarm'])==62 and f['jarm']!='0'*62"

probe --ca-file ca.pem 127.0.0.1:$P1
expect "no SNI without a host name: the default certificate" "f['subject_common_name']=='default.vantage.test'"
expect "address target: chain valid, name (the IP) not: IP address mismatch" \
  "f['cert_valid'] is True and f['browser_trusted'] is False and f['browser_error']=='IP address mismatch'"
expect "validation_level DV from policy 2.23.140.1.2.1" "f['validation_level']=='DV'"

probe tls.vantage.test@127.0.0.1:$P1
expect "system store: the private CA is unknown" \
  "f['cert_valid'] is False and f['browser_trusted'] is False and f['browser_error']=='unable to get local issuer certificate'"

probe --ca-file ca.pem localhost:$P1
expect "localhost:PORT resolves, sends SNI 'localhost' (default cert): hostname mismatch" \
  "f['subject_common_name']=='default.vantage.test' and f['cert_valid'] is True and f['browser_error']=='hostname mismatch'"

probe --ca-file ca.pem 127.0.0.1:$P2
expect "self-signed: not valid, 'self-signed certificate', level unknown" \
  "f['self_signed'] is True and f['cert_valid'] is False and f['browser_error']=='self-signed certificate' and f['validation_level']=='unknown'"
# s_server with its default settings, probed by address as jarm.py would: the fingerprint
# published for Metasploit (its listener is OpenSSL with default settings too).
if openssl version | grep -q '^OpenSSL 3\.0\.'; then
  expect "JARM of OpenSSL 3.0's default server is the published $METASPLOIT_JARM" "f['jarm']=='$METASPLOIT_JARM'"
else
  echo "skip - $(openssl version): no published JARM to compare with"
fi

probe --no-jarm --ca-file ca.pem tls.vantage.test@127.0.0.1:$P1
expect "--no-jarm: no fingerprint, the rest unchanged" "'jarm' not in f and f['browser_trusted'] is True"

# A port that does not speak TLS gets no JARM probes and no event.
PLAIN=$(free_port)
python3 -c "
import socket,time
s=socket.socket(); s.bind(('127.0.0.1',$PLAIN)); s.listen(16); s.settimeout(10); n=0; end=time.time()+10
while time.time()<end:
  try: c,_=s.accept()
  except socket.timeout: break
  n+=1; c.sendall(b'220 not tls\r\n'); c.close()
  open('$T/plain_count','w').write(str(n))
" & pids+=($!)
wait_tcp $PLAIN
probe 127.0.0.1:$PLAIN
sleep 0.3
[[ ! -s ev.jsonl && "$(cat plain_count)" == 2 ]] && ok "non-TLS port: no event, one connection (no JARM probes)" \
  || bad "non-TLS port: events [$(cat ev.jsonl)] connections $(cat plain_count)"

echo "ssl_e2e_test: $fails failure(s)"
exit $((fails > 0))
