#!/usr/bin/env bash
# The TCP application-layer probes of issue #18 end to end: each module against a real
# Debian 12 server started here on a free 127.0.0.1 port (dovecot, vsftpd, postfix,
# Xtigervnc, xrdp, smbd, slapd, rabbitmq-server, kamailio, cupsd, etcd, tinyproxy, dockerd),
# or, where Debian has no package, against tests/scanner/tcp_responders.py (MongoDB, SQL
# Server, CouchDB, Kubernetes, the edge appliances). Then the negative controls: every
# fingerprint module against an ordinary web server yields no event. Packages come from
# scripts/install-deps.sh (test list); a server whose binary is missing is reported as a
# failure, not skipped, since CI installs them all. Traffic stays on 127.0.0.1.
# usage: probes_tcp_e2e.sh path/to/vantage source_dir
set -u
V=$1
SRC=$2
[[ $(id -u) == 0 ]] || { echo "skip - needs root (servers drop privileges to their users)"; exit 77; }
T=$(mktemp -d)
chmod 755 "$T"  # servers that drop privileges (rabbitmq, postfix, dovecot) read below it
groups=()
cleanup() {
  tcp_servers_stop
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
source "$SRC/tests/scanner/tcp_servers.sh"
tcp_servers_start

probe() {  # module port -> $T/<module>.jsonl
  "$V" probe --allow-reserved 127.0.0.0/8 --module "$1" --read-timeout-ms 4000 --events "$T/$1.jsonl" \
    127.0.0.1:$2 2>"$T/$1.err"
}
expect() {  # module port type python-condition-on-f
  local m=$1 p=$2 type=$3 check=$4
  probe "$m" "$p"
  if python3 -c "import json,sys; e=[json.loads(l) for l in open('$T/$m.jsonl')]; f=e[0]['fields']; sys.exit(0 if len(e)==1 and e[0]['type']=='$type' and f['port']==$p and ($check) else 1)" 2>/dev/null; then
    ok "probe $m ($type)"
  else bad "probe $m: $(head -c 2000 "$T/$m.jsonl") $(cat "$T/$m.err")"; fi
}
none() {  # "module..." port what: no event expected from any of the modules (run together)
  local args=() m
  for m in $1; do args+=(--module "$m"); done
  "$V" probe --allow-reserved 127.0.0.0/8 "${args[@]}" --read-timeout-ms 1500 --events "$T/none.jsonl" \
    127.0.0.1:$2 2>"$T/none.err"
  if [[ ! -s "$T/none.jsonl" ]]; then ok "no event from [$1] on $3"; else bad "false positive on $3: $(cat "$T/none.jsonl")"; fi
}
# The certificate columns every STARTTLS upgrade must carry.
CERT="f['subject_common_name']=='probe.vantage.test' and f['issuer_organization_name']=='Vantage Test' and f['sha256_fingerprint']=='$FP' and f['self_signed'] is True and f['cert_length']==2048 and f['handshake'].startswith('TLSv1.')"

expect imap $IMAP scan_imap "f['banner'].startswith('* OK') and 'Dovecot' in f['banner'] and $CERT"
expect pop3 $POP3 scan_pop3 "f['banner']=='+OK Dovecot (Debian) ready.' and $CERT"
expect ftp $FTP scan_ftp "f['banner']=='220 Vantage test FTP' and f['auth_tls_response'].startswith('234') and $CERT"
expect smtp $SMTP scan_smtp "f['banner'].startswith('220 localhost ESMTP Postfix') and f['auth_tls_response'].startswith('220') and $CERT and f['tlsv13_support'] in ('Y','N')"
expect vnc $VNC scan_vnc "f['product']=='VNC' and f['banner']=='RFB 003.008\nsecurity types: None'"
expect rdp $RDP scan_rdp "f['rdp_protocol']=='SSL' and f['sha256_fingerprint']=='$FP' and f['subject_common_name']=='probe.vantage.test' and 'cipher_suite' not in f"
expect smb $SMB scan_smb "f['smb_version_string']=='SMB 3.1.1' and f['smb_major_number']=='3' and f['smb_minor_number']=='1' and f['smb_revision']=='1'"
expect ldap $LDAP scan_ldap_tcp "f['naming_contexts']=='dc=vantage,dc=test' and f['supported_ldap_version']=='3' and f['subschema_subentry']=='cn=Subschema' and 'SCRAM-SHA-256' in f['supported_sasl_mechanisms'] and f['response_size']>200 and f['amplification']>1 and $CERT"
if wait_port $AMQP 60; then
  expect amqp $AMQP scan_amqp "f['product']=='RabbitMQ' and f['product_version'][0].isdigit() and f['platform'].startswith('Erlang/OTP') and f['version_major']=='0' and f['version_minor']=='9' and f['class']=='10' and f['method']=='10' and f['channel']=='0' and 'publisher_confirms' in f['capabilities'].split('|') and f['mechanisms']=='AMQPLAIN PLAIN' and f['locales']=='en_US' and f['message_length']>300 and '@' in f['cluster_name']"
else bad "rabbitmq-server did not listen within 60 s: $(tail -5 "$T/amqp.out")"; fi
expect sip $SIP scan_sip "f['sip_code']=='200' and f['sip_reason']=='OK' and f['server']=='kamailio (vantage test)' and 'received=127.0.0.1' in f['sip_via'] and f['cseq']=='1 OPTIONS' and f['call_id'].endswith('@vantage.invalid') and f['content_length']==0 and f['response_size']>200"
expect ipp $IPP scan_ipp "f['ipp_version'] in ('2.0','1.1') and f['cups_version'].startswith('2.') and f['printer_name']=='vantage' and f['printer_info']=='Vantage test printer' and f['printer_make_and_model']=='Local Raw Printer' and f['printer_uuid']=='urn:uuid:0b1c5d6e-7a8b-4c9d-8e0f-123456789abc' and '/printers/vantage' in f['printer_uris']"
expect etcd $ETCD scan_http "f['tag']=='etcd' and f['version']=='$(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}')' and f['http_code']==200"
expect http_proxy $PROXY scan_http_proxy "'tinyproxy' in f['via'] and f['server'].startswith('tinyproxy/') and f['http_code']==400"

# Scripted (no Debian package).
expect mongodb $(port_of mongodb) scan_mongodb "f['version']=='7.0.5' and f['gitversion']=='7809d71e84e314b497f282ea8aa06d7ded3eb205' and f['opensslversion']=='OpenSSL 3.0.2 15 Mar 2022' and f['allocator']=='tcmalloc' and f['javascriptengine']=='mozjs' and f['bits']=='64' and f['maxbsonobjectsize']=='16777216' and f['ok'] is True and f['visible_databases']=='admin|config|local' and f['sysinfo']=='deprecated'"
expect mssql_tds $(port_of mssql) scan_mssql "f['version']=='15.0.2000.5' and f['response_size']>30"
expect couchdb $(port_of couchdb) scan_couchdb "f['couchdb_version']=='3.3.3' and f['couchdb_message']=='Welcome' and f['git_sha']=='40afbcfc7' and f['vendor']=='The Apache Software Foundation' and f['features'].startswith('access-ready|') and f['server_version'].startswith('CouchDB/3.3.3') and f['error']=='unauthorized' and 'visible_databases' not in f"
expect docker $DOCKER scan_docker "f['version']=='$(dockerd --version 2>/dev/null | sed -E 's/^Docker version ([^,]+),.*/\1/')' and f['api_version'].count('.')==1 and f['min_api_version'].count('.')==1 and f['os']=='linux' and f['kernel_version']=='$(uname -r)' and f['git_commit']!='' and f['go_version'].startswith('go') and f['http_code']==200 and f['server'].startswith('Docker/')"
expect kubernetes $(port_of kubernetes) scan_kubernetes "f['version']=='v1.28.2' and f['git_version']=='v1.28.2' and f['major']=='1' and f['minor']=='28' and f['platform']=='linux/amd64' and f['git_tree_state']=='clean' and f['build_date']=='2023-09-13T09:29:07Z' and f['sha256_fingerprint']=='$FP'"
expect citrix $(port_of citrix) scan_http "f['tag']=='citrix' and f['http_code']==200"
expect fortinet $(port_of fortinet) scan_http "f['tag']=='fortinet' and f['server']=='xxxxxxxx-xxxxx'"
expect ivanti $(port_of ivanti) scan_http "f['tag']=='ivanti' and f['version']=='22.3.1.1185'"
expect paloalto $(port_of paloalto) scan_http "f['tag']=='paloalto' and f['http_code']==200"

# Negative controls: no fingerprint fires on an ordinary web server, no protocol module on
# another protocol's server, and each edge module only on its own product.
none "citrix fortinet ivanti paloalto kubernetes" $(port_of nginx_tls) "an nginx page over TLS"
none "couchdb docker etcd http_proxy ipp" $(port_of nginx) "an nginx page"
none "citrix paloalto ivanti" $(port_of fortinet) "a FortiGate"
none "citrix fortinet paloalto" $(port_of ivanti) "an Ivanti appliance"
none "fortinet ivanti paloalto" $(port_of citrix) "a Citrix gateway"
none "citrix fortinet ivanti" $(port_of paloalto) "a GlobalProtect portal"
none "rdp smb vnc ldap mongodb mssql_tds amqp sip imap pop3 ftp smtp" $(port_of nginx) "an HTTP server"
none "rdp vnc ldap mongodb mssql_tds amqp sip" $SMB "smbd"
none "couchdb etcd kubernetes http_proxy ipp" $DOCKER "dockerd"
none "smb rdp mongodb mssql_tds amqp" $LDAP "slapd"
# FTP and SMTP both greet "220 ...": the answer to the first command tells them apart.
none "ftp imap pop3" $SMTP "postfix"
none "smtp imap pop3" $FTP "vsftpd"
echo "probes_tcp_e2e: $fails failure(s)"
exit $((fails > 0))
