#!/usr/bin/env bash
# A support engineer's first minute on a large distro kernel, each tool from
# start to exit on the same dump, in the same run:
#   sessions       `sys; bt`, `foreach bt`, `sys; bt; ps; log`,
#                  `sys; bt; ps; log; foreach bt` and `sys; bt; log; ps; kmem -i`
#                  when coroner has ps, log and kmem (asked through its
#                  `help`); the commands go on stdin, one per line
#   triage         in the `sys; bt; log; ps; kmem -i` session, also
#                  `coroner triage VMLINUX DUMP` (the whole report: verdict,
#                  signature, backtraces, log, modules, tasks, memory, run
#                  queues), cold and warm as below, next to crash typing
#                  those five commands
#   coroner cold   no caches: a new, empty CORONER_CACHE_DIR for every run,
#                  its background index builder off (CORONER_BACKGROUND_INDEX=0)
#                  so that it fills no later run's cache and takes no CPU
#   coroner warm   the caches a finished cold session leaves (the DWARF name
#                  index and symbol table of `coroner --build-index`)
#   drgn-crash     a current drgn's crash-compatibility mode, when
#                  DRGN_CRASH=path/to/drgn-crash is set (it prints `sys` on
#                  start by itself; it has no cache, so cold = warm)
#   crash 8.0.2    `crash -s VMLINUX DUMP` (no cache either)
# Page cache warm for all (one unmeasured run of each first); nothing else is
# dropped. RUNS paired runs: in each, every tool runs the session once,
# back to back, so all see the same load. The table has the median wall time
# (clock around each run, ms) and the median peak RSS (GNU time %M) of each
# tool, and the median of the paired ratios to drgn-crash and to crash.
# Every run's output must hold the dump's release (sessions with sys) and a
# backtrace ("PID:"; a triage report: its verdict), else the row says "wrong".
#
# usage: bench/sessions/triage.sh [BUILD_DIR] [VMLINUX DUMP...]
#   With no VMLINUX and DUMP: CACHE_DIR/vmlinux and CACHE_DIR/dump/vmcore.*
#   as bench/symbols/make_dump.sh writes them (CACHE_DIR: $SYMBENCH_CACHE,
#   default /tmp/coroner-bench-symbols).
# environment: RUNS=5; DRGN_CRASH; NO_CRASH=1 leaves crash out (6-7 s a
#   run); BENCH_PRIORITY=rt runs every measured command under chrt -f 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(realpath "${1:-$repo/build}")
[ $# -gt 0 ] && shift
coroner=$build/analyzer/coroner
runs=${RUNS:-5}
source "$repo/bench/lib.sh"
distro_dump_inputs "$@"
session_tools

# Whether OUT is a complete answer to SESSION: the release when it has sys,
# a backtrace always.
output_ok() {
  local out=$1 session=$2 tool=$3
  if [[ $session == *sys* ]] && ! grep -Fq "$release" "$out"; then return 1; fi
  if [[ $tool == triage-* ]]; then grep -q '^== Verdict ==' "$out"; else grep -q 'PID: ' "$out"; fi
}

# session_command TOOL DUMP: sets cmd as tool_command does, and for
# triage-cold / triage-warm to the triage report (stdin unused).
session_command() {
  case $1 in
    triage-cold) cmd=(env "CORONER_CACHE_DIR=$work/cold" CORONER_BACKGROUND_INDEX=0 "$coroner" triage "$vmlinux" "$2") ;;
    triage-warm) cmd=(env "CORONER_CACHE_DIR=$work/warm" CORONER_BACKGROUND_INDEX=0 "$coroner" triage "$vmlinux" "$2") ;;
    *) tool_command "$1" "$2" ;;
  esac
}

# Runs TOOL once on SESSION (commands on stdin) and prints "wall_s rss_mib",
# or "fail"/"wrong" (the output stays in $work/out.TOOL).
run_once() {
  local tool=$1 session=$2 cmd out=$work/out.$1 timing=$work/time.$1 start end e m
  session_command "$tool" "$dump"
  [[ $tool == *-cold ]] && rm -rf "$work/cold"
  rm -f "$timing"
  start=$EPOCHREALTIME
  "${priority[@]}" /usr/bin/time -o "$timing" -f "%e %M" "${cmd[@]}" \
    < <(sed 's/; */\n/g' <<<"$session") >"$out" 2>&1 || true
  end=$EPOCHREALTIME
  [ -s "$timing" ] || { echo fail; return; }
  output_ok "$out" "$session" "$tool" || { echo wrong; return; }
  read -r e m < <(tail -1 "$timing")
  awk -v s="$start" -v e="$end" -v m="$m" 'BEGIN{printf "%.3f %d\n", e - s, m / 1024}'
}

# median of the numbers on stdin ("-" for none)
median() {
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

met() { awk "BEGIN{print ($1) ? \"met\" : \"NOT met\"}"; }

# Column COL (1 wall, 2 RSS) of TOOL's runs; the median of TOOL's paired
# ratios to OTHER in column COL ("-" without OTHER).
values() { awk -v c="$2" 'NF {print $c}' <<<"${result[$1]:-}"; }
paired() {
  [ -n "${result[$2]:-}" ] && [ -z "${bad[$2]:-}" ] || { echo -; return; }
  paste <(values "$1" "$3") <(values "$2" "$3") | awk '$2 > 0 {printf "%.4f\n", $1 / $2}' | median |
    awk '{ if ($1 == "-") print "-"; else printf "%.2f\n", $1 }'
}

echo "vmlinux: $(realpath "$vmlinux") ($(( $(stat -L -c %s "$vmlinux") / 1048576 )) MiB)"
echo "coroner: $coroner; drgn-crash: ${DRGN_CRASH:-not set (DRGN_CRASH=path/to/drgn-crash)};" \
     "crash $(crash -v 2>/dev/null | awk '/^crash /{print $2; exit}' || echo missing)"
echo "priority: ${BENCH_PRIORITY:-none}; median of $runs paired runs after one unmeasured run of each"

for dump in "${dumps[@]}"; do
  release=$(grep -a -m1 -o 'OSRELEASE=[^[:space:]]*' "$dump" | cut -d= -f2 || true)
  [ -n "$release" ] || { echo "$dump: no OSRELEASE in its VMCOREINFO" >&2; continue; }
  sessions=("sys; bt" "foreach bt")
  help=$(CORONER_CACHE_DIR=$work/warm CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$dump" <<<"help" 2>&1 || true)
  if grep -qw ps <<<"$help" && grep -qw log <<<"$help"; then sessions+=("sys; bt; ps; log" "sys; bt; ps; log; foreach bt"); fi
  if grep -qw ps <<<"$help" && grep -qw log <<<"$help" && grep -qw kmem <<<"$help"; then
    sessions+=("sys; bt; log; ps; kmem -i")
  fi
  rm -rf "$work/warm"
  CORONER_CACHE_DIR=$work/warm "$coroner" --build-index "$vmlinux" >/dev/null
  echo
  echo "dump: $(realpath "$dump") ($(( $(stat -c %s "$dump") / 1048576 )) MiB), release $release"
  printf "%-18s %-13s %8s %7s %10s %10s %11s\n" session tool wall_s MiB wall/drgn MiB/drgn wall/crash
  for session in "${sessions[@]}"; do
    declare -A result=()  # tool -> "wall rss" lines, one per run
    declare -A bad=()
    session_tools=("${tools[@]}")
    [ "$session" = "sys; bt; log; ps; kmem -i" ] && session_tools+=(triage-cold triage-warm)
    for tool in "${session_tools[@]}"; do run_once "$tool" "$session" >/dev/null; done  # warm-up
    for run in $(seq "$runs"); do
      for tool in "${session_tools[@]}"; do
        [ -n "${bad[$tool]:-}" ] && continue
        r=$(run_once "$tool" "$session")
        if [[ ! $r =~ ^[0-9] ]]; then
          bad[$tool]="$r: $(grep -v '^ *$' "$work/out.$tool" | tail -1 | cut -c1-80)"
          continue
        fi
        result[$tool]+="$r"$'\n'
      done
    done
    for tool in "${session_tools[@]}"; do
      if [ -n "${bad[$tool]:-}" ]; then
        printf "%-18s %-13s %s\n" "$session" "$tool" "${bad[$tool]}"
        continue
      fi
      printf "%-18s %-13s %8s %7s %10s %10s %11s\n" "$session" "$tool" "$(values "$tool" 1 | median)" \
        "$(values "$tool" 2 | median)" "$(paired "$tool" drgn-crash 1)" "$(paired "$tool" drgn-crash 2)" \
        "$(paired "$tool" crash 1)"
    done
    if [ -n "${result[drgn-crash]:-}" ] && [ -z "${bad[drgn-crash]:-}" ]; then
      cw=$(paired coroner-cold drgn-crash 1) ww=$(paired coroner-warm drgn-crash 1)
      cm=$(paired coroner-cold drgn-crash 2) wm=$(paired coroner-warm drgn-crash 2)
      if [[ $cw$ww$cm$wm =~ ^[0-9.]+$ ]]; then
        echo "  targets: cold wall <= 0.5x drgn-crash $(met "$cw <= 0.5"), warm <= 0.2x $(met "$ww <= 0.2")," \
             "peak RSS <= drgn-crash's: cold $(met "$cm <= 1"), warm $(met "$wm <= 1")"
      fi
    fi
    unset result bad
  done
done
