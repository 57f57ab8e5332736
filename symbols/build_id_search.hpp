// Finding a kernel's vmlinux (with its DWARF) by the GNU build-id its dump
// records: in debug-info folders laid out as .build-id/xx/rest.debug or
// holding the files themselves, Debian's /usr/lib/debug, then the debuginfod
// servers of DEBUGINFOD_URLS (through libdebuginfod, which caches the file
// under DEBUGINFOD_CACHE_PATH).
#pragma once

#include "capture/format/error.hpp"

#include <string>
#include <vector>

namespace coroner::symbols {

struct BuildIdSearch {
  std::vector<std::string> debuginfo_dirs;     // --debuginfo-dir, searched first, in order
  std::string system_debug_dir = "/usr/lib/debug";  // its .build-id/ and boot/vmlinux-*
  bool use_debuginfod = true;                  // when DEBUGINFOD_URLS is set
};

struct FoundVmlinux {
  std::string path;
  std::string origin;  // where it was found: "--debuginfo-dir /x", "debuginfod (http://...)", ...
};

// The first match in the order above. build_id is lower-case hex (a prefix
// of the file's build-id matches a plain file; the .build-id paths and
// debuginfod need the whole id). The error lists every place looked in.
Expected<FoundVmlinux> find_vmlinux_by_build_id(const std::string& build_id, const BuildIdSearch& search);

}  // namespace coroner::symbols
