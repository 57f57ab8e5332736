// Transparent decompression: round trips of zstd, gzip and xz streams (made
// with the libraries, as the tools write them), detection by content, the
// cache, and damaged inputs.
#include "capture/format/decompressed_file.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

namespace coroner {
namespace {

namespace fs = std::filesystem;

struct Format {
  Compression kind;
  std::string suffix;
};

const std::vector<Format>& formats() {
  static const std::vector<Format> list = {
      {Compression::zstd, ".zst"},
      {Compression::gzip, ".gz"},
      {Compression::xz, ".xz"},
  };
  return list;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_all(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

// Three MiB of mixed text and noise: several of the decoder's 1 MiB chunks.
std::string payload() {
  std::string data;
  std::mt19937_64 rng(1234);
  while (data.size() < (3u << 20) + 12345) {
    data += "VMCOREINFO line " + std::to_string(data.size()) + "\n";
    for (int i = 0; i < 16; ++i) data.push_back(static_cast<char>(rng() & 0xff));
  }
  return data;
}

struct Scratch {
  fs::path dir = test::cache_dir() / ("decompress-test-" + std::to_string(getpid()));
  fs::path cache = dir / "cache";
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(cache);
  }
  ~Scratch() { fs::remove_all(dir); }
};

size_t files_in(const fs::path& dir) {
  size_t n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) n += entry.is_regular_file();
  return n;
}

}  // namespace

TEST_CASE("decompressed_path: zstd, gzip and xz round trips", "[decompress]") {
  Scratch scratch;
  const std::string data = payload();
  fs::path plain = scratch.dir / "vmcore";
  write_all(plain, data);

  auto none = detect_file_compression(plain.string());
  REQUIRE(none);
  CHECK(*none == Compression::none);
  CHECK(decompressed_path(plain.string(), scratch.cache.string()).value_or("") == plain.string());

  for (const Format& format : formats()) {
    DYNAMIC_SECTION(format.suffix) {
      // Detection goes by content: a misleading name changes nothing.
      fs::path compressed = scratch.dir / ("renamed" + format.suffix + ".bin");
      write_all(compressed, test::compressed_stream(format.kind, data));
      auto kind = detect_file_compression(compressed.string());
      REQUIRE(kind);
      CHECK(*kind == format.kind);

      auto first = decompressed_path(compressed.string(), scratch.cache.string());
      if (!first) FAIL(first.error().message());
      CHECK(fs::path(*first).parent_path().parent_path() == scratch.cache);
      CHECK(read_all(*first) == data);
      // The second call finds the cached copy.
      auto again = decompressed_path(compressed.string(), scratch.cache.string());
      REQUIRE(again);
      CHECK(*again == *first);
      CHECK(files_in(scratch.cache) == 2);  // the copy and its recorded size
      fs::remove_all(scratch.cache);
    }
  }
}

TEST_CASE("decompressed_path: concatenated streams decode completely", "[decompress]") {
  Scratch scratch;
  for (const Format& format : formats()) {
    DYNAMIC_SECTION(format.suffix) {
      fs::path joined = scratch.dir / ("joined" + format.suffix);
      write_all(joined, test::compressed_stream(format.kind, "first part\n") +
                            test::compressed_stream(format.kind, "second part\n"));
      auto out = decompressed_path(joined.string(), scratch.cache.string());
      if (!out) FAIL(out.error().message());
      CHECK(read_all(*out) == "first part\nsecond part\n");
    }
  }
}

TEST_CASE("decompressed_path: truncated and corrupt inputs fail and leave no cache entry", "[decompress][corrupt]") {
  Scratch scratch;
  const std::string data = payload();
  for (const Format& format : formats()) {
    DYNAMIC_SECTION(format.suffix) {
      const std::string compressed = test::compressed_stream(format.kind, data);
      REQUIRE(compressed.size() > 1000);

      for (size_t cut : {compressed.size() / 2, compressed.size() - 1, size_t{8}}) {
        INFO("cut at " << cut);
        fs::path path = scratch.dir / fmt::format("cut-{}{}", cut, format.suffix);
        write_all(path, std::string_view(compressed).substr(0, cut));
        auto out = decompressed_path(path.string(), scratch.cache.string());
        REQUIRE(!out);
        CHECK((out.error().code() == Errc::truncated || out.error().code() == Errc::corrupt));
        CHECK(out.error().message().find(path.string()) != std::string::npos);
      }

      std::string damaged = compressed;
      for (size_t i = damaged.size() / 3; i < damaged.size() / 3 + 64; ++i) damaged[i] = static_cast<char>(~damaged[i]);
      fs::path path = scratch.dir / ("damaged" + format.suffix);
      write_all(path, damaged);
      auto out = decompressed_path(path.string(), scratch.cache.string());
      REQUIRE(!out);
      CHECK(out.error().code() == Errc::corrupt);
      CHECK(out.error().message().find(path.string()) != std::string::npos);
      // Failures leave neither a partial copy nor a temporary behind.
      CHECK(files_in(scratch.cache) == 0);
    }
  }
}

TEST_CASE("decompressed_path: a damaged or foreign copy is made again, stale temporaries go", "[decompress][corrupt]") {
  Scratch scratch;
  const std::string data = payload();
  fs::path compressed = scratch.dir / "vmcore.zst";
  write_all(compressed, test::compressed_stream(Compression::zstd, data));
  auto first = decompressed_path(compressed.string(), scratch.cache.string());
  REQUIRE(first);
  const fs::path copy = *first;

  SECTION("cut short") { fs::resize_file(copy, data.size() / 2); }
  SECTION("extended") { write_all(copy, data + "more"); }
  SECTION("writable by others") { fs::permissions(copy, fs::perms::others_write, fs::perm_options::add); }
  SECTION("a symlink") {
    fs::remove(copy);
    fs::create_symlink("/etc/hostname", copy);
  }
  SECTION("its recorded size gone (an older coroner's copy)") {
    fs::remove(copy.parent_path() / ("." + copy.filename().string() + ".size"));
  }
  SECTION("a temporary of a process that died") {
    write_all(copy.parent_path() / ".vmcore.999999999.tmp", "partial");
    fs::resize_file(copy, 10);
  }
  auto again = decompressed_path(compressed.string(), scratch.cache.string());
  REQUIRE(again);
  CHECK(*again == copy.string());
  CHECK_FALSE(fs::is_symlink(copy));
  CHECK(read_all(copy) == data);
  CHECK(files_in(scratch.cache) == 2);
}

TEST_CASE("decompressed_path: a missing file is an I/O error naming it", "[decompress]") {
  auto out = decompressed_path("/nonexistent/vmcore.zst", "/tmp");
  REQUIRE(!out);
  CHECK(out.error().code() == Errc::io);
  CHECK(out.error().message().find("/nonexistent/vmcore.zst") != std::string::npos);
}

}  // namespace coroner
