#include "analyzer/frontends/command_line/line_parts.hpp"

namespace coroner::frontends {

std::string_view trim(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return line.substr(first, line.find_last_not_of(" \t\r\n") - first + 1);
}

Expected<LineParts> split_line_parts(std::string_view line) {
  char quote = 0;
  int depth = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(') ++depth;
    else if (c == ')' && depth > 0) --depth;
    else if (depth == 0 && (c == '|' || (c == '>' && (i == 0 || line[i - 1] != '-')))) {
      LineParts parts;
      parts.command = std::string(trim(line.substr(0, i)));
      if (c == '|') {
        parts.route = OutputRoute::pipe;
        parts.target = std::string(trim(line.substr(i + 1)));
        if (parts.target.empty()) return make_error(Errc::invalid_argument, "| needs a shell command");
      } else {
        const bool append = i + 1 < line.size() && line[i + 1] == '>';
        parts.route = append ? OutputRoute::append : OutputRoute::file;
        parts.target = std::string(trim(line.substr(i + (append ? 2 : 1))));
        if (parts.target.empty()) return make_error(Errc::invalid_argument, "{} needs a file name", append ? ">>" : ">");
      }
      if (parts.command.empty()) return make_error(Errc::invalid_argument, "no command before {}", c);
      return parts;
    }
  }
  return LineParts{std::string(trim(line)), OutputRoute::terminal, {}};
}

}  // namespace coroner::frontends
