#!/usr/bin/env bash
# The whole test suite: install, build (warnings as errors), run every ctest test, then the
# libFuzzer targets briefly under ASan/UBSan. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh dev
ctest --preset dev -j "$(nproc)" --timeout 600
scripts/fuzz.sh "${VANTAGE_FUZZ_SECONDS:-20}"
