#!/usr/bin/env bash
# Every benchmark, next to the real tools in the same run.
#   bench/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
echo "== open + sys (coroner vs crash 8.0.2) =="
bench/open_sys.sh "$build"
if [ -x bench/capture/run.sh ]; then
  echo; echo "== coroner-capture vs makedumpfile =="
  # Upstream makedumpfile with zstd, for the -z rows (built once, cached).
  bench/capture/build_makedumpfile.sh >/dev/null || echo "(no upstream makedumpfile: the -z rows compare with -c)"
  bench/capture/run.sh "$build"
fi
if [ -x bench/symbols/first_answer.sh ]; then
  echo; echo "== time to first answer (coroner vs drgn vs crash; needs bench/symbols/make_dump.sh first) =="
  bench/symbols/first_answer.sh "$build" || echo "(no distro-kernel dump: run bench/symbols/make_dump.sh)"
fi
echo; echo "== without the vmlinux: kallsyms, BTF, ORC from the dump vs the -dbg vmlinux (needs the tests' distro dumps: ctest -R 'distro dumps') =="
bench/symbols/no_debuginfo.sh "$build" || echo "(no distro-kernel dumps: tests/distro/make_distro_dump.sh)"
if [ -x bench/sessions/triage.sh ]; then
  echo; echo "== first sessions cold and warm: sys; bt, foreach bt (coroner vs crash vs \$DRGN_CRASH; needs bench/symbols/make_dump.sh first) =="
  bench/sessions/triage.sh "$build" || echo "(no distro-kernel dump: run bench/symbols/make_dump.sh)"
fi
if [ -x bench/stacks/foreach_bt.sh ]; then
  echo; echo "== foreach bt (coroner vs drgn vs crash) =="
  bench/stacks/foreach_bt.sh "$build"
fi
if [ -x bench/kmem/kmem.sh ]; then
  echo; echo "== kmem -s, kmem -i cold and warm (coroner vs crash vs \$DRGN_CRASH; needs bench/symbols/make_dump.sh first) =="
  bench/kmem/kmem.sh "$build" || echo "(no distro-kernel dump: run bench/symbols/make_dump.sh)"
fi
if [ -x bench/fleet/fleet.sh ]; then
  echo; echo "== coroner fleet: ingest and report at ${FLEET_REPORTS:-1000000} synthetic reports (SQLite, PostgreSQL) =="
  bench/fleet/fleet.sh "$build" "${FLEET_REPORTS:-1000000}"
fi
