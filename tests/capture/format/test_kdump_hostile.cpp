// The kdump reader on damaged input: truncated and corrupted copies of the
// real d31, and small synthetic dumps built with kdump_header.hpp (which
// also checks the encoders the capture writer uses).
#include "capture/format/kdump_compressed.hpp"
#include "capture/format/kdump_header.hpp"
#include "tests/capture/format/memory_source.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

const std::vector<std::byte>& d31_bytes() {
  static const std::vector<std::byte> bytes = [] {
    for (const DumpCase& c : all_dumps())
      if (c.id == "x86_64/oops-kdump/d31") return read_whole_file(c.files()[0]);
    FAIL("no d31 fixture");
    return std::vector<std::byte>{};
  }();
  return bytes;
}

Expected<std::unique_ptr<Dump>> open_bytes(std::vector<std::byte> bytes) {
  return open_kdump({memory_source("d31-copy", std::move(bytes))});
}

const KdumpDump& as_kdump(const Dump& dump) { return dynamic_cast<const KdumpDump&>(dump); }

// Reads every dumped page of `damaged` and compares with `intact`: each read
// either matches or fails with one of `allowed`; returns the failures.
int compare_all_pages(const Dump& damaged, const Dump& intact, std::initializer_list<Errc> allowed) {
  const KdumpDump& kdump = as_kdump(intact);
  uint64_t page = kdump.page_size();
  std::vector<std::byte> a(page), b(page);
  int failures = 0;
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn) {
    if (!kdump.page_dumped(pfn)) continue;
    REQUIRE(intact.read(pfn * page, a));
    auto r = damaged.read(pfn * page, b);
    if (r) {
      CHECK(a == b);
      continue;
    }
    ++failures;
    INFO(r.error().message());
    CHECK(std::find(allowed.begin(), allowed.end(), r.error().code()) != allowed.end());
    CHECK(!r.error().message().empty());
  }
  return failures;
}

void put32(std::vector<std::byte>& bytes, size_t offset, uint32_t value) { kdump::store_le32(bytes.data() + offset, value); }
void put64(std::vector<std::byte>& bytes, size_t offset, uint64_t value) { kdump::store_le64(bytes.data() + offset, value); }

// Sub-header field offsets (block 1 of a 4 KiB-block file).
constexpr size_t kSub = 4096;

}  // namespace

TEST_CASE("kdump: truncated copies of d31 fail cleanly", "[kdump][hostile]") {
  const auto& full = d31_bytes();
  auto intact = open_bytes(full);
  REQUIRE(intact);
  const KdumpDump& kdump = as_kdump(**intact);
  uint64_t bitmaps = kdump::bitmap_offset(kdump.header());
  uint64_t descs = kdump::page_desc_offset(kdump.header());

  SECTION("inside the headers and bitmaps: open fails") {
    for (uint64_t cut : {uint64_t{0}, uint64_t{7}, uint64_t{100}, uint64_t{463}, uint64_t{4096 + 50},
                         bitmaps + 10, descs - 1}) {
      INFO("cut at " << cut);
      auto dump = open_bytes(std::vector<std::byte>(full.begin(), full.begin() + cut));
      REQUIRE_FALSE(dump);
      CHECK(dump.error().code() == Errc::truncated);
      CHECK(dump.error().message().find("d31-copy") != std::string::npos);
    }
  }
  SECTION("inside page descriptors and data: opens incomplete, reads what is there") {
    for (uint64_t cut : {descs + 5, descs + 24 * 1000 + 7, uint64_t(full.size() / 2), uint64_t(full.size() - 1)}) {
      INFO("cut at " << cut);
      auto dump = open_bytes(std::vector<std::byte>(full.begin(), full.begin() + cut));
      REQUIRE(dump);
      CHECK((*dump)->incomplete());
      CHECK((*dump)->description().find("TRUNCATED") != std::string::npos);
      int failures = compare_all_pages(**dump, **intact, {Errc::truncated});
      CHECK(failures > 0);
    }
  }
}

TEST_CASE("kdump: hostile header fields are refused", "[kdump][hostile]") {
  const auto& full = d31_bytes();
  struct Case {
    const char* what;
    size_t offset;
    uint64_t value;
    bool wide;
    Errc code;
  };
  const Case cases[] = {
      {"header_version negative", 8, 0xfffffff0, false, Errc::corrupt},
      {"header_version byte-swapped", 8, 0x06000000, false, Errc::unsupported},
      {"block_size 0", 428, 0, false, Errc::corrupt},
      {"block_size not a power of two", 428, 4095, false, Errc::corrupt},
      {"block_size 1 GiB", 428, 1u << 30, false, Errc::corrupt},
      {"block_size negative", 428, 0x80000000, false, Errc::corrupt},
      {"sub_hdr_size 0", 432, 0, false, Errc::corrupt},
      {"sub_hdr_size huge", 432, 0x7fffffff, false, Errc::truncated},
      {"bitmap_blocks 0", 436, 0, false, Errc::corrupt},
      {"bitmap_blocks odd", 436, 0xffffffff, false, Errc::corrupt},
      {"bitmap_blocks huge", 436, 0xfffffffe, false, Errc::truncated},
      {"max_mapnr_64 huge", kSub + 96, uint64_t{1} << 60, true, Errc::corrupt},
      {"max_mapnr_64 0", kSub + 96, 0, true, Errc::corrupt},
      {"offset_vmcoreinfo beyond the file", kSub + 32, uint64_t{1} << 40, true, Errc::truncated},
      {"size_vmcoreinfo huge", kSub + 40, uint64_t{1} << 62, true, Errc::corrupt},
      {"offset_note beyond the file", kSub + 48, ~uint64_t{0} - 10, true, Errc::truncated},
      {"size_note huge", kSub + 56, uint64_t{1} << 50, true, Errc::corrupt},
      {"split part starting beyond max_mapnr", kSub + 80, uint64_t{1} << 40, true, Errc::corrupt},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto bytes = full;
    if (c.wide) put64(bytes, c.offset, c.value);
    else put32(bytes, c.offset, static_cast<uint32_t>(c.value));
    if (c.offset == kSub + 80) put32(bytes, kSub + 12, 1);  // the split flag, which makes start_pfn_64 count
    auto dump = open_bytes(std::move(bytes));
    REQUIRE_FALSE(dump);
    CHECK(dump.error().code() == c.code);
    CHECK(dump.error().message().find("d31-copy") != std::string::npos);
  }

  auto bad_signature = full;
  bad_signature[0] = std::byte{'X'};
  auto r = open_bytes(std::move(bad_signature));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::corrupt);
}

TEST_CASE("kdump: corrupted page descriptors and page data", "[kdump][hostile]") {
  const auto& full = d31_bytes();
  auto intact = open_bytes(full);
  REQUIRE(intact);
  const KdumpDump& kdump = as_kdump(**intact);
  uint64_t page = kdump.page_size();
  // A zlib-compressed page and the position of its descriptor.
  uint64_t pfn = 0, index = 0;
  for (uint64_t p = 0, rank = 0; p < kdump.max_mapnr(); ++p) {
    if (!kdump.page_dumped(p)) continue;
    if (kdump.codec_of_page(p) == PageCodec::zlib && p > 0x100) {
      pfn = p;
      index = rank;
      break;
    }
    ++rank;
  }
  REQUIRE(pfn != 0);
  auto desc = kdump.page_descriptor(pfn);
  REQUIRE(desc);
  size_t at = kdump::page_desc_offset(kdump.header()) + index * kdump::kPageDescSize;
  REQUIRE(kdump::load_le64(full.data() + at) == desc->offset);
  std::vector<std::byte> out(page);

  auto read_with = [&](auto mutate) {
    auto bytes = full;
    mutate(bytes);
    auto dump = open_bytes(std::move(bytes));
    REQUIRE(dump);
    return (*dump)->read(pfn * page, out);
  };

  SECTION("flipped compressed bytes") {
    auto r = read_with([&](auto& b) {
      for (size_t i = 2; i < desc->size; i += 3) b[desc->offset + i] ^= std::byte{0x5a};
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
    CHECK(r.error().message().find(fmt::format("pfn {:#x}", pfn)) != std::string::npos);
    CHECK(r.error().message().find(fmt::format("offset {:#x}", desc->offset)) != std::string::npos);
  }
  SECTION("data size larger than a page") {
    auto r = read_with([&](auto& b) { put32(b, at + 8, 1u << 31); });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
  }
  SECTION("raw page of the wrong size") {
    auto r = read_with([&](auto& b) { put32(b, at + 12, 0); });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
  }
  SECTION("conflicting compression flags") {
    auto r = read_with([&](auto& b) { put32(b, at + 12, kdump::kFlagZlib | kdump::kFlagZstd); });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
  }
  SECTION("data offset beyond the file") {
    auto r = read_with([&](auto& b) { put64(b, at, ~uint64_t{0} - 100); });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::truncated);
    CHECK(r.error().message().find("incomplete/truncated") != std::string::npos);
  }
  SECTION("a page an incomplete dump never wrote") {
    auto r = read_with([&](auto& b) {
      put64(b, at, 0);
      put32(b, 424, kdump::kFlagZlib | kdump::kFlagIncomplete);
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::truncated);
    CHECK(r.error().message().find("never written") != std::string::npos);
  }
}

TEST_CASE("kdump: a synthetic dump built with the header encoders", "[kdump][synthetic]") {
  constexpr uint32_t kBlock = 4096;
  constexpr uint64_t kPages = 100;  // max_mapnr; RAM at pfns [10, 90), pages dumped: even ones
  kdump::DiskDumpHeader header;
  header.utsname.sysname = "Linux";
  header.utsname.release = "4.18.0-553.el8.x86_64";
  header.utsname.machine = "x86_64";
  header.status = kdump::kFlagZstd | kdump::kFlagIncomplete;
  header.block_size = kBlock;
  header.sub_hdr_size = 1;
  header.bitmap_blocks = kdump::bitmap_blocks_for(kPages, kBlock);
  header.max_mapnr = kPages;
  header.nr_cpus = 1;
  kdump::SubHeader sub;
  sub.dump_level = 31;
  sub.max_mapnr_64 = kPages;
  const std::string vmcoreinfo = "OSRELEASE=4.18.0-553.el8.x86_64\nPAGESIZE=4096\n";
  sub.offset_vmcoreinfo = kBlock + kdump::kSubHeaderSize;
  sub.size_vmcoreinfo = vmcoreinfo.size();

  std::vector<std::byte> file(kdump::page_desc_offset(header));
  auto h = kdump::encode_disk_dump_header(header);
  std::copy(h.begin(), h.end(), file.begin());
  auto s = kdump::encode_sub_header(sub);
  std::copy(s.begin(), s.end(), file.begin() + kBlock);
  std::memcpy(file.data() + sub.offset_vmcoreinfo, vmcoreinfo.data(), vmcoreinfo.size());
  uint64_t bitmap1 = kdump::bitmap_offset(header), bitmap2 = bitmap1 + kdump::bitmap_size(header);
  std::vector<uint64_t> dumped;
  for (uint64_t pfn = 10; pfn < 90; ++pfn) {
    file[bitmap1 + pfn / 8] |= std::byte(1u << (pfn % 8));
    if (pfn % 2 == 0) {
      file[bitmap2 + pfn / 8] |= std::byte(1u << (pfn % 8));
      dumped.push_back(pfn);
    }
  }
  // Descriptors, then data; the last 5 pages were "never written" (ENOSPC).
  uint64_t data = file.size() + dumped.size() * kdump::kPageDescSize;
  std::vector<std::byte> descs, pages;
  for (size_t i = 0; i < dumped.size(); ++i) {
    kdump::PageDesc desc;
    if (i + 5 < dumped.size()) {
      std::vector<std::byte> page(kBlock, std::byte(dumped[i])), packed;
      REQUIRE(compress_page(PageCodec::zstd, page, packed, 3));
      bool raw = i % 7 == 0;  // some pages stored raw
      const auto& stored = raw ? page : packed;
      desc = {data + pages.size(), static_cast<uint32_t>(stored.size()), raw ? 0 : kdump::kFlagZstd, 0};
      pages.insert(pages.end(), stored.begin(), stored.end());
    }
    auto d = kdump::encode_page_desc(desc);
    descs.insert(descs.end(), d.begin(), d.end());
  }
  file.insert(file.end(), descs.begin(), descs.end());
  file.insert(file.end(), pages.begin(), pages.end());

  auto decoded = kdump::decode_disk_dump_header(file);
  REQUIRE(decoded);
  CHECK(decoded->utsname.release == header.utsname.release);
  CHECK(decoded->bitmap_blocks == header.bitmap_blocks);

  auto opened = open_kdump({memory_source("synthetic", file)});
  REQUIRE(opened);
  const Dump& dump = **opened;
  const KdumpDump& kdump = as_kdump(dump);
  CHECK(dump.incomplete());
  CHECK(kdump.marked_incomplete());
  CHECK(dump.description() == "kdump-compressed (zstd), dump level 31, INCOMPLETE");
  CHECK(dump.machine() == Machine::x86_64);
  CHECK(dump.vmcoreinfo_text() == vmcoreinfo);
  CHECK(dump.notes().empty());
  REQUIRE(dump.ranges().size() == 1);
  CHECK(dump.ranges()[0].start == 10 * kBlock);
  CHECK(dump.ranges()[0].size == 80 * kBlock);

  std::vector<std::byte> out(kBlock);
  for (size_t i = 0; i < dumped.size(); ++i) {
    INFO("pfn " << dumped[i]);
    auto r = dump.read(dumped[i] * kBlock, out);
    if (i + 5 < dumped.size()) {
      REQUIRE(r);
      CHECK(out == std::vector<std::byte>(kBlock, std::byte(dumped[i])));
      CHECK(kdump.codec_of_page(dumped[i]) == (i % 7 == 0 ? PageCodec::none : PageCodec::zstd));
    } else {
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == Errc::truncated);
    }
  }
  auto odd = dump.read(11 * kBlock, out);
  REQUIRE_FALSE(odd);
  CHECK(odd.error().code() == Errc::excluded_by_filter);
  auto hole = dump.read(5 * kBlock, out);
  REQUIRE_FALSE(hole);
  CHECK(hole.error().code() == Errc::not_in_dump);
  CHECK(kdump.codec_of_page(11) == PageCodec::none);
  CHECK_FALSE(kdump.page_descriptor(11));
}
