#!/usr/bin/env bash
# Agreement check of `vantage lookup` with mmdblookup and a plain CSV scan on the real npm
# data (10,000 random routed IPv4+IPv6 addresses). Exit 0 on 100% agreement, 77 (skip) when
# the data or mmdblookup is absent.
# Usage: tests/enrich/agreement.sh [path/to/vantage] [extra args for agreement.py, e.g. --seed N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
vantage="${1:-${VANTAGE_BIN:-$root/build/enrich/apps/vantage/vantage}}"
shift || true
command -v mmdblookup >/dev/null || { echo "agreement: SKIP, mmdblookup not installed"; exit 77; }
[[ -x "$vantage" ]] || { echo "agreement: vantage binary not found at $vantage"; exit 1; }
exec python3 "$here/agreement.py" --vantage "$vantage" \
  --data "$root/data/node_modules/@ip-location-db" "$@"
