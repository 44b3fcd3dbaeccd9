# shellcheck shell=bash
# Shared steps of the cluster tests (sourced; bash, set -euo pipefail in the caller):
#
#   cl_init NAME VANTAGE SOURCE_DIR   check the servers (exit 77 without them), make $work, the
#                                     clean-up trap (background processes and servers killed
#                                     by PID, $work removed)
#   cl_up                             scripts/cluster.sh up: exports CLICKHOUSE_URL,
#                                     CLICKHOUSE_SHARD_URLS, NATS_URLS, ...
#   cl_day ORGS EVENTS SEED [FLAGS]   one generated day ($day) with malformed rows: the registry in
#                                     $work/ref and a copy in $work/cl, the feed $work/feed.jsonl,
#                                     ingested directly into the embedded SQLite store ($work/ref)
#   cl_env DATABASE [VAR=VALUE...]    the cluster's settings ($cluster_env): ClickHouse store,
#                                     NATS bus, small messages, ack wait 3 s
#   cluster ARGS...                   vantage on $work/cl with $cluster_env
#   cl_worker_start LOG [ARGS...]     a background worker; its PID (vantage's own) in $worker_pid
#   cl_consumer                       "ACKED PENDING ACK_PENDING" of the durable consumer
#   cl_compare                        reports (sha256), occurrences (lost/duplicated),
#                                     quarantine, api2 and dashboard answers: embedded vs cluster
#
# Every line a test prints starts with "NAME: "; a failure prints the logs' tails and exits 1.

cl_init() {
  cl_name="$1"; vantage="$2"; src="$3"
  for server in clickhouse-server nats-server; do
    command -v "$server" >/dev/null 2>&1 || { echo "$cl_name: $server not installed; skipped"; exit 77; }
  done
  # ClickHouse writes thousands of small part files: removing them from a busy disk took about
  # a minute per test, from tmpfs a second. /dev/shm when it has room (a container's default
  # 64 MiB has not), else /tmp.
  local tmp=/tmp avail
  avail=$(df --output=avail -k /dev/shm 2>/dev/null | tail -1) || avail=0
  ((${avail:-0} > 2 * 1024 * 1024)) && tmp=/dev/shm
  work="$(mktemp -d "$tmp/vantage-$cl_name.XXXXXX")"
  worker_pid=""
  cl_pids=()
  trap cl_cleanup EXIT
  # shellcheck source=../../scripts/cluster/clickhouse.sh
  source "$src/scripts/cluster/clickhouse.sh"
  # shellcheck source=../../scripts/cluster/nats.sh
  source "$src/scripts/cluster/nats.sh"
}

cl_cleanup() {
  local p
  [[ -z "${worker_pid:-}" ]] || kill -9 "$worker_pid" 2>/dev/null || true
  for p in "${cl_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # The servers' data go with $work: killed by their PID files, not stopped (a clean ClickHouse
  # stop takes seconds per node, and waiting for a killed orphan's exit may never end where
  # nothing reaps it).
  for p in "$work"/cluster/clickhouse/*/pid "$work"/cluster/nats/*.pid; do
    [[ ! -f "$p" ]] || kill -9 "$(cat "$p")" 2>/dev/null || true
  done
  rm -rf "$work"
}

cl_say() { echo "$cl_name: [${SECONDS} s] $*"; }

cl_fail() {
  echo "$cl_name: FAILED: $*" >&2
  local f
  for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}

cl_up() {
  local out
  out="$("$src/scripts/cluster.sh" up --dir "$work/cluster")" || cl_fail "cluster.sh up"
  eval "$(grep -E '^(CLICKHOUSE|NATS)_' <<<"$out" | sed 's/^/export /')"
}

cl_day() {
  local orgs="$1" events="$2" seed="$3"; shift 3
  cl_ingest_flags=("$@")
  day=2026-01-15
  "$vantage" --data-dir "$work/ref" generate --registry-only --orgs "$orgs" --seed "$seed" >/dev/null 2>&1
  cp -a "$work/ref" "$work/cl"
  "$vantage" --data-dir "$work/ref" generate -n "$events" --bad-every 97 --seed "$seed" \
    --date "$day" -o "$work/feed.jsonl" >/dev/null 2>&1
  "$vantage" --data-dir "$work/ref" ingest -q "${cl_ingest_flags[@]}" "$work/feed.jsonl" 2>/dev/null ||
    cl_fail "direct ingest"
}

cl_env() {
  cl_database="$1"; shift
  # `env` execs vantage, so a background worker's PID in $! is vantage's own (kill -9 hits it).
  cluster_env=(VANTAGE_STORE_ENGINE=clickhouse VANTAGE_STORE_CLICKHOUSE_URL="$CLICKHOUSE_URL"
    VANTAGE_STORE_CLICKHOUSE_SHARD_URLS="$CLICKHOUSE_SHARD_URLS"
    VANTAGE_STORE_CLICKHOUSE_DATABASE="$cl_database" VANTAGE_CLUSTER_NATS_URLS="$NATS_URLS"
    VANTAGE_CLUSTER_PUBLISH_LINES=2000 VANTAGE_CLUSTER_ACK_WAIT_S=3
    VANTAGE_CLUSTER_CONNECT_ATTEMPTS=60 "$@")
}

cluster() { env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" "$@"; }

cl_publish() {
  local out
  out=$(cluster cluster publish "$work/feed.jsonl" 2>&1) || { echo "$out" >&2; cl_fail "publish"; }
  grep 'published' <<<"$out" | sed "s/^/$cl_name: /"
}

cl_worker_start() {
  local log="$1"; shift
  env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" cluster run --role worker \
    "${cl_ingest_flags[@]}" "$@" >>"$log" 2>&1 &
  worker_pid=$!
}

# Stops the background worker with SIGTERM (it finishes the message in hand) and waits.
cl_worker_stop() {
  [[ -n "$worker_pid" ]] || return 0
  kill -TERM "$worker_pid" 2>/dev/null || true
  local rc=0
  wait "$worker_pid" || rc=$?
  worker_pid=""
  return $rc
}

# A last worker that drains the consumer.
cl_drain() {
  env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" cluster run --role worker \
    "${cl_ingest_flags[@]}" --drain >"$work/worker.last.log" 2>&1 || cl_fail "the last worker failed"
  cl_say "last worker: $(grep "cluster worker:" "$work/worker.last.log" | tail -1)"
}

# "ACKED PENDING ACK_PENDING": the consumer's acknowledgement floor (stream sequence), the
# messages not delivered yet and those delivered but not acknowledged (`cluster status`, which
# asks the JetStream API). Fails when the status cannot be read.
cl_consumer() {
  local line
  line=$(cluster cluster status 2>/dev/null | grep 'consumer:') || return 1
  sed -E 's/.*lag ([0-9]+) messages, ack pending ([0-9]+),.*acknowledged up to stream sequence ([0-9]+).*/\3 \1 \2/' <<<"$line"
}

# Waits up to $1 seconds for the consumer to have nothing pending or unacknowledged.
cl_wait_consumed() {
  local c
  for ((t = 0; t < $1 * 2; t++)); do
    c=$(cl_consumer || true)
    [[ "$c" =~ ^[0-9]+\ 0\ 0$ ]] && return 0
    sleep 0.5
  done
  return 1
}

ch_sql() { curl -sS --fail "$CLICKHOUSE_URL/" --data-binary "$1"; }

# "sha256  name" of every report of the day, built and exported as files.
cl_hashes() {
  local who="$1"; shift
  "$@" report build --date "$day" >/dev/null 2>&1 || cl_fail "$who: report build"
  rm -rf "$work/$who.exported"
  "$@" report export --date "$day" --dir "$work/$who.exported" >/dev/null 2>&1 || cl_fail "$who: export"
  (cd "$work/$who.exported" && find . -name '*.csv' | sort | xargs -r sha256sum)
}

# The http://HOST:PORT a server prints as "listening http://..." in FILE (up to 30 s).
cl_listening_url() {
  local url
  for _ in $(seq 1 300); do
    url=$(sed -n 's/.*listening \(http:[^ ]*\).*/\1/p' "$1" | head -1)
    [[ -n "$url" ]] && { echo "$url"; return 0; }
    sleep 0.1
  done
  return 1
}

# The api2 and dashboard answers of the embedded service (`vantage serve` on $work/ref) and of
# the cluster's api role (ClickHouse store) for one API key both registries hold.
cl_compare_api() {
  local org issued key secret query a_pid b_pid a b rc=0
  org=$(sed -E 's/^[0-9a-f]+  .*[0-9]{4}-[0-9]{2}-[0-9]{2}-[^-]+-([^-]+)-[a-z]+\.csv$/\1/' \
    "$work/ref.sha" | sort | uniq -c | sort -rn | awk 'NR==1 {print $2}')
  issued=$("$vantage" --data-dir "$work/ref" key issue "$org")
  key=$(sed -nE 's/^key:[[:space:]]+(\S+).*/\1/p' <<<"$issued")
  secret=$(sed -nE 's/^secret:[[:space:]]+(\S+).*/\1/p' <<<"$issued")
  [[ -n "$key" && -n "$secret" ]] || cl_fail "no API key for $org: $issued"
  # reports/query needs a filter the organisation owns: the IP address of the first row of
  # one of its reports.
  query=$(python3 - "$work/ref.exported" "$org" <<'PY'
import csv, glob, json, sys
for f in sorted(glob.glob(f"{sys.argv[1]}/**/*-{sys.argv[2]}-*.csv", recursive=True)):
    for row in csv.DictReader(open(f, newline="")):
        if row.get("ip"):
            print(json.dumps({"ip": row["ip"]}))
            sys.exit(0)
PY
  )
  [[ -n "$query" ]] || cl_fail "no IP address in $org's reports"
  cp "$work/ref/registry.sqlite" "$work/cl/registry.sqlite"
  # No day close and no retention on the embedded side: the day is in the past.
  VANTAGE_DASHBOARD_MIN_COUNT=1 VANTAGE_RETENTION_DAYS=36500 "$vantage" --data-dir "$work/ref" serve \
    --no-day-close --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
  a_pid=$!
  cl_pids+=("$a_pid")
  VANTAGE_DASHBOARD_MIN_COUNT=1 env "${cluster_env[@]}" "$vantage" --data-dir "$work/cl" \
    cluster run --role api --listen 127.0.0.1:0 >"$work/api.out" 2>"$work/api.log" &
  b_pid=$!
  cl_pids+=("$b_pid")
  a=$(cl_listening_url "$work/serve.out") || cl_fail "vantage serve did not start"
  b=$(cl_listening_url "$work/api.out") || cl_fail "the api role did not start"
  python3 "$src/tests/cluster/api_compare.py" --urls "$a" "$b" "$key" "$secret" "$day" \
    "$query" 2>&1 | sed "s/^/$cl_name: /" || rc=1
  # Read-only servers: killed, not stopped (a clean stop waits for their start-up statistics).
  kill -9 "$a_pid" "$b_pid" 2>/dev/null || true
  wait "$a_pid" "$b_pid" 2>/dev/null || true
  ((rc == 0)) || cl_fail "api2/dashboard answers differ"
}

# Everything a reader of the cluster sees equals the embedded store's.
cl_compare() {
  local n want got rows qwant qgot
  cl_hashes ref "$vantage" --data-dir "$work/ref" >"$work/ref.sha"
  cl_say "embedded reports built"
  cl_hashes cl cluster >"$work/cl.sha"
  cl_say "cluster reports built"
  n=$(wc -l <"$work/ref.sha")
  ((n > 50)) || cl_fail "only $n reports from the embedded store"
  want=$(sqlite3 "$work/ref/events.sqlite" 'SELECT sum(count) FROM events')
  got=$(ch_sql "SELECT uniqExact(occurrence_id) FROM $cl_database.occurrences_all")
  rows=$(ch_sql "SELECT count() FROM $cl_database.occurrences_all")
  qwant=$(sqlite3 "$work/ref/events.sqlite" 'SELECT count(*) FROM quarantine')
  qgot=$(ch_sql "SELECT uniqExact(source, line, field, reason, raw_hash) FROM $cl_database.quarantine")
  cl_say "occurrences: embedded $want, cluster $got distinct ($rows rows stored); quarantined: embedded $qwant, cluster $qgot"
  [[ "$got" == "$want" ]] || cl_fail "occurrences: lost or duplicated ($got vs $want)"
  ((qwant > 0)) || cl_fail "nothing quarantined (--bad-every)"
  [[ "$qgot" == "$qwant" ]] || cl_fail "quarantine: $qgot vs $qwant"
  diff -u "$work/ref.sha" "$work/cl.sha" >&2 || cl_fail "reports differ"
  cl_say "$n reports byte-identical (sha256)"
  cl_compare_api
  cl_say "lost 0, duplicated 0, $n reports compared, api2 and dashboard answers equal"
}
