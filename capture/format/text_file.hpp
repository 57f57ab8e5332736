// A small file read whole (a VMCOREINFO file, info.N, a filter config, an
// erase offsets file): callers name the file and the reason in their own
// errors.
#pragma once

#include <optional>
#include <string>

namespace coroner {

// The bytes of `path`; nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace coroner
