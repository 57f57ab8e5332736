#!/bin/bash
# run_kdump_e2e.sh SOURCE_DIR BINARY_DIR CORONER CORONER_CAPTURE [ARCH]
#
# End to end: boots the fixture kernel of ARCH (x86_64, the default, or
# arm64) under QEMU with fx_crash.ko,
# loads the same kernel as kdump capture kernel, oopses, and lets the static
# coroner-capture write /proc/vmcore to a raw virtio disk inside the capture
# kernel. Then opens the disk image with coroner (and crash, when installed)
# and checks it against the fixture's facts.json where a new boot must agree
# (KASLR moves every address): release, oops line, the kernel log, the
# bytes of linux_banner and of panic's text, fx_magic's value.
#
# arm64: QEMU -M virt with a Cortex-A57 under TCG; coroner-capture is
# cross-built static with Debian's aarch64 compiler and arm64 libraries
# (tests/e2e/aarch64-linux-gnu.cmake), busybox and kexec come from the arm64
# packages (apt-get download), and crash (an x86_64-only build) is skipped.
#
# Runs only with CORONER_E2E=1 (several minutes under TCG), else exits 77.
# CORONER_E2E_ACCEL picks QEMU's accelerator (default tcg; kvm where it works),
# CORONER_E2E_TIMEOUT the limit for the guest run in seconds (default 900).
set -euo pipefail
source_dir=$1 binary_dir=$2 coroner=$3 capture=$4 arch=${5:-x86_64}
case $arch in
  x86_64) qemu=qemu-system-x86_64 console=ttyS0 ;;
  arm64) qemu=qemu-system-aarch64 console=ttyAMA0 ;;
  *) echo "E2E FAILED: unknown architecture $arch (x86_64 or arm64)" >&2; exit 1 ;;
esac

if [ "${CORONER_E2E:-0}" != 1 ]; then
  echo "*** SKIPPED: the kdump end-to-end test boots two kernels under QEMU (about 3 minutes" >&2
  echo "*** under TCG); run it with: CORONER_E2E=1 ctest -L e2e --output-on-failure ***" >&2
  exit 77
fi

fixtures=${CORONER_FIXTURES:-$source_dir/../shared/fixtures}
kernel_dir=$fixtures/linux-6.1-$arch
kernel_image=$kernel_dir/bzImage
[ "$arch" = arm64 ] && kernel_image=$kernel_dir/Image.gz
facts=$kernel_dir/oops-kdump/facts.json
if [ ! -f "$kernel_image" ] || [ ! -f "$facts" ]; then
  echo "*** SKIPPED: no fixture kernel at $kernel_dir (set CORONER_FIXTURES) ***" >&2
  exit 77
fi

missing=()
tools=("$qemu" cpio zstd python3 readelf)
if [ "$arch" = x86_64 ]; then tools+=(busybox kexec); else tools+=(aarch64-linux-gnu-g++ apt-get dpkg-deb); fi
for tool in "${tools[@]}"; do
  command -v $tool >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "E2E FAILED: missing ${missing[*]}; install with:" >&2
  if [ "$arch" = x86_64 ]; then
    echo "  apt-get install qemu-system-x86 busybox-static kexec-tools cpio zstd python3 binutils" >&2
  else
    echo "  dpkg --add-architecture arm64 && apt-get update && apt-get install qemu-system-arm" \
      "crossbuild-essential-arm64 cpio zstd python3 binutils" >&2
  fi
  exit 1
fi
# grep without -q reads all of readelf's output (no SIGPIPE under pipefail).
is_dynamic() { readelf -l "$1" 2>/dev/null | grep INTERP >/dev/null; }
if [ "$arch" = x86_64 ] && is_dynamic "$(command -v busybox)"; then
  echo "E2E FAILED: busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
work=$binary_dir/tests/e2e/work-$arch
rm -rf "$work" && mkdir -p "$work"
t0=$SECONDS
phase() { echo "== $* ($((SECONDS - t0)) s)"; }
fail() { echo "E2E FAILED: $*" >&2; echo "(work files kept in $work)" >&2; exit 1; }

# A static coroner-capture: the one given if it is static already (a build
# with -DCORONER_STATIC=ON), else a static variant built beside this test;
# for arm64 one cross-built beside it, unless CORONER_E2E_ARM64_CAPTURE
# names a static arm64 coroner-capture.
static_capture=$capture
if [ "$arch" = arm64 ] && [ -n "${CORONER_E2E_ARM64_CAPTURE:-}" ]; then
  static_capture=$CORONER_E2E_ARM64_CAPTURE  # a static arm64 build made beforehand
elif [ "$arch" = arm64 ]; then
  phase "cross-building a static arm64 coroner-capture in $binary_dir/tests/e2e/capture-static-arm64"
  static_build=$binary_dir/tests/e2e/capture-static-arm64
  cmake -S "$source_dir" -B "$static_build" -DCMAKE_BUILD_TYPE=Release -DCORONER_STATIC=ON -DCORONER_TESTS=OFF \
        -DCMAKE_TOOLCHAIN_FILE="$here/aarch64-linux-gnu.cmake" >"$work/static-build.log" 2>&1 ||
    fail "configuring the arm64 build (arm64 libraries: dpkg --add-architecture arm64; apt-get install" \
      "zlib1g-dev:arm64 libzstd-dev:arm64 liblzo2-dev:arm64 liblzma-dev:arm64 libsnappy-dev:arm64 libfmt-dev:arm64" \
      "libreadline-dev:arm64), see $work/static-build.log"
  cmake --build "$static_build" --target coroner-capture -j2 >>"$work/static-build.log" 2>&1 ||
    fail "arm64 static build of coroner-capture, see $work/static-build.log"
  static_capture=$static_build/capture/coroner-capture
  is_dynamic "$static_capture" && fail "$static_capture is not static"
elif is_dynamic "$capture"; then
  phase "building a static coroner-capture in $binary_dir/tests/e2e/capture-static"
  static_build=$binary_dir/tests/e2e/capture-static
  cmake -S "$source_dir" -B "$static_build" -DCMAKE_BUILD_TYPE=Release \
        -DCORONER_STATIC=ON -DCORONER_TESTS=OFF >"$work/static-build.log" 2>&1 ||
    fail "configuring the static build, see $work/static-build.log"
  cmake --build "$static_build" --target coroner-capture -j2 >>"$work/static-build.log" 2>&1 ||
    fail "static build of coroner-capture, see $work/static-build.log"
  static_capture=$static_build/capture/coroner-capture
  is_dynamic "$static_capture" && fail "$static_capture is not static"
fi
if [ "$arch" = arm64 ]; then
  phase "arm64 busybox and kexec (with its libraries) from Debian's packages"
  debs=$work/arm64-debs
  mkdir -p "$debs/root"
  # kexec-tools needs libxenmisc4.17, whose libraries need theirs.
  packages=(busybox-static:arm64 kexec-tools:arm64 libc6:arm64 zlib1g:arm64 libxenmisc4.17:arm64 libxentoolcore1:arm64)
  packages+=($(apt-cache depends libxenmisc4.17:arm64 | awk '/Depends: lib/ {print $2}'))
  (cd "$debs" && apt-get download "${packages[@]}" >"$work/apt-download.log" 2>&1) ||
    fail "apt-get download of the arm64 packages, see $work/apt-download.log"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$debs/root"; done
  export BUSYBOX=$debs/root/bin/busybox
  kexec_files=("$debs/root/sbin/kexec:sbin/kexec" "$debs/root/lib:lib" "$debs/root/usr/lib:usr/lib")
  # kexec-tools 2.0.25 loads an uncompressed arm64 Image.
  kernel_image=$work/Image
  zcat "$kernel_dir/Image.gz" >"$kernel_image"
fi

phase "initramfs: capture kernel (busybox, coroner-capture), then system kernel"
"$here/make_initramfs.sh" "$work/capture.cpio.gz" "$here/guest_init.sh" \
  "$static_capture:bin/coroner-capture"
[ "$arch" = x86_64 ] && kexec_files=("$(command -v kexec):sbin/kexec")
"$here/make_initramfs.sh" "$work/system.cpio.gz" "$here/guest_init.sh" \
  "$kernel_dir/fx_crash.ko:fx_crash.ko" "${kexec_files[@]}" \
  "$kernel_image:kdump/kernel" "$work/capture.cpio.gz:kdump/capture.cpio.gz"

# /dev/vda takes the dump, /dev/vdb the capture kernel's --dump-dmesg.
# Both sparse; -d 31 of 512 MB of RAM is a few MB.
truncate -s 256M "$work/dump.img"
truncate -s 16M "$work/dmesg.img"

phase "booting under QEMU (${CORONER_E2E_ACCEL:-tcg}); console in $work/console.log"
qemu_status=0
machine=(-M pc -cpu qemu64)
[ "$arch" = arm64 ] && machine=(-M virt -cpu cortex-a57)
timeout "${CORONER_E2E_TIMEOUT:-900}" "$qemu" \
  -accel "${CORONER_E2E_ACCEL:-tcg}" "${machine[@]}" -m 512M -smp 2 \
  -kernel "$kernel_image" -initrd "$work/system.cpio.gz" \
  -append "console=$console crashkernel=96M oops=panic panic=-1 loglevel=7" \
  -drive "file=$work/dump.img,format=raw,if=virtio" \
  -drive "file=$work/dmesg.img,format=raw,if=virtio" \
  -no-reboot -display none -monitor none -serial "file:$work/console.log" \
  </dev/null >"$work/qemu.log" 2>&1 || qemu_status=$?
[ $qemu_status -eq 124 ] && fail "the guest did not power off within ${CORONER_E2E_TIMEOUT:-900} s"
[ $qemu_status -eq 0 ] || fail "qemu exited $qemu_status: $(cat "$work/qemu.log")"
console=$work/console.log
grep -a "E2E: FAILED" "$console" && fail "in the system kernel, see $console"
grep -aq "E2E: capture kernel up" "$console" || fail "the capture kernel never started, see $console"
grep -aq "E2E: dump exit 0" "$console" || fail "coroner-capture failed in the capture kernel, see $console"
grep -aq "E2E: dmesg exit 0" "$console" || fail "coroner-capture --dump-dmesg failed, see $console"
phase "guest done: $(grep -ao 'E2E: capture kernel up.*' "$console" | tr -d '\r')"
sed -n '/^RAM pages/,/^Peak memory/p' "$console" | tr -d '\r'  # coroner-capture's report

# Expected values, from the fixture's facts.json (the same kernel and module).
fact() { python3 -c "import json,sys; f=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$facts" "$1"; }
release=$(fact "f['osrelease']")
oops_line=$(fact "f['oops_message']")
banner=$(fact "f['values']['linux_banner'].rstrip()")
panic_text_sha=$(fact "[m['sha256'] for m in f['memory_samples'] if m['kind'] == 'kernel-text'][0]")
panic_text_addr=$(fact "[m['vaddr'] for m in f['memory_samples'] if m['kind'] == 'kernel-text'][0]")
[ "$panic_text_addr" = "$(fact "f['symbols']['panic']")" ] || fail "facts.json: the kernel-text sample is not at panic"
magic=$(fact "f['values']['fx_magic']")

phase "coroner: sys, rd"
dump=$work/dump.img
out=$work/coroner.txt
# Without -s coroner prints the dump's description and sys first.
printf 'rd -a linux_banner\nrd -8 panic 64\nrd -x fx_magic\n' |
  "$coroner" --mod-path "$kernel_dir" "$kernel_dir/vmlinux.zst" "$dump" >"$out" 2>&1 ||
  fail "coroner on the dump: $(cat "$out")"
grep -q "INCOMPLETE" "$out" && fail "coroner: the dump is marked incomplete ($out)"
grep -Fq "kdump-compressed (zlib), dump level 31" "$out" || fail "coroner: not a zlib -d 31 kdump dump ($out)"
grep -Eq "^ +RELEASE: $release\$" "$out" || fail "coroner sys: RELEASE is not $release ($out)"
grep -E '^ +PANIC: ' "$out" | grep -F "$oops_line" >/dev/null || fail "coroner sys: PANIC lacks \"$oops_line\" ($out)"
grep -Fq "$banner" "$out" || fail "coroner rd -a linux_banner: not \"$banner\" ($out)"
# rd -8: ADDRESS:  16 bytes in hex, then their ASCII; 4 such lines for panic.
text_sha=$(grep -E '^[0-9a-f]{16}:  ([0-9a-f]{2} ){16}' "$out" |
  awk '{ for (i = 2; i <= 17; i++) printf "%s", $i }' |
  python3 -c 'import hashlib, sys; print(hashlib.sha256(bytes.fromhex(sys.stdin.read())).hexdigest())')
[ "$text_sha" = "$panic_text_sha" ] || fail "coroner rd -8 panic 64: sha256 $text_sha, facts.json $panic_text_sha"
grep -Eq "^[0-9a-f]{16}:  ${magic#0x} " "$out" || fail "coroner rd -x fx_magic: not $magic ($out)"

phase "coroner-capture --dump-dmesg of the dump (host) vs of /proc/vmcore (guest)"
"$capture" --dump-dmesg "$dump" "$work/dmesg-host.txt" >"$work/dmesg-host.log" 2>&1 ||
  fail "coroner-capture --dump-dmesg on the dump: $(cat "$work/dmesg-host.log")"
tr -d '\0' <"$work/dmesg.img" >"$work/dmesg-guest.txt"
cmp -s "$work/dmesg-host.txt" "$work/dmesg-guest.txt" ||
  fail "the dump's log differs from /proc/vmcore's (dmesg-host.txt, dmesg-guest.txt)"
# The oops's reliable call trace (facts.json's console_call_trace) too:
# function+offset/size does not depend on where KASLR put the kernel.
expected_lines=("fx_crash: loaded, magic ${magic#0x}" "fx_crash: crashing with 'oops'" "$oops_line")
for frame in $(fact "' '.join(f['console_call_trace'])"); do expected_lines+=(" $frame+0x"); done
for line in "${expected_lines[@]}"; do
  grep -Fq "$line" "$work/dmesg-host.txt" || fail "the dump's log lacks \"$line\""
done

if [ "$arch" = arm64 ]; then
  phase "crash: skipped (Debian's crash 8.0.2 is an x86_64-only build)"
elif command -v crash >/dev/null; then
  phase "crash: sys, log, fx_magic through the module's symbols"
  zstd -q -d --long=27 -f "$kernel_dir/vmlinux.zst" -o "$work/vmlinux"
  printf 'sys\nlog\nmod -s fx_crash %s\nrd fx_magic\nquit\n' "$kernel_dir/fx_crash.ko" >"$work/crash.in"
  crash -s "$work/vmlinux" "$dump" <"$work/crash.in" >"$work/crash.txt" 2>&1 ||
    fail "crash on the dump: $(tail -5 "$work/crash.txt")"
  grep -Eq "^ +RELEASE: $release\$" "$work/crash.txt" || fail "crash sys: RELEASE ($work/crash.txt)"
  grep -Fq "$oops_line" "$work/crash.txt" || fail "crash log: no oops line ($work/crash.txt)"
  grep -Eq ":  ${magic#0x} " "$work/crash.txt" || fail "crash rd fx_magic: not $magic ($work/crash.txt)"
  rm -f "$work/vmlinux"
else
  phase "crash not installed: its cross-check is skipped"
fi

phase "PASSED"
