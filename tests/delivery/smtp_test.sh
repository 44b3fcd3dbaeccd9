#!/usr/bin/env bash
# Real-SMTP end-to-end test of the delivery stage (registered with ctest as delivery_real_smtp).
#
# Starts a private Postfix on 127.0.0.1:<free port> delivering to Maildirs in a temp dir,
# sends report mails through our Deliverer (delivery_smtp_driver), reads them back from the
# Maildir and checks headers, PGP/MIME decryption and signature, and that each unzipped
# attachment equals its report file byte for byte. Then the failure paths: rejected
# recipient (5xx), unreachable server (retried, transient), expired and invalid PGP keys
# (nothing sent), too-large report (link), no recipients -- each checked in the delivery log
# through `vantage deliveries`. The EXIT trap stops Postfix and gpg-agent on any failure.
#
# Usage: smtp_test.sh DRIVER VANTAGE      (exit 77 = skipped: not root or postfix missing)
set -euo pipefail

DRIVER=$(realpath "$1")
VANTAGE=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)

if [[ $EUID -ne 0 ]]; then echo "SKIP: a private Postfix instance needs root"; exit 77; fi
for tool in postfix gpg gpgconf unzip python3 script openssl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not installed (scripts/install-deps.sh --test)"; exit 77
  fi
done

WORK=$(mktemp -d /tmp/vsmtp.XXXXXX)
chmod 755 "$WORK"  # Postfix daemons (user postfix, nobody) must reach pf/ below it
# shellcheck source=postfix_env.sh
source "$HERE/postfix_env.sh"
cleanup() {
  local rc=$?
  pf_stop
  for h in "$WORK"/gnupg*; do [[ -d $h ]] && gpgconf --homedir "$h" --kill all 2>/dev/null; done
  if [[ $rc -ne 0 && -f "$WORK/pf/maillog" ]]; then
    echo "--- postfix log ---"; tail -n 30 "$WORK/pf/maillog"
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
CHECK="python3 $HERE/check_mail.py"
DATE=2026-11-22
FROM=vantage@vantage.test
LOG=$WORK/deliveries.sqlite
export TMPDIR=$WORK  # private GNUPGHOMEs of the Deliverer go here, and go away with it

step "starting Postfix with STARTTLS (throwaway certificate for 127.0.0.1)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$WORK/tls-key.pem" -out "$WORK/tls-cert.pem" 2>/dev/null
export PF_TLS_CERT=$WORK/tls-cert.pem PF_TLS_KEY=$WORK/tls-key.pem
have_sasl=0
if command -v saslpasswd2 >/dev/null; then
  have_sasl=1
  export PF_SASL_USER=vantage PF_SASL_PASSWORD="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
pf_start "$WORK/pf" reports noc
SMTP=smtp://127.0.0.1:$PF_PORT
echo "postfix listens on $SMTP"

step "throwaway keys"
G="gpg --batch --quiet --pinentry-mode loopback --passphrase ''"
KEYS=$WORK/gnupg
mkdir -m 700 "$KEYS"
fpr_of() { gpg --homedir "$1" --with-colons --list-keys "$2" | awk -F: '/^fpr/{print $10; exit}'; }
eval "$G --homedir $KEYS --quick-gen-key 'Reports Team <reports@reports.test>' ed25519 sign,cert 1d"
eval "$G --homedir $KEYS --quick-add-key $(fpr_of "$KEYS" reports@reports.test) cv25519 encr 1d"
eval "$G --homedir $KEYS --quick-gen-key 'Vantage Service <vantage@vantage.test>' ed25519 sign 1d"
gpg --homedir "$KEYS" --batch --armor --export reports@reports.test > "$WORK/org.asc"
gpg --homedir "$KEYS" --batch --pinentry-mode loopback --passphrase '' --armor \
  --export-secret-keys vantage@vantage.test > "$WORK/service-secret.asc"
OLD=$WORK/gnupg-old
mkdir -m 700 "$OLD"
eval "$G --homedir $OLD --faked-system-time 20200101T000000 --quick-gen-key 'Old <old@reports.test>' ed25519 sign,cert 1d"
eval "$G --homedir $OLD --faked-system-time 20200101T000000 --quick-add-key $(fpr_of "$OLD" old@reports.test) cv25519 encr 1d"
gpg --homedir "$OLD" --batch --armor --export old@reports.test > "$WORK/expired.asc"
printf -- '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n' > "$WORK/garbage.asc"

step "report files"
R=$WORK/reports
mkdir -p "$R"
SMB=$R/$DATE-scan_smb-example_org-asn.csv
RDP=$R/$DATE-scan_rdp-example_org-asn.csv
HTTP=$R/$DATE-scan_http-example_org-asn.csv
printf '"timestamp","ip","port","hostname","tag","sector"\n"%s 01:02:03","192.0.2.1",445,"smb.example.org","smb,v1","Communications, Service Provider"\n"%s 02:03:04","192.0.2.2",445,,"","Caf\xc3\xa9 \"quoted\""\n' $DATE $DATE > "$SMB"
printf '"timestamp","ip","port"\n"%s 03:04:05","198.51.100.7",3389\n' $DATE > "$RDP"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('\"timestamp\",\"ip\",\"port\"\n')
    for i in range(2000): f.write('\"$DATE 00:00:%02d\",\"203.0.113.%d\",80\n' % (i % 60, i % 250))
" "$HTTP"

# Opportunistic STARTTLS, verified against the throwaway certificate.
driver() { "$DRIVER" --smtp "$SMTP" --ca-file "$PF_TLS_CERT" --from "$FROM" --log "$LOG" --date "$DATE" "$@"; }

# --- 1. per-report, zipped, encrypted and signed, two recipients ------------------------------
step "per-report mails: zip + PGP/MIME (encrypted, signed) to two recipients"
OUT=$(driver --org org-a --name example_org --to reports@reports.test --to noc@reports.test \
  --key "$WORK/org.asc" --sign-key "$WORK/service-secret.asc" --summary "2 reports: 2 new, 0 recurring" \
  --report "r-smb:scan_smb:$SMB" --report "r-rdp:scan_rdp:$RDP")
echo "$OUT"
[[ $(grep -c $'\tdelivered\t1\t250\t' <<<"$OUT") -eq 4 ]] || fail "expected 4 delivered mails"
pf_wait_count reports 2
pf_wait_count noc 2
mid() { awk -F'\t' -v u="$1" -v r="$2" '$1==u && $2==r {print $6}' <<<"$OUT"; }
for rcpt in reports noc; do
  $CHECK --maildir "$PF_DIR/mail/$rcpt/Maildir" --to "$rcpt@reports.test" --from-domain vantage.test \
    --list-id reports.vantage.example --gnupghome "$KEYS" --encrypted --signed \
    --subject "[Vantage] example_org: scan_smb report for $DATE" \
    --message-id "$(mid r-smb "$rcpt@reports.test")" \
    --zip "$DATE-scan_smb-example_org-asn.zip=$SMB"
  $CHECK --maildir "$PF_DIR/mail/$rcpt/Maildir" --to "$rcpt@reports.test" --from-domain vantage.test \
    --list-id reports.vantage.example --gnupghome "$KEYS" --encrypted --signed \
    --subject "[Vantage] example_org: scan_rdp report for $DATE" \
    --message-id "$(mid r-rdp "$rcpt@reports.test")" \
    --zip "$DATE-scan_rdp-example_org-asn.zip=$RDP"
done

# --- 2. digest, plain CSV, one report too large: link instead ---------------------------------
step "digest mail: plain CSV attachment, oversized report as a link"
# The summary has a line starting with '.', which SMTP must dot-stuff (RFC 5321 §4.5.2).
OUT=$(driver --org org-a --name example_org --to reports@reports.test --mode digest --attach plain \
  --summary $'Totals for 2026-11-22:\n.dot-led line\nscan_smb: 2 events (1 high, 1 medium), 2 new' \
  --max-bytes 20000 --report "r-smb:scan_smb:$SMB" \
  --report "r-http:scan_http:$HTTP:https://vantage.test/dl/r-http")
echo "$OUT"
[[ $(grep -c $'\tdelivered\t1\t250\t' <<<"$OUT") -eq 1 ]] || fail "digest not delivered"
pf_wait_count reports 3
$CHECK --maildir "$PF_DIR/mail/reports/Maildir" --to reports@reports.test --from-domain vantage.test \
  --list-id reports.vantage.example --subject "[Vantage] example_org: 2 reports for $DATE" \
  --message-id "$(mid "digest-org_a-$DATE" reports@reports.test)" \
  --plain "$SMB" --link https://vantage.test/dl/r-http \
  --body-line ".dot-led line" --body-line "scan_smb: 2 events (1 high, 1 medium), 2 new"

# Every mail so far went over STARTTLS.
tls=$(grep -c 'Anonymous TLS connection established from localhost' "$PF_DIR/maillog" || true)
[[ $tls -ge 2 ]] || fail "mail was not sent over STARTTLS ($tls TLS sessions logged)"

# --- 2b. STARTTLS required: with a server certificate we cannot verify, nothing is sent ------
step "STARTTLS required, unverifiable certificate"
OUT=$("$DRIVER" --smtp "$SMTP" --starttls required --from "$FROM" --log "$LOG" --date "$DATE" \
  --org org-tls --to reports@reports.test --ca-file /etc/ssl/certs/ca-certificates.crt \
  --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="failed" && $4==1 && $5==0 && $7 ~ /certificate/' <<<"$OUT" | grep -q . ||
  fail "unverified TLS peer not a permanent failure"
step "STARTTLS required, verified certificate"
OUT=$(driver --starttls required --org org-tls --to reports@reports.test --report "r-rdp:scan_rdp:$RDP")
echo "$OUT"
[[ $(grep -c $'\tdelivered\t1\t250\t' <<<"$OUT") -eq 1 ]] || fail "required STARTTLS delivery failed"
pf_wait_count reports 4

step "smtps:// (implicit TLS)"
OUT=$("$DRIVER" --smtp "smtps://127.0.0.1:$PF_SMTPS_PORT" --ca-file "$PF_TLS_CERT" --from "$FROM" \
  --log "$LOG" --date "$DATE" --org org-tls --to noc@reports.test --report "r-rdp:scan_rdp:$RDP")
echo "$OUT"
[[ $(grep -c $'\tdelivered\t1\t250\t' <<<"$OUT") -eq 1 ]] || fail "smtps delivery failed"
pf_wait_count noc 3

# --- 2c. SMTP AUTH over STARTTLS; the password never shows up in any output or the log -------
if [[ $have_sasl == 1 ]]; then
  step "SMTP AUTH (PLAIN over STARTTLS)"
  OUT=$(VANTAGE_SMTP_PASSWORD=$PF_SASL_PASSWORD driver --user vantage --org org-auth \
    --to reports@reports.test --report "r-rdp:scan_rdp:$RDP" 2>&1)
  echo "$OUT"
  [[ $(grep -c $'\tdelivered\t1\t250\t' <<<"$OUT") -eq 1 ]] || fail "authenticated delivery failed"
  grep -q 'sasl_method=PLAIN, sasl_username=vantage' "$PF_DIR/maillog" || fail "server saw no AUTH"
  pf_wait_count reports 5
  step "SMTP AUTH with a wrong password"
  OUT2=$(VANTAGE_SMTP_PASSWORD=wrong-$PF_SASL_PASSWORD driver --user vantage --org org-auth \
    --to reports@reports.test --report "r-rdp:scan_rdp:$RDP" 2>&1)
  echo "$OUT2"
  awk -F'\t' '$3=="failed" && $4==1 && $5==535' <<<"$OUT2" | grep -q . || fail "535 not a permanent failure"
  if grep -qa -- "$PF_SASL_PASSWORD" <<<"$OUT$OUT2" || grep -qa -- "$PF_SASL_PASSWORD" "$LOG"* ||
     "$VANTAGE" deliveries --db "$LOG" | grep -q -- "$PF_SASL_PASSWORD"; then
    fail "the SMTP password leaked into output or the delivery log"
  fi
  MAILS=5
else
  echo "NOTE: saslpasswd2 (sasl2-bin) not installed: SMTP AUTH not exercised"
  MAILS=4
fi

# --- 3. rejected recipient: 5xx, failed, not retried -------------------------------------------
step "rejected recipient"
OUT=$(driver --org org-reject --to nobody@reports.test --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="failed" && $4==1 && $5==550' <<<"$OUT" | grep -q . || fail "550 not recorded as failed"

# --- 3b. deferred recipient: 4xx, transient, retried with back-off, then failed ---------------
step "deferred recipient (451)"
OUT=$(driver --org org-busy --to busy@reports.test --max-attempts 2 --backoff-ms 50 --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="failed" && $4==2 && $5==451 && $7 ~ /mailbox busy/' <<<"$OUT" | grep -q . || fail "451 not retried as transient"

# --- 4. unreachable server: transient, retried with back-off, then failed ----------------------
step "unreachable server"
DEAD=$(pf_free_port)
OUT=$("$DRIVER" --smtp "smtp://127.0.0.1:$DEAD" --from "$FROM" --log "$LOG" --date "$DATE" \
  --org org-down --to reports@reports.test --max-attempts 3 --backoff-ms 50 --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="failed" && $4==3 && $5==0' <<<"$OUT" | grep -q . || fail "unreachable server not retried 3 times"

# --- 5./6. expired and invalid PGP keys: nothing sent -----------------------------------------
step "expired PGP key"
OUT=$(driver --org org-expired --to reports@reports.test --key "$WORK/expired.asc" --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="not_sent" && $7 ~ /expired/ && $7 ~ /not sent in clear/' <<<"$OUT" | grep -q . || fail "expired key not reported"
step "invalid PGP key"
OUT=$(driver --org org-badkey --to reports@reports.test --key "$WORK/garbage.asc" --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="not_sent" && $7 ~ /pgp:/' <<<"$OUT" | grep -q . || fail "invalid key not reported"

# --- 7. no recipients ---------------------------------------------------------------------------
step "organisation without recipients"
OUT=$(driver --org org-norcpt --report "r-smb:scan_smb:$SMB")
echo "$OUT"
awk -F'\t' '$3=="no_recipients"' <<<"$OUT" | grep -q . || fail "no recipients not logged"

# Nothing from 3-7 reached a mailbox: give Postfix a moment, then count again.
sleep 1
[[ $(find "$PF_DIR/mail/reports/Maildir/new" -type f | wc -l) -eq $MAILS ]] || fail "unexpected extra mail in reports"
[[ $(find "$PF_DIR/mail/noc/Maildir/new" -type f | wc -l) -eq 3 ]] || fail "unexpected extra mail in noc"

# --- the delivery log through the CLI -----------------------------------------------------------
step "vantage deliveries"
V() { "$VANTAGE" deliveries --db "$LOG" "$@"; }
V --date "$DATE"
[[ $(V --org org-a --date "$DATE" | awk -F'\t' '$8=="delivered"' | wc -l) -eq 5 ]] || fail "org-a: expected 5 delivered rows"
[[ $(V --org org-a | awk -F'\t' '$8=="delivered" && $10=="yes"' | wc -l) -eq 4 ]] || fail "org-a: expected 4 encrypted rows"
[[ $(V --org org-down | awk -F'\t' '$8=="retrying"' | wc -l) -eq 2 ]] || fail "org-down: expected 2 retrying rows"
[[ $(V --org org-down | awk -F'\t' '$8=="failed" && $7==3' | wc -l) -eq 1 ]] || fail "org-down: expected final failed row"
V --org org-reject | awk -F'\t' '$8=="failed" && $9==550 && $12 ~ /Recipient address rejected/' | grep -q . || fail "org-reject: 550 reason not logged"
[[ $(V --org org-busy | awk -F'\t' '$8=="retrying" && $9==451' | wc -l) -eq 1 ]] || fail "org-busy: expected 1 retrying row"
V --org org-expired | awk -F'\t' '$8=="not_sent"' | grep -q . || fail "org-expired not logged"
V --org org-norcpt | awk -F'\t' '$8=="no_recipients" && $6=="-"' | grep -q . || fail "org-norcpt not logged"
V --org org-a --date 2026-11-21 | grep -q "no deliveries recorded" || fail "empty day not reported"

# The Deliverer removed its private GNUPGHOMEs.
if compgen -G "$WORK/vantage-gpg-*" >/dev/null; then fail "private GNUPGHOME left behind"; fi
echo "PASS: real SMTP delivery"
