#!/usr/bin/env bash
# Configures and builds one CMake preset (default: dev), all of it or only the named targets.
# Usage: scripts/build.sh [preset [target...]]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
shift || true
targets=()
(($# > 0)) && targets=(--target "$@")
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}"
