// What every command sees: the program, the output format, where to write,
// and the shell's current task context (crash's `set`). A command computes
// its result once and renders it as crash-style text or as one JSON
// document; it never touches readline or sockets.
#pragma once

#include "analyzer/program.hpp"
#include "commands/command_words.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace coroner::commands {

enum class OutputFormat { text, json };

struct CommandContext {
  Program& program;
  OutputFormat format = OutputFormat::text;
  std::ostream& out;
  std::optional<int64_t> current_pid;  // task context for -u reads; set by `set PID`
  // The same context's task_struct (PID 0 names one idle task per CPU); set
  // with current_pid by `set`.
  std::optional<uint64_t> current_task;
  bool quit = false;                   // set by `q`
  bool json_lines = false;             // each JSON document on one line (batch runs of several commands)

  bool json() const { return format == OutputFormat::json; }
  void emit(const nlohmann::json& document) const;
};

struct Command {
  std::string name;
  std::string summary;  // one line for `help`
  std::string usage;    // crash-style synopsis and options, for `help NAME`
  std::function<Expected<void>(CommandContext& context, const Arguments& args)> run;
};

// Every command, in `help` order: the built-in ones (registered in one
// place, registry.cpp), then those plugins added.
const std::vector<Command>& all_commands();
const Command* find_command(std::string_view name);
// A plugin's command, with words for completion besides the options of
// its usage text; refused when the name is taken.
Expected<void> add_command(Command command, std::string plugin, std::vector<std::string> completions = {});
// Removes the commands `plugin` added.
void remove_commands(std::string_view plugin);
// The completion words a plugin gave its command `name` (none for built-in ones).
std::vector<std::string> command_completions(std::string_view name);

// Runs one command line. Errors are returned, not printed.
Expected<void> run_command_line(CommandContext& context, std::string_view line);

}  // namespace coroner::commands
