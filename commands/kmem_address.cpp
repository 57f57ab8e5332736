// kmem ADDRESS: what a kernel address is, in crash's order: the symbol that
// holds it (kernel image, modules); the vmalloc area (with the task whose
// vmapped stack it is); the slab object (its cache, slab and whether the
// object is free); the task whose task_struct or stack holds it; the free
// block of the buddy allocator that holds its page; then its struct page.
// Each part that does not apply is left out.
#include "analyzer/os/linux/task_stack.hpp"
#include "analyzer/os/linux/vmalloc_areas.hpp"
#include "commands/kmem_views.hpp"
#include "commands/task_selection.hpp"

#include <ostream>
#include <sstream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

constexpr std::string_view kVmallocHeader =
    "   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE\n";

// "1st", "2nd", "3rd", "4th", "11th", "21st".
std::string ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    else if (n % 10 == 2) suffix = "nd";
    else if (n % 10 == 3) suffix = "rd";
  }
  return fmt::format("{}{}", n, suffix);
}

bool in_kernel_image(const Program& program, uint64_t address) {
  auto text = program.symbol_address("_text");
  auto end = program.symbol_address("_end");
  return (text && end && address >= *text && address < *end) || program.module_at(address);
}

nlohmann::json task_json(const linux_kernel::TaskAddress& owner) {
  nlohmann::json j = task_header_json(owner.task);
  j["in"] = owner.in_stack ? "stack" : "task_struct";
  return j;
}

// The slab object block: the cache line, the slab line and the object.
void print_slab(std::ostream& out, const linux_kernel::SlabAddress& found) {
  out << kSlabCacheHeader << slab_cache_line(found.cache) << kSlabHeader << slab_line(found.slab);
  out << "  FREE / [ALLOCATED]\n";
  if (found.object.address) out << slab_object_line(found.slab, found.object);
}

nlohmann::json slab_address_json(const linux_kernel::SlabAddress& found) {
  nlohmann::json j = slab_json(found.slab, false);
  j["cache"] = slab_cache_json(found.cache);
  j["object"] = found.object.address ? nlohmann::json(hex(found.object.address)) : nlohmann::json(nullptr);
  if (found.object.address) j["object_allocated"] = !found.object.free;
  return j;
}

}  // namespace

Expected<void> show_kmem_address(CommandContext& ctx, uint64_t address) {
  const Program& program = ctx.program;
  nlohmann::json doc = {{"address", hex(address)}};
  std::vector<std::string> errors;
  std::ostringstream text;

  if (in_kernel_image(program, address))
    if (auto where = program.describe_address(address)) {
      text << fmt::format("{:x} ({}) {}\n\n", address, where->symbol->type, where->text());
      doc["symbol"] = {{"name", where->symbol->name}, {"offset", where->offset}, {"type", std::string(1, where->symbol->type)}};
      if (!where->module.empty()) doc["symbol"]["module"] = where->module;
    }

  auto owner = linux_kernel::task_holding(program, address);
  if (!owner) errors.push_back(owner.error().context("tasks").message());
  bool owner_shown = false;

  auto area = linux_kernel::vmalloc_area_of(program, address);
  if (!area) errors.push_back(area.error().context("vmalloc areas").message());
  if (area && *area) {
    const linux_kernel::VmallocArea& a = **area;
    if (owner && *owner && (*owner)->in_stack) {
      text << task_header((*owner)->task) << "\n\n";
      doc["task"] = task_json(**owner);
      owner_shown = true;
    }
    text << kVmallocHeader
         << fmt::format("{:<16x}  {:<16x}  {:x} - {:x}  {:>7}\n\n", a.vmap_area, a.vm_struct, a.start, a.end(), a.size);
    doc["vmalloc"] = {{"vmap_area", hex(a.vmap_area)}, {"vm_struct", hex(a.vm_struct)}, {"start", hex(a.start)},
                      {"end", hex(a.end())}, {"size", a.size}};
  }

  auto slab = linux_kernel::find_slab_address(program, address);
  if (!slab) errors.push_back(slab.error().context("slab").message());
  if (slab && *slab) {
    print_slab(text, **slab);
    text << '\n';
    doc["slab"] = slab_address_json(**slab);
  }

  if (!owner_shown && owner && *owner) {
    text << task_header((*owner)->task) << "\n\n";
    doc["task"] = task_json(**owner);
  }

  auto pages = linux_kernel::PageMap::of(program);
  std::optional<linux_kernel::PageInfo> page;
  if (pages) page = page_of(program, **pages, address, errors);
  else errors.push_back(pages.error().context("struct pages").message());

  // A free page: the buddy block that holds it, as kmem -f shows its zone and list.
  if (page) {
    auto block = linux_kernel::free_block_of(program, page->pfn);
    if (!block) errors.push_back(block.error().context("free lists").message());
    if (block && *block) {
      const linux_kernel::FreeBlock& b = **block;
      text << zone_free_area_lines(**pages, b.zone) << "AREA    SIZE  FREE_AREA_STRUCT\n"
           << free_area_line(**pages, b.list) << '\n' << fmt::format("{:x}  ", b.head);
      if (b.list.order) text << fmt::format("({:x} is {} of {} pages)", address, ordinal(b.index + 1), uint64_t{1} << b.list.order);
      text << "\n\n";
      doc["free"] = {{"zone", b.zone.name}, {"order", b.list.order}, {"free_list", hex(b.list.list)},
                     {"block", hex(b.head)}, {"page_index", b.index}};
    }
  }
  if (page) {
    text << kPageHeader << page_line(**pages, *page);
    doc["page"] = page_json(**pages, *page);
  } else {
    text << fmt::format("{:x}: kernel virtual address not found in mem map\n", address);
  }

  if (ctx.json()) {
    if (!errors.empty()) doc["errors"] = errors;
    ctx.emit(doc);
    return {};
  }
  ctx.out << text.str();
  for (const std::string& e : errors) ctx.out << "kmem: " << e << '\n';
  return {};
}

}  // namespace coroner::commands
