# CMake toolchain file: coroner-capture for arm64 with Debian's cross
# compiler (g++-aarch64-linux-gnu) and arm64 libraries installed through
# multiarch (dpkg --add-architecture arm64; zlib1g-dev:arm64 ...), for the
# arm64 end-to-end test (run_kdump_e2e_arm64.sh), which builds only the
# coroner-capture target with it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Libraries and CMake packages from /usr/lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The top level also finds what only the analyzer links (LLVM 19, libpq,
# debuginfod, ...), some of which Debian cannot install for a second
# architecture (llvm-19-dev and libpq-dev are not Multi-Arch): pkg-config
# falls back to the host's .pc files for those, which configures the
# analyzer's targets without building them.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig")
