#include "capture/format/page_codec.hpp"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <limits>
#include <memory>
#include <mutex>

namespace coroner {
namespace {

// lzo_init() checks the library's build against its header once per process.
bool lzo_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = lzo_init() == LZO_E_OK; });
  return ok;
}

struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
struct ZstdCctxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};

// zstd contexts are reusable but not shareable: one per thread.
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCctxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

Error decode_error(PageCodec codec, std::string_view reason) {
  return make_error(Errc::corrupt, "{} page data does not decompress: {}", codec_name(codec), reason);
}

Error length_error(PageCodec codec, size_t got, size_t want) {
  return make_error(Errc::corrupt, "{} page data decompresses to {} bytes, not the page size {}", codec_name(codec),
                    got, want);
}

Expected<void> decompress_zlib(std::span<const std::byte> in, std::span<std::byte> out) {
  if (in.size() > std::numeric_limits<uLong>::max() || out.size() > std::numeric_limits<uLongf>::max())
    return decode_error(PageCodec::zlib, "page too large");
  uLongf length = out.size();
  int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &length, reinterpret_cast<const Bytef*>(in.data()),
                      in.size());
  if (rc == Z_BUF_ERROR) return decode_error(PageCodec::zlib, "stream longer than one page, or cut short");
  if (rc != Z_OK) return decode_error(PageCodec::zlib, zError(rc));
  if (length != out.size()) return length_error(PageCodec::zlib, length, out.size());
  return {};
}

Expected<void> decompress_lzo(std::span<const std::byte> in, std::span<std::byte> out) {
  if (!lzo_ready()) return make_error(Errc::unsupported, "the lzo library failed to initialize");
  lzo_uint length = out.size();
  int rc = lzo1x_decompress_safe(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                                 reinterpret_cast<unsigned char*>(out.data()), &length, nullptr);
  if (rc == LZO_E_OUTPUT_OVERRUN) return decode_error(PageCodec::lzo, "more data than one page");
  if (rc != LZO_E_OK) return decode_error(PageCodec::lzo, fmt::format("lzo error {}", rc));
  if (length != out.size()) return length_error(PageCodec::lzo, length, out.size());
  return {};
}

Expected<void> decompress_snappy(std::span<const std::byte> in, std::span<std::byte> out) {
  const char* src = reinterpret_cast<const char*>(in.data());
  size_t length = 0;
  if (snappy_uncompressed_length(src, in.size(), &length) != SNAPPY_OK)
    return decode_error(PageCodec::snappy, "bad length header");
  if (length != out.size()) return length_error(PageCodec::snappy, length, out.size());
  if (snappy_uncompress(src, in.size(), reinterpret_cast<char*>(out.data()), &length) != SNAPPY_OK)
    return decode_error(PageCodec::snappy, "invalid stream");
  if (length != out.size()) return length_error(PageCodec::snappy, length, out.size());
  return {};
}

Expected<void> decompress_zstd(std::span<const std::byte> in, std::span<std::byte> out) {
  ZSTD_DCtx* ctx = thread_dctx();
  if (!ctx) return make_error(Errc::io, "cannot allocate a zstd decompression context");
  size_t rc = ZSTD_decompressDCtx(ctx, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(rc)) return decode_error(PageCodec::zstd, ZSTD_getErrorName(rc));
  if (rc != out.size()) return length_error(PageCodec::zstd, rc, out.size());
  return {};
}

}  // namespace

std::string_view codec_name(PageCodec codec) {
  switch (codec) {
    case PageCodec::none: return "none";
    case PageCodec::zlib: return "zlib";
    case PageCodec::lzo: return "lzo";
    case PageCodec::snappy: return "snappy";
    case PageCodec::zstd: return "zstd";
  }
  return "unknown";
}

Expected<void> decompress_page(PageCodec codec, std::span<const std::byte> in, std::span<std::byte> out) {
  switch (codec) {
    case PageCodec::none:
      if (in.size() != out.size())
        return make_error(Errc::corrupt, "uncompressed page data is {} bytes, not the page size {}", in.size(),
                          out.size());
      std::memcpy(out.data(), in.data(), in.size());
      return {};
    case PageCodec::zlib: return decompress_zlib(in, out);
    case PageCodec::lzo: return decompress_lzo(in, out);
    case PageCodec::snappy: return decompress_snappy(in, out);
    case PageCodec::zstd: return decompress_zstd(in, out);
  }
  return make_error(Errc::unsupported, "unknown page codec {}", static_cast<int>(codec));
}

Expected<size_t> compress_page(PageCodec codec, std::span<const std::byte> in, std::vector<std::byte>& out,
                               int level) {
  switch (codec) {
    case PageCodec::none:
      out.assign(in.begin(), in.end());
      return out.size();
    case PageCodec::zlib: {
      uLongf length = compressBound(in.size());
      out.resize(length);
      int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &length, reinterpret_cast<const Bytef*>(in.data()),
                         in.size(), level == 0 ? Z_BEST_SPEED : level);
      if (rc != Z_OK) return make_error(Errc::invalid_argument, "zlib compression failed: {}", zError(rc));
      out.resize(length);
      return out.size();
    }
    case PageCodec::lzo: {
      if (!lzo_ready()) return make_error(Errc::unsupported, "the lzo library failed to initialize");
      thread_local std::vector<unsigned char> work(LZO1X_1_MEM_COMPRESS);
      // lzo's documented worst case for incompressible input.
      out.resize(in.size() + in.size() / 16 + 64 + 3);
      lzo_uint length = out.size();
      int rc = lzo1x_1_compress(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                                reinterpret_cast<unsigned char*>(out.data()), &length, work.data());
      if (rc != LZO_E_OK) return make_error(Errc::invalid_argument, "lzo compression failed: lzo error {}", rc);
      out.resize(length);
      return out.size();
    }
    case PageCodec::snappy: {
      size_t length = snappy_max_compressed_length(in.size());
      out.resize(length);
      if (snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(out.data()),
                          &length) != SNAPPY_OK)
        return make_error(Errc::invalid_argument, "snappy compression failed");
      out.resize(length);
      return out.size();
    }
    case PageCodec::zstd: {
      ZSTD_CCtx* ctx = thread_cctx();
      if (!ctx) return make_error(Errc::io, "cannot allocate a zstd compression context");
      out.resize(ZSTD_compressBound(in.size()));
      size_t rc = ZSTD_compressCCtx(ctx, out.data(), out.size(), in.data(), in.size(), level == 0 ? 1 : level);
      if (ZSTD_isError(rc)) return make_error(Errc::invalid_argument, "zstd compression failed: {}", ZSTD_getErrorName(rc));
      out.resize(rc);
      return out.size();
    }
  }
  return make_error(Errc::unsupported, "unknown page codec {}", static_cast<int>(codec));
}

}  // namespace coroner
