#!/bin/bash
# Builds the .deb with cpack and tries it where nothing else is installed: a
# fresh, minimal Debian 12 root (mmdebstrap, as ../shared/tools/fresh-debian.sh
# makes it), `apt-get install ./coroner_*.deb` there (apt resolves the
# dependencies dpkg-shlibdeps wrote), then `coroner --help`,
# `coroner-capture --help`, `coroner fleet`, `man coroner`, `man coroner-capture`, the bash
# completion, and `coroner -s -x sys` on the bundled sample dump.
# Not part of CI (a few minutes, needs root and the Debian mirror).
#   usage (as root, from the project's root): deploy/test-deb.sh [BUILD_DIR]   (default: build)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
[ -f "$build/CMakeCache.txt" ] || { echo "test-deb: $build is not a configured build directory" >&2; exit 2; }

echo "=== building and packaging in $build"
cmake --build "$build" -j2 --target coroner coroner-fleet coroner-capture coroner-manual
rm -f "$build"/coroner_*.deb
(cd "$build" && cpack -G DEB) >&2
deb=$(ls "$build"/coroner_*.deb)
echo "=== $(basename "$deb"): $(du -h "$deb" | cut -f1)"
dpkg-deb --field "$deb" Depends Suggests

dir=${FRESH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fresh-debian}; mkdir -p "$dir"
base=$dir/base.tar
[ -f "$base" ] || mmdebstrap --variant=apt --include=git,ca-certificates,sudo,python3,zstd bookworm "$base" >&2
root=$(mktemp -d "$dir/deb.XXXX")
tar -xf "$base" -C "$root"
cp "$deb" "$root/tmp/"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
for m in proc sys dev dev/pts; do mount --bind "/$m" "$root/$m"; done
# The verdict is the checks' exit status: a root that cannot be removed yet
# (a process of the chroot still holds a file) is said, not failed on.
cleanup() {
  local status=$?
  for m in dev/pts dev sys proc; do umount -l "$root/$m" 2>/dev/null; done
  rm -rf "$root" 2>/dev/null || echo "test-deb: could not remove $root yet" >&2
  exit "$status"
}
trap cleanup EXIT

# man-db and bash-completion are what a user has who runs `man` and <TAB>;
# the package itself only needs what its Depends line names.
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
  DEBIAN_FRONTEND=noninteractive bash -euc '
    apt-get update -qq
    apt-get install -y -qq ./tmp/'"$(basename "$deb")"' >/dev/null
    echo "=== installed: $(dpkg-query -W -f="\${Package} \${Version}" coroner)"
    coroner --help | head -3
    coroner-capture --help | head -2
    echo "=== coroner fleet (coroner-fleet, with SQLite)"; coroner fleet report --db /tmp/fleet.db
    apt-get install -y -qq man-db bash-completion >/dev/null
    echo "=== man coroner"; man -P cat coroner 2>&1 | sed -n "1,6p"
    man -P cat coroner | grep -q "bt - backtrace"
    echo "=== man coroner-capture"; man -P cat coroner-capture 2>&1 | sed -n "1,6p"
    echo "=== completion: coroner --out<TAB>, coroner -x sy<TAB>"
    bash -c "source /usr/share/bash-completion/completions/coroner
             COMP_WORDS=(coroner --out); COMP_CWORD=1; _coroner; echo \"\${COMPREPLY[*]}\"
             COMP_WORDS=(coroner -x sy); COMP_CWORD=2; _coroner; echo \"\${COMPREPLY[*]}\""
    echo "=== coroner -s -x sys (the bundled sample)"
    coroner -s -x sys
  '
echo "=== test-deb: the package installs and runs on a fresh Debian 12"
