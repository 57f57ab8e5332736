#include "capture/format/byte_source.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coroner {
namespace {

Expected<void> check_within(const std::string& name, uint64_t size, uint64_t offset, uint64_t length) {
  if (offset > size || length > size - offset)
    return make_error(Errc::truncated, "{}: file ends at offset {:#x}, wanted {} bytes at offset {:#x}", name, size,
                      length, offset);
  return {};
}

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
    CORONER_CHECK(check_within(name_, size_, offset, out.size()));
    if (!out.empty()) std::memcpy(out.data(), data_ + offset, out.size());
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

// A file read with pread: /proc/vmcore in a capture kernel, where a page the
// firmware will not give back fails its read with EIO. In a mapping that
// read would be a SIGBUS; here it is an error naming the offset, which the
// caller can survive.
class ReadFile final : public ByteSource {
 public:
  ReadFile(std::string name, int fd, uint64_t size) : name_(std::move(name)), fd_(fd), size_(size) {}
  ~ReadFile() override { ::close(fd_); }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

  Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const override {
    CORONER_CHECK(check_within(name_, size_, offset, out.size()));
    size_t done = 0;
    while (done < out.size()) {
      ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0)
        return make_error(Errc::io, "{}: cannot read {} bytes at offset {:#x}: {}", name_, out.size() - done,
                          offset + done, std::strerror(errno));
      if (got == 0)
        return make_error(Errc::truncated, "{}: file ends at offset {:#x}, wanted {} bytes at offset {:#x}",
                          name_, offset + done, out.size(), offset);
      done += static_cast<size_t>(got);
    }
    return {};
  }

 private:
  std::string name_;
  int fd_;
  uint64_t size_;
};

class SliceSource final : public ByteSource {
 public:
  SliceSource(std::shared_ptr<const ByteSource> source, uint64_t offset, uint64_t size, std::string name)
      : source_(std::move(source)), offset_(offset), size_(size), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const override {
    CORONER_CHECK(check_within(name_, size_, offset, out.size()));
    return source_->read_at(offset_ + offset, out);
  }
  std::span<const std::byte> view(uint64_t offset, uint64_t size) const override {
    if (offset > size_ || size > size_ - offset) return {};
    return source_->view(offset_ + offset, size);
  }

 private:
  std::shared_ptr<const ByteSource> source_;
  uint64_t offset_, size_;
  std::string name_;
};

bool on_procfs(int fd) {
  struct statfs fs {};
  return ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

}  // namespace

Expected<std::shared_ptr<const ByteSource>> open_file_source(const std::string& path) {
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
  if (on_procfs(fd)) return std::shared_ptr<const ByteSource>(std::make_shared<ReadFile>(path, fd, size));
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

std::shared_ptr<const ByteSource> slice_source(std::shared_ptr<const ByteSource> source, uint64_t offset,
                                               uint64_t size, std::string name) {
  return std::make_shared<SliceSource>(std::move(source), offset, size, std::move(name));
}

}  // namespace coroner
