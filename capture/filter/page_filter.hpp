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
#include <memory>
#include <span>
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

// One bit per page frame number of [first_pfn, max_pfn), set = keep;
// pfns outside read as not kept. first_pfn is a multiple of 64, so word
// indexes are the same as for a bitmap from pfn 0.
class PfnBitmap {
 public:
  PfnBitmap() = default;
  explicit PfnBitmap(uint64_t max_pfn) : PfnBitmap(0, max_pfn) {}
  PfnBitmap(uint64_t first_pfn, uint64_t max_pfn)
      : bits_((max_pfn - first_pfn + 63) / 64, 0), first_pfn_(first_pfn), max_pfn_(max_pfn) {}
  uint64_t first_pfn() const { return first_pfn_; }
  uint64_t max_pfn() const { return max_pfn_; }
  bool test(uint64_t pfn) const { return covers(pfn) && (bits_[index(pfn)] >> (pfn % 64)) & 1; }
  // pfns [index * 64, index * 64 + 64), bit i for pfn index * 64 + i; 0 outside.
  uint64_t word(uint64_t index) const {
    uint64_t first = first_pfn_ / 64;
    return index >= first && index - first < bits_.size() ? bits_[index - first] : 0;
  }
  void set(uint64_t pfn) { if (covers(pfn)) bits_[index(pfn)] |= uint64_t{1} << (pfn % 64); }
  void clear(uint64_t pfn) { if (covers(pfn)) bits_[index(pfn)] &= ~(uint64_t{1} << (pfn % 64)); }
  uint64_t count() const;
  // The bits as kdump's bitmap bytes (pfn first_pfn + 8 * i + b is bit b
  // of byte i, on the little-endian hosts we run on), at least
  // (max_pfn - first_pfn + 7) / 8 of them.
  std::span<std::byte> bytes() { return std::as_writable_bytes(std::span(bits_)); }
  // Sets / clears pfns [start, end) (clamped to the bitmap's pfns);
  // clear_range returns how many of them were set.
  void set_range(uint64_t start, uint64_t end);
  uint64_t clear_range(uint64_t start, uint64_t end);

 private:
  bool covers(uint64_t pfn) const { return pfn >= first_pfn_ && pfn < max_pfn_; }
  uint64_t index(uint64_t pfn) const { return (pfn - first_pfn_) / 64; }

  std::vector<uint64_t> bits_;
  uint64_t first_pfn_ = 0;
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

// Classifies the pages of `dump`'s RAM ranges for `dump_level` (0..31), a
// window of pfns at a time (makedumpfile's cyclic mode), so that memory is
// one bit a page of the window, not of the machine. `memory` translates
// kernel virtual addresses (mem_section, vmemmap) of the dumped kernel.
// With dump_level 0 or 1 no struct page is read. Exclusions follow
// makedumpfile's __exclude_unnecessary_pages(): a block (buddy order,
// compound page) is dropped whole and the pages it covers are not examined
// again within the same mem_section; a block reaching past a window is
// carried into the next ones, so the verdict and the counts of every page
// are the same whatever the windows. Free pages come from the buddy marks
// in struct page (2.6.38+), else from the zones' free lists, walked again
// for each window. Pfns beyond the last section with a mem_map (a "mem="
// boot) are kept, where makedumpfile shrinks max_mapnr and drops them.
// Reading is chunked (4096 struct pages at a time, 256 KiB). Pages whose
// struct page cannot be read are kept (never drop what we cannot prove is
// droppable); when mem_section / mem_map itself is unreadable, every page
// is kept and `warning` says why.
class PageSelector {
 public:
  // Errors: a dump level out of range, VMCOREINFO lacking what the level
  // needs, implausible ranges.
  static Expected<PageSelector> create(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                       unsigned dump_level);
  PageSelector(PageSelector&&) noexcept;
  PageSelector& operator=(PageSelector&&) noexcept;
  ~PageSelector();

  // One past the highest pfn of RAM.
  uint64_t max_pfn() const;
  // The pages of [start, end) (start a multiple of 64; end clamped to
  // max_pfn) with the window's counts. A pass asks for ascending,
  // adjoining windows; asking for pfn 0 starts a new pass.
  Expected<FilterResult> window(uint64_t start, uint64_t end);

 private:
  struct State;
  explicit PageSelector(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Every page at once: one window of all pfns.
Expected<FilterResult> classify_pages(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                      unsigned dump_level);

}  // namespace coroner::capture
