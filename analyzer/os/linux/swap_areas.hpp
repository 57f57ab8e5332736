// The swap areas (swap_info[], struct swap_info_struct) as crash's swap
// shows them: each one in use (SWP_USED) with its size, the pages in use,
// its priority and its file or partition.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct SwapArea {
  uint64_t address = 0;      // struct swap_info_struct
  bool partition = false;    // a block device (crash: old_block_size set), else a file
  uint64_t pages = 0;        // usable pages
  uint64_t inuse_pages = 0;
  int64_t prio = 0;
  std::string filename;      // the swap file's path; "(unknown)" without one
  std::optional<Error> error;
};

// The areas in use, in swap_info[] order (empty without swap: a kernel
// without CONFIG_SWAP has no swap_info).
Expected<std::vector<SwapArea>> swap_areas(const Program& program);

}  // namespace coroner::linux_kernel
