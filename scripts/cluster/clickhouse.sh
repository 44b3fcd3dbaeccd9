# ClickHouse part of scripts/cluster.sh: CLICKHOUSE_SHARDS (default 2) clickhouse-server
# processes on 127.0.0.1, one shard each, all in one cluster named `vantage` (every node's
# config lists every shard, so any node can serve the Distributed tables). Memory is capped
# low: this runs beside the build and the other tests on a small machine.
#
# DIR/clickhouse/ports holds "NAME HTTP TCP INTERSERVER" per node, chosen once and reused, so an
# `up` after a `down` (or after a node was killed) gives the same endpoints.

clickhouse_nodes() {
  local n="${CLICKHOUSE_SHARDS:-2}"
  for ((i = 1; i <= n; i++)); do echo "n$i"; done
}

clickhouse_write_config() {
  local base="$1" name="$2" http="$3" tcp="$4" inter="$5" d="$1/$2"
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas" "$d/log"
  local shards=""
  while read -r _ _ stcp _; do
    shards+="      <shard><internal_replication>false</internal_replication><replica><host>127.0.0.1</host><port>$stcp</port></replica></shard>
"
  done <"$base/ports"
  cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$d/log/server.log</log>
    <errorlog>$d/log/server.err.log</errorlog>
    <size>20M</size><count>2</count>
  </logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$inter</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>128</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>32</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>$base/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <vantage>
$shards    </vantage>
  </remote_servers>
  <query_log>
    <database>system</database>
    <table>query_log</table>
    <flush_interval_milliseconds>1000</flush_interval_milliseconds>
  </query_log>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
XML
}

clickhouse_write_users() {
  # CLICKHOUSE_LOG_QUERIES=1: every query lands in system.query_log (benchmarks read it).
  cat >"$1/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <log_queries>${CLICKHOUSE_LOG_QUERIES:-0}</log_queries>
      <max_memory_usage>1000000000</max_memory_usage>
      <use_uncompressed_cache>0</use_uncompressed_cache>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
XML
}

# A node's process exists and is not a zombie (one killed with -9 may linger as one, or still be
# exiting, for a moment).
clickhouse_alive() {
  [[ -f "$1/pid" ]] || return 1
  local pid state
  pid="$(cat "$1/pid")"
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)"
  [[ "$state" != Z && "$state" != X ]]
}

clickhouse_start() {
  local d="$1"
  nohup /usr/sbin/clickhouse-server --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
}

clickhouse_endpoints() {
  local base="$1" urls="" first=""
  while read -r _ http _ _; do
    [[ -z "$first" ]] && first="http://127.0.0.1:$http"
    urls+="${urls:+,}http://127.0.0.1:$http"
  done <"$base/ports"
  echo "CLICKHOUSE_URL=$first"
  echo "CLICKHOUSE_SHARD_URLS=$urls"
  echo "CLICKHOUSE_CLUSTER=vantage"
}

clickhouse_up() {
  local base="$1/clickhouse"
  if ! command -v clickhouse-server >/dev/null 2>&1; then
    echo "cluster.sh: clickhouse-server is not installed (scripts/install-deps.sh --test)" >&2
    return 1
  fi
  mkdir -p "$base"
  if [[ ! -s "$base/ports" ]]; then
    local tmp="$base/ports.new"
    : >"$tmp"
    for name in $(clickhouse_nodes); do
      echo "$name $(cluster_free_port) $(cluster_free_port) $(cluster_free_port)" >>"$tmp"
    done
    mv "$tmp" "$base/ports"
  fi
  clickhouse_write_users "$base"
  while read -r name http tcp inter; do
    local d="$base/$name"
    if clickhouse_alive "$d"; then continue; fi
    clickhouse_write_config "$base" "$name" "$http" "$tcp" "$inter"
    clickhouse_start "$d"
  done <"$base/ports"
  # Ready when every node answers on HTTP (startup takes about a second).
  while read -r name http _ _; do
    local ok=0 restarted=0
    for ((i = 0; i < 300; i++)); do
      if curl -sf "http://127.0.0.1:$http/?query=SELECT+1" >/dev/null 2>&1; then ok=1; break; fi
      if ! clickhouse_alive "$base/$name"; then
        # It was still exiting when `up` looked (killed just before), or died at start: once more.
        ((restarted == 0)) || break
        restarted=1
        clickhouse_start "$base/$name"
      fi
      sleep 0.1
    done
    if [[ $ok != 1 ]]; then
      echo "cluster.sh: ClickHouse node $name (http $http) did not start; see $base/$name/log/server.err.log" >&2
      return 1
    fi
  done <"$base/ports"
  clickhouse_endpoints "$base"
}

clickhouse_down() {
  local base="$1/clickhouse"
  [[ -f "$base/ports" ]] || return 0
  while read -r name _ _ _; do
    local d="$base/$name"
    if clickhouse_alive "$d"; then cluster_stop_pid "$(cat "$d/pid")" 20; fi
    rm -f "$d/pid"
  done <"$base/ports"
}

clickhouse_status() {
  local base="$1/clickhouse"
  if [[ ! -f "$base/ports" ]]; then
    echo "CLICKHOUSE_STATE=absent"
    return 0
  fi
  local up=1
  while read -r name http tcp _; do
    local state=down rows=-
    if clickhouse_alive "$base/$name"; then
      state=up
      rows=$(curl -sf "http://127.0.0.1:$http/" --data-binary \
        "SELECT sum(rows) FROM system.parts WHERE active AND database NOT IN ('system')" 2>/dev/null || echo "?")
    else
      up=0
    fi
    echo "CLICKHOUSE_NODE_${name^^}=state:$state http:$http tcp:$tcp rows:$rows pid:$(cat "$base/$name/pid" 2>/dev/null || echo -)"
  done <"$base/ports"
  clickhouse_endpoints "$base"
  [[ $up == 1 ]]
}

# One node, for fault tests (sourced directly, or through scripts/cluster.sh):
#   clickhouse_node_kill DIR NAME [SIGNAL]  signal the node (default KILL) and wait until it is gone
#   clickhouse_node_up DIR NAME             start it again on its ports and data, wait until it
#                                           answers on HTTP (at most 30 s)
clickhouse_node_kill() {
  local d="$1/clickhouse/$2" sig="${3:-KILL}" pid
  clickhouse_alive "$d" || return 0
  pid="$(cat "$d/pid")"
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    clickhouse_alive "$d" || break
    sleep 0.1
  done
  rm -f "$d/pid"
}

clickhouse_node_up() {
  local base="$1/clickhouse" name="$2" http
  http="$(awk -v n="$name" '$1 == n {print $2}' "$base/ports")"
  [[ -n "$http" ]] || { echo "clickhouse_node_up: no node $name in $base/ports" >&2; return 1; }
  clickhouse_alive "$base/$name" || clickhouse_start "$base/$name"
  for ((i = 0; i < 300; i++)); do
    curl -sf "http://127.0.0.1:$http/?query=SELECT+1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "clickhouse_node_up: node $name (http $http) did not start; see $base/$name/log/server.err.log" >&2
  return 1
}
