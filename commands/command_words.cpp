#include "commands/command_words.hpp"

namespace coroner::commands {

Expected<Arguments> split_command_line(std::string_view line) {
  Arguments words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) quote = 0;
      else word.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (quote) return make_error(Errc::invalid_argument, "unterminated {} quote", quote);
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace coroner::commands
