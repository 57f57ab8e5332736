#include "capture/format/decompressed_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <memory>
#include <vector>

namespace coroner {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 1 << 20;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

Error io_error(const std::string& path, std::string_view what) {
  return make_error(Errc::io, "{}: {}: {}", path, what, std::strerror(errno));
}

// Each decoder reads `in` to its end and writes everything to `out`.
using Decoder = std::function<Expected<void>(FILE* in, FILE* out, const std::string& path)>;

Expected<void> write_all(FILE* out, const void* data, size_t size, const std::string& path) {
  if (size && std::fwrite(data, 1, size, out) != size) return io_error(path, "writing decompressed copy");
  return {};
}

Expected<void> decode_zstd(FILE* in, FILE* out, const std::string& path) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  // Fixture kernels are compressed with --long=27; allow windows up to 2 GiB.
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, 31);
  std::vector<char> inbuf(kChunk), outbuf(kChunk);
  size_t last = 0;
  uint64_t consumed = 0;
  while (size_t got = std::fread(inbuf.data(), 1, inbuf.size(), in)) {
    ZSTD_inBuffer input{inbuf.data(), got, 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{outbuf.data(), outbuf.size(), 0};
      last = ZSTD_decompressStream(ctx.get(), &output, &input);
      if (ZSTD_isError(last))
        return make_error(Errc::corrupt, "{}: zstd data near offset {:#x}: {}", path,
                          consumed + input.pos, ZSTD_getErrorName(last));
      CORONER_CHECK(write_all(out, outbuf.data(), output.pos, path));
    }
    consumed += got;
  }
  if (last != 0) return make_error(Errc::truncated, "{}: zstd stream ends early at offset {:#x}", path, consumed);
  return {};
}

// A .gz file may hold several members back to back (`cat a.gz b.gz`, pigz,
// bgzip); like gzip -d, decode them all.
Expected<void> decode_gzip(FILE* in, FILE* out, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return make_error(Errc::io, "{}: cannot start zlib", path);
  std::vector<unsigned char> inbuf(kChunk), outbuf(kChunk);
  bool member_ended = false;
  uint64_t consumed = 0;
  auto fail = [&](Error error) {
    inflateEnd(&z);
    return error;
  };
  while (true) {
    if (z.avail_in == 0) {
      size_t got = std::fread(inbuf.data(), 1, inbuf.size(), in);
      if (got == 0) break;
      z.next_in = inbuf.data();
      z.avail_in = static_cast<uInt>(got);
      consumed += got;
    }
    if (member_ended) {  // more bytes after a complete member: the next one
      inflateReset(&z);
      member_ended = false;
    }
    z.next_out = outbuf.data();
    z.avail_out = static_cast<uInt>(outbuf.size());
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      return fail(make_error(Errc::corrupt, "{}: gzip data near offset {:#x}: {}", path, consumed - z.avail_in,
                             z.msg ? z.msg : "inflate failed"));
    auto wrote = write_all(out, outbuf.data(), outbuf.size() - z.avail_out, path);
    if (!wrote) return fail(wrote.error());
    member_ended = rc == Z_STREAM_END;
  }
  inflateEnd(&z);
  if (!member_ended) return make_error(Errc::truncated, "{}: gzip stream ends early at offset {:#x}", path, consumed);
  return {};
}

Expected<void> decode_xz(FILE* in, FILE* out, const std::string& path) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
    return make_error(Errc::io, "{}: cannot start xz decoder", path);
  std::vector<uint8_t> inbuf(kChunk), outbuf(kChunk);
  lzma_ret rc = LZMA_OK;
  while (rc != LZMA_STREAM_END) {
    lzma_action action = LZMA_RUN;
    if (s.avail_in == 0) {
      size_t got = std::fread(inbuf.data(), 1, inbuf.size(), in);
      s.next_in = inbuf.data();
      s.avail_in = got;
      if (got == 0) action = LZMA_FINISH;
    }
    s.next_out = outbuf.data();
    s.avail_out = outbuf.size();
    rc = lzma_code(&s, action);
    if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
      uint64_t at = s.total_in;
      lzma_end(&s);
      return make_error(rc == LZMA_BUF_ERROR ? Errc::truncated : Errc::corrupt,
                        "{}: xz data near offset {:#x}: decoder error {}", path, at, static_cast<int>(rc));
    }
    auto wrote = write_all(out, outbuf.data(), outbuf.size() - s.avail_out, path);
    if (!wrote) {
      lzma_end(&s);
      return wrote.error();
    }
  }
  lzma_end(&s);
  return {};
}

// The size a decompressed copy had when it was made, kept beside it.
fs::path size_file(const fs::path& target) {
  return target.parent_path() / fmt::format(".{}.size", target.filename().string());
}

// A copy made earlier is used only if it is still what was written: a
// regular file (not a symlink) of this user, writable by no one else, of
// the size recorded when it was made. Anything else (cut short by a full
// disk, replaced, from an older coroner without the size) is made again.
bool trusted_copy(const fs::path& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)))
    return false;
  File sizes(std::fopen(size_file(target).c_str(), "r"));
  unsigned long long recorded = 0;
  return sizes && std::fscanf(sizes.get(), "%llu", &recorded) == 1 && recorded == static_cast<uint64_t>(st.st_size);
}

// Temporaries of processes that died while decompressing (".NAME.PID.tmp").
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(".") || !name.ends_with(".tmp")) continue;
    const std::string middle = name.substr(0, name.size() - 4);
    const size_t dot = middle.rfind('.');
    if (dot == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(middle.c_str() + dot + 1, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

}  // namespace

Compression detect_compression(std::span<const std::byte> head) {
  const auto* magic = reinterpret_cast<const unsigned char*>(head.data());
  const size_t got = head.size();
  if (got >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return Compression::zstd;
  if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return Compression::gzip;
  if (got >= 6 && std::memcmp(magic, "\xfd" "7zXZ\0", 6) == 0) return Compression::xz;
  return Compression::none;
}

Expected<Compression> detect_file_compression(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return io_error(path, "cannot open");
  std::array<std::byte, 6> magic{};
  size_t got = std::fread(magic.data(), 1, magic.size(), f.get());
  return detect_compression(std::span(magic).first(got));
}

std::string default_cache_dir() {
  if (const char* dir = std::getenv("CORONER_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/coroner";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/coroner";
  return "/tmp/coroner-cache-" + std::to_string(getuid());
}

Expected<void> create_cache_directory(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> missing;
  for (fs::path path = fs::absolute(dir, ec); !ec && !fs::exists(path, ec); path = path.parent_path())
    missing.push_back(path);
  if (ec) return make_error(Errc::io, "{}: cannot create cache directory: {}", dir, ec.message());
  for (auto path = missing.rbegin(); path != missing.rend(); ++path) {
    if (::mkdir(path->c_str(), 0700) == 0) {
      if (::chmod(path->c_str(), 0700) != 0) return io_error(path->string(), "cannot set mode 0700");
    } else if (errno != EEXIST) {
      return io_error(path->string(), "cannot create cache directory");
    }
  }
  return {};
}

namespace {

// A FILE that reads `left` bytes of `file` from its current position, then
// reports the end (fopencookie).
struct BoundedReader {
  FILE* file;
  uint64_t left;
};

ssize_t bounded_read(void* cookie, char* buffer, size_t size) {
  auto* reader = static_cast<BoundedReader*>(cookie);
  size_t n = static_cast<size_t>(std::min<uint64_t>(size, reader->left));
  size_t got = std::fread(buffer, 1, n, reader->file);
  reader->left -= got;
  return static_cast<ssize_t>(got);
}

// Decompresses [offset, offset + size) of `path` (to its end when `size` is
// empty) into `cache_dir`/<hash of key>/`stem`, unless a trusted copy exists.
Expected<std::string> cached_copy(const std::string& path, uint64_t offset, std::optional<uint64_t> size,
                                  Compression kind, fs::path stem, const std::string& cache_dir) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error(path, "cannot stat");
  std::string key_text = fmt::format("{}|{}|{}", absolute.string(), st.st_size, st.st_mtime);
  if (size) key_text += fmt::format("|{}|{}", offset, *size);
  size_t key = std::hash<std::string>{}(key_text);
  fs::path dir = fs::path(cache_dir) / fmt::format("{:016x}", key);
  fs::path target = dir / stem;
  if (trusted_copy(target)) return target.string();

  CORONER_CHECK(create_cache_directory(dir.string()));
  remove_stale_temporaries(dir);
  fs::path temp = dir / fmt::format(".{}.{}.tmp", stem.string(), getpid());
  {
    File file(std::fopen(path.c_str(), "rb"));
    if (!file) return io_error(path, "cannot open");
    if (::fseeko(file.get(), static_cast<off_t>(offset), SEEK_SET) != 0) return io_error(path, "cannot seek");
    BoundedReader bounded{file.get(), size.value_or(std::numeric_limits<uint64_t>::max())};
    File in(fopencookie(&bounded, "rb", cookie_io_functions_t{bounded_read, nullptr, nullptr, nullptr}));
    if (!in) return io_error(path, "cannot open");
    File out(std::fopen(temp.c_str(), "wb"));
    if (!out) return io_error(temp.string(), "cannot create");
    Decoder decode = kind == Compression::zstd ? decode_zstd : kind == Compression::gzip ? decode_gzip : decode_xz;
    auto done = decode(in.get(), out.get(), path);
    if (done && std::fflush(out.get()) != 0) done = io_error(temp.string(), "writing decompressed copy");
    if (done && ::fchmod(fileno(out.get()), 0600) != 0) done = io_error(temp.string(), "cannot set mode 0600");
    if (!done) {
      fs::remove(temp, ec);
      return done.error();
    }
  }
  // The size first: a copy renamed into place without it is made again.
  const fs::path sizes = size_file(target), sizes_temp = sizes.string() + fmt::format(".{}.tmp", getpid());
  {
    File out(std::fopen(sizes_temp.c_str(), "w"));
    if (!out || std::fprintf(out.get(), "%llu\n", static_cast<unsigned long long>(fs::file_size(temp, ec))) < 0 ||
        std::fflush(out.get()) != 0)
      return io_error(sizes_temp.string(), "cannot write the size of the decompressed copy");
  }
  fs::rename(sizes_temp, sizes, ec);
  if (ec) return make_error(Errc::io, "{}: cannot rename into cache: {}", sizes.string(), ec.message());
  fs::rename(temp, target, ec);
  if (ec) return make_error(Errc::io, "{}: cannot rename into cache: {}", target.string(), ec.message());
  return target.string();
}

}  // namespace

Expected<std::string> decompressed_path(const std::string& path, const std::string& cache_dir) {
  CORONER_TRY(kind, detect_file_compression(path));
  if (kind == Compression::none) return path;
  fs::path stem = fs::path(path).filename();
  if (stem.has_extension()) stem.replace_extension();
  return cached_copy(path, 0, std::nullopt, kind, stem, cache_dir);
}

Expected<std::string> decompressed_range_path(const std::string& path, uint64_t offset, uint64_t size,
                                              Compression kind, const std::string& stem,
                                              const std::string& cache_dir) {
  if (kind == Compression::none) return make_error(Errc::invalid_argument, "{}: range is not compressed", path);
  return cached_copy(path, offset, size, kind, stem, cache_dir);
}

}  // namespace coroner
