// The verdict on one struct page, decided like makedumpfile's
// __exclude_unnecessary_pages() from VMCOREINFO's offsets and flag numbers
// alone. Covers the variants from 2.6.38 to 6.12+: PG_slab vs the slab
// page type, the buddy / offline / hugetlb page types in _mapcount
// (exact values up to 6.11, the type in the top byte since), and the
// compound order / destructor of a head page in its first tail (page
// fields up to 6.2, folio fields and _flags_1 since).
#pragma once

#include "capture/format/error.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace coroner::capture {

// What a page is, as far as the -d bits care.
enum class PageKind : uint8_t {
  keep,           // nothing excludable (kernel data, page tables, ...)
  tail,           // tail of a compound page: follows its head
  free,           // buddy allocator's free block (or unaccepted memory)
  cache,          // page cache without private data
  cache_private,  // page cache with private data (buffer heads)
  user,           // anonymous or hugetlbfs page of a process
  hwpoison,       // hardware-poisoned
  offline,        // logically offline (balloon, memory hot-unplug)
};

struct PageVerdict {
  PageKind kind = PageKind::keep;
  uint64_t nr_pages = 1;  // the whole buddy block or compound page when excluded
};

// Where struct page keeps what the filter reads, and how the dumped kernel
// encodes page flags and page types.
class StructPageLayout {
 public:
  // Errors name the VMCOREINFO key the requested dump level needs.
  static Expected<StructPageLayout> from_vmcoreinfo(const VmcoreInfo& info, unsigned dump_level);

  uint64_t size() const { return size_; }
  // Whether free pages can be told from struct page alone (buddy page type,
  // 2.6.38+); without it free pages need the zones' free lists.
  bool knows_buddy() const { return buddy_mapcount_.has_value() && private_.has_value(); }

  // `page` holds SIZE(page) bytes of the struct page of `pfn`; `next` the
  // following struct page (the first tail of a head page) or nullptr when
  // it could not be read.
  PageVerdict judge(uint64_t pfn, const std::byte* page, const std::byte* next, unsigned dump_level) const;

 private:
  bool is_slab(uint64_t flags, uint32_t mapcount) const;
  bool is_cache(uint64_t flags) const;
  bool is_hugetlb(uint64_t dtor) const;
  // Head page: order and destructor (or hugetlb marker) from the first tail.
  void compound_info(uint64_t pfn, uint64_t flags, uint32_t mapcount, const std::byte* next, unsigned& order,
                     uint64_t& dtor) const;

  uint64_t size_ = 0;
  uint64_t flags_ = 0;
  uint64_t mapping_ = 0;
  std::optional<uint64_t> mapcount_, private_, compound_head_;
  std::optional<uint64_t> order_offset_, dtor_offset_;  // within the first tail page
  unsigned order_width_ = 1, dtor_width_ = 1;           // bytes
  uint64_t lru_mask_ = 0, private_mask_ = 0, swapcache_mask_ = 0, swapbacked_mask_ = 0;
  uint64_t slab_mask_ = 0, head_mask_ = 0, hwpoison_mask_ = 0, hugetlb_flag_mask_ = 0;
  bool has_swapbacked_ = false;
  std::optional<uint32_t> buddy_mapcount_, offline_mapcount_, slab_mapcount_, hugetlb_mapcount_,
      unaccepted_mapcount_;
  std::optional<uint64_t> hugetlb_dtor_, free_huge_page_;
  std::optional<uint64_t> max_order_;  // LENGTH(zone.free_area)
};

// (major, minor) of OSRELEASE, e.g. {6, 1} for "6.1.192"; {0, 0} if absent.
struct KernelVersion {
  unsigned major = 0, minor = 0;
  bool at_least(unsigned maj, unsigned min) const { return major > maj || (major == maj && minor >= min); }
};
KernelVersion kernel_version(const VmcoreInfo& info);

}  // namespace coroner::capture
