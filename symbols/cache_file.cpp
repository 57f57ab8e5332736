#include "symbols/cache_file.hpp"

#include "capture/format/decompressed_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <filesystem>
#include <utility>

namespace coroner::symbols {

namespace {

constexpr char kTrailerMagic[8] = {'C', 'O', 'R', 'O', 'N', 'C', 'K', '1'};
// What follows the key: the sizes (u64 content, u32 key), u32 CRC-32, magic.
constexpr size_t kSizesSize = 8 + 4;
constexpr size_t kTrailerSize = kSizesSize + 4 + sizeof kTrailerMagic;

uint32_t checksum(uint32_t crc, std::string_view bytes) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t wrote = ::write(fd, bytes.data(), bytes.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(wrote));
  }
  return true;
}

}  // namespace

CacheBytes& CacheBytes::operator=(CacheBytes&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

CacheBytes::~CacheBytes() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_);
}

std::optional<CacheBytes> read_cache_file(const std::string& file, std::string_view key) {
  OpenFile in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (in.fd() < 0 || ::fstat(in.fd(), &st) != 0) return std::nullopt;
  // Another user's file, or one another user could have changed, is not ours to trust.
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return std::nullopt;
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < key.size() + kTrailerSize) return std::nullopt;
  CacheBytes bytes;
  // Every page is read below (the checksum): mapped all at once.
  void* mapping = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, in.fd(), 0);
  if (mapping == MAP_FAILED) return std::nullopt;
  bytes.mapping_ = mapping;
  bytes.mapped_ = file_size;
  bytes.size_ = file_size;

  const char* trailer = bytes.data() + file_size - kTrailerSize;
  const uint64_t content_size = load_scalar<uint64_t>(trailer);
  const uint32_t key_size = load_scalar<uint32_t>(trailer + 8);
  const uint32_t crc = load_scalar<uint32_t>(trailer + 12);
  if (std::memcmp(trailer + 16, kTrailerMagic, sizeof kTrailerMagic) != 0 || key_size != key.size() ||
      content_size != file_size - kTrailerSize - key_size ||
      std::string_view(bytes.data() + content_size, key_size) != key ||
      checksum(0, std::string_view(bytes.data(), file_size - kTrailerSize + kSizesSize)) != crc)
    return std::nullopt;
  bytes.size_ = content_size;
  return bytes;
}

Expected<void> write_cache_file(const std::string& file, std::string_view key,
                                std::initializer_list<std::string_view> parts) {
  CORONER_CHECK(create_cache_directory(std::filesystem::path(file).parent_path().string()));
  std::string temporary = file + ".tmp.XXXXXX";
  OpenFile out(::mkstemp(temporary.data()));
  if (out.fd() < 0) return make_error(Errc::io, "{}: cannot create: {}", temporary, std::strerror(errno));
  // Set, not left to the umask.
  bool written = ::fchmod(out.fd(), 0600) == 0;
  uint32_t crc = 0;
  uint64_t content_size = 0;
  for (std::string_view part : parts) {
    written = written && write_all(out.fd(), part);
    crc = checksum(crc, part);
    content_size += part.size();
  }
  std::string trailer(key);
  store_scalar<uint64_t>(trailer, content_size);
  store_scalar<uint32_t>(trailer, static_cast<uint32_t>(key.size()));
  store_scalar<uint32_t>(trailer, checksum(crc, trailer));
  trailer.append(kTrailerMagic, sizeof kTrailerMagic);
  written = written && write_all(out.fd(), trailer);
  // No fsync: a file cut short by a system crash fails its check and is rebuilt.
  if (!written || ::rename(temporary.c_str(), file.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return make_error(Errc::io, "{}: cannot write the cache file: {}", file, std::strerror(error));
  }
  return {};
}

}  // namespace coroner::symbols
