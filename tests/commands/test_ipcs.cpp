// ipcs: on the fixture kernels (tinyconfig, no CONFIG_SYSVIPC) a one-line
// error; on the distro-kernel dump of bench/symbols (SYSVIPC, no objects)
// the three empty tables, line by line as crash 8.0.2 prints them; bad
// arguments.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

namespace {

// Made by bench/symbols/make_dump.sh, kept outside git.
const fs::path kDistroDir = "/work/cache/bench-symbols";

}  // namespace

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

TEST_CASE("ipcs on the distro kernel's dump: its empty tables as crash 8.0.2 prints them", "[ipcs][crash]") {
  const fs::path vmlinux = kDistroDir / "vmlinux", dump = kDistroDir / "dump" / "vmcore.elf-paging";
  if (!fs::exists(vmlinux) || !fs::exists(dump)) {
    WARN("no distro-kernel dump at " << kDistroDir << ": skipped");
    return;
  }
  ProgramOptions options;
  options.vmlinux = vmlinux.string();
  options.dumps = {dump.string()};
  options.cache_dir = (cache_dir() / "coroner").string();
  options.os_model = linux_kernel::open_linux_kernel;
  CommandRunner run(options, "distro dump");
  const nlohmann::json doc = run.json("ipcs");
  for (const char* kind : {"shared_memory", "semaphores", "message_queues"}) {
    REQUIRE(doc.contains(kind));
    CHECK(doc[kind].empty());
  }
  CHECK_FALSE(doc.contains("errors"));
  if (!crash_installed()) return;
  const std::vector<std::string> commands = {"ipcs", "ipcs -s", "ipcs -m", "ipcs -q", "ipcs -q -m"};
  std::string script;
  for (const std::string& c : commands) script += c + "\np 0x5eed5eed5eed\n";
  const fs::path input = cache_dir() / fmt::format("ipcs_crash.{}.in", getpid());
  std::ofstream(input) << script << "q\n";
  const std::string text = run_command("timeout 600 crash -s " + vmlinux.string() + " " + dump.string() + " < " +
                                       input.string() + " 2>/dev/null || true");
  std::vector<std::string> outputs(1);
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with("$") && line.ends_with(" = 104373592874733")) outputs.emplace_back();
    else if (!line.starts_with("WARNING: active task") && !(line.empty() && outputs.back().empty())) outputs.back() += line + "\n";
  }
  REQUIRE(outputs.size() == commands.size() + 1);
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    check_same_lines(run.text(commands[i]), outputs[i]);
  }
}

}  // namespace coroner::test
