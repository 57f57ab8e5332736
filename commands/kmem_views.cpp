#include "commands/kmem_views.hpp"

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

}  // namespace

std::string slab_cache_line(const linux_kernel::SlabCache& c) {
  std::string counts = c.total ? fmt::format("{:>9}  {:>8}  {:>5}", *c.allocated, *c.total, *c.slabs)
                               : fmt::format("{:>9}  {:>8}  {:>5}", "?", "?", "?");
  return fmt::format("{:<16x} {:>8}  {}  {:>4}k  {}\n", c.address, c.object_size, counts, c.slab_bytes / 1024, c.name);
}

nlohmann::json slab_cache_json(const linux_kernel::SlabCache& c) {
  nlohmann::json j = {{"cache", hex(c.address)},     {"name", c.name},
                      {"objsize", c.object_size},   {"size", c.size},
                      {"objects_per_slab", c.objects_per_slab}, {"slab_size", c.slab_bytes}};
  auto count = [](const std::optional<uint64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j["allocated"] = count(c.allocated), j["total"] = count(c.total), j["slabs"] = count(c.slabs);
  if (c.error) j["error"] = c.error->message();
  return j;
}

std::string slab_line(const linux_kernel::Slab& s) {
  return fmt::format("  {:<16x}  {:<16x}  {:>4}  {:>5}  {:>9}  {:>4}\n", s.slab, s.memory, s.node, s.objects, s.allocated,
                     s.free);
}

std::string slab_object_line(const linux_kernel::Slab& s, const linux_kernel::SlabObject& object) {
  if (!object.free) return fmt::format("  [{:x}]\n", object.address);
  return fmt::format("   {:x}  {}\n", object.address, s.cpu ? fmt::format("(cpu {} cache)", *s.cpu) : "");
}

nlohmann::json slab_json(const linux_kernel::Slab& s, bool objects) {
  nlohmann::json j = {{"slab", hex(s.slab)},   {"memory", hex(s.memory)}, {"node", s.node},
                      {"total", s.objects},    {"allocated", s.allocated}, {"free", s.free},
                      {"cpu", s.cpu ? nlohmann::json(*s.cpu) : nlohmann::json(nullptr)}};
  if (objects) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& o : s.object_list) list.push_back({{"address", hex(o.address)}, {"allocated", !o.free}});
    j["objects"] = list;
  }
  return j;
}

std::string page_line(const linux_kernel::PageMap& pages, const linux_kernel::PageInfo& p) {
  return fmt::format("{:<16x} {:>8x} {:>16x} {:>8x} {:>2} {}\n", p.page, p.pfn * pages.page_size(), p.mapping, p.index,
                     p.count, pages.describe_flags(p.flags));
}

nlohmann::json page_json(const linux_kernel::PageMap& pages, const linux_kernel::PageInfo& p) {
  nlohmann::json names = nlohmann::json::array();
  for (const linux_kernel::PageFlagName& f : pages.flag_names())
    if (p.flags & f.mask) names.push_back(f.name);
  return {{"page", hex(p.page)},   {"physical", hex(p.pfn * pages.page_size())}, {"mapping", hex(p.mapping)},
          {"index", hex(p.index)}, {"count", p.count}, {"flags", hex(p.flags)}, {"flag_names", names}};
}

std::optional<linux_kernel::PageInfo> page_of(const Program& program, const linux_kernel::PageMap& pages,
                                              uint64_t address, std::vector<std::string>& errors) {
  std::optional<uint64_t> page;
  if (pages.pfn_of_page(address)) {
    page = address;
  } else if (auto phys = program.memory().to_physical(address)) {
    page = pages.page_of_pfn(*phys / pages.page_size());
  }
  if (!page) return std::nullopt;
  auto info = pages.read(program.memory(), *page);
  if (!info) {
    errors.push_back(info.error().context("struct page").message());
    return std::nullopt;
  }
  return *info;
}

}  // namespace coroner::commands
