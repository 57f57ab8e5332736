// The kernel's struct pages: where the struct page of a page frame is
// (mem_map.hpp, from VMCOREINFO: SPARSEMEM, its VMEMMAP and EXTREME
// variants, FLATMEM), the frame of a struct page, the direct map, and what
// crash's `kmem -p` shows of a page: its flags (named by the kernel's
// pageflag_names table, else by enum pageflags), count, mapping and index.
#pragma once

#include "analyzer/os/linux/mem_map.hpp"
#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// struct page members crash shows, offsets from DWARF.
struct PageLayout {
  uint64_t size = 0;  // sizeof(struct page)
  uint64_t flags = 0, refcount = 0, mapping = 0, index = 0;
  uint64_t compound_head = 0;  // page.compound_head (4.16+): a tail page's head | 1
};

struct PageFlagName {
  uint64_t mask = 0;
  std::string name;  // "slab", "reserved", "head"
};

struct PageInfo {
  uint64_t page = 0;  // struct page address
  uint64_t pfn = 0;
  uint64_t flags = 0, mapping = 0, index = 0;
  int32_t count = 0;  // _refcount (_count before 4.6)
};

class PageMap {
 public:
  // The locator over the dump's RAM and the struct page layout; read once
  // per program.
  static Expected<const PageMap*> of(const Program& program);

  const PageLayout& layout() const { return layout_; }
  const MemMapLocator& locator() const { return locator_; }
  uint64_t page_size() const { return page_size_; }
  // The virtual address of physical 0 in the direct map.
  uint64_t direct_map_base() const { return direct_map_; }

  // The struct page of a frame; nullopt when the kernel has none.
  std::optional<uint64_t> page_of_pfn(uint64_t pfn) const;
  // The frame of a struct page address, which must be the start of one.
  std::optional<uint64_t> pfn_of_page(uint64_t page) const;
  // The present spans of RAM (in pfn order): every struct page of RAM.
  const std::vector<MemMapSpan>& spans() const { return spans_; }

  // The bit of a flag of enum pageflags ("slab", "reserved", "head");
  // nullopt when this kernel has no such flag.
  std::optional<unsigned> flag_bit(std::string_view name) const;
  // Every enumerator of enum pageflags, aliases ("checked" for
  // owner_priv_1) after the flags, without the "PG_" prefix.
  const std::vector<std::pair<std::string, unsigned>>& pageflags() const { return flag_bits_; }
  // The names crash prints after a page's flags, lowest bit first.
  const std::vector<PageFlagName>& flag_names() const { return flag_names_; }
  // "200 slab": the flags in hex and the names of the bits set.
  std::string describe_flags(uint64_t flags) const;

  Expected<PageInfo> read(const KernelMemory& memory, uint64_t page) const;
  // The head page of a compound page's tail (itself otherwise).
  Expected<uint64_t> head_of(const KernelMemory& memory, uint64_t page) const;

 private:
  PageMap(MemMapLocator locator) : locator_(std::move(locator)) {}
  static Expected<PageMap> make(const Program& program);

  MemMapLocator locator_;
  PageLayout layout_;
  uint64_t page_size_ = 0;
  uint64_t direct_map_ = 0;
  std::vector<MemMapSpan> spans_;  // sorted by mem_map
  std::vector<PageFlagName> flag_names_;
  std::vector<std::pair<std::string, unsigned>> flag_bits_;  // enum pageflags, in order
};

// The virtual address of physical 0 in the direct map: the architecture's
// when the layout gives it (arm64), else the dumped kernel's
// page_offset_base (x86_64, randomized by KASLR).
Expected<uint64_t> direct_map_base(const Program& program);

}  // namespace coroner::linux_kernel
