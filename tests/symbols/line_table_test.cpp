// LineTable over a DebugInfo: types from BTF have no line table to share, and
// asking for one says so in one line instead of reaching for DWARF.
#include "symbols/line_table.hpp"

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
