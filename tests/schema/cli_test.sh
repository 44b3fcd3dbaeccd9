#!/usr/bin/env bash
# `vantage schema` end to end: the embedded catalogue, list/show, --catalogue, and import
# (dry run against the shared report_schema copy, then a refresh with changes into a temp
# file). Usage: cli_test.sh <vantage binary> <source dir>
set -euo pipefail
vantage="$1"
src="$2"
shared="${VANTAGE_SHARED_DIR:-$src/../shared}/report_schema"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

summary=$("$vantage" schema list --summary)
[[ "$summary" == "170 report types "* ]] || fail "summary: $summary"
[[ "$summary" == *"By default severity:"* ]] || fail "summary lacks severities: $summary"
list=$("$vantage" schema list)  # captured: `grep -q` in a pipe would SIGPIPE the writer
[[ $(wc -l <<<"$list") -eq 171 ]] || fail "list should print a header and 170 types"
grep -Eq '^event4_sinkhole +33 +critical +src_ip \(ip\)$' <<<"$list" ||
  fail "list row for event4_sinkhole"

show=$("$vantage" schema show scan_http)
grep -Eq '^ +5 +port +integer$' <<<"$show" || fail "show scan_http: port"
grep -Eq '^ +3 +ip +ip$' <<<"$show" || fail "show scan_http: ip"
if "$vantage" schema show no_such_type 2>/dev/null; then fail "unknown type must fail"; fi

# --catalogue replaces the built-in catalogue.
cat >"$work/tiny.json" <<'JSON'
{"format": "vantage-catalogue/1", "types": [
  {"name": "scan_tiny", "id": 1, "default_severity": "low",
   "constituent": {"column": "ip", "kind": "ip"},
   "columns": [["timestamp", "timestamp"], ["ip", "ip"]]}]}
JSON
[[ $("$vantage" --catalogue "$work/tiny.json" schema list --summary) == "1 report types "* ]] ||
  fail "--catalogue not used"
if "$vantage" --catalogue "$work/missing.json" schema list 2>/dev/null; then
  fail "a missing --catalogue must fail"
fi

if [[ -f "$shared/reports.json" ]]; then
  out=$("$vantage" schema import "$shared/reports.json" --types "$shared/types.md" \
    --severity "$shared/severity.md" --intelmq "$shared/intelmq.json" --dry-run)
  [[ "$out" == "170 types: 0 added, 0 removed, 0 changed" ]] || fail "dry run: $out"
  # Upstream drops one type, adds one and grows another: all three are reported.
  python3 - "$shared/reports.json" "$work/reports.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["scan_http"]
d["scan_new"] = {"fields": ["timestamp", "ip", "port", "foo"]}
d["scan_ftp"]["fields"].append("newcol")
json.dump(d, open(sys.argv[2], "w"))
PY
  cp "$src/schemas/catalogue.json" "$work/catalogue.json"
  out=$("$vantage" schema import "$work/reports.json" --output "$work/catalogue.json")
  grep -qx -- '- type scan_http' <<<"$out" || fail "removed type not reported: $out"
  grep -qx -- '+ type scan_new (4 columns)' <<<"$out" || fail "added type not reported: $out"
  grep -qx -- '~ scan_ftp: + column newcol (string)' <<<"$out" || fail "new column: $out"
  grep -q '^170 types: 1 added, 1 removed, 1 changed$' <<<"$out" || fail "counts: $out"
  show=$("$vantage" --catalogue "$work/catalogue.json" schema show scan_new)
  grep -Eq '^ +3 +port +integer$' <<<"$show" || fail "refreshed catalogue not readable"
else
  echo "no report_schema at $shared: import checks skipped"
fi
echo "schema CLI: ok"
