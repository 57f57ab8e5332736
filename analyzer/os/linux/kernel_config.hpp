// The kernel's own .config, kept in the image by CONFIG_IKCONFIG (what
// /proc/config.gz serves): kernel_config_data holds "IKCFG_ST", the gzip
// stream of the config, then "IKCFG_ED" (since 5.1 an .incbin that ends at
// kernel_config_data_end; before, a char array sized by its symbol).
#pragma once

#include "analyzer/program.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace coroner::linux_kernel {

// The config text, as `make` wrote it. Errors: the kernel was built without
// CONFIG_IKCONFIG (or with it as a module), the blob is unreadable or not
// a gzip stream after the magic.
Expected<std::string> kernel_config(const Program& program);

// The config text of one kernel_config_data blob ("IKCFG_ST" + gzip ...).
Expected<std::string> unpack_kernel_config(std::span<const std::byte> blob);

}  // namespace coroner::linux_kernel
