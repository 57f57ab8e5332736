#include "analyzer/os/linux/page_map.hpp"

#include "analyzer/object.hpp"

#include <algorithm>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxFlagNames = 64;

Expected<PageLayout> read_page_layout(const Program& program) {
  PageLayout l;
  CORONER_TRY(size, program.type_size("struct page"));
  CORONER_TRY(flags, program.member_offset("struct page", "flags"));
  auto refcount = program.member_offset("struct page", "_refcount");  // 4.6+
  if (!refcount) refcount = program.member_offset("struct page", "_count");
  if (!refcount) return refcount.error();
  CORONER_TRY(mapping, program.member_offset("struct page", "mapping"));
  CORONER_TRY(index, program.member_offset("struct page", "index"));
  l.size = size, l.flags = flags, l.refcount = *refcount, l.mapping = mapping, l.index = index;
  if (auto head = program.member_offset("struct page", "compound_head")) l.compound_head = *head;
  else l.compound_head = ~uint64_t{0};
  return l;
}

// The kernel's own names of its page flags (mm/debug.c's pageflag_names,
// what %pGp prints), ended by an entry without a name.
std::vector<PageFlagName> pageflag_names(const Program& program) {
  std::vector<PageFlagName> names;
  auto table = kernel_object(program, "pageflag_names");
  if (!table) return names;
  for (size_t i = 0; i < kMaxFlagNames; ++i) {
    auto entry = table->index(static_cast<int64_t>(i));
    if (!entry) break;
    auto mask = entry->member("mask");
    auto name = entry->member("name");
    if (!mask || !name) break;
    auto mask_value = mask->read_unsigned();
    auto name_pointer = name->read_unsigned();
    if (!mask_value || !name_pointer || *name_pointer == 0) break;
    auto text = name->read_c_string(64);
    if (!text) break;
    names.push_back({*mask_value, *text});
  }
  return names;
}

}  // namespace

Expected<uint64_t> direct_map_base(const Program& program) {
  if (auto base = program.arch().linear_map_base()) return *base;
  CORONER_TRY(symbol, program.symbol_address("page_offset_base"));
  CORONER_TRY(base, program.memory().read_u64(symbol));
  return base;
}

Expected<PageMap> PageMap::make(const Program& program) {
  CORONER_TRY(layout, read_page_layout(program));
  const uint64_t page_size = program.arch().page_size();
  CORONER_TRY(locator, MemMapLocator::create(program.vmcoreinfo(), program.memory(), page_size, layout.size));
  CORONER_CHECK(locator.attach(program.memory().physical().ranges(), page_size));
  PageMap map(std::move(locator));
  map.layout_ = layout;
  map.page_size_ = page_size;
  CORONER_TRY(base, linux_kernel::direct_map_base(program));
  map.direct_map_ = base;
  for (const PhysRange& range : program.memory().physical().ranges()) {
    if (range.size == 0) continue;
    for (uint64_t pfn = range.start / page_size; pfn < (range.end() + page_size - 1) / page_size;) {
      auto span = map.locator_.span_of(pfn);
      if (!span) {
        pfn += map.locator_.span_pages() - pfn % map.locator_.span_pages();
        continue;
      }
      if (map.spans_.empty() || map.spans_.back().pfn_start != span->pfn_start) map.spans_.push_back(*span);
      if (span->pfn_end <= pfn) break;
      pfn = span->pfn_end;
    }
  }
  std::sort(map.spans_.begin(), map.spans_.end(),
            [](const MemMapSpan& a, const MemMapSpan& b) { return a.pfn_start < b.pfn_start; });
  map.spans_.erase(std::unique(map.spans_.begin(), map.spans_.end(),
                               [](const MemMapSpan& a, const MemMapSpan& b) { return a.pfn_start == b.pfn_start; }),
                   map.spans_.end());
  map.flag_names_ = pageflag_names(program);
  CORONER_TRY(types, kernel_types(program));
  if (auto pageflags = types->find_type("enum pageflags")) {
    if (auto type = symbols::underlying(*pageflags)) {
      size_t main_flags = 0;  // the flags before __NR_PAGEFLAGS; aliases follow it
      for (const symbols::Enumerator& e : (*type)->enumerators()) {
        if (e.name == "__NR_PAGEFLAGS") main_flags = map.flag_bits_.size();
        else if (e.name.starts_with("PG_") && e.value < 64) map.flag_bits_.emplace_back(e.name.substr(3), e.value);
      }
      if (map.flag_names_.empty())  // crash's fallback: the enum's names
        for (size_t i = 0; i < main_flags; ++i)
          map.flag_names_.push_back({uint64_t{1} << map.flag_bits_[i].second, map.flag_bits_[i].first});
    }
  }
  return map;
}

Expected<const PageMap*> PageMap::of(const Program& program) {
  struct Cached {
    Expected<PageMap> map;
  };
  const Cached& cached = program.extension<Cached>([&] { return new Cached{make(program)}; });
  if (!cached.map) return cached.map.error();
  return &*cached.map;
}

std::optional<uint64_t> PageMap::page_of_pfn(uint64_t pfn) const {
  auto span = locator_.span_of(pfn);
  if (!span) return std::nullopt;
  return span->mem_map + (pfn - span->pfn_start) * layout_.size;
}

std::optional<uint64_t> PageMap::pfn_of_page(uint64_t page) const {
  for (const MemMapSpan& span : spans_) {
    uint64_t bytes = (span.pfn_end - span.pfn_start) * layout_.size;
    if (page < span.mem_map || page - span.mem_map >= bytes) continue;
    if ((page - span.mem_map) % layout_.size) return std::nullopt;
    return span.pfn_start + (page - span.mem_map) / layout_.size;
  }
  return std::nullopt;
}

std::optional<unsigned> PageMap::flag_bit(std::string_view name) const {
  for (const auto& [flag, bit] : flag_bits_)
    if (flag == name) return bit;
  return std::nullopt;
}

std::string PageMap::describe_flags(uint64_t flags) const {
  std::string text = fmt::format("{:x}", flags);
  bool first = true;
  if (flags)
    for (const PageFlagName& f : flag_names_)
      if (flags & f.mask) {
        text += (first ? " " : ",") + f.name;
        first = false;
      }
  return text;
}

Expected<PageInfo> PageMap::read(const KernelMemory& memory, uint64_t page) const {
  PageInfo info;
  info.page = page;
  auto pfn = pfn_of_page(page);
  if (!pfn) return make_error(Errc::not_found, "{:#x} is not a struct page of the dump's RAM", page);
  info.pfn = *pfn;
  CORONER_TRY(flags, memory.read_u64(page + layout_.flags));
  CORONER_TRY(count, memory.read_u32(page + layout_.refcount));
  CORONER_TRY(mapping, memory.read_u64(page + layout_.mapping));
  CORONER_TRY(index, memory.read_u64(page + layout_.index));
  info.flags = flags, info.count = static_cast<int32_t>(count), info.mapping = mapping, info.index = index;
  return info;
}

Expected<uint64_t> PageMap::head_of(const KernelMemory& memory, uint64_t page) const {
  if (layout_.compound_head == ~uint64_t{0}) return page;
  CORONER_TRY(head, memory.read_u64(page + layout_.compound_head));
  return (head & 1) ? head - 1 : page;
}

}  // namespace coroner::linux_kernel
