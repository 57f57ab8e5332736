#!/usr/bin/env bash
# kmem on a large distro kernel, each tool from start to exit on the same
# dump: `kmem -s` (every SLUB cache counted: the per-CPU slabs, freelists
# and partial lists of each) and `kmem -i` (the memory summary; crash and
# coroner walk every struct page for SHARED), the command on stdin:
#   coroner cold   no caches: a new, empty CORONER_CACHE_DIR for every run,
#                  its background index builder off
#   coroner warm   the caches of `coroner --build-index`
#   drgn-crash     a current drgn's crash mode, when DRGN_CRASH=path is set
#   crash 8.0.2    `crash -s VMLINUX DUMP`
# One unmeasured run of each, then RUNS runs; the table has the best wall
# time, its CPU time and the largest peak RSS (bench/lib.sh time_runs), and
# the ratios of the wall times to drgn-crash's and crash's. An output
# without the session's marker (kmalloc-64, TOTAL MEM) makes the row "wrong".
#
# usage: bench/kmem/kmem.sh [BUILD_DIR] [VMLINUX DUMP...]
#   With no VMLINUX and DUMP: what bench/symbols/make_dump.sh wrote to
#   $SYMBENCH_CACHE (default /tmp/coroner-bench-symbols).
# environment: RUNS=3; DRGN_CRASH; NO_CRASH=1 leaves crash out;
#   BENCH_PRIORITY=rt runs every measured command under chrt -f 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(realpath "${1:-$repo/build}")
[ $# -gt 0 ] && shift
coroner=$build/analyzer/coroner
runs=${RUNS:-3}
source "$repo/bench/lib.sh"
distro_dump_inputs "$@"
session_tools

# time_runs hooks: a cold coroner starts without caches; an output must
# hold the session's marker.
before_run() { [ "$tool" != coroner-cold ] || rm -rf "$work/cold"; }
check_output() { grep -q "$marker" "$1"; }

echo "vmlinux: $(realpath "$vmlinux") ($(( $(stat -L -c %s "$vmlinux") / 1048576 )) MiB)"
echo "coroner: $coroner; drgn-crash: ${DRGN_CRASH:-not set (DRGN_CRASH=path/to/drgn-crash)};" \
     "crash $(crash -v 2>/dev/null | awk '/^crash /{print $2; exit}' || echo missing)"
echo "priority: ${BENCH_PRIORITY:-none}; best of $runs runs after one unmeasured run of each"

for dump in "${dumps[@]}"; do
  rm -rf "$work/warm"
  CORONER_CACHE_DIR=$work/warm "$coroner" --build-index "$vmlinux" >/dev/null
  echo
  echo "dump: $(realpath "$dump") ($(( $(stat -c %s "$dump") / 1048576 )) MiB)"
  printf "%-8s %-13s %8s %7s %7s %10s %11s\n" session tool wall_s cpu_s MiB wall/drgn wall/crash
  for session in "kmem -s" "kmem -i"; do
    case $session in "kmem -s") marker=kmalloc-64 ;; *) marker="TOTAL MEM" ;; esac
    declare -A wall=() line=()
    for tool in "${tools[@]}"; do
      tool_command "$tool" "$dump"
      line[$tool]=$(time_runs "$runs" "$session" "$work/out.$tool" "${cmd[@]}")
      read -r w _ <<<"${line[$tool]}"
      [[ $w =~ ^[0-9] ]] && wall[$tool]=$w
    done
    for tool in "${tools[@]}"; do
      read -r w c m <<<"${line[$tool]}"
      if [ -z "${wall[$tool]:-}" ]; then printf "%-8s %-13s %s\n" "$session" "$tool" "$w"; continue; fi
      to_drgn=-; to_crash=-
      [ -n "${wall[drgn-crash]:-}" ] && to_drgn=$(ratio "$w" "${wall[drgn-crash]}")
      [ -n "${wall[crash]:-}" ] && to_crash=$(ratio "$w" "${wall[crash]}")
      printf "%-8s %-13s %8s %7s %7s %10s %11s\n" "$session" "$tool" "$w" "$c" "$m" "$to_drgn" "$to_crash"
    done
    unset wall line
  done
done
