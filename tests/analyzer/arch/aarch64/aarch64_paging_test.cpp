// arm64 table walks on synthetic tables: every granule and level count,
// blocks, 52-bit physical addresses, invalid and reserved entries.
#include "analyzer/arch/aarch64/aarch64_paging.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace coroner;
using namespace coroner::arch;

namespace {

constexpr uint64_t kTable = 0x3;                   // VALID|TABLE
constexpr uint64_t kPage = 0x3 | 0x400 | 0x300;    // VALID|PAGE|AF|SHARED
constexpr uint64_t kBlock = 0x1 | 0x400 | 0x300;   // VALID|BLOCK|AF|SHARED

// Physical memory holding only table entries.
struct FakeTables {
  std::map<uint64_t, uint64_t> entries;
  uint64_t next_table = 0x100000000;  // tables are allocated upwards from 4 GiB

  EntryReader reader() const {
    return [this](uint64_t paddr) -> Expected<uint64_t> {
      auto it = entries.find(paddr);
      if (it == entries.end()) return make_error(Errc::not_in_dump, "physical {:#x} not in the fake dump", paddr);
      return it->second;
    };
  }
  uint64_t new_table(const Aarch64Paging& p) {
    uint64_t t = next_table;
    next_table += p.page_size();
    return t;
  }
  // Maps `vaddr` with a leaf at walk step `leaf_step` (the last step: a page;
  // earlier: a block) whose entry is `leaf`; returns the entry addresses.
  std::vector<uint64_t> map(const Aarch64Paging& p, uint64_t root, uint64_t vaddr, unsigned leaf_step, uint64_t leaf,
                            uint64_t (*encode)(uint64_t) = [](uint64_t a) { return a; }) {
    std::vector<uint64_t> addrs;
    uint64_t table = root;
    for (unsigned step = 0;; ++step) {
      unsigned shift = p.shift(step);
      unsigned width = std::min(p.bits_per_level(), p.va_bits - shift);
      uint64_t slot = table + ((vaddr >> shift) & ((uint64_t{1} << width) - 1)) * 8;
      addrs.push_back(slot);
      if (step == leaf_step) {
        entries[slot] = leaf;
        return addrs;
      }
      auto it = entries.find(slot);
      if (it == entries.end()) {
        uint64_t next = new_table(p);
        it = entries.emplace(slot, encode(next) | kTable).first;
      }
      table = p.output_address(it->second, p.page_shift);
    }
  }
};

Aarch64Paging paging(uint64_t page_size, unsigned va_bits, bool lpa = false) {
  auto p = make_aarch64_paging(page_size, va_bits, lpa);
  REQUIRE(p);
  return *p;
}

uint64_t kernel_address(const Aarch64Paging& p, uint64_t offset) { return (~uint64_t{0} << p.va_bits) | offset; }

}  // namespace

TEST_CASE("arm64 geometry from granule and VA size", "[arch][aarch64]") {
  struct Case {
    uint64_t page;
    unsigned va;
    bool lpa;
    unsigned levels;
    std::vector<std::string> names;
  };
  std::vector<Case> cases = {
      {4096, 39, false, 3, {"PGD", "PMD", "PTE"}},
      {4096, 48, false, 4, {"PGD", "PUD", "PMD", "PTE"}},
      {4096, 52, true, 5, {"PGD", "P4D", "PUD", "PMD", "PTE"}},
      {16384, 36, false, 2, {"PGD", "PTE"}},
      {16384, 47, false, 3, {"PGD", "PMD", "PTE"}},
      {16384, 48, false, 4, {"PGD", "PUD", "PMD", "PTE"}},
      {16384, 52, true, 4, {"PGD", "PUD", "PMD", "PTE"}},
      {65536, 42, false, 2, {"PGD", "PTE"}},
      {65536, 48, false, 3, {"PGD", "PMD", "PTE"}},
      {65536, 52, true, 3, {"PGD", "PMD", "PTE"}},
  };
  for (const Case& c : cases) {
    INFO(c.page << "/" << c.va);
    Aarch64Paging p = paging(c.page, c.va, c.lpa);
    REQUIRE(p.levels == c.levels);
    for (unsigned i = 0; i < p.levels; ++i) CHECK(p.level_name(i) == c.names[i]);
    CHECK(p.hw_level(p.levels - 1) == 3);
    CHECK(p.shift(p.levels - 1) == p.page_shift);
    CHECK(p.lpa2 == (c.lpa && c.page != 65536));
    CHECK(p.lpa == (c.lpa && c.page == 65536));
  }
}

TEST_CASE("arm64 geometry rejects what no CPU has", "[arch][aarch64]") {
  auto bad = [](uint64_t page, unsigned va, bool lpa) {
    auto p = make_aarch64_paging(page, va, lpa);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == Errc::unsupported);
    return p.error().message();
  };
  CHECK(bad(8192, 48, false) == "arm64: page size 8192 is not a granule (4K, 16K or 64K)");
  CHECK(bad(4096, 52, false) == "arm64: 52-bit virtual addresses with the 4K granule are not supported");
  CHECK(bad(4096, 50, true) == "arm64: 50-bit virtual addresses with the 4K granule and 52-bit PA are not supported");
  CHECK_FALSE(make_aarch64_paging(4096, 21, false));
  CHECK_FALSE(make_aarch64_paging(65536, 29, false));
  CHECK_FALSE(make_aarch64_paging(4096, 64, false));
}

TEST_CASE("arm64 walks reach pages in every geometry, kernel and user", "[arch][aarch64]") {
  struct Case {
    uint64_t page;
    unsigned va;
    bool lpa;
  };
  for (Case c : {Case{4096, 39, false}, Case{4096, 48, false}, Case{4096, 52, true}, Case{16384, 36, false},
                 Case{16384, 47, false}, Case{16384, 48, false}, Case{16384, 52, true}, Case{65536, 42, false},
                 Case{65536, 48, false}, Case{65536, 52, true}}) {
    Aarch64Paging p = paging(c.page, c.va, c.lpa);
    for (bool kernel : {true, false}) {
      INFO(c.page << "/" << c.va << (kernel ? " kernel" : " user"));
      FakeTables mem;
      uint64_t root = 0x40000000;
      // An address that uses a non-zero index at every level.
      uint64_t offset = 0;
      for (unsigned i = 0; i < p.levels; ++i) offset |= uint64_t{(i % 3) + 1} << p.shift(i);
      offset |= 0x123;
      uint64_t vaddr = kernel ? kernel_address(p, offset) : offset;
      uint64_t frame = 0x80000000 + 7 * p.page_size();
      // USER|UXN; with LPA2 bits 9:8 are address bits, not shareability.
      uint64_t leaf = frame | (p.lpa2 ? 0x403 : kPage) | 0x40 | (uint64_t{1} << 54);
      auto slots = mem.map(p, root, vaddr, p.levels - 1, leaf);

      Translation t = walk_aarch64(p, root, vaddr, mem.reader());
      REQUIRE_FALSE(t.error);
      REQUIRE(t.paddr == frame + 0x123);
      CHECK(t.page_size == p.page_size());
      CHECK(t.vaddr == vaddr);
      CHECK(t.root == root);
      REQUIRE(t.steps.size() == p.levels);
      CHECK(t.steps[0].table == root);
      for (unsigned i = 0; i < p.levels; ++i) {
        CHECK(t.steps[i].level == p.level_name(i));
        CHECK(t.steps[i].entry_addr == slots[i]);
        CHECK(t.steps[i].index == (i % 3) + 1);
        CHECK(t.steps[i].entry == mem.entries[slots[i]]);
        CHECK(t.steps[i].flags == (i + 1 == p.levels ? (p.lpa2 ? "VALID|PAGE|USER|AF|UXN|ATTRINDX=0"
                                                                : "VALID|PAGE|USER|SHARED|AF|UXN|ATTRINDX=0")
                                                     : "VALID|TABLE"));
      }
    }
  }
}

TEST_CASE("arm64 blocks at every level the granule allows", "[arch][aarch64]") {
  struct Case {
    uint64_t page;
    unsigned va;
    bool lpa;
    unsigned step;
    uint64_t size;
    const char* level;
  };
  for (Case c : {Case{4096, 48, false, 1, 1ull << 30, "PUD"}, Case{4096, 48, false, 2, 2ull << 20, "PMD"},
                 Case{4096, 39, false, 0, 1ull << 30, "PGD"}, Case{4096, 39, false, 1, 2ull << 20, "PMD"},
                 Case{16384, 47, false, 1, 32ull << 20, "PMD"}, Case{16384, 48, false, 2, 32ull << 20, "PMD"},
                 Case{65536, 42, false, 0, 512ull << 20, "PGD"}, Case{65536, 48, false, 1, 512ull << 20, "PMD"},
                 Case{65536, 52, true, 0, 4ull << 40, "PGD"}, Case{4096, 52, true, 1, 512ull << 30, "P4D"},
                 Case{16384, 52, true, 1, 64ull << 30, "PUD"}}) {
    INFO(c.page << "/" << c.va << " step " << c.step);
    Aarch64Paging p = paging(c.page, c.va, c.lpa);
    FakeTables mem;
    uint64_t root = 0x40000000;
    uint64_t base = 3 * c.size;  // a block-aligned physical base
    uint64_t vaddr = kernel_address(p, c.size * 5 + 0x4321);
    uint64_t block = p.lpa2 ? (base & ((1ull << 50) - 1)) | ((base >> 50) << 8) | 0x401 : base | kBlock;
    mem.map(p, root, vaddr, c.step, block | (uint64_t{1} << 53));
    Translation t = walk_aarch64(p, root, vaddr, mem.reader());
    REQUIRE_FALSE(t.error);
    CHECK(t.paddr == base + 0x4321);
    CHECK(t.page_size == c.size);
    REQUIRE(t.steps.size() == c.step + 1);
    CHECK(t.steps.back().level == c.level);
    CHECK(t.steps.back().flags == (p.lpa2 ? "VALID|BLOCK|AF|PXN|ATTRINDX=0" : "VALID|BLOCK|SHARED|AF|PXN|ATTRINDX=0"));
  }
}

TEST_CASE("arm64 blocks where the granule forbids them are corrupt", "[arch][aarch64]") {
  struct Case {
    uint64_t page;
    unsigned va;
    unsigned step;
    const char* text;
  };
  for (Case c : {Case{4096, 48, 0, "PGD entry 496 at physical 0x40000f80 is a block (0x701), not allowed at level 0 of the 4K granule"},
                 Case{16384, 48, 1, "PUD entry 0 at physical 0x100000000 is a block (0x701), not allowed at level 1 of the 16K granule"},
                 Case{65536, 48, 0, "PGD entry 0 at physical 0x40000000 is a block (0x701), not allowed at level 1 of the 64K granule"}}) {
    Aarch64Paging p = paging(c.page, c.va);
    FakeTables mem;
    uint64_t vaddr = kernel_address(p, 0);
    if (c.page == 4096) vaddr = 0xfffff80000000000;
    mem.map(p, 0x40000000, vaddr, c.step, kBlock);
    Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
    REQUIRE(t.error);
    CHECK(t.error->code() == Errc::corrupt);
    CHECK_THAT(t.error->message(), Catch::Contains(c.text));
    CHECK_FALSE(t.paddr);
    CHECK(t.steps.size() == c.step + 1);
  }
}

TEST_CASE("arm64 52-bit physical addresses with 64K pages (FEAT_LPA)", "[arch][aarch64]") {
  Aarch64Paging p = paging(65536, 52, true);
  FakeTables mem;
  // Tables and the page above 2^48: PA bits 51:48 travel in entry bits 15:12.
  auto encode = +[](uint64_t a) -> uint64_t { return (a & ((1ull << 48) - 1)) | ((a >> 48) << 12); };
  mem.next_table = 0x000a000012340000;
  uint64_t root = 0x0003000000010000;
  uint64_t frame = 0x000f123456780000;
  uint64_t vaddr = 0xfff0123456789abc;
  auto slots = mem.map(p, root, vaddr, 2, encode(frame) | kPage, encode);
  Translation t = walk_aarch64(p, root, vaddr, mem.reader());
  REQUIRE_FALSE(t.error);
  CHECK(t.paddr == frame + 0x9abc);
  REQUIRE(t.steps.size() == 3);
  CHECK(t.steps[0].index == ((vaddr >> 42) & 0x3ff));  // bits 51:42
  CHECK(t.steps[1].table == 0x000a000012340000);
  CHECK(t.steps[2].entry == (encode(frame) | kPage));
  CHECK(t.steps[2].flags == "VALID|PAGE|SHARED|AF|ATTRINDX=0");
  CHECK(slots[0] == root + ((vaddr >> 42) & 0x3ff) * 8);
}

TEST_CASE("arm64 52-bit physical addresses with 4K pages (FEAT_LPA2)", "[arch][aarch64]") {
  Aarch64Paging p = paging(4096, 52, true);
  FakeTables mem;
  // PA bits 51:50 travel in entry bits 9:8; bits 49:48 stay in place.
  auto encode = +[](uint64_t a) -> uint64_t { return (a & ((1ull << 50) - 1)) | ((a >> 50) << 8); };
  mem.next_table = 0x000c000000000000;
  uint64_t frame = 0x000f000012345000;
  uint64_t vaddr = 0xfff0000000001678;
  mem.map(p, 0x40000000, vaddr, 4, encode(frame) | 0x403 | 0x80, encode);
  Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
  REQUIRE_FALSE(t.error);
  CHECK(t.paddr == frame + 0x678);
  REQUIRE(t.steps.size() == 5);
  CHECK(t.steps[1].table == 0x000c000000000000);
  CHECK(t.steps[4].flags == "VALID|PAGE|RDONLY|AF|ATTRINDX=0");
}

TEST_CASE("arm64 invalid entries stop the walk at each level", "[arch][aarch64]") {
  Aarch64Paging p = paging(4096, 48);
  uint64_t vaddr = 0xffff800012345678;
  for (unsigned stop = 0; stop < p.levels; ++stop) {
    INFO("invalid at step " << stop);
    FakeTables mem;
    auto slots = mem.map(p, 0x40000000, vaddr, stop, 0x0080000000000000);  // not VALID (a swap-like value)
    Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
    REQUIRE(t.error);
    CHECK(t.error->code() == Errc::not_mapped);
    unsigned index = (vaddr >> p.shift(stop)) & 511;
    CHECK(t.error->message() == fmt::format("0xffff800012345678: not mapped: {} entry {} at physical {:#x} is invalid (0x80000000000000)",
                                            p.level_name(stop), index, slots[stop]));
    CHECK_FALSE(t.paddr);
    REQUIRE(t.steps.size() == stop + 1);
    CHECK(t.steps.back().flags == "INVALID");
  }
}

TEST_CASE("arm64 reserved last-level descriptor is not a page", "[arch][aarch64]") {
  Aarch64Paging p = paging(16384, 47);
  FakeTables mem;
  uint64_t vaddr = 0xffff800000004000;
  mem.map(p, 0x40000000, vaddr, 2, 0x80000000 | kBlock);  // 0b01 at level 3
  Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
  REQUIRE(t.error);
  CHECK(t.error->code() == Errc::not_mapped);
  CHECK_THAT(t.error->message(), Catch::Contains("PTE entry 1 at physical") && Catch::Contains("a reserved descriptor"));
  CHECK(t.steps.size() == 3);
}

TEST_CASE("arm64 walk errors: unreadable tables, addresses outside both ranges, cycles", "[arch][aarch64]") {
  Aarch64Paging p = paging(4096, 48);
  FakeTables mem;
  SECTION("a table the dump does not hold") {
    uint64_t vaddr = 0xffff000000200000;
    mem.map(p, 0x40000000, vaddr, 0, 0x7700000000 | kTable);
    Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
    REQUIRE(t.error);
    CHECK(t.error->code() == Errc::not_in_dump);
    CHECK(t.error->message() == "0xffff000000200000: PUD entry 0: physical 0x7700000000 not in the fake dump");
    CHECK(t.steps.size() == 1);
  }
  SECTION("non-canonical addresses") {
    for (uint64_t vaddr : {0xfff0800000000000ull, 0x0001000000000000ull}) {
      Translation t = walk_aarch64(p, 0x40000000, vaddr, mem.reader());
      REQUIRE(t.error);
      CHECK(t.error->code() == Errc::not_mapped);
      CHECK_THAT(t.error->message(), Catch::Contains("range of a 48-bit address space"));
      CHECK(t.steps.empty());
    }
  }
  SECTION("tagged user addresses are translated (top byte ignored)") {
    mem.map(p, 0x40000000, 0x400000, 3, 0x55000 | kPage);
    Translation t = walk_aarch64(p, 0x40000000, 0x0f00000000400010, mem.reader());
    REQUIRE_FALSE(t.error);
    CHECK(t.paddr == 0x55010);
  }
  SECTION("a table pointing at itself ends after the last level") {
    mem.entries[0x40000000] = 0x40000000 | kTable;
    Translation t = walk_aarch64(p, 0x40000000, 0, mem.reader());
    REQUIRE_FALSE(t.error);
    CHECK(t.steps.size() == 4);
    CHECK(t.paddr == 0x40000000);
  }
}

TEST_CASE("arm64 entry flags decode", "[arch][aarch64]") {
  // A Linux kernel data page (PAGE_KERNEL) and a read-only user text page.
  CHECK(aarch64_entry_flags(0x00e8000041234f03, Aarch64Descriptor::page, false) ==
        "VALID|PAGE|SHARED|AF|NG|DBM|PXN|UXN|DIRTY|ATTRINDX=0");
  CHECK(aarch64_entry_flags(0x0020000041234fc3, Aarch64Descriptor::page, false) ==
        "VALID|PAGE|USER|RDONLY|SHARED|AF|NG|PXN|ATTRINDX=0");
  CHECK(aarch64_entry_flags(0x0070000040000e0d, Aarch64Descriptor::block, false) ==
        "VALID|BLOCK|OUTER_SHARED|AF|NG|CONT|PXN|UXN|ATTRINDX=3");
  CHECK(aarch64_entry_flags(0xf800000041234003, Aarch64Descriptor::table, false) ==
        "VALID|TABLE|PXNTABLE|UXNTABLE|APTABLE_NO_EL0|APTABLE_RDONLY|NSTABLE");
  CHECK(aarch64_entry_flags(0x0100000000000303, Aarch64Descriptor::page, true) == "VALID|PAGE|SPECIAL|ATTRINDX=0");
  CHECK(aarch64_entry_flags(0, Aarch64Descriptor::invalid, false) == "INVALID");
}
