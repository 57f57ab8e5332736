// `coroner erase-offsets --config FILE [-o OFFSETS] [--mod-path DIR]... VMLINUX`: resolves a
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
// A `[MODULE]` section's symbols and types come from MODULE.ko (or
// .ko.debug) found under `module_dirs`; their addresses are looked up in
// the capture kernel (the module's kallsyms). Warnings go to `warnings`.
Expected<std::string> make_erase_offsets(std::string_view config, const std::string& config_path,
                                         symbols::DebugInfo& debug, const std::vector<std::string>& module_dirs,
                                         std::ostream& warnings);

// The options after "erase-offsets". Returns the exit status: 0 when the
// offsets were written, 2 for bad arguments, 1 on an error (one line on
// `errors`).
int run_erase_offsets(const std::vector<std::string>& args, std::ostream& out, std::ostream& errors);

}  // namespace coroner::frontends
