// The ELF vmcore reader on the real fixtures (kernel /proc/vmcore, QEMU
// dump-guest-memory, makedumpfile -E) against facts.json, on synthetic
// files for segment edge cases, and on damaged copies of a real dump.
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>

namespace coroner {
namespace {

using test::DumpCase;
namespace fs = std::filesystem;

std::unique_ptr<Dump> open_elf(const std::string& path) {
  auto source = open_file_source(path);
  REQUIRE(source);
  auto dump = open_elf_dump(*source);
  if (!dump) FAIL(dump.error().message());
  return std::move(*dump);
}

Expected<std::unique_ptr<Dump>> try_open_elf(const std::string& path) {
  auto source = open_file_source(path);
  REQUIRE(source);
  return open_elf_dump(*source);
}

std::vector<DumpCase> elf_cases() {
  std::vector<DumpCase> cases;
  for (const DumpCase& c : test::all_dumps())
    if (c.variant == "vmcore" || c.variant == "elf" || c.variant == "elf-d31") cases.push_back(c);
  return cases;
}

const DumpCase& find_case(const std::string& id) {
  for (const DumpCase& c : test::all_dumps())
    if (c.id == id) return c;
  FAIL("no fixture " << id);
  throw std::logic_error("unreachable");
}

// The number of CPUs the guest brought up, from its console log.
size_t booted_cpus(const DumpCase& c) {
  std::ifstream in(test::fixtures_root() / c.arch_dir / c.scenario / "console.log");
  std::string line;
  std::regex brought_up(R"(smp: Brought up \d+ nodes?, (\d+) CPUs?)");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, brought_up)) return std::stoul(m[1]);
  FAIL("no 'smp: Brought up' line in the console log of " << c.id);
  return 0;
}

std::string sha_at(const Dump& dump, uint64_t paddr, size_t len) {
  std::vector<std::byte> buf(len);
  auto read = dump.read(paddr, buf);
  if (!read) FAIL(read.error().message());
  return test::sha256_hex(buf.data(), buf.size());
}

void write_file(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::byte> file_prefix(const std::string& path, size_t size) {
  std::vector<std::byte> bytes(size);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  REQUIRE(static_cast<size_t>(in.gcount()) == size);
  return bytes;
}

fs::path scratch_dir() {
  fs::path dir = test::cache_dir() / ("elf-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

template <typename T>
T get(std::span<const std::byte> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}
template <typename T>
void put(std::vector<std::byte>& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

}  // namespace

TEST_CASE("ELF dumps: machine, producer, notes and VMCOREINFO match facts.json", "[elf][fixtures]") {
  for (const DumpCase& c : elf_cases()) {
    DYNAMIC_SECTION(c.id) {
      auto dump = open_elf(c.files().front());
      const auto& facts = c.facts();
      bool x86 = c.arch_dir.find("x86_64") != std::string::npos;
      CHECK(dump->machine() == (x86 ? Machine::x86_64 : Machine::aarch64));
      CHECK(dump->format_name() == "elf");
      CHECK(dump->files() == c.files());
      if (c.variant == "vmcore") CHECK(dump->description() == "ELF vmcore (kernel /proc/vmcore)");
      if (c.variant == "elf") CHECK(dump->description() == "ELF (QEMU dump-guest-memory)");
      if (c.variant == "elf-d31") CHECK(dump->description() == "ELF (makedumpfile -E)");

      auto text = dump->vmcoreinfo_text();
      REQUIRE(text);
      VmcoreInfo info = VmcoreInfo::parse(*text);
      for (const auto& [key, value] : facts["vmcoreinfo"].items()) {
        INFO(key);
        CHECK(info.get(key) == std::optional<std::string_view>(value.get<std::string>()));
      }
      CHECK(dump->page_size() == std::stoull(facts["vmcoreinfo"]["PAGESIZE"].get<std::string>()));

      auto cpus = dump->prstatus();
      size_t prstatus_notes = 0;
      for (const ElfNote& note : dump->notes()) prstatus_notes += note.type == kNtPrstatus && note.name == "CORE";
      CHECK(cpus.size() == prstatus_notes);
      if (c.scenario == "panic-qemu") {
        // QEMU numbers its vCPUs from 1 in pr_pid.
        REQUIRE(cpus.size() == booted_cpus(c));
        for (size_t i = 0; i < cpus.size(); ++i) CHECK(cpus[i].pid == static_cast<int32_t>(i + 1));
      } else {
        // The capture kernel saved one note per CPU of the crashed kernel,
        // pr_pid being the task each was running.
        REQUIRE(cpus.size() == facts["online_cpus"].size());
        for (size_t i = 0; i < cpus.size(); ++i)
          CHECK(cpus[i].pid == facts["cpu_current"][std::to_string(i)]["pid"].get<int32_t>());
      }
      for (const PrStatus& cpu : cpus) CHECK(cpu.gregs.size() == (x86 ? 27u : 34u));
    }
  }
}

TEST_CASE("ELF dumps: physical reads give facts.json's memory samples", "[elf][fixtures]") {
  for (const DumpCase& c : elf_cases()) {
    DYNAMIC_SECTION(c.id) {
      const auto& facts = c.facts();
      if (!facts.contains("memory_samples")) continue;  // arm64 panic-qemu: drgn could not read it
      auto dump = open_elf(c.files().front());
      size_t checked = 0;
      for (const auto& sample : facts["memory_samples"]) {
        if (sample["paddr"].is_null()) continue;
        INFO(sample["kind"].get<std::string>() << " at " << sample["paddr"].get<std::string>());
        CHECK(sha_at(*dump, test::hex_value(sample["paddr"]), sample["len"]) == sample["sha256"].get<std::string>());
        ++checked;
      }
      CHECK(checked >= 2);

      // The kernel's PT_LOADs carry the kernel image's virtual addresses:
      // kernel text and data samples resolve through virtual_ranges().
      auto virt = dump->virtual_ranges();
      if (c.scenario == "panic-qemu") CHECK(virt.empty());  // QEMU without paging: physical only
      if (c.scenario != "oops-kdump") continue;
      for (const auto& sample : facts["memory_samples"]) {
        std::string kind = sample["kind"];
        if (kind != "kernel-text" && kind != "kernel-data") continue;
        uint64_t vaddr = test::hex_value(sample["vaddr"]);
        auto range = std::find_if(virt.begin(), virt.end(),
                                  [&](const VirtualRange& r) { return vaddr >= r.vaddr && vaddr - r.vaddr < r.size; });
        REQUIRE(range != virt.end());
        INFO(kind);
        CHECK(sha_at(*dump, range->paddr + (vaddr - range->vaddr), sample["len"]) ==
              sample["sha256"].get<std::string>());
      }
    }
  }
}

TEST_CASE("ELF dumps: addresses outside every range are not in the dump", "[elf][fixtures]") {
  for (const DumpCase& c : elf_cases()) {
    DYNAMIC_SECTION(c.id) {
      auto dump = open_elf(c.files().front());
      auto ranges = dump->ranges();
      REQUIRE(!ranges.empty());
      for (size_t i = 1; i < ranges.size(); ++i) CHECK(ranges[i - 1].end() < ranges[i].start);
      std::vector<uint64_t> outside = {ranges.back().end() + 0x1000};
      if (ranges.front().start > 0) outside.push_back(ranges.front().start - 1);
      if (ranges.size() > 1) outside.push_back(ranges[0].end());
      std::array<std::byte, 8> buf{};
      for (uint64_t addr : outside) {
        auto read = dump->read(addr, buf);
        REQUIRE(!read);
        CHECK(read.error().code() == Errc::not_in_dump);
        CHECK(read.error().message() == fmt::format("physical address {:#x}: not in dump", addr));
      }
      // A read running off the end of the last range names the first
      // missing byte (when the range's last bytes are not filtered out).
      std::array<std::byte, 32> across{};
      if (!dump->read(ranges.back().end() - 16, std::span(across).first(16))) continue;
      auto read = dump->read(ranges.back().end() - 16, across);
      REQUIRE(!read);
      CHECK(read.error().message() == fmt::format("physical address {:#x}: not in dump", ranges.back().end()));
    }
  }
}

TEST_CASE("makedumpfile -E: excluded pages fail, kept pages equal the source vmcore", "[elf][fixtures]") {
  auto filtered = open_elf(find_case("x86_64/oops-kdump/elf-d31").files().front());
  auto full = open_elf(find_case("x86_64/oops-kdump/vmcore").files().front());
  // makedumpfile keeps every segment's p_memsz: both describe the same RAM.
  auto ranges = filtered->ranges();
  auto full_ranges = full->ranges();
  REQUIRE(ranges.size() == full_ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    CHECK(ranges[i].start == full_ranges[i].start);
    CHECK(ranges[i].size == full_ranges[i].size);
  }
  const uint64_t page = filtered->page_size();
  REQUIRE(page == 4096);
  std::vector<std::byte> a(page), b(page);
  size_t excluded = 0, kept = 0, mismatched = 0;
  std::string first_excluded;
  for (const PhysRange& r : ranges) {
    for (uint64_t addr = r.start; addr < r.end(); addr += page) {
      auto span_a = std::span(a).first(std::min<uint64_t>(page, r.end() - addr));
      auto got = filtered->read(addr, span_a);
      if (!got) {
        REQUIRE(got.error().code() == Errc::excluded_by_filter);
        if (first_excluded.empty()) {
          first_excluded = got.error().message();
          CHECK(first_excluded == fmt::format("physical address {:#x}: page excluded by the dump filter", addr));
        }
        ++excluded;
        continue;
      }
      ++kept;
      auto span_b = std::span(b).first(span_a.size());
      REQUIRE(full->read(addr, span_b));
      mismatched += std::memcmp(span_a.data(), span_b.data(), span_a.size()) != 0;
    }
  }
  CHECK(excluded > 0);
  CHECK(kept > 1000);
  CHECK(mismatched == 0);
}

namespace {

// A synthetic ELF core: notes, then each segment's data in `file_order`.
struct SyntheticSegment {
  uint64_t paddr, vaddr, memsz, filesz;
  uint8_t tag;  // data byte i of the segment is tag ^ low byte of its paddr
  uint32_t flags = PF_R | PF_W | PF_X;
};

uint8_t pattern(uint8_t tag, uint64_t paddr) { return static_cast<uint8_t>(tag ^ (paddr & 0xff) ^ (paddr >> 12)); }

std::vector<std::byte> note_bytes(const std::string& name, uint32_t type, const std::string& desc) {
  std::vector<std::byte> out(12 + ((name.size() + 1 + 3) & ~size_t{3}) + ((desc.size() + 3) & ~size_t{3}));
  put<uint32_t>(out, 0, static_cast<uint32_t>(name.size() + 1));
  put<uint32_t>(out, 4, static_cast<uint32_t>(desc.size()));
  put<uint32_t>(out, 8, type);
  std::memcpy(out.data() + 12, name.data(), name.size());
  std::memcpy(out.data() + 12 + ((name.size() + 1 + 3) & ~size_t{3}), desc.data(), desc.size());
  return out;
}

std::vector<std::byte> synthetic_elf(const std::vector<SyntheticSegment>& segments, bool page_aligned_notes,
                                     bool extended_numbering = false) {
  auto notes = note_bytes("VMCOREINFO", 0, "OSRELEASE=6.1.0\nPAGESIZE=4096\n");
  uint64_t phnum = segments.size() + 1;
  uint64_t phoff = sizeof(Elf64_Ehdr);
  uint64_t shoff = phoff + phnum * sizeof(Elf64_Phdr);
  uint64_t note_offset = shoff + (extended_numbering ? sizeof(Elf64_Shdr) : 0);
  if (page_aligned_notes) note_offset = 0x1000;
  std::vector<std::byte> out(note_offset + notes.size());
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = phoff;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = extended_numbering ? PN_XNUM : static_cast<uint16_t>(phnum);
  if (extended_numbering) {
    eh.e_shoff = shoff;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<uint32_t>(phnum);
    put(out, shoff, sh);
  }
  put(out, 0, eh);
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = note_offset;
  note.p_filesz = note.p_memsz = notes.size();
  put(out, phoff, note);
  std::memcpy(out.data() + note_offset, notes.data(), notes.size());
  // Data in reverse segment order, to show reads follow p_offset.
  std::vector<uint64_t> offsets(segments.size());
  for (size_t i = segments.size(); i-- > 0;) {
    const SyntheticSegment& s = segments[i];
    offsets[i] = s.filesz ? out.size() : 0;
    for (uint64_t a = s.paddr; a < s.paddr + s.filesz; ++a) out.push_back(std::byte{pattern(s.tag, a)});
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    const SyntheticSegment& s = segments[i];
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = s.flags;
    ph.p_offset = offsets[i];
    ph.p_vaddr = s.vaddr;
    ph.p_paddr = s.paddr;
    ph.p_filesz = s.filesz;
    ph.p_memsz = s.memsz;
    put(out, phoff + (i + 1) * sizeof(Elf64_Phdr), ph);
  }
  return out;
}

std::vector<SyntheticSegment> tricky_segments() {
  return {
      {0x10000, 0xffff888000010000, 0x3000, 0x3000, 1},  // A
      {0x13000, 0, 0x2000, 0x1000, 2},                   // B: tail 0x14000.. has no data
      {0x14000, 0, 0x1000, 0x1000, 3},                   // C: data over B's tail
      {0x20000, 0, 0x2000, 0x2000, 4},                   // D
      {0x21000, 0, 0x2000, 0x2000, 5},                   // E: overlaps D; D wins there
      {0x30000, 0, 0x1000, 0, 6},                        // F: no data at all
  };
}

void check_bytes(const Dump& dump, uint64_t paddr, size_t len, const std::vector<std::pair<uint64_t, uint8_t>>& tags) {
  std::vector<std::byte> buf(len);
  auto read = dump.read(paddr, buf);
  if (!read) FAIL(read.error().message());
  for (size_t i = 0; i < len; ++i) {
    uint64_t a = paddr + i;
    uint8_t tag = 0;
    for (auto [from, t] : tags)
      if (a >= from) tag = t;
    INFO("address " << std::hex << a);
    REQUIRE(static_cast<uint8_t>(buf[i]) == pattern(tag, a));
  }
}

}  // namespace

TEST_CASE("ELF reader: reads cross segments, overlaps prefer data, gaps and tails fail", "[elf]") {
  fs::path path = scratch_dir() / "tricky.elf";
  write_file(path, synthetic_elf(tricky_segments(), false));
  auto dump = open_elf(path.string());
  CHECK(dump->description() == "ELF (makedumpfile -E)");
  CHECK(dump->page_size() == 4096);
  check_bytes(*dump, 0x12ff0, 0x20, {{0, 1}, {0x13000, 2}});
  check_bytes(*dump, 0x13ff0, 0x20, {{0, 2}, {0x14000, 3}});
  check_bytes(*dump, 0x20ff0, 0x1020, {{0, 4}, {0x22000, 5}});
  check_bytes(*dump, 0x10000, 0x5000, {{0, 1}, {0x13000, 2}, {0x14000, 3}});
  std::array<std::byte, 0x20> buf{};
  REQUIRE(dump->read(0x1234, std::span(buf).first(0)));

  auto gap = dump->read(0x14ff0, buf);
  REQUIRE(!gap);
  CHECK(gap.error().code() == Errc::not_in_dump);
  CHECK(gap.error().message() == "physical address 0x15000: not in dump");
  auto excluded = dump->read(0x30800, buf);
  REQUIRE(!excluded);
  CHECK(excluded.error().code() == Errc::excluded_by_filter);
  CHECK(excluded.error().message() == "physical address 0x30800: page excluded by the dump filter");
  auto below = dump->read(0xfff0, buf);
  REQUIRE(!below);
  CHECK(below.error().message() == "physical address 0xfff0: not in dump");

  auto ranges = dump->ranges();
  REQUIRE(ranges.size() == 3);
  CHECK((ranges[0].start == 0x10000 && ranges[0].end() == 0x15000));
  CHECK((ranges[1].start == 0x20000 && ranges[1].end() == 0x23000));
  CHECK((ranges[2].start == 0x30000 && ranges[2].end() == 0x31000));
  auto virt = dump->virtual_ranges();
  REQUIRE(virt.size() == 1);
  CHECK((virt[0].vaddr == 0xffff888000010000 && virt[0].paddr == 0x10000 && virt[0].size == 0x3000));
}

TEST_CASE("ELF reader: producers and extended program header numbering", "[elf]") {
  fs::path dir = scratch_dir();
  SECTION("page-aligned notes are the kernel's /proc/vmcore") {
    write_file(dir / "kernel.elf", synthetic_elf(tricky_segments(), true));
    CHECK(open_elf((dir / "kernel.elf").string())->description() == "ELF vmcore (kernel /proc/vmcore)");
  }
  SECTION("PT_LOADs without flags are QEMU's") {
    auto segments = tricky_segments();
    for (auto& s : segments) s.flags = 0;
    write_file(dir / "qemu.elf", synthetic_elf(segments, false));
    CHECK(open_elf((dir / "qemu.elf").string())->description() == "ELF (QEMU dump-guest-memory)");
  }
  SECTION("PN_XNUM takes the count from section header 0") {
    write_file(dir / "xnum.elf", synthetic_elf(tricky_segments(), false, true));
    auto dump = open_elf((dir / "xnum.elf").string());
    CHECK(dump->description() == "ELF (makedumpfile -E)");
    CHECK(dump->ranges().size() == 3);
    check_bytes(*dump, 0x21ff0, 0x20, {{0, 4}, {0x22000, 5}});
  }
}

TEST_CASE("ELF reader: damaged copies of a real dump fail with clear errors", "[elf][fixtures][corrupt]") {
  const DumpCase& c = find_case("x86_64/oops-kdump/vmcore");
  std::string original = c.files().front();
  auto real = open_elf(original);
  fs::path dir = scratch_dir();

  auto source = open_file_source(original);
  REQUIRE(source);
  auto ehdr_bytes = file_prefix(original, sizeof(Elf64_Ehdr));
  auto eh = get<Elf64_Ehdr>(ehdr_bytes, 0);
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  REQUIRE((*source)->read_at(eh.e_phoff, std::as_writable_bytes(std::span(phdrs))));
  const Elf64_Phdr* note = nullptr;
  std::vector<const Elf64_Phdr*> loads;
  for (const auto& ph : phdrs) {
    if (ph.p_type == PT_NOTE) note = &ph;
    if (ph.p_type == PT_LOAD) loads.push_back(&ph);
  }
  REQUIRE(note);
  REQUIRE(loads.size() >= 2);
  const size_t header_end = note->p_offset + note->p_filesz;

  SECTION("truncated in the headers or notes: open fails naming the file") {
    for (uint64_t cut : {uint64_t{0}, uint64_t{3}, uint64_t{20}, uint64_t{63}, eh.e_phoff + 30,
                         eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr) - 1, note->p_offset + 20, header_end - 1}) {
      INFO("cut at " << cut);
      fs::path path = dir / fmt::format("cut-{}", cut);
      write_file(path, file_prefix(original, cut));
      auto dump = try_open_elf(path.string());
      REQUIRE(!dump);
      CHECK(dump.error().code() == Errc::truncated);
      CHECK(dump.error().message().find(path.string()) != std::string::npos);
    }
  }

  SECTION("truncated inside a PT_LOAD: data before the cut reads, after it fails as truncated") {
    const Elf64_Phdr& first = *loads.front();
    uint64_t cut = first.p_offset + 0x10000;
    fs::path path = dir / "cut-in-load";
    write_file(path, file_prefix(original, cut));
    auto dump = open_elf(path.string());
    CHECK(sha_at(*dump, first.p_paddr, 0x10000) == sha_at(*real, first.p_paddr, 0x10000));
    std::array<std::byte, 64> buf{};
    auto read = dump->read(first.p_paddr + 0x10000 - 32, buf);
    REQUIRE(!read);
    CHECK(read.error().code() == Errc::truncated);
    CHECK(read.error().message().find(path.string()) != std::string::npos);
    CHECK(read.error().message().find(fmt::format("{:#x}", cut)) != std::string::npos);
    auto later = dump->read(loads.back()->p_paddr, buf);
    REQUIRE(!later);
    CHECK(later.error().code() == Errc::truncated);
  }

  // Header fields patched in a copy of the headers and notes.
  auto headers = file_prefix(original, header_end);
  auto patched = [&](auto patch) {
    auto bytes = headers;
    patch(bytes);
    fs::path path = dir / "patched";
    write_file(path, bytes);
    return try_open_elf(path.string());
  };
  auto phdr_at = [&](const Elf64_Phdr* ph) { return eh.e_phoff + (ph - phdrs.data()) * sizeof(Elf64_Phdr); };
  auto expect_error = [&](Expected<std::unique_ptr<Dump>> result, Errc code, const std::string& text) {
    REQUIRE(!result);
    CHECK(result.error().code() == code);
    CHECK(result.error().message().find(text) != std::string::npos);
  };

  SECTION("bad identification fields") {
    expect_error(patched([](auto& b) { b[EI_CLASS] = std::byte{ELFCLASS32}; }), Errc::unsupported, "64-bit");
    expect_error(patched([](auto& b) { b[EI_DATA] = std::byte{ELFDATA2MSB}; }), Errc::unsupported, "little-endian");
    expect_error(patched([](auto& b) { put<uint16_t>(b, offsetof(Elf64_Ehdr, e_type), ET_EXEC); }), Errc::unsupported,
                 "not a core dump");
    expect_error(patched([](auto& b) { put<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_PPC64); }),
                 Errc::unsupported, "ELF machine 21");
    expect_error(patched([](auto& b) { put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phentsize), 32); }), Errc::corrupt,
                 "e_phentsize 32");
  }
  SECTION("garbage e_phnum and e_phoff") {
    expect_error(patched([](auto& b) { put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), 0); }), Errc::corrupt,
                 "no program headers");
    expect_error(patched([](auto& b) { put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), 0xfffe); }), Errc::truncated,
                 "program header table of 65534 entries");
    expect_error(patched([](auto& b) {
                   put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM);
                   put<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), 0x7fffffffffffffff);
                 }),
                 Errc::truncated, "section header 0");
    expect_error(patched([](auto& b) { put<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), ~uint64_t{0} - 8); }),
                 Errc::truncated, "program header table");
  }
  SECTION("garbage p_offset, p_filesz and p_paddr") {
    expect_error(patched([&](auto& b) { put<uint64_t>(b, phdr_at(note) + offsetof(Elf64_Phdr, p_offset), 1ull << 40); }),
                 Errc::truncated, "PT_NOTE segment");
    expect_error(patched([&](auto& b) { put<uint64_t>(b, phdr_at(note) + offsetof(Elf64_Phdr, p_filesz), 1ull << 40); }),
                 Errc::corrupt, "implausibly large");
    expect_error(patched([&](auto& b) { put<uint32_t>(b, note->p_offset + 4, 0x7fffffff); }), Errc::corrupt,
                 fmt::format("ELF note at offset {:#x}", note->p_offset));
    expect_error(patched([&](auto& b) {
                   put<uint64_t>(b, phdr_at(loads[0]) + offsetof(Elf64_Phdr, p_filesz), loads[0]->p_memsz + 1);
                 }),
                 Errc::corrupt, "exceeds p_memsz");
    expect_error(patched([&](auto& b) {
                   put<uint64_t>(b, phdr_at(loads[0]) + offsetof(Elf64_Phdr, p_paddr), ~uint64_t{0} - 0x1000);
                 }),
                 Errc::corrupt, "wraps around");
    expect_error(patched([&](auto& b) {
                   put<uint64_t>(b, phdr_at(loads[0]) + offsetof(Elf64_Phdr, p_offset), ~uint64_t{0} - 0x1000);
                 }),
                 Errc::corrupt, "wraps around");
    // A PT_LOAD pointing far past the end opens, then its reads fail.
    auto far = patched([&](auto& b) { put<uint64_t>(b, phdr_at(loads[0]) + offsetof(Elf64_Phdr, p_offset), 1ull << 40); });
    REQUIRE(far);
    std::array<std::byte, 16> buf{};
    auto read = (*far)->read(loads[0]->p_paddr, buf);
    REQUIRE(!read);
    CHECK(read.error().code() == Errc::truncated);
    CHECK(read.error().message().find(fmt::format("physical address {:#x}", loads[0]->p_paddr)) != std::string::npos);
  }
  SECTION("every header byte set to 0xff or 0x00: errors or sane reads, never a crash") {
    size_t failures = 0;
    for (size_t i = 0; i < eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr); ++i) {
      for (std::byte value : {std::byte{0xff}, std::byte{0}}) {
        auto dump = patched([&](auto& b) { b[i] = value; });
        if (!dump) {
          CHECK(!dump.error().message().empty());
          ++failures;
          continue;
        }
        std::array<std::byte, 64> buf{};
        for (const PhysRange& r : (*dump)->ranges()) (void)(*dump)->read(r.start, buf);
      }
    }
    CHECK(failures > 0);
  }
  fs::remove_all(dir);
}

}  // namespace coroner
