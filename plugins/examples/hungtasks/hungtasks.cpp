// hungtasks: the tasks in uninterruptible sleep (D state, ps's UN), with
// how long each has waited since it last ran and its kernel stack; with
// -i also the idle kernel threads (TASK_IDLE: D but not counted as load,
// ps's ID). Its triage check reports D tasks that waited longer than the
// hung-task watchdog's default of 120 s.
#include <coroner/plugin.hpp>

#include <cstdio>

namespace {

using namespace coroner::plugin;

constexpr uint64_t kHungNs = 120'000'000'000;  // the kernel's hung_task_timeout_secs default

std::string frame_text(const Frame& f) {
  std::string text = f.function.empty() ? hex(f.pc) : f.function;
  if (!f.function.empty() && !f.inlined) text += "+" + hex(f.offset);
  if (f.inlined) text += " (inlined)";
  if (!f.module.empty()) text += " [" + f.module + "]";
  return text;
}

std::vector<Task> blocked(const Kernel& kernel, bool idle_too) {
  std::vector<Task> out;
  for (Task& t : kernel.tasks().value())
    if (t.state == "UN" || (idle_too && t.state == "ID")) out.push_back(std::move(t));
  return out;
}

std::string seconds(uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ns / 1e9);
  return text;
}

void hungtasks(Context& ctx, const std::vector<std::string>& args) {
  bool idle_too = false;
  for (const std::string& a : args) {
    if (a == "-i") idle_too = true;
    else throw Failure("unknown option " + a + " (usage: hungtasks [-i])");
  }
  Json list = Json::array();
  std::string text;
  for (const Task& t : blocked(ctx, idle_too)) {
    Json task = Json::object({{"pid", t.pid}, {"task", hex(t.address)}, {"cpu", t.cpu}, {"command", t.comm}, {"state", t.state}});
    task["waiting_ns"] = t.waiting_ns ? Json(*t.waiting_ns) : Json();
    char header[160];
    std::snprintf(header, sizeof header, "PID: %-7lld TASK: %016llx  CPU: %-3u COMMAND: \"%s\"  %s  WAITING: %s\n",
                  static_cast<long long>(t.pid), static_cast<unsigned long long>(t.address), t.cpu, t.comm.c_str(),
                  t.state.c_str(), t.waiting_ns ? (seconds(*t.waiting_ns) + " s").c_str() : "unknown");
    text += header;
    Json frames = Json::array();
    const Result<Backtrace> trace = ctx.backtrace(t.address);
    if (!trace) {
      text += "  (no backtrace: " + trace.error() + ")\n";
      task["error"] = trace.error();
    } else {
      for (size_t i = 0; i < trace->frames.size(); ++i) {
        const Frame& f = trace->frames[i];
        frames.push_back(Json::object({{"function", f.function}, {"pc", hex(f.pc)}, {"module", f.module}, {"inlined", f.inlined}}));
        text += " #" + std::to_string(i) + (i < 10 ? "  " : " ") + frame_text(f) + "\n";
      }
      if (!trace->stopped.empty()) text += "  (" + trace->stopped + ")\n";
    }
    task["frames"] = frames;
    list.push_back(task);
  }
  if (ctx.json()) ctx.emit(Json::object({{"hung_tasks", list}}));
  else ctx.print(text.empty() ? "no tasks in D state\n" : text);
}

std::vector<Finding> hung_check(const Kernel& kernel) {
  std::vector<Finding> findings;
  for (const Task& t : blocked(kernel, false)) {
    if (!t.waiting_ns || *t.waiting_ns < kHungNs) continue;
    Finding f{"warning", "PID " + std::to_string(t.pid) + " \"" + t.comm + "\" blocked in D state for " +
                             seconds(*t.waiting_ns) + " s", {}};
    if (auto trace = kernel.backtrace(t.address))
      for (const Frame& frame : trace->frames) f.details.push_back(frame_text(frame));
    findings.push_back(std::move(f));
  }
  return findings;
}

void init(Registrar& registrar) {
  registrar.command("hungtasks", "tasks in D state with their stacks and how long they waited (an example plugin)",
                    "  hungtasks [-i]\n"
                    "    (none)   the tasks in D state (ps's UN): PID TASK CPU COMMAND WAITING and the stack\n"
                    "    -i       also the idle kernel threads (TASK_IDLE, ps's ID)\n"
                    "  WAITING is the time since the task last ran, by its CPU's run-queue clock.\n"
                    "  crash> hungtasks -i",
                    {"-i"}, hungtasks);
  registrar.triage_check("hung-tasks", hung_check);
}

}  // namespace

CORONER_PLUGIN("hungtasks", "1.0", "D-state tasks, their stacks and wait times; a triage check", init)
