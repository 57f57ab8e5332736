#!/usr/bin/env bash
# coroner-capture next to makedumpfile, in the same run, page cache warm:
# -c -d 31, -l -d 31 and -z -d 31 on the fixtures' oops-kdump vmcores, and
# the same plus -d 1 on a large vmcore built here from the x86_64 one (see
# make_large_vmcore.py; deleted at the end). coroner-capture also runs -z at
# zstd's fast levels (mode "-z:N" is -z --zstd-level=N), compared with
# makedumpfile -l, the mode the issue wants them to beat. Each input is also
# read by `cat INPUT > /dev/null` in the same run, the yardstick for the
# throughput target (capture -z -d 31 within 1.5x of it). Prints, per run,
# the best wall time of $RUNS, the CPU time (user + system) of that run, throughput (MB of
# input file per second of wall time), peak RSS (the largest of the runs,
# GNU time's %M) and output size, with ratios to makedumpfile's run of the
# same mode and thread count (-z: to upstream makedumpfile -z, run with
# --num-threads as coroner-capture is, or to makedumpfile -c when there is no
# upstream build); "same" says whether the output is byte for byte
# makedumpfile's. Ends with the issue's targets, met or not.
#
# usage: bench/capture/run.sh [BUILD_DIR]      (default: build)
# environment:
#   RUNS=3                  runs per measurement (the best wall time counts)
#   THREADS="1 2"           --num-threads values for coroner-capture
#   ZSTD_FAST="-1 -3"       zstd fast levels to run -z at ("": none)
#   BENCH_DIR=/tmp/coroner-bench   scratch space (about 0.5 GB of disk plus
#                           outputs; the large vmcore is 2.6 GB, sparse)
#   LARGE_COPIES=6          RAM copies in the large vmcore (0: skip it)
#   MAKEDUMPFILE_Z          an upstream makedumpfile built with zstd (USEZSTD=on),
#                           for the -z comparison (Debian's has no zstd), run
#                           without --num-threads ("-j -") and with each THREADS;
#                           default: bench/capture/build_makedumpfile.sh's
#                           build when it is there ("": none)
#   CORONER_FIXTURES        the fixtures folder (default ../shared/fixtures)
#   BENCH_PRIORITY=rt       run every measured command (both tools) under
#                           chrt -f 1: on a machine busy with other work the
#                           scheduler otherwise gives the whole run a share of
#                           the CPUs (its autogroup's), so extra threads cannot
#                           help and wall times mostly measure the others.
#                           Needs root; default none.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
capture=$build/capture/coroner-capture
runs=${RUNS:-3}
threads_list=${THREADS:-1 2}
fast_levels=${ZSTD_FAST--1 -3}
work=${BENCH_DIR:-/tmp/coroner-bench}
copies=${LARGE_COPIES:-6}
fixtures=${CORONER_FIXTURES:-$here/../shared/fixtures}
if [ -z "${MAKEDUMPFILE_Z+set}" ]; then
  MAKEDUMPFILE_Z=$("$here/bench/capture/build_makedumpfile.sh" --print-path) || MAKEDUMPFILE_Z=
fi
upstream=$MAKEDUMPFILE_Z
source "$here/bench/lib.sh"

[ -x "$capture" ] || { echo "no coroner-capture at $capture (give the build directory)" >&2; exit 2; }
command -v makedumpfile >/dev/null || { echo "makedumpfile is not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 2; }
if [ -n "$upstream" ] && ! "$upstream" -v 2>&1 | grep -qi 'zstd.*enabled'; then
  echo "MAKEDUMPFILE_Z=$upstream has no zstd; ignoring it" >&2
  upstream=
fi
mkdir -p "$work"
large=$work/vmcore-large
trap 'rm -f "$large" "$work"/out-* "$work"/time.txt "$work"/stderr.txt' EXIT

inputs=()
for arch in x86_64 arm64; do
  dst=$work/vmcore-$arch
  [ -f "$dst" ] || zstd -q -d --long=27 "$fixtures/linux-6.1-$arch/oops-kdump/vmcore.zst" -o "$dst"
  inputs+=("$dst")
done
if [ "$copies" -gt 0 ]; then
  python3 "$here/bench/capture/make_large_vmcore.py" "$work/vmcore-x86_64" "$large" "$copies" >&2
  inputs+=("$large")
fi

# measure OUT CMD...: sets m_wall m_cpu m_rss m_size (m_wall "-" on failure);
# OUT "-": the command writes no file (m_size 0).
measure() {
  local out=$1; shift
  m_wall=- m_cpu=- m_rss=0 m_size=0
  local i w c r t0 t1
  for ((i = 0; i < runs; i++)); do
    [ "$out" = - ] || rm -f "$out"
    # Wall time from the clock around the run: GNU time's %e has only 10 ms
    # steps, too coarse for the fixtures' 30-50 ms runs.
    t0=$(date +%s%N)
    if ! "${priority[@]}" /usr/bin/time -f '%U %S %M' -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt"; then
      echo "failed: $* -- $(grep -v '^[[:space:]]*$' "$work/stderr.txt" | tail -1)" >&2
      m_wall=-
      return
    fi
    t1=$(date +%s%N)
    w=$(awk "BEGIN {printf \"%.3f\", ($t1 - $t0) / 1e9}")
    read -r c r < <(awk '{print $1 + $2, $3}' "$work/time.txt")
    if [ "$m_wall" = - ] || awk "BEGIN {exit !($w < $m_wall)}"; then m_wall=$w m_cpu=$c; fi
    [ "$r" -gt "$m_rss" ] && m_rss=$r
  done
  [ "$out" = - ] || m_size=$(stat -c %s "$out")
}

ratio() { awk "BEGIN {if ($2 > 0) printf \"%.${3:-2}f\", $1 / $2; else print \"-\"}"; }
row() {  # input tool mode threads size_in ref_wall ref_size same
  local mbps rss_mb out_mb tx sx
  mbps=$(awk "BEGIN {printf \"%.0f\", $5 / 1e6 / ($m_wall > 0 ? $m_wall : 0.01)}")
  rss_mb=$(awk "BEGIN {printf \"%.1f\", $m_rss / 1024}")
  out_mb=$(awk "BEGIN {printf \"%.2f\", $m_size / 1e6}")
  if [ "$6" = - ]; then tx=- sx=-; else tx=$(ratio "$6" "$m_wall") sx=$(ratio "$m_size" "$7" 3); fi
  printf '| %-13s | %-15s | %-11s | %3s | %6.3f | %6.2f | %6s | %6s | %8s | %6s | %6s | %-4s |\n' \
    "$1" "$2" "$3" "$4" "$m_wall" "$m_cpu" "$mbps" "$rss_mb" "$out_mb" "$tx" "$sx" "$8"
}

echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "priority: ${BENCH_PRIORITY:-none}; makedumpfile $(makedumpfile -v 2>&1 | head -1 | awk '{print $3}')${upstream:+, upstream $("$upstream" -v 2>&1 | head -1 | awk '{print $3}') for -z}; best of $runs runs"
echo
echo '| input         | tool            | mode        | -j  | wall s | CPU s  | MB/s   | RSS MB | out MB   | time x | size x | same |'
echo '|---------------|-----------------|-------------|-----|--------|--------|--------|--------|----------|--------|--------|------|'
targets=()
max_rss=0
for input in "${inputs[@]}"; do
  name=$(basename "$input")
  size_in=$(stat -c %s "$input")
  cat "$input" >/dev/null  # warm the page cache
  measure - cat "$input"
  cat_wall=$m_wall
  row "$name" cat "> /dev/null" 1 "$size_in" - - -
  levels="31"
  [ "$input" = "$large" ] && levels="31 1"
  for level in $levels; do
    for t in $threads_list; do unset "w_z_$t"; done
    declare -A ref_wall=() ref_size=()
    # Debian's makedumpfile: -c and -l, one thread (its own default).
    for mode in -c -l; do
      measure "$work/out-ref$mode" makedumpfile "$mode" -d "$level" "$input" "$work/out-ref$mode"
      [ "$m_wall" = - ] && continue  # Debian's x86_64 makedumpfile cannot read arm64 vmcores
      ref_wall[$mode]=$m_wall ref_size[$mode]=$m_size
      row "$name" makedumpfile "$mode -d $level" 1 "$size_in" - - -
    done
    # Upstream makedumpfile -z without --num-threads (its default, "-j -")
    # and with each --num-threads coroner-capture runs.
    if [ -n "$upstream" ]; then
      for threads in 0 $threads_list; do
        jobs=(--num-threads "$threads")
        [ "$threads" = 0 ] && jobs=()
        # Its worker threads wait for each other spinning: under SCHED_FIFO
        # on two CPUs --num-threads 2 never finished (7 minutes on the
        # 450 MB fixture), starving everything else.
        if [ "$threads" -gt 1 ] && [ "${BENCH_PRIORITY:-}" = rt ]; then
          echo "upstream makedumpfile --num-threads $threads: not run under BENCH_PRIORITY=rt (it spins)" >&2
          continue
        fi
        measure "$work/out-ref-z$threads" "$upstream" -z -d "$level" "${jobs[@]}" "$input" "$work/out-ref-z$threads"
        [ "$m_wall" = - ] && continue
        ref_wall[-z$threads]=$m_wall ref_size[-z$threads]=$m_size
        row "$name" "mdf upstream" "-z -d $level" "${jobs[1]:--}" "$size_in" - - -
        [ "$level" = 31 ] && [ "$cat_wall" != - ] &&
          targets+=("$name -d 31: upstream makedumpfile -z -j${jobs[1]:--} wall / cat's: $(ratio "$m_wall" "$cat_wall")x")
      done
    fi
    for mode in -c -l -z; do
      for threads in $threads_list; do
        ref=$mode
        if [ "$mode" = -z ]; then ref=-z$threads; [ -n "${ref_wall[$ref]:-}" ] || ref=-c; fi
        out=$work/out-coroner$mode
        measure "$out" "$capture" --message-level 0 "$mode" -d "$level" --num-threads "$threads" "$input" "$out"
        [ "$m_wall" = - ] && continue
        same=-
        [ -f "$work/out-ref$ref" ] && [ "$ref" != -c -o "$mode" = -c ] && [ -n "${ref_wall[$ref]:-}" ] &&
          { cmp -s "$out" "$work/out-ref$ref" && same=yes || same=no; }
        row "$name" coroner-capture "$mode -d $level" "$threads" "$size_in" "${ref_wall[$ref]:--}" "${ref_size[$ref]:-0}" "$same"
        [ "$m_rss" -gt "$max_rss" ] && max_rss=$m_rss
        eval "w_${mode#-}_$threads=$m_wall s_${mode#-}_$threads=$m_size"
      done
    done
    for fast in $fast_levels; do
      unset "fw_${fast#-}" "fs_${fast#-}"
      for threads in $threads_list; do
        out=$work/out-coroner-z$fast
        measure "$out" "$capture" --message-level 0 -z --zstd-level="$fast" -d "$level" --num-threads "$threads" "$input" "$out"
        [ "$m_wall" = - ] && continue
        row "$name" coroner-capture "-z:$fast -d $level" "$threads" "$size_in" "${ref_wall[-l]:--}" "${ref_size[-l]:-0}" -
        [ "$m_rss" -gt "$max_rss" ] && max_rss=$m_rss
        eval "fw_${fast#-}=$m_wall fs_${fast#-}=$m_size"  # the last (largest) thread count
      done
    done
    # The issue's targets, from --num-threads 2 (or the largest count run).
    j=${threads_list##* }
    j1=${threads_list%% *}
    if [ -n "${ref_wall[-c]:-}" ]; then
      eval "zw=\$w_z_$j zs=\$s_z_$j cw=\$w_c_$j cs=\$s_c_$j cw1=\$w_c_$j1 zw1=\$w_z_$j1"
      targets+=("$name -d $level: -z -j$j vs makedumpfile -c: $(ratio "${ref_wall[-c]}" "$zw")x faster, size $(ratio "$zs" "${ref_size[-c]}" 3)x (target >= 2x, <= 1)")
      targets+=("$name -d $level: -c -j$j vs makedumpfile -c: $(ratio "${ref_wall[-c]}" "$cw")x faster, size $(ratio "$cs" "${ref_size[-c]}" 3)x (target >= 2x, <= 1)")
      targets+=("$name -d $level: -z -j$j vs makedumpfile -l: $(ratio "${ref_wall[-l]}" "$zw")x as fast, size $(ratio "$zs" "${ref_size[-l]}" 3)x (target >= 1, < 1)")
      for fast in $fast_levels; do
        eval "fw=\${fw_${fast#-}:-} fs=\${fs_${fast#-}:-}"
        if [ -n "$fw" ]; then targets+=("$name -d $level: -z:$fast -j$j vs makedumpfile -l: $(ratio "${ref_wall[-l]}" "$fw")x as fast, size $(ratio "$fs" "${ref_size[-l]}" 3)x (target >= 1, < 1)"); fi
      done
      targets+=("$name -d $level: threads $j1 -> $j: -c $(ratio "$cw1" "$cw")x, -z $(ratio "$zw1" "$zw")x faster (target > 1)")
    fi
    if [ "$level" = 31 ] && [ "$cat_wall" != - ]; then
      for threads in $threads_list; do
        eval "zw=\${w_z_$threads:-}"
        [ -n "$zw" ] && targets+=("$name -d 31: -z -j$threads wall / cat's: $(ratio "$zw" "$cat_wall")x (target <= 1.5)")
        [ -n "$zw" ] && [ -n "${ref_wall[-z$threads]:-}" ] &&
          targets+=("$name -d 31: -z -j$threads vs upstream makedumpfile -z -j$threads: $(ratio "${ref_wall[-z$threads]}" "$zw")x faster, without --num-threads: $(ratio "${ref_wall[-z0]}" "$zw")x")
      done
    fi
    unset ref_wall ref_size
  done
done
echo
echo "time x: makedumpfile's wall time / this one (above 1 is faster); size x: this output / makedumpfile's"
if [ -n "$upstream" ]; then echo "(the -z rows compare with upstream makedumpfile -z at the same --num-threads)"
else echo "(the -z rows compare with makedumpfile -c: Debian's makedumpfile has no zstd)"; fi
if [ -n "$fast_levels" ]; then echo "(-z:N is -z --zstd-level=N, compared with makedumpfile -l)"; fi
echo
echo "targets (from this run):"
for t in "${targets[@]}"; do echo "  $t"; done
echo "  peak RSS of coroner-capture over all runs: $(awk "BEGIN {printf \"%.1f\", $max_rss / 1024}") MB (target <= 64)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
