#include "capture/filter/free_lists.hpp"

#include <algorithm>

namespace coroner::capture {
namespace {

constexpr uint64_t kMaxNodes = 4096;
constexpr int32_t kMaxZones = 8;

struct ListLayout {
  uint64_t node_zones = 0, nr_zones = 0, zone_size = 0, free_area = 0, spanned_pages = 0;
  uint64_t free_area_size = 0, free_list = 0, orders = 0, migrate_types = 1, list_head_size = 16;
  uint64_t next = 0, prev = 0, page_lru = 0;
};

Expected<ListLayout> list_layout(const VmcoreInfo& info) {
  ListLayout l;
  CORONER_TRY(node_zones, info.require_offset("pglist_data.node_zones"));
  CORONER_TRY(nr_zones, info.require_offset("pglist_data.nr_zones"));
  CORONER_TRY(zone_size, info.require_size("zone"));
  CORONER_TRY(free_area, info.require_offset("zone.free_area"));
  CORONER_TRY(spanned, info.require_offset("zone.spanned_pages"));
  CORONER_TRY(area_size, info.require_size("free_area"));
  CORONER_TRY(free_list, info.require_offset("free_area.free_list"));
  CORONER_TRY(next, info.require_offset("list_head.next"));
  CORONER_TRY(prev, info.require_offset("list_head.prev"));
  CORONER_TRY(lru, info.require_offset("page.lru"));
  auto orders = info.length("zone.free_area");
  if (!orders || *orders == 0 || *orders > 64)
    return make_error(Errc::unsupported, "VMCOREINFO lacks a plausible LENGTH(zone.free_area) to walk free lists");
  l = {node_zones, nr_zones, zone_size, free_area, spanned, area_size, free_list, *orders,
       std::clamp<uint64_t>(info.length("free_area.free_list").value_or(1), 1, 16),
       info.size("list_head").value_or(16), next, prev, lru};
  return l;
}

// Pfn of the struct page at `page`, from spans sorted by mem_map.
std::optional<uint64_t> pfn_of(const std::vector<MemMapSpan>& spans, uint64_t page, uint64_t size) {
  auto it = std::upper_bound(spans.begin(), spans.end(), page,
                             [](uint64_t addr, const MemMapSpan& s) { return addr < s.mem_map; });
  if (it == spans.begin()) return std::nullopt;
  --it;
  uint64_t offset = page - it->mem_map;
  if (offset % size != 0 || offset / size >= it->pfn_end - it->pfn_start) return std::nullopt;
  return it->pfn_start + offset / size;
}

// The pgdats: node_data[] entries (NUMA) or contig_page_data.
Expected<std::vector<uint64_t>> pgdats(const VmcoreInfo& info, const KernelMemory& memory) {
  std::vector<uint64_t> result;
  if (auto node_data = info.symbol("node_data")) {
    uint64_t count = std::min(info.length("node_data").value_or(1), kMaxNodes);
    for (uint64_t i = 0; i < count; ++i) {
      CORONER_TRY(pgdat, memory.read_u64(*node_data + i * 8));
      if (pgdat) result.push_back(pgdat);
    }
  } else if (auto contig = info.symbol("contig_page_data")) {
    result.push_back(*contig);
  } else {
    return make_error(Errc::unsupported, "VMCOREINFO has neither SYMBOL(node_data) nor SYMBOL(contig_page_data)");
  }
  return result;
}

}  // namespace

Expected<void> walk_free_lists(const VmcoreInfo& info, const KernelMemory& memory, std::vector<MemMapSpan> spans,
                               uint64_t struct_page_size, uint64_t max_blocks,
                               const std::function<void(uint64_t pfn, unsigned order)>& on_block) {
  CORONER_TRY(l, list_layout(info));
  CORONER_TRY(nodes, pgdats(info, memory));
  std::sort(spans.begin(), spans.end(), [](const MemMapSpan& a, const MemMapSpan& b) { return a.mem_map < b.mem_map; });
  uint64_t blocks = 0;
  for (uint64_t pgdat : nodes) {
    CORONER_TRY(nr_zones, memory.read_value<int32_t>(pgdat + l.nr_zones));
    if (nr_zones < 0 || nr_zones > kMaxZones)
      return make_error(Errc::corrupt, "pglist_data at {:#x}: nr_zones {} is implausible", pgdat, nr_zones);
    for (int32_t z = 0; z < nr_zones; ++z) {
      uint64_t zone = pgdat + l.node_zones + uint64_t(z) * l.zone_size;
      CORONER_TRY(spanned, memory.read_u64(zone + l.spanned_pages));
      if (spanned == 0) continue;
      for (uint64_t order = 0; order < l.orders; ++order) {
        for (uint64_t type = 0; type < l.migrate_types; ++type) {
          uint64_t head = zone + l.free_area + order * l.free_area_size + l.free_list + type * l.list_head_size;
          uint64_t previous = head;
          CORONER_TRY(first, memory.read_u64(head + l.next));
          for (uint64_t entry = first; entry != head;) {
            if (++blocks > max_blocks)
              return make_error(Errc::corrupt, "free list at {:#x}: more blocks than pages of RAM (a cycle?)", head);
            CORONER_TRY(back, memory.read_u64(entry + l.prev));
            if (back != previous)
              return make_error(Errc::corrupt, "free list at {:#x}: entry {:#x} does not point back", head, entry);
            auto pfn = pfn_of(spans, entry - l.page_lru, struct_page_size);
            if (!pfn)
              return make_error(Errc::corrupt, "free list at {:#x}: {:#x} is not a struct page", head, entry);
            on_block(*pfn, static_cast<unsigned>(order));
            previous = entry;
            CORONER_TRY(next, memory.read_u64(entry + l.next));
            entry = next;
          }
        }
      }
    }
  }
  return {};
}

}  // namespace coroner::capture
