#include "capture/format/flattened.hpp"

#include "capture/format/byte_source.hpp"
#include "tests/capture/format/memory_source.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

void put_be64(std::vector<std::byte>& out, int64_t value) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::byte>(static_cast<uint64_t>(value) >> (8 * i)));
}

// A flattened stream: header block, records, optional end marker.
struct StreamBuilder {
  std::vector<std::byte> bytes;
  explicit StreamBuilder(int64_t type = 1, int64_t version = 1) {
    const char signature[16] = "makedumpfile";
    for (char c : signature) bytes.push_back(static_cast<std::byte>(c));
    put_be64(bytes, type);
    put_be64(bytes, version);
    bytes.resize(4096);
  }
  StreamBuilder& record(int64_t offset, const std::string& data) {
    put_be64(bytes, offset);
    put_be64(bytes, static_cast<int64_t>(data.size()));
    for (char c : data) bytes.push_back(static_cast<std::byte>(c));
    return *this;
  }
  StreamBuilder& end() {
    put_be64(bytes, -1);
    put_be64(bytes, -1);
    return *this;
  }
  Expected<std::shared_ptr<const ByteSource>> open() const { return open_flattened(memory_source("stream", bytes)); }
};

std::string read_string(const ByteSource& source, uint64_t offset, size_t size) {
  std::vector<std::byte> out(size);
  auto r = source.read_at(offset, out);
  if (!r) FAIL(r.error().message());
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

}  // namespace

TEST_CASE("flattened: records reassemble, later records win, holes read as zero", "[flattened]") {
  auto opened = StreamBuilder().record(10, "hello").record(0, "0123456789").record(12, "LLO world").record(30, "!")
                    .record(3, "x").end().open();
  REQUIRE(opened);
  const ByteSource& file = **opened;
  CHECK(file.size() == 31);
  CHECK(file.name() == "stream");
  CHECK(is_flattened(file));
  CHECK(read_string(file, 0, 21) == "012x456789heLLO world");
  CHECK(read_string(file, 21, 10) == std::string(9, '\0') + "!");
  CHECK(read_string(file, 11, 3) == "eLL");
  std::vector<std::byte> past(5);
  auto r = file.read_at(28, past);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::truncated);
  // view() works inside one record of a mapped stream only; a memory stream has none.
  CHECK(file.view(0, 4).empty());
}

TEST_CASE("flattened: damaged streams fail with clear errors", "[flattened]") {
  SECTION("no end marker") {
    auto r = StreamBuilder().record(0, "abc").open();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::truncated);
    CHECK(r.error().message().find("end marker") != std::string::npos);
  }
  SECTION("record cut short") {
    auto builder = StreamBuilder().record(0, "abcdef");
    builder.bytes.resize(builder.bytes.size() - 2);
    auto r = builder.open();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::truncated);
  }
  SECTION("negative offset") {
    auto r = StreamBuilder().record(-5, "abc").end().open();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
    CHECK(r.error().message().find("0x1000") != std::string::npos);
  }
  SECTION("a huge size") {
    StreamBuilder builder;
    put_be64(builder.bytes, 0);
    put_be64(builder.bytes, int64_t{1} << 62);
    auto r = builder.open();
    REQUIRE_FALSE(r);
  }
  SECTION("records claiming a huge sparse file") {
    auto r = StreamBuilder().record(int64_t{1} << 50, "x").end().open();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::corrupt);
  }
  SECTION("unknown type or version") {
    auto r = StreamBuilder(2, 1).end().open();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::unsupported);
  }
  SECTION("header block cut short") {
    auto r = open_flattened(memory_source("short", std::vector<std::byte>(100)));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::truncated);
  }
  CHECK(looks_like_flattened(StreamBuilder().bytes));
  CHECK_FALSE(looks_like_flattened(std::vector<std::byte>(16)));
}

TEST_CASE("flattened: the real -F stream equals makedumpfile -R's reassembly", "[flattened][fixtures]") {
  for (const DumpCase& c : all_dumps()) {
    if (c.variant != "flat") continue;
    std::string stream_path = c.files()[0];
    std::string reassembled = (cache_dir() / "flat-reassembled-by-makedumpfile").string();
    if (!fs::exists(reassembled)) {
      std::string tmp = reassembled + "." + std::to_string(getpid());
      run_command("makedumpfile -R " + tmp + " < " + stream_path);
      fs::rename(tmp, reassembled);
    }
    auto stream = open_file_source(stream_path);
    REQUIRE(stream);
    auto flat = open_flattened(*stream);
    REQUIRE(flat);
    auto expected = read_whole_file(reassembled);
    REQUIRE((*flat)->size() == expected.size());
    std::vector<std::byte> got(expected.size());
    REQUIRE((*flat)->read_at(0, got));
    CHECK(got == expected);
    // A region inside one record is served as a view of the mapped stream.
    CHECK((*flat)->view(4096, 64).size() == 64);
  }
}
