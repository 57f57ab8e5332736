#include "analyzer/frontends/shell/shell.hpp"

#include <readline/history.h>
#include <readline/readline.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

namespace coroner::frontends {

namespace {

// readline's generator protocol: called with state 0 first, then until NULL.
char* command_name_generator(const char* text, int state) {
  static size_t index;
  if (state == 0) index = 0;
  const auto& all = commands::all_commands();
  size_t length = std::strlen(text);
  while (index < all.size()) {
    const std::string& name = all[index++].name;
    if (name.compare(0, length, text) == 0) return strdup(name.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = start == 0 ? 1 : 0;  // only the first word is a command
  return start == 0 ? rl_completion_matches(text, command_name_generator) : nullptr;
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.coroner_history" : std::string();
}

}  // namespace

int run_shell(commands::CommandContext& context) {
  rl_readline_name = "coroner";
  rl_attempted_completion_function = complete;
  std::string history = history_path();
  if (!history.empty()) read_history(history.c_str());

  while (!context.quit) {
    std::unique_ptr<char, decltype(&std::free)> line(readline("crash> "), std::free);
    if (!line) {
      std::cout << '\n';
      break;
    }
    std::string text(line.get());
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.get());
    auto result = commands::run_command_line(context, text);
    std::cout.flush();
    if (!result) std::cerr << result.error().message() << '\n';
  }
  if (!history.empty()) write_history(history.c_str());
  return 0;
}

}  // namespace coroner::frontends
