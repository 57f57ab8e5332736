// Kernel mode of the gdb stub: the dumped kernel as gdb sees a stopped
// multi-threaded program. Each task is a thread (each CPU's active task
// first), with the registers the dump saved for a running task and the
// switched-out ones of a sleeping task (what bt starts from); memory is
// kernel virtual memory (a user address through the selected thread's own
// page tables); vmlinux is placed by the KASLR slide (qOffsets) and each
// module with its .ko by the library list.
#pragma once

#include "analyzer/frontends/gdbstub/debug_target.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "analyzer/program.hpp"

#include <map>

namespace coroner::gdbstub {

// Reads memory page by page into out, through the kernel's page tables or
// those at `root`; how many bytes could be read before the first
// unreadable page (the DebugTarget::read_memory contract).
size_t read_readable_prefix(const Program& program, uint64_t address, std::span<std::byte> out,
                            std::optional<uint64_t> root);

class KernelTarget : public DebugTarget {
 public:
  // Reads the task list (an error only when there is none).
  static Expected<std::unique_ptr<KernelTarget>> open(const Program& program);

  const TargetDescription& description() const override { return description_; }
  const std::vector<RemoteThread>& threads() const override { return threads_; }
  uint64_t stop_thread() const override { return stop_thread_; }
  std::vector<std::optional<uint64_t>> registers(uint64_t thread) const override;
  size_t read_memory(uint64_t thread, uint64_t address, std::span<std::byte> out) const override;
  std::optional<std::string> offsets() const override;
  std::string libraries() const override { return libraries_; }

  // The thread id of a task: its PID, or for a CPU's idle task (PID 0)
  // kIdleThreadBase + its CPU (above any PID the kernel hands out).
  static constexpr uint64_t kIdleThreadBase = 0x400000 + 1;  // PID_MAX_LIMIT + 1
  static uint64_t thread_id(const linux_kernel::Task& task);

 private:
  explicit KernelTarget(const Program& program) : program_(program) {}

  const Program& program_;
  TargetDescription description_;
  std::vector<RemoteThread> threads_;
  std::map<uint64_t, linux_kernel::Task> tasks_;  // by thread id
  uint64_t stop_thread_ = 0;
  std::optional<uint64_t> first_segment_;  // vmlinux's first PT_LOAD p_vaddr
  std::string libraries_;  // made once: gdb reads it in pieces
};

}  // namespace coroner::gdbstub
