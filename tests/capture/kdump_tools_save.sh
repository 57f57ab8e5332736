#!/bin/sh
# Runs Debian kdump-tools' save path, kdump_save_core from the package's
# kdump-config, with MAKEDUMPFILE as its makedumpfile:
#   kdump_tools_save.sh KDUMP_CONFIG MAKEDUMPFILE VMCORE COREDIR
# The script's defaults (MAKEDUMP_ARGS and the line that adds -F) and its
# save functions are taken from the file as the package ships it; only the
# LSB message functions and logger are stubbed (they print), and vmcore_file
# and KDUMP_COREDIR point at the test's files instead of /proc/vmcore and
# /var/crash. Exits with kdump_save_core's status.
config=$1
tool=$2
vmcore_file=$3
KDUMP_COREDIR=$4
shim=$KDUMP_COREDIR/.bin
mkdir -p "$shim" && ln -sf "$tool" "$shim/makedumpfile" || exit 1
PATH=$shim:$PATH

log_action_msg() { echo "action: $*"; }
log_success_msg() { echo "success: $*"; }
log_failure_msg() { echo "failure: $*"; }
logger() { :; }
NAME=kdump-config
KDUMP_DUMP_DMESG=1
KDUMP_NUM_DUMPS=0

defaults=$(grep -A1 '^MAKEDUMP_ARGS=' "$config")
functions=$(sed -n -e '/^compress()/,/^}/p' -e '/^compression_extension()/,/^}/p' -e '/^define_stampdir()/,/^}/p' \
  -e '/^dump_dmesg()/,/^}/p' -e '/^kdump_save_core()/,/^}/p' "$config")
[ -n "$defaults" ] && [ -n "$functions" ] || { echo "no kdump_save_core in $config" >&2; exit 1; }
eval "$defaults"
eval "$functions"
echo "MAKEDUMP_ARGS=$MAKEDUMP_ARGS"
kdump_save_core
