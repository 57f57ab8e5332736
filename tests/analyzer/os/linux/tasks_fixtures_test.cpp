// The task model of every fixture dump against facts.json (drgn's tasks):
// every task with its PID, TGID, PPID, comm, CPU, address and state, plus
// each CPU's idle task, in crash's order; and the state bits of 6.1 read
// from the dump's task_state_array.
#include "analyzer/os/linux/task_memory.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace coroner::test {

namespace {

// facts.json has drgn's one-letter states (/proc's); crash's ST letters.
std::string crash_letters(const std::string& drgn) {
  static const std::map<std::string, std::string> letters = {{"R", "RU"}, {"S", "IN"}, {"D", "UN"}, {"I", "ID"},
                                                             {"T", "ST"}, {"t", "TR"}, {"Z", "ZO"}, {"X", "DE"},
                                                             {"P", "PA"}};
  return letters.at(drgn);
}

}  // namespace

TEST_CASE("the task list holds every task of facts.json and each CPU's idle task", "[tasks][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      auto list = linux_kernel::task_list(*program);
      REQUIRE(list);
      CHECK((*list)->skipped.empty());
      const auto& tasks = (*list)->tasks;
      std::map<int64_t, linux_kernel::Task> by_pid;
      std::vector<linux_kernel::Task> idle;
      for (const auto& t : tasks) {
        if (t.pid == 0) idle.push_back(t);
        else by_pid[t.pid] = t;
      }
      // crash's order: the idle tasks by CPU (every CPU's, an offline one's
      // too: facts.json lists online CPUs only), then by PID.
      size_t cpus = 0;
      for (const auto& t : facts["tasks"]) cpus = std::max<size_t>(cpus, t["cpu"].get<size_t>() + 1);
      REQUIRE(idle.size() == cpus);
      for (size_t cpu = 0; cpu < idle.size(); ++cpu) {
        CHECK(tasks[cpu].pid == 0);
        CHECK(tasks[cpu].idle);
        CHECK(tasks[cpu].cpu == cpu);
        CHECK(tasks[cpu].comm == fmt::format("swapper/{}", cpu));
        CHECK(tasks[cpu].kernel_thread());
      }
      CHECK(idle.front().address == hex_value(facts["symbols"]["init_task"]));
      CHECK(std::is_sorted(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; }));
      CHECK(tasks.size() == facts["tasks"].size() + idle.size());
      const linux_kernel::TaskStateBits& bits = linux_kernel::task_state_bits(*program);
      CHECK(bits.from_dump);
      for (const auto& expected : facts["tasks"]) {
        int64_t pid = expected["pid"];
        INFO("PID " << pid);
        REQUIRE(by_pid.count(pid));
        const auto& t = by_pid[pid];
        CHECK(t.comm == expected["comm"].get<std::string>());
        CHECK(t.tgid == expected["tgid"]);
        CHECK(t.ppid == expected["ppid"]);
        CHECK(t.cpu == expected["cpu"]);
        CHECK(t.address == hex_value(expected["task"]));
        CHECK(linux_kernel::state_letters(bits, t.state) == crash_letters(expected["state"]));
        CHECK(t.kernel_thread() == (t.mm == 0));
        auto memory = linux_kernel::task_memory(*program, t, **list);
        REQUIRE(memory);
        // Every user task here is a busybox process: some pages mapped.
        CHECK((memory->rss_pages > 0) == !t.kernel_thread());
        CHECK((memory->total_vm_pages > 0) == !t.kernel_thread());
      }
      auto sleeper = linux_kernel::find_task(*program, facts["tasks"].back()["pid"]);
      REQUIRE(sleeper);
      CHECK(linux_kernel::find_task(*program, 99999).error().code() == Errc::not_found);
      // A kernel thread has no user page tables, and says so.
      auto kthreadd = linux_kernel::find_task(*program, 2);
      REQUIRE(kthreadd);
      auto root = linux_kernel::user_page_table_root(*program, *kthreadd);
      REQUIRE_FALSE(root);
      CHECK_THAT(root.error().message(), Catch::Contains("kernel thread"));
    }
  }
}

TEST_CASE("state letters follow crash's rules on the 6.1 bits", "[tasks][state]") {
  linux_kernel::TaskStateBits bits;  // the values of 4.14+, which 6.1's task_state_array gives too
  CHECK(linux_kernel::state_letters(bits, 0) == "RU");
  CHECK(linux_kernel::state_letters(bits, 0x1) == "IN");
  CHECK(linux_kernel::state_letters(bits, 0x2001) == "IN");  // TASK_FREEZABLE | TASK_INTERRUPTIBLE
  CHECK(linux_kernel::state_letters(bits, 0x2) == "UN");
  CHECK(linux_kernel::state_letters(bits, 0x102) == "UN");   // TASK_KILLABLE
  CHECK(linux_kernel::state_letters(bits, 0x402) == "ID");   // TASK_IDLE
  CHECK(linux_kernel::state_letters(bits, 0x104) == "ST");   // TASK_STOPPED
  CHECK(linux_kernel::state_letters(bits, 0x8) == "TR");
  CHECK(linux_kernel::state_letters(bits, 0x20) == "ZO");    // exit_state EXIT_ZOMBIE
  CHECK(linux_kernel::state_letters(bits, 0x80 | 0x10) == "DE");
  CHECK(linux_kernel::state_letters(bits, 0x40) == "PA");
  CHECK(linux_kernel::state_letters(bits, 0x200) == "WA");
  CHECK(linux_kernel::state_letters(bits, 0x800) == "NE");
  CHECK(linux_kernel::state_names(bits, 0) == "TASK_RUNNING");
  CHECK(linux_kernel::state_names(bits, 0x402) == "TASK_UNINTERRUPTIBLE|TASK_NOLOAD");
  CHECK(linux_kernel::state_names(bits, 0x90) == "EXIT_DEAD|TASK_DEAD");
}

}  // namespace coroner::test
