// Batch front end: commands from a stream, one per line (crash -s < cmds).
#pragma once

#include "commands/command.hpp"

#include <iosfwd>

namespace coroner::frontends {

// Runs every line until EOF or `q`. Each failing command prints one line
// "COMMAND: reason" to `errors` and the run goes on; returns 0 when every
// command succeeded, 1 otherwise.
int run_batch(commands::CommandContext& context, std::istream& in, std::ostream& errors);

}  // namespace coroner::frontends
