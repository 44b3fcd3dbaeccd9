#!/usr/bin/env bash
# Runs ../shared/bench/scan/bench_all.sh (network-namespace bed, 198.18.0.0/16, 1000 live
# hosts) with our scanner beside zmap, masscan and nmap, then prints the summary table.
# Needs root and `apt-get install -y zmap masscan nmap nftables` (scripts/install-deps.sh --test).
# usage: bench/scan_bench.sh [path/to/vantage]   (env: REPS=1|3, MODES="silent rst", RATE=0)
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
bash bench_all.sh
echo "results: $WORK/results.txt"
cat summary.md
