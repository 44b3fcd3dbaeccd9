#!/usr/bin/env bash
# Runs clickhouse_store_test against two real ClickHouse shards started in a temporary
# directory by scripts/cluster.sh and stopped (by PID) at exit. Skips (77) only when
# clickhouse-server is not installed.
# Usage: clickhouse_store_test.sh TEST_BINARY SOURCE_DIR
set -euo pipefail
bin="$1"; src="$2"
command -v clickhouse-server >/dev/null 2>&1 || { echo "clickhouse-server not installed"; exit 77; }
dir="$(mktemp -d /tmp/vantage-chstore.XXXXXX)"
cleanup() { "$src/scripts/cluster.sh" down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
eval "$(CLICKHOUSE_SHARDS=2 "$src/scripts/cluster.sh" up --dir "$dir" | grep '^CLICKHOUSE_' | sed 's/^/export /')"
"$bin"
