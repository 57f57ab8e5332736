// One command line as crash runs it, for the shell and batch input alike:
// `!command` (to /bin/sh), aliases, `alias`, `repeat [-N] COMMAND`, the
// front end's `set` variables, then the command itself with its output
// piped (`| cmd`), written to a file (`> FILE`, `>> FILE`) or paged
// (`less -FRXK` or $PAGER, when output is a terminal and `set scroll on`).
#pragma once

#include "analyzer/frontends/command_line/aliases.hpp"
#include "analyzer/frontends/command_line/settings.hpp"
#include "commands/command.hpp"

#include <iosfwd>
#include <string_view>

namespace coroner::frontends {

class Session {
 public:
  // paging: context.out is the terminal, so output may go through the pager.
  Session(commands::CommandContext& context, bool paging);

  // Errors are returned (one line), not printed. Ctrl-C or a pager's `q`
  // end the command early; only Ctrl-C is an error ("interrupted").
  Expected<void> run(std::string_view line);

  // Runs ~/.coronerrc, then ./.coronerrc (crash's .crashrc), line by line;
  // each failing line prints "FILE:LINE: error" to errors.
  void run_startup_files(std::ostream& errors);

  commands::CommandContext& context() { return context_; }
  SessionSettings& settings() { return settings_; }
  const Aliases& aliases() const { return aliases_; }
  // The pager command `set scroll on` uses: $PAGER, else less -FRXK.
  static std::string pager_command();

 private:
  Expected<void> run_routed(std::string_view line);
  Expected<void> run_repeat(const commands::Arguments& args, std::string_view line);
  Expected<void> run_command(const std::string& command);

  commands::CommandContext& context_;
  bool paging_;
  SessionSettings settings_;
  Aliases aliases_;
};

// Runs `/bin/sh -c command` (an interactive $SHELL when empty) and waits.
Expected<void> run_shell_command(const std::string& command);

}  // namespace coroner::frontends
