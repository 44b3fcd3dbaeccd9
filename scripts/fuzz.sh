#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for N seconds on its seed
# corpus, as many at a time as there are cores. A crash, leak or sanitizer report fails the
# run. Usage: scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
cmake --preset fuzz >/dev/null
cmake --build build/fuzz --target fuzzers -j "$(nproc)"
shopt -s nullglob

# Runs one target; its log and exit status are left in $2.log / $2.rc.
run_one() {
  local target=$1 out=$2 name corpus work
  name=$(basename "$target")
  corpus="fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  [[ -d "$corpus" ]] && cp -r "$corpus"/. "$work"/
  local rc=0
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$out." "$work" >"$out.log" 2>&1 || rc=$?
  echo "$rc" >"$out.rc"
  rm -rf "$work"
}

results=$(mktemp -d)
jobs_max=$(nproc)
targets=()
for target in build/fuzz/fuzz/fuzz_*; do
  [[ -x "$target" && -f "$target" ]] && targets+=("$target")
done
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs_max)); do sleep 0.2; done
  echo "fuzz: $(basename "$target") for ${seconds}s"
  run_one "$target" "$results/$(basename "$target")" &
done
wait
failed=0
for target in "${targets[@]}"; do
  name=$(basename "$target")
  if [[ "$(cat "$results/$name.rc")" != 0 ]]; then
    echo "fuzz: $name FAILED"
    tail -50 "$results/$name.log"
    ls "$results/$name".* | grep -v -E '\.(log|rc)$' || true
    failed=1
  else
    echo "fuzz: $name: $(grep -E '^stat::number_of_executed_units' "$results/$name.log" || echo done)"
  fi
done
((failed == 0)) || exit 1
rm -rf "$results"
echo "fuzz: ${#targets[@]} targets ran clean"
