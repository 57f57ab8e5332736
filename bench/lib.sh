# Shared by the benchmark scripts (source it): the run priority, and timing
# a command over repeated runs with GNU time.

# priority: the command prefix BENCH_PRIORITY asks for (rt: chrt -f 1, so
# other work on the machine does not skew the figures; none: nothing).
priority=()
case ${BENCH_PRIORITY:-none} in
  rt) priority=(chrt -f 1) ;;
  none) ;;
  *) echo "BENCH_PRIORITY is rt or none" >&2; exit 2 ;;
esac

# time_runs RUNS INPUT OUT CMD...: runs CMD with INPUT on stdin and its
# output in OUT, once unmeasured (page cache, warm caches), then RUNS times
# under /usr/bin/time; prints "wall cpu rss_mib" (the best wall time, the
# CPU time of that run, the largest peak RSS), "fail" when a run did not
# complete, or "wrong" when the caller's check_output OUT (if defined)
# refuses an output. A caller's before_run (if defined) runs before each run.
# The exit status is not checked: crash exits 1 at the end of stdin.
time_runs() {
  local runs=$1 input=$2 out=$3
  shift 3
  local timing="$out.time" best="" cpu="" rss=0 i e u s m
  for i in $(seq 0 "$runs"); do
    if declare -F before_run >/dev/null; then before_run; fi
    rm -f "$timing"
    "${priority[@]}" /usr/bin/time -o "$timing" -f "%e %U %S %M" "$@" <<<"$input" >"$out" 2>&1 || true
    [ -s "$timing" ] || { echo "fail"; return; }
    if declare -F check_output >/dev/null && ! check_output "$out"; then echo "wrong"; return; fi
    [ "$i" = 0 ] && continue
    read -r e u s m < <(tail -1 "$timing")
    (( m > rss )) && rss=$m
    if [ -z "$best" ] || awk "BEGIN{exit !($e < $best)}"; then
      best=$e cpu=$(awk "BEGIN{printf \"%.2f\", $u + $s}")
    fi
  done
  echo "$best $cpu $((rss / 1024))"
}

# ratio A B: A / B with two decimals, "-" when B is not positive.
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }

# distro_dump_inputs [VMLINUX DUMP...]: sets vmlinux and dumps from the
# arguments, else to what bench/symbols/make_dump.sh wrote to
# $SYMBENCH_CACHE (default /tmp/coroner-bench-symbols); exits 2 unless they,
# $coroner and GNU time are there.
distro_dump_inputs() {
  local cache=${SYMBENCH_CACHE:-/tmp/coroner-bench-symbols}
  if [ $# -gt 0 ]; then
    vmlinux=$1; shift; dumps=("$@")
  else
    vmlinux=$cache/vmlinux; dumps=("$cache"/dump/vmcore.*)
  fi
  [ -x "$coroner" ] || { echo "no coroner at $coroner (give the build directory)" >&2; exit 2; }
  if [ ! -f "$vmlinux" ] || [ ! -f "${dumps[0]:-}" ]; then
    echo "no vmlinux or dump (make them with bench/symbols/make_dump.sh, or give VMLINUX DUMP...)" >&2; exit 2
  fi
  [ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed" >&2; exit 2; }
}

# session_tools: for the benches that run one crash-style session in each
# tool: sets work (a scratch directory removed at exit) and tools
# (coroner-cold, coroner-warm, drgn-crash when $DRGN_CRASH is set, crash
# unless NO_CRASH=1); exits 2 if $DRGN_CRASH is not executable.
session_tools() {
  if [ -n "${DRGN_CRASH:-}" ] && [ ! -x "$DRGN_CRASH" ]; then echo "DRGN_CRASH=$DRGN_CRASH is not executable" >&2; exit 2; fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tools=(coroner-cold coroner-warm)
  [ -n "${DRGN_CRASH:-}" ] && tools+=(drgn-crash)
  [ "${NO_CRASH:-0}" != 1 ] && command -v crash >/dev/null && tools+=(crash)
  return 0
}

# tool_command TOOL DUMP: sets cmd to TOOL's command line on DUMP (a cold
# coroner's cache is $work/cold, a warm one's $work/warm).
tool_command() {
  case $1 in
    coroner-cold) cmd=(env "CORONER_CACHE_DIR=$work/cold" CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$2") ;;
    coroner-warm) cmd=(env "CORONER_CACHE_DIR=$work/warm" CORONER_BACKGROUND_INDEX=0 "$coroner" -s "$vmlinux" "$2") ;;
    drgn-crash) cmd=("$DRGN_CRASH" "$vmlinux" "$2") ;;
    crash) cmd=(crash -s "$vmlinux" "$2") ;;
  esac
}
