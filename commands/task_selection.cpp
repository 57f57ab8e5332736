#include "commands/task_selection.hpp"

#include "analyzer/os/linux/task_registers.hpp"
#include "commands/arguments.hpp"

#include <algorithm>

namespace coroner::commands {

Expected<linux_kernel::Task> task_at(const Program& program, uint64_t address) {
  CORONER_TRY(list, linux_kernel::task_list(program));
  for (const linux_kernel::Task& t : list->tasks)
    if (t.address == address) return t;
  if (list->skipped.empty())
    return make_error(Errc::not_found, "{:#x} is not a task_struct of the task list or a CPU's idle task", address);
  // Part of the list is out of reach: the task may be behind the break.
  auto task = linux_kernel::read_task(program, address);
  if (!task) return task.error().context(fmt::format("task_struct {:#x} (not in the readable part of the task list)", address));
  return task;
}

Expected<linux_kernel::Task> task_argument(const Program& program, std::string_view text) {
  bool decimal = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (decimal) {
    auto pid = parse_pid(text);
    if (!pid) return make_error(Errc::invalid_argument, "invalid task or pid value: {} (out of range)", text);
    auto task = linux_kernel::find_task(program, *pid);
    if (!task) return make_error(Errc::not_found, "invalid task or pid value: {} (no such PID)", text);
    return task;
  }
  std::string_view digits = text.starts_with("0x") || text.starts_with("0X") ? text.substr(2) : text;
  bool hex = !digits.empty() && digits.size() <= 16 &&
             std::all_of(digits.begin(), digits.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!hex) return make_error(Errc::invalid_argument, "invalid task or pid value: {}", text);
  auto address = parse_uint(digits, 16);
  if (!address) return make_error(Errc::invalid_argument, "invalid task or pid value: {}", text);
  auto task = task_at(program, *address);
  if (!task) return make_error(Errc::not_found, "invalid task or pid value: {} ({})", text, task.error().message());
  return task;
}

Expected<linux_kernel::Task> panic_task(const Program& program) {
  CORONER_TRY(cpus, linux_kernel::cpu_states(program));
  if (cpus.empty()) return make_error(Errc::not_found, "no CPU found to take the running task from");
  std::optional<uint32_t> crashed = linux_kernel::crashed_cpu(program);
  const linux_kernel::CpuState* chosen = &cpus.front();
  for (const auto& cpu : cpus)
    if (crashed && cpu.cpu == *crashed) chosen = &cpu;
  return task_at(program, chosen->task);
}

Expected<linux_kernel::Task> default_task(const CommandContext& ctx) {
  if (ctx.current_task) return task_at(ctx.program, *ctx.current_task);
  if (ctx.current_pid) return linux_kernel::find_task(ctx.program, *ctx.current_pid);
  return panic_task(ctx.program);
}

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

Expected<std::set<uint64_t>> active_tasks(const Program& program) {
  CORONER_TRY(cpus, linux_kernel::cpu_states(program));
  std::set<uint64_t> active;
  for (const auto& cpu : cpus) active.insert(cpu.task);
  return active;
}

std::string task_header(const linux_kernel::Task& task) {
  return fmt::format("PID: {:<7}  TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"", task.pid, task.address, task.cpu, task.comm);
}

nlohmann::json task_header_json(const linux_kernel::Task& task) {
  return {{"pid", task.pid}, {"task", fmt::format("{:#x}", task.address)}, {"cpu", task.cpu}, {"command", task.comm}};
}

}  // namespace coroner::commands
