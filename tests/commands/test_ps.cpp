// ps, task, set and foreach on every fixture dump against facts.json, next
// to crash 8.0.2 on the x86_64 dumps (line by line on the tasks crash finds:
// 8.0.2 reads struct pid without its numbers[] flexible array on these
// 6.1.192 kernels and finds only the idle and active tasks, see
// docs/crash-differences.md), and with bad input.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

namespace coroner::test {

namespace {


std::string crash_letters(const std::string& drgn) {
  static const std::map<std::string, std::string> letters = {{"R", "RU"}, {"S", "IN"}, {"D", "UN"}, {"I", "ID"},
                                                             {"T", "ST"}, {"t", "TR"}, {"Z", "ZO"}, {"P", "PA"}};
  return letters.at(drgn);
}

}  // namespace

TEST_CASE("ps lists exactly the tasks of facts.json and the idle tasks, > on each CPU's current task", "[ps][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json ps = run.json("ps");
      CHECK_FALSE(ps.contains("skipped"));
      const auto& rows = ps["tasks"];
      // Every CPU has an idle task and an active one, an offline CPU too
      // (facts.json lists the online CPUs' current tasks only).
      size_t cpus = 0;
      for (const auto& t : facts["tasks"]) cpus = std::max<size_t>(cpus, t["cpu"].get<size_t>() + 1);
      REQUIRE(rows.size() == facts["tasks"].size() + cpus);
      std::set<std::string> current;
      for (const auto& [cpu, task] : facts["cpu_current"].items()) current.insert(task["task"]);
      size_t active = 0;
      std::map<int64_t, nlohmann::json> by_pid;
      size_t idle = 0;
      for (const auto& row : rows) {
        if (current.count(row["task"])) CHECK(row["active"]);
        active += row["active"].get<bool>();
        if (row["pid"] == 0) {
          CHECK(row["comm"] == fmt::format("swapper/{}", idle));
          CHECK(row["cpu"] == idle++);
        } else {
          by_pid[row["pid"]] = row;
        }
      }
      CHECK(active == cpus);
      for (const auto& expected : facts["tasks"]) {
        INFO("PID " << expected["pid"]);
        const auto& row = by_pid.at(expected["pid"]);
        CHECK(row["ppid"] == expected["ppid"]);
        CHECK(row["comm"] == expected["comm"]);
        CHECK(row["cpu"] == expected["cpu"]);
        CHECK(row["task"] == expected["task"]);
        CHECK(row["st"] == crash_letters(expected["state"]));
      }
      // The text: one line per task after the header, kernel threads in
      // brackets, ">" on the active ones.
      auto text = lines_of(run.text("ps"));
      REQUIRE(text.size() == rows.size() + 1);
      CHECK(text[0] == "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM");
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        std::string comm = row["kernel_thread"] ? "[" + row["comm"].get<std::string>() + "]" : row["comm"].get<std::string>();
        CHECK(text[i + 1].starts_with(row["active"] ? "> " : "  "));
        CHECK(text[i + 1].ends_with("  " + comm));
        CHECK(text[i + 1].find(row["task"].get<std::string>().substr(2)) != std::string::npos);
      }
      // Selections and filters.
      CHECK(run.json("ps -k")["tasks"].size() + run.json("ps -u")["tasks"].size() == rows.size());
      CHECK(run.json("ps -A")["tasks"].size() == cpus);
      CHECK(run.json("ps 1")["tasks"][0]["comm"] == "init");
      CHECK(run.json("ps 0")["tasks"].size() == cpus);
      CHECK(run.json("ps " + facts["tasks"][1]["task"].get<std::string>())["tasks"][0]["pid"] == facts["tasks"][1]["pid"]);
      const std::string sleeper = facts["tasks"].back()["comm"];
      const nlohmann::json named = run.json("ps " + sleeper);
      for (const auto& row : named["tasks"]) CHECK(row["comm"] == sleeper);
      size_t counted = 0;
      const nlohmann::json summary = run.json("ps -S");
      for (const auto& [state, count] : summary["summary"].items()) counted += count.get<size_t>();
      CHECK(counted == rows.size());
      // foreach: state filters, ps and task as subcommands.
      size_t idle_tasks = 0;
      for (const auto& row : rows) idle_tasks += row["st"] == "ID";
      CHECK(run.json("foreach ID ps")["tasks"].size() == idle_tasks);
      CHECK(run.json("foreach kernel ps")["tasks"].size() == run.json("ps -k")["tasks"].size());
      auto pids = run.json("foreach init task -R pid");
      for (const auto& entry : pids) CHECK(entry["task_struct"]["pid"] == entry["pid"]);
    }
  }
}

TEST_CASE("ps views: parents, children, thread groups, times, rlimits", "[ps]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  auto parents = lines_of(run.text("ps -p 42"));
  REQUIRE(parents.size() == 4);
  CHECK(parents[0].starts_with("PID: 0        TASK: "));
  CHECK(parents[1].starts_with(" PID: 1        TASK: "));
  CHECK(parents[2].starts_with("  PID: 42       TASK: "));
  auto children = run.json("ps -c 2")["tasks"][0]["children"];
  size_t kthreads = 0;
  for (const auto& task : dump.facts()["tasks"]) kthreads += task["ppid"] == 2;
  CHECK(children.size() == kthreads);
  CHECK(run.text("ps -g 1").find("  (no threads)\n") != std::string::npos);
  auto times = run.json("ps -t 1")["tasks"][0];
  CHECK(times["start time"].get<uint64_t>() > 0);
  auto rlimits = run.json("ps -r 1")["tasks"][0]["rlimits"];
  REQUIRE(rlimits.size() == 16);
  CHECK(rlimits[7]["rlimit"] == "NOFILE");
  CHECK(run.failure("ps -l") == "ps: last-run timestamps do not exist in this kernel");
  CHECK_THAT(run.failure("ps -u -k"), Catch::Contains("mutually exclusive"));
  CHECK_THAT(run.failure("ps -p -c"), Catch::Contains("mutually-exclusive"));
}

TEST_CASE("ps, task and set print what crash 8.0.2 prints for the tasks crash finds", "[ps][task][set][crash]") {
  if (!crash_installed()) return;
  for (const char* id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      CommandRunner run(dump);
      // The task active on CPU 1 (offline in the QEMU dump, still active).
      const nlohmann::json active = run.json("ps -A");
      const std::string second = std::to_string(active["tasks"][1]["pid"].get<int>());
      const std::string swapper1 = run.json("ps 0")["tasks"][1]["task"].get<std::string>().substr(2);
      // Whole outputs: these only name tasks crash 8.0.2 finds (the idle and
      // active ones). The set commands change the context in both sessions.
      const std::vector<std::string> exact = {
          "ps -p " + second, "ps -g 1", "ps -r 1", "ps 0", "ps " + swapper1, "ps -t 1",
          "set",  "set -c 1", "set 0", "set -p", "set " + second, "task -R pid,comm,se.on_rq " + second,
          "task " + second, "task -x -R prio,flags 1",
      };
      // Tables whose every crash line must be one of ours (crash lists a
      // subset of the tasks); the RSS and %MEM of user tasks excepted:
      // crash 8.0.2 leaves out MM_SHMEMPAGES (busybox runs from the
      // initramfs, a shmem file system).
      const std::vector<std::string> tables = {"ps", "ps -s", "ps -k", "ps -u", "ps -A", "ps -s 1"};
      const std::vector<std::string> subset = {"foreach RU task -R pid"};
      std::vector<std::string> commands = exact;
      commands.insert(commands.end(), tables.begin(), tables.end());
      commands.insert(commands.end(), subset.begin(), subset.end());
      const std::vector<std::string> expected = crash_outputs(dump, commands);
      REQUIRE(expected.size() == commands.size());
      for (size_t i = 0; i < exact.size(); ++i) {
        INFO(exact[i]);
        std::string ours = run.text(exact[i]);
        if (exact[i] != "task " + second) {
          CHECK(ours == expected[i]);
          continue;
        }
        // The whole task_struct: gdb stops a char array at 200 characters
        // ("..."), and shows the flexible extended_state_area[] of the FPU
        // state as a pointer; coroner shows the bytes (crash-differences.md).
        auto our_lines = lines_of(ours), their_lines = lines_of(expected[i]);
        REQUIRE(our_lines.size() == their_lines.size());
        for (size_t j = 0; j < our_lines.size(); ++j) {
          if (their_lines[j].find("__padding = ") != std::string::npos ||
              their_lines[j].find("extended_state_area = ") != std::string::npos)
            continue;
          INFO("line " << j);
          CHECK(our_lines[j] == their_lines[j]);
        }
      }
      // A table line with %MEM and RSS masked for user tasks (VSZ not 0).
      auto masked = [](const std::string& line) {
        std::istringstream in(line);
        std::vector<std::string> words{std::istream_iterator<std::string>(in), {}};
        size_t first = !words.empty() && words[0] == ">" ? 1 : 0;
        if (words.size() >= first + 9 && words[first + 6] != "0") words[first + 5] = words[first + 7] = "*";
        return words;
      };
      for (size_t i = 0; i < tables.size(); ++i) {
        INFO(tables[i]);
        auto ours = lines_of(run.text(tables[i]));
        auto theirs = lines_of(expected[exact.size() + i]);
        REQUIRE(theirs.size() >= 2);
        CHECK(ours.front() == theirs.front());  // the header
        std::set<std::vector<std::string>> rows;
        for (const std::string& line : ours) rows.insert(masked(line));
        for (const std::string& line : theirs) {
          INFO(line);
          CHECK(rows.count(masked(line)));
        }
      }
      for (size_t i = 0; i < subset.size(); ++i) {
        INFO(subset[i]);
        std::string ours = run.text(subset[i]);
        auto theirs = lines_of(expected[exact.size() + tables.size() + i]);
        REQUIRE_FALSE(theirs.empty());
        for (const std::string& line : theirs) {
          INFO(line);
          CHECK(ours.find(line + "\n") != std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("ps, task, set and foreach refuse bad input in one line and the next command works", "[ps][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ps 99999999999999999999", "invalid task or pid value: 99999999999999999999"},
      {"ps 123456", "invalid task or pid value: 123456"},
      {"foreach 0xzz bt", "invalid task address: 0xzz"},
      {"foreach 99999999999999999999 bt", "invalid PID"},
      {"foreach init", "no command given"},
      {"task -R nosuch", "nosuch"},
      {"task ffffffffffff0000", "invalid task or pid value: ffffffffffff0000"},
      {"bt 0xffffffffffff0000", "invalid task or pid value: 0xffffffffffff0000"},
      {"set 0xdead0000dead", "invalid task or pid value"},
      {"set -c 7", "invalid cpu number: 7"},
      {"set scroll", "internal variables"},
      {"ps -q", "unknown option -q"},
  };
  for (const auto& [line, message] : cases) {
    INFO(line);
    std::string error = run.failure(line);
    CHECK_THAT(error, Catch::Contains(message));
    CHECK(error.find('\n') == std::string::npos);
    CHECK(run.json("ps 1")["tasks"][0]["pid"] == 1);
  }
}

}  // namespace coroner::test
