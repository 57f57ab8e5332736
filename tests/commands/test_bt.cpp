// bt against facts.json on every fixture dump: drgn's stack traces (names,
// inline frames included, in order, no extra frames), the console's call
// trace of the crash, and the panic path under QEMU's registers.
#include "tests/commands/command_runner.hpp"

#include <regex>
#include <set>

namespace coroner::test {

namespace {

// The names a frame answers to: its (DWARF) function and its ELF symbol.
bool frame_is(const nlohmann::json& frame, const std::string& name) {
  return frame["function"] == name || frame["symbol"] == name;
}

std::string describe(const nlohmann::json& frames) {
  std::string text;
  for (const auto& f : frames)
    text += fmt::format("  #{} {} ({}) pc {}{}{}\n", f["index"].get<size_t>(), f["function"].get<std::string>(),
                        f["symbol"].get<std::string>(), f["pc"].get<std::string>(), f["inlined"] ? " inlined" : "",
                        f["user"] ? " user" : f["exception"] ? " exception" : "");
  return text;
}

// drgn's trace, frame by frame: a name must be the frame's function, a bare
// hex value the frame's pc. Frames past drgn's end must be marked user or
// exception frames (drgn stops at some entry frames), never plain frames.
void check_against_drgn(const nlohmann::json& bt, const nlohmann::json& drgn_stack) {
  const nlohmann::json& frames = bt["frames"];
  INFO("PID " << bt["pid"] << " frames:\n" << describe(frames) << "drgn: " << drgn_stack.dump()
              << "\nstopped: " << bt["stopped"].dump());
  REQUIRE(frames.size() >= drgn_stack.size());
  for (size_t i = 0; i < drgn_stack.size(); ++i) {
    std::string expected = drgn_stack[i];
    INFO("frame " << i << ": drgn says " << expected);
    if (expected.starts_with("0x")) CHECK(hex_value(frames[i]["pc"]) == hex_value(drgn_stack[i]));
    else CHECK(frames[i]["function"] == expected);
  }
  for (size_t i = drgn_stack.size(); i < frames.size(); ++i) {
    INFO("frame " << i << " is beyond drgn's trace");
    CHECK((frames[i]["user"] || frames[i]["exception"]));
  }
}

// True when `names` appear in `frames` in this order (others may come between).
bool contains_in_order(const nlohmann::json& frames, const std::vector<std::string>& names) {
  size_t next = 0;
  for (const auto& f : frames)
    if (next < names.size() && frame_is(f, names[next])) ++next;
  return next == names.size();
}

int32_t pid_of_comm(const nlohmann::json& facts, const std::string& comm) {
  for (const auto& t : facts["tasks"])
    if (t["comm"] == comm) return t["pid"];
  FAIL("no task " << comm << " in facts.json");
  return -1;
}

bool has_tasks(const nlohmann::json& facts) { return facts.contains("tasks") && !facts["tasks"].empty(); }

}  // namespace

TEST_CASE("bt PID gives drgn's stack of every task of facts.json, inline frames included", "[facts][bt]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("task_stacks") || facts["task_stacks"].is_null()) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& [pid, task] : facts["task_stacks"].items()) {
        nlohmann::json bt = run.json("bt " + pid);
        CHECK(bt["pid"] == std::stoi(pid));
        CHECK(bt["command"] == task["comm"]);
        check_against_drgn(bt, task["stack"]);
      }
      const auto& crashed = facts["crashed_thread"];
      nlohmann::json bt = run.json(fmt::format("bt {}", crashed["pid"].get<int>()));
      check_against_drgn(bt, crashed["stack"]);
    }
  }
}

TEST_CASE("bt shows the crashing task, with the console's call trace or the panic path", "[facts][bt]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json bt = run.json("bt");
      INFO(describe(bt["frames"]) << "stopped: " << bt["stopped"].dump());
      CHECK(bt["pid"] == facts["console_crash"]["pid"]);
      CHECK(bt["cpu"] == facts["console_crash"]["cpu"]);
      if (dump.scenario == "panic-qemu") {
        // QEMU froze the CPU spinning in panic(): the trace runs through it.
        CHECK(contains_in_order(bt["frames"], {"panic", "fx_crash_level3", "fx_crash_level2", "fx_write"}));
      } else {
        CHECK(contains_in_order(bt["frames"], facts["console_call_trace"].get<std::vector<std::string>>()));
        CHECK(bt["frames"][0]["function"] == "fx_crash_level3");
      }
      CHECK(bt["stopped"].is_null());
    }
  }
}

TEST_CASE("foreach bt traces every task and bt -a each online CPU's active task", "[facts][bt][foreach]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json all = run.json("foreach bt");
      REQUIRE(all.is_array());
      size_t idle = 0;
      std::set<int> pids;
      for (const auto& bt : all) {
        INFO("PID " << bt["pid"] << " " << bt["command"] << ": " << bt.value("error", std::string()) << "\n"
                    << describe(bt["frames"]) << "stopped: " << bt["stopped"].dump());
        CHECK_FALSE(bt.contains("error"));
        CHECK(!bt["frames"].empty());
        CHECK(bt["stopped"].is_null());
        if (bt["pid"] == 0) ++idle;
        else pids.insert(bt["pid"].get<int>());
      }
      CHECK(idle >= 1);  // init_task, and each other CPU's idle task
      if (has_tasks(facts)) {
        CHECK(all.size() == facts["tasks"].size() + idle);
        std::set<int> expected;
        for (const auto& t : facts["tasks"]) expected.insert(t["pid"].get<int>());
        CHECK(pids == expected);
      }

      nlohmann::json active = run.json("bt -a");
      REQUIRE(active.is_array());
      if (facts.contains("online_cpus") && !facts["online_cpus"].is_null()) {
        REQUIRE(active.size() == facts["online_cpus"].size());
        for (size_t i = 0; i < active.size(); ++i) {
          int cpu = facts["online_cpus"][i];
          CHECK(active[i]["cpu"] == cpu);
          CHECK(hex_value(active[i]["task"]) == hex_value(facts["cpu_current"][std::to_string(cpu)]["task"]));
          CHECK(!active[i]["frames"].empty());
        }
      } else {
        CHECK(!active.empty());
      }
    }
  }
}

TEST_CASE("bt's options render what they promise", "[facts][bt]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!has_tasks(facts) || dump.scenario != "oops-kdump") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      std::string crashing = std::to_string(facts["console_crash"]["pid"].get<int>());
      std::string sleeper = std::to_string(pid_of_comm(facts, "fx_sleeper"));
      bool x86_64 = dump.arch_dir.find("x86_64") != std::string::npos;

      std::string text = run.text("bt " + crashing);
      CHECK_THAT(text, Catch::StartsWith(fmt::format("PID: {:<7}  TASK: ", crashing)));
      CHECK_THAT(text, Catch::Contains("COMMAND: \"init\""));
      CHECK(std::regex_search(text, std::regex(R"(\n #0 \[[0-9a-f]+\] fx_crash_level3 at [0-9a-f]+ \[fx_crash\]\n)")));
      CHECK(std::regex_search(text, std::regex(R"( #\d+ \[[0-9a-f]+\] pde_write at [0-9a-f]+ \(inlined\)\n)")));
      // The user-mode registers of the write(2) that led here.
      if (x86_64) CHECK(std::regex_search(text, std::regex(R"(ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b\n$)")));
      else CHECK(std::regex_search(text, std::regex(R"(SYSCALLNO: 40  PSTATE: [0-9a-f]{8}\n$)")));

      std::string lines = run.text("bt -l " + crashing);
      CHECK(std::regex_search(lines, std::regex(R"( fx_crash_level3 at [0-9a-f]+ \[fx_crash\]\n    \S*fx_crash\.c: \d+\n)")));

      std::string offsets = run.text("bt -s " + crashing);
      CHECK(std::regex_search(offsets, std::regex(R"( fx_crash_level2\+\d+ at [0-9a-f]+ \[fx_crash\])")));
      std::string hex = run.text("bt -sx " + crashing);
      CHECK(std::regex_search(hex, std::regex(R"( fx_crash_level2\+0x[0-9a-f]+ at [0-9a-f]+ \[fx_crash\])")));

      std::regex data_line(R"(\n    [0-9a-f]{16}: [0-9a-f]{16}[ \n])");
      std::string words = run.text("bt -f " + sleeper);
      CHECK(std::regex_search(words, data_line));
      std::string symbolic = run.text("bt -F " + sleeper);
      // The return address into kthread() sits in fx_sleep_deep's frame.
      CHECK(std::regex_search(symbolic, std::regex(R"(\n    [0-9a-f]{16}: .*kthread\+\d+)")));
      CHECK_FALSE(std::regex_search(words, std::regex(R"(\n    [0-9a-f]{16}: .*kthread\+\d+)")));
      nlohmann::json data = run.json("bt -f " + sleeper);
      bool any_data = false;
      for (const auto& f : data["frames"]) any_data = any_data || f.contains("data");
      CHECK(any_data);

      std::string scan = run.text("bt -t " + sleeper);
      CHECK_THAT(scan, Catch::Contains("stack scan"));
      CHECK(std::regex_search(scan, std::regex(R"(\n  \[[0-9a-f]+\] schedule at [0-9a-f]+\n)")));
      std::string full_scan = run.text("bt -T " + sleeper);
      CHECK(full_scan.size() >= scan.size());
      nlohmann::json scan_json = run.json("bt -T " + sleeper);
      CHECK(!scan_json["scan"]["hits"].empty());

      // By task address, as by PID.
      std::string address = facts["cpu_current"]["0"]["task"];
      nlohmann::json by_address = run.json("bt " + address);
      CHECK(by_address["pid"] == facts["cpu_current"]["0"]["pid"]);
      nlohmann::json on_cpu = run.json("bt -c 0");
      REQUIRE(on_cpu.size() == 1);
      CHECK(on_cpu[0]["task"] == by_address["task"]);
      CHECK(on_cpu[0]["frames"] == by_address["frames"]);
    }
  }
}

TEST_CASE("bt and foreach reject bad arguments with one line naming them", "[bt][foreach]") {
  const DumpCase& dump = all_dumps().front();
  CommandRunner run(dump);
  CHECK_THAT(run.failure("bt 99999"), Catch::Contains("99999"));
  CHECK_THAT(run.failure("bt zzz"), Catch::Contains("invalid task or pid value: zzz"));
  CHECK_THAT(run.failure("bt ffff888000000000"), Catch::Contains("ffff888000000000"));
  CHECK_THAT(run.failure("bt -q"), Catch::Contains("unknown option -q"));
  CHECK_THAT(run.failure("bt -c 7"), Catch::Contains("7"));
  CHECK_THAT(run.failure("bt -c x"), Catch::Contains("invalid CPU list: x"));
  CHECK_THAT(run.failure("bt -a 1"), Catch::Contains("-a/-c"));
  CHECK_THAT(run.failure("foreach"), Catch::Contains("no command given"));
  CHECK_THAT(run.failure("foreach nosuchtask bt"), Catch::Contains("nosuchtask"));
  CHECK_THAT(run.failure("foreach 99999 bt"), Catch::Contains("99999"));
  CHECK_THAT(run.failure("foreach bt -a"), Catch::Contains("display options"));
  for (const std::string& line : {"bt 99999", "bt -q", "foreach"}) {
    std::string message = run.failure(line);
    CHECK(message.find('\n') == std::string::npos);
    CHECK_THAT(message, Catch::StartsWith(line.substr(0, line.find(' ')) + ": "));
  }
}

TEST_CASE("foreach selects tasks by PID, name, kernel/user and active", "[facts][foreach]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!has_tasks(facts) || dump.variant != "d31") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      int sleeper = pid_of_comm(facts, "fx_sleeper");
      nlohmann::json by_pid = run.json(fmt::format("foreach {} bt", sleeper));
      REQUIRE(by_pid.size() == 1);
      CHECK(by_pid[0]["command"] == "fx_sleeper");
      nlohmann::json by_name = run.json("foreach fx_sleeper bt");
      REQUIRE(by_name.size() == 1);
      CHECK(by_name[0]["pid"] == sleeper);
      CHECK(by_name[0]["frames"] == by_pid[0]["frames"]);

      size_t sleeps = 0;
      for (const auto& t : facts["tasks"]) sleeps += t["comm"] == "sleep";
      CHECK(run.json("foreach sleep bt").size() == sleeps);

      nlohmann::json active = run.json("foreach active bt");
      CHECK(active.size() == facts["online_cpus"].size());
      nlohmann::json kernel = run.json("foreach kernel bt");
      nlohmann::json user = run.json("foreach user bt");
      nlohmann::json all = run.json("foreach bt");
      CHECK(kernel.size() + user.size() == all.size());
      for (const auto& bt : user) CHECK(bt["pid"] != 0);

      std::string text = run.text("foreach fx_sleeper bt -l");
      CHECK_THAT(text, Catch::Contains("fx_sleep_leaf at"));
      CHECK(std::regex_search(text, std::regex(R"(\n    \S*fx_crash\.c: \d+\n)")));
    }
  }
}

TEST_CASE("bt -l and bt -v without the vmlinux's DWARF say so in one line", "[bt][no-dwarf]") {
  // The fixture's vmlinux stripped of its DWARF (symbols and ORC stay).
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const fs::path stripped = cache_dir() / "bt-no-dwarf" / "vmlinux";
  if (!fs::exists(stripped)) {
    fs::create_directories(stripped.parent_path());
    run_command(fmt::format("objcopy --strip-debug {} {}", dump.vmlinux(), stripped.string()));
  }
  ProgramOptions options = program_options(dump);
  options.vmlinux = stripped.string();
  CommandRunner run(options, "the d31 dump with a vmlinux without DWARF");
  for (const auto& [flag, what] : {std::pair{"-l", "source lines"}, {"-v", "parameters and local variables"}}) {
    const std::string error = run.failure(fmt::format("bt {}", flag));
    INFO(error);
    CHECK_THAT(error, Catch::StartsWith(fmt::format("bt: {} need the vmlinux's DWARF: ", what)) &&
                          Catch::Contains(stripped.string()));
    CHECK(error.find('\n') == std::string::npos);
  }
}

}  // namespace coroner::test
