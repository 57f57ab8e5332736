#include "analyzer/frontends/batch/batch.hpp"
#include "analyzer/frontends/command_line/session.hpp"

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>

namespace coroner::frontends {

namespace {

bool is_command(const std::string& line) {
  const size_t first = line.find_first_not_of(" \t\r");
  return first != std::string::npos && line[first] != '#';
}

// "rd nosuchsymbol: no symbol 'nosuchsymbol'": the command line as typed,
// then the reason (without the command's name the error starts with).
std::string failure_line(const std::string& line, const Error& error) {
  const std::string command = line.substr(line.find_first_not_of(" \t"));
  const std::string name = command.substr(0, command.find_first_of(" \t/"));
  std::string reason = error.message();
  if (reason.starts_with(name + ": ")) reason.erase(0, name.size() + 2);
  return command + ": " + reason;
}

}  // namespace

Expected<std::vector<std::string>> read_command_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::io, "{}: cannot open the command file: {}", path, std::strerror(errno));
  std::vector<std::string> lines = read_command_lines(in);
  if (in.bad()) return make_error(Errc::io, "{}: read error", path);
  return lines;
}

std::vector<std::string> read_command_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

int run_batch(commands::CommandContext& context, const std::vector<std::string>& lines, std::ostream& errors) {
  // Several commands' JSON documents: one compact line each (JSON Lines).
  context.json_lines = context.json() && std::count_if(lines.begin(), lines.end(), is_command) > 1;
  // A reader that quits (`coroner ... | head`, a script's `| head`) is an
  // EPIPE, not a SIGPIPE that ends the program mid-script.
  std::signal(SIGPIPE, SIG_IGN);
  Session session(context, false);  // aliases, pipes and redirections as in the shell
  int status = 0;
  for (const std::string& line : lines) {
    if (context.quit || !context.out) break;  // `q`, or standard output is gone
    if (!is_command(line)) continue;
    const Expected<void> result = session.run(line);
    context.out.flush();
    if (!result) {
      errors << failure_line(line, result.error()) << '\n';
      status = 1;
    }
  }
  return status;
}

}  // namespace coroner::frontends
