// task: a task's task_struct as crash's
//   task [-R member[,member...]] [-x|-d] [PID | TASK ...]
// the whole structure as `struct task_struct ADDR` prints it, or the
// members named (with -R, or as bare words), under crash's task header.
// With no task, the context's (`set`), else the panic task.
#include "commands/builtin.hpp"
#include "commands/member_selection.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <optional>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "task [-R member[,member...]] [-x|-d] [PID | TASK ...]";

struct TaskRequest {
  std::vector<std::string> members;  // empty: the whole task_struct
  IntegerBase base = IntegerBase::natural;
  std::vector<std::string> tasks;
};

bool names_task(std::string_view word) {
  if (word.starts_with("0x") || word.starts_with("0X")) return true;
  bool digits = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool hex = word.size() >= 8 && std::all_of(word.begin(), word.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
             });
  return digits || hex;
}

void add_members(TaskRequest& r, std::string_view list) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (comma != 0) r.members.emplace_back(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
}

Expected<TaskRequest> parse_request(const Arguments& args) {
  TaskRequest r;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-R") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "-R needs a member list (usage: {})", kUsage);
      add_members(r, args[++i]);
    } else if (word.starts_with("-R")) {
      add_members(r, std::string_view(word).substr(2));
    } else if (word == "-x") {
      r.base = IntegerBase::hex;
    } else if (word == "-d") {
      r.base = IntegerBase::decimal;
    } else if (word.starts_with("-")) {
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
    } else if (names_task(word)) {
      r.tasks.push_back(word);
    } else {
      add_members(r, word);  // crash: -R may be left out when task is run directly
    }
  }
  return r;
}

Expected<void> show(CommandContext& ctx, const TaskRequest& r, const std::vector<linux_kernel::Task>& tasks,
                    bool single) {
  std::string spec = "task_struct";
  for (size_t i = 0; i < r.members.size(); ++i) spec += (i ? "," : ".") + r.members[i];
  CORONER_TRY(selection, parse_member_selection(ctx.program, spec, r.base));
  // The whole task_struct comes with its thread_info, as crash shows it.
  std::optional<MemberSelection> thread_info;
  if (r.members.empty()) {
    CORONER_TRY(whole, parse_member_selection(ctx.program, "thread_info", r.base));
    thread_info = std::move(whole);
  }
  nlohmann::json list = nlohmann::json::array();
  for (const linux_kernel::Task& task : tasks) {
    auto shown = show_members(ctx.program, selection, task.address);
    if (!shown) return shown.error().context(fmt::format("PID {} (task_struct {:#x})", task.pid, task.address));
    nlohmann::json entry = task_header_json(task);
    entry["task_struct"] = shown->json;
    std::string text = task_header(task) + '\n' + shown->text + '\n';
    if (thread_info) {
      CORONER_TRY(address, linux_kernel::thread_info_address(ctx.program, task));
      CORONER_TRY(info, show_members(ctx.program, *thread_info, address));
      entry["thread_info"] = info.json;
      text += info.text + '\n';
    }
    if (ctx.json()) list.push_back(entry);
    else ctx.out << text;
  }
  if (ctx.json()) ctx.emit(single && list.size() == 1 ? list.front() : list);
  return {};
}

Expected<void> run_task(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(request, parse_request(args));
  std::vector<linux_kernel::Task> tasks;
  for (const std::string& word : request.tasks) {
    CORONER_TRY(task, task_argument(ctx.program, word));
    tasks.push_back(std::move(task));
  }
  if (tasks.empty()) {
    CORONER_TRY(task, default_task(ctx));
    tasks.push_back(std::move(task));
  }
  return show(ctx, request, tasks, request.tasks.size() <= 1);
}

// foreach's entry: the tasks foreach selected, task's -R/-x/-d.
Expected<void> run_task_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                                 const Arguments& options) {
  CORONER_TRY(request, parse_request(options));
  if (!request.tasks.empty())
    return make_error(Errc::invalid_argument, "foreach task takes task's options only (-R member,... -x -d)");
  return show(ctx, request, tasks, /*single=*/false);
}

}  // namespace

PerTaskCommand task_per_task_command() { return {"task", run_task_per_task}; }

Command task_command() {
  return {"task", "the task_struct of the current context or of the tasks given",
          "  task [-R member[,member...]] [-x|-d] [PID | TASK ...]\n"
          "    (none)     the task of the `set` context, else the panic task\n"
          "    PID, TASK  those tasks (TASK: a task_struct address in hex)\n"
          "    -R LIST    only these members (se.on_rq, pids[1], ...); bare member names work the same\n"
          "    -x / -d    integers in hex / decimal",
          run_task};
}

}  // namespace coroner::commands
