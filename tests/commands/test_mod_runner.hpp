// Runs commands on a fixture dump opened with --mod-path set to the
// fixture's kernel directory (where fx_crash.ko lies), as a user would, so
// that module objects are attached automatically; and picks one dump per
// scenario whose facts.json lists modules.
#pragma once

#include "commands/command.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <sstream>

namespace coroner::test {

class ModuleCommandRunner {
 public:
  explicit ModuleCommandRunner(const DumpCase& dump, std::vector<std::string> module_dirs = {}) {
    ProgramOptions options;
    options.vmlinux = dump.vmlinux();
    options.dumps = dump.files();
    options.cache_dir = (cache_dir() / "coroner").string();
    options.module_dirs = module_dirs.empty() ? std::vector<std::string>{fs::path(dump.module_path()).parent_path().string()}
                                              : module_dirs;
    auto program = Program::open(options);
    if (!program) FAIL(dump.id << ": cannot open: " << program.error().message());
    program_ = std::move(*program);
  }

  Program& program() { return *program_; }

  std::string text(const std::string& line) {
    auto [ok, output, error] = run(line, commands::OutputFormat::text);
    if (!ok) FAIL("`" << line << "` failed: " << error);
    return output;
  }
  nlohmann::json json(const std::string& line) {
    auto [ok, output, error] = run(line, commands::OutputFormat::json);
    if (!ok) FAIL("`" << line << "` failed: " << error);
    return nlohmann::json::parse(output);
  }
  std::string failure(const std::string& line) {
    auto [ok, output, error] = run(line, commands::OutputFormat::text);
    if (ok) FAIL("`" << line << "` succeeded but should fail; output:\n" << output);
    return error;
  }

 private:
  std::tuple<bool, std::string, std::string> run(const std::string& line, commands::OutputFormat format) {
    std::ostringstream out;
    commands::CommandContext context{*program_, format, out, std::nullopt};
    auto result = commands::run_command_line(context, line);
    return {bool(result), out.str(), result ? std::string() : result.error().message()};
  }
  std::unique_ptr<Program> program_;
};

// The first dump of each kernel and scenario whose facts list modules.
inline std::vector<const DumpCase*> module_dumps() {
  std::vector<const DumpCase*> picked;
  std::set<std::string> seen;
  for (const DumpCase& dump : all_dumps())
    if (dump.facts().contains("modules") && seen.insert(dump.arch_dir + "/" + dump.scenario).second)
      picked.push_back(&dump);
  return picked;
}

inline const nlohmann::json* memory_sample(const nlohmann::json& facts, const std::string& kind) {
  for (const auto& sample : facts["memory_samples"])
    if (sample["kind"] == kind) return &sample;
  return nullptr;
}

}  // namespace coroner::test
