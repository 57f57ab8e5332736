// crash's command-line plumbing, as text: a line is a command, then
// optionally `| shell command` (its output piped to /bin/sh) or `> FILE` /
// `>> FILE` (written or appended to a file). A `|` or `>` inside quotes or
// parentheses belongs to the command (`eval (1 | 2)`, `p (a > b)`), and so
// does the `>` of `->`.
#pragma once

#include "capture/format/error.hpp"

#include <string>
#include <string_view>

namespace coroner::frontends {

enum class OutputRoute { terminal, pipe, file, append };

struct LineParts {
  std::string command;  // trimmed
  OutputRoute route = OutputRoute::terminal;
  std::string target;   // the shell command or the file name
};

// The error names what is missing ("> needs a file name").
Expected<LineParts> split_line_parts(std::string_view line);

// Line without leading and trailing blanks.
std::string_view trim(std::string_view line);

}  // namespace coroner::frontends
