#!/usr/bin/env bash
# A demo day end to end: synthetic organisations and events (drawn from the real routing data
# when installed), ingest, `vantage report build`, then every report file must parse with
# zero errors under IntelMQ's Shadowserver rules (report_schema/intelmq.json).
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
cut -f1 "$work/built.txt" | xargs python3 "$here/intelmq_check.py" \
  "$shared/report_schema/intelmq.json"
