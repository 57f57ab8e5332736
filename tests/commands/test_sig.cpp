// sig on every fixture dump: init's signal_struct (the task's own pointer,
// read through `p`), its 64 dispositions in sighand_struct (busybox init
// catches SIGINT and SIGCHLD, ignores SIGQUIT), nothing pending at the
// crash; bad input.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("sig 1 shows init's signal state on every dump", "[sig][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json sig = run.json("sig 1");
      CHECK(sig["pid"] == 1);
      const std::string task = sig["task"];
      const nlohmann::json signal = run.json("p ((struct task_struct *)" + task + ")->signal");
      CHECK(hex_value(sig["signal_struct"]) == hex_value(signal["value"]));
      CHECK(sig["nr_threads"] == 1);
      const auto& actions = sig["sigactions"];
      REQUIRE(actions.size() == 64);
      for (size_t i = 0; i < actions.size(); ++i) {
        CHECK(actions[i]["sig"] == i + 1);
        if (i > 0) CHECK(hex_value(actions[i]["sigaction"]) > hex_value(actions[i - 1]["sigaction"]));
      }
      // busybox init: handlers for SIGINT and SIGCHLD, SIGQUIT ignored, the
      // rest default.
      CHECK(actions[1]["handler"] != "SIG_DFL");
      CHECK(actions[1]["handler"] != "SIG_IGN");
      CHECK(actions[2]["handler"] == "SIG_IGN");
      CHECK(actions[16]["handler"] == actions[1]["handler"]);
      CHECK(actions[8]["handler"] == "SIG_DFL");
      CHECK(sig["blocked"] == "0000000000000000");
      CHECK(sig["private_pending"]["sigqueue"].empty());
      CHECK(sig["shared_pending"]["sigqueue"].empty());

      const std::string text = run.text("sig 1");
      CHECK_THAT(text, Catch::Contains(fmt::format("\nSIGNAL_STRUCT: {:x}  NR_THREADS: 1\n", hex_value(sig["signal_struct"]))));
      CHECK_THAT(text, Catch::Contains("\n SIG    SIGACTION        HANDLER       MASK       FLAGS           \n"));
      CHECK_THAT(text, Catch::Contains("    SIG_IGN fffffffe7ffbfeff "));
      CHECK_THAT(text, Catch::EndsWith("SHARED_PENDING\n    SIGNAL: 0000000000000000\n  SIGQUEUE: (empty)\n\n"));
    }
  }
}

TEST_CASE("sig rejects bad arguments with one line", "[sig][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("sig 99999999999999999999"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("sig 0xzz"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("sig -q"), Catch::Contains("unknown option"));
}

}  // namespace coroner::test
