#include "capture/format/dump.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>

using namespace coroner;
using namespace coroner::test;

namespace {

const DumpCase& find_case(const std::string& id) {
  for (const DumpCase& c : all_dumps())
    if (c.id == id) return c;
  FAIL("no fixture " << id);
  throw;
}

std::string write_file(const std::string& name, const std::string& content) {
  fs::path path = cache_dir() / ("open-dump-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

}  // namespace

TEST_CASE("open_dump detects every fixture's format from its content", "[open_dump][fixtures]") {
  for (const DumpCase& c : all_dumps()) {
    INFO(c.id);
    auto dump = open_dump(c.files());
    if (!dump) FAIL(dump.error().message());
    std::string_view format = (*dump)->format_name();
    if (c.variant == "vmcore" || c.variant == "elf" || c.variant == "elf-d31") CHECK(format == "elf");
    else if (c.variant == "split") CHECK(format == "split");
    else if (c.variant == "flat" || c.variant == "kdump-zlib") CHECK(format == "flattened");
    else CHECK(format == "kdump");
    CHECK((*dump)->files() == c.files());
  }
}

TEST_CASE("open_dump opens compressed dumps transparently", "[open_dump][fixtures]") {
  // Keep open_dump's decompressed copy inside the build tree.
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  std::string d31 = find_case("x86_64/oops-kdump/d31").files()[0];
  std::string zst = (cache_dir() / "open-dump-d31.zst").string();
  if (!fs::exists(zst)) run_command("zstd -q -1 -f " + d31 + " -o " + zst);
  auto plain = open_dump({d31});
  auto packed = open_dump({zst});
  REQUIRE(plain);
  REQUIRE(packed);
  CHECK((*packed)->format_name() == "kdump");
  CHECK((*packed)->description() == (*plain)->description());
  CHECK((*packed)->vmcoreinfo_text() == (*plain)->vmcoreinfo_text());
}

TEST_CASE("open_dump refuses what is not a vmcore", "[open_dump]") {
  SECTION("unknown content") {
    std::string path = write_file("text", "this is not a crash dump at all");
    auto r = open_dump({path});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::unsupported);
    CHECK(r.error().message() == path + ": not a vmcore (unknown format, first bytes 74 68 69 73 20 69 73 20 6e 6f 74 "
                                        "20 61 20 63 72)");
  }
  SECTION("savecore's encrypted dump") {
    fs::create_directories(cache_dir() / "freebsd-encrypted");
    std::string path = (cache_dir() / "freebsd-encrypted" / "vmcore_encrypted.0").string();
    write_file_contents(path, "\x93\x1f\xc4 ciphertext, not a dump");
    auto r = open_dump({path});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::unsupported);
    CHECK(r.error().message().find("decrypt it with decryptcore(8), key.N") != std::string::npos);
  }
  SECTION("empty file") {
    auto r = open_dump({write_file("empty", "")});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::unsupported);
  }
  SECTION("missing file") {
    auto r = open_dump({(cache_dir() / "no-such-dump").string()});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("no-such-dump") != std::string::npos);
  }
  SECTION("no files") {
    auto r = open_dump({});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
  }
  SECTION("an ELF vmcore with another file") {
    std::string elf = find_case("x86_64/oops-kdump/elf-d31").files()[0];
    std::string d31 = find_case("x86_64/oops-kdump/d31").files()[0];
    auto r = open_dump({d31, elf});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find(elf) != std::string::npos);
  }
  SECTION("a flattened stream of garbage") {
    std::string stream(4096, '\0');
    std::memcpy(stream.data(), "makedumpfile\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x01", 32);
    auto put = [&](int64_t v) {
      for (int i = 7; i >= 0; --i) stream.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
    };
    put(0);
    put(8);
    stream += "garbage!";
    put(-1);
    put(-1);
    auto r = open_dump({write_file("flat-garbage", stream)});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::unsupported);
    CHECK(r.error().message().find("flattened") != std::string::npos);
  }
}
