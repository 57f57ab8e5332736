// The kdump-compressed reader on the real fixtures: every kdump variant
// (makedumpfile zlib/zstd/snappy/lzo, flattened, split, -d 0/1, QEMU's
// kdump-zlib) checked against facts.json.
#include "capture/format/dump.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace coroner;
using namespace coroner::test;

namespace {

bool is_kdump_variant(const DumpCase& c) {
  static const std::set<std::string> variants = {"d31", "d31-zstd", "d31-snappy", "kdump-zlib", "lzo",
                                                 "flat", "split", "d0", "d1"};
  return variants.count(c.variant) > 0;
}

PageCodec expected_codec(const DumpCase& c) {
  if (c.variant == "d31-zstd") return PageCodec::zstd;
  if (c.variant == "d31-snappy") return PageCodec::snappy;
  if (c.variant == "d31" || c.variant == "kdump-zlib") return PageCodec::zlib;
  return PageCodec::lzo;
}

std::unique_ptr<Dump> open_case(const DumpCase& c) {
  auto dump = open_dump(c.files());
  if (!dump) FAIL(c.id << ": " << dump.error().message());
  return std::move(*dump);
}

const KdumpDump& as_kdump(const Dump& dump) {
  auto* kdump = dynamic_cast<const KdumpDump*>(&dump);
  REQUIRE(kdump);
  return *kdump;
}

const DumpCase& find_case(const std::string& id) {
  for (const DumpCase& c : all_dumps())
    if (c.id == id) return c;
  FAIL("no fixture " << id);
  throw;
}

}  // namespace

TEST_CASE("kdump fixtures: headers match facts.json", "[kdump][fixtures]") {
  for (const DumpCase& c : all_dumps()) {
    if (!is_kdump_variant(c)) continue;
    INFO(c.id);
    auto dump = open_case(c);
    const KdumpDump& kdump = as_kdump(*dump);
    const auto& facts = c.facts();

    bool x86 = c.arch_dir.find("x86_64") != std::string::npos;
    CHECK(dump->machine() == (x86 ? Machine::x86_64 : Machine::aarch64));
    CHECK(kdump.codec() == expected_codec(c));
    std::string codec = std::string(codec_name(expected_codec(c)));
    CHECK(dump->description().rfind("kdump-compressed (" + codec + "), dump level ", 0) == 0);
    CHECK_FALSE(dump->incomplete());
    CHECK(kdump.header_version() == 6);

    // makedumpfile writes the kernel's page size; QEMU the target's largest.
    uint64_t kernel_page = std::stoull(facts["vmcoreinfo"]["PAGESIZE"].get<std::string>());
    if (c.variant == "kdump-zlib") {
      CHECK(dump->dump_level() == 1);  // QEMU's fixed DUMP_LEVEL: zero pages shared, nothing filtered
      CHECK(dump->page_size() == (x86 ? 4096u : 65536u));
    } else {
      int level = c.variant == "d0" ? 0 : c.variant == "d1" ? 1 : 31;
      CHECK(dump->dump_level() == level);
      CHECK(dump->description().find(fmt::format("dump level {}", level)) != std::string::npos);
      CHECK(dump->page_size() == kernel_page);
      CHECK(dump->utsname()->release == facts["osrelease"].get<std::string>());
      CHECK(dump->utsname()->nodename == facts["nodename"].get<std::string>());
    }
    CHECK(dump->format_name() == (c.variant == "split"  ? "split"
                                  : c.variant == "flat" || c.variant == "kdump-zlib" ? "flattened"
                                                                                       : "kdump"));

    auto text = dump->vmcoreinfo_text();
    REQUIRE(text);
    VmcoreInfo info = VmcoreInfo::parse(*text);
    for (auto& [key, value] : facts["vmcoreinfo"].items()) {
      INFO(key);
      CHECK(info.get(key) == std::optional<std::string_view>(value.get<std::string>()));
    }
    // The note area holds one NT_PRSTATUS per CPU.
    CHECK(dump->prstatus().size() >= 1);
    CHECK(!dump->ranges().empty());
  }
}

TEST_CASE("kdump fixtures: memory samples read with their sha256", "[kdump][fixtures]") {
  for (const DumpCase& c : all_dumps()) {
    if (!is_kdump_variant(c) || !c.facts().contains("memory_samples")) continue;
    INFO(c.id);
    auto dump = open_case(c);
    int checked = 0;
    for (const auto& sample : c.facts()["memory_samples"]) {
      if (sample["paddr"].is_null()) continue;
      INFO(sample["kind"].get<std::string>() << " at " << sample["paddr"].get<std::string>());
      std::vector<std::byte> bytes(sample["len"].get<size_t>());
      auto read = dump->read(hex_value(sample["paddr"]), bytes);
      REQUIRE(read);
      CHECK(sha256_hex(bytes.data(), bytes.size()) == sample["sha256"].get<std::string>());
      ++checked;
    }
    CHECK(checked > 0);
  }
}

TEST_CASE("kdump fixtures: flattened and split read the same pages as plain lzo", "[kdump][fixtures]") {
  auto lzo = open_case(find_case("x86_64/oops-kdump/lzo"));
  auto flat = open_case(find_case("x86_64/oops-kdump/flat"));
  auto split = open_case(find_case("x86_64/oops-kdump/split"));
  const KdumpDump& plain = as_kdump(*lzo);
  CHECK(split->description().find("split into 2 files") != std::string::npos);
  CHECK(flat->description().find("flattened") != std::string::npos);
  CHECK(split->files().size() == 2);

  uint64_t page = plain.page_size();
  int compared = 0, index = 0;
  std::vector<std::byte> a(page), b(page), s(page);
  for (uint64_t pfn = 0; pfn < plain.max_mapnr(); ++pfn) {
    if (!plain.page_dumped(pfn) || index++ % 37 != 0) continue;
    INFO("pfn " << pfn);
    REQUIRE(lzo->read(pfn * page, a));
    REQUIRE(flat->read(pfn * page, b));
    REQUIRE(split->read(pfn * page, s));
    CHECK(a == b);
    CHECK(a == s);
    ++compared;
  }
  CHECK(compared > 100);
  CHECK(flat->ranges().size() == lzo->ranges().size());
}

TEST_CASE("kdump fixtures: split parts in any order, incomplete sets refused", "[kdump][fixtures]") {
  auto files = find_case("x86_64/oops-kdump/split").files();
  REQUIRE(files.size() == 2);
  auto reversed = open_dump({files[1], files[0]});
  REQUIRE(reversed);
  CHECK((*reversed)->files() == std::vector<std::string>{files[1], files[0]});

  auto twice = open_dump({files[0], files[0]});
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code() == Errc::invalid_argument);

  // makedumpfile gives each part a pfn range; a part alone lacks the others
  // unless its own range is everything.
  for (const auto& file : files) {
    auto alone = open_dump({file});
    const auto& kdump = alone ? as_kdump(**alone) : as_kdump(**reversed);
    if (alone) {
      CHECK(kdump.parts().front().start_pfn == 0);
      CHECK(kdump.parts().front().end_pfn == kdump.max_mapnr());
    } else {
      CHECK(alone.error().code() == Errc::invalid_argument);
      CHECK(alone.error().message().find("missing a part") != std::string::npos);
    }
  }

  auto with_other = open_dump({files[0], find_case("x86_64/oops-kdump/d31").files()[0]});
  REQUIRE_FALSE(with_other);
  CHECK(with_other.error().code() == Errc::invalid_argument);
}

TEST_CASE("kdump fixtures: filtered and absent pages fail with the right error", "[kdump][fixtures]") {
  auto dump = open_case(find_case("x86_64/oops-kdump/d31"));
  const KdumpDump& kdump = as_kdump(*dump);
  uint64_t page = kdump.page_size();

  uint64_t excluded = kdump.max_mapnr();
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn) {
    if (kdump.page_in_memory(pfn) && !kdump.page_dumped(pfn)) {
      excluded = pfn;
      break;
    }
  }
  REQUIRE(excluded < kdump.max_mapnr());
  std::vector<std::byte> bytes(64);
  auto filtered = dump->read(excluded * page + 8, bytes);
  REQUIRE_FALSE(filtered);
  CHECK(filtered.error().code() == Errc::excluded_by_filter);
  CHECK(filtered.error().message().find("excluded by the dump filter (dump level 31)") != std::string::npos);
  CHECK(filtered.error().message().find(fmt::format("{:#x}", excluded * page + 8)) != std::string::npos);

  auto beyond = dump->read(kdump.max_mapnr() * page, bytes);
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().code() == Errc::not_in_dump);
  auto far = dump->read(uint64_t{1} << 60, bytes);
  REQUIRE_FALSE(far);
  CHECK(far.error().code() == Errc::not_in_dump);

  // A read across a page boundary into the filtered page fails there.
  std::vector<std::byte> across(2 * page);
  uint64_t before = excluded - 1;
  if (kdump.page_dumped(before)) {
    auto r = dump->read(before * page, across);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::excluded_by_filter);
  }

  // ranges() are the runs of the 1st bitmap.
  uint64_t in_memory = 0;
  for (const PhysRange& range : dump->ranges()) in_memory += range.size / page;
  uint64_t counted = 0;
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn) counted += kdump.page_in_memory(pfn);
  CHECK(in_memory == counted);
}

TEST_CASE("kdump fixtures: d0 keeps every page, codecs per page", "[kdump][fixtures]") {
  auto dump = open_case(find_case("x86_64/oops-kdump/d0"));
  const KdumpDump& kdump = as_kdump(*dump);
  int compressed = 0, raw = 0;
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn) {
    CHECK(kdump.page_in_memory(pfn) == kdump.page_dumped(pfn));
    if (pfn % 97 != 0 || !kdump.page_dumped(pfn)) continue;
    PageCodec codec = kdump.codec_of_page(pfn);
    CHECK((codec == PageCodec::lzo || codec == PageCodec::none));
    (codec == PageCodec::lzo ? compressed : raw)++;
  }
  CHECK(compressed > 0);
  CHECK(kdump.codec_of_page(kdump.max_mapnr() + 5) == PageCodec::none);
}

TEST_CASE("kdump fixtures: reads from many threads agree", "[kdump][fixtures]") {
  auto dump = open_case(find_case("x86_64/oops-kdump/d31"));
  const KdumpDump& kdump = as_kdump(*dump);
  uint64_t page = kdump.page_size();
  std::vector<uint64_t> pfns;
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr() && pfns.size() < 2000; ++pfn)
    if (kdump.page_dumped(pfn)) pfns.push_back(pfn);
  std::vector<std::string> expected;
  for (uint64_t pfn : pfns) {
    std::vector<std::byte> bytes(page);
    REQUIRE(dump->read(pfn * page, bytes));
    expected.push_back(sha256_hex(bytes.data(), bytes.size()));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::byte> bytes(page);
      for (size_t i = t; i < pfns.size() * 3; i += 4) {
        size_t k = (i * 7919) % pfns.size();
        if (!dump->read(pfns[k] * page, bytes) || sha256_hex(bytes.data(), bytes.size()) != expected[k]) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == 0);
}

TEST_CASE("kdump fixtures: every dumped page equals the raw vmcore's", "[kdump][fixtures]") {
  for (const char* id : {"x86_64/oops-kdump/d31", "x86_64/oops-kdump/d31-zstd", "x86_64/oops-kdump/d31-snappy",
                         "x86_64/oops-kdump/d0", "arm64/oops-kdump/d31"}) {
    INFO(id);
    const DumpCase& c = find_case(id);
    auto dump = open_case(c);
    auto vmcore = open_case(find_case(c.arch_dir.substr(std::string("linux-6.1-").size()) + "/oops-kdump/vmcore"));
    const KdumpDump& kdump = as_kdump(*dump);
    uint64_t page = kdump.page_size();
    std::vector<std::byte> a(page), b(page);
    uint64_t compared = 0, differing = 0;
    for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn) {
      if (!kdump.page_dumped(pfn)) continue;
      REQUIRE(dump->read(pfn * page, a));
      auto r = vmcore->read(pfn * page, b);
      if (!r) FAIL("vmcore: " << r.error().message());
      differing += a != b;
      ++compared;
    }
    CHECK(compared > 1000);
    CHECK(differing == 0);
  }
}
