// A command line's words: what the shell, batch scripts and completion split
// before a command sees its arguments. Apart from command.hpp so that the
// command-line fuzz target needs no command.
#pragma once

#include "capture/format/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace coroner::commands {

using Arguments = std::vector<std::string>;

// Splits a command line into words; single and double quotes group words.
Expected<Arguments> split_command_line(std::string_view line);

}  // namespace coroner::commands
