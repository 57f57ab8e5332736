// Interactive front end: the crash> prompt with readline line editing,
// command-name completion and a history file.
#pragma once

#include "commands/command.hpp"

namespace coroner::frontends {

// Reads commands until EOF or `q`; errors print one line and the shell
// goes on. History lives in $HOME/.coroner_history.
int run_shell(commands::CommandContext& context);

}  // namespace coroner::frontends
