#include "commands/command_usage.hpp"

#include <sstream>

namespace coroner::commands {

CommandUsage parse_usage(const Command& command) {
  static constexpr std::string_view kExample = "  crash> ";
  CommandUsage usage;
  std::istringstream in(command.usage);
  bool in_synopsis = true;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(kExample)) {
      usage.examples.push_back(line.substr(kExample.size()));
      continue;
    }
    // The synopsis: its first line and continuation lines ("       [-r] ...").
    in_synopsis = in_synopsis && (usage.synopsis.empty() || line.starts_with("       ["));
    (in_synopsis ? usage.synopsis : usage.details) += line + '\n';
  }
  return usage;
}

}  // namespace coroner::commands
