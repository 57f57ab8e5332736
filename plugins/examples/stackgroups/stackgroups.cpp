// stackgroups: every task grouped by its kernel stack (the functions, as
// bt shows them), largest group first -- what a support engineer does by
// hand over `foreach bt` to spot many threads stuck the same way. Its
// triage check reports a stack that three or more D-state tasks share,
// naming the lock primitive when one is on it (mutex, rwsem, ...).
#include <coroner/plugin.hpp>

#include <algorithm>
#include <map>

namespace {

using namespace coroner::plugin;

struct Group {
  std::vector<std::string> functions;  // innermost first
  std::vector<Task> tasks;
};

std::string function_name(const Frame& f) {
  std::string name = f.function.empty() ? hex(f.pc) : f.function;
  return f.module.empty() ? name : name + " [" + f.module + "]";
}

// Groups by stack; `only` keeps the tasks in that ps state ("" all).
std::vector<Group> groups(const Kernel& kernel, const std::string& only) {
  std::map<std::vector<std::string>, Group> by_stack;
  for (Task& t : kernel.tasks().value()) {
    if (!only.empty() && t.state != only) continue;
    std::vector<std::string> functions;
    if (auto trace = kernel.backtrace(t.address))
      for (const Frame& f : trace->frames) functions.push_back(function_name(f));
    else functions.push_back("(no backtrace: " + trace.error() + ")");
    Group& g = by_stack[functions];
    g.functions = functions;
    g.tasks.push_back(std::move(t));
  }
  std::vector<Group> out;
  for (auto& [stack, g] : by_stack) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const Group& a, const Group& b) { return a.tasks.size() > b.tasks.size(); });
  return out;
}

void stackgroups(Context& ctx, const std::vector<std::string>& args) {
  std::string only;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-s" && i + 1 < args.size()) only = args[++i];
    else throw Failure("unknown option " + args[i] + " (usage: stackgroups [-s STATE])");
  }
  Json list = Json::array();
  std::string text;
  for (const Group& g : groups(ctx, only)) {
    Json pids = Json::array();
    text += std::to_string(g.tasks.size()) + (g.tasks.size() == 1 ? " task:" : " tasks:");
    for (const Task& t : g.tasks) {
      pids.push_back(Json::object({{"pid", t.pid}, {"task", hex(t.address)}, {"command", t.comm}, {"state", t.state}}));
      text += " " + std::to_string(t.pid) + "(" + t.comm + "," + t.state + ")";
    }
    text += "\n";
    Json functions = Json::array();
    for (const std::string& f : g.functions) {
      functions.push_back(f);
      text += "    " + f + "\n";
    }
    list.push_back(Json::object({{"count", g.tasks.size()}, {"tasks", pids}, {"stack", functions}}));
  }
  if (ctx.json()) ctx.emit(Json::object({{"groups", list}}));
  else ctx.print(text.empty() ? "no tasks\n" : text);
}

std::vector<Finding> shared_blocking_stacks(const Kernel& kernel) {
  static const std::vector<std::string> locks = {"mutex_lock", "rwsem_down", "down_read", "down_write",
                                                 "rt_mutex", "wait_for_completion", "io_schedule"};
  std::vector<Finding> findings;
  for (const Group& g : groups(kernel, "UN")) {
    if (g.tasks.size() < 3) continue;
    std::string on = g.functions.empty() ? "?" : g.functions.front();
    for (const std::string& f : g.functions)
      if (std::any_of(locks.begin(), locks.end(), [&](const std::string& l) { return f.find(l) != std::string::npos; })) {
        on = f;
        break;
      }
    findings.push_back({"warning", std::to_string(g.tasks.size()) + " tasks in D state share one stack, blocked in " + on,
                        g.functions});
  }
  return findings;
}

void init(Registrar& registrar) {
  registrar.command("stackgroups", "tasks grouped by identical kernel stacks, largest group first (an example plugin)",
                    "  stackgroups [-s STATE]\n"
                    "    (none)     every task, grouped by its stack: COUNT, the tasks PID(COMMAND,STATE), the frames\n"
                    "    -s STATE   only the tasks in that ps state (RU, IN, UN, ID, ...)\n"
                    "  crash> stackgroups -s IN",
                    {"-s"}, stackgroups);
  registrar.triage_check("shared-blocked-stacks", shared_blocking_stacks);
}

}  // namespace

CORONER_PLUGIN("stackgroups", "1.0", "tasks grouped by kernel stack; a triage check for pile-ups in D state", init)
