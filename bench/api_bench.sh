#!/usr/bin/env bash
# api2 load figures with wrk: reports/list (signed POST) and report downloads at 64
# concurrent connections, plus server RSS before/after the download run.
# Usage: bench/api_bench.sh VANTAGE_BINARY [DURATION_SECONDS]
# Needs `wrk` (apt-get install -y wrk). Every run is bounded: wrk -d DURATION, loopback only.
# The reports are built in the configured report.layout: VANTAGE_REPORT_LAYOUT=files or pack
# (the default) compares the two (with a separate API_BENCH_DATA each).
set -euo pipefail
vantage="$1"
dur="${2:-10}"
command -v wrk >/dev/null || { echo "api_bench: wrk not installed (apt-get install -y wrk)" >&2; exit 77; }
work=$(mktemp -d)
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
day=2026-01-15
# API_BENCH_DATA=DIR keeps the seeded data directory between runs (same data before/after a
# change, and no minute of seeding each time); it is created on the first run.
d="${API_BENCH_DATA:-$work/d}"
if [[ ! -s "$d/built.txt" ]]; then
  "$vantage" --data-dir "$d" generate --registry-only --orgs 50 --seed 3 >/dev/null 2>&1
  "$vantage" --data-dir "$d" generate -n 200000 --seed 3 --date "$day" -o "$work/feed.jsonl" >/dev/null 2>&1
  "$vantage" --data-dir "$d" ingest -q "$work/feed.jsonl" 2>/dev/null
  "$vantage" --data-dir "$d" report build --date "$day" >"$work/built.txt"
  cp "$work/built.txt" "$d/built.txt"
fi
cp "$d/built.txt" "$work/built.txt"
# The organisation with the biggest report, and that report's id (via the manifest; its bytes
# are a file of its own or a range of the day's pack).
IFS='|' read -r big big_size big_rows <<<"$(sqlite3 "$d/reports.sqlite" \
  "SELECT file_name, size, rows FROM reports ORDER BY size DESC, file_name LIMIT 1")"
org=$(sed -E 's/^[0-9-]{10}-[^-]+-([^-]+)-.*/\1/' <<<"$big")
out=$("$vantage" --data-dir "$d" key issue "$org")
key=$(sed -n 's/^key: *//p' <<<"$out")
secret=$(sed -n 's/^secret: *//p' <<<"$out")
"$vantage" --data-dir "$d" api serve --listen 127.0.0.1:0 --threads 2 >"$work/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 50); do grep -qs listening "$work/serve.out" && break; sleep 0.1; done
port=$(sed -nE 's/.*api=[^:]+:([0-9]+).*/\1/p' "$work/serve.out")
base="http://127.0.0.1:$port"
body="{\"date\": \"$day\", \"apikey\": \"$key\"}"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/.*= //')
cat >"$work/list.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["HMAC2"] = "$sig"
LUA
id=$(curl -s -H "HMAC2: $sig" --data-binary "$body" "$base/api2/reports/list" |
  python3 -c "import json,sys,os; b=os.path.basename(sys.argv[1]); print([e['id'] for e in json.load(sys.stdin) if e['file']==b][0])" "$big")
rss() { awk '/VmRSS|VmHWM/{printf "%s %s kB  ", $1, $2} END {print ""}' "/proc/$server/status"; }
# The machine is shared: the load average goes with every figure.
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "== reports/list ($(tr -cd '{' <<<"$(curl -s -H "HMAC2: $sig" --data-binary "$body" \
  "$base/api2/reports/list")" | wc -c) entries), 64 connections, ${dur}s (org $org)"
load
wrk -t2 -c64 -d"${dur}s" --latency -s "$work/list.lua" "$base/api2/reports/list" |
  grep -E "Requests/sec|50%|99%|Non-2xx|Socket"
echo "== download of $big_size bytes ($big_rows rows), 64 connections, ${dur}s"
load
echo "server RSS before: $(rss)"
wrk -t2 -c64 -d"${dur}s" --latency -H "Accept-Encoding: identity" "$base/dl/$id" |
  grep -E "Requests/sec|Transfer/sec|50%|99%|Non-2xx|Socket"
echo "server RSS after:  $(rss)"
load
