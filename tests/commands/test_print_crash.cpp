// p, struct, whatis and ptype next to crash 8.0.2 itself on the x86_64
// oops dump: the same text, once crash's "$N = " history numbers are
// dropped (coroner prints "EXPRESSION = " instead).
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

#include <fstream>
#include <regex>
#include <sstream>

namespace coroner::test {

namespace {

// Runs crash once over all commands; returns each command's output.
std::vector<std::string> crash_outputs(const DumpCase& dump, const std::vector<std::string>& commands) {
  const std::string marker = "==coroner-mark==";
  const fs::path script = cache_dir() / "crash_compare.in";
  {
    std::ofstream out(script);
    for (const std::string& command : commands) out << command << "\n!echo " << marker << "\n";
    out << "q\n";
  }
  const std::string text = run_command("timeout 300 crash -s " + dump.vmlinux() + " " + dump.files().front() + " < " +
                                       script.string() + " 2>/dev/null || true");
  std::vector<std::string> outputs;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line == marker) {
      outputs.push_back(current);
      current.clear();
    } else if (!line.starts_with("WARNING: active task") && !(line.empty() && current.empty())) {
      current += line + "\n";
    }
  }
  return outputs;
}

}  // namespace

TEST_CASE("p, struct, whatis and ptype print what crash 8.0.2 prints", "[print][crash]") {
  if (run_command("command -v crash || true").empty()) {
    WARN("crash is not installed: comparison skipped");
    return;
  }
  for (const DumpCase& dump : all_dumps()) {
    if (dump.id != "x86_64/oops-kdump/d31") continue;
    CommandRunner run(dump);
    // Commands whose output has no char arrays (crash prints every \000).
    const std::vector<std::string> commands = {
        "p runqueues:1",          "p init_task.se",       "p *init_task.tasks.next", "p init_task.pid_links",
        "p init_task.sched_class", "struct task_struct -o", "struct sched_entity -o",  "whatis struct task_struct",
        "ptype struct rq",         "whatis init_task",      "ptype enum pid_type",     "p init_task.thread_info",
    };
    const std::vector<std::string> expected = crash_outputs(dump, commands);
    REQUIRE(expected.size() == commands.size());
    const std::regex history(R"(^(\S.*? = )?\$[0-9]+ = )");
    for (size_t i = 0; i < commands.size(); ++i) {
      INFO(commands[i]);
      std::string theirs = expected[i];
      std::string ours = run.text(commands[i]);
      if (commands[i].starts_with("p ")) {
        // "$1 = " / "per_cpu(runqueues, 1) = $1 = " become "EXPR = ".
        theirs = std::regex_replace(theirs, history, "", std::regex_constants::format_first_only);
        ours = ours.substr(ours.find(" = ") + 3);
      }
      CHECK(ours == theirs);
    }
  }
}

}  // namespace coroner::test
