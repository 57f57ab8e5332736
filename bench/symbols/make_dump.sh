#!/usr/bin/env bash
# Makes the inputs of first_answer.sh: a crash dump of a large Debian distro
# kernel (linux-image-6.1.0-N-cloud-amd64) and its vmlinux with full DWARF
# (linux-image-6.1.0-N-cloud-amd64-dbg, about 590 MB).
#
# The two packages are fetched with `apt-get download` and unpacked into
# the cache directory (nothing is installed on the host). The kernel boots
# under QEMU (TCG) with a busybox initramfs whose /init (guest_init.sh)
# loads qemu_fw_cfg.ko, so the kernel gives QEMU's vmcoreinfo device its
# VMCOREINFO, and crashes through sysrq; ../shared/fixtures/make/qemu_dump.py
# then takes the dumps through QMP dump-guest-memory.
#
# usage: bench/symbols/make_dump.sh [CACHE_DIR]   (default /tmp/coroner-bench-symbols)
# environment:
#   KERNEL_ABI=6.1.0-56     the package's ABI (default: the newest cloud-amd64
#                           -dbg package apt-cache knows)
#   GUEST_MEM=1G            guest RAM (the ELF dump is about this size)
#   FORMATS=elf-paging,kdump-zlib,elf  dump-guest-memory formats (elf-paging: an
#                           ELF with virtual addresses, the only one drgn 0.0.22
#                           opens; elf is not kept: `-c -d 31` turns it into
#                           kdump-d31, as a distro's kdump service does -- QEMU's
#                           own kdump-zlib is flattened and names no architecture,
#                           which libkdumpfile, so a current drgn, refuses)
#   CAPTURE                 the dumper for that: makedumpfile-compatible
#                           (default: build/capture/coroner-capture of this tree;
#                           Debian's makedumpfile 1.7.2 refuses QEMU's ELF with
#                           "Can't get the number of PT_LOAD")
#   CORONER_FIXTURES        the fixtures folder (default ../shared/fixtures)
# Writes CACHE_DIR/vmlinux, CACHE_DIR/dump/vmcore.elf-paging, vmcore.kdump-zlib,
# vmcore.kdump-d31, CACHE_DIR/dump/console.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${1:-/tmp/coroner-bench-symbols}
fixtures=${CORONER_FIXTURES:-$repo/../shared/fixtures}
mem=${GUEST_MEM:-1G}
formats=${FORMATS:-elf-paging,kdump-zlib,elf}

for tool in apt-get apt-cache dpkg-deb qemu-system-x86_64 busybox cpio python3; do
  command -v $tool >/dev/null || {
    echo "missing $tool; apt-get install qemu-system-x86 busybox-static cpio python3" >&2; exit 2; }
done
[ -f "$fixtures/make/qemu_dump.py" ] || { echo "no $fixtures/make/qemu_dump.py (set CORONER_FIXTURES)" >&2; exit 2; }

abi=${KERNEL_ABI:-$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-dbg$' |
  grep -o '6\.1\.0-[0-9]*' | sort -t- -k2 -n | tail -1)}
[ -n "$abi" ] || { echo "apt-cache knows no linux-image-6.1.0-*-cloud-amd64-dbg (apt-get update?)" >&2; exit 2; }
release=$abi-cloud-amd64
echo "kernel $release"

mkdir -p "$cache/debs" "$cache/root"
cache=$(cd "$cache" && pwd)
root=$cache/root
(cd "$cache/debs" && for pkg in "linux-image-$release-dbg" "linux-image-$release-unsigned"; do
   ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get download "$pkg"
 done)
if [ ! -f "$root/boot/vmlinuz-$release" ]; then
  dpkg-deb --fsys-tarfile "$cache"/debs/linux-image-"$release"-unsigned_*.deb |
    tar -x -C "$root" "./boot/vmlinuz-$release" \
      "./lib/modules/$release/kernel/drivers/firmware/qemu_fw_cfg.ko"
fi
if [ ! -f "$root/usr/lib/debug/boot/vmlinux-$release" ]; then
  echo "unpacking the vmlinux of the -dbg package (decompresses all of it: about 30 s)"
  dpkg-deb --fsys-tarfile "$cache"/debs/linux-image-"$release"-dbg_*.deb |
    tar -x -C "$root" "./usr/lib/debug/boot/vmlinux-$release"
fi
ln -sf "$root/usr/lib/debug/boot/vmlinux-$release" "$cache/vmlinux"

"$repo/tests/e2e/make_initramfs.sh" "$cache/initramfs.cpio.gz" "$here/guest_init.sh" \
  "$root/lib/modules/$release/kernel/drivers/firmware/qemu_fw_cfg.ko:qemu_fw_cfg.ko"

rm -rf "$cache/dump"
python3 "$fixtures/make/qemu_dump.py" --arch x86_64 --kernel "$root/boot/vmlinuz-$release" \
  --initrd "$cache/initramfs.cpio.gz" --append "loglevel=7" --mem "$mem" --smp 2 \
  --formats "$formats" --out "$cache/dump"
console=$cache/dump/console.log
if grep -a "SYMBENCH: FAILED" "$console"; then
  echo "the guest failed, see $console" >&2; exit 1
fi
grep -aq "SYMBENCH: fw_cfg up" "$console" ||
  echo "warning: the guest never loaded fw_cfg; the dump may lack VMCOREINFO ($console)" >&2
rm -f "$cache/dump/qmp.sock"
if [ -f "$cache/dump/vmcore.elf" ]; then
  capture=${CAPTURE:-$repo/build/capture/coroner-capture}
  if [ -x "$capture" ]; then
    "$capture" -c -d 31 "$cache/dump/vmcore.elf" "$cache/dump/vmcore.kdump-d31"
  else
    echo "warning: no $capture (build it, or set CAPTURE): no vmcore.kdump-d31" >&2
  fi
  rm -f "$cache/dump/vmcore.elf"
fi
ls -l "$cache/vmlinux" "$cache"/dump/vmcore.*
