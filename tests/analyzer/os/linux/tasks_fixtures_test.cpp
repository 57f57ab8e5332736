// The task list of every fixture dump against facts.json (drgn's tasks).
#include "analyzer/os/linux/tasks.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace coroner::test {

TEST_CASE("list_tasks finds every task of facts.json with its PID, TGID, comm and address", "[tasks][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      auto program = Program::open(program_options(dump));
      REQUIRE(program);
      auto tasks = linux_kernel::list_tasks(**program);
      REQUIRE(tasks);
      std::map<int, linux_kernel::Task> by_pid;
      for (const auto& t : *tasks) by_pid[t.pid] = t;
      CHECK(tasks->front().pid == 0);  // init_task first
      CHECK(tasks->size() == facts["tasks"].size() + 1);
      for (const auto& expected : facts["tasks"]) {
        int pid = expected["pid"];
        INFO("PID " << pid);
        REQUIRE(by_pid.count(pid));
        const auto& t = by_pid[pid];
        CHECK(t.comm == expected["comm"]);
        CHECK(t.tgid == expected["tgid"]);
        CHECK(t.address == hex_value(expected["task"]));
      }
      auto sleeper = linux_kernel::find_task(**program, facts["tasks"].back()["pid"]);
      REQUIRE(sleeper);
      CHECK(linux_kernel::find_task(**program, 99999).error().code() == Errc::not_found);
      // A kernel thread has no user page tables, and says so.
      auto kthreadd = linux_kernel::find_task(**program, 2);
      REQUIRE(kthreadd);
      auto root = linux_kernel::user_page_table_root(**program, *kthreadd);
      REQUIRE_FALSE(root);
      CHECK_THAT(root.error().message(), Catch::Contains("kernel thread"));
    }
  }
}

}  // namespace coroner::test
