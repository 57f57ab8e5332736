// A command's usage text (Command::usage) in its parts, for `help CMD`,
// the man page and completion. The text's conventions: the synopsis first
// ("  NAME ..." and continuation lines "       [...]"), then options and
// notes, and examples as lines "  crash> COMMAND".
#pragma once

#include "commands/command.hpp"

#include <string>
#include <vector>

namespace coroner::commands {

struct CommandUsage {
  std::string synopsis;               // its lines, indented as written
  std::string details;                // options and notes
  std::vector<std::string> examples;  // command lines, without "crash> "
};

CommandUsage parse_usage(const Command& command);

}  // namespace coroner::commands
