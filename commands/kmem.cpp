// kmem: the kernel's memory as crash's kmem shows it:
//   kmem -i             memory usage (PAGES TOTAL PERCENTAGE)
//   kmem -s [CACHE]     SLUB caches: CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME
//   kmem -S [CACHE]     their slabs and objects (kmem_slabs.cpp)
//   kmem -v             vmalloc areas: VMAP_AREA VM_STRUCT ADDRESS RANGE SIZE
//   kmem -V             the vm_stat counters
//   kmem -n, -m MEMBERS memory nodes and sections; struct page members (kmem_nodes.cpp)
//   kmem -z, -f, -F     zones, their free lists (and blocks); -p [ADDRESS] struct pages; -g [FLAGS] page flags
//                       (kmem_pages.cpp)
//   kmem -h             hugetlb pools
//   kmem ADDRESS        what the address is (kmem_address.cpp)
#include "analyzer/os/linux/memory_summary.hpp"
#include "analyzer/os/linux/vmalloc_areas.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/kmem_views.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "kmem -i | -v | -V | -n | -z | -f | -F | -h | -s|-S [CACHE] | -p [ADDRESS] | -m MEMBERS | -g [FLAGS] | ADDRESS";

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

// crash's sizes: "0", "820 KB", "392.8 MB", "2 GB" (no ".0").
std::string pages_to_size(uint64_t pages, uint64_t page_size) {
  if (pages == 0) return "0";
  double bytes = static_cast<double>(pages) * static_cast<double>(page_size);
  std::string text;
  if (bytes >= 1024.0 * 1024 * 1024) text = fmt::format("{:.1f} GB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024) text = fmt::format("{:.1f} MB", bytes / (1024.0 * 1024));
  else text = fmt::format("{} KB", static_cast<uint64_t>(bytes / 1024));
  if (auto at = text.find(".0 "); at != std::string::npos) text.erase(at, 2);
  return text;
}

void print_memory_summary(std::ostream& out, const linux_kernel::MemorySummary& s) {
  auto size = [&](uint64_t pages) { return pages_to_size(pages, s.page_size); };
  auto total_line = [&](std::string_view label, uint64_t pages) {
    out << fmt::format("{:>13}  {:>7}  {:>11}         ----\n", label, pages, size(pages));
  };
  auto part_line = [&](std::string_view label, uint64_t pages, uint64_t of, std::string_view whole) {
    out << fmt::format("{:>13}  {:>7}  {:>11}  {:>3}% of {}\n", label, pages, size(pages), of ? pages * 100 / of : 0,
                       whole);
  };
  out << "                 PAGES        TOTAL      PERCENTAGE\n";
  const uint64_t total = s.total_ram, used = s.total_ram >= s.free ? s.total_ram - s.free : 0;
  total_line("TOTAL MEM", total);
  part_line("FREE", s.free, total, "TOTAL MEM");
  part_line("USED", used, total, "TOTAL MEM");
  part_line("SHARED", s.shared, total, "TOTAL MEM");
  part_line("BUFFERS", s.buffers, total, "TOTAL MEM");
  part_line("CACHED", s.cached, total, "TOTAL MEM");
  part_line("SLAB", s.slab, total, "TOTAL MEM");
  out << '\n';
  total_line("TOTAL HUGE", s.huge_total);
  part_line("HUGE FREE", s.huge_free, s.huge_total, "TOTAL HUGE");
  out << '\n';
  if (s.has_swap) {
    total_line("TOTAL SWAP", s.swap_total);
    part_line("SWAP USED", s.swap_used, s.swap_total, "TOTAL SWAP");
    part_line("SWAP FREE", s.swap_total - s.swap_used, s.swap_total, "TOTAL SWAP");
  }
  if (s.commit_limit) {
    out << '\n';
    total_line("COMMIT LIMIT", *s.commit_limit);
    const uint64_t committed = static_cast<uint64_t>(s.committed);
    if (*s.commit_limit) part_line("COMMITTED", committed, *s.commit_limit, "TOTAL LIMIT");
    else total_line("COMMITTED", committed);
  }
  for (const Error& e : s.skipped) out << "kmem: skipped " << e.message() << '\n';
}

Expected<void> show_memory_summary(CommandContext& ctx) {
  CORONER_TRY(s, linux_kernel::memory_summary(ctx.program));
  if (!ctx.json()) {
    print_memory_summary(ctx.out, s);
    return {};
  }
  nlohmann::json doc = {{"page_size", s.page_size},   {"total_mem", s.total_ram}, {"free", s.free},
                        {"used", s.total_ram - std::min(s.free, s.total_ram)},
                        {"shared", s.shared},         {"buffers", s.buffers},     {"cached", s.cached},
                        {"slab", s.slab},             {"total_huge", s.huge_total}, {"huge_free", s.huge_free}};
  if (s.has_swap) doc["total_swap"] = s.swap_total, doc["swap_used"] = s.swap_used;
  if (s.commit_limit) doc["commit_limit"] = *s.commit_limit, doc["committed"] = s.committed;
  if (!s.skipped.empty()) {
    std::vector<std::string> errors;
    for (const Error& e : s.skipped) errors.push_back(e.message());
    doc["errors"] = errors;
  }
  ctx.emit(doc);
  return {};
}

// The caches -s and -S show: all, or the one named or at that address.
Expected<linux_kernel::SlabCacheList> selected_caches(CommandContext& ctx, const std::vector<std::string>& names) {
  if (names.size() > 1) return make_error(Errc::invalid_argument, "only one kmem_cache reference is allowed");
  if (names.empty()) return linux_kernel::slab_caches(ctx.program);
  linux_kernel::SlabCacheList selected;
  if (auto address = parse_number(names[0], 16); address && *address > 0xffff) {
    CORONER_TRY(cache, linux_kernel::read_slab_cache(ctx.program, *address));
    selected.caches.push_back(std::move(cache));
    return selected;
  }
  CORONER_TRY(list, linux_kernel::slab_caches(ctx.program));
  for (linux_kernel::SlabCache& c : list.caches)
    if (c.name == names[0]) selected.caches.push_back(std::move(c));
  if (selected.caches.empty()) return make_error(Errc::not_found, "no kmem_cache named '{}'", names[0]);
  return selected;
}

Expected<void> show_slab_caches(CommandContext& ctx, const std::vector<std::string>& names) {
  CORONER_TRY(selected, selected_caches(ctx, names));
  const std::vector<linux_kernel::SlabCache>& caches = selected.caches;
  const std::vector<Error>& skipped = selected.skipped;
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : caches) list.push_back(slab_cache_json(c));
    nlohmann::json doc = {{"caches", list}};
    if (!skipped.empty()) {
      std::vector<std::string> errors;
      for (const Error& e : skipped) errors.push_back(e.message());
      doc["errors"] = errors;
    }
    ctx.emit(doc);
    return {};
  }
  ctx.out << kSlabCacheHeader;
  for (const auto& c : caches) ctx.out << slab_cache_line(c);
  for (const auto& c : caches)
    if (c.error) ctx.out << "kmem: " << c.error->message() << ": cannot gather relevant slab data\n";
  for (const Error& e : skipped) ctx.out << "kmem: skipped " << e.message() << '\n';
  return {};
}

Expected<void> show_vmalloc_areas(CommandContext& ctx) {
  CORONER_TRY(areas, linux_kernel::vmalloc_areas(ctx.program));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : areas)
      list.push_back({{"vmap_area", hex(a.vmap_area)}, {"vm_struct", hex(a.vm_struct)}, {"start", hex(a.start)},
                      {"end", hex(a.end())}, {"size", a.size}});
    ctx.emit({{"areas", list}});
    return {};
  }
  ctx.out << "   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE\n";
  for (const auto& a : areas)
    ctx.out << fmt::format("{:<16x}  {:<16x}  {:x} - {:x}  {:>7}\n", a.vmap_area, a.vm_struct, a.start, a.end(), a.size);
  return {};
}

Expected<void> show_vm_stat(CommandContext& ctx) {
  CORONER_TRY(stat, linux_kernel::vm_stat(ctx.program));
  const std::vector<std::pair<std::string, const std::vector<linux_kernel::VmStatCounter>*>> groups = {
      {stat.zone_array == "vm_stat" ? "VM_STAT" : "VM_ZONE_STAT", &stat.zone},
      {"VM_NODE_STAT", &stat.node},
      {"VM_NUMA_STAT", &stat.numa},
      {"VM_EVENT_STATES", &stat.events}};
  if (ctx.json()) {
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [title, counters] : groups) {
      if (counters->empty()) continue;
      nlohmann::json values = nlohmann::json::object();
      for (const auto& c : *counters) values[c.name] = c.value;
      doc[title] = values;
    }
    ctx.emit(doc);
    return {};
  }
  size_t width = 0;
  for (const auto& [title, counters] : groups)
    if (counters != &stat.events)
      for (const auto& c : *counters) width = std::max(width, c.name.size());
  bool first = true;
  for (const auto& [title, counters] : groups) {
    if (counters->empty() || counters == &stat.events) continue;
    ctx.out << (first ? "" : "\n") << "  " << title << ":\n";
    first = false;
    for (const auto& c : *counters) ctx.out << fmt::format("{:>{}}: {}\n", c.name, width, c.value);
  }
  // The event counters are aligned among themselves.
  if (!stat.events.empty()) {
    ctx.out << "\n  VM_EVENT_STATES:\n";
    size_t event_width = 0;
    for (const auto& c : stat.events) event_width = std::max(event_width, c.name.size());
    for (const auto& c : stat.events)
      ctx.out << fmt::format("{:>{}}: {}\n", c.name, event_width, static_cast<uint64_t>(c.value));
  }
  return {};
}

Expected<void> show_huge_pools(CommandContext& ctx) {
  CORONER_TRY(pools, linux_kernel::huge_pools(ctx.program));
  const uint64_t page_size = ctx.program.arch().page_size();
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : pools)
      list.push_back({{"hstate", hex(p.hstate)}, {"size", page_size << p.order}, {"free", p.free},
                      {"total", p.total}, {"name", p.name}});
    ctx.emit({{"hstates", list}});
    return {};
  }
  ctx.out << "     HSTATE        SIZE    FREE   TOTAL  NAME\n";
  for (const auto& p : pools) {
    std::string size = pages_to_size(uint64_t{1} << p.order, page_size);
    if (auto space = size.find(' '); space != std::string::npos) size.erase(space, 1);  // "2MB"
    ctx.out << fmt::format("{:x}  {:>5}  {:>6}  {:>6}  {}\n", p.hstate, size, p.free, p.total, p.name);
  }
  return {};
}

Expected<void> run_kmem(CommandContext& ctx, const Arguments& args) {
  char mode = 0;
  std::vector<std::string> words;
  for (const std::string& a : args) {
    if (a.size() == 2 && a[0] == '-' && std::string_view("isSvVpgzhfFnm").find(a[1]) != std::string_view::npos) {
      if (mode && mode != a[1])
        return make_error(Errc::invalid_argument, "-{} and {} exclude each other (usage: {})", mode, a, kUsage);
      mode = a[1];
    } else if (a.starts_with("-")) {
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", a, kUsage);
    } else {
      words.push_back(a);
    }
  }
  switch (mode) {
    case 'i':
    case 'v':
    case 'V':
      if (!words.empty()) return make_error(Errc::invalid_argument, "-{} takes no argument (usage: {})", mode, kUsage);
      return mode == 'i' ? show_memory_summary(ctx) : mode == 'v' ? show_vmalloc_areas(ctx) : show_vm_stat(ctx);
    case 'z':
    case 'h':
    case 'f':
    case 'F':
    case 'n':
      if (!words.empty()) return make_error(Errc::invalid_argument, "-{} takes no argument (usage: {})", mode, kUsage);
      if (mode == 'n') return show_memory_nodes(ctx);
      return mode == 'z' ? show_zones(ctx) : mode == 'h' ? show_huge_pools(ctx) : show_free_lists(ctx, mode == 'F');
    case 'm':
      if (words.size() != 1)
        return make_error(Errc::invalid_argument, "-m takes one comma-separated list of struct page members (usage: {})",
                          kUsage);
      return show_page_members(ctx, words[0]);
    case 'p':
    case 'g': {
      if (words.size() > 1) return make_error(Errc::invalid_argument, "-{} takes one argument (usage: {})", mode, kUsage);
      std::optional<uint64_t> value;
      if (!words.empty()) {
        CORONER_TRY(number, mode == 'p' ? parse_address(ctx.program, words[0]) : parse_number(words[0], 16));
        value = number;
      }
      return mode == 'p' ? show_pages(ctx, value) : show_page_flags(ctx, value);
    }
    case 's':
      return show_slab_caches(ctx, words);
    case 'S': {
      CORONER_TRY(selected, selected_caches(ctx, words));
      for (const Error& e : selected.skipped) ctx.out << "kmem: skipped " << e.message() << '\n';
      return show_cache_slabs(ctx, selected.caches);
    }
    default:
      break;
  }
  if (words.size() != 1) return make_error(Errc::invalid_argument, "missing option or address (usage: {})", kUsage);
  CORONER_TRY(address, parse_address(ctx.program, words[0]));
  return show_kmem_address(ctx, address);
}

}  // namespace

Command kmem_command() {
  return {"kmem", "kernel memory: usage summary, slab caches, vmalloc areas, what an address is",
          "  kmem -i | -v | -V | -n | -z | -f | -F | -h | -s|-S [CACHE] | -p [ADDRESS] | -m MEMBERS | -g [FLAGS] |\n"
          "       ADDRESS\n"
          "    -i         memory usage: TOTAL MEM, FREE, USED, SHARED, BUFFERS, CACHED, SLAB, the hugetlb\n"
          "               pools, swap, the overcommit limit and what is committed (PAGES TOTAL PERCENTAGE)\n"
          "    -s [CACHE] SLUB caches, or the one named (or at that kmem_cache address):\n"
          "               CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME, counted as crash counts them\n"
          "    -S [CACHE] the same, then each CPU's KMEM_CACHE_CPU, its SLAB (every object: [ALLOCATED] or\n"
          "               FREE, \"(cpu N cache)\" on a CPU's lockless freelist) and PARTIAL slabs, and each\n"
          "               KMEM_CACHE_NODE (NODE SLABS PARTIAL PER-CPU) with its PARTIAL and FULL lists\n"
          "    -v         vmalloc areas: VMAP_AREA VM_STRUCT ADDRESS RANGE SIZE\n"
          "    -V         the vm_stat counters (VM_ZONE_STAT, VM_NODE_STAT, VM_NUMA_STAT) and the per-CPU\n"
          "               VM_EVENT_STATES summed over the CPUs\n"
          "    -n         each memory node (NODE SIZE PGLIST_DATA BOOTMEM_DATA NODE_ZONES, its MEM_MAP\n"
          "               START_PADDR START_MAPNR) and its zones, then every present memory section\n"
          "               (NR SECTION CODED_MEM_MAP MEM_MAP STATE PFN; STATE: Present, Memmap, Online,\n"
          "               Early, zone Device), then memory hotplug's blocks (MEM_BLOCK NAME PHYSICAL RANGE\n"
          "               NODE STATE START_SECTION_NO)\n"
          "    -z         each zone: SIZE, PRESENT, MIN/LOW/HIGH watermarks and its VM_STAT counters\n"
          "    -f         each zone's free lists: AREA SIZE FREE_AREA_STRUCT BLOCKS PAGES per order and\n"
          "               migrate type, then nr_free_pages, \"(verified)\" when the lists add up to it\n"
          "    -F         the same with every free block of each list (its first struct page)\n"
          "    -h         the hugetlb pools: HSTATE SIZE FREE TOTAL NAME (an error without hugetlbfs)\n"
          "    -p [ADDRESS] the struct page of ADDRESS (a struct page, or an address mapped to one):\n"
          "               PAGE PHYSICAL MAPPING INDEX CNT FLAGS; without ADDRESS every page of RAM\n"
          "    -m MEMBERS the struct page members named (\"flags,_refcount\") of every page of RAM, in hex\n"
          "    -g [FLAGS] enum pageflags: PAGE-FLAG BIT VALUE, only those set in FLAGS (hex) when given\n"
          "    ADDRESS    what the address is: the symbol that holds it, its vmalloc area, the slab object\n"
          "               (cache, SLAB MEMORY NODE TOTAL ALLOCATED FREE, [OBJECT] when allocated), the\n"
          "               task whose task_struct or stack holds it, and its struct page\n"
          "               (PAGE PHYSICAL MAPPING INDEX CNT FLAGS); ADDRESS may be a symbol\n"
          "  crash> kmem -i\n"
          "  crash> kmem -s kmalloc-64\n"
          "  crash> kmem ffff888004257400",
          run_kmem};
}

}  // namespace coroner::commands
