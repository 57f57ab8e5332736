// kmem's page and zone views: -p [ADDRESS] (struct pages: PAGE PHYSICAL
// MAPPING INDEX CNT FLAGS, every page of RAM without an address), -g
// [FLAGS] (enum pageflags: PAGE-FLAG BIT VALUE, those set in FLAGS), -f
// (each zone's free lists: BLOCKS and PAGES per order and migrate type),
// -z (each zone's size, watermarks and vm_stat counters).
#include "analyzer/os/linux/memory_summary.hpp"
#include "commands/interrupt.hpp"
#include "commands/kmem_views.hpp"

#include <ostream>
#include <sstream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

// crash's centered columns: the odd space goes right, or left with RJUST.
std::string centered(std::string_view text, size_t width, bool rjust = false) {
  if (text.size() >= width) return std::string(text);
  const size_t left = (width - text.size() + (rjust ? 1 : 0)) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(width - text.size() - left, ' ');
}

int64_t zone_free_pages(const linux_kernel::ZoneInfo& z) {
  for (const auto& c : z.vm_stat)
    if (c.name == "NR_FREE_PAGES") return c.value;
  return 0;
}

}  // namespace

std::string zone_free_area_lines(const linux_kernel::PageMap& pages, const linux_kernel::ZoneInfo& z) {
  // The zone's first struct page, and its index in its node's mem_map.
  uint64_t mem_map = 0, mapnr = 0;
  if (z.spanned) {
    mem_map = pages.page_of_pfn(z.start_pfn).value_or(0);
    auto node_map = pages.page_of_pfn(z.node_start_pfn);
    if (mem_map && node_map && mem_map >= *node_map) mapnr = (mem_map - *node_map) / pages.layout().size;
  }
  return fmt::format("ZONE  NAME        SIZE    FREE  {}  START_PADDR  START_MAPNR\n", centered("MEM_MAP", 16)) +
         fmt::format("{:3}   {:<9} {:6}  {:6}  {}  {}  {}\n", z.index, z.name, z.spanned, zone_free_pages(z),
                     centered(fmt::format("{:x}", mem_map), 16),
                     centered(fmt::format("{:x}", z.start_pfn * pages.page_size()), 11, true),
                     centered(fmt::format("{}", mapnr), 11, true));
}

std::string free_area_line(const linux_kernel::PageMap& pages, const linux_kernel::FreeList& l) {
  return fmt::format("{:3}  {:>7}  {}  ", l.order, fmt::format("{}k", (pages.page_size() << l.order) / 1024),
                     centered(fmt::format("{:x}", l.list), 16));
}

Expected<void> show_pages(CommandContext& ctx, std::optional<uint64_t> address) {
  const Program& program = ctx.program;
  CORONER_TRY(pages, linux_kernel::PageMap::of(program));
  std::vector<std::string> errors;
  nlohmann::json list = nlohmann::json::array();
  if (!ctx.json()) ctx.out << kPageHeader;
  auto show = [&](const linux_kernel::PageInfo& page) {
    if (ctx.json()) list.push_back(page_json(*pages, page));
    else ctx.out << page_line(*pages, page);
  };
  if (address) {
    auto page = page_of(program, *pages, *address, errors);
    if (!page && errors.empty()) return make_error(Errc::not_found, "{:#x}: not a struct page nor mapped to one", *address);
    if (page) show(*page);
  } else {
    for (const linux_kernel::MemMapSpan& span : pages->spans()) {
      CORONER_CHECK(check_interrupt());
      for (uint64_t pfn = span.pfn_start; pfn < span.pfn_end; ++pfn) {
        auto page = pages->read(program.memory(), span.mem_map + (pfn - span.pfn_start) * pages->layout().size);
        if (page) show(*page);
        else errors.push_back(page.error().message());
      }
    }
  }
  if (ctx.json()) {
    nlohmann::json doc = {{"pages", list}};
    if (!errors.empty()) doc["errors"] = errors;
    ctx.emit(doc);
    return {};
  }
  for (const std::string& e : errors) ctx.out << "kmem: " << e << '\n';
  return {};
}

Expected<void> show_page_flags(CommandContext& ctx, std::optional<uint64_t> flags) {
  CORONER_TRY(pages, linux_kernel::PageMap::of(ctx.program));
  nlohmann::json list = nlohmann::json::array();
  const std::string indent = flags ? "  " : "";
  if (!ctx.json()) {
    if (flags) ctx.out << fmt::format("FLAGS: {:x}\n", *flags);
    ctx.out << indent << "PAGE-FLAG         BIT  VALUE\n";
  }
  for (const auto& [name, bit] : pages->pageflags()) {
    if (flags && !((*flags >> bit) & 1)) continue;
    if (ctx.json()) list.push_back({{"flag", "PG_" + name}, {"bit", bit}, {"value", hex(uint64_t{1} << bit)}});
    else ctx.out << fmt::format("{}{:<18}{:>3}  {:06x}\n", indent, "PG_" + name, bit, uint64_t{1} << bit);
  }
  if (ctx.json()) {
    nlohmann::json doc = {{"flags", list}};
    if (flags) doc["value"] = hex(*flags);
    ctx.emit(doc);
  }
  return {};
}

Expected<void> show_free_lists(CommandContext& ctx, bool blocks) {
  CORONER_TRY(zones, linux_kernel::zones(ctx.program));
  CORONER_TRY(pages, linux_kernel::PageMap::of(ctx.program));
  std::vector<Error> errors;
  nlohmann::json list = nlohmann::json::array();
  int64_t sum = 0, found = 0;
  std::ostringstream out;
  for (const auto& z : zones) {
    const int64_t free = zone_free_pages(z);
    sum += free;
    if (z.index == 0 && z.several_nodes) {
      if (z.node) out << '\n' << std::string(74, '-') << '\n';
      out << fmt::format("{}NODE\n {:2}\n", z.node ? "\n" : "", z.node);
    }
    out << (z.index ? "\n" : "") << zone_free_area_lines(*pages, z);
    nlohmann::json areas = nlohmann::json::array();
    if (free) {
      CORONER_TRY(lists, linux_kernel::free_lists(ctx.program, z, errors, blocks));
      if (!blocks) out << "AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n";
      for (const auto& l : lists) {
        const uint64_t block_pages = uint64_t{1} << l.order;
        // -F: crash's header again above each list, then the list's blocks.
        if (blocks) out << "AREA    SIZE  FREE_AREA_STRUCT\n" << free_area_line(*pages, l) << '\n';
        else out << free_area_line(*pages, l) << fmt::format("{:6} {:6}\n", l.blocks, l.blocks * block_pages);
        for (uint64_t head : l.heads) out << fmt::format("{:x}\n", head);
        found += static_cast<int64_t>(l.blocks * block_pages);
        nlohmann::json area = {{"order", l.order}, {"type", l.type}, {"free_list", hex(l.list)}, {"blocks", l.blocks},
                               {"pages", l.blocks * block_pages}};
        if (blocks) {
          std::vector<std::string> heads;
          for (uint64_t head : l.heads) heads.push_back(hex(head));
          area["block_pages"] = heads;
        }
        areas.push_back(std::move(area));
      }
    }
    list.push_back({{"node", z.node}, {"zone", z.index}, {"name", z.name}, {"size", z.spanned}, {"free", free},
                    {"start_paddr", hex(z.start_pfn * pages->page_size())}, {"free_lists", areas}});
  }
  if (ctx.json()) {
    nlohmann::json doc = {{"zones", list}, {"nr_free_pages", sum}, {"found", found}};
    if (!errors.empty()) {
      std::vector<std::string> messages;
      for (const Error& e : errors) messages.push_back(e.message());
      doc["errors"] = messages;
    }
    ctx.emit(doc);
    return {};
  }
  ctx.out << out.str();
  ctx.out << fmt::format("\nnr_free_pages: {}  ", sum) << (sum == found ? "(verified)\n" : fmt::format("(found {})\n", found));
  for (const Error& e : errors) ctx.out << "kmem: " << e.message() << '\n';
  return {};
}

Expected<void> show_zones(CommandContext& ctx) {
  CORONER_TRY(zones, linux_kernel::zones(ctx.program));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& z : zones) {
      nlohmann::json stat = nlohmann::json::object();
      for (const auto& c : z.vm_stat) stat[c.name] = c.value;
      list.push_back({{"node", z.node}, {"zone", z.index}, {"address", hex(z.address)}, {"name", z.name},
                      {"size", z.spanned}, {"present", z.present}, {"min", z.min}, {"low", z.low}, {"high", z.high},
                      {"vm_stat", stat}});
    }
    ctx.emit({{"zones", list}});
    return {};
  }
  for (const auto& z : zones) {
    ctx.out << fmt::format("NODE: {}  ZONE: {}  ADDR: {:x}  NAME: \"{}\"\n", z.node, z.index, z.address, z.name);
    if (z.spanned == 0) {
      ctx.out << "  [unpopulated]\n\n";
      continue;
    }
    ctx.out << fmt::format("  SIZE: {}", z.spanned);
    if (z.present < z.spanned) ctx.out << fmt::format("  PRESENT: {}", z.present);
    ctx.out << fmt::format("  MIN/LOW/HIGH: {}/{}/{}\n  VM_STAT:\n", z.min, z.low, z.high);
    size_t width = 0;
    for (const auto& c : z.vm_stat) width = std::max(width, c.name.size());
    for (const auto& c : z.vm_stat) ctx.out << fmt::format("{:>{}}: {}\n", c.name, width, c.value);
    ctx.out << "\n\n";
  }
  return {};
}

}  // namespace coroner::commands
