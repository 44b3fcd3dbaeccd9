#!/usr/bin/env bash
# The main job on the embedded default: install what is missing, build, and bring the whole
# service up with `vantage up` -- pipeline with its push endpoint and inbox watch, API and
# downloads, dashboard, the scanner on a schedule against this machine's loopback services,
# a demo constituency (real ASNs and prefixes from the routing data, one national CSIRT) and a
# synthetic partner feed. It prints where to look; Ctrl-C stops it; running it again continues
# with the same data (var/up). Nothing to install by hand; idempotent.
#
# Environment: VANTAGE_LISTEN (default 127.0.0.1:8080), VANTAGE_DATA (default var/up).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Only the binary it runs: the tests and benchmarks are the test command's job, and compiling
# them first would keep a new user waiting several times longer for the service.
scripts/build.sh release vantage
bin=build/release/apps/vantage/vantage
data=${VANTAGE_DATA:-var/up}
echo
"$bin" version
echo "== vantage up (data in $data; Ctrl-C to stop)"
exec "$bin" --data-dir "$data" up --listen "${VANTAGE_LISTEN:-127.0.0.1:8080}"
