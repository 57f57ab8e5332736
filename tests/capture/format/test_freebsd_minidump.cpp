// The FreeBSD readers on small synthetic dumps written by
// tests/support/freebsd_minidump_writer: every header version, the sparse
// bitmap over dump_avail and the older PFN bitmap, both page sizes, each
// container (bare, zstd, gzip, dump device with v1-4 headers, info.N), and
// damaged copies that must fail with one-line errors. The real fixtures'
// memory laid out as minidumps is tested in tests/analyzer/arch.
#include "capture/format/dump.hpp"
#include "capture/format/freebsd_dump_device.hpp"
#include "capture/format/freebsd_info_file.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "capture/format/freebsd_msgbuf.hpp"
#include "capture/format/byte_order.hpp"
#include "tests/capture/format/memory_source.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/freebsd_minidump_writer.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::freebsd;
using namespace coroner::test;

namespace {

constexpr uint64_t kHole = 0x9f000;  // dump_avail: [0x1000, 0x9f000) [0x100000, 0x400000)

std::vector<std::byte> page_of(uint64_t pa, uint64_t size) {
  std::vector<std::byte> page(size);
  for (uint64_t i = 0; i < size; i += 8) store_le64(page.data() + i, pa + i);
  return page;
}

MinidumpContents small_dump(MinidumpArch arch, uint32_t version, uint64_t page = 4096) {
  MinidumpContents c;
  c.header.arch = arch;
  c.header.version = version;
  c.header.flags = page == 16384 ? 1 : 0;
  c.header.kernbase = 0xffffffff80000000ULL;
  c.header.dmap_base = 0xfffff80000000000ULL;
  c.header.dmap_end = c.header.dmap_base + 0x400000;
  c.dump_avail = {{0x1000, kHole}, {0x100000, 0x400000}};
  for (uint64_t pa : {uint64_t{0x4000}, uint64_t{0x8000}, uint64_t{0x100000}, uint64_t{0x3f0000}}) {
    uint64_t aligned = pa / page * page;
    if (aligned < 0x1000 && page == 4096) continue;
    c.pages[aligned] = page_of(aligned, page);
  }
  c.msgbuf = wrapped_msgbuf("hello\nworld\n", page, &c.msg_size);
  c.page_table.assign(page / 8, 0);
  return c;
}

std::shared_ptr<const ByteSource> source_of(const std::string& bytes, std::string name = "vmcore.0") {
  std::vector<std::byte> data(bytes.size());
  std::memcpy(data.data(), bytes.data(), bytes.size());
  return memory_source(std::move(name), std::move(data));
}

Expected<std::unique_ptr<Minidump>> open_bytes(const std::string& bytes) {
  return Minidump::open(source_of(bytes), {"vmcore.0"}, {});
}

uint64_t read_u64(const Dump& dump, uint64_t pa) {
  std::array<std::byte, 8> raw{};
  auto done = dump.read(pa, raw);
  if (!done) FAIL(done.error().message());
  return load_le64(raw.data());
}

KernelDumpHeader device_header(uint32_t version) { return test_dump_header(MinidumpArch::amd64, version); }

fs::path scratch(const std::string& name) {
  fs::path dir = cache_dir() / "freebsd-format";
  fs::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("minidump: every version of both arches reads its pages and refuses the rest", "[freebsd][minidump]") {
  struct Case {
    MinidumpArch arch;
    uint32_t version;
    uint64_t page;
  };
  for (Case k : {Case{MinidumpArch::amd64, 1, 4096}, Case{MinidumpArch::amd64, 2, 4096},
                 Case{MinidumpArch::amd64, 3, 4096}, Case{MinidumpArch::arm64, 1, 4096},
                 Case{MinidumpArch::arm64, 2, 4096}, Case{MinidumpArch::arm64, 3, 4096},
                 Case{MinidumpArch::arm64, 3, 16384}}) {
    INFO(minidump_arch_name(k.arch) << " v" << k.version << " " << k.page);
    MinidumpContents c = small_dump(k.arch, k.version, k.page);
    auto dump = open_bytes(write_minidump(c));
    REQUIRE(dump);
    const Minidump& d = **dump;
    CHECK(d.page_size() == k.page);
    CHECK(d.machine() == (k.arch == MinidumpArch::amd64 ? Machine::x86_64 : Machine::aarch64));
    CHECK(d.dumped_pages() == c.pages.size());
    for (const auto& [pa, bytes] : c.pages) {
      CHECK(read_u64(d, pa + 0x18) == pa + 0x18);
      CHECK(read_u64(d, pa + k.page - 8) == pa + k.page - 8);
    }
    // A page inside dump_avail that was not dumped.
    std::array<std::byte, 8> raw{};
    auto skipped = d.read(0x200000, raw);
    REQUIRE_FALSE(skipped);
    CHECK(skipped.error().code() == Errc::excluded_by_filter);
    CHECK(skipped.error().message().find("0x200000") != std::string::npos);
    if (d.header().has_dump_avail()) {
      auto hole = d.read(kHole + 0x10, raw);
      REQUIRE_FALSE(hole);
      CHECK(hole.error().code() == Errc::not_in_dump);
      CHECK(hole.error().message() ==
            fmt::format("vmcore.0: physical address {:#x} is in no dump_avail range of the minidump", kHole + 0x10));
      REQUIRE(d.ranges().size() == 2);
      CHECK(d.ranges()[1].start == 0x100000);
      CHECK(d.ranges()[1].size == 0x300000);
    }
    // A read across two dumped pages' boundary fails at the missing one.
    auto across = d.read(0x3f0000 / k.page * k.page + k.page - 4, raw);
    CHECK_FALSE(across);
    auto msgbuf = d.message_buffer_section();
    REQUIRE(msgbuf);
    CHECK(std::string(reinterpret_cast<const char*>(msgbuf->data()), 12) == "hello\nworld\n");
  }
}

TEST_CASE("minidump: the bitmap bit of an address in a hole below a range is not used", "[freebsd][minidump]") {
  // libkvm compares only with each range's end: 0xa0000 (hole) would take
  // a bit of the first range. Here every page of both ranges is dumped.
  MinidumpContents c = small_dump(MinidumpArch::amd64, 3);
  for (uint64_t pa = 0x1000; pa < kHole; pa += 4096) c.pages[pa] = page_of(pa, 4096);
  auto dump = open_bytes(write_minidump(c));
  REQUIRE(dump);
  std::array<std::byte, 8> raw{};
  for (uint64_t pa : {kHole, uint64_t{0xa0000}, uint64_t{0xff000}}) {
    auto read = (*dump)->read(pa, raw);
    REQUIRE_FALSE(read);
    CHECK(read.error().code() == Errc::not_in_dump);
  }
}

TEST_CASE("minidump: damaged files fail with one-line errors", "[freebsd][minidump][hostile]") {
  const std::string good = write_minidump(small_dump(MinidumpArch::amd64, 3));
  auto expect_error = [](const std::string& bytes, Errc code, std::string_view part) {
    auto dump = open_bytes(bytes);
    REQUIRE_FALSE(dump);
    INFO(dump.error().message());
    CHECK(dump.error().code() == code);
    CHECK(dump.error().message().find(part) != std::string::npos);
    CHECK(dump.error().message().find('\n') == std::string::npos);
  };
  auto with_u32 = [&](size_t offset, uint32_t value) {
    std::string copy = good;
    store_le32(reinterpret_cast<std::byte*>(copy.data()) + offset, value);
    return copy;
  };
  expect_error(good.substr(0, 20), Errc::truncated, "inside the minidump magic");
  expect_error(good.substr(0, 4096 * 3), Errc::truncated, "page bitmap section");
  expect_error(with_u32(24, 4), Errc::unsupported, "version 4");
  expect_error(with_u32(24, 0), Errc::unsupported, "version 0");
  expect_error(with_u32(32, 0xffffffff), Errc::truncated, "page bitmap section (4294967295 bytes");
  expect_error(with_u32(28, 0x80000000), Errc::truncated, "message buffer section");
  expect_error(with_u32(64, 0x10000000), Errc::truncated, "dump_avail section");
  expect_error(with_u32(36, 0xfffff000), Errc::truncated, "page-table section");
  // The bitmap shorter than dump_avail's pages.
  expect_error(with_u32(32, 8), Errc::corrupt, "more than the 64 bits");
  std::string reversed = good;
  store_le64(reinterpret_cast<std::byte*>(reversed.data()) + 2 * 4096 + 16, 0x50000);
  expect_error(reversed, Errc::corrupt, "overlaps or precedes");
  std::string other = good;
  std::memcpy(other.data() + 17, "i386\0", 5);
  expect_error(other, Errc::unsupported, "minidump FreeBSD/i386");
  MinidumpContents huge_pages = small_dump(MinidumpArch::arm64, 3);
  huge_pages.header.flags = 2;
  expect_error(write_minidump(huge_pages).substr(0, 4096), Errc::unsupported, "64K pages");

  // Pages cut off at the end: the file opens, marked truncated, and the
  // missing page fails to read with the offset.
  auto cut = open_bytes(good.substr(0, good.size() - 4096));
  REQUIRE(cut);
  CHECK((*cut)->incomplete());
  std::array<std::byte, 8> raw{};
  auto last = (*cut)->read(0x3f0000, raw);
  REQUIRE_FALSE(last);
  CHECK(last.error().code() == Errc::truncated);
  CHECK(read_u64(**cut, 0x100000) == 0x100000);
}

TEST_CASE("kerneldumpheader: every version round-trips and parity and version are checked", "[freebsd][kerneldump]") {
  for (uint32_t version : {1u, 2u, 3u, 4u}) {
    KernelDumpHeader h = device_header(version);
    h.dump_length = 0x123456;
    h.dump_extent = version >= 3 ? 0x200000 : h.dump_length;
    if (version >= 3) h.compression = DumpCompression::zstd;
    auto block = encode_kerneldump_header(h);
    auto decoded = decode_kerneldump_header(block, "hdr");
    REQUIRE(decoded);
    CHECK(decoded->version == version);
    CHECK(decoded->architecture == "amd64");
    CHECK(decoded->dump_length == 0x123456);
    CHECK(decoded->dump_extent == h.dump_extent);
    CHECK(decoded->dump_time == h.dump_time);
    CHECK(decoded->hostname == "crashbox");
    CHECK(decoded->version_string == h.version_string);
    CHECK(decoded->panic_string == h.panic_string);
    CHECK(decoded->compression == h.compression);
    CHECK(decoded->block_size == 512);
    // Big-endian fields: the version word reads 00 00 00 0N.
    CHECK(static_cast<int>(block[35]) == static_cast<int>(version));
    auto damaged = block;
    damaged[200] ^= std::byte{1};
    auto bad = decode_kerneldump_header(damaged, "hdr");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("parity") != std::string::npos);
  }
  KernelDumpHeader future = device_header(4);
  future.version = 5;
  auto block = encode_kerneldump_header(future);
  auto refused = decode_kerneldump_header(block, "hdr");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() == "hdr: kerneldumpheader version 5 (1 to 4 are known)");
}

TEST_CASE("dump device: leader, extent and trailer are found and checked", "[freebsd][kerneldump]") {
  const std::string minidump = write_minidump(small_dump(MinidumpArch::amd64, 3));
  for (uint32_t version : {1u, 2u, 3u, 4u}) {
    KernelDumpHeader h = device_header(version);
    h.dump_extent = minidump.size() + 8192;  // v3+: an extent larger than the dump
    std::string image = write_dump_device(minidump, h);
    auto found = locate_device_dump(*source_of(image, "ada0p3"));
    REQUIRE(found);
    CHECK(found->data_offset == 65536 + 512);
    CHECK(found->header.dump_length == minidump.size());
    CHECK(image.substr(found->data_offset, minidump.size()) == minidump);
  }
  KernelDumpHeader h = device_header(4);
  const std::string image = write_dump_device(minidump, h);
  auto expect_error = [](const std::string& bytes, Errc code, std::string_view part) {
    auto found = locate_device_dump(*source_of(bytes, "ada0p3"));
    REQUIRE_FALSE(found);
    INFO(found.error().message());
    CHECK(found.error().code() == code);
    CHECK(found.error().message().find(part) != std::string::npos);
  };
  std::string bad_parity = image;
  bad_parity[bad_parity.size() - 512 + 100] ^= 1;
  expect_error(bad_parity, Errc::corrupt, "parity");
  std::string other_leader = image;
  other_leader[65536 + 70] ^= 1;  // the leader's hostname
  expect_error(other_leader, Errc::corrupt, "leader at offset 0x10000 differs from the trailer");
  expect_error(image.substr(65536 + 4096), Errc::truncated, "do not fit before the trailer");
  KernelDumpHeader cleared = h;
  cleared.magic = DumpMagic::cleared;
  expect_error(write_dump_device(minidump, cleared), Errc::unsupported, "already saved by savecore");
  // savecore overwrites the magic alone: the parity is the old header's.
  std::string saved = image;
  saved.replace(saved.size() - 512, kClearedDumpMagic.size(), kClearedDumpMagic);
  expect_error(saved, Errc::unsupported, "already saved by savecore");
  KernelDumpHeader text = h;
  text.magic = DumpMagic::text_dump;
  expect_error(write_dump_device(minidump, text), Errc::unsupported, "textdump");
  KernelDumpHeader encrypted = h;
  encrypted.key_size = 512;
  std::string with_key = write_dump_device(minidump, encrypted);
  with_key.insert(65536 + 512, 512, '\x5a');  // the key blob after the leader
  expect_error(with_key, Errc::unsupported, "encrypted dump (dumpon -k, 512-byte key blob at offset 0x10200): save it "
                                            "with savecore, decrypt vmcore_encrypted.N with decryptcore(8)");
}

TEST_CASE("open_dump: FreeBSD minidumps in every container", "[freebsd][open_dump]") {
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  MinidumpContents contents = small_dump(MinidumpArch::arm64, 3, 16384);
  const std::string minidump = write_minidump(contents);
  KernelDumpHeader h = test_dump_header(MinidumpArch::arm64, 4);
  struct Container {
    std::string file, bytes, description;
  };
  std::vector<Container> containers{
      {"vmcore.3", minidump, "FreeBSD arm64 minidump version 3, 16K pages"},
      {"vmcore.4.zst", compressed_stream(Compression::zstd, minidump),
       "FreeBSD arm64 minidump version 3, 16K pages, zstd-compressed"},
      {"vmcore.5.gz", compressed_stream(Compression::gzip, minidump),
       "FreeBSD arm64 minidump version 3, 16K pages, gzip-compressed"},
      {"ada0p3.img", write_dump_device(minidump, h), "FreeBSD arm64 minidump version 3, 16K pages, dump device"}};
  for (DumpCompression kind : {DumpCompression::zstd, DumpCompression::gzip}) {
    KernelDumpHeader packed = h;
    packed.compression = kind;
    packed.dump_extent = minidump.size();  // as the kernel sets it: the uncompressed size
    std::string stream = compressed_stream(kind == DumpCompression::zstd ? Compression::zstd : Compression::gzip,
                                           minidump);
    containers.push_back({fmt::format("ada0p3-{}.img", compression_name(kind)), write_dump_device(stream, packed),
                          fmt::format("FreeBSD arm64 minidump version 3, 16K pages, dump device, {}-compressed",
                                      compression_name(kind))});
  }
  // A dump-device image kept compressed itself, around a compressed dump.
  containers.push_back({"ada0p3-gzip.img.gz", compressed_stream(Compression::gzip, containers.back().bytes),
                        containers.back().description});
  for (const Container& c : containers) {
    INFO(c.file);
    fs::path path = scratch(c.file);
    write_file_contents(path, c.bytes);
    auto dump = open_dump({path.string()});
    if (!dump) FAIL(dump.error().message());
    CHECK((*dump)->format_name() == "freebsd-minidump");
    CHECK((*dump)->description() == c.description);
    CHECK((*dump)->machine() == Machine::aarch64);
    CHECK((*dump)->page_size() == 16384);
    for (const auto& [pa, bytes] : contents.pages) CHECK(read_u64(**dump, pa + 0x100) == pa + 0x100);
    bool from_device = c.file.starts_with("ada0p3");
    auto names = (*dump)->utsname();
    REQUIRE(names.has_value() == from_device);
    if (from_device) {
      CHECK(names->nodename == "crashbox");
      CHECK(names->release == "15.0-CURRENT");
      CHECK(names->machine == "aarch64");
      const auto& origin = dynamic_cast<const Minidump&>(**dump).origin();
      CHECK(origin.header->panic_string == "page fault while in kernel mode");
    }
  }
}

TEST_CASE("open_dump reads savecore's info.N beside vmcore.N", "[freebsd][open_dump]") {
  KernelDumpHeader h = device_header(4);
  h.dump_length = 4096 * 9;
  std::string info = write_info_file(h, "/dev/ada0p3");
  auto parsed = parse_info_file(info, "info.7");
  REQUIRE(parsed);
  CHECK(parsed->hostname == "crashbox");
  CHECK(parsed->version_string == h.version_string);
  CHECK(parsed->panic_string == h.panic_string);
  CHECK(parsed->dump_time == h.dump_time);
  CHECK(parsed->dump_length == h.dump_length);
  CHECK(parsed->architecture == "amd64");

  write_file_contents(scratch("vmcore.7"), write_minidump(small_dump(MinidumpArch::amd64, 3)));
  write_file_contents(scratch("info.7"), info);
  auto dump = open_dump({scratch("vmcore.7").string()});
  REQUIRE(dump);
  auto names = (*dump)->utsname();
  REQUIRE(names);
  CHECK(names->nodename == "crashbox");
  CHECK(names->version == "FreeBSD 15.0-CURRENT #0 main-n123: Thu Dec  3 2026");
  CHECK(info_file_beside(scratch("vmcore.7.zst").string()) == scratch("info.7").string());
  CHECK_FALSE(info_file_beside(scratch("vmcore.8").string()));

  // An info.N for another architecture is a contradiction, not a guess.
  h.architecture = "aarch64";
  write_file_contents(scratch("info.7"), write_info_file(h, "/dev/ada0p3"));
  auto mismatch = open_dump({scratch("vmcore.7").string()});
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message().find("says architecture \"aarch64\", the minidump is amd64") != std::string::npos);
  CHECK_FALSE(parse_info_file("  Dumptime: yesterday\n", "info.9"));
}

TEST_CASE("minidump message buffer: a wrapped ring reads from its oldest byte", "[freebsd][msgbuf]") {
  std::string text;
  for (int n = 1; n <= 400; ++n) text += fmt::format("<6>line {} of the message buffer\n", n);
  uint32_t size = 0;
  std::vector<std::byte> section = wrapped_msgbuf(text, 8192, &size);
  REQUIRE(text.size() > size);
  auto decoded = decode_message_buffer(section, size, "vmcore.0");
  REQUIRE(decoded);
  CHECK(decoded->write_sequence == text.size());
  // What survives: the last `size` bytes written, the first line cut.
  std::vector<std::string> expected;
  for (const std::string& line : lines_of(text.substr(text.size() - size)))
    expected.push_back(line.starts_with("<6>") ? line.substr(3) : line);
  CHECK(decoded->lines == expected);
  CHECK(decoded->lines.back() == "line 400 of the message buffer");

  // Not yet full: the NULs after the text are dropped.
  auto young = wrapped_msgbuf("<6>first\nsecond\n", 8192, &size);
  auto short_log = decode_message_buffer(young, size, "vmcore.0");
  REQUIRE(short_log);
  CHECK(short_log->lines == std::vector<std::string>{"first", "second"});

  // Without the struct (a live dump's copy): the ring from its start.
  std::vector<std::byte> bare(young.begin(), young.begin() + size);
  auto headless = decode_message_buffer(bare, size, "vmcore.0");
  REQUIRE(headless);
  CHECK_FALSE(headless->write_sequence);
  CHECK(headless->lines == std::vector<std::string>{"first", "second"});
  CHECK_FALSE(decode_message_buffer(bare, size + 1, "vmcore.0"));
}
