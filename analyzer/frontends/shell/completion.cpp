#include "analyzer/frontends/shell/completion.hpp"

#include "analyzer/frontends/command_line/line_parts.hpp"

#include <readline/readline.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace coroner::frontends {

namespace {

constexpr const char* kFileBreaks = " \t\n\"'`@$><=;|&{(";
constexpr const char* kExpressionBreaks = " \t\n\"'`@$><=;|&{(.*)";

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The words before the one being completed, the first alias-expanded.
std::vector<std::string> words_before(const Session& session, std::string_view line) {
  std::string expanded = session.aliases().expand(std::string(line));
  auto words = commands::split_command_line(expanded);
  return words ? *words : std::vector<std::string>{};
}

// Whether the word at `start` names a file: after `>`/`>>`, or as extend's
// argument, or mod -s NAME's FILE.
bool wants_file(std::string_view before, const std::vector<std::string>& words) {
  const std::string_view typed = trim(before);
  if (!typed.empty() && typed.back() == '>' && (typed.size() < 2 || typed[typed.size() - 2] != '-')) return true;
  if (words.empty()) return false;
  if (words[0] == "extend") return true;
  return words[0] == "mod" && words.size() >= 3 && words[1] == "-s";
}

// The expression before the `.` or `->` that ends at `end`: back over
// names, `.`, `->` and bracketed parts, up to a blank, an operator or an
// unmatched opening bracket outside brackets.
std::string_view expression_before(std::string_view line, size_t end) {
  size_t i = end;
  int depth = 0;
  while (i > 0) {
    const char c = line[i - 1];
    if (c == ')' || c == ']') {
      ++depth;
    } else if (c == '(' || c == '[') {
      if (depth == 0) break;
      --depth;
    } else if (depth == 0) {
      if (c == '>' && i >= 2 && line[i - 2] == '-') {
        i -= 2;
        continue;
      }
      if (!is_name_char(c) && c != '.') break;
    }
    --i;
  }
  return line.substr(i, end - i);
}

std::vector<std::string> filter(const std::vector<std::string>& words, std::string_view prefix) {
  std::vector<std::string> found;
  for (const std::string& word : words)
    if (word.starts_with(prefix)) found.push_back(word);
  return found;
}

}  // namespace

const char* Completer::break_characters(std::string_view line_to_point) {
  const size_t word = line_to_point.find_last_of(" \t");
  const std::string_view before = word == std::string_view::npos ? std::string_view() : line_to_point.substr(0, word);
  auto words = commands::split_command_line(before);
  return wants_file(before, words ? *words : std::vector<std::string>{}) ? kFileBreaks : kExpressionBreaks;
}

Completer::Result Completer::complete(std::string_view line, size_t start, size_t end) {
  const std::string_view word = line.substr(start, end - start);
  const std::string_view before = line.substr(0, start);
  const std::vector<std::string> words = words_before(session_, before);
  if (words.empty() && trim(before).empty()) {  // the command
    std::vector<std::string> names = {"alias", "repeat"};
    for (const commands::Command& command : commands::all_commands()) names.push_back(command.name);
    for (const std::string& alias : session_.aliases().names()) names.push_back(alias);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return {filter(names, word)};
  }
  if (wants_file(before, words)) return {{}, true};
  if (words.empty()) return {};
  const std::string& command = words[0];
  const std::string& previous = words.back();

  // EXPR.member, EXPR->member
  if (start > 0 && (line[start - 1] == '.' || (line[start - 1] == '>' && start >= 2 && line[start - 2] == '-'))) {
    const size_t dot = line[start - 1] == '.' ? start - 1 : start - 2;
    return {sources_.members(expression_before(line, dot), word)};
  }
  if (word.starts_with("-")) {
    if (const commands::Command* found = commands::find_command(command)) return {filter(sources_.options(*found), word)};
    return {};
  }
  using symbols::NameKind;
  if (previous == "struct" || (command == "struct" && words.size() == 1)) return {sources_.types(word, {NameKind::structure})};
  if (previous == "union" || (command == "union" && words.size() == 1)) return {sources_.types(word, {NameKind::union_type})};
  if (previous == "enum") return {sources_.types(word, {NameKind::enumeration})};
  if (command == "whatis" || command == "ptype") {
    auto found = sources_.types(word, {NameKind::typedef_type, NameKind::base});
    for (std::string& symbol : sources_.symbols(word)) found.push_back(std::move(symbol));
    for (const char* keyword : {"struct", "union", "enum"})
      if (std::string_view(keyword).starts_with(word)) found.push_back(keyword);
    return {found};
  }
  if (command == "mod" && words.size() == 2 && words[1] == "-s") return {sources_.modules(word)};
  if (command == "set" || command == "bt" || command == "ps" || command == "foreach") {
    auto found = sources_.tasks(word);
    if (command == "set" && words.size() == 1)
      for (const char* variable : {"scroll", "radix", "hash", "console"})
        if (std::string_view(variable).starts_with(word)) found.push_back(variable);
    if (command == "foreach")
      for (const char* selector : {"bt", "kernel", "user", "active"})
        if (std::string_view(selector).starts_with(word)) found.push_back(selector);
    return {found};
  }
  if (word.empty()) return {};  // not every symbol of the kernel
  return {sources_.symbols(word)};
}

namespace {

Completer* active_completer = nullptr;
std::vector<std::string> pending;  // the matches readline is taking one by one

char* next_match(const char*, int state) {
  static size_t index;
  if (state == 0) index = 0;
  return index < pending.size() ? strdup(pending[index++].c_str()) : nullptr;
}

char** complete_for_readline(const char* text, int start, int end) {
  rl_attempted_completion_over = 1;  // no file names unless asked for
  Completer::Result result = active_completer->complete(rl_line_buffer, static_cast<size_t>(start), static_cast<size_t>(end));
  if (result.files) {
    rl_attempted_completion_over = 0;
    return nullptr;
  }
  pending = std::move(result.words);
  if (pending.empty()) return nullptr;
  return rl_completion_matches(text, next_match);
}

char* word_breaks() {
  static std::string breaks;
  breaks = Completer::break_characters(std::string_view(rl_line_buffer, static_cast<size_t>(rl_point)));
  return breaks.data();
}

}  // namespace

void install_readline_completion(Completer& completer) {
  active_completer = &completer;
  rl_attempted_completion_function = complete_for_readline;
  rl_completion_word_break_hook = word_breaks;
  rl_basic_word_break_characters = kExpressionBreaks;
}

}  // namespace coroner::frontends
