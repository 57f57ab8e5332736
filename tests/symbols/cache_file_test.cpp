#include "symbols/cache_file.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>


using namespace coroner;
using namespace coroner::test;
using symbols::read_cache_file;
using symbols::write_cache_file;
using namespace std::literals;

namespace {

constexpr std::string_view kKey = "320cf4adeb68f90f829bf4ffae2e9cf5672f7182";
constexpr std::string_view kContent = "CORONIDX\x02\0\0\0 some cached names: init_task jiffies panic"sv;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = cache_dir() / "cache-file" / name;
  fs::remove_all(dir);
  return dir;
}

// A cache file holding kContent for kKey, written in three parts.
fs::path written_cache(const fs::path& dir) {
  const fs::path file = dir / "cache";
  REQUIRE(write_cache_file(file.string(), kKey, {kContent.substr(0, 9), "", kContent.substr(9)}).has_value());
  return file;
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }

 private:
  mode_t saved_;
};

}  // namespace

TEST_CASE("a cache file reads back what was written for its key", "[symbols][cache]") {
  const fs::path file = written_cache(fresh_dir("good"));
  auto content = read_cache_file(file.string(), kKey);
  REQUIRE(content.has_value());
  CHECK(std::string_view(content->data(), content->size()) == kContent);
  // Written again: the new content, and no temporary left beside it.
  REQUIRE(write_cache_file(file.string(), kKey, {"second"}).has_value());
  content = read_cache_file(file.string(), kKey);
  REQUIRE(content.has_value());
  CHECK(std::string_view(content->data(), content->size()) == "second");
  CHECK(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()) == 1);
}

TEST_CASE("a cache file with any byte changed is a miss", "[symbols][cache]") {
  const fs::path file = written_cache(fresh_dir("flipped"));
  const std::string good = file_contents(file);
  for (size_t at = 0; at < good.size(); ++at)
    for (char mask : {'\x01', '\x80', '\xff'}) {
      INFO("byte " << at << " of " << good.size() << " xor " << int{static_cast<unsigned char>(mask)});
      std::string bad = good;
      bad[at] ^= mask;
      write_file_contents(file, bad);
      CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
    }
  write_file_contents(file, good);
  CHECK(read_cache_file(file.string(), kKey).has_value());
}

TEST_CASE("a truncated or extended cache file is a miss", "[symbols][cache]") {
  const fs::path file = written_cache(fresh_dir("truncated"));
  const std::string good = file_contents(file);
  for (size_t size = 0; size < good.size(); ++size) {
    INFO("cut to " << size << " of " << good.size());
    write_file_contents(file, std::string_view(good).substr(0, size));
    CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
  }
  write_file_contents(file, good + '\0');
  CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
  write_file_contents(file, "\0"s + good);
  CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
}

TEST_CASE("a cache file written for another key is a miss", "[symbols][cache]") {
  const fs::path dir = fresh_dir("key");
  const fs::path file = written_cache(dir);
  const std::string other_key = "d214975e3c4ce1162225d2163c3efda8001ce02c";
  for (std::string_view key : {std::string_view(other_key), kKey.substr(0, 20), std::string_view(), kKey.substr(1)}) {
    INFO("key " << key);
    CHECK_FALSE(read_cache_file(file.string(), key).has_value());
  }
  // Another build's valid cache copied under this build's name.
  const fs::path other = dir / "other";
  REQUIRE(write_cache_file(other.string(), other_key, {kContent}).has_value());
  fs::copy_file(other, file, fs::copy_options::overwrite_existing);
  CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
  CHECK(read_cache_file(file.string(), other_key).has_value());
}

TEST_CASE("cache directories are made 0700 and cache files 0600 whatever the umask", "[symbols][cache]") {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0777}}) {
    INFO("umask " << std::oct << mask);
    const fs::path top = fresh_dir("modes");
    const fs::path file = top / "a" / "b" / "cache";
    {
      ScopedUmask umask(mask);
      REQUIRE(write_cache_file(file.string(), kKey, {kContent}).has_value());
    }
    CHECK(mode_of(top) == 0700);
    CHECK(mode_of(top / "a") == 0700);
    CHECK(mode_of(top / "a" / "b") == 0700);
    CHECK(mode_of(file) == 0600);
    CHECK(read_cache_file(file.string(), kKey).has_value());
  }
  // A directory that exists keeps its mode (it may be one the user chose).
  const fs::path chosen = fresh_dir("chosen");
  fs::create_directories(chosen);
  fs::permissions(chosen, fs::perms(0755));
  REQUIRE(write_cache_file((chosen / "cache").string(), kKey, {kContent}).has_value());
  CHECK(mode_of(chosen) == 0755);
}

TEST_CASE("a cache file others could write, or a link, is a miss", "[symbols][cache]") {
  const fs::path file = written_cache(fresh_dir("untrusted"));
  for (unsigned mode : {0620u, 0602u, 0666u}) {
    INFO("mode " << std::oct << mode);
    fs::permissions(file, fs::perms(mode));
    CHECK_FALSE(read_cache_file(file.string(), kKey).has_value());
  }
  fs::permissions(file, fs::perms(0600));
  REQUIRE(read_cache_file(file.string(), kKey).has_value());
  const fs::path link = file.parent_path() / "link";
  fs::create_symlink(file, link);
  CHECK_FALSE(read_cache_file(link.string(), kKey).has_value());
  CHECK_FALSE(read_cache_file((file.parent_path() / "missing").string(), kKey).has_value());
  CHECK_FALSE(read_cache_file(file.parent_path().string(), kKey).has_value());  // a directory
}
