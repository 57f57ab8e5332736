#!/usr/bin/env bash
# Time to first answer on a large distro kernel: how long each tool takes
# from start to printing `p init_uts_ns.name.release`, in the same run:
#   coroner cold   no caches (a fresh, empty CORONER_CACHE_DIR each run):
#                  names are found by scanning .debug_info, no index is built;
#                  the background builder a session starts when it ends is
#                  off here (CORONER_BACKGROUND_INDEX=0) so that it cannot
#                  fill the next run's cache or share its CPUs -- its own
#                  cost is the next row
#   coroner index  `coroner --build-index VMLINUX`, what that background
#                  builder does after a cold session: the DWARF name index
#                  and the symbol table, written to the cache
#   coroner warm   both caches present
#   drgn 0.0.22    Debian's python3-drgn: Program(), set_core_dump,
#                  load_debug_info([VMLINUX]), prog["init_uts_ns"]...
#   crash 8.0.2    crash -s VMLINUX DUMP, the command on stdin
# Each is run $RUNS times; the row shows the best wall time, the CPU time
# (user + system) of that run and the largest peak RSS of the runs (GNU
# time %e %U %S %M), then wall time and peak RSS over drgn's. Every run's
# output must contain the dump's release (read from its VMCOREINFO), or the
# row says "wrong"/"fail". The page cache is warm for all: each tool reads
# the inputs once before it is measured.
#
# usage: bench/symbols/first_answer.sh [BUILD_DIR] [VMLINUX DUMP...]
#   With no VMLINUX and DUMP: CACHE_DIR/vmlinux and CACHE_DIR/dump/vmcore.*
#   as make_dump.sh writes them (CACHE_DIR: $SYMBENCH_CACHE, default
#   /tmp/coroner-bench-symbols).
# environment: RUNS=5; BENCH_PRIORITY=rt runs every measured command (every
#   tool) under chrt -f 1, so other work on the machine does not skew it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
[ $# -gt 0 ] && shift
coroner=$build/analyzer/coroner
runs=${RUNS:-5}
source "$repo/bench/lib.sh"
distro_dump_inputs "$@"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
query='p init_uts_ns.name.release'
cat >"$work/drgn_first.py" <<'EOF'
import sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
print(prog["init_uts_ns"].name.release)
EOF

# Sets cmd to the command line of TOOL on DUMP; the query goes on stdin.
tool_command() {
  case $1 in
    coroner-cold) cmd=(env "CORONER_CACHE_DIR=$work/cold" CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$2") ;;
    coroner-index) cmd=(env "CORONER_CACHE_DIR=$work/index" "$coroner" --build-index "$vmlinux") ;;
    coroner-warm) cmd=(env "CORONER_CACHE_DIR=$work/warm" CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$2") ;;
    drgn) cmd=(/usr/bin/python3 "$work/drgn_first.py" "$2" "$vmlinux") ;;
    crash) cmd=(crash -s "$vmlinux" "$2") ;;
  esac
}

# "wall cpu rss_mib" of TOOL on DUMP (best wall of $runs, CPU of that run,
# largest RSS), or "fail"/"wrong" with the output left in $work/out.TOOL.
# The cold and index runs start without a cache; the warm ones with both.
measure() {
  local tool=$1 cmd
  tool_command "$tool" "$2"
  before_run() {
    case $tool in
      coroner-cold) rm -rf "$work/cold" ;;
      coroner-index) rm -rf "$work/index" ;;
      coroner-warm) [ -n "$(ls "$work/warm"/*.index 2>/dev/null)" ] ||
        CORONER_CACHE_DIR="$work/warm" "$coroner" --build-index "$vmlinux" ;;
    esac
  }
  check_output() {
    if [ "$tool" = coroner-index ]; then ls "$work/index"/*.index "$work/index"/*.symbols >/dev/null 2>&1
    else grep -Fq "\"$release" "$1"; fi
  }
  time_runs "$runs" "$query" "$work/out.$tool" "${cmd[@]}"
}

echo "vmlinux: $(realpath "$vmlinux") ($(( $(stat -L -c %s "$vmlinux") / 1048576 )) MiB)"
echo "coroner: $coroner; drgn $(/usr/bin/python3 -c 'import drgn; print(drgn.__version__)' 2>/dev/null || echo missing);" \
     "crash $(crash -v 2>/dev/null | awk '/^crash /{print $2; exit}' || echo missing)"
echo "priority: ${BENCH_PRIORITY:-none}; best of $runs runs after one unmeasured run"
for dump in "${dumps[@]}"; do
  release=$(grep -a -m1 -o 'OSRELEASE=[^[:space:]]*' "$dump" | cut -d= -f2 || true)
  [ -n "$release" ] || { echo "$dump: no OSRELEASE in its VMCOREINFO" >&2; continue; }
  echo
  echo "dump: $(realpath "$dump") ($(( $(stat -c %s "$dump") / 1048576 )) MiB), release $release"
  printf "%-13s %8s %8s %8s %10s %10s\n" tool wall_s cpu_s MiB wall/drgn MiB/drgn
  declare -A wall=() mib=() cpu=()
  for tool in drgn coroner-cold coroner-index coroner-warm crash; do
    read -r wall[$tool] cpu[$tool] mib[$tool] <<<"$(measure $tool "$dump" "$release")"
  done
  for tool in coroner-cold coroner-index coroner-warm drgn crash; do
    w=${wall[$tool]} c=${cpu[$tool]:-} m=${mib[$tool]:-}
    if [[ ! $w =~ ^[0-9.]+$ ]]; then
      printf "%-13s %8s   %s\n" "$tool" "$w" "$(tail -1 "$work/out.$tool" | cut -c1-100)"
      continue
    fi
    rw=- rm=-
    if [[ ${wall[drgn]} =~ ^[0-9.]+$ ]]; then
      rw=$(ratio "$w" "${wall[drgn]}") rm=$(ratio "$m" "${mib[drgn]}")
    fi
    printf "%-13s %8s %8s %8s %10s %10s\n" "$tool" "$w" "$c" "$m" "$rw" "$rm"
  done
  if [[ ${wall[drgn]} =~ ^[0-9.]+$ && ${wall[coroner-cold]} =~ ^[0-9.]+$ && ${wall[coroner-warm]} =~ ^[0-9.]+$ ]]; then
    met() { awk "BEGIN{print ($1) ? \"met\" : \"NOT met\"}"; }
    echo "targets: cold wall <= drgn/2: $(met "${wall[coroner-cold]} <= ${wall[drgn]} / 2");" \
         "warm wall < 0.050 s: $(met "${wall[coroner-warm]} < 0.050");" \
         "peak RSS < drgn's: cold $(met "${mib[coroner-cold]} < ${mib[drgn]}"), warm $(met "${mib[coroner-warm]} < ${mib[drgn]}")"
  fi
  unset wall mib cpu
done
