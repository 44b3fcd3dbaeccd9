#!/usr/bin/env bash
# Mail delivery rate: N small reports (default 1000), one message each (per-report mode, zipped
# attachment), handed by the Deliverer over one libcurl SMTP connection to a private Postfix on
# loopback; prints messages/s as measured around Deliverer::deliver_reports (handing over, not
# final Maildir delivery). With --pgp, also the rate for PGP/MIME-encrypted messages.
#
# Usage: bench/mail_bench.sh [--pgp] [N] [DRIVER]   (needs root and postfix, like the test)
#   DRIVER defaults to build/dev/src/delivery/delivery_smtp_driver or the first one under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

pgp=0
[[ "${1:-}" == "--pgp" ]] && { pgp=1; shift; }
N=${1:-1000}
DRIVER=${2:-}
if [[ -z "$DRIVER" ]]; then
  DRIVER=build/dev/src/delivery/delivery_smtp_driver
  [[ -x $DRIVER ]] || DRIVER=$(find build -path '*/src/delivery/delivery_smtp_driver' -type f | head -n1)
fi
[[ -n "$DRIVER" && -x "$DRIVER" ]] || { echo "mail_bench: build delivery_smtp_driver first" >&2; exit 1; }
DRIVER=$(realpath "$DRIVER")
[[ $EUID -eq 0 ]] || { echo "mail_bench: needs root (private Postfix instance)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/vbench.XXXXXX)
chmod 755 "$WORK"
source "$ROOT/tests/delivery/postfix_env.sh"
cleanup() {
  pf_stop
  [[ -d "$WORK/gnupg" ]] && gpgconf --homedir "$WORK/gnupg" --kill all 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export TMPDIR=$WORK

pf_start "$WORK/pf" reports
DATE=2026-11-22
mkdir -p "$WORK/reports"
python3 - "$WORK/reports" "$N" "$DATE" > "$WORK/manifest" <<'PY'
import os, sys
d, n, date = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    name = "%s-scan_smb-org%04d-asn.csv" % (date, i)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write('"timestamp","ip","port","hostname","tag"\n')
        for j in range(5):
            f.write('"%s 00:%02d:00","192.0.2.%d",445,"host%d.example.org","smb"\n' % (date, j, (i + j) % 250, j))
    print("r-%d\tscan_smb\t%s\thttps://vantage.test/dl/r-%d" % (i, path, i))
PY

echo "mail_bench: $N messages (per-report, zip, ~300-byte CSV each) to 127.0.0.1:$PF_PORT (Postfix)"
"$DRIVER" --smtp "smtp://127.0.0.1:$PF_PORT" --log "$WORK/plain.sqlite" --org bench --date $DATE \
  --to reports@reports.test --manifest "$WORK/manifest" --bench | sed 's/^/plain: /'

if [[ $pgp == 1 ]]; then
  mkdir -m 700 "$WORK/gnupg"
  G="gpg --homedir $WORK/gnupg --batch --quiet --pinentry-mode loopback --passphrase ''"
  eval "$G --quick-gen-key 'Reports <reports@reports.test>' ed25519 sign,cert 1d"
  fpr=$(gpg --homedir "$WORK/gnupg" --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
  eval "$G --quick-add-key $fpr cv25519 encr 1d"
  gpg --homedir "$WORK/gnupg" --armor --export reports@reports.test > "$WORK/org.asc"
  "$DRIVER" --smtp "smtp://127.0.0.1:$PF_PORT" --log "$WORK/pgp.sqlite" --org bench --date $DATE \
    --to reports@reports.test --manifest "$WORK/manifest" --key "$WORK/org.asc" --bench |
    sed 's/^/pgp:   /'
fi
