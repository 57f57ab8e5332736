#!/bin/bash
# make_initramfs.sh OUT.cpio.gz INIT [SRC:DEST ...]
# Packs a newc initramfs: busybox (static; $BUSYBOX, else the host's) as
# /bin/busybox, INIT as /init, and each SRC (a file or a folder) at DEST
# (relative to the root). A dynamically linked SRC of the host's
# architecture brings the shared libraries ldd names for it, at their host
# paths, so the guest's loader finds them where the host's does; one of
# another architecture must be given its libraries as folders.
set -euo pipefail
out=$1 init=$2
shift 2

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp}
cp "${BUSYBOX:-$(command -v busybox)}" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"

for spec in "$@"; do
  src=${spec%%:*} dest=${spec#*:}
  mkdir -p "$root/$(dirname "$dest")"
  if [ -d "$src" ]; then
    mkdir -p "$root/$dest" && cp -a "$src/." "$root/$dest/"
    continue
  fi
  cp -L "$src" "$root/$dest"
  [ "$(readelf -h "$src" 2>/dev/null | grep Machine)" = "$(readelf -h /bin/sh | grep Machine)" ] || continue
  # ldd prints nothing useful (and fails) for static binaries and data files.
  # (grep without -q reads all of readelf's output: no SIGPIPE under pipefail)
  if readelf -l "$src" 2>/dev/null | grep INTERP >/dev/null; then
    for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
      mkdir -p "$root/$(dirname "$lib")"
      cp -L "$lib" "$root/$lib"
    done
  fi
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -6) > "$out"
