// The ELF writer's segments (makedumpfile -E's), decided page by page as a
// pass goes by: short excluded runs stored, long or unreadable ones ending
// a segment, and the same segments whatever windows the pass is cut into.
#include "capture/writer/elf_segments.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <utility>

using namespace coroner;
using namespace coroner::capture;

namespace {

constexpr uint64_t kPage = 4096;

struct Recorded {
  std::vector<ElfSegment> segments;
  std::vector<ElfStore> stores;
};

bool same(const ElfSegment& a, const ElfSegment& b) {
  return a.paddr == b.paddr && a.memsz == b.memsz && a.filesz == b.filesz && a.offset == b.offset;
}

ElfSegmentStream recording_stream(std::span<const PhysRange> ranges, Recorded& into) {
  return ElfSegmentStream(ranges, kPage, 0x1000, [&into](const ElfSegment& s) -> Expected<void> {
    into.segments.push_back(s);
    return {};
  });
}

void keep(ElfSegmentStream& stream, uint64_t pfn, Recorded& into) {
  auto store = stream.keep(pfn);
  REQUIRE(store);
  if (*store) into.stores.push_back(**store);
}

}  // namespace

TEST_CASE("ELF segments: a run of 256 excluded pages or an unreadable page ends a segment", "[capture][elf]") {
  // A range ending part way into its last page, and one of 1000 pages.
  std::vector<PhysRange> ranges{{0, 0x9fc00}, {0x100000, 1000 * kPage}};
  Recorded got;
  ElfSegmentStream stream = recording_stream(ranges, got);
  for (uint64_t pfn = 1; pfn < 10; ++pfn) keep(stream, pfn, got);
  for (uint64_t pfn = 0x100; pfn < 0x110; ++pfn) keep(stream, pfn, got);
  keep(stream, 0x20f, got);  // after 255 excluded pages: stored with them
  for (uint64_t pfn = 0x310; pfn < 0x320; ++pfn) keep(stream, pfn, got);  // after 256: a new segment
  REQUIRE(stream.exclude(0x320, true));
  keep(stream, 0x321, got);  // after an unreadable page: a new segment
  REQUIRE(stream.finish());

  std::vector<ElfSegment> want{
      {0, 0x9fc00, 10 * kPage, 0x1000},
      {0x100000, 0x210 * kPage, 0x110 * kPage, 0xb000},
      {0x310000, 17 * kPage, 16 * kPage, 0xb000 + 0x110 * kPage},
      {0x321000, (0x4e8 - 0x321) * kPage, kPage, 0xb000 + 0x120 * kPage},
  };
  REQUIRE(got.segments.size() == want.size());
  CHECK(stream.segments() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(i);
    CHECK(same(got.segments[i], want[i]));
  }
  // pfn 1 is stored with the excluded page 0 before it; 0x20f with its run.
  CHECK(got.stores.front().from == 0);
  CHECK(got.stores.front().page_from == kPage);
  auto run =
      std::find_if(got.stores.begin(), got.stores.end(), [](const ElfStore& s) { return s.page_from == 0x20f000; });
  REQUIRE(run != got.stores.end());
  CHECK(run->from == 0x110000);
  CHECK(run->to == 0x210000);
  CHECK(run->at == 0xb000 + 0x10 * kPage);
}

TEST_CASE("ELF segments: the same segments and stores whatever the windows", "[capture][elf]") {
  std::vector<PhysRange> ranges{{0x1000, 0x9e000}, {0x100000, 0x2000000}, {0x3000000, 0x123400}};
  const uint64_t max_pfn = (ranges.back().end() + kPage - 1) / kPage;
  // Kept pages in runs, and excluded runs of lengths around 256.
  std::mt19937_64 random(24);
  std::vector<int> state(max_pfn, 0);  // 0 excluded, 1 kept, 2 unreadable
  for (uint64_t pfn = 0; pfn < max_pfn;) {
    uint64_t kept = random() % 40, excluded = random() % 2 ? 250 + random() % 12 : random() % 300;
    for (uint64_t i = 0; i < kept && pfn < max_pfn; ++i) state[pfn++] = 1;
    for (uint64_t i = 0; i < excluded && pfn < max_pfn; ++i) state[pfn++] = random() % 500 == 0 ? 2 : 0;
  }
  auto run = [&](uint64_t window_pfns, bool explicit_exclusions) {
    Recorded got;
    ElfSegmentStream stream = recording_stream(ranges, got);
    for (uint64_t pfn = 0; pfn < max_pfn; ++pfn) {
      if (state[pfn] == 1) keep(stream, pfn, got);
      else if (state[pfn] == 2 || explicit_exclusions) REQUIRE(stream.exclude(pfn, state[pfn] == 2));
      if ((pfn + 1) % window_pfns == 0) REQUIRE(stream.skip_to(pfn + 1));
    }
    REQUIRE(stream.finish());
    CHECK(stream.segments() == got.segments.size());
    return got;
  };
  Recorded whole = run(max_pfn + 1, false);
  CHECK(whole.segments.size() > 20);
  const std::vector<std::pair<uint64_t, bool>> cuts{{64, false}, {64, true}, {4096, true}};
  for (auto [window_pfns, explicit_exclusions] : cuts) {
    INFO(window_pfns << (explicit_exclusions ? " explicit" : ""));
    Recorded windowed = run(window_pfns, explicit_exclusions);
    REQUIRE(windowed.segments.size() == whole.segments.size());
    for (size_t i = 0; i < whole.segments.size(); ++i) CHECK(same(windowed.segments[i], whole.segments[i]));
    REQUIRE(windowed.stores.size() == whole.stores.size());
    for (size_t i = 0; i < whole.stores.size(); ++i) {
      CHECK(windowed.stores[i].from == whole.stores[i].from);
      CHECK(windowed.stores[i].at == whole.stores[i].at);
    }
  }
  // Segments are contiguous in the file and each ends where the next begins
  // in its range.
  for (size_t i = 1; i < whole.segments.size(); ++i)
    CHECK(whole.segments[i].offset == whole.segments[i - 1].offset + whole.segments[i - 1].filesz);
}
