#!/usr/bin/env bash
# `vantage report build --deliver` end to end against a real SMTP server (registered with ctest
# as delivery_cli): a private Postfix on 127.0.0.1 (tests/delivery/postfix_env.sh), an
# organisation claiming 198.51.100.0/24 with a recipient there, a JSON Lines feed ingested by
# the real pipeline, the day's reports built and mailed by the same code the service's day
# close uses (src/service/report_mail.cc). Checks: one mail per report in the Maildir, its zipped
# attachment equals the report file byte for byte, `vantage deliveries` and `vantage status`
# show it delivered; without smtp.url the build says so and mails nothing.
#
# Usage: cli_deliver_test.sh VANTAGE      (exit 77 = skipped: not root or postfix missing)
set -euo pipefail
# The report files are read from disk below: the one-file-per-report layout (report.layout).
export VANTAGE_REPORT_LAYOUT=files

VANTAGE=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ $EUID -ne 0 ]]; then echo "SKIP: a private Postfix instance needs root"; exit 77; fi
for tool in postfix unzip python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/vdeliver.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=postfix_env.sh
source "$HERE/postfix_env.sh"
cleanup() {
  local rc=$?
  pf_stop
  if [[ $rc -ne 0 && -f "$WORK/pf/maillog" ]]; then tail -n 30 "$WORK/pf/maillog"; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

pf_start "$WORK/pf" csirt
D=$WORK/data
V() { "$VANTAGE" --data-dir "$D" "$@"; }
V org add --name "Delivery Test CSIRT" --short delivery_test >/dev/null
V org resource add delivery_test 198.51.100.0/24 >/dev/null
V org recipient add delivery_test csirt@reports.test >/dev/null

DAY=$(date -u -d yesterday +%F)
python3 - "$WORK/feed.jsonl" "$DAY" <<'PY'
import json, sys
out, day = sys.argv[1], sys.argv[2]
with open(out, "w") as f:
    for i in range(1, 13):
        t = "scan_http" if i % 3 else "scan_ssh"
        f.write(json.dumps({"type": t, "fields": {"timestamp": f"{day} 10:00:{i:02d}",
                "ip": f"198.51.100.{i}", "port": 80 if t == "scan_http" else 22}}) + "\n")
PY
V ingest -q "$WORK/feed.jsonl" || fail "ingest"

# Without smtp.url: built, not mailed, and said so.
OUT=$(V report build --date "$DAY" --deliver 2>&1) || fail "report build without smtp.url"
grep -q "smtp.url is not configured" <<<"$OUT" || fail "missing smtp.url not explained: $OUT"

export VANTAGE_SMTP_URL="smtp://127.0.0.1:$PF_PORT" VANTAGE_SMTP_FROM=vantage@vantage.test
OUT=$(V report build --date "$DAY" --deliver 2>&1) || fail "report build --deliver: $OUT"
echo "$OUT" | tail -3
grep -q "2 mails delivered, 0 not delivered" <<<"$OUT" || fail "expected 2 mails delivered: $OUT"
pf_wait_count csirt 2 30 || fail "mails did not arrive"

MAILDIR=$WORK/pf/mail/csirt/Maildir/new
for report in "$D"/reports/*/*/*/*.csv; do
  name=$(basename "$report")
  msg=$(grep -l "$name" "$MAILDIR"/* | head -1) || fail "no mail carries $name"
  python3 - "$msg" "$WORK/att.zip" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in m.walk():
    if part.get_filename() and part.get_filename().endswith(".zip"):
        open(sys.argv[2], "wb").write(part.get_payload(decode=True))
        sys.exit(0)
sys.exit("no zip attachment")
PY
  rm -rf "$WORK/unz" && mkdir "$WORK/unz" && unzip -q "$WORK/att.zip" -d "$WORK/unz"
  cmp -s "$report" "$WORK/unz/$name" || fail "attachment differs from $name"
  echo "ok   $name mailed, attachment equals the report"
done

V deliveries | grep -c $'\tdelivered\t' | grep -qx 2 || fail "delivery log does not show 2 delivered"
V status | grep -q "delivery_test .*delivered to csirt@reports.test" || fail "status lacks the delivery"
echo "PASS"
