# Shared by the scanner's end-to-end scripts (sourced): a private temporary directory, the
# PIDs of the servers a script starts (killed by PID on exit), TAP-like ok/bad lines and a
# failure count, free loopback ports, waiting for a listener.
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# N distinct loopback ports, each free for TCP and for UDP when picked: the checks run UDP
# probes against a TCP server's port too, so a UDP listener (e.g. memcached's) that happened to
# get the same number as a TCP server would answer them (separate free_port calls may repeat).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = []
while len(held) < int(sys.argv[1]):
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", t.getsockname()[1]))
    except OSError:
        t.close()
        u.close()
        continue
    held += [(t, u)]
print(*(t.getsockname()[1] for t, _ in held))
PY
}
wait_tcp() {  # port...: until each accepts a connection (5 s at most each)
  for port in "$@"; do
    for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  done
}
