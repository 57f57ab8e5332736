#!/usr/bin/env bash
# A terabyte machine's dump next to the 512 MB fixture it is made from:
# make_large_vmcore.py --ram-gib builds a 1 TiB ELF vmcore from the x86_64
# fixture's (its RAM plus free RAM up to 1 TiB, a sparse file of a few
# hundred MB on disk), coroner-capture -z -d 31 makes kdump-compressed and
# flattened dumps of both (wall time, CPU, peak RSS), then coroner opens each
# and runs `sys`, `bt` and `ps` with the fixture's vmlinux, its symbol index
# cache warm and cold (emptied before every run). Prints per format, command
# and cache the best wall time of $RUNS on each size, the ratio (target: at
# most 2) and the peak RSS; "same" says whether the terabyte dump's output
# is the fixture's (for `sys`, but for its DUMPFILE and MEMORY lines).
# Everything it makes is deleted at the end.
#
# usage: bench/capture/large_open.sh [BUILD_DIR]     (default: build)
# environment:
#   RUNS=3                  runs per measurement (after one unmeasured run)
#   RAM_GIB=1024            the large dump's physical address space in GiB
#   BENCH_DIR=/tmp/coroner-bench-large   scratch space (about 0.6 GB of disk;
#                           the ELF vmcore's apparent size is RAM_GIB GiB)
#   CORONER_FIXTURES        the fixtures folder (default ../shared/fixtures)
#   BENCH_PRIORITY=rt       run every measured command under chrt -f 1 (root)
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
capture=$build/capture/coroner-capture
coroner=$build/analyzer/coroner
runs=${RUNS:-3}
ram_gib=${RAM_GIB:-1024}
work=${BENCH_DIR:-/tmp/coroner-bench-large}
fixtures=${CORONER_FIXTURES:-$here/../shared/fixtures}
source "$here/bench/lib.sh"

for tool in "$capture" "$coroner"; do
  [ -x "$tool" ] || { echo "no $tool (give the build directory)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed" >&2; exit 2; }
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

fixture=$fixtures/linux-6.1-x86_64
zstd -q -d -f "$fixture/vmlinux.zst" -o "$work/vmlinux"
zstd -q -d -f --long=27 "$fixture/oops-kdump/vmcore.zst" -o "$work/small.elf"
python3 "$here/bench/capture/make_large_vmcore.py" "$work/small.elf" "$work/large.elf" 1 --ram-gib "$ram_gib" >&2

echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "priority: ${BENCH_PRIORITY:-none}; best of $runs runs"
echo
echo "coroner-capture -z -d 31 --num-threads 2 from the ELF vmcore (one run each):"
echo
echo '| input | apparent size | on disk | output | wall s | CPU s | peak RSS MiB | out MB |'
echo '|---|---|---|---|---|---|---|---|'
for size in small large; do
  for format in kdump flat; do
    out=$work/$size.$format
    if [ "$format" = flat ]; then cmd=("$capture" -F); else cmd=("$capture"); fi
    cmd+=(--message-level 0 -z -d 31 --num-threads 2 "$work/$size.elf")
    [ "$format" = kdump ] && cmd+=("$out")
    t0=$(date +%s%N)
    if ! "${priority[@]}" /usr/bin/time -o "$work/time.txt" -f '%U %S %M' "${cmd[@]}" >"$work/stdout" 2>"$work/stderr"; then
      echo "coroner-capture failed on $size.elf: $(tail -1 "$work/stderr")" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    [ "$format" = flat ] && mv "$work/stdout" "$out"
    read -r u s m <"$work/time.txt"
    awk -v size="$size" -v format="$format" -v apparent="$(stat -c %s "$work/$size.elf")" \
      -v disk="$(stat -c %b "$work/$size.elf")" -v wall="$(((t1 - t0) / 1000000))" -v cpu="$u + $s" \
      -v u="$u" -v s="$s" -v rss="$m" -v outsize="$(stat -c %s "$out")" 'BEGIN {
      printf "| %s.elf | %.1f GB | %.0f MB | %s | %.2f | %.2f | %.1f | %.1f |\n", size, apparent / 1e9, disk * 512 / 1e6,
        format, wall / 1000, u + s, rss / 1024, outsize / 1e6 }'
  done
done

# The same answers from both sizes: sys but for the file name and memory size.
normalize() { grep -v -e '^ *DUMPFILE:' -e '^ *MEMORY:' "$1"; }
before_run() { if [ "$cache" = cold ]; then rm -rf "$work/cache-cold"; fi; }

echo
echo "coroner -s -x CMD vmlinux DUMP, CORONER_BACKGROUND_INDEX=0 (seconds, best of $runs; RSS MiB, largest):"
echo
echo '| format | command | index cache | 512 MB fixture s | 1 TiB s | ratio | RSS MiB fixture | RSS MiB 1 TiB | same |'
echo '|---|---|---|---|---|---|---|---|---|'
worst=0
for format in elf kdump flat; do
  for command in sys bt ps; do
    for cache in warm cold; do
      declare -A wall=() rss=()
      for size in small large; do
        read -r w _ r < <(time_runs "$runs" "" "$work/out.$size" env CORONER_CACHE_DIR="$work/cache-$cache" \
          CORONER_BACKGROUND_INDEX=0 "$coroner" -s -x "$command" "$work/vmlinux" "$work/$size.$format")
        [ "$w" = fail ] && { echo "coroner failed: $command on $size.$format: $(tail -2 "$work/out.$size")" >&2; exit 1; }
        wall[$size]=$w rss[$size]=$r
      done
      same=no
      cmp -s <(normalize "$work/out.small") <(normalize "$work/out.large") && same=yes
      r=$(ratio "${wall[large]}" "${wall[small]}")
      awk "BEGIN {exit !($r > $worst)}" && worst=$r
      echo "| $format | $command | $cache | ${wall[small]} | ${wall[large]} | $r | ${rss[small]} | ${rss[large]} | $same |"
    done
  done
done
echo
echo "target: every ratio at most 2 (worst: $worst)"
echo "sys on the large kdump dump: $(CORONER_CACHE_DIR="$work/cache-warm" CORONER_BACKGROUND_INDEX=0 "$coroner" -s -x sys \
  "$work/vmlinux" "$work/large.kdump" | grep -E '^ *MEMORY:' | sed 's/^ *//')"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
