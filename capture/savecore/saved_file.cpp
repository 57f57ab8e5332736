#include "capture/savecore/saved_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace coroner::capture {

// kern.kerneldump_gzlevel's default, which the kernel's own zstd dumps use.
constexpr int kZstdLevel = 6;

struct SavedFile::Compressor {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  std::vector<char> out = std::vector<char>(ZSTD_CStreamOutSize());
  ~Compressor() { ZSTD_freeCCtx(context); }
};

Expected<SavedFile> SavedFile::create(const std::string& dir, const std::string& name, bool zstd) {
  SavedFile file;
  file.path_ = dir + "/" + name;
  file.temporary_ = dir + "/." + name + ".partial";
  // A leftover of an interrupted run is ours to replace.
  ::unlink(file.temporary_.c_str());
  file.fd_ = ::open(file.temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (file.fd_ < 0) return make_error(Errc::io, "{}: cannot create: {}", file.temporary_, std::strerror(errno));
  if (zstd) {
    file.zstd_ = std::make_unique<Compressor>();
    ZSTD_CCtx_setParameter(file.zstd_->context, ZSTD_c_compressionLevel, kZstdLevel);
    ZSTD_CCtx_setParameter(file.zstd_->context, ZSTD_c_checksumFlag, 1);
  }
  return file;
}

SavedFile::SavedFile(SavedFile&& other) noexcept
    : fd_(other.fd_), temporary_(std::move(other.temporary_)), path_(std::move(other.path_)),
      zstd_(std::move(other.zstd_)), committed_(other.committed_) {
  other.fd_ = -1;
  other.committed_ = true;
}

SavedFile::~SavedFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temporary_.c_str());
}

Expected<void> SavedFile::write_raw(const void* data, size_t size) {
  const char* at = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t done = ::write(fd_, at, size);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return make_error(Errc::io, "{}: write failed: {}", temporary_, std::strerror(errno));
    at += done;
    size -= static_cast<size_t>(done);
  }
  return {};
}

Expected<void> SavedFile::write(std::span<const std::byte> bytes) {
  if (!zstd_) return write_raw(bytes.data(), bytes.size());
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
    size_t status = ZSTD_compressStream2(zstd_->context, &out, &in, ZSTD_e_continue);
    if (ZSTD_isError(status)) return make_error(Errc::io, "{}: zstd: {}", temporary_, ZSTD_getErrorName(status));
    CORONER_CHECK(write_raw(out.dst, out.pos));
  }
  return {};
}

Expected<void> SavedFile::commit() {
  if (zstd_) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t left = 0;
    do {
      ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
      left = ZSTD_compressStream2(zstd_->context, &out, &in, ZSTD_e_end);
      if (ZSTD_isError(left)) return make_error(Errc::io, "{}: zstd: {}", temporary_, ZSTD_getErrorName(left));
      CORONER_CHECK(write_raw(out.dst, out.pos));
    } while (left != 0);
  }
  if (::fsync(fd_) != 0) return make_error(Errc::io, "{}: fsync failed: {}", temporary_, std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (::rename(temporary_.c_str(), path_.c_str()) != 0)
    return make_error(Errc::io, "{}: cannot rename to {}: {}", temporary_, path_, std::strerror(errno));
  committed_ = true;
  return {};
}

}  // namespace coroner::capture
