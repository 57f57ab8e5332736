#include "symbols/orc_table.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace coroner;
using namespace coroner::test;
using symbols::OrcFormat;
using symbols::OrcRegister;
using symbols::OrcArrays;
using symbols::OrcTable;
using symbols::OrcType;

namespace {

constexpr uint64_t kIpArray = 0xffffffff81c00000ULL;

struct RawEntry {
  uint64_t ip;
  int16_t sp_offset;
  int16_t bp_offset;
  uint16_t flags;
};

// The two arrays as the kernel lays them out: each ip relative to its own
// slot at kIpArray + 4 * i.
struct Arrays {
  std::vector<std::byte> ips, entries;
};

Arrays arrays_of(const std::vector<RawEntry>& raw) {
  Arrays out;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto relative = static_cast<int32_t>(static_cast<int64_t>(raw[i].ip - (kIpArray + 4 * i)));
    const auto* r = reinterpret_cast<const std::byte*>(&relative);
    out.ips.insert(out.ips.end(), r, r + 4);
    for (const void* field : {static_cast<const void*>(&raw[i].sp_offset), static_cast<const void*>(&raw[i].bp_offset),
                              static_cast<const void*>(&raw[i].flags)}) {
      const auto* f = static_cast<const std::byte*>(field);
      out.entries.insert(out.entries.end(), f, f + 2);
    }
  }
  return out;
}

OrcTable table_of(const std::vector<RawEntry>& raw, const OrcFormat& format) {
  Arrays a = arrays_of(raw);
  auto table = OrcTable::build(OrcArrays::owning(a.ips, kIpArray, a.entries), format, "test");
  if (!table) FAIL(table.error().message());
  return std::move(*table);
}

// Flags words of the layout before 6.3: sp_reg:4 bp_reg:4 type:2 end:1.
uint16_t old_flags(unsigned sp_reg, unsigned bp_reg, unsigned type, bool end = false) {
  return static_cast<uint16_t>(sp_reg | bp_reg << 4 | type << 8 | (end ? 1u << 10 : 0));
}
// Since 6.4: sp_reg:4 bp_reg:4 type:3 signal:1.
uint16_t new_flags(unsigned sp_reg, unsigned bp_reg, unsigned type, bool signal = false) {
  return static_cast<uint16_t>(sp_reg | bp_reg << 4 | type << 8 | (signal ? 1u << 11 : 0));
}

constexpr unsigned kSp = 5, kBp = 4, kPrevSp = 1, kUndefined = 0;

}  // namespace

TEST_CASE("ORC tables before 6.3: types, end marks and lookups at boundaries", "[symbols][orc]") {
  const uint64_t text = 0xffffffff81000000ULL;
  OrcTable table = table_of({{text, 8, 0, old_flags(kSp, kUndefined, 0)},
                             {text + 0x10, 16, -16, old_flags(kSp, kPrevSp, 0)},
                             {text + 0x20, 0, 0, old_flags(kSp, kUndefined, 1)},
                             {text + 0x30, 8, 0, old_flags(kSp, kUndefined, 2)},
                             {text + 0x40, 0, 0, old_flags(kUndefined, kUndefined, 0, true)},
                             {text + 0x50, 0, 0, old_flags(kUndefined, kUndefined, 0, false)},
                             {text + 0x60, 8, 0, old_flags(kBp, kUndefined, 3)}},
                            OrcFormat::before_6_3());
  REQUIRE(table.size() == 7);

  CHECK_FALSE(table.find(text - 1).has_value());
  auto first = table.find(text);
  REQUIRE(first);
  CHECK(first->type == OrcType::call);
  CHECK(first->sp_reg == OrcRegister::sp);
  CHECK(first->sp_offset == 8);
  CHECK_FALSE(first->signal);

  auto second = table.find(text + 0xf);  // still the first entry
  REQUIRE(second);
  CHECK(second->sp_offset == 8);
  auto frame = table.find(text + 0x10);
  REQUIRE(frame);
  CHECK(frame->sp_offset == 16);
  CHECK(frame->bp_offset == -16);
  CHECK(frame->bp_reg == OrcRegister::prev_sp);

  auto regs = table.find(text + 0x25);
  REQUIRE(regs);
  CHECK(regs->type == OrcType::regs);
  CHECK(regs->signal);  // no signal bit: pt_regs frames interrupted their caller
  auto partial = table.find(text + 0x30);
  REQUIRE(partial);
  CHECK(partial->type == OrcType::regs_partial);
  CHECK(partial->signal);

  CHECK(table.find(text + 0x40)->type == OrcType::end_of_stack);
  CHECK(table.find(text + 0x50)->type == OrcType::undefined);  // a terminator: end clear
  auto bad = table.find(~0ULL);  // past the last ip: the last entry
  REQUIRE(bad);
  CHECK(bad->type == OrcType::unknown);
  CHECK(bad->raw_type == 3);
  CHECK(bad->sp_reg == OrcRegister::bp);
}

TEST_CASE("ORC tables since 6.4 number UNDEFINED and END_OF_STACK and carry the signal bit", "[symbols][orc]") {
  const uint64_t text = 0xffffffffc0000000ULL;
  OrcTable table = table_of({{text, 0, 0, new_flags(kUndefined, kUndefined, 0)},
                             {text + 4, 0, 0, new_flags(kUndefined, kUndefined, 1)},
                             {text + 8, 8, 0, new_flags(kSp, kUndefined, 2)},
                             {text + 12, 8, 0, new_flags(kSp, kUndefined, 2, true)},
                             {text + 16, 0, 0, new_flags(kSp, kUndefined, 3, true)},
                             {text + 20, 8, 0, new_flags(kSp, kUndefined, 4, true)},
                             {text + 24, 8, 0, new_flags(kSp, kUndefined, 5)}},
                            OrcFormat::since_6_4());
  CHECK(table.find(text)->type == OrcType::undefined);
  CHECK(table.find(text + 5)->type == OrcType::end_of_stack);
  CHECK(table.find(text + 8)->type == OrcType::call);
  CHECK_FALSE(table.find(text + 8)->signal);
  CHECK(table.find(text + 12)->type == OrcType::call);
  CHECK(table.find(text + 12)->signal);
  CHECK(table.find(text + 16)->type == OrcType::regs);
  CHECK(table.find(text + 20)->type == OrcType::regs_partial);
  CHECK(table.find(text + 24)->type == OrcType::unknown);
  CHECK(table.find(text + 24)->raw_type == 5);
}

TEST_CASE("ORC tables of 6.3 have both the signal and the end bit", "[symbols][orc]") {
  const uint64_t text = 0xffffffff81000000ULL;
  const uint16_t call_signal = static_cast<uint16_t>(kSp | 0u << 8 | 1u << 10);
  const uint16_t end = static_cast<uint16_t>(kUndefined | 1u << 11);
  OrcTable table = table_of({{text, 8, 0, call_signal}, {text + 8, 0, 0, end}}, OrcFormat::linux_6_3());
  CHECK(table.find(text)->type == OrcType::call);
  CHECK(table.find(text)->signal);
  CHECK(table.find(text + 8)->type == OrcType::end_of_stack);
  // Read with the pre-6.3 layout, bit 10 would be `end` and bit 11 nothing.
  OrcTable misread = table_of({{text + 8, 0, 0, end}}, OrcFormat::before_6_3());
  CHECK(misread.find(text + 8)->type == OrcType::undefined);
}

TEST_CASE("Unsorted ORC tables are sorted as the kernel sorts them, terminators first", "[symbols][orc]") {
  const uint64_t text = 0xffffffff81000000ULL;
  // A weak terminator after the real entry at the same ip, and ips out of order.
  OrcTable table = table_of({{text + 0x20, 24, 0, old_flags(kSp, kUndefined, 0)},
                             {text + 0x10, 16, 0, old_flags(kSp, kUndefined, 0)},
                             {text + 0x10, 0, 0, old_flags(kUndefined, kUndefined, 0, false)},
                             {text, 8, 0, old_flags(kSp, kUndefined, 0)}},
                            OrcFormat::before_6_3());
  CHECK(table.find(text + 4)->sp_offset == 8);
  auto duplicate = table.find(text + 0x10);
  REQUIRE(duplicate);
  CHECK(duplicate->type == OrcType::call);  // the real entry wins over the terminator
  CHECK(duplicate->sp_offset == 16);
  CHECK(table.find(text + 0x1000)->sp_offset == 24);
}

TEST_CASE("ORC tables with inconsistent sizes are errors naming the source", "[symbols][orc]") {
  Arrays a = arrays_of({{0xffffffff81000000ULL, 8, 0, old_flags(kSp, kUndefined, 0)},
                        {0xffffffff81000010ULL, 8, 0, old_flags(kSp, kUndefined, 0)}});
  const OrcFormat format = OrcFormat::before_6_3();

  auto short_ips = OrcTable::build({std::span(a.ips).first(7), kIpArray, a.entries, nullptr}, format, "vmlinux-test");
  REQUIRE_FALSE(short_ips);
  CHECK(short_ips.error().code() == Errc::corrupt);
  CHECK_THAT(short_ips.error().message(), Catch::Contains("vmlinux-test") && Catch::Contains(".orc_unwind_ip"));

  auto short_entries = OrcTable::build({a.ips, kIpArray, std::span(a.entries).first(11), nullptr}, format, "vmlinux-test");
  REQUIRE_FALSE(short_entries);
  CHECK_THAT(short_entries.error().message(), Catch::Contains(".orc_unwind is 11 bytes"));

  auto mismatch = OrcTable::build({a.ips, kIpArray, std::span(a.entries).first(6), nullptr}, format, "module fx");
  REQUIRE_FALSE(mismatch);
  CHECK_THAT(mismatch.error().message(), Catch::Contains("module fx") && Catch::Contains("2 entries") &&
                                             Catch::Contains("has 1"));

  auto empty = OrcTable::build({{}, kIpArray, {}, nullptr}, format, "empty");
  REQUIRE(empty);
  CHECK_FALSE(empty->find(0xffffffff81000000ULL).has_value());
}

TEST_CASE("ORC layout by kernel release", "[symbols][orc]") {
  auto same = [](const OrcFormat& a, const OrcFormat& b) {
    return a.type_bits == b.type_bits && a.end_shift == b.end_shift && a.signal_shift == b.signal_shift &&
           a.explicit_end_types == b.explicit_end_types;
  };
  CHECK(same(OrcFormat::for_release("4.18.0-553.el8_10.x86_64"), OrcFormat::before_6_3()));
  CHECK(same(OrcFormat::for_release("6.1.0-18-amd64"), OrcFormat::before_6_3()));
  CHECK(same(OrcFormat::for_release("6.3.7"), OrcFormat::linux_6_3()));
  CHECK(same(OrcFormat::for_release("6.4.0"), OrcFormat::since_6_4()));
  CHECK(same(OrcFormat::for_release("6.12.1"), OrcFormat::since_6_4()));
  CHECK(same(OrcFormat::for_release("10.0"), OrcFormat::since_6_4()));
  CHECK(same(OrcFormat::for_release(""), OrcFormat::before_6_3()));
  CHECK(same(OrcFormat::for_release("six"), OrcFormat::before_6_3()));
}

TEST_CASE("ORC layout from the fixture kernels' DWARF", "[symbols][orc][dwarf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto info = symbols::DebugInfo::open(c->vmlinux(), (cache_dir() / "symbols-index" / c->arch_dir).string());
    REQUIRE(info.has_value());
    auto format = OrcFormat::from_debug_info(**info);
    if (c->arch_dir.find("x86_64") == std::string::npos) {
      // arm64 has no ORC: no struct orc_entry.
      REQUIRE_FALSE(format);
      CHECK(format.error().code() == Errc::not_found);
      continue;
    }
    // 6.1 (pahole: sp_reg 4:0, bp_reg 4:4, type:2 at 4:8, end at 4:10).
    REQUIRE(format);
    CHECK(format->sp_reg_shift == 0);
    CHECK(format->bp_reg_shift == 4);
    CHECK(format->type_shift == 8);
    CHECK(format->type_bits == 2);
    CHECK(format->end_shift == std::optional<unsigned>(10));
    CHECK_FALSE(format->signal_shift.has_value());
    CHECK_FALSE(format->explicit_end_types);
  }
}
