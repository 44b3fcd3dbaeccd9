#!/usr/bin/env bash
# A 3-node NATS JetStream cluster on loopback, for tests and demos (sourced by scripts/cluster.sh
# and by tests/cluster/*.sh):
#
#   nats_up DIR      start n1..n3 (configs, stores, logs and PIDs under DIR/nats); idempotent:
#                    running nodes are left alone, stopped ones restarted on their old ports.
#                    Prints NATS_URLS=nats://127.0.0.1:P1,... (KEY=VALUE, for eval).
#   nats_down DIR    stop the nodes (by their PIDs), keep their data
#   nats_status DIR  one line per node: nN running|stopped PID client/cluster/monitor ports
#   nats_node_up DIR N / nats_node_kill DIR N [SIGNAL]   one node (fault tests)
#
# Ports: free ones picked once (client, cluster route, monitoring per node) and kept in
# DIR/nats/ports, so a restarted node rejoins its routes. Only 127.0.0.1 is used.

_nats_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_nats_pid_alive() {  # PID file -> exit 0 when that nats-server runs
  local pidf="$1" pid
  [[ -f "$pidf" ]] || return 1
  pid=$(cat "$pidf")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q nats-server "/proc/$pid/cmdline" 2>/dev/null
}

_nats_ports() {  # DIR -> sources DIR/nats/ports (created on first use)
  local d="$1/nats"
  mkdir -p "$d"
  if [[ ! -f "$d/ports" ]]; then
    local i
    {
      for i in 1 2 3; do
        echo "CLIENT_$i=$(_nats_free_port)"
        echo "ROUTE_$i=$(_nats_free_port)"
        echo "HTTP_$i=$(_nats_free_port)"
      done
    } >"$d/ports.tmp"
    mv "$d/ports.tmp" "$d/ports"
  fi
  # shellcheck disable=SC1091
  source "$d/ports"
}

_nats_write_conf() {  # DIR N
  local d="$1/nats" i="$2" c r h
  c="CLIENT_$i" r="ROUTE_$i" h="HTTP_$i"
  mkdir -p "$d/store$i"
  cat >"$d/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${!c}
http: 127.0.0.1:${!h}
jetstream {
  store_dir: "$d/store$i"
  max_memory_store: 256M
  max_file_store: 8G
}
cluster {
  name: vantage
  listen: 127.0.0.1:${!r}
  routes: [
    nats-route://127.0.0.1:$ROUTE_1
    nats-route://127.0.0.1:$ROUTE_2
    nats-route://127.0.0.1:$ROUTE_3
  ]
}
CONF
}

nats_urls() {  # DIR -> the client URL list
  _nats_ports "$1"
  echo "nats://127.0.0.1:$CLIENT_1,nats://127.0.0.1:$CLIENT_2,nats://127.0.0.1:$CLIENT_3"
}

nats_node_up() {  # DIR N
  local dir="$1" i="$2" d="$1/nats"
  command -v nats-server >/dev/null || { echo "nats_up: nats-server is not installed (apt-get install nats-server)" >&2; return 1; }
  _nats_ports "$dir"
  _nats_pid_alive "$d/n$i.pid" && return 0
  _nats_write_conf "$dir" "$i"
  nohup nats-server -c "$d/n$i.conf" >>"$d/n$i.log" 2>&1 &
  echo $! >"$d/n$i.pid"
}

nats_node_kill() {  # DIR N [SIGNAL]
  local d="$1/nats" i="$2" sig="${3:-TERM}" pid
  _nats_pid_alive "$d/n$i.pid" || return 0
  pid=$(cat "$d/n$i.pid")
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    # Gone too: a zombie (killed, not reaped yet -- or never, where nothing reaps orphans).
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)" != [ZX] ]] || break
    sleep 0.1
  done
  rm -f "$d/n$i.pid"
}

nats_up() {  # DIR
  local dir="$1" i port c
  [[ -n "$dir" ]] || { echo "usage: nats_up DIR" >&2; return 2; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  for i in 1 2 3; do nats_node_up "$dir" "$i" || return 1; done
  # Ready when every node answers /healthz (JetStream included) -- at most 30 s.
  for i in 1 2 3; do
    c="HTTP_$i"
    port="${!c}"
    local ok=0
    for _ in $(seq 1 300); do
      if curl -fsS "http://127.0.0.1:$port/healthz?js-enabled-only=true" >/dev/null 2>&1; then
        ok=1
        break
      fi
      sleep 0.1
    done
    if ((ok == 0)); then
      echo "nats_up: node n$i did not become healthy; see $dir/nats/n$i.log" >&2
      return 1
    fi
  done
  echo "NATS_URLS=$(nats_urls "$dir")"
}

nats_down() {  # DIR
  local dir="$1" i
  [[ -d "$dir/nats" ]] || return 0
  for i in 1 2 3; do nats_node_kill "$dir" "$i" TERM; done
}

nats_status() {  # DIR
  local dir="$1" i c r h state pid
  [[ -f "$dir/nats/ports" ]] || { echo "nats: not set up in $dir"; return 1; }
  _nats_ports "$dir"
  for i in 1 2 3; do
    c="CLIENT_$i" r="ROUTE_$i" h="HTTP_$i"
    if _nats_pid_alive "$dir/nats/n$i.pid"; then
      state=running pid=$(cat "$dir/nats/n$i.pid")
    else
      state=stopped pid=-
    fi
    echo "n$i $state pid=$pid client=${!c} route=${!r} monitor=${!h}"
  done
  echo "NATS_URLS=$(nats_urls "$dir")"
}

# The node (n1..n3) leading a stream's RAFT group, from a monitoring endpoint.
nats_stream_leader() {  # DIR STREAM
  local dir="$1" stream="$2" i h
  _nats_ports "$dir"
  for i in 1 2 3; do
    h="HTTP_$i"
    curl -fsS "http://127.0.0.1:${!h}/jsz?streams=1" 2>/dev/null | python3 -c '
import json, sys
stream = sys.argv[1]
try:
    j = json.load(sys.stdin)
except Exception:
    sys.exit(1)
for acc in j.get("account_details", []):
    for s in acc.get("stream_detail", []):
        if s.get("name") == stream and s.get("cluster", {}).get("leader"):
            print(s["cluster"]["leader"]); sys.exit(0)
sys.exit(1)' "$stream" && return 0
  done
  return 1
}
