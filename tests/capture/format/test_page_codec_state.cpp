// The codecs keep their state per thread (a deflate stream, inflate stream,
// zstd context) and reset it for every page. The bytes must stay those of
// the one-shot calls makedumpfile makes (compress2, ZSTD_compressCCtx)
// through level changes and after a failed page.
#include "capture/format/page_codec.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>
#include <thread>

using namespace coroner;

namespace {

// Kernel-like pages of varying compressibility, different each time.
std::vector<std::vector<std::byte>> varied_pages(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<std::byte>> pages;
  for (size_t i = 0; i < count; ++i) {
    std::vector<std::byte> page(4096);
    unsigned noise = i % 5;  // 0: all repetition .. 4: mostly random
    for (size_t b = 0; b < page.size(); ++b)
      page[b] = rng() % 5 < noise ? static_cast<std::byte>(rng()) : static_cast<std::byte>("swapper/0\0\0\0"[b % 12]);
    pages.push_back(std::move(page));
  }
  return pages;
}

// Catch2's assertions are not thread-safe: the helpers below run on several
// threads and report a mismatch as text, which the test thread checks.
std::vector<std::byte> one_shot_zlib(const std::vector<std::byte>& page, int level) {
  std::vector<std::byte> out(compressBound(page.size()));
  uLongf length = out.size();
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &length, reinterpret_cast<const Bytef*>(page.data()),
                page.size(), level) != Z_OK)
    return {};
  out.resize(length);
  return out;
}

std::vector<std::byte> one_shot_zstd(const std::vector<std::byte>& page, int level) {
  std::vector<std::byte> out(ZSTD_compressBound(page.size()));
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  size_t length = ZSTD_compressCCtx(ctx, out.data(), out.size(), page.data(), page.size(), level);
  ZSTD_freeCCtx(ctx);
  if (ZSTD_isError(length)) return {};
  out.resize(length);
  return out;
}

// "" when every page compresses to the one-shot bytes and back; else what differed.
std::string same_as_one_shot(unsigned seed) {
  auto pages = varied_pages(40, seed);
  std::vector<std::byte> packed, back(4096);
  for (size_t i = 0; i < pages.size(); ++i) {
    int level = i % 7 == 6 ? 9 : 1;  // level changes now and then
    const std::string where = fmt::format("seed {} page {} level {}", seed, i, level);
    if (!compress_page(PageCodec::zlib, pages[i], packed, level == 1 ? 0 : level)) return where + ": zlib failed";
    if (packed != one_shot_zlib(pages[i], level)) return where + ": zlib bytes differ";
    if (!decompress_page(PageCodec::zlib, packed, back) || back != pages[i]) return where + ": zlib round trip";
    if (!compress_page(PageCodec::zstd, pages[i], packed, level == 1 ? 0 : level)) return where + ": zstd failed";
    if (packed != one_shot_zstd(pages[i], level)) return where + ": zstd bytes differ";
    if (!decompress_page(PageCodec::zstd, packed, back) || back != pages[i]) return where + ": zstd round trip";
  }
  return "";
}

}  // namespace

TEST_CASE("reused codec state writes the bytes of one-shot compression", "[page_codec]") {
  CHECK(same_as_one_shot(1) == "");
  // Again on other threads, each with its own fresh state.
  std::vector<std::string> results(3);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 3; ++t) threads.emplace_back([t, &results] { results[t] = same_as_one_shot(10 + t); });
  for (auto& thread : threads) thread.join();
  for (const std::string& result : results) CHECK(result == "");
}

TEST_CASE("a page that fails to decode does not spoil the next one", "[page_codec]") {
  auto pages = varied_pages(4, 5);
  for (PageCodec codec : {PageCodec::zlib, PageCodec::zstd, PageCodec::lzo, PageCodec::snappy}) {
    INFO(codec_name(codec));
    std::vector<std::byte> packed, back(4096);
    REQUIRE(compress_page(codec, pages[1], packed));
    // Cut short mid-stream, then garbage, then the whole page again.
    CHECK_FALSE(decompress_page(codec, std::span(packed).first(packed.size() / 2), back));
    std::vector<std::byte> garbage(packed.size(), std::byte{0x5a});
    CHECK_FALSE(decompress_page(codec, garbage, back));
    REQUIRE(decompress_page(codec, packed, back));
    CHECK(back == pages[1]);
  }
}

TEST_CASE("an impossible zlib level fails cleanly and the next page compresses", "[page_codec]") {
  auto page = varied_pages(1, 9)[0];
  std::vector<std::byte> packed;
  auto bad = compress_page(PageCodec::zlib, page, packed, 42);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == Errc::invalid_argument);
  CHECK(bad.error().message().find("zlib") != std::string::npos);
  REQUIRE(compress_page(PageCodec::zlib, page, packed));
  CHECK(packed == one_shot_zlib(page, Z_BEST_SPEED));
}
