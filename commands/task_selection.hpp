// Which tasks a per-task command (bt, ps, task, set, foreach ...) works on:
// a task named by PID or task_struct address, the task a bare command
// shows, the CPUs' active tasks, and crash's one-line task header.
#pragma once

#include "analyzer/os/linux/tasks.hpp"
#include "commands/command.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::commands {

// The task whose task_struct is at `address`: one of the task list, or,
// when the list could not be read whole, any readable task_struct there.
Expected<linux_kernel::Task> task_at(const Program& program, uint64_t address);

// A command argument naming one task: decimal digits are a PID, a hex
// number (0x..., or with hex letters) a task_struct address. The error is
// crash's "invalid task or pid value: ARG".
Expected<linux_kernel::Task> task_argument(const Program& program, std::string_view text);

// The task running on the CPU that crashed (panic_cpu), else on the first
// CPU: crash's panic task.
Expected<linux_kernel::Task> panic_task(const Program& program);

// The task shown when none is named: the shell's `set` context, else the
// panic task.
Expected<linux_kernel::Task> default_task(const CommandContext& ctx);

// The tasks named by `words` (PIDs, task_struct addresses), in order; with
// none, default_task().
Expected<std::vector<linux_kernel::Task>> named_tasks(const CommandContext& ctx, const std::vector<std::string>& words);

// The task_struct running on each present CPU (crash's ">" in ps).
Expected<std::set<uint64_t>> active_tasks(const Program& program);

// crash's task header: PID: 1        TASK: ffff...  CPU: 0    COMMAND: "init"
std::string task_header(const linux_kernel::Task& task);
// The same as JSON: {"pid", "task", "cpu", "command"}.
nlohmann::json task_header_json(const linux_kernel::Task& task);

// A command that foreach runs once over a list of tasks (bt ...). Its
// options are those words of the command line after its name.
struct PerTaskCommand {
  std::string_view name;
  Expected<void> (*run)(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks, const Arguments& options);
};

// bt's (bt.cpp), ps's (ps.cpp), task's (task.cpp).
PerTaskCommand bt_per_task_command();
PerTaskCommand ps_per_task_command();
PerTaskCommand task_per_task_command();
// vm.cpp, files.cpp, sig.cpp
PerTaskCommand vm_per_task_command();
PerTaskCommand files_per_task_command();
PerTaskCommand sig_per_task_command();

}  // namespace coroner::commands
