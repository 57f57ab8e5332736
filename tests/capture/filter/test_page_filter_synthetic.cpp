// Page filter on a fake kernel: a few struct pages of every kind, the
// memory models, the page-type variants of newer kernels, and hostile
// mem_section / struct page contents.
#include "capture/filter/page_filter.hpp"
#include "tests/capture/filter/fake_kernel.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace coroner;
using namespace coroner::capture;
using coroner::test::FakeArch;
using coroner::test::FakeDump;
using coroner::test::kDirectMap;
using coroner::test::kFakePage;

namespace {

// 128 pages of 4K; RAM is [0, 40) and [48, 128) (a hole at 40..47).
// Sections of 64 pages (SECTION_SIZE_BITS 18), one EXTREME root.
constexpr uint64_t kPages = 128;
constexpr uint64_t kRootPfn = 100, kSectionsPfn = 101, kPointerPfn = 102, kMemMapPfn = 104;
constexpr uint64_t kStructPage = 64;
constexpr uint64_t kFlags = 0, kCompoundHead = 8, kDtor = 16, kOrder = 17, kMapping = 24, kPrivate = 40,
                   kMapcount = 48;
constexpr uint64_t kLru = 1 << 4, kPrivateFlag = 1 << 13, kSwapcache = 1 << 10, kSwapbacked = 1 << 19,
                   kSlab = 1 << 9, kHead = 1 << 16, kHwpoison = 1 << 23;
constexpr uint64_t kAnonMapping = kDirectMap + 0x5001, kFileMapping = kDirectMap + 0x6000;

uint64_t vaddr(uint64_t pfn) { return kDirectMap + pfn * kFakePage; }

struct FakeKernel {
  FakeDump dump{kPages, {{0, 40 * kFakePage}, {48 * kFakePage, 80 * kFakePage}}};
  FakeArch arch{kDirectMap};
  std::string extra;  // more VMCOREINFO lines
  std::string mem_section = fmt::format("{:x}", vaddr(kRootPfn));
  std::string length = "1";

  FakeKernel() {
    dump.put<uint64_t>(kRootPfn * kFakePage, vaddr(kSectionsPfn));
    dump.put<uint64_t>(kPointerPfn * kFakePage, vaddr(kRootPfn));
    for (uint64_t section = 0; section < 2; ++section) set_section(section, vaddr(kMemMapPfn) | 3);
    for (uint64_t pfn = 0; pfn < kPages; ++pfn) put(pfn, kMapcount, uint32_t{0xffffffff});
  }
  void set_section(uint64_t section, uint64_t coded) { dump.put<uint64_t>(kSectionsPfn * kFakePage + section * 16, coded); }
  template <typename T>
  void put(uint64_t pfn, uint64_t offset, T value) {
    dump.put<T>(kMemMapPfn * kFakePage + pfn * kStructPage + offset, value);
  }
  void page(uint64_t pfn, uint64_t flags, uint64_t mapping = 0, uint64_t priv = 0, uint32_t mapcount = 0xffffffff) {
    put(pfn, kFlags, flags);
    put(pfn, kMapping, mapping);
    put(pfn, kPrivate, priv);
    put(pfn, kMapcount, mapcount);
  }
  void compound(uint64_t head, unsigned order, uint64_t flags, uint64_t mapping, uint8_t dtor = 1) {
    page(head, flags | kHead, mapping);
    put<uint8_t>(head + 1, kDtor, dtor);
    put<uint8_t>(head + 1, kOrder, static_cast<uint8_t>(order));
    for (uint64_t pfn = head + 1; pfn < head + (uint64_t{1} << order); ++pfn)
      put<uint64_t>(pfn, kCompoundHead, kDirectMap + kMemMapPfn * kFakePage + head * kStructPage + 1);
  }
  // `extra` comes first: the first of duplicate keys wins.
  std::string vmcoreinfo() const {
    return extra + fmt::format(
        "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(mem_section)={}\nLENGTH(mem_section)={}\nSIZE(mem_section)=16\n"
        "OFFSET(mem_section.section_mem_map)=0\nNUMBER(SECTION_SIZE_BITS)=18\nNUMBER(MAX_PHYSMEM_BITS)=26\n"
        "SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\n"
        "OFFSET(page.lru)=8\nOFFSET(page._mapcount)=48\nOFFSET(page.private)=40\nOFFSET(page.compound_dtor)=16\n"
        "OFFSET(page.compound_order)=17\nOFFSET(page.compound_head)=8\nLENGTH(zone.free_area)=11\n"
        "NUMBER(PG_lru)=4\nNUMBER(PG_private)=13\nNUMBER(PG_swapcache)=10\nNUMBER(PG_swapbacked)=19\n"
        "NUMBER(PG_slab)=9\nNUMBER(PG_head_mask)=65536\nNUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
        "NUMBER(HUGETLB_PAGE_DTOR)=2\nNUMBER(PG_hwpoison)=23\nNUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n",
        mem_section, length);
  }
  Expected<FilterResult> classify(unsigned level) const {
    VmcoreInfo info = VmcoreInfo::parse(vmcoreinfo());
    KernelMemory memory(dump, arch);
    return classify_pages(dump, info, memory, level);
  }
};

// One page of every kind (see the expectations below).
void populate(FakeKernel& k) {
  k.page(2, 0, 0, 1, uint32_t(-129));                     // buddy, order 1: 2..3
  k.page(4, kLru | kSwapbacked, kAnonMapping);            // anonymous
  k.page(5, kSlab, kAnonMapping);                         // slab wins over the anon bit
  k.page(6, kLru, kFileMapping);                          // page cache
  k.page(7, kLru | kPrivateFlag, kFileMapping);           // page cache with buffers
  k.page(8, kSwapcache | kSwapbacked, kAnonMapping);      // anon in swap cache: user
  k.page(9, kSwapcache, kFileMapping);                    // PG_swapcache without swapbacked: another flag
  k.page(10, kSwapcache | kSwapbacked, kFileMapping);     // shmem in swap cache: cache
  k.compound(12, 2, kLru | kSwapbacked, kAnonMapping);    // anon THP 12..15
  k.compound(16, 2, 0, 0);                                // kernel compound page: kept with its tails
  k.compound(20, 2, 0, kFileMapping, 2);                  // hugetlbfs 20..23
  k.page(24, 0, 0, 20, uint32_t(-129));                   // buddy with an impossible order: kept
  k.compound(26, 2, kLru, kAnonMapping);                  // misaligned order: the head alone
  k.put<uint64_t>(27, kCompoundHead, 0);
  k.page(30, kHwpoison);
  k.page(31, 0, 0, 0, uint32_t(-257));                    // offline
  k.page(56, 0, 0, 3, uint32_t(-129));                    // buddy 56..63 (end of section 0)
  k.page(64, 0, 0, 5, uint32_t(-129));                    // buddy 64..95 (section 1)
}

std::vector<uint64_t> dropped(const FilterResult& r) {
  std::vector<uint64_t> pfns;
  for (uint64_t pfn = 0; pfn < kPages; ++pfn)
    if ((pfn < 40 || pfn >= 48) && !r.keep.test(pfn)) pfns.push_back(pfn);
  return pfns;
}

std::vector<uint64_t> seq(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

std::vector<uint64_t> join(std::initializer_list<std::vector<uint64_t>> parts) {
  std::vector<uint64_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  std::sort(v.begin(), v.end());
  return v;
}

const std::vector<uint64_t> kDropped31 =
    join({{2, 3, 4, 6, 7, 8, 10, 26, 30, 31}, seq(12, 16), seq(20, 24), seq(56, 96)});

void check_level31(const FilterResult& r) {
  CHECK(r.stats.total == 120);
  CHECK(r.stats.free == 42);
  CHECK(r.stats.user == 11);
  CHECK(r.stats.cache == 2);
  CHECK(r.stats.cache_private == 1);
  CHECK(r.stats.hwpoison == 1);
  CHECK(r.stats.offline == 1);
  CHECK(r.stats.kept == 120 - 58);
  CHECK(r.unreadable == 0);
  CHECK(dropped(r) == kDropped31);
  CHECK_FALSE(r.keep.test(40));  // the hole is not RAM
}

}  // namespace

TEST_CASE("page filter: every kind of struct page, SPARSEMEM_EXTREME", "[filter]") {
  FakeKernel k;
  populate(k);
  SECTION("-d 31") {
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->memory_model == "SPARSEMEM_EXTREME");
    check_level31(*r);
  }
  SECTION("-d 0 and -d 1 read no struct page") {
    for (unsigned level : {0u, 1u}) {
      auto r = k.classify(level);
      REQUIRE(r);
      CHECK(r->stats.kept == 120);
      CHECK(r->memory_model.empty());
    }
  }
  SECTION("-d 8: user pages only") {
    auto r = k.classify(8);
    REQUIRE(r);
    CHECK(r->stats.user == 11);
    CHECK(r->stats.free + r->stats.cache + r->stats.cache_private == 0);
    CHECK(dropped(*r) == join({{4, 8, 26, 30, 31}, seq(12, 16), seq(20, 24)}));
  }
  SECTION("-d 16: free pages only") {
    auto r = k.classify(16);
    REQUIRE(r);
    CHECK(r->stats.free == 42);
    CHECK(r->stats.kept == 120 - 42 - 2);
  }
  SECTION("-d 2 keeps private cache; -d 4 drops both") {
    auto r2 = k.classify(2);
    REQUIRE(r2);
    CHECK(dropped(*r2) == std::vector<uint64_t>{6, 10, 30, 31});
    auto r4 = k.classify(4);
    REQUIRE(r4);
    CHECK(r4->stats.cache == 2);
    CHECK(r4->stats.cache_private == 1);
    CHECK(dropped(*r4) == std::vector<uint64_t>{6, 7, 10, 30, 31});
  }
}

TEST_CASE("page filter: the other memory models give the same verdicts", "[filter]") {
  FakeKernel k;
  populate(k);
  SECTION("SYMBOL(mem_section) holding the address of the pointer") {
    k.mem_section = fmt::format("{:x}", vaddr(kPointerPfn));
    auto r = k.classify(31);
    REQUIRE(r);
    check_level31(*r);
  }
  SECTION("SPARSEMEM (static section array)") {
    k.mem_section = fmt::format("{:x}", vaddr(kSectionsPfn));
    k.length = "256";
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->memory_model == "SPARSEMEM");
    check_level31(*r);
  }
  SECTION("FLATMEM") {
    FakeKernel flat;
    populate(flat);
    flat.dump.put<uint64_t>(kPointerPfn * kFakePage, vaddr(kMemMapPfn));
    std::string text = flat.vmcoreinfo();
    text = text.substr(0, text.find("SYMBOL(mem_section)")) + text.substr(text.find("NUMBER(SECTION_SIZE_BITS)"));
    text += fmt::format("SYMBOL(mem_map)={:x}\n", vaddr(kPointerPfn));
    VmcoreInfo info = VmcoreInfo::parse(text);
    KernelMemory memory(flat.dump, flat.arch);
    auto r = classify_pages(flat.dump, info, memory, 31);
    REQUIRE(r);
    CHECK(r->memory_model == "FLATMEM");
    check_level31(*r);
  }
}

TEST_CASE("page filter: page types and folio orders of newer kernels", "[filter]") {
  FakeKernel k;
  SECTION("6.12+: the type in the top byte of page_type") {
    k.extra = "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456\n";  // PGTY_buddy << 24, overrides -129
    k.page(2, 0, 0, 1, 0xf0000000);
    k.page(4, 0, 0, 0, uint32_t(-129));  // the old value means nothing now
    auto r = k.classify(16);
    REQUIRE(r);
    CHECK(dropped(*r) == std::vector<uint64_t>{2, 3});
  }
  SECTION("6.9+: hugetlb by page type, order in _flags_1") {
    k.extra = "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=-2049\n";
    k.compound(16, 3, 0, kFileMapping, 0);
    k.put<uint32_t>(16, kMapcount, uint32_t(-2049));
    k.put<uint64_t>(17, kFlags, 3);
    auto r = k.classify(8);
    REQUIRE(r);
    CHECK(dropped(*r) == seq(16, 24));
    CHECK(r->stats.user == 8);
  }
  SECTION("6.10+: slab as a page type outranks the anon bit") {
    k.extra = "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=-4097\n";
    k.page(4, 0, kAnonMapping, 0, uint32_t(-4097));
    auto r = k.classify(8);
    REQUIRE(r);
    CHECK(r->stats.user == 0);
  }
}

TEST_CASE("page filter: hostile mem_section and struct pages keep pages", "[filter]") {
  FakeKernel k;
  populate(k);
  SECTION("a section's mem_map in unmapped memory") {
    k.set_section(0, 0xffffc90000000000 | 1);
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->unreadable == 56);  // section 0's RAM pages: kept
    CHECK(dropped(*r) == seq(64, 96));
  }
  SECTION("a mem_map running off the end of memory") {
    // Section 1's struct pages from pfn 64 + 32 on lie beyond the dump.
    uint64_t end = kDirectMap + kPages * kFakePage;
    k.set_section(1, (end - 32 * kStructPage - 64 * kStructPage) | 1);
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->unreadable == 32);
  }
  SECTION("mem_section itself unreadable: everything kept, with a warning") {
    k.mem_section = "ffffc90000000000";
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->stats.kept == 120);
    CHECK(r->warning.find("mem_section at 0xffffc90000000000") != std::string::npos);
  }
  SECTION("section pointers that are user addresses") {
    k.set_section(0, 0x1000 | 1);
    k.set_section(1, 0x1000 | 1);
    auto r = k.classify(31);
    REQUIRE(r);
    CHECK(r->stats.kept == 120);
    CHECK_FALSE(r->warning.empty());
  }
  SECTION("a buddy order beyond any zone without LENGTH(zone.free_area)") {
    FakeKernel bare;
    bare.page(2, 0, 0, 200, uint32_t(-129));
    std::string text = bare.vmcoreinfo();
    text.erase(text.find("LENGTH(zone.free_area)=11\n"), 26);
    VmcoreInfo info = VmcoreInfo::parse(text);
    KernelMemory memory(bare.dump, bare.arch);
    auto r = classify_pages(bare.dump, info, memory, 16);
    REQUIRE(r);
    CHECK(r->stats.free == 0);
  }
  SECTION("corrupt or missing VMCOREINFO values are errors naming the key") {
    k.extra = "SIZE(page)=100000\n";
    auto big = k.classify(31);
    REQUIRE_FALSE(big);
    CHECK(big.error().message().find("SIZE(page)") != std::string::npos);
    k.extra = "NUMBER(MAX_PHYSMEM_BITS)=9\n";
    auto bits = k.classify(31);
    REQUIRE_FALSE(bits);
    CHECK(bits.error().message().find("MAX_PHYSMEM_BITS") != std::string::npos);
    k.extra = "OFFSET(page.mapping)=62\n";
    auto offset = k.classify(8);
    REQUIRE_FALSE(offset);
    CHECK(offset.error().message().find("page.mapping") != std::string::npos);
    CHECK_FALSE(k.classify(32));
  }
  SECTION("a RAM range beyond any machine") {
    FakeDump huge(1, {{0, uint64_t{1} << 62}});
    FakeArch arch{kDirectMap};
    VmcoreInfo info = VmcoreInfo::parse(k.vmcoreinfo());
    KernelMemory memory(huge, arch);
    auto r = classify_pages(huge, info, memory, 31);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("fake-dump") != std::string::npos);
  }
}

TEST_CASE("page filter: free lists of kernels without the buddy page type", "[filter]") {
  FakeKernel k;
  constexpr uint64_t kPgdatPfn = 103, kZone = kPgdatPfn * kFakePage, kFreeArea = kZone + 64;
  k.extra = fmt::format(
      "SYMBOL(contig_page_data)={:x}\nOFFSET(pglist_data.node_zones)=0\nOFFSET(pglist_data.nr_zones)=2048\n"
      "SIZE(zone)=1024\nOFFSET(zone.free_area)=64\nOFFSET(zone.spanned_pages)=8\nSIZE(free_area)=72\n"
      "OFFSET(free_area.free_list)=0\nLENGTH(free_area.free_list)=4\nSIZE(list_head)=16\n"
      "OFFSET(list_head.next)=0\nOFFSET(list_head.prev)=8\n",
      vaddr(kPgdatPfn));
  k.dump.put<uint64_t>(kZone + 8, 128);        // spanned_pages
  k.dump.put<int32_t>(kZone + 2048, 1);        // nr_zones
  // Every list empty (pointing at itself), then one block on two of them.
  for (uint64_t order = 0; order < 11; ++order)
    for (uint64_t type = 0; type < 4; ++type) {
      uint64_t head = kFreeArea + order * 72 + type * 16;
      k.dump.put<uint64_t>(head, kDirectMap + head);
      k.dump.put<uint64_t>(head + 8, kDirectMap + head);
    }
  auto link = [&](uint64_t order, uint64_t type, uint64_t pfn) {
    uint64_t head = kDirectMap + kFreeArea + order * 72 + type * 16;
    uint64_t lru = vaddr(kMemMapPfn) + pfn * kStructPage + 8;
    k.dump.put<uint64_t>(head - kDirectMap, lru);
    k.dump.put<uint64_t>(head - kDirectMap + 8, lru);
    k.put<uint64_t>(pfn, 8, head);
    k.put<uint64_t>(pfn, 16, head);
  };
  link(1, 0, 2);
  link(3, 2, 56);
  auto classify = [&] {
    std::string text = k.vmcoreinfo();
    text.erase(text.find("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"), 39);
    VmcoreInfo info = VmcoreInfo::parse(text);
    KernelMemory memory(k.dump, k.arch);
    return classify_pages(k.dump, info, memory, 16);
  };
  SECTION("blocks on the lists are dropped") {
    auto r = classify();
    REQUIRE(r);
    CHECK(r->warning.empty());
    CHECK(r->stats.free == 10);
    CHECK(dropped(*r) == join({{2, 3}, seq(56, 64)}));
  }
  SECTION("a broken list keeps its pages and says why") {
    k.put<uint64_t>(56, 16, vaddr(7));  // prev no longer points back to the head
    auto r = classify();
    REQUIRE(r);
    CHECK(r->warning.find("does not point back") != std::string::npos);
    CHECK(r->stats.free == 2);
  }
}
