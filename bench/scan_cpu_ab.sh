#!/usr/bin/env bash
# CPU seconds (user + sys, /usr/bin/time) of one discovery scan of the shared bed
# (../shared/bench/scan: 198.18.0.0/16, 1000 listeners on port 80) by two builds of vantage,
# alternating A, B, A, B ... N times. On a shared box wall-clock rates swing with the load;
# CPU time per scan is steadier, and in this bed it includes the kernel work of both network
# namespaces that runs in the scanner's own softirq context (so it is what bounds the rate).
# Needs root. usage: bench/scan_cpu_ab.sh VANTAGE_A VANTAGE_B   (env: MODE=rst|silent, N=5)
set -euo pipefail
A=$(realpath "$1") B=$(realpath "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BED=${BED:-$ROOT/../shared/bench/scan}
MODE=${MODE:-rst} N=${N:-5}
W=$(mktemp -d /tmp/scan_cpu_ab.XXXXXX)
cp -r "$BED"/. "$W"/
cd "$W"
trap 'kill $TGT 2>/dev/null; wait 2>/dev/null; ./netns_down.sh >/dev/null 2>&1; rm -rf "$W"' EXIT
./netns_down.sh >/dev/null 2>&1 || true
./netns_up.sh >/dev/null
ip netns exec bt_tgt python3 targets.py --count 1000 --ports 80 --seed 42 --truth truth.csv \
  --max-seconds 900 > targets.log 2>&1 & TGT=$!
for i in $(seq 100); do [[ -s truth.csv ]] && grep -q listening targets.log && break; sleep 0.2; done
[[ $MODE == silent ]] && ip netns exec bt_tgt nft -f silent.nft
SCAN="scan -q --iface bt_vs0 --gateway-mac 02:00:00:00:00:02 --src-ip 198.19.255.1 \
 --allow-reserved 198.18.0.0/15 --port 80 --rate 0 --threads 1 --cooldown 1 --no-probes"
for r in $(seq "$N"); do
  for x in A B; do
    bin=$A; [[ $x == B ]] && bin=$B
    ip netns exec bt_scan /usr/bin/time -o t.txt -f "%U %S" $bin $SCAN --out hits.txt 198.18.0.0/16 \
      >/dev/null 2>&1
    echo "$x $(cat t.txt) $(wc -l < hits.txt)" >> cpu.txt
  done
done
python3 - "$MODE" "$N" <<'PY'
import collections, statistics as st, sys
d = collections.defaultdict(list)
for line in open("cpu.txt"):
    x, u, s, hits = line.split()
    d[x].append((float(u) + float(s), float(u), float(s), int(hits)))
print(f"mode {sys.argv[1]}, {sys.argv[2]} scans each, 65,536 probes per scan")
for x in sorted(d):
    v = d[x]
    print(f"{x}: CPU median {st.median(a for a, *_ in v):.3f} s (user {st.median(b for _, b, *_ in v):.3f}, "
          f"sys {st.median(c for _, _, c, _ in v):.3f}); hits {min(h for *_, h in v)}..{max(h for *_, h in v)} of 1000")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
