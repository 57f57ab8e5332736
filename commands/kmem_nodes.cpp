// kmem's node views: -n (each memory node with its zones, then the memory
// sections: NR SECTION CODED_MEM_MAP MEM_MAP STATE PFN, then memory
// hotplug's blocks: MEM_BLOCK NAME PHYSICAL RANGE NODE STATE START_SECTION_NO) and -m MEMBERS
// (chosen struct page members of every page of RAM, as crash shows them).
#include "analyzer/os/linux/memory_blocks.hpp"
#include "analyzer/os/linux/memory_summary.hpp"
#include "commands/interrupt.hpp"
#include "commands/kmem_views.hpp"

#include <cstring>
#include <ostream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

std::string centered(std::string_view text, size_t width) {
  if (text.size() >= width) return std::string(text);
  const size_t left = (width - text.size()) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(width - text.size() - left, ' ');
}

// The section's SECTION_* flags as crash's letters: Present, has Memmap,
// Online, Early, zone Device (bits 0 to 4 since they were added).
std::string section_state(uint64_t flags) {
  std::string state;
  for (unsigned bit = 0; bit < 5; ++bit)
    if ((flags >> bit) & 1) state += "PMOED"[bit];
  return state;
}

// How crash shows a member: pointers and `flags` in hex, other integers in
// decimal, structures (atomic_t, list_head) as their words in hex.
enum class MemberKind { pointer, hex_integer, signed_integer, unsigned_integer, boolean, words };

struct Member {
  std::string name;
  uint64_t offset = 0, size = 0;
  MemberKind kind = MemberKind::unsigned_integer;
};

Expected<std::vector<Member>> page_members(const Program& program, std::string_view spec) {
  CORONER_TRY(debug, program.debug_info());
  std::vector<Member> members;
  for (size_t start = 0; start <= spec.size();) {
    size_t end = std::min(spec.find(',', start), spec.size());
    std::string name(spec.substr(start, end - start));
    start = end + 1;
    if (name.empty()) return make_error(Errc::invalid_argument, "kmem -m: empty member name in \"{}\"", spec);
    auto location = debug->find_member("struct page", name);
    if (!location) return make_error(Errc::invalid_argument, "invalid struct page member: {}", name);
    CORONER_TRY(type, symbols::underlying(location->type));
    CORONER_TRY(size, type->size());
    Member m{name, location->bit_offset / 8, size};
    const bool integer_size = size == 1 || size == 2 || size == 4 || size == 8;
    bool supported = !location->bit_size;
    switch (type->kind()) {
      case symbols::TypeKind::pointer: m.kind = MemberKind::pointer; break;
      case symbols::TypeKind::base:
      case symbols::TypeKind::enumeration:
        supported = supported && integer_size;
        if (type->encoding() == symbols::Encoding::boolean) m.kind = MemberKind::boolean;
        else if (name == "flags") m.kind = MemberKind::hex_integer;
        else m.kind = type->is_signed() ? MemberKind::signed_integer : MemberKind::unsigned_integer;
        break;
      case symbols::TypeKind::structure:
      case symbols::TypeKind::union_type:
        supported = supported && size && (size % 4 == 0 || size == 2);
        // crash shows the reference counts (_count, _mapcount: atomic_t) in decimal.
        m.kind = (name.starts_with("_count") || name.starts_with("_mapcount")) && size == 4 ? MemberKind::signed_integer
                                                                                            : MemberKind::words;
        break;
      default: supported = false;
    }
    if (!supported) return make_error(Errc::invalid_argument, "unsupported page member reference: page.{}", name);
    members.push_back(m);
  }
  return members;
}

// The member's value as crash prints it.
std::string member_text(const Member& m, std::span<const std::byte> bytes) {
  auto integer = [&](size_t at, size_t size) {
    uint64_t value = 0;
    std::memcpy(&value, bytes.data() + at, size);  // little-endian targets
    return value;
  };
  switch (m.kind) {
    case MemberKind::pointer: return fmt::format("{:016x}", integer(0, 8));
    case MemberKind::hex_integer: return fmt::format("{:0{}x}", integer(0, m.size), m.size * 2);
    case MemberKind::unsigned_integer: return fmt::format("{}", integer(0, m.size));
    case MemberKind::signed_integer: {
      const unsigned shift = 64 - 8 * static_cast<unsigned>(m.size);
      return fmt::format("{}", static_cast<int64_t>(integer(0, m.size) << shift) >> shift);
    }
    case MemberKind::boolean: {
      const uint64_t value = integer(0, 1);
      return value <= 1 ? (value ? "true" : "false") : fmt::format("{}", value);
    }
    case MemberKind::words: break;
  }
  const size_t word = m.size % 8 == 0 ? 8 : m.size % 4 == 0 ? 4 : 2;
  std::string text;
  for (size_t at = 0; at < m.size; at += word)
    text += fmt::format("{}{:0{}x}", at ? "," : "", integer(at, word), word * 2);
  return text;
}

// The memory blocks' table; crash's PHYSICAL RANGE needs the block size,
// else it shows PHYSICAL START.
void print_memory_blocks(std::ostream& out, const linux_kernel::MemoryBlocks& m, uint64_t section_bytes) {
  constexpr size_t kPaddrWidth = 8;
  const bool range = m.block_bytes.has_value();
  const bool nid = !m.blocks.empty() && m.blocks.front().nid;
  const std::string paddr = centered(range ? "PHYSICAL RANGE" : "PHYSICAL START", kPaddrWidth * 2 + (nid ? 2 : 0));
  out << '\n' << fmt::format("   {:<13}", "MEM_BLOCK") << ' ' << centered("NAME", 10) << "   " << paddr
      << (nid ? "   NODE  " : "    ") << "STATE   START_SECTION_NO\n";
  for (const linux_kernel::MemoryBlock& b : m.blocks) {
    const uint64_t start = b.start_section * section_bytes;
    const std::string where = range ? fmt::format("{:>{}x} - {:>{}x}", start, kPaddrWidth, start + *m.block_bytes - 1, kPaddrWidth)
                                    : centered(fmt::format("{:x}", start), kPaddrWidth * 2 + 3);
    out << fmt::format(" {:<16x} {} {} ", b.address, centered(b.name, nid ? 12 : 10), where);
    if (b.nid) out << centered(fmt::format("{}", *b.nid), 4) << ' ';
    out << fmt::format(" {:<7} {:<12}\n", linux_kernel::memory_block_state_name(b.state), b.start_section);
  }
}

}  // namespace

Expected<void> show_memory_nodes(CommandContext& ctx) {
  const Program& program = ctx.program;
  CORONER_TRY(nodes, linux_kernel::memory_nodes(program));
  CORONER_TRY(zones, linux_kernel::zones(program));
  CORONER_TRY(pages, linux_kernel::PageMap::of(program));
  const uint64_t page_size = pages->page_size();
  auto mem_map_of = [&](uint64_t pfn, uint64_t size) { return size ? pages->page_of_pfn(pfn).value_or(0) : 0; };
  const std::vector<linux_kernel::MemSection> sections = pages->locator().present_sections();
  CORONER_TRY(blocks, linux_kernel::memory_blocks(program));
  const uint64_t section_bytes = pages->locator().span_pages() * page_size;
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t n = 0; n < nodes.size(); ++n) {
      const linux_kernel::MemoryNode& node = nodes[n];
      nlohmann::json node_zones = nlohmann::json::array();
      for (const auto& z : zones)
        if (z.node == n)
          node_zones.push_back({{"zone", z.index}, {"address", hex(z.address)}, {"name", z.name}, {"size", z.spanned},
                                {"present", z.present}, {"mem_map", hex(mem_map_of(z.start_pfn, z.spanned))},
                                {"start_paddr", hex(z.start_pfn * page_size)}, {"start_mapnr", z.start_pfn}});
      list.push_back({{"node", node.id}, {"size", node.spanned}, {"present", node.present},
                      {"pglist_data", hex(node.pgdat)}, {"mem_map", hex(mem_map_of(node.start_pfn, node.spanned))},
                      {"start_paddr", hex(node.start_pfn * page_size)}, {"start_mapnr", node.start_pfn},
                      {"zones", node_zones}});
    }
    nlohmann::json section_list = nlohmann::json::array();
    for (const auto& s : sections)
      section_list.push_back({{"nr", s.nr}, {"section", hex(s.address)}, {"coded_mem_map", hex(s.coded)},
                              {"mem_map", hex(s.mem_map)}, {"state", section_state(s.flags)}, {"pfn", s.pfn}});
    nlohmann::json doc = {{"memory_model", pages->locator().model_name()}, {"nodes", list}, {"sections", section_list}};
    if (blocks) {
      nlohmann::json block_list = nlohmann::json::array();
      for (const auto& b : blocks->blocks) {
        nlohmann::json entry = {{"mem_block", hex(b.address)}, {"name", b.name},
                                {"start_paddr", hex(b.start_section * section_bytes)},
                                {"state", linux_kernel::memory_block_state_name(b.state)},
                                {"start_section_no", b.start_section}};
        if (blocks->block_bytes) entry["end_paddr"] = hex(b.start_section * section_bytes + *blocks->block_bytes - 1);
        if (b.nid) entry["node"] = *b.nid;
        block_list.push_back(std::move(entry));
      }
      doc["memory_blocks"] = block_list;
    }
    ctx.emit(doc);
    return {};
  }
  for (size_t n = 0; n < nodes.size(); ++n) {
    const linux_kernel::MemoryNode& node = nodes[n];
    std::vector<const linux_kernel::ZoneInfo*> node_zones;
    for (const auto& z : zones)
      if (z.node == n) node_zones.push_back(&z);
    ctx.out << (n ? "\n" : "") << "NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES   \n";
    // The bootmem allocator's bootmem_data left with 4.20 (memblock); crash prints "----" without it.
    ctx.out << fmt::format("{:>3}    {:<8} {:16x}        ----        {}\n", node.id, node.spanned, node.pgdat,
                           node_zones.empty() ? "" : fmt::format("{:x}", node_zones[0]->address));
    for (size_t z = 1; z < node_zones.size(); ++z) ctx.out << fmt::format("{:52}{:x}\n", "", node_zones[z]->address);
    ctx.out << centered("MEM_MAP", 16) << "     START_PADDR    START_MAPNR\n";
    ctx.out << fmt::format("{:x}     {}    {}\n", mem_map_of(node.start_pfn, node.spanned),
                           centered(fmt::format("{:x}", node.start_pfn * page_size), 11),
                           centered(fmt::format("{}", node.start_pfn), 11));
    ctx.out << "\nZONE  NAME         SIZE       MEM_MAP      START_PADDR  START_MAPNR\n";
    for (const linux_kernel::ZoneInfo* z : node_zones)
      ctx.out << fmt::format("{:>3}   {:<9}{:>8}  {:>16x}  {:>11x}  {:>11}\n", z->index, z->name, z->spanned,
                             mem_map_of(z->start_pfn, z->spanned), z->spanned ? z->start_pfn * page_size : 0,
                             z->spanned ? z->start_pfn : 0);
  }
  if (sections.empty()) return {};
  ctx.out << '\n' << std::string(67, '-') << "\n\n";
  ctx.out << "NR      SECTION        CODED_MEM_MAP        MEM_MAP       STATE PFN\n";
  for (const auto& s : sections)
    ctx.out << fmt::format("{:2}  {:16x}  {:16x}  {:16x}  {:<4}  {:<16}\n", s.nr, s.address, s.coded, s.mem_map,
                           section_state(s.flags), s.pfn);
  if (blocks) print_memory_blocks(ctx.out, *blocks, section_bytes);
  return {};
}

Expected<void> show_page_members(CommandContext& ctx, std::string_view spec) {
  const Program& program = ctx.program;
  CORONER_TRY(members, page_members(program, spec));
  CORONER_TRY(pages, linux_kernel::PageMap::of(program));
  std::vector<std::string> errors;
  nlohmann::json list = nlohmann::json::array();
  if (!ctx.json()) {
    ctx.out << centered("PAGE", 16);
    for (const Member& m : members) ctx.out << "  " << m.name;
    ctx.out << '\n';
  }
  std::vector<std::string> values(members.size());
  for (const linux_kernel::MemMapSpan& span : pages->spans()) {
    CORONER_CHECK(check_interrupt());
    for (uint64_t pfn = span.pfn_start; pfn < span.pfn_end; ++pfn) {
      const uint64_t page = span.mem_map + (pfn - span.pfn_start) * pages->layout().size;
      bool read = true;
      for (size_t i = 0; i < members.size() && read; ++i) {
        std::vector<std::byte> bytes(members[i].size);
        auto done = program.memory().read(page + members[i].offset, bytes);
        if (!done) errors.push_back(fmt::format("struct page at {:#x}: {}", page, done.error().message()));
        else values[i] = member_text(members[i], bytes);
        read = done.has_value();
      }
      if (!read) continue;
      if (ctx.json()) {
        nlohmann::json entry = {{"page", hex(page)}};
        for (size_t i = 0; i < members.size(); ++i) entry[members[i].name] = values[i];
        list.push_back(std::move(entry));
        continue;
      }
      // crash ends every value with two spaces, the last one too.
      ctx.out << fmt::format("{:x}  ", page);
      for (const std::string& value : values) ctx.out << value << "  ";
      ctx.out << '\n';
    }
  }
  if (ctx.json()) {
    std::vector<std::string> names;
    for (const Member& m : members) names.push_back(m.name);
    nlohmann::json doc = {{"members", names}, {"pages", list}};
    if (!errors.empty()) doc["errors"] = errors;
    ctx.emit(doc);
    return {};
  }
  for (const std::string& e : errors) ctx.out << "kmem: " << e << '\n';
  return {};
}

}  // namespace coroner::commands
