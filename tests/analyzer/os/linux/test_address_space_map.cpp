// list_vmas() on a synthetic pre-6.1 VMA list (mm->mmap, vm_next) in fake
// memory: the VMAs in order, and a loop or an unreadable VMA keeping what
// came before. The maple tree of 6.1 is walked by kernel_trees (its own
// tests) and checked on the fixtures through `vm`.
#include "analyzer/os/linux/address_space_map.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

using namespace linux_kernel;

namespace {

constexpr uint64_t kMm = 0x1000;

VmaLayout linked_layout() {
  VmaLayout l;
  l.start = 0x0, l.end = 0x8, l.next = 0x10, l.flags = 0x20, l.file = 0x28, l.pgoff = 0x30;
  l.mmap = 0x8;
  return l;
}

// VMAs at `at`, linked in that order, each 0x1000 bytes from 0x400000 up.
void link(FakeKernel& k, const VmaLayout& l, const std::vector<uint64_t>& at) {
  k.phys.map(kMm, 0x100);
  k.phys.put<uint64_t>(kMm + l.mmap, at.front());
  for (size_t i = 0; i < at.size(); ++i) {
    k.phys.map(at[i], 0x100);
    k.phys.put<uint64_t>(at[i] + l.start, 0x400000 + i * 0x1000);
    k.phys.put<uint64_t>(at[i] + l.end, 0x401000 + i * 0x1000);
    k.phys.put<uint64_t>(at[i] + l.flags, 0x875);
    k.phys.put<uint64_t>(at[i] + l.next, i + 1 < at.size() ? at[i + 1] : 0);
  }
}

}  // namespace

TEST_CASE("list_vmas follows mm->mmap before 6.1 and is bounded", "[vmas]") {
  FakeKernel k;
  const VmaLayout l = linked_layout();
  link(k, l, {0x2000, 0x3000, 0x2800});
  SECTION("a good list") {
    auto list = list_vmas(k.memory, l, kMm);
    REQUIRE(list);
    CHECK_FALSE(list->stopped);
    REQUIRE(list->vmas.size() == 3);
    CHECK(list->vmas[1].address == 0x3000);
    CHECK(list->vmas[2].start == 0x402000);
    CHECK(list->vmas[0].flags == 0x875);
  }
  SECTION("a loop ends the list where it closes") {
    k.phys.put<uint64_t>(0x2800 + l.next, 0x3000);
    auto list = list_vmas(k.memory, l, kMm);
    REQUIRE(list);
    CHECK(list->vmas.size() == 3);
    REQUIRE(list->stopped);
    CHECK_THAT(list->stopped->message(), Catch::Contains("0x3000 is reached twice"));
  }
  SECTION("an unreadable VMA keeps those before it") {
    k.phys.put<uint64_t>(0x3000 + l.next, 0x90000);
    auto list = list_vmas(k.memory, l, kMm);
    REQUIRE(list);
    CHECK(list->vmas.size() == 2);
    REQUIRE(list->stopped);
    CHECK_THAT(list->stopped->message(), Catch::Contains("VMA 0x90000"));
  }
  SECTION("an unreadable mm_struct is one error") {
    k.phys.remove_page(kMm);
    auto list = list_vmas(k.memory, l, kMm);
    REQUIRE_FALSE(list);
    CHECK_THAT(list.error().message(), Catch::Contains("VMAs of mm_struct 0x1000"));
  }
}

}  // namespace coroner::test
