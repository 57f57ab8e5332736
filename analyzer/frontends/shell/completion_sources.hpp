// The words TAB can offer, each from the layer that knows them: command
// options from each command's usage text, symbols of vmlinux and modules,
// type names from DWARF (symbols::DebugInfo::names_starting_with, which
// never waits for the name index), the members of an expression's type
// (through the expression evaluator), and the dump's tasks. Each list is
// made on first use and kept: a dump does not change.
#pragma once

#include "analyzer/program.hpp"
#include "commands/command.hpp"
#include "symbols/dwarf_index.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::frontends {

class CompletionSources {
 public:
  explicit CompletionSources(const Program& program) : program_(program) {}

  // The options a command's usage text names ("-a", "-c", ...), in order.
  const std::vector<std::string>& options(const commands::Command& command);
  // Symbols of vmlinux and of the modules.
  std::vector<std::string> symbols(std::string_view prefix);
  // Type names of these kinds in vmlinux and in modules with debug info.
  std::vector<std::string> types(std::string_view prefix, std::initializer_list<symbols::NameKind> kinds);
  // Members of the struct or union that `expression` is or points to (`.`
  // and `->` alike); crash's `struct NAME.` gives a type name instead.
  std::vector<std::string> members(std::string_view expression, std::string_view prefix);
  // PIDs and command names of the dump's tasks.
  std::vector<std::string> tasks(std::string_view prefix);
  // Names of the loaded modules.
  std::vector<std::string> modules(std::string_view prefix);

 private:
  const Program& program_;
  std::map<std::string, std::vector<std::string>> options_;
  std::optional<std::vector<std::string>> symbols_;  // sorted, unique
  std::optional<std::vector<std::string>> tasks_;    // sorted, unique
};

// Words of a sorted list that start with prefix.
std::vector<std::string> starting_with(const std::vector<std::string>& sorted, std::string_view prefix);

}  // namespace coroner::frontends
