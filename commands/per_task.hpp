// What crash's per-task commands (bt, vm, files, sig) share: the tasks a
// command line names, and the line each task's output starts with.
#pragma once

#include "analyzer/os/linux/tasks.hpp"
#include "commands/command.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace coroner::commands {

// The tasks named by `words` (PIDs, task_struct addresses), in order; with
// none, the default task (the `set` context, else the crashed CPU's task).
Expected<std::vector<linux_kernel::Task>> named_tasks(const CommandContext& ctx, const std::vector<std::string>& words);

// The task's CPU (task_struct.cpu), or nullopt when it cannot be read.
std::optional<uint32_t> cpu_of(const Program& program, const linux_kernel::Task& task);

// PID: 1        TASK: ffff...  CPU: 0    COMMAND: "init"   (newline included;
// CPU "?" when unknown).
std::string task_header_text(const linux_kernel::Task& task, std::optional<uint32_t> cpu);

// {"pid", "task", "cpu", "command"}.
nlohmann::json task_header_json(const linux_kernel::Task& task, std::optional<uint32_t> cpu);

}  // namespace coroner::commands
