#!/usr/bin/env bash
# A demo day end to end: synthetic organisations and events (drawn from the real routing data
# when installed), ingest, `vantage report build` (the default report.layout, one pack for the
# day), `vantage report export` (one file per report, sha256-checked), then every report file
# must parse with zero errors under IntelMQ's Shadowserver rules (report_schema/intelmq.json)
# and be byte for byte the file a build with report.layout = "files" writes.
# Usage: report_e2e_test.sh VANTAGE_BINARY [SHARED_DIR]
set -euo pipefail
vantage="$1"
shared="${2:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}"
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
day=2026-01-15
"$vantage" --data-dir "$work/d" generate --registry-only --orgs 300 --seed 11 >/dev/null 2>&1
"$vantage" --data-dir "$work/d" generate -n 20000 --seed 11 --date "$day" \
  -o "$work/feed.jsonl" >/dev/null 2>&1
"$vantage" --data-dir "$work/d" ingest -q "$work/feed.jsonl" 2>/dev/null
"$vantage" --data-dir "$work/d" report build --date "$day" >"$work/built.txt"
n=$(wc -l <"$work/built.txt")
echo "report_e2e: $n reports built for $day"
if ((n == 0)); then
  echo "report_e2e: FAILED: no reports" >&2
  exit 1
fi
# Every file is named YYYY-MM-DD-<type>-<org>-<filter>.csv with [A-Za-z0-9_] parts.
if cut -f1 "$work/built.txt" | xargs -n1 basename | grep -Ev '^2026-01-15-[A-Za-z0-9_]+-[A-Za-z0-9_]+-(asn|cidr|geo|domain)\.csv$'; then
  echo "report_e2e: FAILED: bad report file names (above)" >&2
  exit 1
fi
"$vantage" --data-dir "$work/d" report export --date "$day" --dir "$work/export"
exported=$(find "$work/export" -name '*.csv' | wc -l)
if ((exported != n)); then
  echo "report_e2e: FAILED: $exported files exported, $n reports built" >&2
  exit 1
fi
# The same day built as one file per report (a second data directory, the same inputs).
cp -r "$work/d" "$work/files"
rm -rf "$work/files/reports" "$work/files/reports.sqlite"*
VANTAGE_REPORT_LAYOUT=files "$vantage" --data-dir "$work/files" report build --date "$day" >/dev/null
if ! diff -r "$work/export" "$work/files/reports/${day:0:4}/${day:5:2}/${day:8:2}"; then
  echo "report_e2e: FAILED: the exported pack differs from the files layout (above)" >&2
  exit 1
fi
echo "report_e2e: $n exported reports identical to the files layout"
find "$work/export" -name '*.csv' -print0 | xargs -0 python3 "$here/intelmq_check.py" \
  "$shared/report_schema/intelmq.json"
