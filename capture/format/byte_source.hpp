// Random-access bytes of a dump file. Readers parse through this, so the
// same kdump or ELF reader serves a plain file (mmapped), /proc/vmcore (read) and a flattened
// stream (an index over makedumpfile -F records).
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace coroner {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The file name, for error messages.
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  // Reads exactly out.size() bytes at `offset`; Errc::truncated (naming the
  // file and offset) when the source ends first. Thread-safe.
  virtual Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const = 0;
  // The bytes at [offset, offset + size) without copying, when the source is
  // contiguous in memory (an mmapped file); empty otherwise.
  virtual std::span<const std::byte> view(uint64_t offset, uint64_t size) const { return {}; }
};

// Opens a file read-only: mapped, or read with pread when it lives in /proc
// (/proc/vmcore, whose unreadable pages fail with EIO). Errors name the file
// and the system's reason.
Expected<std::shared_ptr<const ByteSource>> open_file_source(const std::string& path);

// The bytes [offset, offset + size) of `source` (which the caller has
// checked it holds) as a source of their own, named `name`.
std::shared_ptr<const ByteSource> slice_source(std::shared_ptr<const ByteSource> source, uint64_t offset,
                                               uint64_t size, std::string name);

}  // namespace coroner
