#include "capture/format/page_codec.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <thread>

using namespace coroner;

namespace {

const PageCodec kCodecs[] = {PageCodec::none, PageCodec::zlib, PageCodec::lzo, PageCodec::snappy, PageCodec::zstd};

// Pages like a kernel's: zeros, text-ish repetition, random bytes.
std::vector<std::vector<std::byte>> sample_pages(size_t page_size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<std::byte>> pages;
  pages.emplace_back(page_size, std::byte{0});
  std::vector<std::byte> text(page_size);
  for (size_t i = 0; i < page_size; ++i) text[i] = static_cast<std::byte>("struct task_struct "[i % 19]);
  pages.push_back(text);
  std::vector<std::byte> random(page_size);
  for (auto& b : random) b = static_cast<std::byte>(rng());
  pages.push_back(random);
  std::vector<std::byte> mixed(page_size);
  for (size_t i = 0; i < page_size; ++i) mixed[i] = static_cast<std::byte>(i % 64 < 8 ? rng() : 0);
  pages.push_back(mixed);
  return pages;
}

}  // namespace

TEST_CASE("page codecs round-trip pages of every page size", "[page_codec]") {
  for (size_t page_size : {size_t{4096}, size_t{16384}, size_t{65536}}) {
    for (const auto& page : sample_pages(page_size, 7)) {
      for (PageCodec codec : kCodecs) {
        INFO(codec_name(codec) << " page size " << page_size);
        std::vector<std::byte> packed;
        auto size = compress_page(codec, page, packed);
        REQUIRE(size);
        REQUIRE(*size == packed.size());
        if (codec != PageCodec::none && page[0] == std::byte{0} && page[1] == std::byte{0} &&
            page[page_size - 1] == std::byte{0})
          CHECK(*size < page_size / 8);  // a zero page compresses well
        std::vector<std::byte> back(page_size);
        REQUIRE(decompress_page(codec, packed, back));
        CHECK(back == page);
      }
    }
  }
}

TEST_CASE("page codecs honour levels", "[page_codec]") {
  auto page = sample_pages(4096, 3)[1];
  for (PageCodec codec : {PageCodec::zlib, PageCodec::zstd}) {
    std::vector<std::byte> fast, best, back(4096);
    REQUIRE(compress_page(codec, page, fast, 1));
    REQUIRE(compress_page(codec, page, best, 9));
    REQUIRE(decompress_page(codec, best, back));
    CHECK(back == page);
    CHECK(best.size() <= fast.size());
  }
}

TEST_CASE("page codecs reject bad input with Errc::corrupt", "[page_codec]") {
  auto page = sample_pages(4096, 5)[3];
  for (PageCodec codec : kCodecs) {
    INFO(codec_name(codec));
    std::vector<std::byte> packed;
    REQUIRE(compress_page(codec, page, packed));

    SECTION("output of the wrong length") {
      std::vector<std::byte> small(2048), large(8192);
      auto r1 = decompress_page(codec, packed, small);
      REQUIRE_FALSE(r1);
      CHECK(r1.error().code() == Errc::corrupt);
      auto r2 = decompress_page(codec, packed, large);
      REQUIRE_FALSE(r2);
      CHECK(r2.error().code() == Errc::corrupt);
    }
    SECTION("cut short") {
      if (codec == PageCodec::none) return;
      std::vector<std::byte> back(4096);
      auto r = decompress_page(codec, std::span(packed).first(packed.size() / 2), back);
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == Errc::corrupt);
      CHECK(r.error().message().find(codec_name(codec)) != std::string::npos);
    }
    SECTION("garbage") {
      if (codec == PageCodec::none) return;
      std::vector<std::byte> garbage(300, std::byte{0xff}), back(4096);
      auto r = decompress_page(codec, garbage, back);
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == Errc::corrupt);
    }
  }
}

TEST_CASE("page codecs work from many threads at once", "[page_codec]") {
  const auto pages = sample_pages(4096, 11);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::byte> packed, back(4096);
      for (int round = 0; round < 200; ++round) {
        for (PageCodec codec : kCodecs) {
          const auto& page = pages[(round + t) % pages.size()];
          if (!compress_page(codec, page, packed, codec == PageCodec::zstd ? 3 : 0) ||
              !decompress_page(codec, packed, back) || back != page)
            ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
}

TEST_CASE("codec names", "[page_codec]") {
  CHECK(codec_name(PageCodec::none) == "none");
  CHECK(codec_name(PageCodec::zlib) == "zlib");
  CHECK(codec_name(PageCodec::lzo) == "lzo");
  CHECK(codec_name(PageCodec::snappy) == "snappy");
  CHECK(codec_name(PageCodec::zstd) == "zstd");
}
