// Synthetic x86_64 page tables: every page size, both depths, and each way
// a walk can stop.
#include "analyzer/arch/x86_64/x86_64_paging.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace coroner;
using namespace coroner::arch;

namespace {

constexpr uint64_t P = 1ULL << 0, RW = 1ULL << 1, USER = 1ULL << 2, ACCESSED = 1ULL << 5, DIRTY = 1ULL << 6,
                   PSE = 1ULL << 7, GLOBAL = 1ULL << 8, NX = 1ULL << 63;
constexpr uint64_t TABLE = P | RW | ACCESSED;

// Physical memory holding only page-table entries; reads of listed
// addresses fail as a filtered dump would.
struct FakeTables {
  std::map<uint64_t, uint64_t> entries;
  std::set<uint64_t> unreadable;

  void set(uint64_t table, uint64_t vaddr, unsigned shift, uint64_t entry) {
    entries[table + ((vaddr >> shift) & 511) * 8] = entry;
  }
  EntryReader reader() const {
    return [this](uint64_t paddr) -> Expected<uint64_t> {
      if (unreadable.count(paddr)) return make_error(Errc::excluded_by_filter, "{:#x}: excluded by the dump's filter", paddr);
      auto it = entries.find(paddr);
      return it == entries.end() ? 0 : it->second;
    };
  }
};

const X86_64Paging kFour{4, 0};
const X86_64Paging kFive{5, 0};

// A 4K mapping through four tables at 0x1000..0x4000.
constexpr uint64_t kVaddr = 0xffff888012345678ULL;
constexpr uint64_t kPage = 0x7654321000ULL;
FakeTables four_level_4k() {
  FakeTables t;
  t.set(0x1000, kVaddr, 39, 0x2000 | TABLE);
  t.set(0x2000, kVaddr, 30, 0x3000 | TABLE);
  t.set(0x3000, kVaddr, 21, 0x4000 | TABLE);
  // Software bits 62:52 and NX must not leak into the address.
  t.set(0x4000, kVaddr, 12, kPage | P | RW | ACCESSED | DIRTY | GLOBAL | NX | (0x7ffULL << 52));
  return t;
}

}  // namespace

TEST_CASE("x86_64 walk: 4-level 4K page records every level", "[x86_64][paging]") {
  FakeTables t = four_level_4k();
  Translation tr = walk_x86_64(kFour, 0x1000, kVaddr, t.reader());
  REQUIRE_FALSE(tr.error);
  REQUIRE(tr.paddr);
  CHECK(*tr.paddr == kPage + 0x678);
  CHECK(tr.page_size == 4096);
  CHECK(tr.root == 0x1000);
  REQUIRE(tr.steps.size() == 4);
  const char* names[] = {"PGD", "PUD", "PMD", "PTE"};
  uint64_t tables[] = {0x1000, 0x2000, 0x3000, 0x4000};
  unsigned shifts[] = {39, 30, 21, 12};
  for (size_t i = 0; i < 4; ++i) {
    INFO("level " << i);
    CHECK(tr.steps[i].level == names[i]);
    CHECK(tr.steps[i].table == tables[i]);
    CHECK(tr.steps[i].index == ((kVaddr >> shifts[i]) & 511));
    CHECK(tr.steps[i].entry_addr == tables[i] + tr.steps[i].index * 8);
    CHECK(tr.steps[i].entry == t.entries.at(tr.steps[i].entry_addr));
  }
  CHECK(tr.steps[0].index == 0x111);  // 0xffff888... is PGD slot 273
  CHECK(tr.steps[0].flags == "PRESENT|RW|ACCESSED");
  CHECK(tr.steps[3].flags == "PRESENT|RW|ACCESSED|DIRTY|GLOBAL|NX");
}

TEST_CASE("x86_64 walk: 2M and 1G pages", "[x86_64][paging]") {
  FakeTables t;
  uint64_t vaddr = 0xffffffff81234567ULL;
  t.set(0x1000, vaddr, 39, 0x2000 | TABLE);

  SECTION("1G page at the PUD") {
    // Bit 12 of a large-page entry is PAT, not address.
    t.set(0x2000, vaddr, 30, 0x40000000ULL | (1ULL << 12) | P | RW | PSE | NX);
    Translation tr = walk_x86_64(kFour, 0x1000, vaddr, t.reader());
    REQUIRE(tr.paddr);
    CHECK(*tr.paddr == 0x40000000ULL + (vaddr & ((1ULL << 30) - 1)));
    CHECK(tr.page_size == 1ULL << 30);
    REQUIRE(tr.steps.size() == 2);
    CHECK(tr.steps[1].level == "PUD");
    CHECK(tr.steps[1].flags == "PRESENT|RW|PSE|NX");
  }
  SECTION("2M page at the PMD") {
    t.set(0x2000, vaddr, 30, 0x3000 | TABLE);
    t.set(0x3000, vaddr, 21, 0x1a00000ULL | (1ULL << 12) | P | PSE | GLOBAL | ACCESSED | DIRTY);
    Translation tr = walk_x86_64(kFour, 0x1000, vaddr, t.reader());
    REQUIRE(tr.paddr);
    CHECK(*tr.paddr == 0x1a00000ULL + 0x34567);
    CHECK(tr.page_size == 2ULL << 20);
    REQUIRE(tr.steps.size() == 3);
    CHECK(tr.steps[2].level == "PMD");
    CHECK(tr.steps[2].flags == "PRESENT|ACCESSED|DIRTY|PSE|GLOBAL");
  }
}

TEST_CASE("x86_64 walk: 5-level (LA57)", "[x86_64][paging]") {
  FakeTables t;
  uint64_t vaddr = 0xff45750700123456ULL;  // an LA57 direct-map address
  t.set(0x10000, vaddr, 48, 0x11000 | TABLE);
  t.set(0x11000, vaddr, 39, 0x12000 | TABLE);
  t.set(0x12000, vaddr, 30, 0x13000 | TABLE);
  t.set(0x13000, vaddr, 21, 0x14000 | TABLE);
  t.set(0x14000, vaddr, 12, 0xabc000 | P | USER);
  Translation tr = walk_x86_64(kFive, 0x10000, vaddr, t.reader());
  REQUIRE(tr.paddr);
  CHECK(*tr.paddr == 0xabc456);
  REQUIRE(tr.steps.size() == 5);
  std::vector<std::string> levels;
  for (auto& s : tr.steps) levels.push_back(s.level);
  CHECK(levels == std::vector<std::string>{"PGD", "P4D", "PUD", "PMD", "PTE"});
  CHECK(tr.steps[0].index == ((vaddr >> 48) & 511));
  CHECK(tr.steps[4].flags == "PRESENT|USER");

  // The same address is not canonical under 4-level paging.
  Translation four = walk_x86_64(kFour, 0x10000, vaddr, t.reader());
  REQUIRE(four.error);
  CHECK(four.steps.empty());
  CHECK_THAT(four.error->message(), Catch::Contains("not canonical"));
}

TEST_CASE("x86_64 walk: a non-present entry stops the walk at its level", "[x86_64][paging]") {
  const char* names[] = {"PGD", "PUD", "PMD", "PTE"};
  uint64_t tables[] = {0x1000, 0x2000, 0x3000, 0x4000};
  unsigned shifts[] = {39, 30, 21, 12};
  for (size_t level = 0; level < 4; ++level) {
    INFO("level " << names[level]);
    FakeTables t = four_level_4k();
    uint64_t entry_addr = tables[level] + ((kVaddr >> shifts[level]) & 511) * 8;
    t.entries[entry_addr] &= ~P;  // a swapped-out PTE keeps other bits
    Translation tr = walk_x86_64(kFour, 0x1000, kVaddr, t.reader());
    CHECK_FALSE(tr.paddr);
    REQUIRE(tr.error);
    CHECK(tr.error->code() == Errc::not_mapped);
    CHECK(tr.steps.size() == level + 1);
    CHECK(tr.error->message() == fmt::format("virtual address {:#x}: {} entry {:#x} at physical {:#x} not present", kVaddr,
                                             names[level], t.entries[entry_addr], entry_addr));
  }
}

TEST_CASE("x86_64 walk: a failed entry read stops the walk with the reader's error", "[x86_64][paging]") {
  FakeTables t = four_level_4k();
  uint64_t pmd_entry = 0x3000 + ((kVaddr >> 21) & 511) * 8;
  t.unreadable.insert(pmd_entry);
  Translation tr = walk_x86_64(kFour, 0x1000, kVaddr, t.reader());
  CHECK_FALSE(tr.paddr);
  REQUIRE(tr.error);
  CHECK(tr.error->code() == Errc::excluded_by_filter);
  CHECK_THAT(tr.error->message(), Catch::StartsWith(fmt::format("virtual address {:#x}: reading PMD entry at physical {:#x}: ",
                                                                kVaddr, pmd_entry)));
  CHECK(tr.steps.size() == 2);  // PGD and PUD were read
}

TEST_CASE("x86_64 walk: canonical forms and reserved bits", "[x86_64][paging]") {
  FakeTables t = four_level_4k();
  SECTION("non-canonical addresses") {
    for (uint64_t bad : {0x0000800000000000ULL, 0xffff7fffffffffffULL, 0x8000000000000000ULL}) {
      Translation tr = walk_x86_64(kFour, 0x1000, bad, t.reader());
      REQUIRE(tr.error);
      CHECK(tr.error->code() == Errc::not_mapped);
      CHECK(tr.steps.empty());
    }
    CHECK(kFour.is_canonical(0x00007fffffffffffULL));
    CHECK(kFour.is_canonical(0xffff800000000000ULL));
    CHECK(kFive.is_canonical(0x0000800000000000ULL));
    CHECK(kFive.is_canonical(0xff00000000000000ULL));
    CHECK_FALSE(kFive.is_canonical(0x0100000000000000ULL));
    CHECK(kFour.user_limit() == 1ULL << 47);
    CHECK(kFive.user_limit() == 1ULL << 56);
  }
  SECTION("PSE in a PGD entry is reserved") {
    t.set(0x1000, kVaddr, 39, 0x2000 | TABLE | PSE);
    Translation tr = walk_x86_64(kFour, 0x1000, kVaddr, t.reader());
    REQUIRE(tr.error);
    CHECK(tr.error->code() == Errc::corrupt);
    CHECK_THAT(tr.error->message(), Catch::Contains("PGD entry"));
  }
  SECTION("PCID bits of a CR3-like root are ignored") {
    Translation tr = walk_x86_64(kFour, 0x1000 | 0x5, kVaddr, t.reader());
    REQUIRE(tr.paddr);
    CHECK(tr.root == 0x1000);
  }
  SECTION("the SME encryption bit is cleared from every address") {
    const uint64_t c_bit = 1ULL << 47;
    FakeTables e;
    e.set(0x1000, kVaddr, 39, c_bit | 0x2000 | TABLE);
    e.set(0x2000, kVaddr, 30, c_bit | 0x3000 | TABLE);
    e.set(0x3000, kVaddr, 21, c_bit | 0x4000 | TABLE);
    e.set(0x4000, kVaddr, 12, c_bit | kPage | P);
    Translation tr = walk_x86_64(X86_64Paging{4, c_bit}, c_bit | 0x1000, kVaddr, e.reader());
    REQUIRE(tr.paddr);
    CHECK(*tr.paddr == kPage + 0x678);
  }
}

TEST_CASE("x86_64 entry flags", "[x86_64][paging]") {
  CHECK(x86_64_entry_flags(0, false).empty());
  CHECK(x86_64_entry_flags(P | RW | USER | (1 << 3) | (1 << 4), false) == "PRESENT|RW|USER|PWT|PCD");
  CHECK(x86_64_entry_flags(P | PSE, false) == "PRESENT|PSE");
  CHECK(x86_64_entry_flags(P | PSE, true) == "PRESENT|PAT");
  CHECK(x86_64_entry_flags(NX | (0x7ffULL << 52) | 0xfffff000ULL, true) == "NX");
}
