#include "capture/format/byte_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coroner {
namespace {

class MappedFile final : public ByteSource {
 public:
  MappedFile(std::string name, const std::byte* data, uint64_t size)
      : name_(std::move(name)), data_(data), size_(size) {}
  ~MappedFile() override {
    if (size_) ::munmap(const_cast<std::byte*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

  Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const override {
    if (offset > size_ || out.size() > size_ - offset)
      return make_error(Errc::truncated, "{}: file ends at offset {:#x}, wanted {} bytes at offset {:#x}",
                        name_, size_, out.size(), offset);
    std::memcpy(out.data(), data_ + offset, out.size());
    return {};
  }

  std::span<const std::byte> view(uint64_t offset, uint64_t size) const override {
    if (offset > size_ || size > size_ - offset) return {};
    return {data_ + offset, size};
  }

 private:
  std::string name_;
  const std::byte* data_;
  uint64_t size_;
};

}  // namespace

Expected<std::shared_ptr<const ByteSource>> open_mapped_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(Errc::io, "{}: cannot stat: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::invalid_argument, "{}: not a regular file", path);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    size = end > 0 ? static_cast<uint64_t>(end) : 0;
  }
  const std::byte* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return make_error(Errc::io, "{}: cannot map: {}", path, std::strerror(err));
    }
    data = static_cast<const std::byte*>(p);
  }
  ::close(fd);
  return std::shared_ptr<const ByteSource>(std::make_shared<MappedFile>(path, data, size));
}

}  // namespace coroner
