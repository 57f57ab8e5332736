#!/usr/bin/env bash
# Makes a crash dump of one of Debian's own kernels, with its -dbg vmlinux
# and drgn's ground truth: the test data of the no-vmlinux mode (kallsyms,
# BTF, ORC read out of the dump) and of the benchmarks. Kept outside git.
#
# usage: tests/distro/make_distro_dump.sh KERNEL OUT_DIR
#   KERNEL   6.1-amd64 | 6.12-amd64 | 6.1-arm64 | 5.10-amd64 (the newest such
#            cloud kernel apt knows; KERNEL_RELEASE=6.1.0-57-cloud-amd64 picks
#            one). 5.10-amd64 is bullseye's: apt reads bullseye's lists from
#            OUT_DIR/apt (its own sources list and state), so the machine's
#            apt configuration stays as it is. 6.1-amd64-keys: 6.1-amd64 whose
#            guest first adds keys with known payloads to the kernel keyring
#            (add_keys.c, built static here). 6.1-amd64-dmcrypt: 6.1-amd64
#            whose guest first sets up dm-crypt devices with known keys
#            (add_dm_crypt.c; the loop, dm-mod, dm-crypt, ecb, xts,
#            authenc, essiv, cryptd, crypto_simd and aesni-intel modules of
#            the package; their -dbg objects under OUT_DIR/root too) on a CPU
#            with AES-NI
# environment:
#   GUEST_MEM=1G        guest RAM
#   GUEST_CPU           QEMU's -cpu (default: qemu64; qemu64,+aes,... for 6.1-amd64-dmcrypt;
#                       max,pauth-impdef=on on arm64)
#   FORMATS=elf         dump-guest-memory formats (elf is not kept: `-c -d 31`
#                       turns it into vmcore.kdump-d31, as a distro's kdump
#                       service does; elf-paging: an ELF with virtual
#                       addresses, which drgn opens without libkdumpfile;
#                       kdump-zlib: QEMU's flattened kdump)
#   CAPTURE             the makedumpfile-compatible dumper (default: this
#                       tree's build/capture/coroner-capture)
#   CORONER_FIXTURES    the fixtures folder (its make/qemu_dump.py drives QEMU)
# Writes OUT_DIR/vmlinux (a link into OUT_DIR/root), OUT_DIR/release,
# OUT_DIR/dump/{vmcore.kdump-d31,console.log,...}, OUT_DIR/facts.json, and
# OUT_DIR/complete last: a folder without it is made again.
#
# The packages are fetched with `apt-get download` and unpacked (nothing is
# installed). The kernel boots under QEMU (TCG) with a busybox initramfs whose
# /init (guest_init.sh) loads qemu_fw_cfg.ko, so the kernel hands QEMU's
# vmcoreinfo device its VMCOREINFO, and crashes through sysrq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -eq 2 ] || {
  echo "usage: $0 6.1-amd64|6.12-amd64|6.1-arm64|5.10-amd64|6.1-amd64-keys|6.1-amd64-dmcrypt OUT_DIR" >&2; exit 2; }
kernel=$1 out=$2
fixtures=${CORONER_FIXTURES:-$repo/../shared/fixtures}
mem=${GUEST_MEM:-1G}
formats=${FORMATS:-elf}

keys="" dmcrypt=""
case $kernel in
  6.1-amd64-keys) pattern='6\.1\.0-[0-9]+-cloud-amd64' arch=amd64 qemu=qemu-system-x86_64 keys=1 ;;
  # AES-NI and the SSE it takes for granted (emulated by TCG), so that aesni_intel works.
  6.1-amd64-dmcrypt) pattern='6\.1\.0-[0-9]+-cloud-amd64' arch=amd64 qemu=qemu-system-x86_64 dmcrypt=1
                     GUEST_CPU=${GUEST_CPU:-qemu64,+aes,+pclmulqdq,+ssse3,+sse4.1,+sse4.2} ;;
  6.1-amd64)  pattern='6\.1\.0-[0-9]+-cloud-amd64' arch=amd64 qemu=qemu-system-x86_64 ;;
  6.12-amd64) pattern='6\.12\.[0-9]+\+deb12-cloud-amd64' arch=amd64 qemu=qemu-system-x86_64 ;;
  # -cpu max has pointer authentication, so return addresses on the stack are signed (PAC).
  6.1-arm64)  pattern='6\.1\.0-[0-9]+-cloud-arm64' arch=arm64 qemu=qemu-system-aarch64
              GUEST_CPU=${GUEST_CPU:-max,pauth-impdef=on} ;;
  # Before 6.0: VMCOREINFO does not locate kallsyms.
  5.10-amd64) pattern='5\.10\.0-[0-9]+-cloud-amd64' arch=amd64 qemu=qemu-system-x86_64 suite=bullseye ;;
  *) echo "$0: unknown kernel $kernel (6.1-amd64, 6.12-amd64, 6.1-arm64, 5.10-amd64, 6.1-amd64-keys," \
          "6.1-amd64-dmcrypt)" >&2; exit 2 ;;
esac
for tool in apt-get apt-cache dpkg-deb $qemu busybox cpio /usr/bin/python3; do
  command -v $tool >/dev/null || {
    echo "missing $tool; apt-get install qemu-system-x86 qemu-system-arm busybox-static cpio python3-drgn" >&2; exit 2; }
done
[ -f "$fixtures/make/qemu_dump.py" ] || { echo "no $fixtures/make/qemu_dump.py (set CORONER_FIXTURES)" >&2; exit 2; }
suffix=""
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  suffix=":$arch"
  dpkg --print-foreign-architectures | grep -qx "$arch" || {
    echo "apt does not know $arch packages: dpkg --add-architecture $arch && apt-get update" >&2; exit 2; }
fi

# Another suite's packages: apt with a sources list, lists and cache of its own under OUT_DIR/apt.
apt_opts=()
if [ -n "${suite:-}" ]; then
  mkdir -p "$out/apt/lists/partial" "$out/apt/cache/archives/partial"
  aptdir=$(cd "$out/apt" && pwd)
  # The suite itself, not its -security archive (a point release's kernel: one that stays).
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    > "$aptdir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
            -o Dir::State::status=/dev/null -o Debug::NoLocking=1)
  ls "$aptdir"/lists/*_Packages >/dev/null 2>&1 || apt-get "${apt_opts[@]}" -q update
fi

release=${KERNEL_RELEASE:-$(apt-cache "${apt_opts[@]}" search --names-only "^linux-image-$pattern-dbg\$" | cut -d' ' -f1 |
  sed -E 's/^linux-image-(.*)-dbg$/\1/' | sort -V | tail -1)}
[ -n "$release" ] || { echo "apt-cache knows no linux-image-*-dbg for $kernel (apt-get update?)" >&2; exit 2; }
echo "kernel $release"

mkdir -p "$out/debs" "$out/root"
out=$(cd "$out" && pwd)
root=$out/root
rm -f "$out/complete"
(cd "$out/debs" && for pkg in "linux-image-$release-dbg" "linux-image-$release-unsigned"; do
   ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get "${apt_opts[@]}" download -q "$pkg$suffix"
 done)
# qemu_fw_cfg.ko, xz-compressed since Debian's 6.12 packages.
fw_cfg=$(dpkg-deb -c "$out"/debs/linux-image-"$release"-unsigned_*.deb | grep -o '\./lib/modules/.*/qemu_fw_cfg\.ko[.a-z]*$')
# The -dmcrypt guest's modules (uncompressed in Debian's 6.1 packages).
dm_modules=()
[ -z "$dmcrypt" ] || for m in drivers/block/loop drivers/md/dm-mod drivers/md/dm-crypt crypto/ecb crypto/xts \
                               crypto/authenc crypto/essiv crypto/cryptd crypto/crypto_simd \
                               arch/x86/crypto/aesni-intel; do
  dm_modules+=("./lib/modules/$release/kernel/$m.ko")
done
dpkg-deb --fsys-tarfile "$out"/debs/linux-image-"$release"-unsigned_*.deb |
  tar -x -C "$root" "./boot/vmlinuz-$release" "$fw_cfg" ${dm_modules[@]+"${dm_modules[@]}"}
if [ "${fw_cfg%.xz}" != "$fw_cfg" ]; then
  python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(lzma.open(sys.argv[1]).read())' \
    "$root/$fw_cfg" "$root/${fw_cfg%.xz}"
fi
fw_cfg=${fw_cfg%.xz}
# The -dmcrypt dump's erase test reads the modules' types (coroner erase-offsets --mod-path).
dbg_files=("./usr/lib/debug/boot/vmlinux-$release")
for m in ${dm_modules[@]+"${dm_modules[@]}"}; do dbg_files+=("./usr/lib/debug${m#.}"); done
missing=0
for f in "${dbg_files[@]}"; do [ -f "$root/$f" ] || missing=1; done
if [ $missing = 1 ]; then
  echo "unpacking the vmlinux (and modules) of the -dbg package (decompresses all of it: about 30 s)"
  dpkg-deb --fsys-tarfile "$out"/debs/linux-image-"$release"-dbg_*.deb | tar -x -C "$root" "${dbg_files[@]}"
fi
ln -sfn "$root/usr/lib/debug/boot/vmlinux-$release" "$out/vmlinux"
echo "$release" > "$out/release"

# The guest's busybox is of its own architecture: the static one of Debian's package.
busybox=$(command -v busybox)
if [ -n "$suffix" ]; then
  (cd "$out/debs" && { ls busybox-static_*_"$arch".deb >/dev/null 2>&1 || apt-get download -q "busybox-static$suffix"; })
  dpkg-deb -x "$out"/debs/busybox-static_*_"$arch".deb "$out/busybox-root"
  busybox=$out/busybox-root/bin/busybox
fi
extra=()
if [ -n "$keys" ]; then
  gcc -static -O2 -o "$out/add_keys" "$here/add_keys.c"
  extra+=("$out/add_keys:add_keys")
fi
if [ -n "$dmcrypt" ]; then
  gcc -static -O2 -o "$out/add_dm_crypt" "$here/add_dm_crypt.c"
  extra+=("$out/add_dm_crypt:add_dm_crypt")
  for m in "${dm_modules[@]}"; do extra+=("$root/${m#./}:modules/$(basename "$m")"); done
fi
BUSYBOX=$busybox "$repo/tests/e2e/make_initramfs.sh" "$out/initramfs.cpio.gz" "$here/guest_init.sh" \
  "$root/${fw_cfg#./}:qemu_fw_cfg.ko" ${extra[@]+"${extra[@]}"}

rm -rf "$out/dump"
# no_timer_check: under TCG on a loaded host the x86 kernel's IO-APIC timer
# check fails ("IO-APIC + timer doesn't work!") and the boot panics.
qemu_arch=x86_64; [ "$arch" = arm64 ] && qemu_arch=arm64
python3 "$fixtures/make/qemu_dump.py" --arch $qemu_arch --kernel "$root/boot/vmlinuz-$release" \
  ${GUEST_CPU:+--cpu $GUEST_CPU} --initrd "$out/initramfs.cpio.gz" --append "loglevel=7 no_timer_check" --mem "$mem" \
  --smp 2 --formats "$formats" --out "$out/dump"
console=$out/dump/console.log
if grep -a "SYMBENCH: FAILED" "$console"; then
  echo "the guest failed, see $console" >&2; exit 1
fi
grep -aq "SYMBENCH: fw_cfg up" "$console" || { echo "the guest never loaded fw_cfg: no VMCOREINFO ($console)" >&2; exit 1; }
[ -z "$keys" ] || grep -aq "SYMBENCH: key .* encrypted" "$console" || { echo "the guest added no keys ($console)" >&2; exit 1; }
[ -z "$dmcrypt" ] || grep -aq "SYMBENCH: dm-crypt .* has an inactive table" "$console" ||
  { echo "the guest set up no dm-crypt device ($console)" >&2; exit 1; }
rm -f "$out/dump/qmp.sock"
if [ -f "$out/dump/vmcore.elf" ]; then
  capture=${CAPTURE:-$repo/build/capture/coroner-capture}
  [ -x "$capture" ] || { echo "no $capture (build it, or set CAPTURE)" >&2; exit 1; }
  "$capture" -c -d 31 "$out/dump/vmcore.elf" "$out/dump/vmcore.kdump-d31"
  rm -f "$out/dump/vmcore.elf"
fi
# (Debian's drgn reads kdump files through libkdumpfile; QEMU's arm64
# elf-paging dump it cannot translate.)
/usr/bin/python3 "$here/distro_facts.py" "$out/vmlinux" "$out/dump/vmcore.kdump-d31" > "$out/facts.json.new"
mv "$out/facts.json.new" "$out/facts.json"
touch "$out/complete"
ls -l "$out/vmlinux" "$out"/dump/vmcore.* "$out"/facts.json 2>/dev/null
