// Opens a fixture dump as the analyzer does and runs commands on it,
// capturing their text or JSON output.
#pragma once

#include "commands/command.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <sstream>

namespace coroner::test {

// The "bytes" of an `rd` JSON document.
inline std::vector<uint8_t> bytes_of(const nlohmann::json& rd) {
  std::string text = rd.at("bytes");
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < text.size(); i += 2) out.push_back(std::stoi(text.substr(i, 2), nullptr, 16));
  return out;
}

class CommandRunner {
 public:
  explicit CommandRunner(const DumpCase& dump, std::vector<std::string> module_dirs = {})
      : program_(open_program(program_options(dump, std::move(module_dirs)), dump.id)) {}
  // Any dump (for example one a test wrote), named `what` in failures.
  CommandRunner(const ProgramOptions& options, const std::string& what) : program_(open_program(options, what)) {}

  Program& program() { return *program_; }

  // Text output of a command that must succeed.
  std::string text(const std::string& line) {
    auto [ok, output] = run(line, commands::OutputFormat::text);
    if (!ok) FAIL("`" << line << "` failed: " << error_);
    return output;
  }

  // JSON output of a command that must succeed.
  nlohmann::json json(const std::string& line) {
    auto [ok, output] = run(line, commands::OutputFormat::json);
    if (!ok) FAIL("`" << line << "` failed: " << error_);
    return nlohmann::json::parse(output);
  }

  // The error message of a command that must fail.
  std::string failure(const std::string& line) {
    auto [ok, output] = run(line, commands::OutputFormat::text);
    if (ok) FAIL("`" << line << "` succeeded but should fail; output:\n" << output);
    return error_;
  }

  std::optional<int64_t> current_pid;
  std::optional<uint64_t> current_task;

 private:
  std::pair<bool, std::string> run(const std::string& line, commands::OutputFormat format) {
    std::ostringstream out;
    commands::CommandContext context{*program_, format, out, current_pid, current_task};
    auto result = commands::run_command_line(context, line);
    current_pid = context.current_pid;
    current_task = context.current_task;
    error_ = result ? std::string() : result.error().message();
    return {bool(result), out.str()};
  }

  std::unique_ptr<Program> program_;
  std::string error_;
};

}  // namespace coroner::test
