#!/usr/bin/env bash
# Builds upstream makedumpfile with zstd, snappy and lzo (USEZSTD=on
# USESNAPPY=on USELZO=on), the yardstick of coroner-capture's -z in
# bench/capture/run.sh: Debian 12's makedumpfile 1.7.2 is built without zstd
# ("-z option will be ignored"). The build lives outside git, in
#   ${XDG_CACHE_HOME:-~/.cache}/coroner-bench/makedumpfile-VERSION/makedumpfile
# and is reused while it is there. Prints that path last.
#
# usage: bench/capture/build_makedumpfile.sh [--print-path]
#   --print-path   print where the build is (or would be) and exit; exit 1
#                  when it is not built
# environment:
#   MAKEDUMPFILE_VERSION=1.7.9   a release tag of github.com/makedumpfile/makedumpfile
#   MAKEDUMPFILE_GIT=DIR         take the source from this git repository
#                                (`git archive VERSION`, a clone or a bare
#                                mirror) instead of downloading the release
#                                tarball from GitHub
#
# Prerequisites (Debian 12 packages, besides gcc and make):
#   libdw-dev libelf-dev libbz2-dev zlib1g-dev libzstd-dev libsnappy-dev liblzo2-dev
# (libdw/libelf: makedumpfile reads vmlinux DWARF with elfutils; bz2 and
# zlib: elfutils' compressed sections; the other three: its -z, -p, -l.)
set -euo pipefail

version=${MAKEDUMPFILE_VERSION:-1.7.9}
dir=${XDG_CACHE_HOME:-$HOME/.cache}/coroner-bench/makedumpfile-$version
binary=$dir/makedumpfile

has_zstd() { [ -x "$1" ] && "$1" -v 2>&1 | grep -qi 'zstd.*enabled'; }

if [ "${1:-}" = --print-path ]; then
  echo "$binary"
  has_zstd "$binary"
  exit
fi
if has_zstd "$binary"; then echo "$binary"; exit 0; fi

missing=()
for header in elfutils/libdw.h libelf.h bzlib.h zlib.h zstd.h snappy-c.h lzo/lzo1x.h; do
  [ -f "/usr/include/$header" ] || missing+=("$header")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing headers: ${missing[*]}; install with" >&2
  echo "  apt-get install libdw-dev libelf-dev libbz2-dev zlib1g-dev libzstd-dev libsnappy-dev liblzo2-dev" >&2
  exit 2
fi

rm -rf "$dir"
mkdir -p "$dir"
if [ -n "${MAKEDUMPFILE_GIT:-}" ]; then
  git --git-dir="$(git -C "$MAKEDUMPFILE_GIT" rev-parse --absolute-git-dir)" archive --format=tar "$version" |
    tar -x -C "$dir"
else
  url=https://github.com/makedumpfile/makedumpfile/releases/download/$version/makedumpfile-$version.tar.gz
  curl -sSfL "$url" | tar -xz -C "$dir" --strip-components=1
fi
# Dynamic linking: Debian ships no static libdw with its dependencies.
nice -n 10 make -C "$dir" -j"$(nproc)" LINKTYPE=dynamic USEZSTD=on USESNAPPY=on USELZO=on makedumpfile >"$dir/build.log" 2>&1 ||
  { tail -20 "$dir/build.log" >&2; echo "build failed, log: $dir/build.log" >&2; exit 1; }
has_zstd "$binary" || { echo "$binary was built without zstd" >&2; exit 1; }
echo "$binary"
