// The page filter on the real oops-kdump vmcores against makedumpfile's
// own -d 31 of the same vmcore (the d31 fixture, made inside the capture
// kernel): every page makedumpfile kept is kept, and every page kept here
// but dropped there is a zero page (which the writer drops, -d 1). On these
// fixtures the two sets are equal: makedumpfile leaves zero pages set in
// its bitmap (their descriptors share one zero page). Filtering a window
// of pfns at a time (cyclic mode) gives the same verdict as all at once.
#include "capture/filter/page_filter.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "tests/support/kernel_memory_fixture.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

using namespace coroner;
using namespace coroner::capture;

namespace {

const test::DumpCase* find_case(const std::string& arch_dir, const std::string& scenario, const std::string& variant) {
  for (const test::DumpCase& c : test::all_dumps())
    if (c.arch_dir == arch_dir && c.scenario == scenario && c.variant == variant) return &c;
  return nullptr;
}

bool page_is_zero(const Dump& dump, uint64_t pfn, uint64_t page_size) {
  std::vector<std::byte> page(page_size);
  if (!dump.read(pfn * page_size, page)) return false;  // unreadable counts as not zero
  return std::all_of(page.begin(), page.end(), [](std::byte b) { return b == std::byte{0}; });
}

void check_stats(const FilterResult& r) {
  const FilterStats& s = r.stats;
  CHECK(s.total - s.kept == s.free + s.cache + s.cache_private + s.user + s.hwpoison + s.offline);
  CHECK(r.keep.count() == s.kept);
  CHECK(r.unreadable == 0);
  CHECK(r.warning.empty());
}

}  // namespace

TEST_CASE("page filter: -d 31 keeps what makedumpfile -d 31 keeps, plus zero pages", "[filter][fixtures]") {
  for (std::string arch_dir : {"linux-6.1-x86_64", "linux-6.1-arm64"}) {
    DYNAMIC_SECTION(arch_dir) {
      const test::DumpCase* vmcore_case = find_case(arch_dir, "oops-kdump", "vmcore");
      const test::DumpCase* d31_case = find_case(arch_dir, "oops-kdump", "d31");
      REQUIRE(vmcore_case);
      REQUIRE(d31_case);
      test::OpenedKernel vmcore = test::open_kernel_memory(*vmcore_case);
      auto d31_dump = open_dump(d31_case->files());
      REQUIRE(d31_dump);
      const auto* d31 = dynamic_cast<const KdumpDump*>(d31_dump->get());
      REQUIRE(d31);

      auto started = std::chrono::steady_clock::now();
      auto result = classify_pages(*vmcore.dump, vmcore.info, *vmcore.memory, 31);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      REQUIRE(result);
      check_stats(*result);
      CHECK(result->memory_model == "SPARSEMEM_EXTREME");
      const FilterStats& s = result->stats;

      uint64_t page_size = vmcore.dump->page_size() ? vmcore.dump->page_size() : *vmcore.info.page_size();
      uint64_t lost = 0, extra_zero = 0, extra_nonzero = 0, both_dropped = 0, kept_zero = 0;
      std::vector<uint64_t> lost_pfns, nonzero_pfns;
      for (const PhysRange& range : vmcore.dump->ranges()) {
        for (uint64_t pfn = range.start / page_size; pfn < range.end() / page_size; ++pfn) {
          bool theirs = d31->page_dumped(pfn);
          bool ours = result->keep.test(pfn);
          if (theirs && !ours) {
            ++lost;
            if (lost_pfns.size() < 8) lost_pfns.push_back(pfn);
          } else if (ours && !theirs) {
            if (page_is_zero(*vmcore.dump, pfn, page_size)) {
              ++extra_zero;
            } else {
              ++extra_nonzero;
              if (nonzero_pfns.size() < 8) nonzero_pfns.push_back(pfn);
            }
          } else if (!ours) {
            ++both_dropped;
          } else if (page_is_zero(*vmcore.dump, pfn, page_size)) {
            ++kept_zero;
          }
        }
      }
      fmt::print("{}: {} pages, kept {} (free {}, cache {}, cache_private {}, user {}, hwpoison {}, offline {}); "
                 "makedumpfile dropped {} more ({} zero), kept the same {} zero pages; {:.3f} s ({:.1f} M pages/s)\n",
                 arch_dir, s.total, s.kept, s.free, s.cache, s.cache_private, s.user, s.hwpoison, s.offline,
                 extra_zero + extra_nonzero, extra_zero, kept_zero, seconds, s.total / seconds / 1e6);
      INFO("first pfns kept by makedumpfile but dropped here: " << fmt::format("{:#x}", fmt::join(lost_pfns, " ")));
      CHECK(lost == 0);
      INFO("first non-zero pfns dropped by makedumpfile only: " << fmt::format("{:#x}", fmt::join(nonzero_pfns, " ")));
      CHECK(extra_nonzero == 0);
      CHECK(both_dropped == s.total - s.kept);
      // The guests ran busybox and cat: there are free, cache and user pages.
      CHECK(s.free > 0);
      CHECK(s.user > 0);

      SECTION("-d 8 and -d 16 each drop their own kind only, as -d 31 does") {
        auto user = classify_pages(*vmcore.dump, vmcore.info, *vmcore.memory, 8);
        auto again = std::chrono::steady_clock::now();
        auto free = classify_pages(*vmcore.dump, vmcore.info, *vmcore.memory, 16);
        fmt::print("{}: -d 16 again in {:.4f} s\n", arch_dir,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - again).count());
        REQUIRE(user);
        REQUIRE(free);
        check_stats(*user);
        check_stats(*free);
        CHECK(user->stats.user == s.user);
        CHECK(user->stats.free + user->stats.cache + user->stats.cache_private == 0);
        CHECK(free->stats.free == s.free);
        CHECK(free->stats.user + free->stats.cache + free->stats.cache_private == 0);
        // What -d 8 or -d 16 drops, -d 31 drops too.
        uint64_t kept_by_31_only = 0;
        for (uint64_t pfn = 0; pfn < result->keep.max_pfn(); ++pfn)
          if ((!user->keep.test(pfn) || !free->keep.test(pfn)) && result->keep.test(pfn)) ++kept_by_31_only;
        CHECK(kept_by_31_only == 0);
      }
      SECTION("SYMBOL(mem_section) pointing at unmapped memory keeps every page") {
        std::string text = *vmcore.dump->vmcoreinfo_text();
        text = "SYMBOL(mem_section)=ffffffffffe00000\n" + text;  // the first of duplicate keys wins
        auto hostile = classify_pages(*vmcore.dump, VmcoreInfo::parse(text), *vmcore.memory, 31);
        REQUIRE(hostile);
        CHECK(hostile->stats.kept == s.total);
        CHECK(hostile->warning.find("mem_section at 0xffffffffffe00000") != std::string::npos);
      }
      SECTION("the zones' free lists (the method of kernels before 2.6.38) find the same free pages") {
        std::string text = *vmcore.dump->vmcoreinfo_text();
        size_t at = text.find("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=");
        REQUIRE(at != std::string::npos);
        text.erase(at, text.find('\n', at) + 1 - at);
        auto lists = classify_pages(*vmcore.dump, VmcoreInfo::parse(text), *vmcore.memory, 16);
        REQUIRE(lists);
        check_stats(*lists);
        CHECK(lists->stats.free == s.free);
      }
    }
  }
}

TEST_CASE("page filter: windows of any size give the verdict and counts of one window", "[filter][fixtures]") {
  for (std::string arch_dir : {"linux-6.1-x86_64", "linux-6.1-arm64"}) {
    const test::DumpCase* vmcore_case = find_case(arch_dir, "oops-kdump", "vmcore");
    REQUIRE(vmcore_case);
    test::OpenedKernel vmcore = test::open_kernel_memory(*vmcore_case);
    // Without the buddy marks free pages come from the free lists, walked per window.
    std::string no_buddy = *vmcore.dump->vmcoreinfo_text();
    size_t at = no_buddy.find("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=");
    REQUIRE(at != std::string::npos);
    no_buddy.erase(at, no_buddy.find('\n', at) + 1 - at);
    VmcoreInfo lists_info = VmcoreInfo::parse(no_buddy);
    for (const VmcoreInfo* info : {&vmcore.info, &lists_info}) {
      for (unsigned level : {31u, 16u, 8u}) {
        auto whole = classify_pages(*vmcore.dump, *info, *vmcore.memory, level);
        REQUIRE(whole);
        // 64 pfns: smaller than buddy blocks and huge pages, which are then
        // carried from window to window; 4160: not a power of two.
        for (uint64_t window : {uint64_t{64}, uint64_t{4160}}) {
          if (info == &lists_info && window == 64) continue;  // every window walks every free list
          INFO(arch_dir << " -d " << level << (info == &lists_info ? " free lists" : "") << " window " << window);
          auto selector = PageSelector::create(*vmcore.dump, *info, *vmcore.memory, level);
          REQUIRE(selector);
          // Two passes, as the kdump writer makes: the second is the first again.
          for (int pass = 0; pass < 2; ++pass) {
            FilterStats sum;
            uint64_t differing = 0;
            for (uint64_t start = 0; start < selector->max_pfn(); start += window) {
              auto part = selector->window(start, start + window);
              REQUIRE(part);
              for (uint64_t pfn = start; pfn < part->keep.max_pfn(); ++pfn)
                differing += part->keep.test(pfn) != whole->keep.test(pfn);
              sum.total += part->stats.total;
              sum.kept += part->stats.kept;
              sum.free += part->stats.free;
              sum.cache += part->stats.cache;
              sum.cache_private += part->stats.cache_private;
              sum.user += part->stats.user;
            }
            CHECK(differing == 0);
            CHECK(sum.total == whole->stats.total);
            CHECK(sum.kept == whole->stats.kept);
            CHECK(sum.free == whole->stats.free);
            CHECK(sum.cache == whole->stats.cache);
            CHECK(sum.cache_private == whole->stats.cache_private);
            CHECK(sum.user == whole->stats.user);
          }
        }
      }
    }
  }
}
