// The front end's variables of crash's `set` (scroll, radix, hash,
// console) and `set -v`; the task context (`set PID`) stays the set
// command's. Shared by the shell and batch input.
#pragma once

#include "commands/command.hpp"

#include <optional>
#include <string>

namespace coroner::frontends {

struct SessionSettings {
  bool scroll = true;    // page output taller than the screen (a terminal only)
  int radix = 10;        // the default base of p, struct and union values
  bool hash = true;      // crash's loop detection of list; coroner's walks always check
  std::string console;   // crash's debug console; kept and shown only
};

// Handles `set -v` and `set VARIABLE [VALUE]` for the variables above,
// printing as crash does (`output radix: 16 (hex)`, `scroll: off (none)`);
// nullopt when args are not about them. pager names what scroll uses.
std::optional<Expected<void>> apply_set(SessionSettings& settings, const commands::Arguments& args,
                                        const commands::CommandContext& context, const std::string& pager);

}  // namespace coroner::frontends
