#include "analyzer/frontends/shell/shell.hpp"

#include "analyzer/frontends/command_line/session.hpp"
#include "analyzer/frontends/shell/colour.hpp"
#include "analyzer/frontends/shell/completion.hpp"
#include "analyzer/frontends/shell/history.hpp"
#include "commands/interrupt.hpp"

#include <readline/readline.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace coroner::frontends {

namespace {

// readline's callback interface hands over a line here; the loop runs it
// with the handler removed, so the prompt comes back only after the output.
std::optional<std::string> accepted;
bool end_of_input = false;

void take_line(char* line) {
  if (!line) end_of_input = true;
  else accepted = line;
  std::free(line);
  rl_callback_handler_remove();
}

// Ctrl-C at the prompt: drop the line being typed, start a new one.
void abandon_line() {
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_replace_line("", 0);
  rl_crlf();
  rl_on_new_line();
  rl_redisplay();
}

// Waits for a line; nullopt at EOF.
std::optional<std::string> read_line(const std::string& prompt) {
  accepted.reset();
  commands::clear_interrupt();  // a Ctrl-C that came after the last command ended
  rl_callback_handler_install(prompt.c_str(), take_line);
  while (!accepted && !end_of_input) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(STDIN_FILENO, &readable);
    const int ready = select(STDIN_FILENO + 1, &readable, nullptr, nullptr, nullptr);
    if (commands::interrupted()) {
      commands::clear_interrupt();
      abandon_line();
      continue;
    }
    if (ready < 0 && errno != EINTR) end_of_input = true;
    else if (ready > 0) rl_callback_read_char();
  }
  if (!accepted) {
    rl_callback_handler_remove();
    std::cout << '\n';
  }
  return accepted;
}

}  // namespace

int run_shell(commands::CommandContext& context) {
  commands::install_interrupt_handler();
  std::signal(SIGPIPE, SIG_IGN);  // a pipe's reader that quits is an EPIPE (output_sink.cpp)
  rl_readline_name = "coroner";
  rl_catch_signals = 0;  // SIGINT is ours (commands/interrupt.hpp)

  const bool colour = colour_allowed(STDOUT_FILENO);
  const bool error_colour = colour_allowed(STDERR_FILENO);
  Session session(context, isatty(STDOUT_FILENO) == 1);
  Completer completer(session);
  install_readline_completion(completer);
  History history;
  session.run_startup_files(std::cerr);

  const std::string prompt = prompt_text(colour);
  while (!context.quit) {
    std::optional<std::string> line = read_line(prompt);
    if (!line) break;
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    auto expanded = history.expand(*line);
    if (!expanded) {
      std::cerr << error_text(expanded.error().message(), error_colour) << '\n';
      continue;
    }
    if (*expanded != *line) std::cout << *expanded << '\n';  // what `!!` / `!N` ran, as bash shows it
    history.add(*expanded);
    if (*expanded == "h" || *expanded == "history") {
      history.list(std::cout);
      continue;
    }
    auto result = session.run(*expanded);
    std::cout.flush();
    if (!result) std::cerr << error_text(result.error().message(), error_colour) << '\n';
  }
  return 0;
}

}  // namespace coroner::frontends
