// Where one command's output goes instead of the stream it writes to: a
// file (`> FILE`, `>> FILE`) or the standard input of a shell command
// (`| grep x`, the pager). The stream's buffer is swapped for the sink's
// until finish(), so commands keep writing to their context's stream.
#pragma once

#include "capture/format/error.hpp"

#include <sys/types.h>

#include <iosfwd>
#include <memory>
#include <string>

namespace coroner::frontends {

class OutputSink {
 public:
  static Expected<std::unique_ptr<OutputSink>> to_file(std::ostream& stream, const std::string& path, bool append);
  // Runs `/bin/sh -c command` with the sink as its standard input.
  static Expected<std::unique_ptr<OutputSink>> to_command(std::ostream& stream, const std::string& command);
  ~OutputSink();

  // Flushes, gives the stream its buffer back, closes, and waits for the
  // command. Returns whether the reader stopped reading early (the pager's
  // `q`): the rest of the output was dropped and the command was asked to
  // stop (commands/interrupt.hpp).
  bool finish();

 private:
  class FdBuffer;
  OutputSink(std::ostream& stream, int fd, pid_t child);

  std::ostream& stream_;
  std::streambuf* saved_;
  std::unique_ptr<FdBuffer> buffer_;
  pid_t child_;
  bool finished_ = false;
};

}  // namespace coroner::frontends
