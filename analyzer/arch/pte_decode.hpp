// A page-table entry value read as crash's `pte` reads it: whether it maps
// a page, the physical page it names, and the names of its bits, per
// architecture. Only the value is decoded: no table is read.
#pragma once

#include "capture/format/dump.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::arch {

struct DecodedPte {
  // A page is mapped (present, or PROT_NONE: kept but inaccessible); a
  // non-zero entry that maps none holds a swap location.
  bool maps_page = false;
  uint64_t physical = 0;
  std::vector<std::string> flags;  // in crash's order; empty for 0
};

// `page_size` selects the arm64 granule (its output address starts at the
// page shift); x86_64 pages are 4K.
DecodedPte decode_pte(Machine machine, uint64_t page_size, uint64_t pte);

}  // namespace coroner::arch
