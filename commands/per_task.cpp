#include "commands/per_task.hpp"

#include "analyzer/os/linux/task_registers.hpp"
#include "commands/task_selection.hpp"

namespace coroner::commands {

Expected<std::vector<linux_kernel::Task>> named_tasks(const CommandContext& ctx, const std::vector<std::string>& words) {
  std::vector<linux_kernel::Task> tasks;
  if (words.empty()) {
    CORONER_TRY(task, default_task(ctx));
    tasks.push_back(std::move(task));
  }
  for (const std::string& word : words) {
    CORONER_TRY(task, task_argument(ctx.program, word));
    tasks.push_back(std::move(task));
  }
  return tasks;
}

std::optional<uint32_t> cpu_of(const Program& program, const linux_kernel::Task& task) {
  auto cpu = linux_kernel::task_cpu(program, task.address);
  return cpu ? std::optional(*cpu) : std::nullopt;
}

std::string task_header_text(const linux_kernel::Task& task, std::optional<uint32_t> cpu) {
  return fmt::format("PID: {:<7}  TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"\n", task.pid, task.address,
                     cpu ? std::to_string(*cpu) : std::string("?"), task.comm);
}

nlohmann::json task_header_json(const linux_kernel::Task& task, std::optional<uint32_t> cpu) {
  return {{"pid", task.pid},
          {"task", fmt::format("{:#x}", task.address)},
          {"cpu", cpu ? nlohmann::json(*cpu) : nlohmann::json(nullptr)},
          {"command", task.comm}};
}

}  // namespace coroner::commands
