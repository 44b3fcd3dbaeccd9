#!/usr/bin/env bash
# End-to-end pipeline benchmark on the embedded default: `vantage generate` writes synthetic
# events (addresses from the real routing data when installed) with ORGS organisations in the
# registry; then, on the same input in the same run:
#   1. the parse-only floor (decode + validate, nothing stored),
#   2. the full pipeline (decode -> enrich -> classify -> dedup -> route -> SQLite store +
#      rollups + report spool),
# each with its events/s and peak RSS (from /usr/bin/time). Prints one table: events/s over the
# whole command (start-up included: loading the enrichment data and building the subscription
# index take seconds) and over the ingest itself (the command's own summary, start-up excluded),
# with the load average before and after (the box may be shared). Figures: bench/README.md.
#
# REGISTRY_FLAGS=--one-holder-per-asn gives each ASN one claiming organisation (a verified
# registry) instead of the default's many claims of large ASes (~11 organisations per event).
#
# ENGINES="sqlite segment" runs the full pipeline once per store engine (store.engine), side
# by side in the same run, each with its store's bytes on disk and bytes per stored event;
# the default is the configured engine alone (full_no_enrich runs on the first engine).
#
# THREADS="1 2 1 2" runs each full pipeline once per word, in that order, with that many
# processing threads (pipeline.processing_threads), labelled full_<engine>_p<threads>_<run>:
# alternating runs of the same input, for comparisons on a shared box. The default leaves the
# setting as configured (0: derived from the cores).
#
# Usage: [REGISTRY_FLAGS=...] [ENGINES=...] [THREADS=...] bench/pipeline_bench.sh [VANTAGE_BINARY] [EVENTS] [ORGS]
set -euo pipefail
cd "$(dirname "$0")/.."
vantage="${1:-build/release/apps/vantage/vantage}"
events="${2:-1000000}"
orgs="${3:-100000}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq time
command -v bc >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq bc

echo "pipeline_bench: $events events, $orgs organisations ${REGISTRY_FLAGS:-}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086 # REGISTRY_FLAGS is a list of flags
"$vantage" --data-dir "$work/d" generate --registry-only --orgs "$orgs" --seed 5 \
  ${REGISTRY_FLAGS:-} 2>/dev/null
input="$work/feed.jsonl"
"$vantage" --data-dir "$work/d" generate -n "$events" --seed 5 -o "$input" 2>/dev/null
ls -l "$input" | awk '{printf "pipeline_bench: input %.1f MB\n", $5/1e6}'

run() {  # label, extra flags
  local label="$1"
  shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$vantage" --data-dir "$work/$label" ingest "$@" \
    "$input" 2>"$work/$label.log"
  end=$(date +%s.%N)
  cp -r "$work/d/registry.sqlite" "$work/d/server.key" "$work/$label/" 2>/dev/null || true
  local secs
  secs=$(echo "$end - $start" | bc -l)
  # The summary line ends "..., 12.34s (56789 ev/s)": the ingest itself, start-up excluded.
  local own
  own=$(grep -o '[0-9.]*s ([0-9]* ev/s)' "$work/$label.log" | tail -1 | tr -d '()' || true)
  read -r rss user sys <"$work/rss"
  printf "%-18s %8.0f events/s %7.2f s | ingest only %-22s | CPU %6.2f s | peak RSS %5.0f MB\n" \
    "$label" "$(echo "$events / $secs" | bc -l)" "$secs" "${own:-?}" "$(echo "$user + $sys" | bc -l)" \
    "$(echo "$rss / 1024" | bc -l)"
}
engines="${ENGINES:-}"
prepare() {
  mkdir -p "$work/$1"
  cp "$work/d/registry.sqlite" "$work/d/server.key" "$work/$1/"
}
store_bytes() {  # label: the event store's bytes on disk (SQLite file + WAL, or the segment dir)
  local n new
  n=$( (du -cb "$work/$1"/events.sqlite* "$work/$1/events.segment" 2>/dev/null || true) | tail -1 | cut -f1)
  new=$(grep -o '[0-9]* new' "$work/$1.log" | tail -1 | cut -d' ' -f1 || true)
  printf "pipeline_bench: %s: store %.1f MB on disk, %.0f bytes per stored event\n" "$1" \
    "$(echo "$n / 1000000" | bc -l)" "$(echo "$n / ${new:-1}" | bc -l)"
}
prepare parse_only
run parse_only --parse-only
if [[ -n ${THREADS:-} ]]; then
  labels=()
  for engine in ${engines:-${VANTAGE_STORE_ENGINE:-sqlite}}; do
    n=0
    for t in $THREADS; do
      n=$((n + 1))
      label="full_${engine}_p${t}_$n"
      prepare "$label"
      VANTAGE_STORE_ENGINE="$engine" VANTAGE_PIPELINE_PROCESSING_THREADS="$t" run "$label"
      labels+=("$label")
    done
  done
elif [[ -z $engines ]]; then
  prepare full_pipeline
  run full_pipeline
  labels=(full_pipeline)
else
  labels=()
  for engine in $engines; do
    prepare "full_$engine"
    VANTAGE_STORE_ENGINE="$engine" && export VANTAGE_STORE_ENGINE
    run "full_$engine"
    labels+=("full_$engine")
  done
fi
if [[ -n $engines ]]; then export VANTAGE_STORE_ENGINE="${engines%% *}"; fi
prepare full_no_enrich
run full_no_enrich --no-enrich
for label in "${labels[@]}"; do
  grep -o '[0-9]* new, [0-9]* duplicates, [0-9]* routed' "$work/$label.log" | tail -1 |
    sed "s/^/pipeline_bench: $label: /"
  store_bytes "$label"
done
echo "pipeline_bench: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
