#!/usr/bin/env bash
# Vulnerability checks end to end: `vantage probe --checks conf/checks` against real servers on
# 127.0.0.1 (started here on free high ports, stopped on exit): nginx (plain and TLS) serving the
# pages and files a check reads -- its real stub_status, fixture bytes as static files, an
# Exchange-like logon page and export manifest (a two-step check over TLS, one connection per
# step), a NetScaler-like gzip resource written with a chosen GZIP timestamp -- plus real sshd
# and memcached (UDP), and a scripted banner responder (python3 stdlib) for an FTP greeting
# and an ActiveMQ OpenWire banner, for which Debian has no vulnerable server to run.
# Traffic stays on 127.0.0.0/8. usage: checks_e2e_test.sh path/to/vantage source_dir
set -u
V=$1
SRC=$2
source "$(dirname "$0")/e2e_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x $NGINX ]]; then
  echo "skip - nginx not installed (scripts/install-deps.sh --test installs nginx-light)"
  exit 77
fi
read -r HTTP HTTPS RAW AMQ SSH MCU MCT < <(free_ports 7)

# --- what nginx serves -------------------------------------------------------------------------
W="$T/www"
mkdir -p "$W/.git" "$W/owa/auth" "$W/ecp/Current/exporttool" "$W/vpn/js/rdx/core/lang"
printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n' > "$W/.git/config"
printf '\nDrupal 7.57, 2018-02-21\n-----------------------\n- Fixed security issues.\n' > "$W/CHANGELOG.txt"
printf '<html><head><link rel="shortcut icon" href="/owa/auth/15.1.2176/themes/resources/favicon.ico"></head></html>' \
  > "$W/owa/auth/logon.aspx"
printf '<?xml version="1.0"?><asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1"><assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.1.2176.2" /></asmv1:assembly>' \
  > "$W/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application"
# A real gzip file whose MTIME is the 13.1-48.47 build's (Fox-IT's table): 1685777750.
python3 -c "
import gzip, io
with open('$W/vpn/js/rdx/core/lang/rdx_en.json.gz', 'wb') as f:
    with gzip.GzipFile(filename='rdx_en.json', mode='wb', fileobj=f, mtime=1685777750) as g:
        g.write(b'{\"lang\":\"en\"}')"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
  -subj "/CN=checks.vantage.test" 2>/dev/null
cat > "$T/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx_error.log;
events { worker_connections 256; }
http {
  access_log $T/access.log;
  client_body_temp_path $T/cb; proxy_temp_path $T/px; fastcgi_temp_path $T/fc; uwsgi_temp_path $T/uw; scgi_temp_path $T/sc;
  default_type text/plain;
  types { application/x-gzip gz; }
  server {
    listen 127.0.0.1:$HTTP;
    root $W;
    location = /nginx_status { stub_status; }
  }
  server {
    listen 127.0.0.1:$HTTPS ssl;
    ssl_certificate $T/cert.pem;
    ssl_certificate_key $T/key.pem;
    root $W;
    location = /owa/auth/logon.aspx { default_type text/html; }
    location /vpn/ { default_type application/x-gzip; }
  }
}
NGX
"$NGINX" -c "$T/nginx.conf" -p "$T" 2>"$T/nginx.err" & pids+=($!)

# --- banner responder: an FTP greeting and an ActiveMQ 5.15.15 OpenWire banner ----------------
cat > "$T/banner.py" <<'PY'
import socket, struct, sys, threading, time
def openwire(version):
    def s(x): b = x.encode(); return struct.pack(">H", len(b)) + b
    props = [("ProviderName", b"\x09" + s("ActiveMQ")), ("ProviderVersion", b"\x09" + s(version))]
    body = struct.pack(">I", len(props)) + b"".join(s(k) + v for k, v in props)
    cmd = b"\x01ActiveMQ" + struct.pack(">I", 12) + b"\x01" + struct.pack(">I", len(body)) + body
    return struct.pack(">I", len(cmd)) + cmd
replies = {int(sys.argv[1]): b"220 (vsFTPd 2.3.4)\r\n", int(sys.argv[2]): openwire("5.15.15")}
end = time.time() + 120
def answer(c, data):
    try: c.sendall(data); time.sleep(0.3)
    except OSError: pass
    finally: c.close()
def serve(s, data):
    s.settimeout(1)
    while time.time() < end:
        try: c, _ = s.accept()
        except socket.timeout: continue
        threading.Thread(target=answer, args=(c, data), daemon=True).start()
for port, data in replies.items():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(64)
    threading.Thread(target=serve, args=(s, data), daemon=True).start()
time.sleep(120)
PY
python3 "$T/banner.py" $RAW $AMQ & pids+=($!)
if [[ -x /usr/sbin/sshd ]]; then
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
  printf 'HostKey %s\nListenAddress 127.0.0.1\nPidFile %s\nUsePAM no\n' "$T/hostkey" "$T/sshd.pid" > "$T/sshd_config"
  /usr/sbin/sshd -D -f "$T/sshd_config" -p $SSH & pids+=($!)
fi
if command -v memcached >/dev/null; then
  memcached -l 127.0.0.1 -p $MCT -U $MCU -u root >/dev/null 2>&1 & pids+=($!)
fi
wait_tcp $HTTP $HTTPS $RAW $AMQ

probe() {  # target... -> $T/ev.jsonl (every shipped check on every target)
  "$V" probe --allow-reserved 127.0.0.0/8 --checks "$SRC/conf/checks" --read-timeout-ms 2000 \
    --connect-timeout-ms 2000 --events "$T/ev.jsonl" "$@" 2>"$T/probe.err"
}
has() {  # label python-condition-over-events
  if python3 -c "import json,sys; E=[json.loads(l) for l in open('$T/ev.jsonl')]; sys.exit(0 if ($2) else 1)"; then ok "$1"
  else bad "$1: $(cat "$T/ev.jsonl") $(tail -5 "$T/probe.err")"; fi
}
tags() { python3 -c "import json; print(sorted(json.loads(l)['fields']['tag'] for l in open('$T/ev.jsonl')))"; }

# Plain HTTP: nginx's own stub_status, a .git/config, a Drupal 7.57 CHANGELOG; nothing else.
probe 127.0.0.1:$HTTP
has "real nginx stub_status found" "any(e['fields']['tag']=='nginx-status-exposed' and e['fields']['server'].startswith('nginx/') for e in E)"
has "exposed .git/config found" "any(e['fields']['tag']=='exposed-git-repository' for e in E)"
has "Drupal 7.57 reported with its version" "any(e['fields']['tag']=='cve-2018-7600' and e['fields']['version']=='7.57' and e['type']=='scan_http_vulnerable' for e in E)"
[[ "$(tags)" == "['cve-2018-7600', 'exposed-git-repository', 'nginx-status-exposed']" ]] \
  && ok "nothing else on the plain HTTP server" || bad "plain HTTP findings: $(tags)"

# TLS: the two-step Exchange check (one connection per step, through TLS) and the NetScaler
# check reading a real gzip header through TLS.
probe 127.0.0.1:$HTTPS
has "Exchange build 15.1.2176.2 (two steps over TLS) -> ProxyLogon, ProxyShell, ProxyNotShell" \
  "sorted(e['fields']['tag'] for e in E if e['type']=='scan_exchange')==['cve-2021-26855;cve-2021-27065','cve-2021-34473;cve-2021-34523;cve-2021-31207','cve-2022-41082;cve-2022-41040'] and all(e['fields']['version']=='15.1.2176.2' for e in E if e['type']=='scan_exchange')"
has "NetScaler 13.1-48.47 from the GZIP timestamp -> CVE-2023-3519 and Citrix Bleed" \
  "sorted(e['fields']['tag'] for e in E if e['fields'].get('version')=='13.1-48.47')==['cve-2023-3519','cve-2023-4966']"
grep -q 'GET /ecp/Current/exporttool/' "$T/access.log" && grep -q 'GET /owa/auth/logon.aspx' "$T/access.log" \
  && ok "both Exchange steps reached nginx" || bad "access log: $(cat "$T/access.log")"
# Every HTTP request that reached nginx was a GET, HEAD or OPTIONS (the log also holds the
# other protocols' greetings that --checks sends to every port; those are not HTTP requests).
methods=$(awk '$7 ~ /^\// {print $6}' "$T/access.log" | tr -d '"' | sort | uniq -c)
if awk '$7 ~ /^\// {print $6}' "$T/access.log" | tr -d '"' | grep -qvE '^(GET|HEAD|OPTIONS)$'; then
  bad "a request other than GET/HEAD/OPTIONS was sent: $methods"
else ok "HTTP requests were only GET/HEAD/OPTIONS: $(echo $methods)"; fi

# Raw TCP banners and a binary banner.
probe 127.0.0.1:$RAW 127.0.0.1:$AMQ
has "vsftpd 2.3.4 greeting -> scan_ftp with the banner" \
  "any(e['type']=='scan_ftp' and e['fields']['tag']=='cve-2011-2523' and e['fields']['banner']=='220 (vsFTPd 2.3.4)' for e in E)"
has "ActiveMQ 5.15.15 OpenWire banner -> scan_activemq" \
  "any(e['type']=='scan_activemq' and e['fields']['version']=='5.15.15' and e['fields']['tag']=='cve-2023-46604' for e in E)"

# Real Debian sshd (OpenSSH 9.2p1 with the regreSSHion fix from deb12u3): not reported.
if [[ -x /usr/sbin/sshd ]]; then
  probe 127.0.0.1:$SSH
  banner=$(python3 -c "import socket; s=socket.create_connection(('127.0.0.1',$SSH)); print(s.recv(200).decode().strip())")
  rev=$(sed -n 's/.*Debian-2+deb12u\([0-9]*\).*/\1/p' <<<"$banner")
  if [[ -n "$rev" && "$rev" -ge 3 ]]; then
    [[ ! -s "$T/ev.jsonl" ]] && ok "patched sshd ($banner) not reported" || bad "patched sshd reported: $(cat "$T/ev.jsonl")"
  else
    echo "skip - sshd banner '$banner' is not a patched Debian 12 build"
  fi
else echo "skip - sshd not installed"; fi

# Real memcached answering over UDP.
if command -v memcached >/dev/null; then
  for i in $(seq 50); do ss -Hlun "sport = :$MCU" | grep -q . && break; sleep 0.1; done
  "$V" probe --allow-reserved 127.0.0.0/8 --checks "$SRC/conf/checks" --module check:memcached-udp-amplification-cve-2018-1000115 \
    --read-timeout-ms 2000 --events "$T/ev.jsonl" 127.0.0.1:$MCU 2>"$T/probe.err"
  has "real memcached over UDP -> scan_memcached with its version" \
    "len(E)==1 and E[0]['type']=='scan_memcached' and E[0]['fields']['protocol']=='udp' and E[0]['fields']['version'][0].isdigit()"
else echo "skip - memcached not installed"; fi

# An operator's new check is a file: effective without rebuilding; a bad one is refused.
mkdir -p "$T/mine"
cat > "$T/mine/nginx-version.json" <<'J'
{"id": "nginx-old", "info": {"name": "old nginx"}, "severity": "low",
 "request": {"method": "HEAD", "path": "/"},
 "extract": [{"name": "v", "header": "server", "regex": "^nginx/([0-9.]+)", "column": "version"}],
 "match": {"version": {"from": "v", "ranges": ["<99.0"]}}}
J
"$V" probe --allow-reserved 127.0.0.0/8 --checks "$T/mine" --events "$T/ev.jsonl" 127.0.0.1:$HTTP 2>"$T/probe.err"
has "a new check file works without rebuilding" "len(E)==1 and E[0]['fields']['tag']=='nginx-old' and E[0]['fields']['version'][0].isdigit()"
cat > "$T/mine/bad.json" <<'J'
{"id": "bad", "request": {"method": "POST", "path": "/"}, "match": {"status": [200]}}
J
if "$V" probe --allow-reserved 127.0.0.0/8 --checks "$T/mine" 127.0.0.1:$HTTP >/dev/null 2>"$T/probe.err"; then
  bad "a POST check was loaded"
else grep -q "non-intrusion rule H1" "$T/probe.err" && ok "a POST check is refused (rule H1)" || bad "refusal: $(cat "$T/probe.err")"; fi
"$V" checks test "$SRC/conf/checks" >"$T/ct.out" 2>&1 && grep -q " 0 failures" "$T/ct.out" \
  && ok "vantage checks test: $(cat "$T/ct.out")" || bad "checks test: $(cat "$T/ct.out")"

echo "checks_e2e_test: $fails failure(s)"
exit $((fails > 0))
