// Transparent decompression: round trips through the real zstd, gzip and xz
// tools, detection by content, the cache, and damaged inputs.
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

struct Tool {
  Compression kind;
  std::string suffix;
  std::string command;  // compresses {in} to {in}{suffix}, keeping {in}
};

const std::vector<Tool>& tools() {
  static const std::vector<Tool> list = {
      {Compression::zstd, ".zst", "zstd -q -f -k"},
      {Compression::gzip, ".gz", "gzip -f -k"},
      {Compression::xz, ".xz", "xz -f -k"},
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

  for (const Tool& tool : tools()) {
    DYNAMIC_SECTION(tool.suffix) {
      test::run_command(tool.command + " " + plain.string());
      // Detection goes by content: a misleading name changes nothing.
      fs::path compressed = scratch.dir / ("renamed" + tool.suffix + ".bin");
      fs::rename(plain.string() + tool.suffix, compressed);
      auto kind = detect_file_compression(compressed.string());
      REQUIRE(kind);
      CHECK(*kind == tool.kind);

      auto first = decompressed_path(compressed.string(), scratch.cache.string());
      if (!first) FAIL(first.error().message());
      CHECK(fs::path(*first).parent_path().parent_path() == scratch.cache);
      CHECK(read_all(*first) == data);
      // The second call finds the cached copy.
      auto again = decompressed_path(compressed.string(), scratch.cache.string());
      REQUIRE(again);
      CHECK(*again == *first);
      CHECK(files_in(scratch.cache) == 1);
      fs::remove_all(scratch.cache);
    }
  }
}

TEST_CASE("decompressed_path: concatenated streams decode completely", "[decompress]") {
  Scratch scratch;
  for (const Tool& tool : tools()) {
    DYNAMIC_SECTION(tool.suffix) {
      write_all(scratch.dir / "a", "first part\n");
      write_all(scratch.dir / "b", "second part\n");
      test::run_command(tool.command + " " + (scratch.dir / "a").string() + " " + (scratch.dir / "b").string());
      fs::path joined = scratch.dir / ("joined" + tool.suffix);
      write_all(joined, read_all(scratch.dir / ("a" + tool.suffix)) + read_all(scratch.dir / ("b" + tool.suffix)));
      auto out = decompressed_path(joined.string(), scratch.cache.string());
      if (!out) FAIL(out.error().message());
      CHECK(read_all(*out) == "first part\nsecond part\n");
    }
  }
}

TEST_CASE("decompressed_path: truncated and corrupt inputs fail and leave no cache entry", "[decompress][corrupt]") {
  Scratch scratch;
  const std::string data = payload();
  fs::path plain = scratch.dir / "vmcore";
  write_all(plain, data);
  for (const Tool& tool : tools()) {
    DYNAMIC_SECTION(tool.suffix) {
      test::run_command(tool.command + " " + plain.string());
      const std::string compressed = read_all(plain.string() + tool.suffix);
      REQUIRE(compressed.size() > 1000);

      for (size_t cut : {compressed.size() / 2, compressed.size() - 1, size_t{8}}) {
        INFO("cut at " << cut);
        fs::path path = scratch.dir / fmt::format("cut-{}{}", cut, tool.suffix);
        write_all(path, std::string_view(compressed).substr(0, cut));
        auto out = decompressed_path(path.string(), scratch.cache.string());
        REQUIRE(!out);
        CHECK((out.error().code() == Errc::truncated || out.error().code() == Errc::corrupt));
        CHECK(out.error().message().find(path.string()) != std::string::npos);
      }

      std::string damaged = compressed;
      for (size_t i = damaged.size() / 3; i < damaged.size() / 3 + 64; ++i) damaged[i] = static_cast<char>(~damaged[i]);
      fs::path path = scratch.dir / ("damaged" + tool.suffix);
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

TEST_CASE("decompressed_path: a missing file is an I/O error naming it", "[decompress]") {
  auto out = decompressed_path("/nonexistent/vmcore.zst", "/tmp");
  REQUIRE(!out);
  CHECK(out.error().code() == Errc::io);
  CHECK(out.error().message().find("/nonexistent/vmcore.zst") != std::string::npos);
}

}  // namespace coroner
