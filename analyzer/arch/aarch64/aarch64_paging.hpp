// arm64 stage-1 translation tables (VMSAv8-64) as Linux builds them: the
// geometry that follows from the granule and the VA size, and a walk that
// records every level it visits.
#pragma once

#include "analyzer/arch/translation.hpp"

#include <cstdint>
#include <string>

namespace coroner::arch {

// How the tables resolve a virtual address.
struct Aarch64Paging {
  unsigned page_shift = 12;  // granule: 12 (4K), 14 (16K), 16 (64K)
  unsigned va_bits = 48;     // bits the top-level table resolves
  unsigned levels = 4;       // 2..5 table levels
  // 64K granule with 52-bit PA (FEAT_LPA): bits 15:12 of an entry hold PA 51:48.
  bool lpa = false;
  // 4K/16K granule with 52-bit VA and PA (FEAT_LPA2, Linux 6.9+): bits 9:8
  // hold PA 51:50 (the shareability field moves to TCR).
  bool lpa2 = false;

  uint64_t page_size() const { return uint64_t{1} << page_shift; }
  unsigned bits_per_level() const { return page_shift - 3; }
  // Lowest address bit that level `step` (0 = top) indexes.
  unsigned shift(unsigned step) const { return page_shift + bits_per_level() * (levels - 1 - step); }
  // The architecture's level number of `step`: 3 is the last level, the top
  // is 0, 1 or 2 (-1 with 5 levels).
  int hw_level(unsigned step) const { return 4 - static_cast<int>(levels) + static_cast<int>(step); }
  // crash's name for level `step`: PGD, (P4D,) (PUD,) (PMD,) PTE.
  const char* level_name(unsigned step) const;
  // Whether a block descriptor is allowed at level `step`.
  bool block_allowed(unsigned step) const;
  // The output address an entry points to (a table, block or page), aligned to `shift`.
  uint64_t output_address(uint64_t entry, unsigned shift) const;
};

// Geometry for a granule and a VA size. `lpa` asks for 52-bit physical
// addresses (64K granule: FEAT_LPA; 4K/16K with 52-bit VA: FEAT_LPA2).
// Errors name the unsupported combination.
Expected<Aarch64Paging> make_aarch64_paging(uint64_t page_size, unsigned va_bits, bool lpa);

// Walks the tables at physical `root` for `vaddr`. The region (TTBR0 for
// user addresses, TTBR1 for the kernel's) follows from bit 55; the caller
// picks the matching root. The top byte is ignored (TBI, tags).
Translation walk_aarch64(const Aarch64Paging& paging, uint64_t root, uint64_t vaddr, const EntryReader& read);

enum class Aarch64Descriptor { invalid, table, block, page };

// Names of the bits set in an entry, e.g. "VALID|PAGE|USER|RDONLY|SHARED|AF|NG|PXN|UXN|ATTRINDX=0".
std::string aarch64_entry_flags(uint64_t entry, Aarch64Descriptor kind, bool lpa2);

}  // namespace coroner::arch
