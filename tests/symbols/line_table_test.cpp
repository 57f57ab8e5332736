// LineTable over a DebugInfo: types from BTF have no line table to share, and
// asking for one says so in one line instead of reaching for DWARF.
#include "symbols/line_table.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <linux/btf.h>

#include <cstring>

using namespace coroner;
using coroner::symbols::DebugInfo;
using coroner::symbols::LineTable;

TEST_CASE("a line table over BTF types is refused in one line", "[symbols][btf]") {
  // BTF of one type: int.
  const uint32_t types[] = {1, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32};
  const char strings[] = "\0int";
  const btf_header header{BTF_MAGIC, BTF_VERSION, 0, sizeof(btf_header), 0, sizeof types, sizeof types, sizeof strings};
  std::vector<std::byte> bytes(sizeof header + sizeof types + sizeof strings);
  std::memcpy(bytes.data(), &header, sizeof header);
  std::memcpy(bytes.data() + sizeof header, types, sizeof types);
  std::memcpy(bytes.data() + sizeof header + sizeof types, strings, sizeof strings);
  auto btf = DebugInfo::open_btf(std::move(bytes), "vmcore: BTF at 0xffffffff82438070");
  REQUIRE(btf.has_value());
  CHECK((*btf)->type_size("int").value_or(0) == 4);

  auto table = LineTable::over(**btf);
  REQUIRE_FALSE(table.has_value());
  CHECK(table.error().code() == Errc::not_found);
  CHECK(table.error().message() ==
        "vmcore: BTF at 0xffffffff82438070: no DWARF (types from BTF): line numbers/locals need the vmlinux");
}

TEST_CASE("inline chains without lines name the functions the chains with lines name", "[symbols][lines]") {
  for (const coroner::test::DumpCase* c : coroner::test::one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto symbols = coroner::symbols::SymbolTable::from_elf(c->vmlinux());
    REQUIRE(symbols.has_value());
    auto table = LineTable::open(c->vmlinux());
    REQUIRE(table.has_value());
    size_t chains = 0, inlined = 0, with_lines = 0;
    size_t functions = 0;
    for (const coroner::symbols::Symbol& symbol : symbols->by_address()) {
      if (!symbol.is_function || symbol.size < 64 || functions++ % 1500 != 0) continue;
      for (uint64_t offset : {uint64_t{16}, symbol.size / 2}) {
        const uint64_t address = symbol.address + offset;
        INFO(symbol.name << "+" << offset);
        const auto names = (*table)->inlined_frames(address, false);
        const auto full = (*table)->inlined_frames(address, true);
        REQUIRE(names.size() == full.size());
        for (size_t i = 0; i < names.size(); ++i) {
          CHECK(names[i].function == full[i].function);
          CHECK(names[i].file.empty());
          CHECK(names[i].line == 0);
        }
        if (!full.empty()) ++chains;
        if (!full.empty() && full.back().line != 0) ++with_lines;
        if (full.size() > 1) ++inlined;
      }
    }
    CHECK(chains > 10);
    CHECK(with_lines * 2 > chains);  // the chains with lines have them
    CHECK(inlined > 0);  // some addresses lie in inlined code
  }
}
