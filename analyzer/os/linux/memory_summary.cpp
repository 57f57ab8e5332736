#include "analyzer/os/linux/memory_summary.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/block_devices.hpp"
#include "analyzer/os/linux/list_walk.hpp"
#include "analyzer/os/linux/page_map.hpp"


#include <algorithm>
#include <bit>
#include <cstring>
#include <span>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxFreeBlocks = size_t{1} << 32;  // more than any machine's pages
constexpr uint64_t kSwapUsed = 1;             // SWP_USED
constexpr uint64_t kMemMapChunk = 1 << 12;    // struct pages read at once

// The enumerators of `enum_name` up to (not including) `end`, by value.
Expected<std::vector<std::string>> enum_names(const Program& program, std::string_view enum_name,
                                              std::string_view end) {
  CORONER_TRY(types, kernel_types(program));
  CORONER_TRY(type, types->find_type(enum_name));
  CORONER_TRY(underlying, symbols::underlying(type));
  std::vector<std::string> names;
  for (const symbols::Enumerator& e : underlying->enumerators()) {
    if (e.name == end || e.value >= 1024) break;
    if (names.size() <= e.value) names.resize(e.value + 1);
    names[e.value] = e.name;
  }
  return names;
}

// The atomic_long_t counters of the global array `array`, named by `names`.
Expected<std::vector<VmStatCounter>> counters(const Program& program, std::string_view array,
                                              const std::vector<std::string>& names) {
  CORONER_TRY(symbol, program.kernel_symbol_address(array));
  std::vector<int64_t> values(names.size());
  CORONER_CHECK(program.memory().read(symbol, std::as_writable_bytes(std::span(values))));
  std::vector<VmStatCounter> result;
  for (size_t i = 0; i < names.size(); ++i) result.push_back({names[i], values[i]});
  return result;
}

// The per-CPU vm_event_states summed over the possible CPUs; none without
// CONFIG_VM_EVENT_COUNTERS.
Expected<void> event_counters(const Program& program, VmStat& stat) {
  auto events = find_kernel_global(program, "vm_event_states");
  if (!events || !events->per_cpu) return {};
  CORONER_TRY(names, enum_names(program, "enum vm_event_item", "NR_VM_EVENT_ITEMS"));
  CORONER_TRY(cpus, possible_cpus(program));
  std::vector<uint64_t> sums(names.size()), values(names.size());
  for (uint32_t cpu : cpus) {
    CORONER_TRY(instance, per_cpu(*events, cpu));
    CORONER_CHECK(program.memory().read(*instance.address(), std::as_writable_bytes(std::span(values))));
    for (size_t i = 0; i < values.size(); ++i) sums[i] += values[i];
  }
  for (size_t i = 0; i < names.size(); ++i) stat.events.push_back({names[i], static_cast<int64_t>(sums[i])});
  return {};
}

// Every pglist_data: node_data[] with NUMA, else contig_page_data.
std::vector<uint64_t> nodes(const Program& program) {
  std::vector<uint64_t> result;
  if (auto table = kernel_object(program, "node_data")) {
    auto bytes = table->byte_size();
    for (uint64_t n = 0; bytes && n < *bytes / 8; ++n) {
      auto pgdat = program.memory().read_u64(*table->address() + n * 8);
      if (pgdat && *pgdat) result.push_back(*pgdat);
    }
  } else if (auto contig = program.kernel_symbol_address("contig_page_data")) {
    result.push_back(*contig);
  }
  return result;
}

// The sum of every zone's vm_stat[NR_FREE_PAGES], as crash adds them.
Expected<uint64_t> zone_free_pages(const Program& program) {
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(zones, program.member_offset("struct pglist_data", "node_zones"));
  CORONER_TRY(zones_member, debug->find_member("struct pglist_data", "node_zones"));
  CORONER_TRY(zones_type, symbols::underlying(zones_member.type));
  CORONER_TRY(zone_size, program.type_size("struct zone"));
  CORONER_TRY(vm_stat_offset, program.member_offset("struct zone", "vm_stat"));
  CORONER_TRY(free_index, debug->find_enumerator("NR_FREE_PAGES"));
  const uint64_t zone_count = zones_type->length().value_or(0);
  uint64_t free = 0;
  for (uint64_t pgdat : nodes(program))
    for (uint64_t z = 0; z < zone_count; ++z) {
      CORONER_TRY(value, program.memory().read_u64(pgdat + zones + z * zone_size + vm_stat_offset + free_index * 8));
      free += value;
    }
  return free;
}

// Pages that are not reserved and have more than one reference: crash's
// SHARED, from every struct page of the dump's RAM.
Expected<uint64_t> shared_pages(const Program& program, std::vector<Error>& skipped) {
  CORONER_TRY(pages, PageMap::of(program));
  auto reserved_bit = pages->flag_bit("reserved");
  if (!reserved_bit) return make_error(Errc::unsupported, "enum pageflags has no PG_reserved");
  const PageLayout& l = pages->layout();
  uint64_t shared = 0;
  std::vector<std::byte> buffer;
  for (const MemMapSpan& span : pages->spans()) {
    for (uint64_t pfn = span.pfn_start; pfn < span.pfn_end; pfn += kMemMapChunk) {
      uint64_t count = std::min(kMemMapChunk, span.pfn_end - pfn);
      buffer.resize(count * l.size);
      uint64_t at = span.mem_map + (pfn - span.pfn_start) * l.size;
      if (auto read = program.memory().read(at, buffer); !read) {
        skipped.push_back(read.error().context(fmt::format("struct pages of pfns {:#x}-{:#x}", pfn, pfn + count - 1)));
        continue;
      }
      for (uint64_t i = 0; i < count; ++i) {
        uint64_t flags = 0;
        int32_t refs = 0;
        std::memcpy(&flags, buffer.data() + i * l.size + l.flags, 8);
        std::memcpy(&refs, buffer.data() + i * l.size + l.refcount, 4);
        if (!((flags >> *reserved_bit) & 1) && refs > 1) ++shared;
      }
    }
  }
  return shared;
}

// The kernel's nr_blockdev_pages(): the page cache of the block device
// inodes of blockdev_superblock.
Expected<uint64_t> blockdev_pages(const Program& program) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(i_mapping, program.member_offset("struct inode", "i_mapping"));
  CORONER_TRY(nrpages, program.member_offset("struct address_space", "nrpages"));
  uint64_t total = 0;
  CORONER_CHECK(for_each_block_device_inode(program, [&](uint64_t inode) -> Expected<void> {
    CORONER_TRY(mapping, memory.read_u64(inode + i_mapping));
    CORONER_TRY(pages, memory.read_u64(mapping + nrpages));
    total += pages;
    return {};
  }));
  return total;
}

// Pages of the swap cache: the address_spaces of swapper_spaces[] (4.9+),
// nr_swapper_spaces[i] of each.
Expected<uint64_t> swap_cache_pages(const Program& program) {
  const KernelMemory& memory = program.memory();
  auto spaces = kernel_object(program, "swapper_spaces");
  auto counts = kernel_object(program, "nr_swapper_spaces");
  if (!spaces || !counts) return 0;
  CORONER_TRY(space_size, program.type_size("struct address_space"));
  CORONER_TRY(nrpages, program.member_offset("struct address_space", "nrpages"));
  CORONER_TRY(bytes, counts->byte_size());
  uint64_t total = 0;
  for (uint64_t i = 0; i < bytes / 4; ++i) {
    CORONER_TRY(banks, memory.read_u32(*counts->address() + i * 4));
    CORONER_TRY(first, memory.read_u64(*spaces->address() + i * 8));
    if (banks == 0 || first == 0) continue;
    for (uint64_t j = 0; j < banks; ++j) {
      CORONER_TRY(pages, memory.read_u64(first + j * space_size + nrpages));
      total += pages;
    }
  }
  return total;
}

// The hugetlb pools, in base pages (none without hugetlbfs).
Expected<void> huge_pages(const Program& program, MemorySummary& s) {
  if (!program.kernel_symbol_address("hstates")) return {};
  CORONER_TRY(pools, huge_pools(program));
  for (const HugePool& pool : pools) s.huge_total += pool.total << pool.order, s.huge_free += pool.free << pool.order;
  return {};
}

// The swap devices in use (swap_info[] up to nr_swapfiles).
Expected<void> swap_devices(const Program& program, MemorySummary& s) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(count_symbol, program.kernel_symbol_address("nr_swapfiles"));
  CORONER_TRY(count, memory.read_u32(count_symbol));
  CORONER_TRY(table, kernel_object(program, "swap_info"));
  CORONER_TRY(flags, program.member_offset("struct swap_info_struct", "flags"));
  CORONER_TRY(pages, program.member_offset("struct swap_info_struct", "pages"));
  CORONER_TRY(inuse, program.member_offset("struct swap_info_struct", "inuse_pages"));
  CORONER_TRY(bytes, table.byte_size());
  for (uint64_t i = 0; i < count && i < bytes / 8; ++i) {
    CORONER_TRY(info, memory.read_u64(*table.address() + i * 8));
    if (info == 0) continue;
    CORONER_TRY(device_flags, memory.read_u32(info + flags));
    if (!(device_flags & kSwapUsed)) continue;
    CORONER_TRY(device_pages, memory.read_u32(info + pages));
    CORONER_TRY(used, memory.read_u32(info + inuse));
    s.swap_total += device_pages, s.swap_used += used;
  }
  return {};
}

// The overcommit limit (vm.overcommit_kbytes, else vm.overcommit_ratio of
// RAM outside the hugetlb pools, plus swap) and vm_committed_as.
Expected<void> commit(const Program& program, MemorySummary& s) {
  const KernelMemory& memory = program.memory();
  if (!program.kernel_symbol_address("sysctl_overcommit_memory")) return {};
  uint64_t kbytes = 0;
  if (auto symbol = program.kernel_symbol_address("sysctl_overcommit_kbytes")) {
    CORONER_TRY(value, memory.read_u64(*symbol));
    kbytes = value;
  }
  uint64_t allowed = 0;
  if (kbytes) {
    allowed = kbytes >> (std::countr_zero(s.page_size) - 10);
  } else {
    CORONER_TRY(ratio_symbol, program.kernel_symbol_address("sysctl_overcommit_ratio"));
    CORONER_TRY(ratio, memory.read_u32(ratio_symbol));
    allowed = (s.total_ram - s.huge_total) * static_cast<int32_t>(ratio) / 100;
  }
  s.commit_limit = allowed + s.swap_total;
  CORONER_TRY(committed_symbol, program.kernel_symbol_address("vm_committed_as"));
  CORONER_TRY(count_offset, program.member_offset("struct percpu_counter", "count"));
  CORONER_TRY(committed, memory.read_value<int64_t>(committed_symbol + count_offset));
  s.committed = std::max<int64_t>(committed, 0);
  return {};
}

// Runs a part of the summary; a part that fails is left at 0 and said.
void part(std::vector<Error>& skipped, std::string_view what, Expected<void> result) {
  if (!result) skipped.push_back(result.error().context(what));
}

}  // namespace

std::optional<int64_t> VmStat::find(std::string_view name) const {
  for (const auto* list : {&zone, &node, &numa})
    for (const VmStatCounter& c : *list)
      if (c.name == name) return c.value;
  return std::nullopt;
}

Expected<VmStat> vm_stat(const Program& program) {
  VmStat stat;
  if (program.kernel_symbol_address("vm_zone_stat")) {
    stat.zone_array = "vm_zone_stat";
    CORONER_TRY(zone_names, enum_names(program, "enum zone_stat_item", "NR_VM_ZONE_STAT_ITEMS"));
    CORONER_TRY(zone, counters(program, "vm_zone_stat", zone_names));
    CORONER_TRY(node_names, enum_names(program, "enum node_stat_item", "NR_VM_NODE_STAT_ITEMS"));
    CORONER_TRY(node, counters(program, "vm_node_stat", node_names));
    stat.zone = std::move(zone), stat.node = std::move(node);
    if (program.kernel_symbol_address("vm_numa_stat")) {
      auto numa_names = enum_names(program, "enum numa_stat_item", "NR_VM_NUMA_EVENT_ITEMS");
      if (!numa_names || numa_names->empty()) numa_names = enum_names(program, "enum numa_stat_item", "NR_VM_NUMA_STAT_ITEMS");
      if (numa_names && !numa_names->empty()) {
        CORONER_TRY(numa, counters(program, "vm_numa_stat", *numa_names));
        stat.numa = std::move(numa);
      }
    }
    CORONER_CHECK(event_counters(program, stat));
    return stat;
  }
  stat.zone_array = "vm_stat";
  CORONER_TRY(names, enum_names(program, "enum zone_stat_item", "NR_VM_ZONE_STAT_ITEMS"));
  CORONER_TRY(zone, counters(program, "vm_stat", names));
  stat.zone = std::move(zone);
  CORONER_CHECK(event_counters(program, stat));
  return stat;
}

Expected<std::vector<HugePool>> huge_pools(const Program& program) {
  auto hstates = kernel_object(program, "hstates");
  if (!hstates) return make_error(Errc::unsupported, "hstates[] array does not exist: the kernel has no hugetlbfs");
  CORONER_TRY(size, program.type_size("struct hstate"));
  CORONER_TRY(order, program.member_offset("struct hstate", "order"));
  CORONER_TRY(nr, program.member_offset("struct hstate", "nr_huge_pages"));
  CORONER_TRY(free, program.member_offset("struct hstate", "free_huge_pages"));
  CORONER_TRY(name, program.member_offset("struct hstate", "name"));
  CORONER_TRY(bytes, hstates->byte_size());
  std::vector<HugePool> pools;
  for (uint64_t i = 0; i < bytes / size; ++i) {
    HugePool pool;
    pool.hstate = *hstates->address() + i * size;
    CORONER_TRY(shift, program.memory().read_u32(pool.hstate + order));
    if (shift == 0 || shift >= 32) continue;  // an unused slot
    CORONER_TRY(total, program.memory().read_u64(pool.hstate + nr));
    CORONER_TRY(available, program.memory().read_u64(pool.hstate + free));
    pool.order = shift, pool.total = total, pool.free = available;
    pool.name = program.memory().read_string(pool.hstate + name, 32).value_or("");
    pools.push_back(std::move(pool));
  }
  return pools;
}

Expected<std::vector<MemoryNode>> memory_nodes(const Program& program) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(start_pfn, program.member_offset("struct pglist_data", "node_start_pfn"));
  CORONER_TRY(spanned, program.member_offset("struct pglist_data", "node_spanned_pages"));
  CORONER_TRY(present, program.member_offset("struct pglist_data", "node_present_pages"));
  auto node_id = program.member_offset("struct pglist_data", "node_id");
  std::vector<MemoryNode> result;
  for (uint64_t pgdat : nodes(program)) {
    MemoryNode node;
    node.pgdat = pgdat;
    node.id = static_cast<unsigned>(result.size());
    if (node_id)
      if (auto id = memory.read_u32(pgdat + *node_id)) node.id = *id;
    CORONER_TRY(first, memory.read_u64(pgdat + start_pfn));
    CORONER_TRY(spanned_pages, memory.read_u64(pgdat + spanned));
    CORONER_TRY(present_pages, memory.read_u64(pgdat + present));
    node.start_pfn = first, node.spanned = spanned_pages, node.present = present_pages;
    result.push_back(node);
  }
  return result;
}

Expected<std::vector<ZoneInfo>> zones(const Program& program) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(zones_offset, program.member_offset("struct pglist_data", "node_zones"));
  CORONER_TRY(zones_member, debug->find_member("struct pglist_data", "node_zones"));
  CORONER_TRY(zones_type, symbols::underlying(zones_member.type));
  CORONER_TRY(zone_size, program.type_size("struct zone"));
  CORONER_TRY(name, program.member_offset("struct zone", "name"));
  CORONER_TRY(spanned, program.member_offset("struct zone", "spanned_pages"));
  CORONER_TRY(present, program.member_offset("struct zone", "present_pages"));
  CORONER_TRY(start_pfn, program.member_offset("struct zone", "zone_start_pfn"));
  CORONER_TRY(node_start_pfn, program.member_offset("struct pglist_data", "node_start_pfn"));
  CORONER_TRY(vm_stat_offset, program.member_offset("struct zone", "vm_stat"));
  auto watermark = program.member_offset("struct zone", "_watermark");  // 5.0+
  if (!watermark) watermark = program.member_offset("struct zone", "watermark");
  if (!watermark) return watermark.error();
  CORONER_TRY(item_names, enum_names(program, "enum zone_stat_item", "NR_VM_ZONE_STAT_ITEMS"));
  auto mark = [&](std::string_view enumerator, int64_t fallback) {
    return debug->find_enumerator(enumerator).value_or(fallback);
  };
  const int64_t wmark_min = mark("WMARK_MIN", 0), wmark_low = mark("WMARK_LOW", 1), wmark_high = mark("WMARK_HIGH", 2);
  std::vector<ZoneInfo> result;
  const std::vector<uint64_t> pgdats = nodes(program);
  for (size_t n = 0; n < pgdats.size(); ++n) {
    for (uint64_t z = 0; z < zones_type->length().value_or(0); ++z) {
      ZoneInfo info;
      info.node = static_cast<unsigned>(n), info.index = static_cast<unsigned>(z);
      info.address = pgdats[n] + zones_offset + z * zone_size;
      CORONER_TRY(name_pointer, memory.read_u64(info.address + name));
      info.name = memory.read_string(name_pointer, 64).value_or("(unknown) ");
      CORONER_TRY(spanned_pages, memory.read_u64(info.address + spanned));
      CORONER_TRY(present_pages, memory.read_u64(info.address + present));
      CORONER_TRY(min, memory.read_u64(info.address + *watermark + 8 * wmark_min));
      CORONER_TRY(low, memory.read_u64(info.address + *watermark + 8 * wmark_low));
      CORONER_TRY(high, memory.read_u64(info.address + *watermark + 8 * wmark_high));
      info.spanned = spanned_pages, info.present = present_pages, info.min = min, info.low = low, info.high = high;
      CORONER_TRY(first_pfn, memory.read_u64(info.address + start_pfn));
      CORONER_TRY(node_first_pfn, memory.read_u64(pgdats[n] + node_start_pfn));
      info.start_pfn = first_pfn, info.node_start_pfn = node_first_pfn, info.several_nodes = pgdats.size() > 1;
      std::vector<int64_t> values(item_names.size());
      CORONER_CHECK(memory.read(info.address + vm_stat_offset, std::as_writable_bytes(std::span(values))));
      for (size_t i = 0; i < item_names.size(); ++i) info.vm_stat.push_back({item_names[i], values[i]});
      result.push_back(std::move(info));
    }
  }
  return result;
}

Expected<std::vector<FreeList>> free_lists(const Program& program, const ZoneInfo& zone, std::vector<Error>& errors,
                                           bool heads) {
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(free_area, program.member_offset("struct zone", "free_area"));
  CORONER_TRY(areas_member, debug->find_member("struct zone", "free_area"));
  CORONER_TRY(areas_type, symbols::underlying(areas_member.type));
  CORONER_TRY(area_size, program.type_size("struct free_area"));
  CORONER_TRY(list_offset, program.member_offset("struct free_area", "free_list"));
  CORONER_TRY(lists_member, debug->find_member("struct free_area", "free_list"));
  CORONER_TRY(lists_type, symbols::underlying(lists_member.type));
  CORONER_TRY(list_head_size, program.type_size("struct list_head"));
  CORONER_TRY(lru, program.member_offset("struct page", "lru"));  // the buddy list link
  const uint64_t orders = areas_type->length().value_or(0);
  const uint64_t types = lists_type->length().value_or(1);
  std::vector<FreeList> result;
  ListBudget budget{kMaxFreeBlocks};
  for (uint64_t order = 0; order < orders; ++order)
    for (uint64_t type = 0; type < types; ++type) {
      FreeList list;
      list.order = static_cast<unsigned>(order), list.type = static_cast<unsigned>(type);
      list.list = zone.address + free_area + order * area_size + list_offset + type * list_head_size;
      auto walked = walk_list(program.memory(), "free list", list.list, lru, budget, [&](uint64_t page) -> Expected<void> {
        ++list.blocks;
        if (heads) list.heads.push_back(page);
        return {};
      });
      result.push_back(list);
      if (!walked) {
        errors.push_back(walked.error().context(fmt::format("{} free_area[{}].free_list[{}]", zone.name, order, type)));
        return result;
      }
    }
  return result;
}

Expected<std::optional<FreeBlock>> free_block_of(const Program& program, uint64_t pfn) {
  CORONER_TRY(pages, PageMap::of(program));
  CORONER_TRY(lru, program.member_offset("struct page", "lru"));  // the buddy list link
  auto page = pages->page_of_pfn(pfn);
  if (!page) return std::optional<FreeBlock>();
  CORONER_TRY(all, zones(program));
  for (const ZoneInfo& zone : all) {
    if (pfn < zone.start_pfn || pfn - zone.start_pfn >= zone.spanned) continue;
    std::vector<Error> errors;
    CORONER_TRY(lists, free_lists(program, zone, errors));
    if (!errors.empty()) return errors.front();
    for (const FreeList& list : lists) {
      if (list.blocks == 0) continue;
      const uint64_t bytes = (uint64_t{1} << list.order) * pages->layout().size;
      std::optional<FreeBlock> found;
      ListBudget budget{list.blocks + 1};
      CORONER_CHECK(walk_list(program.memory(), "free list", list.list, lru, budget, [&](uint64_t head) {
        if (!found && *page >= head && *page - head < bytes)
          found = FreeBlock{zone, list, head, (*page - head) / pages->layout().size};
        return Expected<void>();
      }));
      if (found) return found;
    }
  }
  return std::optional<FreeBlock>();
}

Expected<MemorySummary> memory_summary(const Program& program) {
  MemorySummary s;
  s.page_size = program.arch().page_size();
  const KernelMemory& memory = program.memory();
  // _totalram_pages (an atomic_long_t, 5.0+), totalram_pages before.
  auto total_symbol = program.kernel_symbol_address("_totalram_pages");
  if (!total_symbol) total_symbol = program.kernel_symbol_address("totalram_pages");
  if (!total_symbol) return total_symbol.error();
  CORONER_TRY(total, memory.read_u64(*total_symbol));
  if (total == 0) return make_error(Errc::corrupt, "totalram_pages is 0");
  s.total_ram = total;
  CORONER_TRY(free, zone_free_pages(program));
  s.free = free;
  if (auto shared = shared_pages(program, s.skipped)) s.shared = *shared;
  else s.skipped.push_back(shared.error().context("SHARED"));
  if (auto buffers = blockdev_pages(program)) s.buffers = *buffers;
  else s.skipped.push_back(buffers.error().context("BUFFERS"));
  CORONER_TRY(stat, vm_stat(program));
  auto file_pages = stat.find("NR_FILE_PAGES");
  auto swap_cache = swap_cache_pages(program);
  if (!swap_cache) s.skipped.push_back(swap_cache.error().context("CACHED"));
  if (file_pages) {
    int64_t cached = *file_pages - static_cast<int64_t>(swap_cache.value_or(0)) - static_cast<int64_t>(s.buffers);
    s.cached = static_cast<uint64_t>(std::max<int64_t>(cached, 0));
  }
  // The slab counters count pages since 5.9 even where their names say bytes.
  for (std::string_view name : {"NR_SLAB_RECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE_B", "NR_SLAB_RECLAIMABLE",
                                "NR_SLAB_UNRECLAIMABLE", "NR_SLAB"})
    if (auto value = stat.find(name); value && *value > 0) s.slab += static_cast<uint64_t>(*value);
  part(s.skipped, "HUGE", huge_pages(program, s));
  s.has_swap = program.kernel_symbol_address("swapper_spaces").has_value() ||
               program.kernel_symbol_address("swapper_space").has_value();
  if (s.has_swap) part(s.skipped, "SWAP", swap_devices(program, s));
  part(s.skipped, "COMMIT", commit(program, s));
  return s;
}

}  // namespace coroner::linux_kernel
