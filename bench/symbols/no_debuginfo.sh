#!/usr/bin/env bash
# The no-vmlinux mode's cost (issue 21): time to first answer and peak memory
# of a cold session on a distro kernel's dump without its vmlinux (symbols
# from the dump's kallsyms, types from its BTF, unwinding from its ORC or
# frame records) next to the same session with the -dbg vmlinux, in the
# same run, and drgn 0.0.22 with the vmlinux as the reference:
#   coroner-dwarf  coroner -s VMLINUX DUMP, a fresh empty cache each run
#   coroner-btf    coroner -s DUMP with no vmlinux anywhere it looks
#                  (an empty --debuginfo-dir, no debuginfod), a fresh cache;
#                  on a fixture kernel (no BTF) the layouts the Linux model
#                  reads are inferred from memory: coroner-inferred
#   drgn           Debian's python3-drgn with the vmlinux (first answer only)
# Two sessions: `sys` (the first answer) and `sys; bt; ps; log`. Each is run
# $RUNS times after one unmeasured run; the row shows the best wall time, its
# CPU time and the largest peak RSS (GNU time), and wall and RSS over
# coroner-dwarf's. Every output must contain the dump's release.
#
# usage: bench/symbols/no_debuginfo.sh [BUILD_DIR] [KERNEL_DIR...]
#   KERNEL_DIR: what tests/distro/make_distro_dump.sh wrote (vmlinux,
#   dump/vmcore.kdump-d31), or a fixture kernel's folder (vmlinux.zst,
#   oops-kdump/d31, facts.json); default: every kernel in
#   $CORONER_DISTRO_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/coroner-distro)
#   and of $CORONER_FIXTURES (default ../shared/fixtures) when there.
# environment: RUNS=5; BENCH_PRIORITY=rt as bench/lib.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
[ $# -gt 0 ] && shift
coroner=$build/analyzer/coroner
runs=${RUNS:-5}
source "$repo/bench/lib.sh"
cache=${CORONER_DISTRO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coroner-distro}
kernels=("$@")
fixtures=${CORONER_FIXTURES:-$repo/../shared/fixtures}
if [ ${#kernels[@]} -eq 0 ]; then
  kernels=("$cache"/*/)
  for f in "$fixtures"/linux-*/; do [ -f "$f/oops-kdump/d31" ] && kernels+=("$f"); done
fi
[ -x "$coroner" ] || { echo "no coroner at $coroner (give the build directory)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty"
cat >"$work/drgn_first.py" <<'PY'
import sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
print(prog["init_uts_ns"].name.release)
PY

echo "coroner: $coroner; drgn $(/usr/bin/python3 -c 'import drgn; print(drgn.__version__)' 2>/dev/null || echo missing)"
echo "priority: ${BENCH_PRIORITY:-none}; best of $runs runs after one unmeasured run"
for dir in "${kernels[@]}"; do
  dir=${dir%/}
  without=coroner-btf
  if [ -f "$dir/vmlinux.zst" ]; then  # a fixture kernel
    vmlinux=$work/$(basename "$dir").vmlinux dump=$dir/oops-kdump/d31 without=coroner-inferred
    [ -f "$vmlinux" ] || zstd -dqf "$dir/vmlinux.zst" -o "$vmlinux"
    release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["osrelease"])' "$dir/oops-kdump/facts.json")
  else
    [ -f "$dir/complete" ] || { echo "$dir: not made (tests/distro/make_distro_dump.sh)"; continue; }
    vmlinux=$dir/vmlinux dump=$dir/dump/vmcore.kdump-d31 release=$(cat "$dir/release")
  fi
  echo
  echo "kernel: $release ($dump, $(( $(stat -c %s "$dump") / 1048576 )) MiB)"
  check_output() { grep -Fq "$release" "$1"; }
  before_run() { rm -rf "$work/cache"; }
  for session in sys "sys; bt; ps; log"; do
    input=${session//; /$'\n'}
    printf "%-18s %-16s %8s %8s %8s %11s %11s\n" session tool wall_s cpu_s MiB wall/dwarf MiB/dwarf
    declare -A wall=() cpu=() mib=()
    for tool in coroner-dwarf $without drgn; do
      case $tool in
        coroner-dwarf) cmd=(env "CORONER_CACHE_DIR=$work/cache" CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$dump") ;;
        coroner-btf|coroner-inferred) cmd=(env "CORONER_CACHE_DIR=$work/cache" CORONER_BACKGROUND_INDEX=0 DEBUGINFOD_URLS=
                          "$coroner" -s --debuginfo-dir "$work/empty" "$dump") ;;
        drgn) [ "$session" = sys ] || continue
              cmd=(/usr/bin/python3 "$work/drgn_first.py" "$dump" "$vmlinux") ;;
      esac
      read -r wall[$tool] cpu[$tool] mib[$tool] <<<"$(time_runs "$runs" "$input" "$work/out.$tool" "${cmd[@]}")"
      w=${wall[$tool]}
      if [[ ! $w =~ ^[0-9.]+$ ]]; then
        printf "%-18s %-16s %8s   %s\n" "$session" "$tool" "$w" "$(tail -1 "$work/out.$tool" | cut -c1-90)"
        continue
      fi
      rw=- rm=-
      if [[ ${wall[coroner-dwarf]} =~ ^[0-9.]+$ ]]; then
        rw=$(ratio "$w" "${wall[coroner-dwarf]}") rm=$(ratio "${mib[$tool]}" "${mib[coroner-dwarf]}")
      fi
      printf "%-18s %-16s %8s %8s %8s %11s %11s\n" "$session" "$tool" "$w" "${cpu[$tool]}" "${mib[$tool]}" "$rw" "$rm"
    done
    unset wall cpu mib
  done
done
