#include "analyzer/frontends/shell/history.hpp"

#include <readline/history.h>

#include <cctype>
#include <cstdlib>
#include <ostream>

namespace coroner::frontends {

History::History() {
  using_history();
  stifle_history(kHistorySize);
  if (const char* home = std::getenv("HOME"); home && *home) path_ = std::string(home) + "/.coroner_history";
  if (!path_.empty()) (void)read_history(path_.c_str());
}

History::~History() {
  if (path_.empty()) return;
  (void)write_history(path_.c_str());
  (void)history_truncate_file(path_.c_str(), kHistorySize);
}

Expected<std::string> History::expand(const std::string& line) const {
  if (line.size() < 2 || line[0] != '!') return line;
  size_t end = 1;
  int number = 0;
  if (line[1] == '!') {
    end = 2, number = history_length;
  } else {
    while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end])) && number < 1000000)
      number = number * 10 + (line[end++] - '0');
    if (end == 1) return line;  // !command
  }
  if (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '|' && line[end] != '>') return line;
  HIST_ENTRY* entry = number >= 1 ? history_get(history_base + number - 1) : nullptr;
  if (!entry) return make_error(Errc::not_found, "{}: no such command in the history", line.substr(0, end));
  return std::string(entry->line) + line.substr(end);
}

void History::add(const std::string& line) {
  HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
  if (!last || line != last->line) add_history(line.c_str());
}

void History::list(std::ostream& out) const {
  for (int i = 0; i < history_length; ++i)
    if (HIST_ENTRY* entry = history_get(history_base + i)) out << '[' << i + 1 << "] " << entry->line << '\n';
}

}  // namespace coroner::frontends
