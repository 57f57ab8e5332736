#!/usr/bin/env bash
# Every benchmark, next to the real tools in the same run.
#   bench/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
echo "== open + sys (coroner vs crash 8.0.2) =="
bench/open_sys.sh "$build"
if [ -x bench/capture/run.sh ]; then
  echo; echo "== coroner-capture vs makedumpfile =="
  bench/capture/run.sh "$build"
fi
