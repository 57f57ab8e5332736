// makedumpfile's flattened format (makedumpfile -F, and QEMU's
// dump-guest-memory kdump-* formats): a stream that can be written to a
// pipe. A 4096-byte header block starting with the signature "makedumpfile"
// (big-endian int64 type 1 and version 1 follow), then records of a
// big-endian {int64 offset, int64 size} header and `size` bytes meant for
// `offset` of the real dump file, until a record header of {-1, -1}.
// `makedumpfile -R` replays the records into a file; open_flattened serves
// that file's bytes from the stream itself, without writing it out.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/error.hpp"

#include <cstddef>
#include <memory>
#include <span>

namespace coroner {

// True when `head` starts with the "makedumpfile" signature.
bool looks_like_flattened(std::span<const std::byte> head);

// Indexes the records of `stream` once (later records win where records
// overlap, as with makedumpfile -R) and returns the reassembled file, kdump
// or ELF. Bytes no record wrote read as zero, as in the reassembled file.
// Errors: a stream cut short, a missing end marker (Errc::truncated), bad
// record headers (Errc::corrupt), an unknown type or version
// (Errc::unsupported).
Expected<std::shared_ptr<const ByteSource>> open_flattened(std::shared_ptr<const ByteSource> stream);

// Whether `source` is a reassembled flattened stream.
bool is_flattened(const ByteSource& source);

}  // namespace coroner
