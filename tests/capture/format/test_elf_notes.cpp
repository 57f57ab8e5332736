// ELF note parsing, NT_PRSTATUS decoding and QEMU's CPU-state notes, on
// synthetic buffers and on the notes of the real ELF dumps.
#include "capture/format/dump.hpp"
#include "capture/format/elf_notes.hpp"
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/qemu_cpu_state.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstring>

namespace coroner {
namespace {

// Appends one note (Elf64_Nhdr, name, descriptor, each 4-byte aligned).
void add_note(std::vector<std::byte>& out, std::string_view name, uint32_t type, std::vector<std::byte> desc,
              bool pad_desc = true) {
  auto put32 = [&](uint32_t v) {
    std::byte b[4];
    std::memcpy(b, &v, 4);
    out.insert(out.end(), b, b + 4);
  };
  put32(static_cast<uint32_t>(name.size() + 1));
  put32(static_cast<uint32_t>(desc.size()));
  put32(type);
  for (char ch : name) out.push_back(static_cast<std::byte>(ch));
  out.push_back(std::byte{0});
  while (out.size() % 4) out.push_back(std::byte{0});
  out.insert(out.end(), desc.begin(), desc.end());
  while (pad_desc && out.size() % 4) out.push_back(std::byte{0});
}

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

// An elf_prstatus descriptor with pr_pid and numbered registers.
std::vector<std::byte> prstatus_desc(size_t size, int32_t pid, size_t regs) {
  std::vector<std::byte> desc(size);
  std::memcpy(desc.data() + 32, &pid, 4);
  for (size_t i = 0; i < regs && 112 + 8 * i + 8 <= size; ++i) {
    uint64_t v = 0x1000 + i;
    std::memcpy(desc.data() + 112 + 8 * i, &v, 8);
  }
  return desc;
}

}  // namespace

TEST_CASE("parse_elf_notes: names, types, descriptors, offsets and padding", "[elf][notes]") {
  std::vector<std::byte> buf;
  add_note(buf, "CORE", kNtPrstatus, prstatus_desc(336, 7, 27));
  size_t second = buf.size();
  add_note(buf, "VMCOREINFO", kNtVmcoreinfo, bytes_of("PAGESIZE=4096\nOSRELEASE=6.1\n"), false);
  // An odd-sized last descriptor without its padding, then zero fill.
  size_t used = buf.size();
  buf.resize(buf.size() + 64);

  auto notes = parse_elf_notes(buf, "dump.elf", 0x1000);
  REQUIRE(notes);
  REQUIRE(notes->size() == 2);
  CHECK((*notes)[0].name == "CORE");
  CHECK((*notes)[0].type == kNtPrstatus);
  CHECK((*notes)[0].desc.size() == 336);
  CHECK((*notes)[0].file_offset == 0x1000);
  CHECK((*notes)[1].name == "VMCOREINFO");
  CHECK((*notes)[1].file_offset == 0x1000 + second);
  CHECK(std::string(reinterpret_cast<const char*>((*notes)[1].desc.data()), (*notes)[1].desc.size()) ==
        "PAGESIZE=4096\nOSRELEASE=6.1\n");

  SECTION("the buffer may end right after the last descriptor") {
    auto exact = parse_elf_notes(std::span(buf).first(used), "dump.elf", 0);
    REQUIRE(exact);
    CHECK(exact->size() == 2);
  }
  SECTION("an empty or all-zero buffer has no notes") {
    CHECK(parse_elf_notes({}, "dump.elf", 0)->empty());
    std::vector<std::byte> zeros(7);
    CHECK(parse_elf_notes(zeros, "dump.elf", 0)->empty());
  }
  SECTION("a descriptor that overruns the buffer names the file and the note's offset") {
    auto cut = parse_elf_notes(std::span(buf).first(second + 20), "dump.elf", 0x1000);
    REQUIRE(!cut);
    CHECK(cut.error().code() == Errc::corrupt);
    CHECK(cut.error().message().find("dump.elf") != std::string::npos);
    CHECK(cut.error().message().find(fmt::format("offset {:#x}", 0x1000 + second)) != std::string::npos);
  }
  SECTION("a huge name size is an overrun, not an allocation") {
    std::vector<std::byte> bad = buf;
    uint32_t huge = 0xfffffff0;
    std::memcpy(bad.data() + second, &huge, 4);
    auto result = parse_elf_notes(bad, "dump.elf", 0);
    REQUIRE(!result);
    CHECK(result.error().code() == Errc::corrupt);
  }
  SECTION("a partial non-zero header is corrupt") {
    std::vector<std::byte> partial(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(used));
    while (partial.size() % 4) partial.push_back(std::byte{0});
    partial.push_back(std::byte{5});
    auto result = parse_elf_notes(partial, "dump.elf", 0);
    REQUIRE(!result);
    CHECK(result.error().message().find("cut off") != std::string::npos);
  }
}

TEST_CASE("decode_prstatus: x86_64 and aarch64 layouts, short notes rejected", "[elf][notes]") {
  ElfNote note{"CORE", kNtPrstatus, prstatus_desc(336, 42, 27), 0x2000};
  auto x86 = decode_prstatus(note, Machine::x86_64);
  REQUIRE(x86);
  CHECK(x86->pid == 42);
  REQUIRE(x86->gregs.size() == 27);
  CHECK(x86->gregs[0] == 0x1000);
  CHECK(x86->gregs[26] == 0x1000 + 26);

  ElfNote arm{"CORE", kNtPrstatus, prstatus_desc(392, 41, 34), 0x3000};
  auto a64 = decode_prstatus(arm, Machine::aarch64);
  REQUIRE(a64);
  CHECK(a64->pid == 41);
  REQUIRE(a64->gregs.size() == 34);
  CHECK(a64->gregs[33] == 0x1000 + 33);

  // 336 bytes are too few for aarch64's 34 registers.
  auto short_arm = decode_prstatus(note, Machine::aarch64);
  REQUIRE(!short_arm);
  CHECK(short_arm.error().code() == Errc::corrupt);
  CHECK(short_arm.error().message().find("0x2000") != std::string::npos);
  ElfNote tiny{"CORE", kNtPrstatus, prstatus_desc(40, 1, 0), 0x10};
  CHECK(decode_prstatus(tiny, Machine::x86_64).error().code() == Errc::corrupt);
  CHECK(decode_prstatus(note, Machine::unknown).error().code() == Errc::unsupported);
}

TEST_CASE("QEMU CPU state notes: version and size are checked", "[elf][notes][qemu]") {
  std::vector<std::byte> desc(440);
  uint32_t header[2] = {1, 440};
  std::memcpy(desc.data(), header, sizeof header);
  uint64_t rip = 0xffffffff81000000, cr3 = 0x1234000, kgs = 0xffff888000000000;
  std::memcpy(desc.data() + 8 + 16 * 8, &rip, 8);
  std::memcpy(desc.data() + 392 + 3 * 8, &cr3, 8);
  std::memcpy(desc.data() + 432, &kgs, 8);
  uint32_t cs_selector = 0x10;
  std::memcpy(desc.data() + 152, &cs_selector, 4);
  ElfNote note{"QEMU", kNtQemuCpuState, desc, 0x500};

  auto state = decode_qemu_cpu_state(note);
  REQUIRE(state);
  CHECK(state->rip == rip);
  CHECK(state->cr[3] == cr3);
  CHECK(state->cs.selector == 0x10);
  CHECK(state->kernel_gs_base == kgs);

  SECTION("the older 432-byte structure has no kernel_gs_base") {
    ElfNote old = note;
    old.desc.resize(432);
    uint32_t size = 432;
    std::memcpy(old.desc.data() + 4, &size, 4);
    auto older = decode_qemu_cpu_state(old);
    REQUIRE(older);
    CHECK(older->cr[3] == cr3);
    CHECK(!older->kernel_gs_base);
  }
  SECTION("another version is unsupported") {
    ElfNote v2 = note;
    uint32_t version = 2;
    std::memcpy(v2.desc.data(), &version, 4);
    auto result = decode_qemu_cpu_state(v2);
    REQUIRE(!result);
    CHECK(result.error().code() == Errc::unsupported);
    CHECK(result.error().message().find("version 2") != std::string::npos);
  }
  SECTION("a size beyond the descriptor, or too small, is corrupt") {
    ElfNote cut = note;
    cut.desc.resize(300);
    CHECK(decode_qemu_cpu_state(cut).error().code() == Errc::corrupt);
    ElfNote small = note;
    uint32_t size = 100;
    std::memcpy(small.desc.data() + 4, &size, 4);
    CHECK(decode_qemu_cpu_state(small).error().code() == Errc::corrupt);
    ElfNote empty{"QEMU", 0, {}, 0};
    CHECK(decode_qemu_cpu_state(empty).error().code() == Errc::corrupt);
  }
}

TEST_CASE("QEMU notes of the real x86_64 dump agree with its NT_PRSTATUS notes", "[elf][notes][qemu][fixtures]") {
  const test::DumpCase* qemu = nullptr;
  for (const auto& c : test::all_dumps())
    if (c.id == "x86_64/panic-qemu/elf") qemu = &c;
  REQUIRE(qemu);
  auto source = open_file_source(qemu->files().front());
  REQUIRE(source);
  auto dump = open_elf_dump(*source);
  REQUIRE(dump);
  auto states = qemu_cpu_states((*dump)->notes());
  REQUIRE(states);
  auto cpus = (*dump)->prstatus();
  REQUIRE(cpus.size() == 2);
  REQUIRE(states->size() == cpus.size());
  for (size_t i = 0; i < cpus.size(); ++i) {
    const QemuCpuState& s = (*states)[i];
    const std::vector<uint64_t>& g = cpus[i].gregs;  // user_regs_struct order
    INFO("cpu " << i);
    CHECK(s.version == 1);
    CHECK(s.rip == g[16]);
    CHECK(s.rsp == g[19]);
    CHECK(s.rflags == g[18]);
    CHECK(s.rax == g[10]);
    CHECK(s.r15 == g[0]);
    CHECK(s.cs.selector == g[17]);
    CHECK(s.ss.selector == g[20]);
    CHECK(s.fs.base == g[21]);
    CHECK(s.gs.base == g[22]);
    // Both CPUs were in the kernel, in long mode with paging on.
    CHECK(s.cs.selector == 0x10);
    CHECK((s.cr[0] & 0x80000001) == 0x80000001);  // PG and PE
    CHECK((s.cr[4] & 0x20) == 0x20);              // PAE
    CHECK(s.cr[3] != 0);
    CHECK(s.rip >= 0xffffffff80000000);
  }
  // The kernel-mode GS base of each CPU is its per-CPU area: distinct.
  CHECK((*states)[0].gs.base != (*states)[1].gs.base);

  // The arm64 QEMU dump and the kdump vmcores carry no QEMU notes.
  for (const auto& c : test::all_dumps()) {
    if (c.id != "arm64/panic-qemu/elf" && c.id != "x86_64/oops-kdump/vmcore") continue;
    auto other_source = open_file_source(c.files().front());
    REQUIRE(other_source);
    auto other = open_elf_dump(*other_source);
    REQUIRE(other);
    CHECK(qemu_cpu_states((*other)->notes())->empty());
  }
}

}  // namespace coroner
