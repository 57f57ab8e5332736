// foreach: runs a per-task command over a selection of tasks, as crash's
// foreach [PID | TASK | NAME | STATE | kernel | user | gleader | active ...] CMD [options].
// With no selector, every task (each CPU's idle task too).
#include "analyzer/os/linux/task_state.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <set>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage =
    "foreach [PID | TASK | NAME | STATE | kernel | user | gleader | active ...] bt|ps|task|vm|files|sig [options]";

// The commands foreach runs: one entry per command, declared in
// task_selection.hpp and defined in the command's own file.
const std::vector<PerTaskCommand>& per_task_commands() {
  static const std::vector<PerTaskCommand> commands = {
      bt_per_task_command(),  ps_per_task_command(),    task_per_task_command(),
      vm_per_task_command(),  files_per_task_command(), sig_per_task_command(),
  };
  return commands;
}

// crash's state selectors.
constexpr std::string_view kStates[] = {"RU", "IN", "UN", "ST", "ZO", "TR", "SW", "DE", "WA", "PA", "ID", "NE"};

struct Selection {
  std::set<int64_t> pids;
  std::set<uint64_t> addresses;
  std::set<std::string> names;
  std::set<std::string> states;
  bool kernel = false, user = false, active = false, leaders = false;

  bool names_tasks() const { return !pids.empty() || !addresses.empty() || !names.empty(); }
};

bool all_of_class(std::string_view text, int (*is_class)(int)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) { return is_class(static_cast<unsigned char>(c)); });
}

Expected<void> add_selector(Selection& s, const std::string& word) {
  if (word == "kernel") s.kernel = true;
  else if (word == "user") s.user = true;
  else if (word == "active") s.active = true;
  else if (word == "gleader") s.user = s.leaders = true;
  else if (std::find(std::begin(kStates), std::end(kStates), word) != std::end(kStates)) s.states.insert(word);
  else if (all_of_class(word, isdigit)) {
    CORONER_TRY(pid, parse_pid(word));
    s.pids.insert(pid);
  }
  // A task address: 0x..., or a long hex word (a command name is at most
  // 15 characters and rarely all hex digits).
  else if (word.starts_with("0x") || (word.size() >= 12 && all_of_class(word, isxdigit))) {
    std::string_view digits = word.starts_with("0x") ? std::string_view(word).substr(2) : std::string_view(word);
    auto address = all_of_class(digits, isxdigit) ? parse_uint(digits, 16) : std::nullopt;
    if (!address) return make_error(Errc::invalid_argument, "invalid task address: {}", word);
    s.addresses.insert(*address);
  } else s.names.insert(word.starts_with("\\") ? word.substr(1) : word);  // "\\bt": a task named like a command
  return {};
}

Expected<std::vector<linux_kernel::Task>> select_tasks(const Program& program, const Selection& s) {
  CORONER_TRY(list, linux_kernel::task_list(program));
  std::set<uint64_t> running;
  if (s.active) {
    CORONER_TRY(active, active_tasks(program));
    running = std::move(active);
  }
  const linux_kernel::TaskStateBits& bits = linux_kernel::task_state_bits(program);
  std::vector<linux_kernel::Task> selected;
  std::set<int64_t> pids_seen;
  std::set<uint64_t> addresses_seen;
  std::set<std::string> names_seen;
  for (const linux_kernel::Task& t : list->tasks) {
    if (s.names_tasks()) {
      bool named = s.pids.count(t.pid) || s.addresses.count(t.address) || s.names.count(t.comm);
      if (!named) continue;
      pids_seen.insert(t.pid), addresses_seen.insert(t.address), names_seen.insert(t.comm);
    }
    if (s.kernel && !t.kernel_thread()) continue;
    if (s.user && t.kernel_thread()) continue;
    if (s.leaders && t.pid != t.tgid) continue;
    if (s.active && !running.count(t.address)) continue;
    if (!s.states.empty() && !s.states.count(linux_kernel::state_letters(bits, t.state))) continue;
    selected.push_back(t);
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
  if (selection.kernel && selection.user)
    return make_error(Errc::invalid_argument, "kernel and user (or gleader) exclude each other");
  CORONER_TRY(tasks, select_tasks(ctx.program, selection));
  const PerTaskCommand& command = *std::find_if(commands.begin(), commands.end(),
                                                [&](const PerTaskCommand& c) { return c.name == *at; });
  auto result = command.run(ctx, tasks, Arguments(at + 1, args.end()));
  if (!result) return result.error().context(command.name);
  return {};
}

}  // namespace

Command foreach_command() {
  return {"foreach", "run a command (bt, ps, task, vm, files, sig) for every task, or for the tasks selected",
          "  foreach [PID | TASK | NAME | STATE | kernel | user | gleader | active ...] bt|ps|task|vm|files|sig [options]\n"
          "    PID, TASK (hex task_struct address), NAME (command name; \\NAME for one spelled like a\n"
          "    selector): those tasks\n"
          "    STATE: RU IN UN ST ZO TR SW DE WA PA ID NE, the tasks in that state (ps's ST column)\n"
          "    kernel / user / gleader: kernel threads / user tasks / user thread group leaders only\n"
          "    active: the task running on each CPU\n"
          "  With no selector: every task, the idle task of each CPU included. Selectors that\n"
          "  name tasks add up; states, kernel, user, gleader and active narrow the result.\n"
          "  bt takes bt's display options, ps its display options (-G -s -p -c -t -l -m -a -g -r),\n"
          "  task -R member,... -x -d.\n"
          "  crash> foreach bt\n"
          "  crash> foreach kernel bt -s\n"
          "  crash> foreach UN ps",
          run_foreach};
}

}  // namespace coroner::commands
