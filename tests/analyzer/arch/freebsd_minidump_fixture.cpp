#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"

#include "capture/format/byte_order.hpp"
#include "tests/support/kernel_memory_fixture.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>

namespace coroner::test {
namespace {

using freebsd::MinidumpArch;

constexpr uint64_t kGiB = uint64_t{1} << 30, k2MiB = uint64_t{1} << 21;
constexpr uint64_t kX86Valid = 1, kX86PageSize = 1 << 7, kX86Frame = 0x000ffffffffff000ULL;
// A synthesized arm64 L3 page: VALID|PAGE, inner shareable, AF (FreeBSD's
// ATTR_AF | ATTR_SH(ATTR_SH_IS) | L3_PAGE).
constexpr uint64_t kArm64PageBits = 0x703;

uint64_t align_down(uint64_t value, uint64_t align) { return value / align * align; }

struct Builder {
  const DumpCase& fixture;
  OpenedKernel linux;
  uint64_t page = 0;
  FixtureMinidump out;

  Expected<uint64_t> entry(uint64_t paddr) const {
    uint64_t value = 0;
    CORONER_CHECK(linux.dump->read(paddr, std::as_writable_bytes(std::span(&value, 1))));
    return value;
  }

  void include_page(uint64_t paddr) {
    uint64_t base = align_down(paddr, page);
    if (out.contents.pages.count(base)) return;
    std::vector<std::byte> bytes(page);
    if (!linux.dump->read(base, bytes)) return;  // filtered out of the Linux dump: not dumped here either
    out.contents.pages[base] = std::move(bytes);
  }

  // The kernel virtual addresses the tests read, with their expected bytes.
  void collect_samples() {
    const auto& facts = fixture.facts();
    for (const auto& sample : facts["memory_samples"]) {
      MinidumpSample s{sample["kind"].get<std::string>(), hex_value(sample["vaddr"]), 0,
                       sample["len"].get<size_t>(), sample["sha256"].get<std::string>()};
      out.samples.push_back(s);
    }
    uint64_t magic = hex_value(facts["values"]["fx_magic"]);
    std::array<std::byte, 8> raw{};
    store_le64(raw.data(), magic);
    out.samples.push_back({"fx_magic", hex_value(facts["symbols"]["fx_magic"]), 0, 8, sha256_hex(raw.data(), 8)});
    std::string banner = facts["values"]["linux_banner"].get<std::string>();
    out.samples.push_back({"linux_banner", hex_value(facts["symbols"]["linux_banner"]), 0, banner.size(),
                           sha256_hex(banner.data(), banner.size())});
    for (MinidumpSample& s : out.samples) {
      auto paddr = linux.memory->to_physical(s.vaddr);
      if (!paddr) FAIL(fixture.id << ": " << s.what << ": " << paddr.error().message());
      s.paddr = *paddr;
      for (uint64_t va = align_down(s.vaddr, page); va < s.vaddr + s.length; va += page) {
        auto pa = linux.memory->to_physical(va);
        if (pa) include_page(*pa);
      }
    }
  }

  // [min, max] of the kernel-window (not direct-map) sample addresses.
  std::pair<uint64_t, uint64_t> kernel_window() const {
    uint64_t low = ~uint64_t{0}, high = 0;
    for (const MinidumpSample& s : out.samples) {
      if (s.what == "direct-map") continue;
      low = std::min(low, s.vaddr);
      high = std::max(high, s.vaddr + s.length);
    }
    return {low, high};
  }

  std::vector<std::pair<uint64_t, uint64_t>> ram() const {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const PhysRange& r : linux.dump->ranges()) {
      if (!ranges.empty() && ranges.back().second == r.start) ranges.back().second = r.end();
      else ranges.emplace_back(r.start, r.end());
    }
    return ranges;
  }

  // amd64 v2/v3: the PDE of each 2 MiB of the window, as the writer takes
  // it from the kernel's page directory (a 1 GiB page becomes 512
  // synthesized 2 MiB PDEs); v1: one PTE per 4 KiB.
  void amd64_page_table(uint32_t version) {
    auto [low, high] = kernel_window();
    uint64_t kernbase = align_down(low, kGiB);
    uint64_t slots = (high - 1 - kernbase) / kGiB + 1;
    out.contents.header.kernbase = kernbase;
    std::vector<uint64_t> pdes(slots * 512);
    auto reader = [this](uint64_t paddr) { return entry(paddr); };
    for (uint64_t j = 0; j < pdes.size(); ++j) {
      uint64_t va = kernbase + j * k2MiB;
      arch::Translation t = linux.arch->translate(linux.arch->kernel_root(), va, reader);
      for (const arch::WalkStep& step : t.steps) {
        if (step.level == "PMD") pdes[j] = step.entry;
        if (step.level == "PUD" && (step.entry & kX86Valid) && (step.entry & kX86PageSize))
          pdes[j] = (step.entry & 0x000fffffc0000000ULL) + (va & (kGiB - 1)) + (step.entry & 0xfff);
      }
      if ((pdes[j] & kX86Valid) && !(pdes[j] & kX86PageSize)) include_page(pdes[j] & kX86Frame);
    }
    if (version >= 2) {
      out.contents.page_table = std::move(pdes);
      return;
    }
    std::vector<uint64_t>& ptes = out.contents.page_table;
    ptes.assign(pdes.size() * 512, 0);
    for (uint64_t j = 0; j < pdes.size(); ++j) {
      uint64_t pde = pdes[j];
      if (!(pde & kX86Valid)) continue;
      for (uint64_t k = 0; k < 512; ++k) {
        if (pde & kX86PageSize) {
          ptes[j * 512 + k] = ((pde & 0x000fffffffe00000ULL) + k * 4096) | (pde & 0x63);
        } else if (auto pte = entry((pde & kX86Frame) + k * 8)) {
          ptes[j * 512 + k] = *pte;
        }
      }
    }
  }

  // arm64: one L3 entry per page from kernbase, a whole number of L2 blocks.
  void arm64_page_table() {
    auto [low, high] = kernel_window();
    uint64_t l2 = page * (page / 8);
    uint64_t kernbase = align_down(low, l2);
    uint64_t end = align_down(high - 1, l2) + l2;
    out.contents.header.kernbase = kernbase;
    std::vector<uint64_t>& l3 = out.contents.page_table;
    l3.assign((end - kernbase) / page, 0);
    for (uint64_t n = 0; n < l3.size(); ++n) {
      auto pa = linux.memory->to_physical(kernbase + n * page);
      if (pa) l3[n] = align_down(*pa, page) | kArm64PageBits;
    }
  }

  // The direct map over all RAM: amd64 at PA 0, arm64 at the first RAM byte.
  void direct_map(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    freebsd::MinidumpHeader& h = out.contents.header;
    uint64_t va_of_zero = 0;
    if (h.arch == MinidumpArch::arm64) {
      va_of_zero = linux.arch->linear_map_base().value();
      h.dmap_phys = ranges.front().first;
    } else {
      for (const MinidumpSample& s : out.samples)
        if (s.what == "direct-map") va_of_zero = s.vaddr - s.paddr;
    }
    h.dmap_base = va_of_zero + h.dmap_phys;
    h.dmap_end = h.dmap_base + (ranges.back().second - h.dmap_phys);
  }

  // dump_avail: the RAM ranges with two pages cut out of the largest one,
  // away from every dumped page; `not_dumped` is a page after the cut.
  void dump_avail(std::vector<std::pair<uint64_t, uint64_t>> ranges) {
    auto largest = std::max_element(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) {
      return a.second - a.first < b.second - b.first;
    });
    uint64_t cut = align_down(largest->first + (largest->second - largest->first) / 2, page);
    auto clear = [&](uint64_t at) {
      auto next = out.contents.pages.lower_bound(at);
      return next == out.contents.pages.end() || next->first >= at + 8 * page;
    };
    while (!clear(cut)) cut += 8 * page;
    uint64_t end = largest->second;
    largest->second = cut;
    ranges.insert(largest + 1, {cut + 2 * page, end});
    out.contents.dump_avail = std::move(ranges);
    out.hole = cut + 0x10;
    out.not_dumped = cut + 4 * page + 0x20;
  }

  void message_buffer() {
    for (int n = 1; out.log_text.size() < 3 * page; ++n)
      out.log_text += fmt::format("<6>coroner: line {} of the message buffer of {}\n", n, fixture.id);
    out.contents.msgbuf = wrapped_msgbuf(out.log_text, 2 * page, &out.contents.msg_size);
  }

  void build(uint32_t version) {
    auto& h = out.contents.header;
    h.arch = linux.dump->machine() == Machine::x86_64 ? MinidumpArch::amd64 : MinidumpArch::arm64;
    h.version = version;
    h.flags = page == 16384 ? 1 : 0;
    collect_samples();
    auto ranges = ram();
    if (h.arch == MinidumpArch::amd64) amd64_page_table(version);
    else arm64_page_table();
    direct_map(ranges);
    dump_avail(ranges);
    message_buffer();
  }
};

}  // namespace

const FixtureMinidump& fixture_minidump(const DumpCase& c, uint32_t version) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, uint32_t>, FixtureMinidump> made;
  std::lock_guard lock(mutex);
  auto key = std::pair{c.id, version};
  if (auto it = made.find(key); it != made.end()) return it->second;
  Builder builder{c, open_kernel_memory(c)};
  builder.page = builder.linux.arch->page_size();
  builder.build(version);
  return made[key] = std::move(builder.out);
}

const std::vector<MinidumpVariant>& minidump_variants() {
  static const std::vector<MinidumpVariant> variants{
      {"x86_64/oops-kdump/d31", 1}, {"x86_64/oops-kdump/d31", 2}, {"x86_64/oops-kdump/d31", 3},
      {"arm64/oops-kdump/d31", 1},  {"arm64/oops-kdump/d31", 2},  {"arm64/oops-kdump/d31", 3},
      {"arm64-16k/oops-kdump/d31", 3},
  };
  return variants;
}

std::vector<std::pair<std::string, std::string>> write_containers(const fs::path& dir, const std::string& minidump,
                                                                  MinidumpArch arch) {
  using freebsd::DumpCompression;
  const std::string zstd = compressed_stream(Compression::zstd, minidump);
  std::vector<std::pair<std::string, std::string>> files{
      {"vmcore.0", minidump}, {"vmcore.1.zst", zstd}, {"vmcore.2.gz", compressed_stream(Compression::gzip, minidump)}};
  // savecore's info.N beside the first two (not the third: a dump without it).
  freebsd::KernelDumpHeader info = test_dump_header(arch, 4);
  info.dump_length = minidump.size();
  std::vector<std::pair<std::string, std::string>> infos{{"info.0", write_info_file(info, "/dev/ada0p3")}};
  info.compression = DumpCompression::zstd;
  info.dump_length = zstd.size();
  infos.emplace_back("info.1", write_info_file(info, "/dev/ada0p3"));
  for (uint32_t version : {1u, 2u, 3u, 4u})
    files.emplace_back(fmt::format("device-v{}.img", version), write_dump_device(minidump, test_dump_header(arch, version)));
  for (auto [kind, name] : {std::pair{DumpCompression::zstd, "zstd"}, std::pair{DumpCompression::gzip, "gzip"}}) {
    auto h = test_dump_header(arch, 4);
    h.compression = kind;
    h.dump_extent = minidump.size();
    auto stream = compressed_stream(kind == DumpCompression::zstd ? Compression::zstd : Compression::gzip, minidump);
    files.emplace_back(fmt::format("device-{}.img", name), write_dump_device(stream, h));
  }
  std::vector<std::pair<std::string, std::string>> paths;
  fs::create_directories(dir);
  for (const auto& [name, text] : infos) write_file_contents(dir / name, text);
  for (const auto& [name, bytes] : files) {
    write_file_contents(dir / name, bytes);
    paths.emplace_back(name, (dir / name).string());
  }
  return paths;
}

}  // namespace coroner::test

namespace coroner::test {
namespace {

// Bytes of kernel map one page-table section entry covers, and entries per
// block (what free_kernel_address aligns to).
struct SectionGeometry {
  uint64_t entry_span, entries_per_block;
};
SectionGeometry section_geometry(const freebsd::MinidumpHeader& h) {
  const uint64_t page = h.page_size();
  if (h.arch == MinidumpArch::amd64) return h.version >= 2 ? SectionGeometry{k2MiB, 1} : SectionGeometry{4096, 512};
  return {page, page / 8};
}

// Physical pages for the kernel image: from the top of dump_avail down,
// none already dumped, none near the hole or the page left out.
class PageAllocator {
 public:
  explicit PageAllocator(const FixtureMinidump& made) : made_(made), page_(made.contents.header.page_size()) {
    range_ = made.contents.dump_avail.size();
  }
  uint64_t next() {
    const uint64_t guard = 16 * page_;
    while (range_ > 0) {
      auto [start, end] = made_.contents.dump_avail[range_ - 1];
      if (!cursor_) cursor_ = align_down(end, page_);
      while (*cursor_ >= start + page_) {
        uint64_t candidate = (*cursor_ -= page_);
        bool near = candidate + guard > made_.hole && candidate < made_.not_dumped + guard;
        if (!near && !made_.contents.pages.count(candidate)) return candidate;
      }
      --range_, cursor_.reset();
    }
    FAIL("no free physical page left in dump_avail for the kernel image");
    return 0;
  }

 private:
  const FixtureMinidump& made_;
  uint64_t page_;
  size_t range_ = 0;
  std::optional<uint64_t> cursor_;
};

uint64_t read_le(const std::string& bytes, size_t at, size_t size) {
  if (at + size > bytes.size()) FAIL("the kernel ELF is truncated at offset " << at);
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= uint64_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return value;
}

}  // namespace

KernelImage load_kernel_image(const std::string& elf_path, uint64_t page) {
  std::ifstream in(elf_path, std::ios::binary);
  const std::string elf{std::istreambuf_iterator<char>(in), {}};
  if (elf.size() < 64 || elf.compare(0, 4, "\x7f" "ELF") != 0 || elf[4] != 2 || elf[5] != 1)
    FAIL(elf_path << " is not an ELF64 little-endian file");
  const uint64_t phoff = read_le(elf, 0x20, 8), phentsize = read_le(elf, 0x36, 2), phnum = read_le(elf, 0x38, 2);
  struct Segment {
    uint64_t offset, vaddr, filesz, memsz;
  };
  std::vector<Segment> segments;
  for (uint64_t i = 0; i < phnum; ++i) {
    size_t at = phoff + i * phentsize;
    if (read_le(elf, at, 4) != 1) continue;  // PT_LOAD
    segments.push_back({read_le(elf, at + 8, 8), read_le(elf, at + 16, 8), read_le(elf, at + 32, 8),
                        read_le(elf, at + 40, 8)});
  }
  if (segments.empty()) FAIL(elf_path << " has no PT_LOAD segment");
  KernelImage image;
  image.start = ~uint64_t{0};
  uint64_t end = 0;
  for (const Segment& s : segments) {
    image.start = std::min(image.start, align_down(s.vaddr, page));
    end = std::max(end, s.vaddr + s.memsz);
  }
  image.bytes.assign(align_down(end + page - 1, page) - image.start, std::byte{0});
  for (const Segment& s : segments) {
    if (s.offset + s.filesz > elf.size()) FAIL(elf_path << ": a segment runs past the end of the file");
    std::memcpy(image.bytes.data() + (s.vaddr - image.start), elf.data() + s.offset, s.filesz);
  }
  return image;
}

uint64_t free_kernel_address(const FixtureMinidump& made, uint64_t size) {
  const auto& h = made.contents.header;
  const SectionGeometry g = section_geometry(h);
  const auto& entries = made.contents.page_table;
  const uint64_t block = g.entry_span * g.entries_per_block;
  const uint64_t needed = (size + block - 1) / block * g.entries_per_block;
  for (uint64_t first = 0; first + needed <= entries.size(); first += g.entries_per_block) {
    bool free = std::all_of(entries.begin() + first, entries.begin() + first + needed, [](uint64_t e) {
      return (e & 1) == 0;  // invalid on both architectures
    });
    if (free) return h.kernbase + first * g.entry_span;
  }
  FAIL("no " << size << " bytes of the minidump's kernel map are free");
  return 0;
}

void map_kernel_image(FixtureMinidump& made, const KernelImage& image) {
  auto& c = made.contents;
  const auto& h = c.header;
  const uint64_t page = h.page_size();
  const SectionGeometry g = section_geometry(h);
  PageAllocator allocate(made);
  auto store = [&](uint64_t paddr, const std::byte* bytes) {
    c.pages[paddr].assign(bytes, bytes + page);
  };
  constexpr uint64_t kAmd64Bits = 0x63;  // valid, writable, accessed, dirty
  for (uint64_t offset = 0; offset < image.bytes.size(); offset += page) {
    const uint64_t va = image.start + offset;
    const uint64_t paddr = allocate.next();
    store(paddr, image.bytes.data() + offset);
    const uint64_t index = (va - h.kernbase) / g.entry_span;
    if (index >= c.page_table.size()) FAIL("the kernel image at " << std::hex << va << " is outside the kernel map");
    if (h.arch == MinidumpArch::arm64) {
      c.page_table[index] = paddr | kArm64PageBits;
    } else if (h.version == 1) {
      c.page_table[index] = paddr | kAmd64Bits;
    } else {
      // A page-table page for the PDE, made the first time its 2 MiB is used.
      uint64_t& pde = c.page_table[index];
      if (!(pde & kX86Valid)) {
        const uint64_t table = allocate.next();
        c.pages[table].assign(page, std::byte{0});
        pde = table | kAmd64Bits;
      }
      std::byte* pte = c.pages[pde & kX86Frame].data() + (va % k2MiB) / page * 8;
      store_le64(pte, paddr | kAmd64Bits);
    }
  }
}

}  // namespace coroner::test
