// The page decompressors (zlib, lzo1x, snappy, zstd, raw): the first byte
// picks the codec and the page size (4K, 16K or 64K), the rest is the
// stored page.
#include "capture/format/page_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  if (size == 0) return 0;
  constexpr PageCodec kCodecs[] = {PageCodec::none, PageCodec::zlib, PageCodec::lzo, PageCodec::snappy,
                                   PageCodec::zstd};
  PageCodec codec = kCodecs[data[0] % 5];
  size_t page_size = size_t{4096} << (2 * (data[0] / 5 % 3));
  std::vector<std::byte> page(page_size);
  (void)decompress_page(codec, fuzz::input_bytes(data + 1, size - 1), page);
  return 0;
}
