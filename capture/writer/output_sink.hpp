// Where a dump goes: a regular file (created mode 0600), a block device
// (written in place: no O_CREAT, no truncation), or makedumpfile's
// flattened stream on a pipe (-F). Writers address all three by offset;
// the flattened sink turns each write into an (offset, size, data) record.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace coroner::capture {

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // The file name for messages ("standard output" for -F).
  virtual const std::string& name() const = 0;
  // Writes all of `data` at `offset`. Errors name the file, the offset and
  // the reason (ENOSPC, EIO, a short write, a closed pipe).
  virtual Expected<void> write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  // Makes everything written so far durable (fsync; a no-op on a pipe).
  virtual Expected<void> sync() = 0;
  // Ends the output (the flattened stream's end record).
  virtual Expected<void> finish() { return sync(); }
  // Reads back data.size() bytes written at `offset`: false when this
  // sink cannot (a pipe, a device, --dry-run), an error when the read fails.
  virtual Expected<bool> read_back(uint64_t /*offset*/, std::span<std::byte> /*data*/) { return false; }
  // True when reading back unwritten space yields stale data rather than
  // zeros (a block device), so a writer must clear what it reserves.
  virtual bool keeps_stale_data() const { return false; }
  // Bytes handed to write_at so far.
  uint64_t bytes_written() const { return bytes_written_; }

 protected:
  uint64_t bytes_written_ = 0;
};

// Writes `size` zero bytes at `offset`, a chunk at a time (space reserved
// on a device that would otherwise show stale data).
Expected<void> write_zeros(OutputSink& out, uint64_t offset, uint64_t size);

// Opens `path` for a dump. A new regular file is created mode 0600; an
// existing regular file is replaced only when `overwrite` (-f) is set; a
// block or character device is written in place.
Expected<std::unique_ptr<OutputSink>> open_output_file(const std::string& path, bool overwrite);

// makedumpfile's flattened format on file descriptor `fd` (standard output
// for -F): the 4 KiB "makedumpfile" header is written now, records follow.
Expected<std::unique_ptr<OutputSink>> open_flattened_output(int fd, std::string name);

// --dry-run: a sink that counts what it is given and stores nothing.
std::unique_ptr<OutputSink> open_null_output(std::string name);

}  // namespace coroner::capture
