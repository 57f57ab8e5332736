// log, sys and sys -t next to crash 8.0.2 on the x86_64 fixture dumps, line
// by line. They agree everywhere but where crash is wrong
// (docs/crash-differences.md, "log and sys"): TASKS (crash 8.0.2 finds only
// the tasks running on the CPUs of these 6.1 kernels), the PANIC line of an
// x86 oops (crash misses the 4.20+ wording), and the [PARTIAL DUMP] of
// QEMU's dumps, which leave out only zero pages.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/guest_console.hpp"
#include "tests/commands/crash_session.hpp"

#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>

namespace coroner::test {

namespace {

// "        CPUS: 2" -> {"CPUS", "2"}.
std::map<std::string, std::string> sys_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  static const std::regex field(R"(^ *([A-Z][A-Z ]*[A-Z]): (.*)$)");
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, field)) fields[m[1]] = m[2];
  }
  return fields;
}

}  // namespace

TEST_CASE("log, sys and sys -t match crash 8.0.2 where crash is right", "[log][sys][crash]") {
  if (!crash_installed()) return;
  // crash dates `log -T` and DATE in local time; coroner always in UTC.
  setenv("TZ", "UTC", 1);
  const std::vector<std::string> commands = {"log", "log -T", "log -t", "log -m", "log -d", "log -Tmd", "sys", "sys -t"};
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      std::vector<std::string> crash = crash_outputs(dump, commands);
      REQUIRE(crash.size() == commands.size());
      CommandRunner run(dump);
      for (size_t i = 0; i < commands.size(); ++i) {
        if (commands[i] == "sys") continue;
        INFO(commands[i]);
        check_same_lines(run.text(commands[i]), crash[i]);
      }

      auto ours = sys_fields(run.text("sys"));
      auto theirs = sys_fields(crash[6]);
      REQUIRE(theirs.size() == 13);
      for (const auto& [key, value] : theirs) {
        INFO(key << ": crash says " << value);
        REQUIRE(ours.count(key));
        if (key == "TASKS") {
          // Every task of facts.json and the idle task of each CPU.
          CHECK(ours[key] == std::to_string(dump.facts()["tasks"].size() + 2));
          CHECK(value == "4");
        } else if (key == "PANIC" && dump.scenario != "panic-qemu") {
          CHECK(ours[key] == "\"" + dump.facts()["oops_message"].get<std::string>() + "\"");
          CHECK(value == "\"Oops: 0002 [#1] SMP\" (check log for details)");
        } else if (key == "DUMPFILE" && dump.scenario == "panic-qemu") {
          CHECK(ours[key] == dump.files().front());
          CHECK(value == dump.files().front() + "  [PARTIAL DUMP]");
        } else {
          CHECK(ours[key] == value);
        }
      }
    }
  }
}

}  // namespace coroner::test
