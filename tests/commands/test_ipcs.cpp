// ipcs: on the fixture kernels (tinyconfig, no CONFIG_SYSVIPC) a one-line
// error; on the distro-kernel dump of bench/symbols (SYSVIPC, no objects)
// the three empty tables, line by line as crash 8.0.2 prints them; bad
// arguments.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

TEST_CASE("ipcs: a one-line error on the kernels without System V IPC", "[ipcs][errors]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const char* command : {"ipcs", "ipcs -m", "ipcs -s", "ipcs -q"}) {
        const std::string error = run.failure(command);
        CHECK_THAT(error, Catch::Contains("CONFIG_SYSVIPC is not set"));
        CHECK(error.find('\n') == std::string::npos);
      }
    }
  }
  CommandRunner run(all_dumps().front());
  CHECK_THAT(run.failure("ipcs -x"), Catch::Contains("unknown argument -x (usage: ipcs [-m] [-s] [-q])"));
}

TEST_CASE("ipcs on the distro kernel's dump: its empty tables as crash 8.0.2 prints them", "[ipcs][crash][distro]") {
  const DistroDump distro = distro_dump();
  CommandRunner run(distro.options(), "distro dump");
  const nlohmann::json doc = run.json("ipcs");
  for (const char* kind : {"shared_memory", "semaphores", "message_queues"}) {
    REQUIRE(doc.contains(kind));
    CHECK(doc[kind].empty());
  }
  CHECK_FALSE(doc.contains("errors"));
  if (!crash_installed()) return;
  const std::vector<std::string> commands = {"ipcs", "ipcs -s", "ipcs -m", "ipcs -q", "ipcs -q -m"};
  const std::vector<std::string> outputs = crash_outputs(distro.vmlinux, distro.dump, commands);
  REQUIRE(outputs.size() == commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    check_same_lines(run.text(commands[i]), outputs[i]);
  }
}

}  // namespace coroner::test
