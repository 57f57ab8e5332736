#!/usr/bin/env bash
# A backtrace of every task, each tool in the same run, from start to exit:
#   coroner       `foreach bt` (crash's output; inline frames included)
#   coroner -l    `foreach bt -l` (with file:line, as drgn's traces print)
#   drgn 0.0.22   Debian's python3-drgn: load vmlinux (and fx_crash.ko),
#                 str(prog.stack_trace(task)) for every task of for_each_task
#   crash 8.0.2   `foreach bt` (x86_64 dumps only: Debian's crash reads no other)
# on the x86_64 fixture dumps and, when bench/symbols/make_dump.sh made it,
# the distro-kernel dump. Each row: best wall time of $RUNS runs (after one
# unmeasured run that warms the page cache and coroner's index cache), the
# CPU time (user + system) of that run, the largest peak RSS (GNU time),
# the number of traces printed, and wall time and RSS over coroner's.
#
# usage: bench/stacks/foreach_bt.sh [BUILD_DIR]
# environment: RUNS=3; CORONER_FIXTURES (default ../shared/fixtures);
#   SYMBENCH_CACHE (where make_dump.sh wrote the distro dump, default
#   /tmp/coroner-bench-symbols); BENCH_PRIORITY=rt runs every measured
#   command under chrt -f 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(realpath "${1:-$repo/build}")
coroner=$build/analyzer/coroner
runs=${RUNS:-3}
fixtures=$(realpath "${CORONER_FIXTURES:-$repo/../shared/fixtures}")
distro=${SYMBENCH_CACHE:-/tmp/coroner-bench-symbols}
cache=$build/bench-cache
source "$repo/bench/lib.sh"
[ -x "$coroner" ] || { echo "no coroner at $coroner (give the build directory)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed" >&2; exit 2; }
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CORONER_CACHE_DIR=$cache/coroner

cat >"$work/drgn_foreach_bt.py" <<'EOF'
import sys, drgn
from drgn.helpers.linux.pid import for_each_task
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info(sys.argv[2:])
traces = 0
for task in for_each_task(prog):
    print(f"PID: {task.pid.value_()}  TASK: {task.value_():x}  COMMAND: \"{task.comm.string_().decode()}\"")
    try:
        print(prog.stack_trace(task))
        traces += 1
    except Exception as e:  # counted out: the row shows fewer traces
        print(f"error: {e}")
print(f"traces: {traces}")
EOF

unzst() {  # decompress a fixture once into the bench cache
  local out=$cache/$(echo "$1" | sed "s|$fixtures/||; s|/|-|g; s|\.zst$||")
  [ -f "$out" ] || zstd -q -d --long=27 "$1" -o "$out"
  echo "$out"
}

# Sets cmd to TOOL's command line on DUMP with VMLINUX (and MODULE, may be
# empty); the commands go on stdin (input).
tool_command() {
  local tool=$1 vmlinux=$2 dump=$3 module=$4
  local mod=()
  [ -n "$module" ] && mod=(--mod-path "$(dirname "$module")")
  case $tool in
    coroner) cmd=("$coroner" -s "${mod[@]}" "$vmlinux" "$dump") input="foreach bt" ;;
    coroner-l) cmd=("$coroner" -s "${mod[@]}" "$vmlinux" "$dump") input="foreach bt -l" ;;
    drgn) cmd=(/usr/bin/python3 "$work/drgn_foreach_bt.py" "$dump" "$vmlinux" ${module:+"$module"}) input="" ;;
    crash) cmd=(crash -s "$vmlinux" "$dump") input="foreach bt" ;;
  esac
}

# "wall cpu rss_mib traces" of TOOL (best wall of $runs after a warm-up run,
# CPU of that run, largest RSS), or "fail" with the output in $work/out.TOOL.
measure() {
  local tool=$1 cmd input traces timing
  tool_command "$@"
  timing=$(time_runs "$runs" "$input" "$work/out.$tool" "${cmd[@]}")
  [ "$timing" = fail ] && { echo fail; return; }
  if [ "$tool" = drgn ]; then
    traces=$(sed -n 's/^traces: //p' "$work/out.$tool" | tail -1)
  else
    traces=$(grep -c '^PID: ' "$work/out.$tool" || true)
  fi
  echo "$timing ${traces:-0}"
}

# One table: every tool on DUMP.
bench_dump() {
  local name=$1 vmlinux=$2 dump=$3 module=$4 machine=$5
  echo
  echo "dump: $name ($(( $(stat -L -c %s "$dump") / 1048576 )) MiB)"
  printf "%-10s %8s %8s %8s %7s %12s %11s\n" tool wall_s cpu_s MiB traces wall/coroner MiB/coroner
  declare -A row=()
  local tools=(coroner coroner-l drgn)
  [ "$machine" = x86_64 ] && command -v crash >/dev/null && tools+=(crash)
  for tool in "${tools[@]}"; do row[$tool]=$(measure "$tool" "$vmlinux" "$dump" "$module"); done
  local cw cm
  read -r cw _ cm _ <<<"${row[coroner]}"
  for tool in "${tools[@]}"; do
    local w c m t
    read -r w c m t <<<"${row[$tool]}"
    if [[ ! $w =~ ^[0-9.]+$ ]] || [ "${t:-0}" = 0 ]; then  # no time, or not one trace printed
      printf "%-10s %8s   %s\n" "$tool" fail "$(grep -v '^traces: ' "$work/out.$tool" | tail -1 | cut -c1-100)"
      continue
    fi
    local rw=- rm=-
    if [[ $cw =~ ^[0-9.]+$ ]]; then rw=$(ratio "$w" "$cw") rm=$(ratio "$m" "$cm"); fi
    printf "%-10s %8s %8s %8s %7s %12s %11s\n" "$tool" "$w" "$c" "$m" "$t" "$rw" "$rm"
  done
}

echo "coroner: $coroner; drgn $(/usr/bin/python3 -c 'import drgn; print(drgn.__version__)' 2>/dev/null || echo missing);" \
     "crash $(crash -v 2>/dev/null | awk '/^crash /{print $2; exit}' || echo missing)"
echo "priority: ${BENCH_PRIORITY:-none}; best of $runs runs after one unmeasured run"
dir=$fixtures/linux-6.1-x86_64
if [ -d "$dir" ]; then
  vmlinux=$(unzst "$dir/vmlinux.zst")
  for f in "$dir"/oops-kdump/vmcore.zst "$dir"/oops-kdump/d31 "$dir"/oops-kdump-la57/d31 "$dir"/panic-qemu/kdump-zlib; do
    [ -f "$f" ] || continue
    case $f in *.zst) dump=$(unzst "$f") ;; *) dump=$f ;; esac
    bench_dump "x86_64/${f#$dir/}" "$vmlinux" "$dump" "$dir/fx_crash.ko" x86_64
  done
fi
if [ -f "$distro/vmlinux" ]; then
  for dump in "$distro"/dump/vmcore.*; do
    [ -f "$dump" ] || continue
    bench_dump "distro $(basename "$dump")" "$distro/vmlinux" "$dump" "" x86_64
  done
else
  echo; echo "(no distro-kernel dump in $distro: bench/symbols/make_dump.sh makes it)"
fi
