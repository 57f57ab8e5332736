// Which pages a dump keeps, decided like makedumpfile's -d bits from
// VMCOREINFO alone (mem_section / vmemmap, struct page offsets, page flags,
// PAGE_BUDDY_MAPCOUNT_VALUE, compound pages). Zero pages (bit 1) need the
// page contents, so the writer checks those while it reads; everything
// else is decided here from struct page.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::capture {

// makedumpfile's dump-level bits.
enum DumpLevelBit : unsigned {
  kExcludeZero = 1,
  kExcludeCache = 2,         // page cache, not private
  kExcludeCachePrivate = 4,  // page cache with private data
  kExcludeUser = 8,
  kExcludeFree = 16,
};

// One bit per page frame number, set = keep.
class PfnBitmap {
 public:
  PfnBitmap() = default;
  explicit PfnBitmap(uint64_t max_pfn) : bits_((max_pfn + 63) / 64, 0), max_pfn_(max_pfn) {}
  uint64_t max_pfn() const { return max_pfn_; }
  bool test(uint64_t pfn) const { return pfn < max_pfn_ && (bits_[pfn / 64] >> (pfn % 64)) & 1; }
  // pfns [index * 64, index * 64 + 64), bit i for pfn index * 64 + i; 0 beyond max_pfn.
  uint64_t word(uint64_t index) const { return index < bits_.size() ? bits_[index] : 0; }
  void set(uint64_t pfn) { if (pfn < max_pfn_) bits_[pfn / 64] |= uint64_t{1} << (pfn % 64); }
  void clear(uint64_t pfn) { if (pfn < max_pfn_) bits_[pfn / 64] &= ~(uint64_t{1} << (pfn % 64)); }
  uint64_t count() const;
  // Sets / clears pfns [start, end) (clamped to max_pfn); clear_range
  // returns how many of them were set.
  void set_range(uint64_t start, uint64_t end);
  uint64_t clear_range(uint64_t start, uint64_t end);

 private:
  std::vector<uint64_t> bits_;
  uint64_t max_pfn_ = 0;
};

// Pages dropped, by reason (makedumpfile's report has the same rows).
struct FilterStats {
  uint64_t total = 0;          // pages of RAM in the dump's ranges
  uint64_t zero = 0;           // counted by the writer
  uint64_t cache = 0;
  uint64_t cache_private = 0;
  uint64_t user = 0;
  uint64_t free = 0;
  uint64_t hwpoison = 0;
  uint64_t offline = 0;
  uint64_t kept = 0;
};

struct FilterResult {
  PfnBitmap keep;   // pages the struct page test keeps (zero pages not yet removed)
  FilterStats stats;
  std::string memory_model;     // "SPARSEMEM_EXTREME", "SPARSEMEM", "FLATMEM"; "" at -d 0/1
  uint64_t unreadable = 0;      // pages kept because their struct page could not be read
  // Why pages were kept wholesale: mem_section / mem_map unreadable, or a
  // broken free list (kernels before 2.6.38); "" when all went well.
  std::string warning;
};

// Classifies every page of `dump`'s RAM ranges for `dump_level` (0..31).
// `memory` translates kernel virtual addresses (mem_section, vmemmap) of
// the dumped kernel. With dump_level 0 or 1 no struct page is read.
// Exclusions follow makedumpfile's __exclude_unnecessary_pages(): a block
// (buddy order, compound page) is dropped whole and the pages it covers
// are not examined again within the same mem_section. Pfns beyond the
// last section with a mem_map (a "mem=" boot) are kept, where makedumpfile
// shrinks max_mapnr and drops them. Reading is chunked (4096 struct pages
// at a time), so memory is the bitmap (1 bit per pfn) plus 256 KiB. Pages
// whose struct page cannot be read are kept (never drop what we cannot
// prove is droppable); when mem_section / mem_map itself is unreadable,
// every page is kept and `warning` says why. Errors: a dump level out of
// range, VMCOREINFO lacking what the level needs, implausible ranges.
Expected<FilterResult> classify_pages(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                      unsigned dump_level);

}  // namespace coroner::capture
