// `coroner erase-offsets --config FILE [-o OFFSETS] VMLINUX`: resolves a
// makedumpfile filter config (makedumpfile.conf(5): erase commands, for
// loops) against the vmlinux's DWARF into the erase offsets file that
// `coroner-capture --config OFFSETS` runs in a capture kernel, which has
// no debug info (format: capture/erase/erase_program.hpp).
#pragma once

#include "symbols/debug_info.hpp"

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::frontends {

// The offsets text of `config` (named `config_path` in errors), whose
// symbols and types come from `debug`. Errors name the config line.
// Sections of kernel modules are skipped with a warning on `warnings`
// (their load addresses are known only in the capture kernel).
Expected<std::string> make_erase_offsets(std::string_view config, const std::string& config_path,
                                         symbols::DebugInfo& debug, std::ostream& warnings);

// The options after "erase-offsets". Returns the exit status: 0 when the
// offsets were written, 2 for bad arguments, 1 on an error (one line on
// `errors`).
int run_erase_offsets(const std::vector<std::string>& args, std::ostream& out, std::ostream& errors);

}  // namespace coroner::frontends
