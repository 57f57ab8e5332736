// makedumpfile -R: replays a flattened stream (makedumpfile -F, read from a
// pipe) into the dump file it describes, record by record, so the whole
// stream is never held in memory.
#pragma once

#include "capture/format/error.hpp"
#include "capture/writer/output_sink.hpp"

#include <cstdint>
#include <string>

namespace coroner::capture {

// Reads the stream from file descriptor `fd` (named `name` in errors) and
// writes each record's bytes at its offset of `out`, until the end record.
// Errors: no "makedumpfile" header, an unknown type or version, a record
// header that is neither the end marker nor a valid (offset, size), a
// stream cut short. Returns the number of records.
Expected<uint64_t> rearrange_flattened(int fd, const std::string& name, OutputSink& out);

}  // namespace coroner::capture
