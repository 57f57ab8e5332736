// Where the dumped kernel keeps the struct page of a page frame, from
// VMCOREINFO: SPARSEMEM and SPARSEMEM_EXTREME through mem_section (which
// also covers SPARSEMEM_VMEMMAP, whose section_mem_map points into the
// vmemmap), FLATMEM through the mem_map pointer.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coroner::linux_kernel {

// The struct pages of pfns [pfn_start, pfn_end) are an array at kernel
// virtual address `mem_map` (the struct page of pfn_start).
struct MemMapSpan {
  uint64_t pfn_start = 0;
  uint64_t pfn_end = 0;
  uint64_t mem_map = 0;
};

// A present memory section (SPARSEMEM): mem_section[nr] at `address`, its
// section_mem_map coded (the array's address less the section's first pfn
// in struct pages, flags masked off) and decoded, and its SECTION_* flag
// bits (present, has mem_map, online, early, zone device).
struct MemSection {
  uint64_t nr = 0, address = 0, coded = 0, mem_map = 0, flags = 0;
  uint64_t pfn = 0;  // its first page frame
};

class MemMapLocator {
 public:
  enum class Model { sparsemem_extreme, sparsemem, flatmem };

  // The memory model VMCOREINFO describes; errors name the missing or
  // implausible key. Reads no memory.
  static Expected<MemMapLocator> create(const VmcoreInfo& info, const KernelMemory& memory, uint64_t page_size,
                                        uint64_t struct_page_size);
  // Reads the mem_map pointer (FLATMEM), or decides whether
  // SYMBOL(mem_section) is the root array or a pointer to it (as
  // makedumpfile does: the first reading under which some section of
  // `ram` is present and every present one holds a kernel address).
  // Errors name the address that could not be read or made no sense.
  Expected<void> attach(std::span<const PhysRange> ram, uint64_t page_size);

  Model model() const { return model_; }
  std::string_view model_name() const;
  // Pfns per span: a section for SPARSEMEM, everything for FLATMEM.
  uint64_t span_pages() const { return pages_per_section_; }

  // The span holding `pfn`, or nullopt when the kernel has no struct page
  // for it (no present section, unreadable mem_section, pfn out of range).
  std::optional<MemMapSpan> span_of(uint64_t pfn) const;
  // Every present section in order (nr below NR_MEM_SECTIONS; sections of
  // an unreadable root are left out); empty for FLATMEM.
  std::vector<MemSection> present_sections() const;

 private:
  explicit MemMapLocator(const KernelMemory& memory) : memory_(&memory) {}
  std::optional<uint64_t> section_mem_map(uint64_t section) const;
  std::optional<MemSection> present_section(uint64_t section) const;
  std::optional<uint64_t> root_address(uint64_t root) const;
  bool plausible_mem_map(uint64_t vaddr) const;
  // True when some section of `ram` is present and every present one
  // decodes to a plausible mem_map under the current mem_section_.
  bool sections_plausible(std::span<const PhysRange> ram, uint64_t page_size) const;

  const KernelMemory* memory_;
  Model model_ = Model::flatmem;
  uint64_t struct_page_size_ = 0;
  uint64_t pages_per_section_ = 0;
  uint64_t section_count_ = 0;  // NR_MEM_SECTIONS
  uint64_t sections_per_root_ = 1;
  uint64_t root_count_ = 0;     // LENGTH(mem_section)
  uint64_t mem_section_ = 0;    // the root array (EXTREME) or the section array
  uint64_t section_size_ = 0;   // SIZE(mem_section)
  uint64_t section_map_offset_ = 0;
  uint64_t flat_mem_map_ = 0;
  uint64_t flat_pages_ = 0;
  mutable std::unordered_map<uint64_t, std::optional<uint64_t>> roots_;  // root index -> its sections
};

}  // namespace coroner::linux_kernel
