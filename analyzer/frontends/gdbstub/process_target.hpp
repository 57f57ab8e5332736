// Process mode of the gdb stub (--pid N): one user process of the dump as
// gdb sees a stopped process. Its threads (the tasks of its thread group),
// each with the user-mode registers saved at its kernel entry (the pt_regs
// that ends its kernel stack, where bt shows them), and memory through the
// process's own page tables.
#pragma once

#include "analyzer/frontends/gdbstub/debug_target.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "analyzer/program.hpp"

#include <map>
#include <memory>

namespace coroner::gdbstub {

class ProcessTarget : public DebugTarget {
 public:
  // The process of task `pid` (any of its threads); an error for a kernel
  // thread or an unknown PID.
  static Expected<std::unique_ptr<ProcessTarget>> open(const Program& program, int64_t pid);

  const TargetDescription& description() const override { return description_; }
  const std::vector<RemoteThread>& threads() const override { return threads_; }
  uint64_t stop_thread() const override { return stop_thread_; }
  std::vector<std::optional<uint64_t>> registers(uint64_t thread) const override;
  size_t read_memory(uint64_t thread, uint64_t address, std::span<std::byte> out) const override;
  // A process is not relocated as a whole: gdb takes its addresses as they are.
  std::optional<std::string> offsets() const override { return std::nullopt; }
  std::string libraries() const override { return "<library-list/>\n"; }
  // mm->saved_auxv, what the kernel gave the process at exec.
  std::optional<std::string> auxv() const override;

 private:
  explicit ProcessTarget(const Program& program) : program_(program) {}

  const Program& program_;
  TargetDescription description_;
  std::vector<RemoteThread> threads_;
  std::map<uint64_t, linux_kernel::Task> tasks_;  // by PID
  uint64_t stop_thread_ = 0;
};

}  // namespace coroner::gdbstub
