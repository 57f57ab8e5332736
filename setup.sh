#!/usr/bin/env bash
# coroner set-up, in two commands (see README.md):
#   ./setup.sh         install dependencies, build, open the crash> shell on
#                      the bundled sample dump
#   ./setup.sh test    install dependencies, build, run the whole test suite
# Debian 12 packages only; apt-get runs only when something is missing.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-shell}
build_dir=${CORONER_BUILD_DIR:-build}

packages=(cmake g++ make pkg-config llvm-19-dev libcapstone-dev libreadline-dev libfmt-dev
          catch2 zlib1g-dev libzstd-dev liblzo2-dev libsnappy-dev liblzma-dev
          nlohmann-json3-dev zstd)
if [ "$mode" = test ] || [ "$mode" = bench ]; then
  # The tests compare against the real tools and build variants with them;
  # libssl-dev gives them SHA-256 to check memory samples of facts.json;
  # groff-base checks the generated man pages.
  packages+=(makedumpfile crash python3-drgn dwarves libssl-dev groff-base)
fi
[ "$mode" = bench ] && packages+=(time)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$(nproc)"

case "$mode" in
  shell)
    exec "$build_dir/analyzer/coroner" ;;
  test)
    cd "$build_dir"
    exec ctest --output-on-failure -j "$(nproc)" ;;
  bench)
    exec bench/run.sh "$build_dir" ;;
  *)
    echo "usage: $0 [shell|test|bench]" >&2; exit 2 ;;
esac
