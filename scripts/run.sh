#!/usr/bin/env bash
# The main job on the embedded default: install, build, and run Vantage.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
bin=build/release/apps/vantage/vantage
"$bin" --help
echo
"$bin" schema list --summary
