#include "analyzer/frontends/command_line/output_sink.hpp"

#include "commands/interrupt.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <vector>

namespace coroner::frontends {

// A streambuf over a file descriptor. When the reader is gone (EPIPE: the
// pager quit, `head` has its lines) the rest is dropped and the running
// command is asked to stop; the caller ignores SIGPIPE.
class OutputSink::FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), data_(1 << 16) { setp(data_.data(), data_.data() + data_.size()); }
  ~FdBuffer() override { close_fd(); }

  bool reader_gone() const { return reader_gone_; }
  void close_fd() {
    if (fd_ < 0) return;
    sync();
    ::close(fd_);
    fd_ = -1;
  }

 protected:
  int_type overflow(int_type c) override {
    drain();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    drain();
    return 0;
  }

 private:
  void drain() {
    const char* at = pbase();
    size_t left = static_cast<size_t>(pptr() - pbase());
    while (left > 0 && !reader_gone_ && fd_ >= 0) {
      const ssize_t written = ::write(fd_, at, left);
      if (written > 0) {
        at += written, left -= static_cast<size_t>(written);
      } else if (written < 0 && errno == EINTR) {
        continue;  // Ctrl-C: the command sees the flag at its next step
      } else {
        reader_gone_ = true;
        commands::request_interrupt();
      }
    }
    setp(data_.data(), data_.data() + data_.size());
  }

  int fd_;
  std::vector<char> data_;
  bool reader_gone_ = false;
};

OutputSink::OutputSink(std::ostream& stream, int fd, pid_t child)
    : stream_(stream), saved_(stream.rdbuf()), buffer_(std::make_unique<FdBuffer>(fd)), child_(child) {
  stream_.flush();
  stream_.rdbuf(buffer_.get());
}

OutputSink::~OutputSink() { finish(); }

Expected<std::unique_ptr<OutputSink>> OutputSink::to_file(std::ostream& stream, const std::string& path,
                                                          bool append) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return make_error(Errc::io, "{}: cannot open for writing: {}", path, std::strerror(errno));
  return std::unique_ptr<OutputSink>(new OutputSink(stream, fd, -1));
}

Expected<std::unique_ptr<OutputSink>> OutputSink::to_command(std::ostream& stream, const std::string& command) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return make_error(Errc::io, "| {}: pipe: {}", command, std::strerror(errno));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(ends[0]), ::close(ends[1]);
    return make_error(Errc::io, "| {}: fork: {}", command, std::strerror(errno));
  }
  if (child == 0) {
    ::dup2(ends[0], STDIN_FILENO);  // dup2 clears close-on-exec
    // The shell ignores SIGPIPE, which exec would otherwise pass on.
    std::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(ends[0]);
  return std::unique_ptr<OutputSink>(new OutputSink(stream, ends[1], child));
}

bool OutputSink::finish() {
  if (finished_) return buffer_->reader_gone();
  finished_ = true;
  stream_.flush();
  stream_.rdbuf(saved_);
  stream_.clear();
  buffer_->close_fd();  // the reader sees EOF
  if (child_ > 0) {
    int status = 0;
    while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  return buffer_->reader_gone();
}

}  // namespace coroner::frontends
