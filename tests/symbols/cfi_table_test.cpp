#include "symbols/cfi_table.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

using namespace coroner;
using namespace coroner::symbols;
using namespace coroner::test;

namespace {

bool is_x86_64(const DumpCase& c) { return c.arch_dir.find("x86_64") != std::string::npos; }

// DWARF register numbers of the stack pointer and return address.
unsigned sp_register(const DumpCase& c) { return is_x86_64(c) ? 7 : 31; }
unsigned ra_register(const DumpCase& c) { return is_x86_64(c) ? 16 : 30; }

std::optional<CfiRule> rule_of(const CfiRow& row, unsigned reg) {
  for (const auto& [number, rule] : row.rules)
    if (number == reg) return rule;
  return std::nullopt;
}

CfiRow require_row(const CfiTable& table, uint64_t pc) {
  auto row = table.find(pc);
  if (!row) FAIL(row.error().message());
  if (!*row) FAIL("no FDE covers " << std::hex << pc);
  return **row;
}

uint64_t symbol_address(const std::string& path, const std::string& name) {
  auto symbols = SymbolTable::from_elf(path);
  REQUIRE(symbols.has_value());
  const Symbol* symbol = symbols->find(name);
  REQUIRE(symbol != nullptr);
  return symbol->address;
}

std::string scratch(const std::string& name) {
  const auto dir = cache_dir() / "cfi-table";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Under AddressSanitizer (clang's -fsanitize=address: the sanitizer build).
#if defined(__has_feature)
constexpr bool kSanitized = __has_feature(address_sanitizer);
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

TEST_CASE("vmlinux CFI: the entry row and a row after the prologue", "[symbols][cfi]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    const std::string vmlinux = c->vmlinux();
    const auto started = std::chrono::steady_clock::now();
    auto opened = CfiTable::open(vmlinux, 0);
    const double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    REQUIRE(opened.has_value());
    // The tables are parsed on the first lookup, not here (the sanitizers
    // slow opening the ELF file tenfold).
    CHECK(open_seconds < (kSanitized ? 0.5 : 0.05));
    const CfiTable& table = **opened;

    const uint64_t vfs_write = symbol_address(c->vmlinux(), "vfs_write");
    CfiRow entry = require_row(table, vfs_write);
    CHECK(entry.start == vfs_write);
    CHECK(entry.cfa_supported);
    CHECK(entry.cfa_register == sp_register(*c));
    CHECK(entry.cfa_offset == (is_x86_64(*c) ? 8 : 0));
    CHECK(entry.return_address_register == ra_register(*c));
    if (is_x86_64(*c)) {
      // The call pushed the return address just below the CFA.
      auto ra = rule_of(entry, 16);
      REQUIRE(ra.has_value());
      CHECK(ra->kind == CfiRule::Kind::at_cfa_offset);
      CHECK(ra->offset == -8);
    } else {
      CHECK(entry.rules.empty());  // x30 still holds the return address
    }
    REQUIRE(entry.end > entry.start);

    // The next row: the prologue has moved the stack pointer and saved a
    // callee-saved register (x86_64: the first push, r14 in vfs_write; arm64:
    // the x29/x30 frame record).
    CfiRow body = require_row(table, entry.end);
    CHECK(body.start == entry.end);
    CHECK(body.cfa_register == sp_register(*c));
    CHECK(body.cfa_offset > entry.cfa_offset);
    if (is_x86_64(*c)) {
      CHECK(body.cfa_offset == 16);
      auto r14 = rule_of(body, 14);
      REQUIRE(r14.has_value());
      CHECK(r14->kind == CfiRule::Kind::at_cfa_offset);
      CHECK(r14->offset == -16);
      auto ra = rule_of(body, 16);
      REQUIRE(ra.has_value());
      CHECK(ra->offset == -8);
    } else {
      auto x29 = rule_of(body, 29);
      auto x30 = rule_of(body, 30);
      REQUIRE(x29.has_value());
      REQUIRE(x30.has_value());
      CHECK(x29->kind == CfiRule::Kind::at_cfa_offset);
      CHECK(x29->offset == -body.cfa_offset);
      CHECK(x30->offset == x29->offset + 8);
    }
    // Every address of the row finds the same row.
    CfiRow again = require_row(table, body.end - 1);
    CHECK(again.start == body.start);
    CHECK(again.end == body.end);
  }
}

TEST_CASE("vmlinux CFI: the first lookups (a scan of .debug_frame) find what the sorted index finds",
          "[symbols][cfi]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto symbols = SymbolTable::from_elf(c->vmlinux());
    REQUIRE(symbols.has_value());
    // Inside every 1000th function, and one data address (no FDE covers it).
    std::vector<uint64_t> addresses;
    size_t functions = 0;
    for (const Symbol& symbol : symbols->by_address())
      if (symbol.is_function && symbol.size > 8 && functions++ % 1000 == 0) addresses.push_back(symbol.address + 5);
    addresses.push_back(symbol_address(c->vmlinux(), "init_task"));
    REQUIRE(addresses.size() > 8);
    auto sorted = CfiTable::open(c->vmlinux(), 0);
    REQUIRE(sorted.has_value());
    for (int i = 0; i < 8; ++i) (void)(*sorted)->find(addresses.front());  // past the scanned lookups
    size_t rows = 0;
    for (uint64_t address : addresses) {
      INFO(std::hex << address);
      auto scanned = CfiTable::open(c->vmlinux(), 0);  // a new table: its first lookup scans
      REQUIRE(scanned.has_value());
      auto by_scan = (*scanned)->find(address);
      auto by_index = (*sorted)->find(address);
      REQUIRE(by_scan.has_value());
      REQUIRE(by_index.has_value());
      REQUIRE(by_scan->has_value() == by_index->has_value());
      if (!*by_scan) continue;
      ++rows;
      CHECK((*by_scan)->start == (*by_index)->start);
      CHECK((*by_scan)->end == (*by_index)->end);
      CHECK((*by_scan)->cfa_offset == (*by_index)->cfa_offset);
    }
    CHECK(rows >= addresses.size() / 2);  // C functions have FDEs; some assembly ones none
    auto data = (*sorted)->find(addresses.back());
    REQUIRE(data.has_value());
    CHECK(!data->has_value());  // init_task: no FDE covers data
  }
}

TEST_CASE("vmlinux CFI at run-time addresses: the bias moves every row", "[symbols][cfi]") {
  const DumpCase* c = one_case_per_kernel().back();
  const int64_t slide = 0x1e00000;
  auto linked = CfiTable::open(c->vmlinux(), 0);
  auto slid = CfiTable::open(c->vmlinux(), slide);
  REQUIRE(linked.has_value());
  REQUIRE(slid.has_value());
  const uint64_t panic = symbol_address(c->vmlinux(), "panic") + 12;
  CfiRow a = require_row(**linked, panic);
  CfiRow b = require_row(**slid, panic + slide);
  CHECK(b.start == a.start + slide);
  CHECK(b.end == a.end + slide);
  CHECK(b.cfa_offset == a.cfa_offset);
  CHECK(b.rules.size() == a.rules.size());
  // Outside every function: no row, not an error.
  auto none = (*slid)->find(0x1000);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("module CFI: FDEs found at the run-time addresses of their sections", "[symbols][cfi]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    const std::string ko = c->module_path();
    auto symbols = SymbolTable::from_elf(ko);
    REQUIRE(symbols.has_value());
    // fx_write is in .text, fx_sleep_leaf in .text.unlikely: two placements.
    const Symbol* leaf = symbols->find("fx_sleep_leaf.constprop.0");
    const Symbol* write = symbols->find("fx_write");
    REQUIRE(leaf != nullptr);
    REQUIRE(write != nullptr);
    REQUIRE(leaf->section != write->section);

    const SectionAddresses sections{{".text", 0xffffffffc0002000}, {".text.unlikely", 0xffffffffc0009000}};
    auto table = CfiTable::open(ko, 0, &sections);
    REQUIRE(table.has_value());
    for (const Symbol* function : {leaf, write}) {
      INFO(function->name);
      const uint64_t start = sections.at(function->section) + function->address;
      CfiRow entry = require_row(**table, start);
      CHECK(entry.start == start);
      CHECK(entry.cfa_register == sp_register(*c));
      CHECK(entry.return_address_register == ra_register(*c));
      CfiRow inside = require_row(**table, start + function->size - 1);
      CHECK(inside.end <= start + function->size);
    }
    // The unplaced link-time address is no longer covered by those FDEs.
    auto unplaced = (*table)->find(leaf->address + 1);
    REQUIRE(unplaced.has_value());
    if (unplaced->has_value()) CHECK((*unplaced)->start != leaf->address);
  }
}

TEST_CASE("CFI errors name the file", "[symbols][cfi][corrupt]") {
  const std::string missing = scratch("no-such-vmlinux");
  auto absent = CfiTable::open(missing, 0);
  REQUIRE_FALSE(absent.has_value());
  CHECK(absent.error().message().find(missing) != std::string::npos);

  const DumpCase* c = one_case_per_kernel().front();
  const std::string stripped = scratch("no-frames.ko");
  run_command("objcopy --remove-section=.debug_frame --remove-section=.rela.debug_frame --remove-section=.eh_frame "
              "--remove-section=.rela.eh_frame '" + c->module_path() + "' '" + stripped + "'");
  auto no_frames = CfiTable::open(stripped, 0);
  REQUIRE_FALSE(no_frames.has_value());
  CHECK(no_frames.error().code() == Errc::not_found);
  CHECK(no_frames.error().message().find(stripped) != std::string::npos);
  CHECK(no_frames.error().message().find(".debug_frame") != std::string::npos);
}

TEST_CASE("a corrupt .debug_frame gives an error naming file and section, never a crash", "[symbols][cfi][corrupt]") {
  const DumpCase* c = one_case_per_kernel().front();
  const std::string copy = scratch("bad-frames.ko");
  std::filesystem::copy_file(c->module_path(), copy, std::filesystem::copy_options::overwrite_existing);
  // The offset of .debug_frame in the file, from readelf.
  const std::string offset_text = run_command("readelf -SW '" + copy +
                                              "' | awk '$2==\".debug_frame\" {print $5}'");
  const uint64_t offset = std::stoull(offset_text, nullptr, 16);
  REQUIRE(offset > 0);
  {
    // The first FDE (after the CIE) claims to be longer than the section.
    std::fstream file(copy, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset));
    uint32_t cie_length = 0;
    file.read(reinterpret_cast<char*>(&cie_length), 4);
    file.seekp(static_cast<std::streamoff>(offset + 4 + cie_length));
    const uint32_t huge = 0x7ffffff0;
    file.write(reinterpret_cast<const char*>(&huge), 4);
  }
  auto table = CfiTable::open(copy, 0);
  REQUIRE(table.has_value());  // open() only checks that the tables exist
  auto row = (*table)->find(0x10);
  REQUIRE_FALSE(row.has_value());
  CHECK(row.error().message().find(copy) != std::string::npos);
  CHECK(row.error().message().find(".debug_frame") != std::string::npos);
  // The error is kept: the next lookup reports it again.
  CHECK_FALSE((*table)->find(0x20).has_value());
}
