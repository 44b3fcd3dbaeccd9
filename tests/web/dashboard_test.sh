#!/usr/bin/env bash
# Dashboard end to end in a real browser: a temp data dir loaded with a known synthetic data set
# (organisations, five days of events, one day's reports), `vantage serve` on a port it picks,
# the dashboard assets built from the current web/ sources, then dashboard.spec.mjs drives
# headless Chromium through every page and compares what is shown with the store.
# Screenshots go to ./artifacts/dashboard/ (the ctest working directory) and to
# ${VANTAGE_ARTIFACTS:-<source>/build/artifacts}/dashboard/.
# Usage: dashboard_test.sh VANTAGE_BINARY
set -euo pipefail
vantage="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
web="$root/web"

for need in /usr/bin/chromium "$web/node_modules/playwright-core" "$web/node_modules/esbuild"; do
  if [[ ! -e "$need" ]]; then
    echo "dashboard_test: FAILED: $need is missing (run scripts/install-deps.sh --test)" >&2
    exit 1
  fi
done
command -v sqlite3 >/dev/null || { echo "dashboard_test: FAILED: sqlite3 missing" >&2; exit 1; }

work=$(mktemp -d /tmp/vantage-dashboard.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -INT "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
v() { "$vantage" --data-dir "$work/d" "$@"; }

# Assets from the current sources, so the test never runs against a stale web/dist.
(cd "$web" && node build.mjs --out "$work/dist" >/dev/null)

# The data set: synthetic organisations drawn from the routing data, 8,000 events over five
# days (a few malformed, which the pipeline quarantines), reports for the last day.
# Recent days (yesterday and the four before), inside the store's retention window.
last=$(date -u -d yesterday +%F)
first=$(date -u -d "$last - 4 days" +%F)
v generate --registry-only --orgs 300 --seed 7 >/dev/null 2>&1
v generate -n 8000 --days 5 --date "$first" --seed 7 --bad-every 997 -o "$work/feed.jsonl" >/dev/null 2>&1
v ingest -q "$work/feed.jsonl" >/dev/null 2>&1
v report build --date "$last" >"$work/built.txt"

# The two organisations with the most events get API keys (secrets parsed from the one-time
# output, never printed).
mapfile -t top < <(sqlite3 -readonly "$work/d/events.sqlite" \
  "SELECT org_id FROM org_stats GROUP BY org_id ORDER BY sum(events) DESC, org_id LIMIT 2")
if ((${#top[@]} < 2)); then
  echo "dashboard_test: FAILED: fewer than two organisations have events" >&2
  exit 1
fi
orgs_json="["
for id in "${top[@]}"; do
  short=$(v org list | awk -F'\t' -v id="$id" '$1 == id { print $2 }')
  issued=$(v key issue "$short" 2>&1)
  key=$(sed -n 's/^ *key: *\([^ ]*\).*/\1/p' <<<"$issued" | head -1)
  secret=$(sed -n 's/^ *secret: *\([^ ]*\).*/\1/p' <<<"$issued" | head -1)
  if [[ -z "$short" || -z "$key" || -z "$secret" ]]; then
    echo "dashboard_test: FAILED: could not issue a key for organisation $id" >&2
    exit 1
  fi
  # A push subscription each (a MISP feed: nothing is sent), for the organisation view's table.
  v subscription add "$short" --name "misp-$short" --kind misp >/dev/null
  reports=$(cut -f1 "$work/built.txt" | xargs -rn1 basename | grep -E -- "-${short}-(asn|cidr|geo|domain)\.csv$" |
    python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')
  orgs_json+="{\"id\":$id,\"short\":\"$short\",\"key\":\"$key\",\"secret\":\"$secret\",\"reports\":$reports},"
done
orgs_json="${orgs_json%,}]"

min_count=3
VANTAGE_DASHBOARD_MIN_COUNT=$min_count VANTAGE_DASHBOARD_WEB_ROOT="$work/dist" \
  "$vantage" --data-dir "$work/d" serve --listen 127.0.0.1:0 --no-day-close >"$work/serve.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 300); do  # up to 30 s for the 'listening' line
  base=$(sed -n 's/.*listening \(http:\/\/[^ ]*\).*/\1/p' "$work/serve.log" | head -1)
  [[ -n "$base" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$base" ]]; then
  echo "dashboard_test: FAILED: vantage serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

shots="$PWD/artifacts/dashboard"
rm -rf "$shots"
mkdir -p "$shots"
cat >"$work/fixture.json" <<EOF
{"base":"$base","web":"$web","events_db":"$work/d/events.sqlite","reports_db":"$work/d/reports.sqlite",
 "min_count":$min_count,"from":"$first","to":"$last","shots":"$shots","orgs":$orgs_json}
EOF
rc=0
node "$here/dashboard.spec.mjs" "$work/fixture.json" || rc=$?

artifacts="${VANTAGE_ARTIFACTS:-$root/build/artifacts}/dashboard"
mkdir -p "$artifacts"
cp "$shots"/*.png "$artifacts"/ 2>/dev/null || true
echo "dashboard_test: screenshots in $shots and $artifacts"
if ((rc != 0)); then
  echo "dashboard_test: server log (last lines):" >&2
  tail -n 20 "$work/serve.log" >&2
fi
exit $rc
