#!/usr/bin/env bash
# coroner set-up, in two commands (see README.md):
#   ./setup.sh         install dependencies, build, open the crash> shell on
#                      the bundled sample dump
#   ./setup.sh test    install dependencies, build, run the whole test suite,
#                      then the ASan+UBSan build's tests and a short run of
#                      each fuzz target (tests/fuzz/README.md)
#   ./setup.sh sanitize  only that second part
# Debian 12 packages only; apt-get runs only when something is missing.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-shell}
build_dir=${CORONER_BUILD_DIR:-build}

# Every tool and file the build, the tests, the benchmarks and the bundled
# sample take from the machine comes from a package below (a fresh minimal
# Debian 12 has little more than apt; ../shared/tools/fresh-debian.sh checks).
# zstd: the test of open_dump compresses a dump with it, the benchmarks
# decompress the fixtures with it; less: the crash> shell's pager;
# libdebuginfod-dev: `coroner DUMP` fetches the vmlinux by build-id from the
# debuginfod servers of DEBUGINFOD_URLS; libsqlite3-dev and libpq-dev:
# `coroner fleet` keeps its history of dumps in an SQLite file or a
# PostgreSQL server; libbpf-dev: with no vmlinux, types come from the BTF in
# the dump, which libbpf parses and validates (no BTF parser of our own);
# ccache: see below.
packages=(cmake g++ make pkg-config ccache llvm-19-dev libcapstone-dev libreadline-dev libfmt-dev
          zlib1g-dev libzstd-dev liblzo2-dev libsnappy-dev liblzma-dev
          nlohmann-json3-dev libdebuginfod-dev libbpf-dev zstd less libsqlite3-dev libpq-dev)
if [ "$mode" = test ] || [ "$mode" = bench ] || [ "$mode" = sanitize ]; then
  # catch2 (v2) is the tests' framework. They compare against the real tools
  # (makedumpfile, crash, pahole of dwarves, readelf/nm/objcopy of binutils)
  # and make dump variants with makedumpfile; libssl-dev gives them SHA-256 to check memory samples of
  # facts.json; clang-19 and libclang-rt-19-dev build the libFuzzer targets;
  # python3-drgn is the third reference next to crash (bench, by hand);
  # groff-base checks the generated man pages; python3-jsonschema validates triage's JSON and chromium
  # opens its HTML report headless.
  packages+=(catch2 makedumpfile crash dwarves binutils libssl-dev clang-19 libclang-rt-19-dev python3-drgn groff-base python3-jsonschema chromium)
  packages+=(gdb gdb-multiarch lldb-19)  # clients of coroner gdbserver's tests (x86_64, arm64, LLDB)
  packages+=(debuginfod)  # a local server the vmlinux-by-build-id test fetches the fixture kernel from
  # ld.lld links the FreeBSD thread tests' kernel (tests/analyzer/os/freebsd/data/fbsd_kernel.c, which
  # clang-19 compiles for x86_64- and aarch64-unknown-freebsd); binutils' ld links the host's architecture only.
  packages+=(lld)
  # The fleet tests start a PostgreSQL server of their own (initdb, pg_ctl) and
  # run deploy/fleet/parallel-triage.sh, which GNU parallel drives.
  packages+=(postgresql parallel)
  # The [distro] tests' setup (tests/distro/make_distro_dump.sh) downloads
  # Debian's own kernels, boots them under QEMU (TCG) with a busybox
  # initramfs and dumps them; its arm64 kernel comes from the arm64 archive,
  # which apt knows once dpkg has that foreign architecture.
  packages+=(qemu-system-x86 qemu-system-arm busybox-static cpio)
  foreign_arch=arm64
fi
# bench: GNU time measures; python3 runs drgn and make_large_vmcore.py;
# bench/symbols/make_dump.sh boots a distro kernel under QEMU with a busybox
# initramfs to make the first-answer benchmark's dump.
[ "$mode" = bench ] && packages+=(time python3 python3-drgn qemu-system-x86 busybox-static cpio)
# bench/fleet/fleet.sh starts a PostgreSQL server of its own.
[ "$mode" = bench ] && packages+=(postgresql)
# bench/capture/build_makedumpfile.sh builds upstream makedumpfile with zstd
# (Debian's has none), the yardstick of coroner-capture -z: elfutils for its
# DWARF reading, bzip2 and zlib for elfutils, zstd/snappy/lzo for -z/-p/-l.
[ "$mode" = bench ] && packages+=(make libdw-dev libelf-dev libbz2-dev zlib1g-dev libzstd-dev libsnappy-dev liblzo2-dev)
# The opt-in kdump end-to-end test (CORONER_E2E=1, tests/e2e) boots the
# fixture kernel under QEMU and kexecs into the capture kernel.
[ "$mode" = test ] && [ "${CORONER_E2E:-0}" = 1 ] && packages+=(qemu-system-x86 busybox-static kexec-tools cpio python3)
# Its arm64 run boots the arm64 fixture kernel (qemu-system-arm) and
# cross-builds a static coroner-capture with Debian's aarch64 compiler and
# the libraries it links, for arm64 (multiarch; busybox and kexec come from
# arm64 packages the test downloads itself).
[ "$mode" = test ] && [ "${CORONER_E2E:-0}" = 1 ] && packages+=(qemu-system-arm crossbuild-essential-arm64
  zlib1g-dev:arm64 libzstd-dev:arm64 liblzo2-dev:arm64 liblzma-dev:arm64 libsnappy-dev:arm64 libfmt-dev:arm64
  libreadline-dev:arm64)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && foreign_arch=arm64
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
if [ -n "${foreign_arch:-}" ] && ! dpkg --print-foreign-architectures | grep -qx "$foreign_arch"; then
  echo "setup: adding the foreign architecture $foreign_arch to apt"
  $sudo dpkg --add-architecture "$foreign_arch"
  $sudo apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Compile through ccache unless the caller chose a launcher: a build in a
# fresh clone (as CI's) on a machine that built before compiles only what
# changed. Paths are hashed relative to this folder (CCACHE_BASEDIR) and
# without the build directory (CCACHE_NOHASHDIR), so clones in other folders
# share the cache.
if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi

# The shell needs only coroner: no test suite (whose catch2 and libssl-dev
# it does not install), half the build. The other modes build everything.
if [ "$mode" = shell ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCORONER_TESTS=OFF
  cmake --build "$build_dir" -j "$(nproc)" --target coroner
else
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCORONER_TESTS=ON
  cmake --build "$build_dir" -j "$(nproc)"
fi

# A second build with ASan+UBSan (tests/fuzz/README.md): the fast test
# binaries and a short run of each fuzz target. Every test of a binary that
# was built is labelled (its name, or fuzz); layers and e2e are the normal
# build's, and the crash 8.0.2 runs test crash, not coroner.
sanitizer_suite() {
  local dir=${CORONER_SANITIZE_BUILD_DIR:-build-sanitize}
  # (set -e does not hold in a function called with ||: chained by &&)
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$dir" -DCORONER_SANITIZE=ON &&
  cmake --build "$dir" -j "$(nproc)" --target sanitizer_suite &&
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" -L . -LE '^(layers|e2e)$' -E 'crash 8\.0\.2')
}

case "$mode" in
  shell)
    exec "$build_dir/analyzer/coroner" ;;
  test)
    # Both suites run whatever the first gives; the exit says if either failed.
    status=0
    (cd "$build_dir" && ctest --output-on-failure -j "$(nproc)") || status=1
    echo "setup: the normal suite is done; now the sanitizer build"
    sanitizer_suite || status=1
    exit $status ;;
  sanitize)
    sanitizer_suite ;;
  bench)
    exec bench/run.sh "$build_dir" ;;
  *)
    echo "usage: $0 [shell|test|sanitize|bench]" >&2; exit 2 ;;
esac
