# Sourced by the scanner tests that need a network: two network namespaces made here, a
# scanner side ($S, interface vs0) and a target side ($N, interface vt0), joined by a veth
# pair, with the addresses the caller gives. Nothing is routed out of them; both are deleted
# on exit, with every process whose pid was written to $T/pids (and $BED_PIDS) killed first.
#   bed_up SCANNER_NS TARGET_NS "scanner addr/len ..." "target addr/len ..."
# Sets T (a temporary directory), S, N; defines ok/bad/skip and counts failures in $fails.
# Exits 77 (skip) without root, iproute2 or namespace support.
[[ $(id -u) == 0 ]] && command -v ip >/dev/null || { echo "skip - needs root and iproute2"; exit 77; }
T=$(mktemp -d)
chmod 755 "$T"
fails=0
BED_PIDS=()  # extra pids the caller adds (background services, `vantage serve`)
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
skip() { echo "skip - $*"; }
bed_cleanup() {
  local p
  if [[ -f $T/pids ]]; then while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"; fi
  for p in "${BED_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  if [[ -f $T/pids ]]; then while read -r p; do kill -9 "$p" 2>/dev/null; done <"$T/pids"; fi
  wait 2>/dev/null
  [[ -n ${S:-} ]] && ip netns del "$S" 2>/dev/null
  [[ -n ${N:-} ]] && ip netns del "$N" 2>/dev/null
  rm -rf "$T"
}
trap bed_cleanup EXIT
bed_up() {
  S=$1 N=$2
  ip netns add "$S" && ip netns add "$N" || { echo "skip - cannot create network namespaces"; exit 77; }
  ip link add vs0 netns "$S" type veth peer name vt0 netns "$N"
  local a
  for a in $3; do ip -n "$S" addr add "$a" dev vs0 nodad; done
  for a in $4; do ip -n "$N" addr add "$a" dev vt0 nodad; done
  for ns in "$S" "$N"; do ip -n "$ns" link set lo up; done
  ip -n "$S" link set vs0 up multicast on
  ip -n "$N" link set vt0 up multicast on
}
