// search: find a value in memory, as crash's
//   search [-s START] [-e END | -l LENGTH] [-k|-u|-p] [-m MASK] [-w|-h] VALUE...
// Kernel virtual memory (the default) is searched region by region: the
// direct map over every physical range of the dump (read straight from
// physical memory, reported at direct-map addresses), the kernel image
// [_text, _end), and every vmalloc area of vmap_area_root (modules
// included), translated page by page. -u searches the VMAs of the context
// task; -p physical memory. Pages the dump lacks are skipped. A FreeBSD
// minidump's kernel memory is its direct map and its kernel map.
#include "analyzer/os/freebsd/freebsd_kernel.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/os/linux/page_map.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/interrupt.hpp"
#include "commands/memory_reader.hpp"

#include <algorithm>
#include <cstring>
#include <ostream>
#include <unordered_set>

namespace coroner::commands {

namespace {

constexpr size_t kMaxMatches = size_t{1} << 20;
constexpr uint64_t kMaxAreaBytes = uint64_t{1} << 36;  // a vmalloc area beyond this is corrupt
constexpr uint64_t kChunkPages = 64;

struct Needle {
  uint64_t value = 0;
  std::string label;  // the symbol the value was given as, if any
};

struct SearchRequest {
  AddressSpace space = AddressSpace::kernel;
  uint64_t start = 0, end = ~uint64_t{0};  // [start, end)
  uint64_t mask = 0;                       // bits that do not matter
  unsigned width = 8;
  std::vector<Needle> needles;
};

// A virtual range and how its pages reach physical memory: linearly from
// `phys` (direct map, kernel image, -p), or by a walk of `root`'s tables.
struct Region {
  uint64_t start = 0, end = 0;
  std::optional<uint64_t> phys;
  std::optional<uint64_t> root;  // for walks: nullopt = the kernel's tables
};

Expected<SearchRequest> parse(const CommandContext& ctx, const Arguments& args) {
  SearchRequest r;
  std::optional<std::string_view> start_text, end_text, length_text;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Expected<std::string_view> {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "option {} needs a value", a);
      return std::string_view(args[++i]);
    };
    if (a == "-s") { CORONER_TRY(v, value()); start_text = v; }
    else if (a == "-e") { CORONER_TRY(v, value()); end_text = v; }
    else if (a == "-l") { CORONER_TRY(v, value()); length_text = v; }
    else if (a == "-m") {
      CORONER_TRY(v, value());
      CORONER_TRY(mask, parse_number(v, 16));
      r.mask = mask;
    } else if (a == "-k") r.space = AddressSpace::kernel;
    else if (a == "-u") r.space = AddressSpace::user;
    else if (a == "-p") r.space = AddressSpace::physical;
    else if (a == "-w") r.width = 4;
    else if (a == "-h") r.width = 2;
    else if (a.size() > 1 && a[0] == '-') return make_error(Errc::invalid_argument, "unknown option {}", a);
    else {
      Needle n;
      if (auto number = parse_number(a, 16)) n.value = *number;
      else {
        CORONER_TRY(address, parse_address(ctx.program, a));
        n.value = address, n.label = a;
      }
      if (r.width < 8 && n.value >> (8 * r.width))
        return make_error(Errc::invalid_argument, "value {} does not fit in {} bytes", a, r.width);
      r.needles.push_back(std::move(n));
    }
  }
  if (r.needles.empty()) return make_error(Errc::invalid_argument, "missing value (usage: search [options] VALUE...)");
  auto address = [&](std::string_view text) -> Expected<uint64_t> {
    return r.space == AddressSpace::kernel ? parse_address(ctx.program, text) : parse_number(text, 16);
  };
  if (start_text) {
    CORONER_TRY(start, address(*start_text));
    r.start = start & ~uint64_t{r.width - 1};
  }
  if (end_text && length_text) return make_error(Errc::invalid_argument, "-e and -l exclude each other");
  if (end_text) {
    CORONER_TRY(end, address(*end_text));
    r.end = end;
  }
  if (length_text) {
    CORONER_TRY(length, parse_number(*length_text, 10));
    r.end = r.start + length < r.start ? ~uint64_t{0} : r.start + length;
  }
  if (r.end <= r.start) return make_error(Errc::invalid_argument, "empty range [{:#x}, {:#x})", r.start, r.end);
  return r;
}

Expected<std::vector<Region>> kernel_regions(const Program& program) {
  std::vector<Region> regions;
  if (auto freebsd = freebsd_kernel::kernel_model(program)) {
    // A minidump: its direct map and the valid runs of its page-table section.
    CORONER_TRY(ranges, freebsd_kernel::kernel_ranges(**freebsd));
    for (const freebsd_kernel::KernelRange& range : ranges)
      regions.push_back({range.start, range.end, range.phys, std::nullopt});
    return regions;
  }
  const KernelMemory& memory = program.memory();
  const uint64_t page = program.arch().page_size();

  CORONER_TRY(base, linux_kernel::direct_map_base(program));
  // The base must agree with the page tables on a page that is mapped.
  for (const PhysRange& range : memory.physical().ranges()) {
    auto phys = memory.to_physical(base + range.start);
    if (!phys) continue;
    if (*phys != range.start)
      return make_error(Errc::corrupt, "direct map at {:#x} translates to {:#x}, not {:#x}", base + range.start, *phys,
                        range.start);
    break;
  }
  for (const PhysRange& range : memory.physical().ranges())
    if (range.size) regions.push_back({base + range.start, base + range.start + range.size, range.start, {}});

  auto text = program.symbol_address("_text");
  auto end = program.symbol_address("_end");
  if (text && end && *end > *text && *end - *text < kMaxAreaBytes)
    if (memory.to_physical(*text)) regions.push_back({*text, *end, std::nullopt, std::nullopt});

  // vmalloc areas, modules among them.
  CORONER_TRY(root, program.symbol_address("vmap_area_root"));
  CORONER_TRY(layout, linux_kernel::rbtree_layout(program));
  CORONER_TRY(node_offset, program.member_offset("struct vmap_area", "rb_node"));
  CORONER_TRY(start_offset, program.member_offset("struct vmap_area", "va_start"));
  CORONER_TRY(end_offset, program.member_offset("struct vmap_area", "va_end"));
  CORONER_TRY(nodes, linux_kernel::walk_rbtree(memory, layout, root, linux_kernel::RbOrder::linear));
  for (const auto& node : nodes) {
    uint64_t area = node.address - node_offset;
    CORONER_TRY(va_start, memory.read_u64(area + start_offset));
    CORONER_TRY(va_end, memory.read_u64(area + end_offset));
    if (va_end <= va_start || va_end - va_start > kMaxAreaBytes || va_start % page)
      return make_error(Errc::corrupt, "vmap_area {:#x}: implausible range [{:#x}, {:#x})", area, va_start, va_end);
    regions.push_back({va_start, va_end, std::nullopt, std::nullopt});
  }
  return regions;
}

// The VMAs of the context task, from its maple tree (6.1+) or mmap list.
Expected<std::vector<Region>> user_regions(const CommandContext& ctx) {
  const Program& program = ctx.program;
  CORONER_TRY(reader, MemoryReader::make(ctx, AddressSpace::user));
  CORONER_TRY(task, linux_kernel::find_task(program, *ctx.current_pid));
  CORONER_TRY(vm_start, program.member_offset("struct vm_area_struct", "vm_start"));
  CORONER_TRY(vm_end, program.member_offset("struct vm_area_struct", "vm_end"));
  std::vector<uint64_t> vmas;
  if (auto mt = program.member_offset("struct mm_struct", "mm_mt")) {
    CORONER_TRY(layout, linux_kernel::maple_tree_layout(program));
    CORONER_TRY(entries, linux_kernel::walk_maple_tree(program.memory(), layout, task.mm + *mt));
    for (const auto& e : entries) vmas.push_back(e.value);
  } else {
    CORONER_TRY(mmap, program.member_offset("struct mm_struct", "mmap"));
    CORONER_TRY(next_offset, program.member_offset("struct vm_area_struct", "vm_next"));
    CORONER_TRY(vma, program.memory().read_u64(task.mm + mmap));
    std::unordered_set<uint64_t> seen;
    while (vma) {
      if (vmas.size() >= linux_kernel::kDefaultTreeLimit || !seen.insert(vma).second)
        return make_error(Errc::corrupt, "VMA list of PID {} loops at {:#x}", task.pid, vma);
      vmas.push_back(vma);
      CORONER_TRY(next, program.memory().read_u64(vma + next_offset));
      vma = next;
    }
  }
  std::vector<Region> regions;
  for (uint64_t vma : vmas) {
    CORONER_TRY(start, program.memory().read_u64(vma + vm_start));
    CORONER_TRY(end, program.memory().read_u64(vma + vm_end));
    if (end <= start) return make_error(Errc::corrupt, "VMA {:#x}: empty range [{:#x}, {:#x})", vma, start, end);
    regions.push_back({start, end, std::nullopt, reader.root()});
  }
  return regions;
}

struct Match {
  uint64_t address, value;
  size_t needle;
};

class Scanner {
 public:
  Scanner(const Program& program, const SearchRequest& request) : program_(program), r_(request) {
    keep_ = ~request.mask & (request.width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * request.width)) - 1);
  }

  // Scans [start, end) of the region, clipped to the request's range.
  void scan(const Region& region) {
    const uint64_t page = program_.arch().page_size();
    uint64_t from = std::max(region.start, r_.start), to = std::min(region.end, r_.end);
    std::vector<std::byte> buffer;
    for (uint64_t v = from & ~(page - 1); v < to && !full() && !interrupted(); ) {
      uint64_t span = region.phys ? std::min<uint64_t>(kChunkPages * page, ((to - v + page - 1) & ~(page - 1))) : page;
      buffer.resize(span);
      if (region.phys) {
        uint64_t p = *region.phys + (v - region.start);
        if (program_.memory().physical().read(p, buffer)) {
          check(v, buffer, from, to);
        } else {  // some pages missing: page by page
          for (uint64_t off = 0; off < span; off += page) {
            std::span<std::byte> one(buffer.data() + off, page);
            if (program_.memory().physical().read(p + off, one)) check(v + off, one, from, to);
          }
        }
      } else if (auto p = program_.memory().to_physical(v, region.root)) {
        if (program_.memory().physical().read(*p, buffer)) check(v, buffer, from, to);
      }
      if (v + span < v) break;
      v += span;
    }
  }

  bool full() const { return matches.size() >= kMaxMatches; }
  std::vector<Match> matches;

 private:
  void check(uint64_t address, std::span<const std::byte> bytes, uint64_t from, uint64_t to) {
    for (size_t i = 0; i + r_.width <= bytes.size(); i += r_.width) {
      uint64_t at = address + i;
      if (at < from || at >= to) continue;
      uint64_t word = 0;
      std::memcpy(&word, bytes.data() + i, r_.width);
      for (size_t n = 0; n < r_.needles.size(); ++n)
        if (((word ^ r_.needles[n].value) & keep_) == 0 && !full()) {
          matches.push_back({at, word, n});
          break;
        }
    }
  }

  const Program& program_;
  const SearchRequest& r_;
  uint64_t keep_;
};

Expected<void> run_search(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(r, parse(ctx, args));
  std::vector<Region> regions;
  if (r.space == AddressSpace::kernel) {
    CORONER_TRY(found, kernel_regions(ctx.program));
    regions = std::move(found);
  } else if (r.space == AddressSpace::user) {
    CORONER_TRY(found, user_regions(ctx));
    regions = std::move(found);
  } else {
    for (const PhysRange& range : ctx.program.memory().physical().ranges())
      regions.push_back({range.start, range.end(), range.start, {}});
  }
  std::sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) { return a.start < b.start; });

  Scanner scanner(ctx.program, r);
  for (const Region& region : regions) {
    if (region.end <= r.start || region.start >= r.end) continue;
    scanner.scan(region);
  }
  CORONER_CHECK(check_interrupt());
  std::sort(scanner.matches.begin(), scanner.matches.end(),
            [](const Match& a, const Match& b) { return a.address < b.address; });

  if (ctx.json()) {
    nlohmann::json matches = nlohmann::json::array();
    for (const Match& m : scanner.matches) {
      nlohmann::json item = {{"address", fmt::format("{:#x}", m.address)}, {"value", fmt::format("{:#x}", m.value)}};
      if (!r.needles[m.needle].label.empty()) item["symbol"] = r.needles[m.needle].label;
      matches.push_back(std::move(item));
    }
    nlohmann::json doc = {{"space", address_space_name(r.space)}, {"matches", std::move(matches)}};
    if (scanner.full()) doc["truncated"] = true;
    ctx.emit(doc);
  } else {
    for (const Match& m : scanner.matches) {
      const std::string& label = r.needles[m.needle].label;
      ctx.out << fmt::format("{:x}: {:x}{}\n", m.address, m.value, label.empty() ? "" : " (" + label + ")");
    }
    if (scanner.full()) ctx.out << fmt::format("(stopped after {} matches)\n", kMaxMatches);
  }
  return {};
}

}  // namespace

Command search_command() {
  return {"search", "search memory for a value",
          "  search [-s START] [-e END | -l LENGTH] [-k|-u|-p] [-m MASK] [-w|-h] VALUE|SYMBOL...\n"
          "    -k  kernel virtual memory (default): the direct map of every physical range the dump\n"
          "        describes (reported at direct-map addresses), the kernel image [_text, _end), and\n"
          "        every vmalloc area of vmap_area_root, modules included; other mappings (vmemmap,\n"
          "        fixmap, per-CPU first chunks outside the direct map) are not searched\n"
          "    -u  the VMAs of the context task (set PID)   -p  physical memory\n"
          "    -s START, -e END, -l LENGTH  limit the range (kernel addresses may be symbols)\n"
          "    -m MASK  ignore the bits set in MASK      -w / -h  32-bit / 16-bit values\n"
          "  Values are hexadecimal or symbols; each match prints as ADDRESS: VALUE.\n"
          "  Pages the dump does not hold (filtered, not dumped) are skipped.\n"
          "  crash> search -k c0ffee11deadbeef\n"
          "  crash> search -s init_task -l 4096 init_task",
          run_search};
}

}  // namespace coroner::commands
