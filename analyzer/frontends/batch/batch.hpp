// Batch front end: commands from a script, crash's way: `coroner -s VMLINUX
// DUMP < script`, `-i FILE`, `-x COMMAND` (repeatable).
#pragma once

#include "commands/command.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace coroner::frontends {

// The lines of a command file (crash's -i FILE), or why it cannot be read.
Expected<std::vector<std::string>> read_command_file(const std::string& path);
// Every line of a stream (a script on standard input).
std::vector<std::string> read_command_lines(std::istream& in);

// Runs the commands in order until the end or `q`; blank lines and #
// comments are skipped. Each failing command prints one line to `errors`
// "COMMAND LINE: reason", and the run goes on. Lines run as in the shell
// (aliases, `| command`, `> file`) but without the pager. With JSON output
// and more than one command, each document is one compact line (JSON
// Lines). Returns 0 when every command succeeded, 1 otherwise.
int run_batch(commands::CommandContext& context, const std::vector<std::string>& lines, std::ostream& errors);

}  // namespace coroner::frontends
