#include "commands/task_selection.hpp"

#include "analyzer/object.hpp"
#include "commands/arguments.hpp"
#include "analyzer/os/linux/task_registers.hpp"

#include <algorithm>

namespace coroner::commands {

namespace {

// The task an object of type struct task_struct describes.
Expected<linux_kernel::Task> task_of(const Object& task) {
  linux_kernel::Task t;
  CORONER_TRY(address, task.address_of());
  CORONER_TRY(value, address.read_unsigned());
  CORONER_TRY(pid, task.member("pid"));
  CORONER_TRY(tgid, task.member("tgid"));
  CORONER_TRY(mm, task.member("mm"));
  CORONER_TRY(comm, task.member("comm"));
  CORONER_TRY(pid_value, pid.read_signed());
  CORONER_TRY(tgid_value, tgid.read_signed());
  CORONER_TRY(mm_value, mm.read_unsigned());
  CORONER_TRY(comm_text, comm.read_c_string(16));
  t.address = value;
  t.pid = static_cast<int32_t>(pid_value);
  t.tgid = static_cast<int32_t>(tgid_value);
  t.mm = mm_value;
  t.comm = std::move(comm_text);
  return t;
}

// Each CPU's idle task (runqueues.idle) other than init_task, which the
// task list already starts with.
Expected<std::vector<linux_kernel::Task>> secondary_idle_tasks(const Program& program, uint64_t init_task) {
  CORONER_TRY(runqueues, find_global(program, "runqueues"));
  CORONER_TRY(cpus, possible_cpus(program));
  std::vector<linux_kernel::Task> idle;
  for (uint32_t cpu : cpus) {
    CORONER_TRY(rq, per_cpu(runqueues, cpu));
    CORONER_TRY(pointer, rq.member("idle"));
    CORONER_TRY(address, pointer.read_unsigned());
    if (address == 0 || address == init_task) continue;  // a CPU never brought up
    CORONER_TRY(task, pointer.deref());
    auto t = task_of(task);
    if (!t) return t.error().context(fmt::format("the idle task of CPU {}", cpu));
    idle.push_back(std::move(*t));
  }
  return idle;
}

}  // namespace

Expected<std::vector<linux_kernel::Task>> all_tasks(const Program& program) {
  CORONER_TRY(tasks, linux_kernel::list_tasks(program));
  if (tasks.empty()) return tasks;
  CORONER_TRY(idle, secondary_idle_tasks(program, tasks.front().address));
  tasks.insert(tasks.begin() + 1, idle.begin(), idle.end());
  return tasks;
}

Expected<linux_kernel::Task> task_at(const Program& program, uint64_t address) {
  CORONER_TRY(tasks, all_tasks(program));
  for (linux_kernel::Task& t : tasks)
    if (t.address == address) return std::move(t);
  return make_error(Errc::not_found, "{:#x} is not a task_struct of the task list or a CPU's idle task", address);
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

Expected<linux_kernel::Task> default_task(const CommandContext& ctx) {
  if (ctx.current_pid) return linux_kernel::find_task(ctx.program, *ctx.current_pid);
  CORONER_TRY(cpus, linux_kernel::cpu_states(ctx.program));
  if (cpus.empty()) return make_error(Errc::not_found, "no CPU found to take the running task from");
  std::optional<uint32_t> crashed = linux_kernel::crashed_cpu(ctx.program);
  const linux_kernel::CpuState* chosen = &cpus.front();
  for (const auto& cpu : cpus)
    if (crashed && cpu.cpu == *crashed) chosen = &cpu;
  return task_at(ctx.program, chosen->task);
}

}  // namespace coroner::commands
