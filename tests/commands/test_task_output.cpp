// The per-task output loop (commands/task_output.cpp) that bt, vm, files,
// sig and task share: one JSON object for one task, an array for several,
// and Ctrl-C honoured between tasks by every one of them.
#include "commands/interrupt.hpp"
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("per-task commands give one object or an array, and stop on Ctrl-C", "[task_output]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  const size_t tasks = run.json("ps")["tasks"].size();
  REQUIRE(tasks == dump.facts()["tasks"].size() + 2);  // facts' tasks and the two CPUs' idle tasks
  for (const std::string command : {"bt", "vm", "files", "sig", "task"}) {
    INFO(command);
    CHECK(run.json(command + " 1").is_object());
    const nlohmann::json all = run.json("foreach " + command);
    REQUIRE(all.is_array());
    CHECK(all.size() == tasks);
    commands::request_interrupt();
    const std::string error = run.failure("foreach " + command);
    commands::clear_interrupt();
    CHECK(error.find("interrupted") != std::string::npos);
  }
}

}  // namespace coroner::test
