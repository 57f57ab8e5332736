// ps and bt on a filtered dump that lost part of the task lists: a copy of
// x86_64 d31 in which two pages are excluded the way makedumpfile excludes
// a page (its bit cleared in the dumpable bitmap, its page descriptor
// taken out): the page of one process's signal_struct (its thread list
// head) and the page of another task's tasks list_head (the task list
// breaks there). ps lists every task it can still reach and names what it
// skipped; bt of a readable task works; the lost task gives a one-line error.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/dump_editor.hpp"

#include <set>

namespace coroner::test {

namespace {

uint64_t read_member(Program& program, uint64_t address, std::string_view member) {
  auto offset = program.member_offset("struct task_struct", member);
  REQUIRE(offset);
  auto value = program.memory().read_u64(address + *offset);
  REQUIRE(value);
  return *value;
}

uint64_t pfn_of(Program& program, uint64_t address) {
  auto physical = program.memory().to_physical(address);
  REQUIRE(physical);
  return *physical / program.arch().page_size();
}

}  // namespace

TEST_CASE("ps goes on past unreadable pages of the task lists and names them, bt still works", "[ps][damaged]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const auto& facts = dump.facts();
  auto intact = open_program(dump);
  std::set<std::string> current;
  for (const auto& [cpu, task] : facts["cpu_current"].items()) current.insert(task["task"]);

  // The victims: a user process's signal_struct, and the middle task that
  // runs on no CPU.
  const nlohmann::json* sleeper = nullptr;
  for (const auto& t : facts["tasks"])
    if (t["comm"] == "sleep" && !sleeper) sleeper = &t;
  REQUIRE(sleeper);
  const nlohmann::json* lost = &facts["tasks"][facts["tasks"].size() / 2];
  REQUIRE_FALSE(current.count((*lost)["task"]));
  const uint64_t signal = read_member(*intact, hex_value((*sleeper)["task"]), "signal");
  const uint64_t lost_task = hex_value((*lost)["task"]);
  auto tasks_offset = intact->member_offset("struct task_struct", "tasks");
  auto task_size = intact->type_size("struct task_struct");
  REQUIRE(tasks_offset);
  REQUIRE(task_size);
  const uint64_t page_size = intact->arch().page_size();
  const uint64_t signal_pfn = pfn_of(*intact, signal);
  const uint64_t list_pfn = pfn_of(*intact, lost_task + *tasks_offset);
  const uint64_t list_page = (lost_task + *tasks_offset) & ~(page_size - 1);

  DumpEditor editor(dump, *intact);
  editor.exclude_page(signal_pfn);
  editor.exclude_page(list_pfn);
  ProgramOptions options = program_options(dump);
  options.dumps = {editor.save("d31-lost-task-pages")};
  CommandRunner run(options, "d31 with two task pages excluded");
  const nlohmann::json ps = run.json("ps");
  REQUIRE(ps.contains("skipped"));
  std::string skipped;
  for (const auto& line : ps["skipped"]) skipped += line.get<std::string>() + "\n";
  INFO(skipped);
  CHECK_THAT(skipped, Catch::Contains(fmt::format("signal_struct {:#x}", signal)));
  CHECK_THAT(skipped, Catch::Contains("thread_group"));
  CHECK_THAT(skipped, Catch::Contains(fmt::format("task_struct {:#x}", lost_task)));
  CHECK_THAT(skipped, Catch::Contains("backward"));

  std::set<std::string> listed;
  for (const auto& row : ps["tasks"]) listed.insert(row["task"]);
  CHECK_FALSE(listed.count((*lost)["task"]));
  for (const auto& t : facts["tasks"]) {
    uint64_t address = hex_value(t["task"]);
    bool overlaps = address < list_page + page_size && list_page < address + *task_size;
    if (overlaps) continue;  // a task_struct that shares the excluded page may be lost with it
    INFO("PID " << t["pid"]);
    CHECK(listed.count(t["task"]));
  }
  // The text names them too, before the table.
  const std::string text = run.text("ps");
  CHECK(text.starts_with("WARNING: "));
  CHECK_THAT(text, Catch::Contains(fmt::format("task_struct {:#x}", lost_task)));

  // bt of readable tasks (one before the break, one after, the sleeper
  // whose thread list head is gone), and a one-line error for the lost one.
  for (const nlohmann::json* t : {&facts["tasks"][0], &facts["tasks"].back(), sleeper}) {
    INFO("bt " << (*t)["pid"]);
    CHECK_THAT(run.text(fmt::format("bt {}", (*t)["pid"].get<int>())), Catch::Contains(" #0 ["));
  }
  std::string error = run.failure(fmt::format("bt {:#x}", lost_task));
  CHECK_THAT(error, Catch::Contains("excluded"));
  CHECK(error.find('\n') == std::string::npos);
  CHECK_THAT(run.failure(fmt::format("bt {}", (*lost)["pid"].get<int>())), Catch::Contains("no such PID"));
}

}  // namespace coroner::test
