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

// Per-thread codec state, set up once and reset for every page, instead of
// allocating and freeing a deflate state (about 256 KiB of tables), an
// inflate state or a zstd context for each 4 KiB page.
class ZlibDeflater {
 public:
  ZlibDeflater() = default;
  ~ZlibDeflater() {
    if (level_ != 0) deflateEnd(&stream_);
  }
  ZlibDeflater(const ZlibDeflater&) = delete;
  ZlibDeflater& operator=(const ZlibDeflater&) = delete;

  // A stream ready for a new page at `level`; null when zlib cannot set
  // one up. The parameters are compress2()'s, so the bytes are the same.
  z_stream* ready(int level) {
    if (level_ == level) return deflateReset(&stream_) == Z_OK ? &stream_ : nullptr;
    if (level_ != 0) deflateEnd(&stream_);
    level_ = 0;
    stream_ = z_stream{};
    if (deflateInit2(&stream_, level, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return nullptr;
    level_ = level;
    return &stream_;
  }

 private:
  z_stream stream_{};
  int level_ = 0;  // 0: no stream set up
};

class ZlibInflater {
 public:
  ZlibInflater() { ok_ = inflateInit(&stream_) == Z_OK; }
  ~ZlibInflater() {
    if (ok_) inflateEnd(&stream_);
  }
  ZlibInflater(const ZlibInflater&) = delete;
  ZlibInflater& operator=(const ZlibInflater&) = delete;

  z_stream* ready() { return ok_ && inflateReset(&stream_) == Z_OK ? &stream_ : nullptr; }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

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

// The thread's compression context with `level` set; its parameters stay
// across pages and change only with the level.
ZSTD_CCtx* thread_cctx(int level) {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCctxDeleter> ctx(ZSTD_createCCtx());
  thread_local int ctx_level = 0;
  if (!ctx) return nullptr;
  if (ctx_level != level) {
    ctx_level = 0;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level))) return nullptr;
    ctx_level = level;
  }
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
  if (in.size() > std::numeric_limits<uInt>::max() || out.size() > std::numeric_limits<uInt>::max())
    return decode_error(PageCodec::zlib, "page too large");
  thread_local ZlibInflater inflater;
  z_stream* stream = inflater.ready();
  if (!stream) return make_error(Errc::io, "cannot set up a zlib decompression stream");
  stream->next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data()));
  stream->avail_in = static_cast<uInt>(in.size());
  stream->next_out = reinterpret_cast<Bytef*>(out.data());
  stream->avail_out = static_cast<uInt>(out.size());
  int rc = inflate(stream, Z_FINISH);
  if (rc == Z_STREAM_END) {
    if (stream->total_out != out.size()) return length_error(PageCodec::zlib, stream->total_out, out.size());
    return {};
  }
  if (rc == Z_BUF_ERROR || rc == Z_OK) return decode_error(PageCodec::zlib, "stream longer than one page, or cut short");
  if (rc == Z_NEED_DICT) return decode_error(PageCodec::zlib, "stream needs a preset dictionary");
  return decode_error(PageCodec::zlib, stream->msg ? stream->msg : zError(rc));
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
      if (in.size() > std::numeric_limits<uInt>::max())
        return make_error(Errc::invalid_argument, "zlib compression failed: page too large");
      thread_local ZlibDeflater deflater;
      z_stream* stream = deflater.ready(level == 0 ? Z_BEST_SPEED : level);
      if (!stream) return make_error(Errc::invalid_argument, "zlib compression failed: cannot set up level {}", level);
      out.resize(deflateBound(stream, in.size()));
      stream->next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data()));
      stream->avail_in = static_cast<uInt>(in.size());
      stream->next_out = reinterpret_cast<Bytef*>(out.data());
      stream->avail_out = static_cast<uInt>(out.size());
      int rc = deflate(stream, Z_FINISH);
      if (rc != Z_STREAM_END) return make_error(Errc::invalid_argument, "zlib compression failed: {}", zError(rc));
      out.resize(stream->total_out);
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
      ZSTD_CCtx* ctx = thread_cctx(level == 0 ? 1 : level);
      if (!ctx) return make_error(Errc::invalid_argument, "zstd compression failed: cannot set up level {}", level);
      out.resize(ZSTD_compressBound(in.size()));
      size_t rc = ZSTD_compress2(ctx, out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(rc)) return make_error(Errc::invalid_argument, "zstd compression failed: {}", ZSTD_getErrorName(rc));
      out.resize(rc);
      return out.size();
    }
  }
  return make_error(Errc::unsupported, "unknown page codec {}", static_cast<int>(codec));
}

}  // namespace coroner
