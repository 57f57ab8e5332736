#!/bin/busybox sh
# shellcheck shell=dash
# /init of the distro-kernel guest that make_distro_dump.sh dumps.
#
# Debian's cloud kernel builds its fw_cfg driver as a module; loading it is
# what hands the kernel's VMCOREINFO to QEMU's vmcoreinfo device, without
# which a dump-guest-memory dump has no VMCOREINFO note. Then start a few
# processes (so the dump has more than the idle tasks) and crash through
# sysrq: the kernel panics and stays halted (no panic= on the command
# line) until the host has dumped its memory.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

insmod /qemu_fw_cfg.ko || echo "SYMBENCH: FAILED insmod qemu_fw_cfg.ko"
if [ -d /sys/firmware/qemu_fw_cfg ]; then
  echo "SYMBENCH: fw_cfg up"
else
  echo "SYMBENCH: FAILED no /sys/firmware/qemu_fw_cfg"
fi
hostname symbench
# Only in the -keys dumps' initramfs: keys with known payloads (add_keys.c).
if [ -x /add_keys ]; then
  /add_keys || echo "SYMBENCH: FAILED add_keys"
fi
# Only in the -dmcrypt dumps' initramfs: dm-crypt devices over loop devices
# with known keys (add_dm_crypt.c): aes-xts-plain64, whose transform the
# kernel builds as xts(ecb(aes-generic)) from the xts and ecb modules around
# the built-in AES, and aes-cbc-essiv:sha256 (essiv(cbc(aes-generic),
# sha256-generic)); then, with aesni_intel loaded (the guest's CPU has
# AES-NI), a second table of the first device with another key, left
# inactive, whose transform is aesni's xts-aes-aesni (crypto_simd over
# cryptd).
if [ -x /add_dm_crypt ]; then
  for module in loop dm-mod dm-crypt ecb xts authenc essiv; do
    insmod /modules/$module.ko || echo "SYMBENCH: FAILED insmod $module.ko"
  done
  for n in 0 1; do
    dd if=/dev/zero of=/tmp/disk$n bs=1M count=4 2>/dev/null
    losetup /dev/loop$n /tmp/disk$n || echo "SYMBENCH: FAILED losetup loop$n"
  done
  /add_dm_crypt 8192 xts || echo "SYMBENCH: FAILED add_dm_crypt xts"
  /add_dm_crypt 8192 essiv || echo "SYMBENCH: FAILED add_dm_crypt essiv"
  for module in cryptd crypto_simd aesni-intel; do
    insmod /modules/$module.ko || echo "SYMBENCH: FAILED insmod $module.ko"
  done
  /add_dm_crypt 8192 reload || echo "SYMBENCH: FAILED add_dm_crypt reload"
  # The transforms the kernel built.
  grep '^driver' /proc/crypto | sed 's/^/SYMBENCH: crypto /'
fi
sleep 1000 &
cat /dev/zero > /dev/null &
echo "SYMBENCH: crashing"
echo c > /proc/sysrq-trigger
echo "SYMBENCH: FAILED still alive"
