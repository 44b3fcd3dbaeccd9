# Sourced by tests/delivery/smtp_test.sh and bench/mail_bench.sh: a private Postfix instance on
# 127.0.0.1:<free high port> that accepts mail for the virtual domain reports.test and delivers
# it to Maildirs under $PF_DIR/mail/<user>/Maildir (docs: infrastructure-notes §6). Unknown
# users of reports.test get 550 at RCPT, busy@reports.test always gets 451; any other domain
# is refused (no outbound mail).
#
#   pf_start DIR USER...   start it (needs root; DIR's parents must be world-searchable);
#                          sets PF_PORT and PF_DIR. With PF_TLS_CERT and PF_TLS_KEY (PEM files)
#                          set, it offers STARTTLS and logs each TLS session, and listens for
#                          implicit TLS (smtps) on PF_SMTPS_PORT. With PF_SASL_USER
#                          and PF_SASL_PASSWORD also set, it offers AUTH PLAIN/LOGIN (after
#                          STARTTLS only) against a private Cyrus sasldb.
#   pf_stop                stop it (safe to call twice, and from an EXIT trap)
#   pf_wait_count USER N [SECONDS]   wait until USER's Maildir/new holds N messages

pf_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pf_start() {
  PF_DIR=$1; shift
  local etc=$PF_DIR/etc
  mkdir -p "$etc" "$PF_DIR/spool" "$PF_DIR/data" "$PF_DIR/mail"
  chmod 755 "$PF_DIR"
  chown postfix "$PF_DIR/data"
  chown 65534:65534 "$PF_DIR/mail"
  PF_PORT=$(pf_free_port)
  # busy@reports.test is always deferred: a real 4xx for the retry path.
  printf 'busy@reports.test\t451 4.3.0 mailbox busy, try again later\n' > "$etc/rcpt_access"
  : > "$etc/vmailbox"
  for u in "$@"; do printf '%s@reports.test\t%s/Maildir/\n' "$u" "$u" >> "$etc/vmailbox"; done
  cat > "$etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost
mydomain = localdomain
myorigin = localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:outbound mail disabled in test instance
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$etc/rcpt_access

virtual_mailbox_domains = reports.test
virtual_mailbox_base = $PF_DIR/mail
virtual_mailbox_maps = texthash:$etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
message_size_limit = 52428800
virtual_mailbox_limit = 0
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = /var, /dev/stdout, $PF_DIR
smtputf8_enable = no
biff = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
CF
  if [[ -n "${PF_TLS_CERT:-}" ]]; then
    cat >> "$etc/main.cf" <<CF
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF_TLS_CERT
smtpd_tls_key_file = $PF_TLS_KEY
smtpd_tls_loglevel = 1
CF
    if [[ -n "${PF_SASL_USER:-}" ]]; then
      # Debian's Postfix looks for smtpd.conf in <config_directory>/sasl whatever
      # cyrus_sasl_config_path says, so the file goes there and the setting points there too.
      mkdir -p "$PF_DIR/sasl" "$etc/sasl"
      cat > "$etc/sasl/smtpd.conf" <<CF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $PF_DIR/sasl/sasldb2
CF
      printf '%s' "$PF_SASL_PASSWORD" |
        saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" -u localhost "$PF_SASL_USER"
      chown postfix "$PF_DIR/sasl/sasldb2"
      cat >> "$etc/main.cf" <<CF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $etc/sasl
smtpd_sasl_local_domain = localhost
smtpd_tls_auth_only = yes
CF
    fi
  fi
  local smtps_line=""
  if [[ -n "${PF_TLS_CERT:-}" ]]; then
    PF_SMTPS_PORT=$(pf_free_port)
    smtps_line="127.0.0.1:$PF_SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
  fi
  cat > "$etc/master.cf" <<CF
127.0.0.1:$PF_PORT inet n - n - - smtpd
$smtps_line
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  # Postfix prints fatal errors only to a tty or syslog; `script` gives it a tty (§6 pitfall).
  if ! script -qec "postfix -c $etc check" /dev/null; then
    echo "pf_start: postfix check failed" >&2; return 1
  fi
  if ! script -qec "postfix -c $etc start" /dev/null >/dev/null; then
    echo "pf_start: postfix start failed" >&2; cat "$PF_DIR/maillog" >&2 2>/dev/null; return 1
  fi
  local i
  for i in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$PF_PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "pf_start: nothing listens on 127.0.0.1:$PF_PORT" >&2
  return 1
}

pf_stop() {
  [[ -n "${PF_DIR:-}" && -f "$PF_DIR/spool/pid/master.pid" ]] || return 0
  local pid
  pid=$(tr -d ' ' < "$PF_DIR/spool/pid/master.pid")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PF_DIR/spool/pid/master.pid"
}

pf_wait_count() {
  local user=$1 want=$2 secs=${3:-30} n=0 i
  for i in $(seq 1 $((secs * 10))); do
    n=$(find "$PF_DIR/mail/$user/Maildir/new" -type f 2>/dev/null | wc -l)
    [[ $n -ge $want ]] && return 0
    sleep 0.1
  done
  echo "pf_wait_count: $user has $n messages, expected $want" >&2
  return 1
}
