// set: the task context, as crash's
//   set [PID | TASK | -c CPU | -p]
// with no argument the context is shown; PID or TASK sets it, -c CPU sets
// the task active on that CPU, -p the panic task. crash's own variables
// (scroll, radix, ...) are not coroner's.
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "set [PID | TASK | -c CPU | -p]";

// crash's context block: PID, COMMAND, TASK (with "(N of M)" when several
// tasks share the PID: the idle tasks), CPU, STATE with (PANIC) or (ACTIVE).
Expected<void> show_context(const CommandContext& ctx, const linux_kernel::Task& task) {
  const Program& program = ctx.program;
  CORONER_TRY(list, linux_kernel::task_list(program));
  size_t same_pid = 0, index = 0;
  for (const linux_kernel::Task& t : list->tasks) {
    if (t.pid != task.pid) continue;
    ++same_pid;
    if (t.address == task.address) index = same_pid;
  }
  CORONER_TRY(active, active_tasks(program));
  auto panic = panic_task(program);
  bool is_panic = panic && panic->address == task.address;
  bool is_active = active.count(task.address) > 0;
  CORONER_TRY(thread_info, linux_kernel::thread_info_address(program, task));
  std::string state = linux_kernel::state_names(linux_kernel::task_state_bits(program), task.state);
  std::string mark = is_panic ? "(PANIC)" : is_active ? "(ACTIVE)" : "";
  if (ctx.json()) {
    ctx.emit({{"pid", task.pid},
              {"command", task.comm},
              {"task", fmt::format("{:#x}", task.address)},
              {"thread_info", fmt::format("{:#x}", thread_info)},
              {"cpu", task.cpu},
              {"state", state},
              {"panic", is_panic},
              {"active", is_active}});
    return {};
  }
  std::string of = same_pid > 1 ? fmt::format("  ({} of {})", index, same_pid) : "";
  ctx.out << fmt::format("    PID: {}\nCOMMAND: \"{}\"\n   TASK: {:x}{}  [THREAD_INFO: {:x}]\n    CPU: {}\n  STATE: {} {}\n",
                         task.pid, task.comm, task.address, of, thread_info, task.cpu, state, mark);
  return {};
}

Expected<linux_kernel::Task> task_of_cpu(const Program& program, std::string_view text) {
  CORONER_TRY(cpu, parse_number(text, 10));
  CORONER_TRY(cpus, linux_kernel::cpu_states(program));
  for (const linux_kernel::CpuState& state : cpus)
    if (state.cpu == cpu) return task_at(program, state.task);
  return make_error(Errc::invalid_argument, "invalid cpu number: {}", text);
}

Expected<void> run_set(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) {
    CORONER_TRY(task, default_task(ctx));
    return show_context(ctx, task);
  }
  Expected<linux_kernel::Task> task = make_error(Errc::invalid_argument, "usage: {}", kUsage);
  if (args[0] == "-p" && args.size() == 1) task = panic_task(ctx.program);
  else if (args[0] == "-c" && args.size() == 2) task = task_of_cpu(ctx.program, args[1]);
  else if (args[0].starts_with("-c") && args.size() == 1) task = task_of_cpu(ctx.program, std::string_view(args[0]).substr(2));
  else if (args.size() == 1 && !args[0].starts_with("-")) {
    bool number = std::isxdigit(static_cast<unsigned char>(args[0][0])) != 0;
    task = number ? task_argument(ctx.program, args[0])
                  : Expected<linux_kernel::Task>(make_error(Errc::invalid_argument,
                                                            "{}: crash's internal variables are not coroner's (usage: {})",
                                                            args[0], kUsage));
  }
  if (!task) return task.error();
  ctx.current_pid = task->pid;
  ctx.current_task = task->address;
  return show_context(ctx, *task);
}

}  // namespace

Command set_command() {
  return {"set", "show or set the task context (bt, task, vtop -u and rd -u use it)",
          "  set [PID | TASK | -c CPU | -p]\n"
          "    (none)   the current context: PID, COMMAND, TASK, CPU, STATE\n"
          "    PID      that task (PID 0: CPU 0's idle task); TASK: a task_struct address in hex\n"
          "    -c CPU   the task active on that CPU\n"
          "    -p       the panic task (the one running on the CPU that crashed)\n"
          "  crash> set\n"
          "  crash> set 1\n"
          "  crash> set -p",
          run_set};
}

}  // namespace coroner::commands
