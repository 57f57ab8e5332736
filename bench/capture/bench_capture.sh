#!/bin/bash
# Times coroner-capture against makedumpfile on the same vmcores, in the
# same run, page cache warm: -c -d 31, -l -d 31 and -z -d 31 (zstd against
# makedumpfile -z only when the installed makedumpfile has it; Debian's does
# not). Prints wall time, throughput (vmcore bytes per second), peak RSS
# (/usr/bin/time -v) and output size, with ratios to makedumpfile.
#
# usage: bench/capture/bench_capture.sh [-b BUILD_DIR] [-r RUNS] [VMCORE...]
#   BUILD_DIR  where coroner-capture was built (default: build)
#   VMCORE     ELF vmcores to dump (default: the fixtures' oops-kdump
#              vmcores, decompressed into $BENCH_DIR)
# Scratch files (decompressed vmcores, outputs) go to $BENCH_DIR
# (default /tmp/coroner-bench); nothing is written into the repository.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/build
runs=3
while getopts "b:r:" opt; do
  case $opt in
    b) build=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

capture=$build/capture/coroner-capture
[ -x "$capture" ] || { echo "no coroner-capture at $capture (use -b BUILD_DIR)" >&2; exit 2; }
command -v makedumpfile >/dev/null || { echo "makedumpfile is not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 2; }
work=${BENCH_DIR:-/tmp/coroner-bench}
mkdir -p "$work"

vmcores=("$@")
if [ ${#vmcores[@]} -eq 0 ]; then
  fixtures=${CORONER_FIXTURES:-$here/../shared/fixtures}
  for arch in x86_64 arm64; do
    src=$fixtures/linux-6.1-$arch/oops-kdump/vmcore.zst
    dst=$work/vmcore-$arch
    [ -f "$dst" ] || zstd -q -d --long=27 "$src" -o "$dst"
    vmcores+=("$dst")
  done
fi

# Does this makedumpfile write zstd (upstream built with USEZSTD=on)?
makedumpfile_zstd=no
if makedumpfile -v 2>&1 | grep -qiE '^zstd[[:space:]]+enabled'; then makedumpfile_zstd=yes; fi

# run NAME OUT CMD...: best wall time of $runs runs, the peak RSS of the
# largest run, the output size. Prints "seconds rss_kb bytes".
run() {
  local out=$1; shift
  local best="" rss=0 t
  for ((i = 0; i < runs; i++)); do
    rm -f "$out"
    if ! /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt"; then
      echo "failed: $* ($(tail -1 "$work/stderr.txt"))" >&2
      echo "- - -"
      return
    fi
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s}' "$work/time.txt")
    local r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}" && best=$t
    [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$best $rss $(stat -c %s "$out")"
}

printf '%-14s %-22s %-7s %8s %9s %9s %10s %8s %8s\n' vmcore tool args seconds "MB/s" "RSS MB" "out MB" "time x" "size x"
for vmcore in "${vmcores[@]}"; do
  name=$(basename "$vmcore")
  size=$(stat -c %s "$vmcore")
  cat "$vmcore" >/dev/null  # warm the page cache
  ref_zlib=""
  for mode in "-c" "-l" "-z"; do
    ref="" t=""
    if [ "$mode" != "-z" ] || [ $makedumpfile_zstd = yes ]; then
      read -r t r s < <(run "$work/out" makedumpfile $mode -d 31 "$vmcore" "$work/out")
      # Debian's x86_64 makedumpfile cannot read arm64 vmcores.
      if [ "$t" = - ]; then echo "$name: makedumpfile $mode failed, coroner-capture alone" >&2; fi
    fi
    if [ -n "${t:-}" ] && [ "$t" != - ] && { [ "$mode" != "-z" ] || [ $makedumpfile_zstd = yes ]; }; then
      ref="$t $s"
      [ "$mode" = "-c" ] && ref_zlib=$ref
      printf '%-14s %-22s %-7s %8.2f %9.1f %9.1f %10.2f %8s %8s\n' "$name" makedumpfile "$mode" "$t" \
        "$(awk "BEGIN {print $size / 1048576 / ($t > 0 ? $t : 0.001)}")" "$(awk "BEGIN {print $r / 1024}")" \
        "$(awk "BEGIN {print $s / 1048576}")" 1.00 1.00
    fi
    # Without zstd, makedumpfile's smallest output (-c) is what -z competes with.
    if [ "$mode" = "-z" ] && [ $makedumpfile_zstd = no ]; then ref=${ref_zlib:-}; fi
    for threads in 0 1 2 4; do
      read -r t r s < <(run "$work/out" "$capture" --message-level 0 $mode -d 31 --num-threads $threads "$vmcore" "$work/out")
      if [ -n "$ref" ]; then
        set -- $ref
        speed=$(awk "BEGIN {printf \"%.2f\", $1 / ($t > 0 ? $t : 0.001)}")
        ratio=$(awk "BEGIN {printf \"%.3f\", $s / $2}")
      else
        speed=-; ratio=-
      fi
      printf '%-14s %-22s %-7s %8.2f %9.1f %9.1f %10.2f %8s %8s\n' "$name" "coroner-capture -j$threads" "$mode" "$t" \
        "$(awk "BEGIN {print $size / 1048576 / ($t > 0 ? $t : 0.001)}")" "$(awk "BEGIN {print $r / 1024}")" \
        "$(awk "BEGIN {print $s / 1048576}")" "$speed" "$ratio"
    done
  done
done
[ $makedumpfile_zstd = yes ] || echo "(makedumpfile here has no zstd: -z rows are compared with makedumpfile -c)"
echo "time x: makedumpfile's time / this time (above 1 is faster); size x: this size / makedumpfile's"
rm -f "$work/out" "$work/time.txt" "$work/stderr.txt"
