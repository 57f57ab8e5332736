#!/usr/bin/env bash
# Open + `sys` on every fixture dump: coroner next to crash 8.0.2
# (`crash -s`), measured in the same run. Prints wall seconds (best of
# $RUNS) and peak RSS, and the ratio crash/coroner.
#   bench/open_sys.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
coroner=$(realpath "$build/analyzer/coroner")
fixtures=${CORONER_FIXTURES:-$(dirname "$0")/../../shared/fixtures}
fixtures=$(realpath "$fixtures")
cache=${CORONER_BENCH_CACHE:-$build/bench-cache}
runs=${RUNS:-3}
mkdir -p "$cache"
cache=$(realpath "$cache")
export CORONER_CACHE_DIR=$cache/coroner

unzst() {  # decompress once into the bench cache
  local out=$cache/$(echo "$1" | sed "s|$fixtures/||; s|/|-|g; s|\.zst$||")
  [ -f "$out" ] || zstd -q -d --long=27 "$1" -o "$out"
  echo "$out"
}

# best wall time and its peak RSS (MiB) of a command reading `sys` on stdin
measure() {
  local best="" rss="" out=$cache/time.out
  for _ in $(seq "$runs"); do
    rm -f "$out"
    /usr/bin/time -o "$out" -f "%e %M" "$@" <<<"sys" >/dev/null 2>&1 || true
    [ -s "$out" ] || { echo "fail -"; return; }
    local t m
    read -r t m < <(tail -1 "$out")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$((m / 1024)); fi
  done
  echo "$best $rss"
}

printf "%-36s %10s %8s %10s %8s %8s\n" dump coroner_s MiB crash_s MiB ratio
for arch in x86_64 arm64 arm64-16k; do
  dir=$fixtures/linux-6.1-$arch
  [ -d "$dir" ] || continue
  vmlinux=$(unzst "$dir/vmlinux.zst")
  for f in "$dir"/*/vmcore.zst "$dir"/*/elf.zst "$dir"/*/d31 "$dir"/*/kdump-zlib; do
    [ -f "$f" ] || continue
    case $f in *.zst) dump=$(unzst "$f") ;; *) dump=$f ;; esac
    name=${f#$fixtures/linux-6.1-}
    # warm the page cache and coroner's DWARF index cache once
    "$coroner" -s "$vmlinux" "$dump" <<<"sys" >/dev/null 2>&1 || true
    read -r ct cm <<<"$(measure "$coroner" -s "$vmlinux" "$dump")"
    if [ "$arch" = x86_64 ] && command -v crash >/dev/null; then
      read -r kt km <<<"$(measure crash -s "$vmlinux" "$dump")"
    else
      kt=n/a km=-   # Debian's crash is built for x86_64 dumps only
    fi
    ratio=-
    if [[ $kt =~ ^[0-9.]+$ && $ct =~ ^[0-9.]+$ ]]; then ratio=$(awk "BEGIN{printf \"%.1fx\", $kt / ($ct > 0 ? $ct : 0.01)}"); fi
    printf "%-36s %10s %8s %10s %8s %8s\n" "$name" "$ct" "$cm" "$kt" "$km" "$ratio"
  done
done
