#include "capture/writer/output_sink.hpp"

#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace coroner::capture {
namespace {

std::string reason(int err) { return err == 0 ? "short write (no progress)" : std::strerror(err); }

// Writes all of `data`, at `offset` with pwrite when `positional`, else at
// the descriptor's current position (a pipe). `offset` names the place in
// the error either way.
Expected<void> write_fully(int fd, const std::string& name, uint64_t offset, std::span<const std::byte> data,
                           bool positional) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = positional ? ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done))
                           : ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      return make_error(Errc::io, "{}: write of {} bytes at offset {:#x} failed: {}", name, data.size() - done,
                        offset + done, reason(err));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

class FileSink final : public OutputSink {
 public:
  FileSink(int fd, std::string name, bool device) : fd_(fd), name_(std::move(name)), device_(device) {}
  ~FileSink() override { ::close(fd_); }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  const std::string& name() const override { return name_; }
  Expected<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
    CORONER_CHECK(write_fully(fd_, name_, offset, data, true));
    bytes_written_ += data.size();
    return {};
  }
  Expected<void> sync() override {
    if (::fsync(fd_) == 0) return {};
    // Character devices (/dev/null) cannot be synced; nothing is lost.
    if (device_ && (errno == EINVAL || errno == EROFS)) return {};
    return make_error(Errc::io, "{}: fsync failed: {}", name_, std::strerror(errno));
  }
  Expected<bool> read_back(uint64_t offset, std::span<std::byte> data) override {
    if (device_) return false;  // opened write-only
    for (size_t done = 0; done < data.size();) {
      ssize_t n = ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return make_error(Errc::io, "{}: reading back offset {:#x} failed: {}", name_, offset + done,
                          n == 0 ? "end of file" : std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    return true;
  }
  bool keeps_stale_data() const override { return device_; }

 private:
  int fd_;
  std::string name_;
  bool device_;
};

// makedumpfile's flattened stream: a 4 KiB header, then records of a
// big-endian (offset, size) pair and `size` bytes, ended by (-1, -1).
// `makedumpfile -R` replays the records in order, so a later record for
// the same offset (the final dump header) wins.
class FlattenedSink final : public OutputSink {
 public:
  FlattenedSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  Expected<void> write_header() {
    std::array<std::byte, 4096> header{};
    std::memcpy(header.data(), "makedumpfile", 12);
    put_be64(header.data() + 16, 1);  // type: flattened
    put_be64(header.data() + 24, 1);  // version
    return append(header);
  }
  Expected<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
    if (data.empty()) return {};  // a zero-size record would end the stream for makedumpfile -R
    std::array<std::byte, 16> record{};
    put_be64(record.data(), offset);
    put_be64(record.data() + 8, data.size());
    CORONER_CHECK(append(record));
    CORONER_CHECK(append(data));
    bytes_written_ += data.size();
    return {};
  }
  Expected<void> sync() override {
    // A pipe cannot be synced; standard output redirected to a file can.
    if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS)
      return make_error(Errc::io, "{}: fsync failed: {}", name_, std::strerror(errno));
    return {};
  }
  Expected<void> finish() override {
    std::array<std::byte, 16> end;
    end.fill(std::byte{0xff});
    CORONER_CHECK(append(end));
    return sync();
  }

 private:
  static void put_be64(std::byte* at, uint64_t value) {
    uint64_t be = htobe64(value);
    std::memcpy(at, &be, sizeof be);
  }
  Expected<void> append(std::span<const std::byte> data) {
    CORONER_CHECK(write_fully(fd_, name_, stream_offset_, data, false));
    stream_offset_ += data.size();
    return {};
  }

  int fd_;
  std::string name_;
  uint64_t stream_offset_ = 0;
};

}  // namespace

Expected<void> write_zeros(OutputSink& out, uint64_t offset, uint64_t size) {
  constexpr uint64_t kZeroChunk = 1024 * 1024;
  std::vector<std::byte> zeros(std::min(size, kZeroChunk));
  while (size > 0) {
    uint64_t n = std::min<uint64_t>(size, zeros.size());
    CORONER_CHECK(out.write_at(offset, std::span(zeros.data(), n)));
    offset += n;
    size -= n;
  }
  return {};
}

Expected<std::unique_ptr<OutputSink>> open_output_file(const std::string& path, bool overwrite) {
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
      return make_error(Errc::invalid_argument, "{}: not a regular file or a device", path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
    return std::unique_ptr<OutputSink>(std::make_unique<FileSink>(fd, path, true));
  }
  if (exists) {
    if (!overwrite) return make_error(Errc::invalid_argument, "{}: file exists (use -f to overwrite it)", path);
    // Replace rather than truncate, so the new dump gets mode 0600 whatever
    // the old file's mode was.
    if (::unlink(path.c_str()) != 0)
      return make_error(Errc::io, "{}: cannot remove the old file: {}", path, std::strerror(errno));
  }
  // Read and write: the kdump writer reads its bitmap back (cyclic mode).
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::io, "{}: cannot create: {}", path, std::strerror(errno));
  return std::unique_ptr<OutputSink>(std::make_unique<FileSink>(fd, path, false));
}

namespace {

class NullSink final : public OutputSink {
 public:
  explicit NullSink(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Expected<void> write_at(uint64_t, std::span<const std::byte> data) override {
    bytes_written_ += data.size();
    return {};
  }
  Expected<void> sync() override { return {}; }

 private:
  std::string name_;
};

}  // namespace

std::unique_ptr<OutputSink> open_null_output(std::string name) { return std::make_unique<NullSink>(std::move(name)); }

Expected<std::unique_ptr<OutputSink>> open_flattened_output(int fd, std::string name) {
  auto sink = std::make_unique<FlattenedSink>(fd, std::move(name));
  CORONER_CHECK(sink->write_header());
  return std::unique_ptr<OutputSink>(std::move(sink));
}

}  // namespace coroner::capture
