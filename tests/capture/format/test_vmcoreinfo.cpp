// VMCOREINFO parsing: typed lookups, number formats, missing keys, and the
// real notes against facts.json.
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <limits>

namespace coroner {

TEST_CASE("VmcoreInfo: typed lookups of each key kind", "[vmcoreinfo]") {
  VmcoreInfo info = VmcoreInfo::parse(
      "OSRELEASE=6.1.192\n"
      "BUILD-ID=320cf4adeb68f90f829bf4ffae2e9cf5672f7182\n"
      "PAGESIZE=4096\n"
      "SYMBOL(swapper_pg_dir)=ffffffff85a0a000\n"
      "OFFSET(page.flags)=0\n"
      "OFFSET(page._refcount)=52\n"
      "SIZE(page)=64\n"
      "LENGTH(zone.free_area)=11\n"
      "NUMBER(phys_base)=-383778816\n"
      "NUMBER(PG_slab)=9\n"
      "NUMBER(kimage_voffset)=0xffffdb15ae200000\n"
      "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
      "KERNELOFFSET=3e00000\n"
      "CRASHTIME=1795374250\n"
      "not a key value line\n"
      "=no key\n"
      "NUMBER(pgtable_l5_enabled)=1");  // last line without newline
  CHECK(!info.empty());
  CHECK(info.osrelease() == "6.1.192");
  CHECK(info.build_id() == "320cf4adeb68f90f829bf4ffae2e9cf5672f7182");
  CHECK(info.page_size() == 4096u);
  CHECK(info.symbol("swapper_pg_dir") == 0xffffffff85a0a000u);
  CHECK(info.offset("page.flags") == 0u);
  CHECK(info.offset("page._refcount") == 52u);
  CHECK(info.size("page") == 64u);
  CHECK(info.length("zone.free_area") == 11u);
  CHECK(info.number("phys_base") == -383778816);
  CHECK(info.number("PG_slab") == 9);
  CHECK(static_cast<uint64_t>(*info.number("kimage_voffset")) == 0xffffdb15ae200000u);
  CHECK(info.number("PAGE_BUDDY_MAPCOUNT_VALUE") == -129);
  CHECK(info.number("pgtable_l5_enabled") == 1);
  CHECK(info.kernel_offset() == 0x3e00000u);
  CHECK(info.crash_time() == 1795374250);
  CHECK(info.entries().size() == 15);
  CHECK(!info.get(""));
  CHECK(!info.get("not a key value line"));
}

TEST_CASE("VmcoreInfo: missing keys are nullopt, and required ones say which", "[vmcoreinfo]") {
  VmcoreInfo info = VmcoreInfo::parse("OSRELEASE=6.1\n");
  CHECK(!info.symbol("init_uts_ns"));
  CHECK(!info.number("phys_base"));
  CHECK(!info.page_size());
  CHECK(!info.kernel_offset());
  CHECK(info.build_id().empty());
  auto symbol = info.require_symbol("init_uts_ns");
  REQUIRE(!symbol);
  CHECK(symbol.error().code() == Errc::not_found);
  CHECK(symbol.error().message() == "VMCOREINFO has no SYMBOL(init_uts_ns)");
  CHECK(info.require_number("phys_base").error().message() == "VMCOREINFO has no NUMBER(phys_base)");
  CHECK(info.require_offset("page.flags").error().message() == "VMCOREINFO has no OFFSET(page.flags)");
  CHECK(info.require_size("page").error().message() == "VMCOREINFO has no SIZE(page)");
  CHECK(VmcoreInfo::parse("").empty());
  // A value that is not a number is as good as missing, never a wrong value.
  VmcoreInfo bad = VmcoreInfo::parse("PAGESIZE=4k\nSYMBOL(x)=xyz\nNUMBER(n)=\n");
  CHECK(!bad.page_size());
  CHECK(!bad.symbol("x"));
  CHECK(!bad.number("n"));
}

TEST_CASE("parse_uint and parse_int: bases, signs, bounds", "[vmcoreinfo]") {
  CHECK(parse_uint("123", 10) == 123u);
  CHECK(parse_uint("0x1f", 0) == 0x1fu);
  CHECK(parse_uint("0X1F", 16) == 0x1fu);
  CHECK(parse_uint("1f", 16) == 0x1fu);
  CHECK(parse_uint("17", 0) == 17u);
  CHECK(parse_uint("42\r", 10) == 42u);  // CRLF text
  CHECK(parse_uint("18446744073709551615", 10) == std::numeric_limits<uint64_t>::max());
  CHECK(!parse_uint("18446744073709551616", 10));  // overflow
  CHECK(!parse_uint("", 10));
  CHECK(!parse_uint("0x", 0));
  CHECK(!parse_uint("12a", 10));
  CHECK(!parse_uint("-1", 10));
  CHECK(!parse_uint(" 1", 10));

  CHECK(parse_int("-129", 10) == -129);
  CHECK(parse_int("-0x10", 0) == -16);
  CHECK(parse_int("0xffffffffffffffff", 0) == -1);  // full-width hex keeps its bits
  CHECK(parse_int("-9223372036854775808", 10) == std::numeric_limits<int64_t>::min());
  CHECK(!parse_int("-9223372036854775809", 10));
  CHECK(!parse_int("-18446744073709551615", 10));
  CHECK(!parse_int("-", 10));
  CHECK(!parse_int("--1", 10));
}

TEST_CASE("VmcoreInfo of the real ELF dumps: typed values equal facts.json", "[vmcoreinfo][fixtures]") {
  for (const test::DumpCase& c : test::all_dumps()) {
    if (c.variant != "vmcore" && c.variant != "elf") continue;
    DYNAMIC_SECTION(c.id) {
      auto source = open_file_source(c.files().front());
      REQUIRE(source);
      auto dump = open_elf_dump(*source);
      REQUIRE(dump);
      auto text = (*dump)->vmcoreinfo_text();
      REQUIRE(text);
      VmcoreInfo info = VmcoreInfo::parse(*text);
      const auto& facts = c.facts()["vmcoreinfo"];
      CHECK(info.osrelease() == facts["OSRELEASE"].get<std::string>());
      CHECK(info.build_id() == facts["BUILD-ID"].get<std::string>());
      CHECK(info.kernel_offset() == std::stoull(facts["KERNELOFFSET"].get<std::string>(), nullptr, 16));
      CHECK(info.symbol("swapper_pg_dir") == test::hex_value(facts["SYMBOL(swapper_pg_dir)"]));
      if (facts.contains("NUMBER(phys_base)"))
        CHECK(info.number("phys_base") == std::stoll(facts["NUMBER(phys_base)"].get<std::string>()));
      if (facts.contains("NUMBER(VA_BITS)")) CHECK(info.number("VA_BITS") == 48);
      if (facts.contains("NUMBER(kimage_voffset)"))
        CHECK(static_cast<uint64_t>(*info.number("kimage_voffset")) == test::hex_value(facts["NUMBER(kimage_voffset)"]));
      CHECK(info.size("page") == 64u);
      CHECK(info.offset("page.flags") == 0u);
    }
  }
}

}  // namespace coroner
