# Sourced by tests/scanner/probes_tcp_e2e.sh and bench/probe_tcp_bench.sh: the real servers
# the TCP probes of issue #18 are tested against, each started on a free 127.0.0.1 port in
# its own process group (dovecot, vsftpd, postfix, Xtigervnc, xrdp, smbd, slapd,
# rabbitmq-server, kamailio, cupsd, etcd, tinyproxy, dockerd), plus tcp_responders.py for
# what Debian does not package. Needs root; the caller sets T (a fresh directory), SRC, groups=() and the
# functions ok/bad, and calls tcp_servers_stop on exit.
#
#   tcp_servers_start         starts everything; sets IMAP POP3 FTP SMTP VNC RDP SMB LDAP AMQP
#                             SIP IPP ETCD PROXY DOCKER, FP (the certificate's SHA-256
#                             fingerprint)
#   port_of NAME              a scripted responder's port (mongodb, mssql, couchdb, kubernetes,
#                             citrix, fortinet, ivanti, paloalto, nginx, nginx_tls)
#   wait_port PORT SECONDS    true once something accepts on 127.0.0.1:PORT
#   tcp_servers_stop          stops them all

PATH=$PATH:/usr/sbin:/sbin  # smbd, slapd, dovecot, cupsd, xrdp live there

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Each server in its own process group (setsid), so the group goes down with every child.
start() {  # name command...
  local name=$1; shift
  if ! command -v "$1" >/dev/null; then bad "$name: $1 not installed (scripts/install-deps.sh --test)"; return 1; fi
  setsid "$@" >"$T/$name.out" 2>&1 &
  groups+=($!)
}
port_of() { awk -v n="$1" '$1 == n { print $2 }' "$T/ports"; }
wait_port() {  # port seconds
  local i
  for i in $(seq $(($2 * 10))); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
tcp_servers_stop() {
  local g
  for g in "${groups[@]}"; do kill -- "-$g" 2>/dev/null; done
  [[ -n "${PF_DIR:-}" ]] && pf_stop
  sleep 0.3
  for g in "${groups[@]}"; do kill -9 -- "-$g" 2>/dev/null; done
}

tcp_servers_start() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 30 \
    -subj "/C=NL/O=Vantage Test/CN=probe.vantage.test" 2>/dev/null
  chmod 644 "$T/tls.key"
  FP=$(openssl x509 -in "$T/tls.crt" -noout -fingerprint -sha256 | cut -d= -f2)

  # RabbitMQ first: its Erlang node takes the longest to come up. Run as the rabbitmq user
  # through setpriv (Debian's wrapper uses su, which starts a new session that the process
  # group kill would miss), with its own epmd in the foreground on a free port.
  AMQP=$(free_port) EPMD=$(free_port)
  mkdir -p "$T/rmq/mnesia" "$T/rmq/log" && touch "$T/rmq/plugins" && chown -R rabbitmq "$T/rmq" 2>/dev/null
  local as_rabbit=(setpriv --reuid rabbitmq --regid rabbitmq --init-groups)
  start epmd "${as_rabbit[@]}" env HOME=$T/rmq /usr/lib/erlang/erts-*/bin/epmd -port $EPMD
  start amqp "${as_rabbit[@]}" env RABBITMQ_NODE_PORT=$AMQP RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODENAME=vantage$$@localhost RABBITMQ_MNESIA_BASE=$T/rmq/mnesia RABBITMQ_LOG_BASE=$T/rmq/log \
    RABBITMQ_DIST_PORT=$(free_port) ERL_EPMD_PORT=$EPMD RABBITMQ_ENABLED_PLUGINS_FILE=$T/rmq/plugins \
    RABBITMQ_FEATURE_FLAGS_FILE=$T/rmq/ff RABBITMQ_CONFIG_FILE=$T/rmq/rabbitmq HOME=$T/rmq \
    /usr/lib/rabbitmq/bin/rabbitmq-server

  # Scripted responders (tcp_responders.py) for what Debian does not package.
  start responders python3 "$SRC/tests/scanner/tcp_responders.py" "$T/ports" "$T/tls.crt" "$T/tls.key" --seconds "${RESPONDER_SECONDS:-170}"

  # Dovecot: IMAP and POP3 with STARTTLS/STLS.
  IMAP=$(free_port) POP3=$(free_port)
  mkdir -p "$T/dovecot"
  cat > "$T/dovecot.conf" <<CF
base_dir = $T/dovecot
state_dir = $T/dovecot
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$T/tls.crt
ssl_key = <$T/tls.key
log_path = $T/dovecot.log
mail_location = mbox:$T/mail
service imap-login {
  inet_listener imap {
    port = $IMAP
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3
  }
  inet_listener pop3s {
    port = 0
  }
}
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/home
}
CF
  start dovecot dovecot -F -c "$T/dovecot.conf"

  # vsftpd with AUTH TLS.
  FTP=$(free_port)
  mkdir -p "$T/ftp-empty"
  printf 'listen=YES\nlisten_address=127.0.0.1\nlisten_port=%s\nbackground=NO\nanonymous_enable=NO\nlocal_enable=YES\nssl_enable=YES\nrsa_cert_file=%s\nrsa_private_key_file=%s\nsecure_chroot_dir=%s\nftpd_banner=Vantage test FTP\n' \
    $FTP "$T/tls.crt" "$T/tls.key" "$T/ftp-empty" > "$T/vsftpd.conf"
  start vsftpd vsftpd "$T/vsftpd.conf"

  # Postfix with STARTTLS (the delivery tests' private instance).
  source "$SRC/tests/delivery/postfix_env.sh"
  PF_TLS_CERT=$T/tls.crt PF_TLS_KEY=$T/tls.key
  pf_start "$T/postfix" nobody >/dev/null 2>&1 || bad "postfix did not start"
  SMTP=${PF_PORT:-1}

  # Xtigervnc (no desktop, no password: security type None) and xrdp (TLS negotiation).
  VNC=$(free_port)
  start vnc Xtigervnc :$((100 + RANDOM % 400)) -rfbport $VNC -localhost -SecurityTypes None -nolisten tcp
  RDP=$(free_port)
  sed -e "s#^port=3389#port=tcp://127.0.0.1:$RDP#" -e "s#^certificate=.*#certificate=$T/tls.crt#" \
    -e "s#^key_file=.*#key_file=$T/tls.key#" /etc/xrdp/xrdp.ini > "$T/xrdp.ini" 2>/dev/null
  start rdp xrdp -n -c "$T/xrdp.ini"

  # Samba (smbd only, standalone, no shares).
  SMB=$(free_port)
  mkdir -p "$T/smb"/{private,lock,state,cache,pid,ncalrpc}
  printf '[global]\n smb ports = %s\n interfaces = 127.0.0.1\n bind interfaces only = yes\n private dir = %s\n lock directory = %s\n state directory = %s\n cache directory = %s\n pid directory = %s\n ncalrpc dir = %s\n log file = %s\n disable netbios = yes\n server role = standalone server\n' \
    $SMB "$T/smb/private" "$T/smb/lock" "$T/smb/state" "$T/smb/cache" "$T/smb/pid" "$T/smb/ncalrpc" "$T/smb/log" > "$T/smb.conf"
  start smb smbd -F --no-process-group -s "$T/smb.conf"

  # slapd: an empty mdb database, StartTLS with the test certificate.
  LDAP=$(free_port)
  mkdir -p "$T/ldapdb"
  printf 'include /etc/ldap/schema/core.schema\npidfile %s\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\ndatabase mdb\nsuffix "dc=vantage,dc=test"\ndirectory %s\n' \
    "$T/slapd.pid" "$T/tls.crt" "$T/tls.key" "$T/ldapdb" > "$T/slapd.conf"
  start ldap slapd -d 0 -f "$T/slapd.conf" -h "ldap://127.0.0.1:$LDAP/"

  # Kamailio answering OPTIONS (siputils' options_reply) over TCP.
  SIP=$(free_port)
  cat > "$T/kamailio.cfg" <<CF
#!KAMAILIO
debug=0
log_stderror=yes
children=1
listen=tcp:127.0.0.1:$SIP
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "pv.so"
loadmodule "sl.so"
loadmodule "siputils.so"
server_header="Server: kamailio (vantage test)"
request_route {
  if (method=="OPTIONS") { options_reply(); exit; }
  sl_send_reply("404", "Not here");
}
CF
  start sip kamailio -DD -E -f "$T/kamailio.cfg" -P "$T/kamailio.pid" -Y "$T/kamailio"

  # CUPS with one raw queue as the default printer.
  IPP=$(free_port)
  mkdir -p "$T/cups"/{spool,cache,state,tmp,log}
  printf 'Listen 127.0.0.1:%s\nServerName localhost\nLogLevel warn\nBrowsing Off\nDefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n' $IPP > "$T/cups/cupsd.conf"
  printf 'ServerRoot %s\nRequestRoot %s/spool\nCacheDir %s/cache\nStateDir %s/state\nTempDir %s/tmp\nErrorLog %s/log/error_log\nAccessLog %s/log/access_log\nPageLog %s/log/page_log\nFileDevice Yes\n' \
    "$T/cups" "$T/cups" "$T/cups" "$T/cups" "$T/cups" "$T/cups" "$T/cups" "$T/cups" > "$T/cups/cups-files.conf"
  printf '<DefaultPrinter vantage>\nPrinterId 1\nUUID urn:uuid:0b1c5d6e-7a8b-4c9d-8e0f-123456789abc\nInfo Vantage test printer\nLocation lab\nMakeModel Local Raw Printer\nDeviceURI file:///dev/null\nState Idle\nType 4\nAccepting Yes\nShared Yes\n</DefaultPrinter>\n' > "$T/cups/printers.conf"
  start ipp cupsd -f -c "$T/cups/cupsd.conf" -s "$T/cups/cups-files.conf"

  # etcd (single member) and tinyproxy.
  ETCD=$(free_port) ETCD_PEER=http://127.0.0.1:$(free_port)
  start etcd etcd --name vantage --data-dir "$T/etcd" --listen-client-urls http://127.0.0.1:$ETCD \
    --advertise-client-urls http://127.0.0.1:$ETCD --listen-peer-urls $ETCD_PEER \
    --initial-advertise-peer-urls $ETCD_PEER --initial-cluster vantage=$ETCD_PEER
  # dockerd with its API on TCP only (no unix socket, no iptables, no bridge): GET /version.
  DOCKER=$(free_port)
  start docker dockerd --host tcp://127.0.0.1:$DOCKER --data-root "$T/docker/root" --exec-root "$T/docker/exec" \
    --pidfile "$T/docker/pid" --iptables=false --ip-masq=false --bridge=none --log-level error
  PROXY=$(free_port)
  printf 'Port %s\nListen 127.0.0.1\nTimeout 10\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Error\n' $PROXY > "$T/tinyproxy.conf"
  start http_proxy tinyproxy -d -c "$T/tinyproxy.conf"

  for i in $(seq 100); do [[ -s "$T/ports" ]] && break; sleep 0.1; done
  for p in $IMAP $POP3 $FTP $SMTP $VNC $RDP $SMB $LDAP $SIP $IPP $ETCD $PROXY $DOCKER; do wait_port $p 20; done
}
