#include "analyzer/frontends/command_line/session.hpp"

#include "analyzer/frontends/command_line/line_parts.hpp"
#include "analyzer/frontends/command_line/output_sink.hpp"
#include "commands/arguments.hpp"
#include "commands/interrupt.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

namespace coroner::frontends {

namespace {

// crash's radix 16 makes p, struct and union print hex, as px and -x do.
std::string with_radix(const commands::Arguments& words, const std::string& command, int radix) {
  if (radix != 16 || words.empty()) return command;
  const std::string& name = words.front();
  if (name == "p" || name == "print") return "px" + command.substr(name.size());
  if (name != "struct" && name != "union") return command;
  for (const std::string& word : words)
    if (word == "-x" || word == "-d") return command;
  return name + " -x" + command.substr(name.size());
}

}  // namespace

Session::Session(commands::CommandContext& context, bool paging) : context_(context), paging_(paging) {}

std::string Session::pager_command() {
  const char* pager = std::getenv("PAGER");
  // -K: Ctrl-C leaves less as it stops the command.
  return pager && *pager ? pager : "less -FRXK";
}

Expected<void> run_shell_command(const std::string& command) {
  const pid_t child = ::fork();
  if (child < 0) return make_error(Errc::io, "!{}: fork: {}", command, std::strerror(errno));
  if (child == 0) {
    std::signal(SIGPIPE, SIG_DFL);
    if (command.empty()) {
      const char* shell = std::getenv("SHELL");
      ::execl(shell && *shell ? shell : "/bin/sh", "sh", static_cast<char*>(nullptr));
    } else {
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return {};
}

Expected<void> Session::run(std::string_view line) {
  commands::clear_interrupt();
  const std::string_view text = trim(line);
  if (text.empty() || text.front() == '#') return {};
  if (text.front() == '!') return run_shell_command(std::string(trim(text.substr(1))));
  return run_routed(text);
}

Expected<void> Session::run_routed(std::string_view line) {
  CORONER_TRY(parts, split_line_parts(line));
  const std::string command = aliases_.expand(parts.command);
  CORONER_TRY(words, commands::split_command_line(command));
  if (words.empty()) return {};
  if (words.front() == "repeat") return run_repeat(commands::Arguments(words.begin() + 1, words.end()), line);

  std::unique_ptr<OutputSink> sink;
  if (parts.route == OutputRoute::pipe) {
    CORONER_TRY(opened, OutputSink::to_command(context_.out, parts.target));
    sink = std::move(opened);
  } else if (parts.route != OutputRoute::terminal) {
    CORONER_TRY(opened, OutputSink::to_file(context_.out, parts.target, parts.route == OutputRoute::append));
    sink = std::move(opened);
  } else if (paging_ && settings_.scroll) {
    CORONER_TRY(opened, OutputSink::to_command(context_.out, pager_command()));
    sink = std::move(opened);
  }
  auto result = [&]() -> Expected<void> {
    const commands::Arguments args(words.begin() + 1, words.end());
    if (words.front() == "alias") return aliases_.run(args, context_);
    if (words.front() == "set")
      if (auto handled = apply_set(settings_, args, context_, pager_command())) return *handled;
    return commands::run_command_line(context_, with_radix(words, command, settings_.radix));
  }();
  // The reader quit (the pager's `q`, `| head`): the command was stopped
  // quietly.
  if (sink && sink->finish()) {
    const bool stopped = commands::interrupted();
    commands::clear_interrupt();
    if (!result && stopped) return {};
  }
  return result;
}

// crash's `repeat [-SECONDS] COMMAND`: again and again until Ctrl-C (or an
// error), waiting SECONDS between runs.
Expected<void> Session::run_repeat(const commands::Arguments& args, std::string_view line) {
  uint64_t seconds = 0;
  size_t first = 0;
  if (!args.empty() && args[0].size() > 1 && args[0][0] == '-') {
    CORONER_TRY(n, commands::parse_number(std::string_view(args[0]).substr(1)));
    seconds = n, first = 1;
  }
  if (first >= args.size()) return make_error(Errc::invalid_argument, "repeat: no command given");
  const size_t at = line.find(args[first]);  // the rest of the line, pipes and redirections included
  const std::string repeated(line.substr(at == std::string_view::npos ? 0 : at));
  if (repeated.starts_with("repeat")) return make_error(Errc::invalid_argument, "repeat: cannot repeat repeat");
  for (;;) {
    CORONER_CHECK(run_routed(repeated));
    for (uint64_t waited = 0; waited < seconds * 10; ++waited) {
      CORONER_CHECK(commands::check_interrupt());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CORONER_CHECK(commands::check_interrupt());
  }
}

void Session::run_startup_files(std::ostream& errors) {
  std::vector<std::string> files;
  if (const char* home = std::getenv("HOME"); home && *home) files.push_back(std::string(home) + "/.coronerrc");
  std::error_code ignored;
  if (files.empty() || !std::filesystem::equivalent(files.front(), "./.coronerrc", ignored)) files.push_back("./.coronerrc");
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::string line;
    for (int number = 1; in && std::getline(in, line); ++number) {
      if (auto result = run(line); !result) errors << file << ':' << number << ": " << result.error().message() << '\n';
      context_.out.flush();
      if (context_.quit) return;
    }
  }
}

}  // namespace coroner::frontends
