# Sourced by the portal tests: a private Unbound resolver on 127.0.0.1:<free port> that answers
# from local data only -- the zone "test." is served statically and every other name is
# refused, so nothing is ever asked of the Internet. TXT records are added while it runs
# through unbound-control on a unix socket (no certificates).
#
#   ub_start DIR        start it; sets UB_PORT and UB_CONF
#   ub_txt NAME TEXT    publish NAME. TXT "TEXT"
#   ub_stop             stop it (safe to call twice, and from an EXIT trap)

ub_free_port() {
  python3 - <<'PY'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}

ub_start() {
  local dir=$1
  mkdir -p "$dir"
  UB_PORT=$(ub_free_port)
  UB_CONF=$dir/unbound.conf
  cat > "$UB_CONF" <<CF
server:
  interface: 127.0.0.1
  port: $UB_PORT
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  use-syslog: no
  logfile: "$dir/unbound.log"
  verbosity: 1
  do-daemonize: no
  access-control: 127.0.0.0/8 allow
  local-zone: "." refuse
  local-zone: "test." static
remote-control:
  control-enable: yes
  control-interface: "$dir/unbound.ctl"
  control-use-cert: no
CF
  unbound -d -c "$UB_CONF" >"$dir/unbound.out" 2>&1 &
  UB_PID=$!
  local i
  for i in $(seq 1 100); do
    if unbound-control -c "$UB_CONF" status >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "ub_start: unbound did not come up" >&2
  cat "$dir/unbound.out" "$dir/unbound.log" >&2 2>/dev/null
  return 1
}

ub_txt() {
  unbound-control -c "$UB_CONF" local_data "$1. 60 IN TXT \"$2\"" >/dev/null
}

ub_stop() {
  [[ -n "${UB_PID:-}" ]] || return 0
  if kill -0 "$UB_PID" 2>/dev/null; then
    kill "$UB_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$UB_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$UB_PID" 2>/dev/null || true
  fi
  UB_PID=""
}
