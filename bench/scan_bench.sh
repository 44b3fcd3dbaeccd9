#!/usr/bin/env bash
# Runs ../shared/bench/scan/bench_all.sh (network-namespace bed, 198.18.0.0/16, 1000 live
# hosts) with our scanner beside zmap, masscan and nmap, then prints the summary table.
# Then (BANNERS=1, the default) the application layer on the same bed: banners/s for SSH (22)
# and HTTP (80) from `vantage probe` on the 1000 listening hosts of each port, against
# `nmap -sV -Pn` on the same hosts (nmap's time includes its own SYN check of the port; ours
# is connect + grab only, the discovery having been timed above).
# Needs root and `apt-get install -y zmap masscan nmap nftables` (scripts/install-deps.sh --test).
# usage: bench/scan_bench.sh [path/to/vantage]
#   (env: REPS=1|3, MODES="silent rst", RATE=0, THREADS=1, BANNERS=1|0, SYN=1|0)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$(realpath "${1:-$ROOT/build/scanner/apps/vantage/vantage}")
BED=${BED:-$ROOT/../shared/bench/scan}
[[ -x $V ]] || { echo "scan_bench: no vantage binary at $V" >&2; exit 2; }
[[ -f $BED/bench_all.sh ]] || { echo "scan_bench: bench bed not found at $BED" >&2; exit 2; }
# The bed lives in 198.18.0.0/15 (RFC 2544 benchmarking space): lift exactly that range.
export OUR_SCANNER="$V scan -q --iface bt_vs0 --gateway-mac 02:00:00:00:00:02 --src-ip 198.19.255.1 \
 --allow-reserved 198.18.0.0/15 --port 80 --rate ${RATE:-0} --threads ${THREADS:-1} --cooldown 3 \
 --no-probes --out {OUT} 198.18.0.0/16"
export OUR_FMT=ips REPS=${REPS:-1} MODES=${MODES:-"silent rst"}
# The bed writes results beside its scripts; run a private copy (the shared tree is read-only).
WORK=$(mktemp -d /tmp/scan_bench.XXXXXX)
cp -r "$BED"/. "$WORK"/
cd "$WORK"
if [[ ${SYN:-1} == 1 ]]; then
  bash bench_all.sh
  echo "results: $WORK/results.txt"
  cat summary.md
fi
[[ ${BANNERS:-1} == 1 ]] || exit 0

# Application layer. The same bed (namespaces, 1000 listeners per port, banners from
# targets.py), brought up here and torn down on exit.
command -v nmap >/dev/null || { echo "scan_bench: nmap missing, no banner comparison" >&2; exit 2; }
trap 'kill $TGT 2>/dev/null; wait 2>/dev/null; ./netns_down.sh >/dev/null 2>&1' EXIT
./netns_down.sh >/dev/null 2>&1 || true
./netns_up.sh >/dev/null
ip netns exec bt_tgt python3 targets.py --count 1000 --ports 80,22 --seed 42 --truth truth.csv \
  --max-seconds 900 > targets.log 2>&1 & TGT=$!
for i in $(seq 100); do [[ -s truth.csv ]] && grep -q listening targets.log && break; sleep 0.2; done
S() { ip netns exec bt_scan "$@"; }
now() { date +%s.%N; }
echo
echo "| port | tool | banners | seconds | banners/s |"  # one run each, wall clock
echo "|---|---|---|---|---|"
for spec in "22 ssh" "80 http"; do
  set -- $spec; port=$1 module=$2
  grep ",$port\$" truth.csv | cut -d, -f1 > hosts_$port.txt
  n=$(wc -l < hosts_$port.txt)
  mapfile -t targets < <(sed "s/\$/:$port/" hosts_$port.txt)
  t0=$(now)
  S "$V" probe --allow-reserved 198.18.0.0/15 --module "$module" --probe-rate 0 --concurrency 1000 \
    --connect-timeout-ms 3000 --read-timeout-ms 3000 --events ours_$port.jsonl "${targets[@]}" 2>ours_$port.err
  t1=$(now)
  ours=$(wc -l < ours_$port.jsonl)
  t2=$(now)
  # --min-parallelism: without it nmap -sV probes a few dozen hosts at a time here (4x slower).
  S nmap -sV -n -Pn -p$port --version-intensity 0 -T5 --min-hostgroup 1000 --min-parallelism 1000 \
    --max-retries 1 -e bt_vs0 \
    -iL hosts_$port.txt -oG nmap_$port.gnmap >/dev/null 2>&1
  t3=$(now)
  # nmap -oG: "Ports: 22/open/tcp//ssh//OpenSSH 9.2p1 .../": a service nmap named from what
  # the host sent (not "tcpwrapped", which means it got nothing) counts as a banner.
  theirs=$(grep "Ports: $port/open/tcp//[a-z]" nmap_$port.gnmap | grep -vc "//tcpwrapped/" || true)
  python3 - "$port" "$module" "$ours" "$t0" "$t1" "$theirs" "$t2" "$t3" "$n" <<'PY'
import sys
port, module, ours, t0, t1, theirs, t2, t3, n = sys.argv[1:]
for tool, b, a, z in ((f"vantage probe --module {module}", ours, t0, t1), ("nmap -sV", theirs, t2, t3)):
    s = float(z) - float(a)
    print(f"| {port} | {tool} | {b}/{n} | {s:.2f} | {int(b) / s:,.0f} |")
PY
done
