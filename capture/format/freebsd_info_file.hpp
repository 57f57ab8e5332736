// savecore's info.N: the kerneldumpheader of a saved dump as text, one
// "  Label: value" line per field (the version string keeps its own
// newlines), read when it lies beside vmcore.N.
#pragma once

#include "capture/format/kerneldump_header.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace coroner::freebsd {

// Decodes info.N's text. Fields it lacks stay at their defaults; a field
// that is present but malformed is an error naming the file and line.
Expected<KernelDumpHeader> parse_info_file(std::string_view text, std::string_view name);

// The info.N savecore wrote beside `dump_path` (vmcore.N, vmcore.N.zst,
// vmcore.N.gz, livecore.N...), if the name carries an N and the file exists.
std::optional<std::string> info_file_beside(const std::string& dump_path);

// True for savecore's name of an encrypted dump (vmcore_encrypted.N[.gz]):
// its content is ciphertext, so only the name can explain a refusal.
bool is_encrypted_vmcore_name(const std::string& path);

// info.N's text for `header` read from `device`: printheader()'s labels
// and order, the time in UTC, `bounds` the N, `status` "good" or "bad".
std::string format_info_file(const KernelDumpHeader& header, std::string_view device, uint64_t bounds,
                             std::string_view status);

// "2026-12-04 03:00:00 +0000" (info.N's Dumptime, %F %T %z) as UTC seconds.
std::optional<uint64_t> parse_dump_time(std::string_view text);

}  // namespace coroner::freebsd
