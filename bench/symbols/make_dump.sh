#!/usr/bin/env bash
# Makes the inputs of the benchmarks that use a distro kernel (first_answer.sh,
# sessions/triage.sh, kmem/kmem.sh): a crash dump of Debian's 6.1 cloud-amd64
# kernel and its vmlinux with full DWARF, through tests/distro/make_distro_dump.sh,
# keeping the ELF dump drgn 0.0.22 opens and QEMU's own kdump-zlib.
#
# usage: bench/symbols/make_dump.sh [CACHE_DIR]   (default /tmp/coroner-bench-symbols)
# environment: KERNEL_ABI=6.1.0-56 (default: the newest), GUEST_MEM, FORMATS,
# CAPTURE, CORONER_FIXTURES as make_distro_dump.sh takes them.
# Writes CACHE_DIR/vmlinux, CACHE_DIR/dump/vmcore.elf-paging, vmcore.kdump-zlib,
# vmcore.kdump-d31, CACHE_DIR/dump/console.log, CACHE_DIR/facts.json.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
export FORMATS=${FORMATS:-elf-paging,kdump-zlib,elf}
[ -n "${KERNEL_ABI:-}" ] && export KERNEL_RELEASE=$KERNEL_ABI-cloud-amd64
exec "$repo/tests/distro/make_distro_dump.sh" 6.1-amd64 "${1:-/tmp/coroner-bench-symbols}"
