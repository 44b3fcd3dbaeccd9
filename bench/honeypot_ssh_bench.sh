#!/usr/bin/env bash
# SSH login attempts handled per second: the honeypot's SSH service against a real OpenSSH
# sshd on the same machine set to refuse fast (a private sshd_config on a loopback port: no
# PAM, so no PAM fail delay; MaxStartups and MaxAuthTries raised), both under
# `hydra -t TASKS` with the same list of wrong passwords for root. Runs ours and sshd
# alternately, ROUNDS times each, and prints every run, the medians, the ratio and the load.
# Lost attempts: for ours, attempts sent (the list's length) minus the rows the honeypot
# journaled; for sshd, minus its "Failed password" log lines.
# Traffic stays on 127.0.0.1; every process started here is stopped by its pid.
#
# MAX_TRIES (attempts one connection may make; sshd's MaxAuthTries, our honeypot.max_attempts)
# is high by default, so hydra keeps its connections; MAX_TRIES=6 (both defaults) makes it
# reconnect every 6 attempts, so key exchanges weigh in.
#
# Usage: bench/honeypot_ssh_bench.sh VANTAGE [ATTEMPTS=5000] [TASKS=64] [ROUNDS=3] [MAX_TRIES=1000]
set -euo pipefail
V=$(realpath "$1")
N=${2:-5000}
TASKS=${3:-64}
ROUNDS=${4:-3}
MAX_TRIES=${5:-1000}
for tool in hydra /usr/sbin/sshd ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "honeypot_ssh_bench: $tool missing" >&2; exit 77; }
done
T=$(mktemp -d)
chmod 755 "$T"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# N distinct wrong passwords (random: never root's real one).
python3 -c "
import secrets
for i in range($N): print('bench-' + secrets.token_hex(6))" > "$T/passwords"

# sshd: refuses fast, allows as many attempts and unauthenticated connections as hydra makes.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/sshd_key"
SSHD_PORT=$(free_port)
cat > "$T/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $T/sshd_key
PidFile $T/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin yes
MaxAuthTries $MAX_TRIES
MaxStartups 1000:100:1000
MaxSessions 1000
LoginGraceTime 60
UseDNS no
LogLevel INFO
EOF
/usr/sbin/sshd -D -f "$T/sshd_config" -E "$T/sshd.log" &
pids+=($!)

# Ours: the same attempts per connection allowed, 2 loop threads (honeypot.threads default).
HP_PORT=$(free_port)
mkdir -p "$T/inbox"
chmod 777 "$T/inbox"
VANTAGE_HONEYPOT_MAX_ATTEMPTS=$MAX_TRIES "$V" --data-dir "$T/hp" honeypot \
  --listen "ssh=127.0.0.1:$HP_PORT" --inbox "$T/inbox" >"$T/honeypot.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  grep -q "listening" "$T/honeypot.log" 2>/dev/null && [[ -f $T/sshd.pid ]] && break
  sleep 0.2
done

rows_ours() { cat "$T"/inbox/*.jsonl 2>/dev/null | grep -c '"application":"ssh"' || true; }
failed_sshd() { grep -c "Failed password" "$T/sshd.log" || true; }

# One hydra run against PORT: prints "seconds attempts/s".
run_hydra() {
  local port=$1 t0 t1
  rm -f "$T/hydra.restore"
  t0=$(date +%s.%N)
  (cd "$T" && hydra -I -q -t "$TASKS" -l root -P "$T/passwords" -s "$port" 127.0.0.1 ssh \
    >"$T/hydra.out" 2>&1) || true
  t1=$(date +%s.%N)
  grep -q "1 of 1 target completed" "$T/hydra.out" || { echo "hydra failed:" >&2; tail -5 "$T/hydra.out" >&2; }
  python3 -c "d=$t1-$t0; print('%.2f %.1f' % (d, $N/d))"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "honeypot_ssh_bench: $N attempts per run, hydra -t $TASKS, $MAX_TRIES attempts per connection, $ROUNDS rounds, $(nproc) cores"
echo "honeypot_ssh_bench: libssh $(dpkg-query -W -f='${Version}' libssh-4 2>/dev/null), $(/usr/sbin/sshd -V 2>&1 | head -1)"
ours=() theirs=()
for r in $(seq "$ROUNDS"); do
  before=$(rows_ours)
  read -r s rate <<<"$(run_hydra "$HP_PORT")"
  sleep 1.5  # the journal segment closes within a second
  after=$(rows_ours)
  printf 'round %d  ours  %6.2f s  %7.1f attempts/s  journaled %d of %d (lost %d)  load %s\n' \
    "$r" "$s" "$rate" $((after - before)) "$N" $((N - (after - before))) "$(cut -d' ' -f1-3 /proc/loadavg)"
  ours+=("$rate")
  before=$(failed_sshd)
  read -r s rate <<<"$(run_hydra "$SSHD_PORT")"
  sleep 0.5
  after=$(failed_sshd)
  printf 'round %d  sshd  %6.2f s  %7.1f attempts/s  logged    %d of %d (lost %d)  load %s\n' \
    "$r" "$s" "$rate" $((after - before)) "$N" $((N - (after - before))) "$(cut -d' ' -f1-3 /proc/loadavg)"
  theirs+=("$rate")
done
mo=$(printf '%s\n' "${ours[@]}" | median)
mt=$(printf '%s\n' "${theirs[@]}" | median)
echo "median ours $mo attempts/s, sshd $mt attempts/s, ratio $(python3 -c "print('%.2f' % ($mo/$mt))")x"

# ncrack (when installed), once each: 1000 of the passwords, 64 connections at most, -T5.
# ncrack re-sends a pair it did not see answered, so rows may exceed pairs: both are shown.
if command -v ncrack >/dev/null; then
  head -1000 "$T/passwords" >"$T/passwords_ncrack"
  for side in ours sshd; do
    port=$HP_PORT
    [[ $side == sshd ]] && port=$SSHD_PORT
    before=$([[ $side == ours ]] && rows_ours || failed_sshd)
    t0=$(date +%s.%N)
    (cd "$T" && HOME="$T" timeout 600 ncrack -T5 --user root -P "$T/passwords_ncrack" \
      "ssh://127.0.0.1:$port,CL=64" >"$T/ncrack.out" 2>&1) || true
    t1=$(date +%s.%N)
    sleep 1.5
    after=$([[ $side == ours ]] && rows_ours || failed_sshd)
    printf 'ncrack  %s  %6.2f s  %7.1f attempts/s  %d rows for 1000 pairs  load %s\n' "$side" \
      "$(python3 -c "print($t1-$t0)")" "$(python3 -c "print(1000/($t1-$t0))")" $((after - before)) \
      "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
fi
