// The command line: the shell's split into command and `| pipe` or
// `> file` route, the command's words (quotes), and the number and PID
// parsers every command uses on those words.
#include "analyzer/frontends/command_line/line_parts.hpp"
#include "commands/arguments.hpp"
#include "commands/command_words.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parts = frontends::split_line_parts(line);
  auto words = commands::split_command_line(parts ? std::string_view(parts->command) : line);
  if (!words) return 0;
  for (const std::string& word : *words) {
    (void)commands::parse_number(word);
    (void)commands::parse_number(word, 16);
    (void)commands::parse_pid(word);
  }
  return 0;
}
