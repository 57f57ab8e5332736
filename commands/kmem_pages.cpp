// kmem's page and zone views: -p [ADDRESS] (struct pages: PAGE PHYSICAL
// MAPPING INDEX CNT FLAGS, every page of RAM without an address), -g
// [FLAGS] (enum pageflags: PAGE-FLAG BIT VALUE, those set in FLAGS), -z
// (each zone's size, watermarks and vm_stat counters).
#include "analyzer/os/linux/memory_summary.hpp"
#include "commands/interrupt.hpp"
#include "commands/kmem_views.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

}  // namespace

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
