#!/usr/bin/env bash
# The main job on the embedded default: install, build, and run Vantage on a demo day.
# Nothing to install by hand; idempotent (a second run reuses the data in var/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
bin=build/release/apps/vantage/vantage
data=var/demo
"$bin" --help
echo
"$bin" schema list --summary
echo
day=$(date -u -d yesterday +%F)
if [[ ! -f "$data/registry.sqlite" ]]; then
  echo "== demo constituency (SYNTHETIC organisations, prefixes drawn from the real routing data)"
  "$bin" --data-dir "$data" generate --registry-only --orgs 50 --seed 42
fi
feed="$data/inbox/$day-synthetic-feed.jsonl"
if [[ ! -f "$feed" ]]; then
  mkdir -p "$data/inbox"
  echo "== synthetic partner feed for $day (labelled 'synthetic')"
  "$bin" --data-dir "$data" generate -n 50000 --seed 42 --date "$day" --bad-every 5000 -o "$feed"
fi
echo "== ingest"
"$bin" --data-dir "$data" ingest "$feed"
echo "== reports for $day"
"$bin" --data-dir "$data" report build --date "$day" >"$data/last-build.txt"
head -20 "$data/last-build.txt"
echo "... $(wc -l <"$data/last-build.txt") report files in all"
echo
"$bin" --data-dir "$data" status
echo
echo "Reports:     $data/reports/$(date -u -d yesterday +%Y/%m/%d)/"
echo "Quarantine:  $bin --data-dir $data quarantine"
echo "Organisations: $bin --data-dir $data org list"
