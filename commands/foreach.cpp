// foreach: runs a per-task command over a selection of tasks, as crash's
// foreach [PID | TASK | COMMAND-NAME | kernel | user | active ...] CMD [options].
// With no selector, every task (each CPU's idle task too).
#include "analyzer/os/linux/task_registers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <set>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "foreach [PID | TASK | NAME | kernel | user | active ...] bt [bt options]";

const std::vector<PerTaskCommand>& per_task_commands() {
  static const std::vector<PerTaskCommand> commands = {bt_per_task_command()};
  return commands;
}

struct Selection {
  std::set<int64_t> pids;
  std::set<uint64_t> addresses;
  std::set<std::string> names;
  bool kernel = false, user = false, active = false;

  bool names_tasks() const { return !pids.empty() || !addresses.empty() || !names.empty(); }
};

bool all_of_class(std::string_view text, int (*is_class)(int)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) { return is_class(static_cast<unsigned char>(c)); });
}

Expected<void> add_selector(Selection& s, const std::string& word) {
  if (word == "kernel") s.kernel = true;
  else if (word == "user") s.user = true;
  else if (word == "active") s.active = true;
  else if (all_of_class(word, isdigit)) {
    CORONER_TRY(pid, parse_pid(word));
    s.pids.insert(pid);
  }
  // A task address: 0x..., or a long hex word (a command name is at most
  // 15 characters and rarely all hex digits).
  else if (word.starts_with("0x") || (word.size() >= 12 && all_of_class(word, isxdigit))) {
    auto address = parse_uint(word, 16);
    if (!address) return make_error(Errc::invalid_argument, "invalid task address: {}", word);
    s.addresses.insert(*address);
  } else s.names.insert(word);
  return {};
}

Expected<std::vector<linux_kernel::Task>> select_tasks(const Program& program, const Selection& s) {
  CORONER_TRY(tasks, all_tasks(program));
  std::set<uint64_t> running;
  if (s.active) {
    CORONER_TRY(cpus, linux_kernel::cpu_states(program));
    for (const auto& cpu : cpus)
      if (cpu.online) running.insert(cpu.task);
  }
  std::vector<linux_kernel::Task> selected;
  std::set<int64_t> pids_seen;
  std::set<uint64_t> addresses_seen;
  std::set<std::string> names_seen;
  for (linux_kernel::Task& t : tasks) {
    if (s.names_tasks()) {
      bool named = s.pids.count(t.pid) || s.addresses.count(t.address) || s.names.count(t.comm);
      if (!named) continue;
      pids_seen.insert(t.pid), addresses_seen.insert(t.address), names_seen.insert(t.comm);
    }
    if (s.kernel && t.mm != 0) continue;
    if (s.user && t.mm == 0) continue;
    if (s.active && !running.count(t.address)) continue;
    selected.push_back(std::move(t));
  }
  for (int64_t pid : s.pids)
    if (!pids_seen.count(pid)) return make_error(Errc::not_found, "no task with PID {}", pid);
  for (uint64_t address : s.addresses)
    if (!addresses_seen.count(address)) return make_error(Errc::not_found, "no task at {:#x}", address);
  for (const std::string& name : s.names)
    if (!names_seen.count(name)) return make_error(Errc::not_found, "no task named \"{}\"", name);
  return selected;
}

Expected<void> run_foreach(CommandContext& ctx, const Arguments& args) {
  const auto& commands = per_task_commands();
  auto is_command = [&](const std::string& word) {
    return std::any_of(commands.begin(), commands.end(), [&](const PerTaskCommand& c) { return c.name == word; });
  };
  auto at = std::find_if(args.begin(), args.end(), is_command);
  if (at == args.end()) return make_error(Errc::invalid_argument, "no command given (usage: {})", kUsage);
  Selection selection;
  for (auto word = args.begin(); word != at; ++word) CORONER_CHECK(add_selector(selection, *word));
  if (selection.kernel && selection.user) return make_error(Errc::invalid_argument, "kernel and user exclude each other");
  CORONER_TRY(tasks, select_tasks(ctx.program, selection));
  const PerTaskCommand& command = *std::find_if(commands.begin(), commands.end(),
                                                [&](const PerTaskCommand& c) { return c.name == *at; });
  auto result = command.run(ctx, tasks, Arguments(at + 1, args.end()));
  if (!result) return result.error().context(command.name);
  return {};
}

}  // namespace

Command foreach_command() {
  return {"foreach", "run a command (bt) for every task, or for the tasks selected",
          "  foreach [PID | TASK | NAME | kernel | user | active ...] bt [bt options]\n"
          "    PID, TASK (hex task_struct address), NAME (command name): those tasks\n"
          "    kernel / user: kernel threads only / user tasks only\n"
          "    active: the task running on each online CPU\n"
          "  With no selector: every task, the idle task of each CPU included. Selectors that\n"
          "  name tasks add up; kernel, user and active narrow the result.\n"
          "  crash> foreach bt\n"
          "  crash> foreach kernel bt -s",
          run_foreach};
}

}  // namespace coroner::commands
