#include "analyzer/frontends/batch/batch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>

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

// Each JSON document of a command's output as one compact line.
void write_json_lines(const std::string& documents, std::ostream& out) {
  std::istringstream in(documents);
  while ((in >> std::ws) && in.peek() != std::char_traits<char>::eof()) {
    nlohmann::json document;
    in >> document;  // a command's own output: valid JSON (CommandContext::emit)
    out << document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
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
  const bool json_lines = context.json() && std::count_if(lines.begin(), lines.end(), is_command) > 1;
  int status = 0;
  for (const std::string& line : lines) {
    if (context.quit) break;
    if (!is_command(line)) continue;
    Expected<void> result;
    if (json_lines) {
      // The command's documents, each made one compact line.
      std::ostringstream buffer;
      commands::CommandContext buffered{context.program, context.format, buffer, context.current_pid};
      result = commands::run_command_line(buffered, line);
      context.current_pid = buffered.current_pid;
      context.quit = buffered.quit;
      write_json_lines(buffer.str(), context.out);
    } else {
      result = commands::run_command_line(context, line);
    }
    context.out.flush();
    if (!result) {
      errors << failure_line(line, result.error()) << '\n';
      status = 1;
    }
  }
  return status;
}

}  // namespace coroner::frontends
