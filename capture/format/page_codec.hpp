// Compression of single dump pages, as kdump-compressed files store them:
// zlib (makedumpfile -c, QEMU kdump-zlib), lzo1x (-l), snappy (-p) and zstd
// (-z). Every function is safe to call from many threads at once; codecs
// that need scratch state keep it per thread.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace coroner {

enum class PageCodec { none, zlib, lzo, snappy, zstd };

// "none", "zlib", "lzo", "snappy", "zstd".
std::string_view codec_name(PageCodec codec);

// Decompresses one page. `out` is the page (its size is the page size); a
// stream that decodes to any other length, or does not decode, is
// Errc::corrupt with the codec's reason. PageCodec::none copies `in`, which
// must then have out.size() bytes.
Expected<void> decompress_page(PageCodec codec, std::span<const std::byte> in, std::span<std::byte> out);

// Compresses `in` into `out` (resized to the compressed length, which is
// returned). `level` 0 picks makedumpfile's choice: zlib level 1
// (Z_BEST_SPEED), zstd level 1; lzo1x_1 and snappy have no levels.
// PageCodec::none copies. The result may be larger than `in`: writers store
// a page raw when compression does not shrink it.
Expected<size_t> compress_page(PageCodec codec, std::span<const std::byte> in, std::vector<std::byte>& out,
                               int level = 0);

}  // namespace coroner
