// runq on every fixture dump: each CPU's running task is facts.json's
// cpu_current (and the CPU the console says crashed runs the crashing
// task); the running and queued tasks together are the tasks in state R;
// the text next to crash 8.0.2's on the x86_64 dumps; options and errors.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

#include <set>

namespace coroner::test {

namespace {

std::set<int64_t> queued_pids(const nlohmann::json& cpu) {
  std::set<int64_t> pids;
  for (const char* kind : {"rt", "cfs", "dl"})
    for (const auto& task : cpu[kind])
      if (!task.contains("running")) pids.insert(task["pid"].get<int64_t>());
  return pids;
}

}  // namespace

TEST_CASE("runq shows each CPU's running task and the runnable tasks on every dump", "[runq][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json& facts = dump.facts();
      const nlohmann::json runq = run.json("runq");
      REQUIRE(runq["cpus"].size() >= 1);
      std::map<uint32_t, nlohmann::json> by_cpu;
      for (const auto& cpu : runq["cpus"]) {
        CHECK_FALSE(cpu.contains("errors"));
        by_cpu[cpu["cpu"].get<uint32_t>()] = cpu;
      }
      if (facts.contains("cpu_current")) {
        for (const auto& [cpu, task] : facts["cpu_current"].items()) {
          INFO("CPU " << cpu);
          const nlohmann::json& current = by_cpu.at(std::stoul(cpu))["current"];
          CHECK(current["pid"] == task["pid"]);
          CHECK(current["task"] == task["task"]);
          CHECK(current["command"] == task["comm"]);
        }
      }
      // The console names the CPU that crashed and the task it ran.
      const nlohmann::json& crashed = facts["console_crash"];
      CHECK(by_cpu.at(crashed["cpu"].get<uint32_t>())["current"]["pid"] == crashed["pid"]);
      if (facts.contains("tasks")) {
        std::set<int64_t> runnable, shown;
        for (const auto& task : facts["tasks"])
          if (task["state"] == "R" && task["pid"] != 0) runnable.insert(task["pid"].get<int64_t>());
        for (const auto& [cpu, queue] : by_cpu) {
          shown.insert(queue["current"]["pid"].get<int64_t>());
          for (int64_t pid : queued_pids(queue)) CHECK(shown.insert(pid).second);  // queued once
        }
        CHECK(shown == runnable);
      }

      const std::string text = run.text("runq");
      for (const auto& [cpu, queue] : by_cpu) {
        CHECK_THAT(text, Catch::Contains(fmt::format("CPU {} RUNQUEUE: {}\n  CURRENT: PID: {:<5}  TASK: {}  COMMAND: \"{}\"\n"
                                                     "  RT PRIO_ARRAY: {}\n",
                                                     cpu, queue["runqueue"].get<std::string>().substr(2),
                                                     queue["current"]["pid"].get<int64_t>(),
                                                     queue["current"]["task"].get<std::string>().substr(2),
                                                     queue["current"]["command"].get<std::string>(),
                                                     queue["rt_prio_array"].get<std::string>().substr(2))));
        for (const auto& task : queue["cfs"]) {
          if (task.contains("running")) {  // the CURRENT task, not queued
            CHECK(task["task"] == queue["current"]["task"]);
            continue;
          }
          CHECK_THAT(text, Catch::Contains(fmt::format("     [{:3}] PID: {:<5}  TASK: {}  COMMAND: \"{}\"\n",
                                                       task["prio"].get<int64_t>(), task["pid"].get<int64_t>(),
                                                       task["task"].get<std::string>().substr(2),
                                                       task["command"].get<std::string>())));
        }
      }
    }
  }
}

TEST_CASE("runq -c, -t, -m and -T", "[runq]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  const nlohmann::json one = run.json("runq -c 1");
  REQUIRE(one["cpus"].size() == 1);
  CHECK(one["cpus"][0]["cpu"] == 1);
  CHECK(one["cpus"][0]["current"]["pid"] == 42);
  CHECK_THAT(run.text("runq -c1"), Catch::StartsWith("CPU 1 RUNQUEUE: "));
  // The fixture kernels have no sched_info: last arrival 0, as crash prints.
  CHECK_THAT(run.text("runq -t"), Catch::Contains(" CPU 0: 4086253873\n        0000000000  PID: 1      TASK: "));
  CHECK_THAT(run.text("runq -m"), Catch::Contains(" CPU 1: [0 00:00:04.098]  PID: 42     TASK: "));
  CHECK(run.text("runq -T") == "  CPU 1: 0.00 secs\n  CPU 0: 0.01 secs\n");
  CHECK(run.json("runq -t")["cpus"][1]["clock"] == 4098028492);
}

TEST_CASE("runq rejects bad arguments with one line", "[runq][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("runq -x"), Catch::Contains("unknown option -x"));
  CHECK_THAT(run.failure("runq -c"), Catch::Contains("-c needs a CPU list"));
  CHECK_THAT(run.failure("runq -c zz"), Catch::Contains("invalid CPU list"));
  CHECK_THAT(run.failure("runq -c 0 -c 1"), Catch::Contains("only one -c"));
  CHECK_THAT(run.failure("runq 5"), Catch::Contains("unexpected argument"));
  // The fixture kernels have no FAIR_GROUP_SCHED: crash's answer.
  CHECK_THAT(run.failure("runq -g"), Catch::Contains("-g option not supported"));
}

// crash 8.0.2 finds only the CPUs' active tasks on these 6.1 kernels, so it
// leaves out the queued ones (docs/crash-differences.md); everything else
// is the same.
TEST_CASE("runq prints what crash 8.0.2 prints on the x86_64 dumps", "[runq][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"runq", "runq -t", "runq -m", "runq -T", "runq -c 1"};
      const std::vector<std::string> expected = crash_outputs(dump, commands);
      REQUIRE(expected.size() == commands.size());
      CommandRunner run(dump);
      std::set<std::string> active;
      for (const auto& cpu : run.json("runq")["cpus"]) active.insert(cpu["current"]["task"].get<std::string>().substr(2));
      for (size_t i = 0; i < commands.size(); ++i) {
        INFO(commands[i]);
        std::string ours;
        for (const std::string& line : lines_of(run.text(commands[i]))) {
          bool queued = line.starts_with("     [") && line.find("PID:") != std::string::npos;
          bool crash_knows = std::any_of(active.begin(), active.end(),
                                         [&](const std::string& task) { return line.find(task) != std::string::npos; });
          if (queued && !crash_knows) continue;
          ours += line + "\n";
        }
        // A CPU whose queued tasks crash dropped says it has none.
        std::string theirs;
        for (const std::string& line : lines_of(expected[i])) theirs += line + "\n";
        std::string ours_fixed;
        std::vector<std::string> lines = lines_of(ours);
        for (size_t j = 0; j < lines.size(); ++j) {
          ours_fixed += lines[j] + "\n";
          bool header = lines[j].starts_with("  CFS RB_ROOT") || lines[j].starts_with("  RT PRIO_ARRAY");
          bool empty_next = j + 1 == lines.size() || !lines[j + 1].starts_with("     ");
          if (header && empty_next) ours_fixed += "     [no tasks queued]\n";
        }
        check_same_lines(ours_fixed, theirs);
      }
    }
  }
}

}  // namespace coroner::test
