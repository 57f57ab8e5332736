// sig: a task's signal state as crash's sig [PID | TASK ...]: the thread
// group's SIGNAL_STRUCT, NR_THREADS and sigaction table (SIG SIGACTION
// HANDLER MASK FLAGS), the thread's SIGPENDING, BLOCKED and PRIVATE_PENDING
// set and queue, and the group's SHARED_PENDING.
#include "analyzer/os/linux/signals.hpp"
#include "commands/builtin.hpp"
#include "commands/task_output.hpp"
#include "commands/task_selection.hpp"

#include <fmt/ranges.h>

#include <ostream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

std::string handler_name(uint64_t handler) {
  switch (static_cast<int64_t>(handler)) {
    case -1: return "SIG_ERR";
    case 0: return "SIG_DFL";
    case 1: return "SIG_IGN";
    default: return fmt::format("{:x}", handler);
  }
}

// sa_flags by name, in crash's order.
std::vector<std::string> flag_names(uint64_t flags) {
  using namespace linux_kernel;
  static constexpr std::pair<uint64_t, std::string_view> kNames[] = {
      {kSaNoCldStop, "SA_NOCLDSTOP"}, {kSaRestorer, "SA_RESTORER"}, {kSaNoCldWait, "SA_NOCLDWAIT"},
      {kSaSigInfo, "SA_SIGINFO"},     {kSaOnStack, "SA_ONSTACK"},   {kSaRestart, "SA_RESTART"},
      {kSaNoDefer, "SA_NODEFER"},     {kSaResetHand, "SA_RESETHAND"}};
  std::vector<std::string> names;
  for (const auto& [bit, name] : kNames)
    if (flags & bit) names.emplace_back(name);
  return names;
}

void print_queue(std::ostream& out, const linux_kernel::PendingSignals& pending) {
  out << fmt::format("    SIGNAL: {:016x}\n", pending.signal);
  if (pending.queue.empty()) {
    out << "  SIGQUEUE: (empty)\n";
    return;
  }
  out << fmt::format("  SIGQUEUE:  SIG  {:^16}\n", "SIGINFO");
  for (const auto& queued : pending.queue) out << fmt::format("             {:>3}  {:x}\n", queued.signal, queued.siginfo);
}

void print_signals(std::ostream& out, const linux_kernel::TaskSignals& s) {
  out << fmt::format("SIGNAL_STRUCT: {:x}  ", s.signal_struct);
  if (!s.signal_struct) {
    out << '\n';
    return;
  }
  out << fmt::format("NR_THREADS: {}\n", s.nr_threads);
  out << fmt::format(" SIG {:^16} {:>10} {:^16} {:<16}\n", "SIGACTION", "HANDLER", "MASK", "FLAGS");
  for (const auto& a : s.actions) {
    out << fmt::format("{}[{}] {:<10x} {:>10} {:016x} {:x} ", a.signal < 10 ? " " : "", a.signal, a.address,
                       handler_name(a.handler), a.mask, a.flags);
    auto names = flag_names(a.flags);
    if (!names.empty()) out << '(' << fmt::format("{}", fmt::join(names, "|")) << ')';
    out << '\n';
  }
  out << fmt::format("SIGPENDING: {}\n", s.sigpending ? "yes" : "no");
  out << fmt::format("   BLOCKED: {:016x}\n", s.blocked);
  out << "PRIVATE_PENDING\n";
  print_queue(out, s.private_pending);
  out << "SHARED_PENDING\n";
  print_queue(out, s.shared_pending);
}

nlohmann::json pending_json(const linux_kernel::PendingSignals& pending) {
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& queued : pending.queue) queue.push_back({{"sig", queued.signal}, {"siginfo", hex(queued.siginfo)}});
  return {{"signal", fmt::format("{:016x}", pending.signal)}, {"sigqueue", queue}};
}

nlohmann::json signals_json(const linux_kernel::Task& task, const linux_kernel::TaskSignals& s) {
  nlohmann::json result = task_header_json(task);
  result["signal_struct"] = hex(s.signal_struct);
  result["nr_threads"] = s.nr_threads;
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : s.actions)
    actions.push_back({{"sig", a.signal},
                       {"sigaction", hex(a.address)},
                       {"handler", handler_name(a.handler)},
                       {"mask", fmt::format("{:016x}", a.mask)},
                       {"flags", hex(a.flags)},
                       {"flag_names", flag_names(a.flags)}});
  result["sigactions"] = std::move(actions);
  result["sigpending"] = s.sigpending;
  result["blocked"] = fmt::format("{:016x}", s.blocked);
  result["private_pending"] = pending_json(s.private_pending);
  result["shared_pending"] = pending_json(s.shared_pending);
  return result;
}

Expected<void> show(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks, bool single) {
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    const linux_kernel::Task& task = tasks[i];
    auto signals = linux_kernel::task_signals(ctx.program, task.address);
    if (!signals) return signals.error().context(fmt::format("PID {}", task.pid));
    if (ctx.json()) return signals_json(task, *signals);
    ctx.out << task_header(task) << '\n';
    print_signals(ctx.out, *signals);
    ctx.out << '\n';  // crash ends each task with an empty line
    return nlohmann::json();
  });
}

Expected<void> run_sig(CommandContext& ctx, const Arguments& args) {
  for (const std::string& word : args)
    if (word.starts_with("-"))
      return make_error(Errc::invalid_argument, "unknown option {} (usage: sig [PID | TASK ...])", word);
  CORONER_TRY(tasks, named_tasks(ctx, args));
  return show(ctx, tasks, args.size() <= 1);
}

Expected<void> run_sig_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                                const Arguments& options) {
  if (!options.empty()) return make_error(Errc::invalid_argument, "foreach sig takes no options");
  return show(ctx, tasks, /*single=*/false);
}

}  // namespace

PerTaskCommand sig_per_task_command() { return {"sig", run_sig_per_task}; }

Command sig_command() {
  return {"sig", "a task's signal handlers, blocked and pending signals",
          "  sig [PID | TASK ...]\n"
          "    (none)  the task of the `set` context, else the one running on the CPU that crashed\n"
          "    SIGNAL_STRUCT and NR_THREADS of the thread group, its sigaction table (SIG SIGACTION HANDLER\n"
          "    MASK FLAGS), then the thread's SIGPENDING, BLOCKED and PRIVATE_PENDING (SIGNAL set and\n"
          "    SIGQUEUE), and the group's SHARED_PENDING\n"
          "  crash> sig 1",
          run_sig};
}

}  // namespace coroner::commands
