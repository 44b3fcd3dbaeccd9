#!/usr/bin/env bash
# A 1-million-row report download from `vantage api serve`: throughput and the server's
# memory, for the CSV download (GET <download root><id>) and the legacy JSON
# reports/download (capped at download_json_row_cap = 100,000 rows).
#
# Usage: bench/api_download_bench.sh VANTAGE_BINARY [ROWS]
#
# The report: a real report built by `vantage report build` (synthetic day), its data rows
# repeated to ROWS (default 1,000,000) rows, registered in the manifest (reports.sqlite) as
# the next day's report of the same organisation -- the server cannot tell it from a built
# one, and building a million rows through the pipeline would take the 2-core box many
# minutes. Memory: VmRSS/VmHWM (peak) of the server from /proc/<pid>/status before and after
# each download. With wrk installed, also 64 concurrent connections downloading a ~1 MB
# report for 10 s (requests/s, p50/p99). Loopback only; every wait is bounded.
#
# Each figure is taken for both report layouts in the same run and server, alternating: the
# report as a file of its own ("files", report.layout = "files", and every day built before
# packs) and as a range of a day's pack ("pack", the default layout; the range starts after
# another report's bytes, as in a real pack). A manifest without the pack_offset column
# (a binary older than packs) is measured with "files" only.
set -euo pipefail
vantage="$1"
rows="${2:-1000000}"
work=$(mktemp -d)
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
day=2026-01-15
d="$work/d"
# The seeding of bench/api_bench.sh: its biggest report has ~650 varied rows.
"$vantage" --data-dir "$d" generate --registry-only --orgs 50 --seed 3 >/dev/null 2>&1
"$vantage" --data-dir "$d" generate -n 200000 --seed 3 --date "$day" -o "$work/feed.jsonl" >/dev/null 2>&1
"$vantage" --data-dir "$d" ingest -q "$work/feed.jsonl" 2>/dev/null
# Built as files: the biggest one is the source of the registered reports below.
VANTAGE_REPORT_LAYOUT=files "$vantage" --data-dir "$d" report build --date "$day" 2>/dev/null |
  cut -f1 >"$work/built.txt"
src=$(xargs ls -S <"$work/built.txt" | sed -n 1p)

# register ROWS DAYS_AHEAD OUT LAYOUT: a ROWS-row copy of the biggest report, registered as
# that organisation's report DAYS_AHEAD days later, as the file OUT (LAYOUT files) or as a
# range of the pack OUT after a copy of the source report (LAYOUT pack); prints "<id> <org>".
register() {
  awk -v n="$1" 'NR == 1 { print; next } { r[++k] = $0 } END { for (i = 0; i < n; i++) print r[i % k + 1] }' \
    "$src" >"$3.csv"
  if [[ "$4" == pack ]]; then
    cat "$src" "$3.csv" >"$3"
    offset=$(stat -c %s "$src")
  else
    mv "$3.csv" "$3"
    offset=-1
  fi
  rm -f "$3.csv"
  python3 - "$d/reports.sqlite" "$src" "$3" "$1" "$2" "$offset" <<'PY'
import hashlib, os, secrets, sqlite3, string, sys, time
db, src, path, rows, ahead, offset = (sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                      int(sys.argv[5]), int(sys.argv[6]))
c = sqlite3.connect(db)
org_id, report, rtype, day, filt = c.execute(
    "SELECT org_id, report, type, day, filter FROM reports WHERE path = ?", (src,)).fetchone()
alphabet = string.ascii_letters + string.digits + "-_"
rid = "".join(secrets.choice(alphabet) for _ in range(50))
h = hashlib.sha256()
size = os.path.getsize(path) - max(offset, 0)
with open(path, "rb") as f:
    f.seek(max(offset, 0))
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
y, m, dd = time.gmtime((day + ahead) * 86400)[:3]
name = f"{y:04d}-{m:02d}-{dd:02d}-{rtype}-{report}-{filt}.csv"
row = [rid, org_id, report, rtype, day + ahead, filt, name, path, size, h.hexdigest(), rows,
       int(time.time())]
if any(col[1] == "pack_offset" for col in c.execute("PRAGMA table_info(reports)")):
    row.append(offset)
c.execute("INSERT INTO reports VALUES(" + ",".join("?" * len(row)) + ")", row)
c.commit()
print(rid, report)
PY
}
if sqlite3 "$d/reports.sqlite" "PRAGMA table_info(reports)" | grep -q pack_offset; then
  layouts="files pack"
else
  layouts="files"
fi
declare -A big_id mb_id
ahead=1
for layout in $layouts; do
  read -r big_id[$layout] org <<<"$(register "$rows" "$ahead" "$work/big.$layout" "$layout")"
  # A ~1 MB report for the concurrent-download figure.
  read -r mb_id[$layout] _ <<<"$(register $((1048576 / ($(stat -c %s "$src") / $(wc -l <"$src")))) \
    $((ahead + 1)) "$work/1mb.$layout" "$layout")"
  ahead=$((ahead + 2))
done
out=$("$vantage" --data-dir "$d" key issue "$org")
key=$(sed -n 's/^key: *//p' <<<"$out")
secret=$(sed -n 's/^secret: *//p' <<<"$out")

"$vantage" --data-dir "$d" api serve --listen 127.0.0.1:0 --threads 2 >"$work/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 100); do grep -qs listening "$work/serve.out" && break; sleep 0.1; done
port=$(sed -nE 's/.*api=[^:]+:([0-9]+).*/\1/p' "$work/serve.out")
base="http://127.0.0.1:$port"
mem() { awk '/VmHWM|VmRSS/{printf "%s %d MB  ", $1, $2 / 1024} END {print ""}' "/proc/$server/status"; }
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

size=$(stat -c %s "$work/big.files")
echo "== report: $rows rows, $((size / 1000000)) MB ($(basename "$src") x $(($(wc -l <"$src") - 1)) rows repeated)"
load
echo "server before:            $(mem)"
for layout in $layouts; do
  id=${big_id[$layout]}
  read -r code got secs <<<"$(curl -s -o "$work/got.csv" -H 'Accept-Encoding: identity' \
    -w '%{http_code} %{size_download} %{time_total}' --max-time 300 "$base/dl/$id")"
  [[ "$code" == 200 && "$got" == "$size" ]] || { echo "CSV download failed: HTTP $code, $got of $size bytes" >&2; exit 1; }
  tail -c "$size" "$work/big.$layout" | cmp -s - "$work/got.csv" || { echo "[$layout] CSV download: wrong bytes" >&2; exit 1; }
  rm -f "$work/got.csv"
  echo "[$layout] CSV download:     $got bytes in ${secs}s = $(awk -v b="$got" -v s="$secs" 'BEGIN { printf "%.0f", b / s / 1e6 }') MB/s"
  echo "server after CSV:         $(mem)"
done

for layout in $layouts; do
  id=${big_id[$layout]}
  body="{\"id\": \"$id\", \"apikey\": \"$key\"}"
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/.*= //')
  read -r code got secs <<<"$(curl -s -o "$work/legacy.json" -H "HMAC2: $sig" --data-binary "$body" \
    -w '%{http_code} %{size_download} %{time_total}' --max-time 300 "$base/api2/reports/download")"
  [[ "$code" == 200 ]] || { echo "legacy download failed: HTTP $code" >&2; exit 1; }
  n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/legacy.json")
  echo "[$layout] legacy reports/download:  $n rows (row cap), $got bytes in ${secs}s = $(awk -v b="$got" -v s="$secs" 'BEGIN { printf "%.0f", b / s / 1e6 }') MB/s"
  echo "server after legacy JSON: $(mem)"
done
load

if command -v wrk >/dev/null; then
  for layout in $layouts $layouts; do  # twice each, alternating
    echo "== [$layout] $(($(stat -c %s "$work/1mb.files"))) byte report, 64 connections, 10s (wrk -t2 -c64)"
    wrk -t2 -c64 -d10s --latency -H "Accept-Encoding: identity" "$base/dl/${mb_id[$layout]}" |
      grep -E "Requests/sec|Transfer/sec|50%|99%|Non-2xx|Socket"
    echo "server after 1 MB downloads: $(mem)"
    load
  done
else
  echo "(wrk not installed: no concurrent 1 MB download figure; apt-get install -y wrk)"
fi
