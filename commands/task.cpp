// task: a task's task_struct as crash's
//   task [-R member[,member...]] [-x|-d] [PID | TASK ...]
// the whole structure as `struct task_struct ADDR` prints it, or the
// members named (with -R, or as bare words), under crash's task header.
// With no task, the context's (`set`), else the panic task.
#include "commands/builtin.hpp"
#include "commands/member_selection.hpp"
#include "commands/task_output.hpp"
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

// The -R members of `type` ("task_struct" or "thread_info"); crash shows a
// member of each structure that has it.
Expected<std::optional<MemberSelection>> members_of(const Program& program, std::string_view type,
                                                    const TaskRequest& r, bool required) {
  CORONER_TRY(info, program.debug_info());
  std::string spec(type);
  size_t count = 0;
  for (const std::string& member : r.members) {
    auto has = info->has_member(fmt::format("struct {}", type), member);
    if (required || (has && *has)) spec += (count++ ? "," : ".") + member;
  }
  if (count == 0 && !r.members.empty() && !required) return std::optional<MemberSelection>();
  CORONER_TRY(selection, parse_member_selection(program, spec, r.base));
  return std::optional<MemberSelection>(std::move(selection));
}

Expected<void> show(CommandContext& ctx, const TaskRequest& r, const std::vector<linux_kernel::Task>& tasks,
                    bool single) {
  // A member in thread_info only is not one of task_struct: its selection
  // must not require it.
  CORONER_TRY(info, ctx.program.debug_info());
  TaskRequest in_task = r;
  std::erase_if(in_task.members, [&](const std::string& m) {
    auto in_struct = info->has_member("struct task_struct", m);
    auto in_info = info->has_member("struct thread_info", m);
    return in_struct && !*in_struct && in_info && *in_info;
  });
  std::optional<MemberSelection> task_struct;
  if (r.members.empty() || !in_task.members.empty()) {
    CORONER_TRY(selection, members_of(ctx.program, "task_struct", in_task, true));
    task_struct = std::move(selection);
  }
  CORONER_TRY(thread_info, members_of(ctx.program, "thread_info", r, false));
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    const linux_kernel::Task& task = tasks[i];
    nlohmann::json entry = task_header_json(task);
    std::string text = task_header(task) + '\n';
    auto context = [&](const Error& e) {
      return e.context(fmt::format("PID {} (task_struct {:#x})", task.pid, task.address));
    };
    if (task_struct) {
      auto shown = show_members(ctx.program, *task_struct, task.address);
      if (!shown) return context(shown.error());
      entry["task_struct"] = shown->json;
      text += shown->text + (r.members.empty() ? "\n" : "");
    }
    if (thread_info) {
      auto address = linux_kernel::thread_info_address(ctx.program, task);
      auto shown = address ? show_members(ctx.program, *thread_info, *address) : Expected<ShownMembers>(address.error());
      if (!shown) return context(shown.error());
      entry["thread_info"] = shown->json;
      text += shown->text + (r.members.empty() ? "\n" : "");
    }
    if (!r.members.empty()) text += '\n';
    if (ctx.json()) return entry;
    ctx.out << text;
    return nlohmann::json();
  });
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
          "    -x / -d    integers in hex / decimal\n"
          "  crash> task\n"
          "  crash> task -R comm,pid 1",
          run_task};
}

}  // namespace coroner::commands
