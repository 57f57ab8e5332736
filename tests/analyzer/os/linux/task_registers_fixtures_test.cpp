// Where stack traces start, on every fixture dump: the task on each CPU,
// the crashing CPU, each task's CPU, and the registers of switched-out tasks
// (facts.json: drgn's cpu_current, console_crash, tasks).
#include "analyzer/os/linux/task_registers.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

TEST_CASE("cpu_states names the task facts.json saw on each online CPU, with the dump's registers",
          "[task_registers][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("cpu_current")) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      auto cpus = linux_kernel::cpu_states(*program);
      REQUIRE(cpus);
      for (const auto& [cpu, expected] : facts["cpu_current"].items()) {
        INFO("CPU " << cpu);
        const uint32_t number = static_cast<uint32_t>(std::stoul(cpu));
        auto state = std::find_if(cpus->begin(), cpus->end(), [&](const auto& s) { return s.cpu == number; });
        REQUIRE(state != cpus->end());
        CHECK(state->online);
        CHECK(state->task == hex_value(expected["task"]));
        REQUIRE(state->registers);
        // A kdump note names the task it interrupted; QEMU's names the vCPU.
        if (dump.scenario != "panic-qemu") CHECK(state->note_pid == expected["pid"]);
      }
    }
  }
}

TEST_CASE("crashed_cpu is the CPU of the oops or panic on the console", "[task_registers][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("console_crash")) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      auto cpu = linux_kernel::crashed_cpu(*program);
      REQUIRE(cpu);
      CHECK(*cpu == facts["console_crash"]["cpu"]);
    }
  }
}

TEST_CASE("task_cpu and switched-out registers of every task", "[task_registers][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      const bool arm64 = program->arch().machine() == Machine::aarch64;
      for (const auto& task : facts["tasks"]) {
        INFO("PID " << task["pid"]);
        const uint64_t address = hex_value(task["task"]);
        auto cpu = linux_kernel::task_cpu(*program, address);
        REQUIRE(cpu);
        CHECK(*cpu == task["cpu"]);
        auto frame = linux_kernel::task_start_frame(*program, address);
        REQUIRE(frame);
        // Running at the crash: on an online CPU (facts' cpu_current) or on
        // one the panic stopped (offline, but QEMU still saved its registers).
        auto cpus = linux_kernel::cpu_states(*program);
        REQUIRE(cpus);
        bool running = false;
        for (const auto& state : *cpus) running = running || (state.task == address && state.registers);
        if (facts.contains("cpu_current"))
          for (const auto& [c, current] : facts["cpu_current"].items())
            if (hex_value(current["task"]) == address) CHECK(running);
        if (running) {
          CHECK(frame->exact_pc);
          continue;
        }
        // A switched-out task resumes in the scheduler: x86_64 returns into
        // __schedule, arm64 into __switch_to.
        CHECK_FALSE(frame->exact_pc);
        auto where = program->describe_address(frame->lookup_pc());
        REQUIRE(where);
        CHECK(where->symbol->name == (arm64 ? "__switch_to" : "__schedule"));
        CHECK(frame->registers.get(program->arch().sp_register()) == frame->sp);
      }
    }
  }
}

}  // namespace coroner::test
