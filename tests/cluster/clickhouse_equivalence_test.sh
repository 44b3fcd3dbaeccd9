#!/usr/bin/env bash
# Cluster mode (issue #19): the same generated day -- 300 organisations, malformed rows
# included -- ingested into the embedded SQLite store and into the ClickHouse store on two real
# shards (twice, the second time with the checkpoints gone, as a redelivering bus would), must
# give byte-identical reports and the same status, quarantine and api2 answers. Then a shard killed
# with -9 during a report build must fail the build with an error naming it, and after the
# restart the rebuild must equal the first build.
# Usage: clickhouse_equivalence_test.sh VANTAGE_BINARY SOURCE_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
cl_init clickhouse_equivalence "$1" "$2"
fail() { cl_fail "$@"; }
# One CSV file per report, so that `report build` prints each file's path (the default pack
# layout holds the same bytes, byte for byte: PackTest and report_intelmq check that).
export VANTAGE_REPORT_LAYOUT=files
# "sha256  name" of every file `report build` listed (its first column); a listed file that
# is missing fails the test instead of hashing nothing.
hash_built() {
  cut -f1 "$1" | while read -r f; do
    [[ -f "$f" ]] || { echo "clickhouse_equivalence: FAILED: $f was listed but not written" >&2; exit 1; }
    echo "$(sha256sum "$f" | cut -d' ' -f1)  $(basename "$f")"
  done
}

cl_up
cl_day 300 20000 19  # the registry in both, the feed, its direct ingest into SQLite ($work/ref)
sql="$work/ref"; ch="$work/cl"
cl_env equivalence
# Without the bus settings: `status` would show a cluster section the SQLite side has not.
with_ch() { env "${cluster_env[@]}" VANTAGE_CLUSTER_NATS_URLS= "$vantage" --data-dir "$ch" "$@"; }

t0=$(date +%s.%N)
with_ch ingest -q "$work/feed.jsonl" 2>/dev/null
t1=$(date +%s.%N)
# Redelivery: the whole input again with its checkpoint gone.
ch_sql "TRUNCATE TABLE equivalence.checkpoints"
with_ch ingest -q "$work/feed.jsonl" 2>/dev/null
occurrences=$(ch_sql "SELECT count() FROM equivalence.occurrences_all")
distinct=$(ch_sql "SELECT uniqExact(occurrence_id) FROM equivalence.occurrences_all")
echo "clickhouse_equivalence: ingest into ClickHouse $(echo "$t1 - $t0" | bc) s; occurrence rows $occurrences, distinct $distinct"
((occurrences > 0)) || fail "nothing stored in ClickHouse"

build() {  # build DIR [ch]: report build, then "sha256  name" per file, sorted
  local dir="$1"; shift
  rm -rf "$dir/reports"
  if [[ "${1:-}" == ch ]]; then with_ch report build --date "$day" >"$dir/built.txt"
  else "$vantage" --data-dir "$dir" report build --date "$day" >"$dir/built.txt"; fi
  hash_built "$dir/built.txt" | sort
}
build "$sql" >"$work/sql.sha"
build "$ch" ch >"$work/ch.sha"
n=$(wc -l <"$work/sql.sha")
((n > 100)) || fail "only $n reports from the SQLite store"
diff -u "$work/sql.sha" "$work/ch.sha" >&2 || fail "reports differ (above)"
echo "clickhouse_equivalence: $n reports byte-identical"

# Status (per-source counters) and quarantine answer alike.
"$vantage" --data-dir "$sql" status >"$work/sql.status" 2>&1 || true
with_ch status >"$work/ch.status" 2>&1 || true
"$vantage" --data-dir "$sql" quarantine >"$work/sql.q" 2>&1 || true
with_ch quarantine >"$work/ch.q" 2>&1 || true
# The last build's time differs; the ClickHouse store adds its shards' lines (checked below).
strip() { grep -v -e '^last report build' -e '^store shards:' -e '^  shard ' -e '^$' "$1"; }
diff -u <(strip "$work/sql.status") <(strip "$work/ch.status") >&2 || fail "status differs"
diff -u "$work/sql.q" "$work/ch.q" >&2 || fail "quarantine differs"
grep -q . "$work/sql.q" || fail "no quarantined rows (--bad-every)"
# `status` lists every shard with its rows: together they hold every stored occurrence row.
shard_rows=$(sed -nE 's/^  shard [^ ]+: ([0-9]+) occurrence rows.*/\1/p' "$work/ch.status")
(($(wc -l <<<"$shard_rows") == 2)) || { cat "$work/ch.status" >&2; fail "status does not list 2 shards"; }
stored=$(curl -sS --fail "$CLICKHOUSE_URL/" --data-binary \
  "SELECT count() FROM equivalence.occurrences_all")
listed=$(($(paste -sd+ <<<"$shard_rows")))
((listed >= stored)) || fail "shard rows ($listed) below the stored rows ($stored)"
echo "clickhouse_equivalence: status lists 2 shards, $listed occurrence rows ($stored after merges)"

# The api2 answers (stats, types, report list) of both stores for the organisation with the
# most reports that day, through one API key that both registries hold.
busiest=$(sed -E 's/^[0-9a-f]+  [0-9]{4}-[0-9]{2}-[0-9]{2}-[^-]+-([^-]+)-[a-z]+\.csv$/\1/' \
  "$work/sql.sha" | sort | uniq -c | sort -rn | awk 'NR==1 {print $2}')
issued=$("$vantage" --data-dir "$sql" key issue "$busiest")
api_key=$(sed -nE 's/^key:[[:space:]]+(\S+).*/\1/p' <<<"$issued")
api_secret=$(sed -nE 's/^secret:[[:space:]]+(\S+).*/\1/p' <<<"$issued")
cp "$sql/registry.sqlite" "$ch/registry.sqlite"
VANTAGE_STORE_ENGINE=clickhouse VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL" \
  VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS" \
  VANTAGE_STORE_CLICKHOUSE_DATABASE=equivalence \
  python3 "$src/tests/cluster/api_compare.py" "$vantage" "$sql" "$ch" "$api_key" "$api_secret" "$day" ||
  fail "api2 answers differ"

# A shard killed with -9 while the reports are built: a clear error naming the node.
pid2=$(cat "$work/cluster/clickhouse/n2/pid")
(sleep 1; kill -9 "$pid2") &  # mid-build, if it lands: the bulk read takes about a second
killer=$!
rm -rf "$ch/reports"
if with_ch report build --date "$day" >"$work/broken.txt" 2>"$work/broken.err"; then
  wait "$killer"
  # The build may have finished before the kill landed: then build again against the dead shard.
  with_ch report build --date "$day" >"$work/broken.txt" 2>"$work/broken.err" &&
    fail "report build succeeded with a shard down"
fi
wait "$killer" || true
grep -qi "clickhouse" "$work/broken.err" || { cat "$work/broken.err" >&2; fail "no ClickHouse error message"; }
echo "clickhouse_equivalence: shard down -> $(grep -i clickhouse "$work/broken.err" | head -1 | cut -c1-200)"
with_ch status >"$work/down.status" 2>&1 && fail "status succeeded with a shard down"
grep -q "^  shard .*: DOWN: ClickHouse at http" "$work/down.status" ||
  { cat "$work/down.status" >&2; fail "status does not show the dead shard as DOWN"; }
"$src/scripts/cluster.sh" up --dir "$work/cluster" >/dev/null
# The whole day rebuilt after the restart must equal the SQLite build.
build "$ch" ch >"$work/ch2.sha"
diff -u "$work/sql.sha" "$work/ch2.sha" >&2 || fail "rebuild after the restart differs"
echo "clickhouse_equivalence: rebuild after the shard restart byte-identical ($(wc -l <"$work/ch2.sha") reports)"
