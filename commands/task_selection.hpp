// Which tasks a per-task command (bt, foreach ...) works on: every task as
// crash counts them (the idle task of each CPU too), a task named by PID or
// task_struct address, and the task a bare `bt` shows.
#pragma once

#include "analyzer/os/linux/tasks.hpp"
#include "commands/command.hpp"

#include <string_view>
#include <vector>

namespace coroner::commands {

// Every task: the idle task of each CPU (init_task is CPU 0's; the others
// are only reachable through their runqueues), then the task list.
Expected<std::vector<linux_kernel::Task>> all_tasks(const Program& program);

// The task whose task_struct is at `address`, if it is one of all_tasks().
Expected<linux_kernel::Task> task_at(const Program& program, uint64_t address);

// A command argument naming one task: decimal digits are a PID, a hex
// number (0x..., or with hex letters) a task_struct address. The error is
// crash's "invalid task or pid value: ARG".
Expected<linux_kernel::Task> task_argument(const Program& program, std::string_view text);

// The task shown when none is named: the shell's `set` context, else the
// task running on the CPU that crashed, else on the first CPU.
Expected<linux_kernel::Task> default_task(const CommandContext& ctx);

// A command that foreach runs once over a list of tasks (bt ...). Its
// options are those words of the command line after its name.
struct PerTaskCommand {
  std::string_view name;
  Expected<void> (*run)(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks, const Arguments& options);
};

// bt's (bt.cpp).
PerTaskCommand bt_per_task_command();
// vm.cpp, files.cpp, sig.cpp
PerTaskCommand vm_per_task_command();
PerTaskCommand files_per_task_command();
PerTaskCommand sig_per_task_command();

}  // namespace coroner::commands
