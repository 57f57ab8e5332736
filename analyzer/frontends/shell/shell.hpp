// Interactive front end: the crash> prompt with readline line editing,
// completion (completion.hpp), history (history.hpp), the pager and the
// command-line plumbing of the session (command_line/session.hpp).
#pragma once

#include "commands/command.hpp"

namespace coroner::frontends {

// Runs the start-up files, then reads commands until EOF or `q`; errors
// print one line and the shell goes on. Ctrl-C stops the running command
// (or clears the line being typed) and never ends the program.
int run_shell(commands::CommandContext& context);

}  // namespace coroner::frontends
