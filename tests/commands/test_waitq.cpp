// waitq on every fixture dump: fx_crash's kthread fx_sleeper waits on the
// module's wait queue fx_wq (wait_event_interruptible in fx_sleep_leaf), by
// symbol, by address and as STRUCT.MEMBER ADDRESS; an empty queue; errors.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("waitq names the task waiting on fx_wq on every dump", "[waitq][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      run.text("mod -s fx_crash " + dump.module_path());
      const nlohmann::json waiters = run.json("waitq fx_wq");
      REQUIRE(waiters["waiters"].size() == 1);
      const nlohmann::json& sleeper = waiters["waiters"][0];
      CHECK(sleeper["command"] == "fx_sleeper");
      if (dump.facts().contains("tasks"))
        for (const auto& task : dump.facts()["tasks"])
          if (task["comm"] == "fx_sleeper") CHECK(sleeper["pid"] == task["pid"]);
      const std::string head = waiters["wait_queue"];
      CHECK(run.json("waitq " + head) == waiters);
      CHECK(run.json("waitq wait_queue_head.lock " + head) == waiters);
      CHECK_THAT(run.text("waitq fx_wq"), Catch::Matches("PID: \\d+ +TASK: [0-9a-f]+  CPU: \\d+ +COMMAND: \"fx_sleeper\"\n"));
    }
  }
}

TEST_CASE("waitq says when a queue is empty and rejects bad arguments", "[waitq][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  // Nobody reads the kernel log on the fixtures (no klogd, no dmesg -w).
  CHECK_THAT(run.text("waitq log_wait"), Catch::Matches("wait queue \"log_wait\" \\([0-9a-f]+\\) is empty\n"));
  CHECK_THAT(run.failure("waitq"), Catch::Contains("usage: waitq"));
  CHECK_THAT(run.failure("waitq wait_queue_head.head"), Catch::Contains("must supply an address for wait_queue_head"));
  CHECK_THAT(run.failure("waitq no_such_symbol"), Catch::Contains("no_such_symbol"));
}

}  // namespace coroner::test
