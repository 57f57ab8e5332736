#include "analyzer/os/linux/task_registers.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/linux_kernel.hpp"
#include "analyzer/os/linux/system_info.hpp"

#include <algorithm>

namespace coroner::linux_kernel {

namespace {

Expected<uint64_t> running_task(const GlobalObject& runqueues, uint32_t cpu) {
  CORONER_TRY(rq, per_cpu(runqueues, cpu));
  CORONER_TRY(curr, rq.member("curr"));
  return curr.read_unsigned();
}

int32_t task_pid(const Program& program, uint64_t task) {
  auto offset = program.member_offset("struct task_struct", "pid");
  if (!offset) return -1;
  auto pid = program.memory().read_value<int32_t>(task + *offset);
  return pid ? *pid : -1;
}

// Assigns the dump's NT_PRSTATUS notes to CPUs. Notes follow CPU order but
// skip CPUs that saved none; a kdump note's pr_pid names the task it
// interrupted, so a note goes to the next CPU running that PID. QEMU writes
// one note per vCPU with a vCPU number for pid, in order.
void attach_notes(const Program& program, std::vector<CpuState>& cpus) {
  std::vector<PrStatus> notes = program.dump().prstatus();
  if (notes.size() == cpus.size()) {
    for (size_t i = 0; i < notes.size(); ++i) {
      cpus[i].registers = unwind::RegisterSet::from_values(notes[i].gregs);
      cpus[i].note_pid = notes[i].pid;
    }
    return;
  }
  size_t next = 0;
  for (const PrStatus& note : notes)
    for (size_t i = next; i < cpus.size(); ++i)
      if (task_pid(program, cpus[i].task) == note.pid) {
        cpus[i].registers = unwind::RegisterSet::from_values(note.gregs);
        cpus[i].note_pid = note.pid;
        next = i + 1;
        break;
      }
}

Expected<std::vector<CpuState>> read_cpu_states(const Program& program) {
  CORONER_TRY(present, read_cpu_mask(program, "__cpu_present_mask"));
  auto online = read_cpu_mask(program, "__cpu_online_mask");
  CORONER_TRY(runqueues, find_global(program, "runqueues"));
  std::vector<CpuState> cpus;
  for (int cpu : present) {
    CpuState state;
    state.cpu = static_cast<uint32_t>(cpu);
    state.online = online && std::find(online->begin(), online->end(), cpu) != online->end();
    auto task = running_task(runqueues, state.cpu);
    if (!task) return task.error().context(fmt::format("the task running on CPU {}", cpu));
    state.task = *task;
    cpus.push_back(std::move(state));
  }
  attach_notes(program, cpus);
  return cpus;
}

}  // namespace

Expected<std::vector<CpuState>> cpu_states(const Program& program) {
  // The dump does not change: read once per program.
  struct Cached {
    Expected<std::vector<CpuState>> states;
  };
  return program.extension<Cached>([&] { return new Cached{read_cpu_states(program)}; }).states;
}

std::optional<uint32_t> crashed_cpu(const Program& program) {
  auto panic_cpu = global_object(program, "panic_cpu");
  if (!panic_cpu) return std::nullopt;
  auto counter = panic_cpu->member("counter");
  if (!counter) return std::nullopt;
  auto cpu = counter->read_signed();
  if (!cpu || *cpu < 0) return std::nullopt;
  return static_cast<uint32_t>(*cpu);
}

Expected<uint32_t> task_cpu(const Program& program, uint64_t task) {
  // 5.16 moved the CPU from thread_info to task_struct.
  CORONER_TRY(in_task, program.debug_info());
  CORONER_TRY(has_cpu, in_task->has_member("struct task_struct", "cpu"));
  CORONER_TRY(offset, program.member_offset("struct task_struct", has_cpu ? "cpu" : "thread_info.cpu"));
  return program.memory().read_u32(task + offset);
}

Expected<unwind::PhysicalFrame> task_start_frame(const Program& program, uint64_t task) {
  CORONER_TRY(cpus, cpu_states(program));
  for (const CpuState& cpu : cpus)
    if (cpu.task == task && cpu.registers) {
      const arch::Arch& arch = program.arch();
      unwind::PhysicalFrame frame;
      frame.registers = *cpu.registers;
      frame.pc = cpu.registers->get(arch.pc_register()).value_or(0);
      frame.sp = cpu.registers->get(arch.sp_register()).value_or(0);
      frame.exact_pc = true;
      // A CPU interrupted in user space has no kernel frames to show.
      frame.user_mode = arch.is_user_address(frame.pc);
      return frame;
    }
  CORONER_TRY(kernel, kernel_model(program));
  auto frame = kernel->arch().switched_out_frame(program, task);
  if (!frame) return frame.error().context(fmt::format("registers of task {:#x}", task));
  return frame;
}

}  // namespace coroner::linux_kernel
