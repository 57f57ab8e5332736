// TAB in the crash> shell: what a word can be at its place on the line.
//   first word            command names, aliases, alias/repeat
//   -...                  the command's options (its usage text)
//   EXPR. / EXPR->        members of the expression's struct or union
//   struct/union NAME     struct (union) names; whatis/ptype: types and symbols
//   set/bt/ps/foreach     task PIDs and command names (set: its variables too)
//   > FILE, extend, mod -s NAME FILE   file names; mod -s NAME: module names
//   anything else         symbols of vmlinux and modules
#pragma once

#include "analyzer/frontends/command_line/session.hpp"
#include "analyzer/frontends/shell/completion_sources.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace coroner::frontends {

class Completer {
 public:
  explicit Completer(Session& session) : session_(session), sources_(session.context().program) {}

  struct Result {
    std::vector<std::string> words;  // replacements for line[start, end)
    bool files = false;              // complete file names instead
  };
  // The word is line[start, end); words break at blanks, quotes, `>`, `|`,
  // `(` and, outside a file name, at `.`, `*` and `)` (break_characters()).
  Result complete(std::string_view line, size_t start, size_t end);
  // Where words break for the line typed so far.
  static const char* break_characters(std::string_view line_to_point);

 private:
  Session& session_;
  CompletionSources sources_;
};

// Makes readline complete through completer (one shell at a time).
void install_readline_completion(Completer& completer);

}  // namespace coroner::frontends
