// A memory size as crash's sys MEMORY and mach MEMORY SIZE print it:
// within 64 MiB below a whole GiB counts as that GiB (the kernel reserves
// some); then "511.5 MB", "2 GB", "640 KB" with one decimal dropped when it
// is zero.
#pragma once

#include <cstdint>
#include <string>

namespace coroner::commands {

std::string format_memory(uint64_t bytes, uint64_t page_size);

}  // namespace coroner::commands
