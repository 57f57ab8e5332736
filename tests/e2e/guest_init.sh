#!/bin/busybox sh
# /init of both guest kernels of the end-to-end capture test.
#
# System kernel (no /proc/vmcore): load fx_crash.ko, load the capture kernel
# with kexec -p, then oops in fx_crash_level3 (oops=panic on the command
# line), which enters the capture kernel.
# Capture kernel (/proc/vmcore exists): run the static coroner-capture on
# /proc/vmcore, writing
#   /dev/vda  the dump, kdump-compressed (zlib, -d 31), in place on the raw disk
#   /dev/vdb  --dump-dmesg of /proc/vmcore, to compare with the dump's log
# then power off. Lines starting "E2E:" are read by run_kdump_e2e.sh.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

case $(uname -m) in aarch64) console=ttyAMA0 ;; *) console=ttyS0 ;; esac

if [ -e /proc/vmcore ]; then
  echo "E2E: capture kernel up, /proc/vmcore is $(stat -c %s /proc/vmcore) bytes"
  coroner-capture -c -d 31 /proc/vmcore /dev/vda
  echo "E2E: dump exit $?"
  coroner-capture --dump-dmesg /proc/vmcore /dev/vdb
  echo "E2E: dmesg exit $?"
  sync
  echo "E2E: capture done"
  poweroff -f
fi

echo "E2E: system kernel up"
hostname e2ehost
insmod /fx_crash.ko || { echo "E2E: FAILED insmod"; poweroff -f; }
# A process that owns user pages, so that -d 31 has something to drop.
cat /dev/zero > /dev/null &
if ! kexec -p /kdump/kernel --initrd=/kdump/capture.cpio.gz \
     --append="console=$console nr_cpus=1 irqpoll reset_devices panic=-1"; then
  echo "E2E: FAILED kexec -p"
  poweroff -f
fi
echo "E2E: capture kernel loaded, crashing"
printf oops > /proc/fx_crash
echo "E2E: FAILED still alive after the oops"
poweroff -f
