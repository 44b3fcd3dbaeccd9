#!/usr/bin/env bash
# The portal end to end in a real browser (headless Debian Chromium driven by playwright-core):
# a new applicant registers on register.html, confirms the address from the mail a real Postfix
# on 127.0.0.1 delivered to its Maildir, publishes the DNS TXT token in a real Unbound on
# 127.0.0.1 that `vantage serve` is configured to ask, the operator approves in console.html,
# the applicant signs in to portal.html, adds a recipient and a GnuPG-made PGP key, issues an
# API key, and that key works with a call-api.py style client (call_api_client.py).
# Screenshots are kept in a temporary directory whose path is printed (and copied to
# ${VANTAGE_ARTIFACTS:-<source>/build/artifacts}/portal/).
#
# Usage: portal_browser_test.sh VANTAGE     (exit 77 = skipped: not root)
set -euo pipefail
VANTAGE=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WEB=$ROOT/web
if [[ $EUID -ne 0 ]]; then echo "SKIP: a private Postfix instance needs root"; exit 77; fi
for need in /usr/bin/chromium "$WEB/node_modules/playwright-core" "$WEB/node_modules/esbuild"; do
  [[ -e "$need" ]] || { echo "portal_browser: FAILED: $need missing (scripts/install-deps.sh --test)" >&2; exit 1; }
done
for tool in postfix unbound unbound-control gpg python3 node; do
  command -v "$tool" >/dev/null || { echo "portal_browser: FAILED: $tool missing (scripts/install-deps.sh --test)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/vportal.XXXXXX)
chmod 755 "$WORK"
SHOTS=$(mktemp -d /tmp/vantage-portal-shots.XXXXXX)
# shellcheck source=../delivery/postfix_env.sh
source "$ROOT/tests/delivery/postfix_env.sh"
# shellcheck source=unbound_env.sh
source "$HERE/unbound_env.sh"
SERVER=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER" ]] && kill -0 "$SERVER" 2>/dev/null; then
    kill -INT "$SERVER" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER" 2>/dev/null || true
  fi
  pf_stop
  ub_stop
  if [[ $rc -ne 0 ]]; then
    echo "--- serve log (last lines)"; tail -n 30 "$WORK/serve.log" 2>/dev/null || true
    echo "--- maillog"; tail -n 10 "$WORK/pf/maillog" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

pf_start "$WORK/pf" applicant
ub_start "$WORK/ub"
(cd "$WEB" && node build.mjs --out "$WORK/dist" >/dev/null)

# A GnuPG key for the applicant (ed25519 + cv25519: quick to make).
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Applicant Networks <applicant@reports.test>' future-default default never 2>/dev/null
gpg --batch --armor --export applicant@reports.test >"$WORK/applicant.asc"
PGP_FPR=$(gpg --batch --with-colons --fingerprint applicant@reports.test | awk -F: '$1 == "fpr" { print $10; exit }')
unset GNUPGHOME

D=$WORK/d
export VANTAGE_SMTP_URL="smtp://127.0.0.1:$PF_PORT" VANTAGE_SMTP_FROM=vantage@vantage.test
export VANTAGE_PORTAL_DNS_RESOLVER="127.0.0.1:$UB_PORT"
export VANTAGE_ENRICH_ASN_V4=$ROOT/tests/fixtures/enrich/asn-ipv4.csv
export VANTAGE_ENRICH_ASN_V6=$ROOT/tests/fixtures/enrich/asn-ipv6.csv
export VANTAGE_DASHBOARD_WEB_ROOT=$WORK/dist
OPS_PASSWORD="operator passphrase $(date +%s%N)"
printf '%s\n' "$OPS_PASSWORD" | "$VANTAGE" --data-dir "$D" portal user add ops --role operator --name "Olga Operator" --password-stdin >/dev/null

"$VANTAGE" --data-dir "$D" serve --listen 127.0.0.1:0 --no-day-close >"$WORK/serve.log" 2>&1 &
SERVER=$!
BASE=""
for _ in $(seq 300); do
  BASE=$(sed -n 's/.*listening \(http:\/\/[^ ]*\).*/\1/p' "$WORK/serve.log" | head -1)
  [[ -n "$BASE" ]] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$BASE" ]] || { echo "portal_browser: FAILED: vantage serve did not start" >&2; exit 1; }

cat >"$WORK/fixture.json" <<EOF2
{"base": "$BASE", "web": "$WEB", "maildir": "$PF_DIR/mail/applicant/Maildir/new",
 "ub_conf": "$UB_CONF", "shots": "$SHOTS", "pgp_key_file": "$WORK/applicant.asc", "pgp_fpr": "$PGP_FPR",
 "ops_password": "$OPS_PASSWORD", "client": "$HERE/call_api_client.py", "home": "$WORK/home",
 "portal_db": "$D/portal.sqlite"}
EOF2
mkdir -p "$WORK/home"
rc=0
node "$HERE/portal.spec.mjs" "$WORK/fixture.json" || rc=$?
artifacts="${VANTAGE_ARTIFACTS:-$ROOT/build/artifacts}/portal"
mkdir -p "$artifacts"
cp "$SHOTS"/*.png "$artifacts"/ 2>/dev/null || true
echo "portal_browser: screenshots:"
ls -1 "$SHOTS"/*.png 2>/dev/null | sed 's/^/  /' || true
echo "  (copied to $artifacts)"
exit $rc
