// Where a Linux task's stack trace starts: the registers the dump saved for
// the task running on each CPU (kdump's NT_PRSTATUS, written at the crash on
// the crashing CPU and by the stopping NMI/IPI on the others; QEMU's per-vCPU
// notes), else those the task saved when it was switched out (x86_64's
// inactive_task_frame at thread.sp, arm64's thread.cpu_context).
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/frame.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace coroner::linux_kernel {

struct CpuState {
  uint32_t cpu = 0;
  bool online = false;
  uint64_t task = 0;  // the task running there: per_cpu(runqueues, cpu).curr
  // The registers the dump holds for this CPU, if any (an offline CPU or a
  // dump without notes has none).
  std::optional<unwind::RegisterSet> registers;
  int32_t note_pid = -1;  // pr_pid of that note
};

// Every present CPU, in CPU order (a panic takes the others offline, but
// their registers may still be in the dump).
Expected<std::vector<CpuState>> cpu_states(const Program& program);

// The CPU that crashed: panic_cpu when a panic or crash_kexec set it; else
// nullopt.
std::optional<uint32_t> crashed_cpu(const Program& program);

// The CPU a task last ran on (task_struct.cpu, or thread_info.cpu on older
// kernels).
Expected<uint32_t> task_cpu(const Program& program, uint64_t task);

// The first frame of task's trace: its CPU's saved registers when it was
// running there at the crash, else its switched-out registers. Errors name
// the task and what could not be read.
Expected<unwind::PhysicalFrame> task_start_frame(const Program& program, uint64_t task);

}  // namespace coroner::linux_kernel
