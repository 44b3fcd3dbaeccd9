#!/usr/bin/env bash
# End-to-end test of the registry commands: vantage org / key / match / registry against a
# fresh data directory. Usage: cli_test.sh PATH/TO/vantage
set -euo pipefail

VANTAGE_BIN=${1:?usage: cli_test.sh PATH/TO/vantage}
DIR=$(mktemp -d /tmp/vantage_cli_test.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
unset VANTAGE_SERVER_KEY
v() { "$VANTAGE_BIN" --data-dir "$DIR/data" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {  # expect_rc CODE command...
  local want=$1; shift
  set +e; "$@" >"$DIR/out" 2>"$DIR/err"; local rc=$?; set -e
  [[ $rc == "$want" ]] || fail "'$*' exited $rc, expected $want: $(cat "$DIR/err")"
}

v org add --name "Example University" --short EXAMPLE_UNI >/dev/null
v org add --name "Example ISP" --short EXAMPLE_ISP >/dev/null
v org add --name "National CSIRT" --short NCSC --kind national_csirt >/dev/null
[[ $(stat -c %a "$DIR/data/server.key") == 600 ]] || fail "server.key is not 0600"

# Bad input: exit status 2 and a message that says what is wrong.
expect_rc 2 v org add --name X --short bad-name
grep -q "A-Za-z0-9_" "$DIR/err" || fail "short-name error does not explain the rule"
expect_rc 2 v org add --name X --short bad.name
expect_rc 2 v org resource add EXAMPLE_UNI AS-x
expect_rc 2 v org resource add EXAMPLE_UNI 0
expect_rc 2 v org resource add EXAMPLE_UNI 4294967296
expect_rc 2 v org resource add EXAMPLE_UNI 10.0.0.0/33
expect_rc 2 v org resource add EXAMPLE_UNI NL          # countries: national CSIRTs only
expect_rc 2 v org recipient add EXAMPLE_UNI not-an-address

# Host bits: normalised with a warning.
expect_rc 0 v org resource add EXAMPLE_UNI 192.0.2.77/24
grep -q "host bits" "$DIR/err" || fail "no host-bits warning"
grep -q "192.0.2.0/24" "$DIR/out" || fail "CIDR not normalised"
# Duplicate in one org: error; the same prefix in another org: allowed and flagged.
expect_rc 1 v org resource add EXAMPLE_UNI 192.0.2.0/24
expect_rc 0 v org resource add EXAMPLE_ISP 192.0.2.0/23
expect_rc 0 v org resource add EXAMPLE_ISP 192.0.2.0/24
grep -q "also claimed by EXAMPLE_UNI" "$DIR/err" || fail "shared claim not flagged on add"
v org show EXAMPLE_UNI | grep -q "SHARED: also claimed by EXAMPLE_ISP" || fail "org show does not flag"
# IDN domain to punycode, with its DNS token.
expect_rc 0 v org resource add EXAMPLE_UNI bücher.example
grep -q "xn--bcher-kva.example" "$DIR/out" || fail "IDN not converted"
grep -q "vantage-verify=" "$DIR/out" || fail "no DNS token shown"
v org resource add EXAMPLE_UNI AS64500 >/dev/null
v org resource add NCSC NL >/dev/null
v org ignore add EXAMPLE_UNI 192.0.2.128/25 >/dev/null
v org opt-out add EXAMPLE_ISP scan_ssh >/dev/null

# match: every covering org, why, and the shared flag; ignore list and opt-out applied.
out=$(v match 192.0.2.10)
grep -q "EXAMPLE_UNI (id 1)  why: cidr" <<<"$out" || fail "match misses EXAMPLE_UNI: $out"
grep -q "EXAMPLE_ISP (id 2)  why: cidr" <<<"$out" || fail "match misses EXAMPLE_ISP: $out"
grep -q "SHARED with" <<<"$out" || fail "match does not flag the shared claim"
v match 192.0.2.200 | grep -q "EXAMPLE_UNI (id 1)" && fail "ignore list not applied"
v match 192.0.2.10 --type scan_ssh | grep -q "EXAMPLE_ISP (id 2)" && fail "opt-out not applied"
v match www.Bücher.example | grep -q "EXAMPLE_UNI (id 1)  why: domain" || fail "domain match"
v match AS64500 | grep -q "why: asn" || fail "asn match"
v match NL | grep -q "NCSC (id 3)  why: geo" || fail "geo match"
v org approve EXAMPLE_ISP 192.0.2.0/24 --reject >/dev/null
v match 192.0.2.10 --most-specific | grep -q "EXAMPLE_ISP (id 2)" && fail "rejected claim still matches"

# Keys: secret shown once, never stored in plaintext, rotation keeps the key id.
issued=$(v key issue EXAMPLE_UNI --label test)
key=$(awk '/^key:/{print $2}' <<<"$issued")
secret=$(awk '/^secret:/{print $2}' <<<"$issued")
[[ -n $key && -n $secret ]] || fail "key issue printed no key/secret"
cat "$DIR"/data/registry.sqlite* | grep -qa "$secret" && fail "plaintext secret in the database"
rotated=$(v key rotate "$key" --overlap 1h)
grep -q "key:    $key" <<<"$rotated" || fail "rotation changed the key id"
v key list | grep -q "$key" || fail "key list"
v key list | grep -qa "$secret" && fail "key list shows a secret"
v key issue --ingest --label sensor >/dev/null

# Export without secrets has none; with secrets round-trips into a new data directory.
v registry export "$DIR/plain.json" 2>/dev/null
grep -q '"secret"' "$DIR/plain.json" && fail "export leaked secrets"
v registry export "$DIR/full.json" --with-secrets 2>/dev/null
[[ $(stat -c %a "$DIR/full.json") == 600 ]] || fail "export with secrets is not 0600"
out=$("$VANTAGE_BIN" --data-dir "$DIR/copy" registry import "$DIR/full.json")
grep -q "3 added" <<<"$out" || fail "import did not add 3 organisations: $out"
out=$("$VANTAGE_BIN" --data-dir "$DIR/copy" registry import "$DIR/full.json")
grep -q "3 unchanged" <<<"$out" || fail "second import changed something: $out"
# A broken file changes nothing.
sed 's/"AS\?64500"/"AS-x"/; s/"value": "64500"/"value": "AS-x"/' "$DIR/full.json" >"$DIR/bad.json"
expect_rc 2 "$VANTAGE_BIN" --data-dir "$DIR/copy" registry import "$DIR/bad.json"

v org remove EXAMPLE_ISP >/dev/null
[[ $(v org list | wc -l) == 2 ]] || fail "org remove"
echo "registry CLI test: OK"
