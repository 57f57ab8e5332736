// help, q and set: the shell's own commands.
#include "analyzer/os/linux/tasks.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/command_usage.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

// crash's help page: NAME, SYNOPSIS, DESCRIPTION (options and notes),
// EXAMPLES, all from the command's usage text.
Expected<void> run_help(CommandContext& ctx, const Arguments& args) {
  if (!args.empty()) {
    const Command* c = find_command(args.front());
    if (!c) return make_error(Errc::invalid_argument, "no such command: {}", args.front());
    const CommandUsage usage = parse_usage(*c);
    if (ctx.json()) {
      ctx.emit({{"name", c->name},
                {"summary", c->summary},
                {"synopsis", usage.synopsis},
                {"description", usage.details},
                {"examples", usage.examples}});
      return {};
    }
    ctx.out << "NAME\n  " << c->name << " - " << c->summary << "\n\nSYNOPSIS\n" << usage.synopsis;
    if (!usage.details.empty()) ctx.out << "\nDESCRIPTION\n" << usage.details;
    if (!usage.examples.empty()) ctx.out << "\nEXAMPLES\n";
    for (const std::string& example : usage.examples) ctx.out << "  crash> " << example << '\n';
    return {};
  }
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Command& c : all_commands()) list.push_back({{"name", c.name}, {"summary", c.summary}});
    ctx.emit({{"commands", list}});
    return {};
  }
  for (const Command& c : all_commands()) ctx.out << fmt::format("{:<8} {}\n", c.name, c.summary);
  ctx.out << "\nFor help on a command: help COMMAND\n";
  return {};
}

Expected<void> run_quit(CommandContext& ctx, const Arguments&) {
  ctx.quit = true;
  return {};
}

// crash's context block: PID, COMMAND, TASK.
void show_context(const CommandContext& ctx, const linux_kernel::Task& task) {
  if (ctx.json()) ctx.emit({{"pid", task.pid}, {"task", fmt::format("{:#x}", task.address)}, {"command", task.comm}});
  else ctx.out << fmt::format("    PID: {}\nCOMMAND: \"{}\"\n   TASK: {:x}\n", task.pid, task.comm, task.address);
}

Expected<void> run_set(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) {
    if (!ctx.current_pid) {
      if (ctx.json()) ctx.emit({{"pid", nullptr}});
      else ctx.out << "no task context set (set PID)\n";
      return {};
    }
    CORONER_TRY(task, linux_kernel::find_task(ctx.program, *ctx.current_pid));
    show_context(ctx, task);
    return {};
  }
  CORONER_TRY(pid, parse_pid(args.front()));
  CORONER_TRY(task, linux_kernel::find_task(ctx.program, pid));
  ctx.current_pid = task.pid;
  show_context(ctx, task);
  return {};
}

}  // namespace

Command help_command() {
  return {"help", "list the commands, or describe one", "  help [COMMAND]\n  crash> help bt", run_help};
}
Command quit_command() { return {"q", "leave coroner (also: exit, quit)", "  q\n  crash> q", run_quit}; }
Command set_command() {
  return {"set", "show or set the task context used by -u reads", "  set [PID]", run_set};
}

}  // namespace coroner::commands
