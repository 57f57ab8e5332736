#include "analyzer/os/linux/mem_map.hpp"

#include <bit>
#include <limits>

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kSectionMarkedPresent = 1;
// section_mem_map keeps flags in its low bits; the kernel guarantees the
// coded pointer leaves at least 6 of them free on every architecture.
constexpr uint64_t kSectionMapMask = ~uint64_t{63};
constexpr uint64_t kMaxRoots = uint64_t{1} << 24;

}  // namespace

std::string_view MemMapLocator::model_name() const {
  switch (model_) {
    case Model::sparsemem_extreme: return "SPARSEMEM_EXTREME";
    case Model::sparsemem: return "SPARSEMEM";
    case Model::flatmem: return "FLATMEM";
  }
  return "unknown";
}

Expected<MemMapLocator> MemMapLocator::create(const VmcoreInfo& info, const KernelMemory& memory, uint64_t page_size,
                                              uint64_t struct_page_size) {
  MemMapLocator loc(memory);
  loc.struct_page_size_ = struct_page_size;
  if (page_size == 0 || !std::has_single_bit(page_size))
    return make_error(Errc::invalid_argument, "page size {} is not a power of two", page_size);
  unsigned page_shift = std::countr_zero(page_size);

  auto mem_section = info.symbol("mem_section");
  auto section_size = info.size("mem_section");
  auto map_offset = info.offset("mem_section.section_mem_map");
  if (mem_section && section_size && map_offset) {
    CORONER_TRY(section_bits, info.require_number("SECTION_SIZE_BITS"));
    CORONER_TRY(physmem_bits, info.require_number("MAX_PHYSMEM_BITS"));
    if (section_bits <= page_shift || physmem_bits > 64 || physmem_bits < section_bits ||
        physmem_bits - section_bits > 40)
      return make_error(Errc::corrupt, "VMCOREINFO: SECTION_SIZE_BITS={} and MAX_PHYSMEM_BITS={} are inconsistent",
                        section_bits, physmem_bits);
    if (*section_size < 8 || *section_size > page_size || *map_offset > *section_size - 8)
      return make_error(Errc::corrupt, "VMCOREINFO: SIZE(mem_section)={} / OFFSET(mem_section.section_mem_map)={}",
                        *section_size, *map_offset);
    loc.pages_per_section_ = uint64_t{1} << (section_bits - page_shift);
    loc.section_count_ = uint64_t{1} << (physmem_bits - section_bits);
    loc.section_size_ = *section_size;
    loc.section_map_offset_ = *map_offset;
    loc.mem_section_ = *mem_section;
    uint64_t per_root_extreme = page_size / *section_size;
    uint64_t extreme_roots = (loc.section_count_ + per_root_extreme - 1) / per_root_extreme;
    auto length = info.length("mem_section");
    if (!length || *length == extreme_roots) {
      loc.model_ = Model::sparsemem_extreme;
      loc.sections_per_root_ = per_root_extreme;
      loc.root_count_ = extreme_roots;
    } else {
      loc.model_ = Model::sparsemem;
      loc.sections_per_root_ = 1;
      loc.root_count_ = std::min(*length, loc.section_count_);
    }
    if (loc.root_count_ > kMaxRoots)
      return make_error(Errc::corrupt, "VMCOREINFO: LENGTH(mem_section)={} is implausibly large", loc.root_count_);
    return loc;
  }

  auto mem_map = info.symbol("mem_map");
  if (!mem_map)
    return make_error(Errc::unsupported,
                      "VMCOREINFO has neither SYMBOL(mem_section) with SIZE/OFFSET(mem_section) nor SYMBOL(mem_map)");
  loc.model_ = Model::flatmem;
  loc.flat_mem_map_ = *mem_map;
  return loc;
}

Expected<void> MemMapLocator::attach(std::span<const PhysRange> ram, uint64_t page_size) {
  if (model_ == Model::flatmem) {
    uint64_t symbol = flat_mem_map_;
    auto pointer = memory_->read_u64(symbol);
    if (!pointer) return pointer.error().context(fmt::format("mem_map pointer at {:#x}", symbol));
    if (!plausible_mem_map(*pointer) || *pointer > std::numeric_limits<uint64_t>::max() - struct_page_size_)
      return make_error(Errc::corrupt, "mem_map at {:#x} holds {:#x}, not a kernel address", symbol, *pointer);
    flat_mem_map_ = *pointer;
    flat_pages_ = (std::numeric_limits<uint64_t>::max() - *pointer) / struct_page_size_;
    pages_per_section_ = flat_pages_;
    return {};
  }
  uint64_t symbol = mem_section_;
  if (sections_plausible(ram, page_size)) return {};
  // Some kernels export the address of the mem_section pointer itself.
  if (model_ == Model::sparsemem_extreme) {
    auto pointer = memory_->read_u64(symbol);
    if (pointer) {
      mem_section_ = *pointer;
      roots_.clear();
      if (sections_plausible(ram, page_size)) return {};
    }
  }
  return make_error(Errc::corrupt,
                    "mem_section at {:#x}: no present memory section of the dump's RAM has a kernel-address mem_map",
                    symbol);
}

bool MemMapLocator::plausible_mem_map(uint64_t vaddr) const {
  return vaddr != 0 && !memory_->arch().is_user_address(vaddr);
}

bool MemMapLocator::sections_plausible(std::span<const PhysRange> ram, uint64_t page_size) const {
  bool any = false;
  for (const PhysRange& range : ram) {
    if (range.size == 0) continue;
    uint64_t first = range.start / page_size / pages_per_section_;
    uint64_t last = (range.end() - 1) / page_size / pages_per_section_;
    for (uint64_t section = first; section <= last && section < section_count_; ++section) {
      auto map = section_mem_map(section);
      if (!map) continue;
      if (!plausible_mem_map(*map)) return false;
      any = true;
    }
  }
  return any;
}

std::optional<uint64_t> MemMapLocator::root_address(uint64_t root) const {
  if (root >= root_count_) return std::nullopt;
  if (model_ == Model::sparsemem) return mem_section_ + root * section_size_;
  auto cached = roots_.find(root);
  if (cached != roots_.end()) return cached->second;
  std::optional<uint64_t> address;
  auto value = memory_->read_u64(mem_section_ + root * 8);
  if (value && *value != 0) address = *value;
  roots_.emplace(root, address);
  return address;
}

std::optional<MemSection> MemMapLocator::present_section(uint64_t section) const {
  auto root = root_address(section / sections_per_root_);
  if (!root) return std::nullopt;
  uint64_t address = *root + (section % sections_per_root_) * section_size_;
  auto coded = memory_->read_u64(address + section_map_offset_);
  if (!coded || !(*coded & kSectionMarkedPresent)) return std::nullopt;
  // The coded value is the array's address minus the section's first pfn
  // (in struct pages).
  const uint64_t pfn = section * pages_per_section_;
  return MemSection{section, address, *coded & kSectionMapMask, (*coded & kSectionMapMask) + pfn * struct_page_size_,
                    *coded & ~kSectionMapMask, pfn};
}

std::optional<uint64_t> MemMapLocator::section_mem_map(uint64_t section) const {
  auto found = present_section(section);
  if (!found) return std::nullopt;
  return found->mem_map;
}

std::vector<MemSection> MemMapLocator::present_sections() const {
  std::vector<MemSection> sections;
  if (model_ == Model::flatmem) return sections;
  for (uint64_t root = 0; root < root_count_; ++root) {
    if (!root_address(root)) continue;  // an absent (or unreadable) root: none of its sections is present
    for (uint64_t i = 0; i < sections_per_root_; ++i) {
      const uint64_t nr = root * sections_per_root_ + i;
      if (nr >= section_count_) break;
      if (auto section = present_section(nr)) sections.push_back(*section);
    }
  }
  return sections;
}

std::optional<MemMapSpan> MemMapLocator::span_of(uint64_t pfn) const {
  if (model_ == Model::flatmem) {
    if (pfn >= flat_pages_) return std::nullopt;
    return MemMapSpan{0, flat_pages_, flat_mem_map_};
  }
  uint64_t section = pfn / pages_per_section_;
  if (section >= section_count_) return std::nullopt;
  auto map = section_mem_map(section);
  if (!map || !plausible_mem_map(*map)) return std::nullopt;
  uint64_t start = section * pages_per_section_;
  return MemMapSpan{start, start + pages_per_section_, *map};
}

}  // namespace coroner::linux_kernel
