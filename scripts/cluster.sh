#!/usr/bin/env bash
# Starts, stops and shows a local Vantage cluster: every part in scripts/cluster/*.sh (each
# defines <part>_up DIR, <part>_down DIR and <part>_status DIR), all on 127.0.0.1 on free ports,
# with generated configs, data and PID files under DIR. `up` is idempotent (a running part is
# kept) and prints each part's endpoints as KEY=VALUE lines for tests and the other roles.
#
# Usage: scripts/cluster.sh up|down|status [--dir DIR]   (DIR defaults to ./cluster-data)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

action="${1:-}"
shift || true
dir="$PWD/cluster-data"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    *) echo "cluster.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$action" in
  up|down|status) ;;
  *) echo "usage: scripts/cluster.sh up|down|status [--dir DIR]" >&2; exit 2 ;;
esac
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# A free TCP port on 127.0.0.1 (the kernel's choice; the caller binds it soon after).
cluster_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for the process $1 to exit, then kills it hard.
cluster_stop_pid() {
  local pid="$1" wait_s="${2:-15}"
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < wait_s * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

parts=()
for f in "$here"/cluster/*.sh; do
  [[ -e "$f" ]] || continue
  # shellcheck source=/dev/null
  source "$f"
  parts+=("$(basename "$f" .sh)")
done

status=0
for part in "${parts[@]}"; do
  "${part}_${action}" "$dir" || status=1
done
exit $status
