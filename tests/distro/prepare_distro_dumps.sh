#!/usr/bin/env bash
# ctest's setup test `distro dumps`: makes each distro kernel's dump the tests
# need (tests/support/distro_dumps.hpp) unless the cache has it complete.
# Exits 77 (ctest: skipped) when one cannot be made here -- no network, no
# QEMU, apt without arm64 -- and says why; the tests that need it then skip.
#
# usage: prepare_distro_dumps.sh CAPTURE   (the coroner-capture that writes kdump-d31)
# environment: CORONER_DISTRO_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/coroner-distro),
#              CORONER_DISTRO_KERNELS (default "6.1-amd64 6.12-amd64 6.1-arm64 5.10-amd64 6.1-amd64-keys
#                                     6.1-amd64-dmcrypt")
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CAPTURE=$1
cache=${CORONER_DISTRO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coroner-distro}
failed=()
for kernel in ${CORONER_DISTRO_KERNELS:-6.1-amd64 6.12-amd64 6.1-arm64 5.10-amd64 6.1-amd64-keys 6.1-amd64-dmcrypt}; do
  if [ -f "$cache/$kernel/complete" ]; then
    echo "$kernel: $(cat "$cache/$kernel/release") in $cache/$kernel"
    continue
  fi
  mkdir -p "$cache"
  log=$cache/$kernel.log
  start=$SECONDS
  if "$here/make_distro_dump.sh" "$kernel" "$cache/$kernel" > "$log" 2>&1; then
    echo "$kernel: made in $((SECONDS - start)) s: $(cat "$cache/$kernel/release") in $cache/$kernel"
  else
    echo "$kernel: FAILED after $((SECONDS - start)) s; the end of $log:"
    tail -15 "$log"
    failed+=("$kernel")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "*** SKIPPED: could not make the distro-kernel dumps ${failed[*]}; the tests that need them skip"
  exit 77
fi
