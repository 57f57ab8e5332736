// runq: each CPU's run queue as crash's runq [-t | -T | -m | -g] [-c CPU(s)]:
// the running task, then the RT priority queues and the CFS tree with the
// tasks queued there ([PRIO] PID TASK COMMAND); -t the runqueue clocks and
// the running tasks' last arrival, -T the CPUs' clock lag, -m the time each
// running task has been on its CPU, -g the queues by task group.
#include "analyzer/os/linux/run_queues.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "runq [-t | -T | -m | -g] [-c CPU(s)]";

struct RunqRequest {
  char view = 0;  // 't', 'T', 'm', 'g' or 0
  std::optional<std::vector<uint32_t>> cpus;
};

Expected<RunqRequest> parse_request(const Arguments& args) {
  RunqRequest r;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.size() < 2 || word[0] != '-')
      return make_error(Errc::invalid_argument, "unexpected argument {} (usage: {})", word, kUsage);
    for (size_t j = 1; j < word.size(); ++j) {
      char c = word[j];
      if (c == 'c') {
        if (r.cpus) return make_error(Errc::invalid_argument, "only one -c option allowed");
        CORONER_TRY(cpus, option_cpu_list(args, i, j, kUsage));
        r.cpus = cpus;
        break;
      }
      if (c != 't' && c != 'T' && c != 'm' && c != 'g')
        return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", c, kUsage);
      // crash's precedence when several are given: -t, -T, -m, -g.
      constexpr std::string_view kOrder = "tTmg";
      if (!r.view || kOrder.find(c) < kOrder.find(r.view)) r.view = c;
    }
  }
  return r;
}

// The present CPUs, those of -c only.
Expected<std::vector<linux_kernel::CpuState>> selected_cpus(const Program& program, const RunqRequest& r) {
  CORONER_TRY(states, linux_kernel::cpu_states(program));
  if (!r.cpus) return states;
  std::vector<linux_kernel::CpuState> selected;
  for (const linux_kernel::CpuState& s : states)
    if (std::find(r.cpus->begin(), r.cpus->end(), s.cpu) != r.cpus->end()) selected.push_back(s);
  return selected;
}

std::string task_line(const linux_kernel::Task& task) {
  return fmt::format("PID: {:<5}  TASK: {:x}  COMMAND: \"{}\"", task.pid, task.address, task.comm);
}

// A task named by address: from the task list, else read where it is.
linux_kernel::Task describe(const Program& program, uint64_t address) {
  if (auto task = task_at(program, address)) return *task;
  linux_kernel::Task unknown;
  unknown.address = address, unknown.pid = -1, unknown.comm = "?";
  return unknown;
}

nlohmann::json queued_json(const Program& program, const std::vector<linux_kernel::QueuedTask>& queued) {
  nlohmann::json list = nlohmann::json::array();
  for (const linux_kernel::QueuedTask& q : queued) {
    nlohmann::json entry = task_header_json(describe(program, q.task));
    entry["prio"] = q.prio;
    entry["depth"] = q.depth;
    entry["queue"] = fmt::format("{:#x}", q.queue);
    if (q.running) entry["running"] = true;
    list.push_back(std::move(entry));
  }
  return list;
}

// The queued tasks (not the running one, which crash shows as CURRENT).
void print_queued(std::ostream& out, const Program& program, const std::vector<linux_kernel::QueuedTask>& queued) {
  bool any = false;
  for (const linux_kernel::QueuedTask& q : queued) {
    if (q.running) continue;
    out << fmt::format("     [{:3}] {}\n", q.prio, task_line(describe(program, q.task)));
    any = true;
  }
  if (!any) out << "     [no tasks queued]\n";
}

nlohmann::json run_queue_json(const Program& program, const linux_kernel::RunQueue& rq) {
  nlohmann::json cpu = {{"cpu", rq.cpu},
                        {"runqueue", fmt::format("{:#x}", rq.address)},
                        {"current", rq.current ? task_header_json(describe(program, rq.current)) : nullptr},
                        {"clock", rq.clock},
                        {"rt_prio_array", fmt::format("{:#x}", rq.rt_array)},
                        {"rt", queued_json(program, rq.rt)},
                        {"cfs_rb_root", fmt::format("{:#x}", rq.cfs_root)},
                        {"cfs", queued_json(program, rq.cfs)},
                        {"dl_rb_root", fmt::format("{:#x}", rq.dl_root)},
                        {"dl", queued_json(program, rq.dl)}};
  nlohmann::json groups = nlohmann::json::array();
  for (const linux_kernel::CfsGroup& g : rq.cfs_groups)
    groups.push_back({{"cfs_rq", fmt::format("{:#x}", g.cfs_rq)}, {"task_group", fmt::format("{:#x}", g.task_group)},
                      {"name", g.name}, {"depth", g.depth}, {"first", g.first}, {"throttled", g.throttled}});
  cpu["cfs_groups"] = std::move(groups);
  if (!rq.skipped.empty()) {
    std::vector<std::string> errors;
    for (const Error& e : rq.skipped) errors.push_back(e.message());
    cpu["errors"] = errors;
  }
  return cpu;
}

void print_run_queue(std::ostream& out, const Program& program, const linux_kernel::RunQueue& rq, bool first) {
  out << fmt::format("{}CPU {} RUNQUEUE: {:x}\n", first ? "" : "\n", rq.cpu, rq.address);
  out << "  CURRENT: " << task_line(describe(program, rq.current)) << '\n';
  out << fmt::format("  RT PRIO_ARRAY: {:x}\n", rq.rt_array);
  print_queued(out, program, rq.rt);
  out << fmt::format("  CFS RB_ROOT: {:x}\n", rq.cfs_root);
  print_queued(out, program, rq.cfs);
  // crash has no deadline section: shown only when a task is queued there.
  if (!rq.dl.empty()) {
    out << fmt::format("  DL RB_ROOT: {:x}\n", rq.dl_root);
    print_queued(out, program, rq.dl);
  }
  for (const Error& e : rq.skipped) out << "runq: " << e.message() << '\n';
}

// -g: the queues by task group, crash's TASK_GROUP header before each
// group's tasks, indented by depth; the running task marked [CURRENT].
void print_by_group(std::ostream& out, const Program& program, const linux_kernel::RunQueue& rq, bool first,
                    bool rt_groups) {
  out << fmt::format("{}CPU {}\n", first ? "" : "\n", rq.cpu);
  out << "  CURRENT: " << task_line(describe(program, rq.current)) << '\n';
  uint64_t root_group = program.symbol_address("root_task_group").value_or(0);
  auto entry = [&](const linux_kernel::QueuedTask& q, unsigned indent) {
    out << fmt::format("{:{}}[{:3}] {}{}\n", "", indent, q.prio, task_line(describe(program, q.task)),
                       q.running ? " [CURRENT]" : "");
  };
  if (rt_groups) {
    out << fmt::format("  ROOT_TASK_GROUP: {:x}  RT_RQ: {:x}\n", root_group, rq.rt_rq);
    if (rq.rt.empty()) out << "     [no tasks queued]\n";
    for (const linux_kernel::QueuedTask& q : rq.rt) entry(q, 5 + 6 * q.depth);
  }
  out << fmt::format("  ROOT_TASK_GROUP: {:x}  CFS_RQ: {:x}\n", root_group, rq.cfs_rq);
  const auto& groups = rq.cfs_groups;
  size_t next_group = 0;
  auto print_groups_at = [&](size_t index) {
    for (; next_group < groups.size() && groups[next_group].first == index; ++next_group) {
      const linux_kernel::CfsGroup& g = groups[next_group];
      out << fmt::format("{:{}}TASK_GROUP: {:x}  CFS_RQ: {:x} {}{}\n", "", 2 + 3 * g.depth, g.task_group, g.cfs_rq,
                         g.name.empty() ? "" : " <" + g.name + ">", g.throttled ? " (THROTTLED)" : "");
      // Empty: no task before the next group that is not inside it.
      size_t end = rq.cfs.size();
      bool subgroup = next_group + 1 < groups.size() && groups[next_group + 1].depth > g.depth;
      for (size_t k = next_group + 1; k < groups.size(); ++k)
        if (groups[k].depth <= g.depth) {
          end = groups[k].first;
          break;
        }
      bool own_tasks = std::any_of(rq.cfs.begin() + static_cast<std::ptrdiff_t>(g.first),
                                   rq.cfs.begin() + static_cast<std::ptrdiff_t>(std::max(end, g.first)),
                                   [&](const linux_kernel::QueuedTask& q) { return q.depth >= g.depth; });
      if (!own_tasks && !subgroup) out << fmt::format("{:{}}[no tasks queued]\n", "", 5 + 3 * g.depth);
    }
  };
  if (rq.cfs.empty() && groups.empty()) out << "     [no tasks queued]\n";
  for (size_t i = 0; i < rq.cfs.size(); ++i) {
    print_groups_at(i);
    entry(rq.cfs[i], 5 + 3 * rq.cfs[i].depth);
  }
  print_groups_at(rq.cfs.size());
  for (const Error& e : rq.skipped) out << "runq: " << e.message() << '\n';
}

// crash's translate_nanoseconds(): "D hh:mm:ss.mmm".
std::string days_clock(uint64_t ns) {
  uint64_t ms = ns / 1000000;
  return fmt::format("{} {:02}:{:02}:{:02}.{:03}", ms / 86400000, ms / 3600000 % 24, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

size_t digits(uint64_t n) { return fmt::format("{}", n).size(); }

Expected<void> show_timestamps(CommandContext& ctx, const std::vector<linux_kernel::RunQueue>& queues, char view) {
  nlohmann::json list = nlohmann::json::array();
  std::string text;
  size_t max_days = 0;
  size_t cpu_count = queues.size();
  std::vector<const linux_kernel::RunQueue*> order;
  for (const auto& rq : queues) order.push_back(&rq);
  if (view == 'T')  // newest clock first
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->clock > b->clock; });
  for (const linux_kernel::RunQueue* rq : order) {
    linux_kernel::Task task = describe(ctx.program, rq->current);
    CORONER_TRY(arrival, linux_kernel::last_arrival(ctx.program, rq->current));
    nlohmann::json entry = {{"cpu", rq->cpu}, {"clock", rq->clock}, {"current", task_header_json(task)},
                            {"last_arrival", arrival}};
    if (view == 't') {
      std::string clock = fmt::format("{}", rq->clock);
      text += fmt::format("{}CPU {}: {}\n", rq->cpu < 10 ? " " : "", rq->cpu, clock);
      size_t indent = rq->cpu < 100 ? 8 : rq->cpu < 1000 ? 9 : 10;
      text += fmt::format("{:{}}{:0{}}  {}\n", "", indent, arrival, clock.size(), task_line(task));
    } else if (view == 'T') {
      double lag = (static_cast<double>(order.front()->clock) - static_cast<double>(rq->clock)) / 1e9;
      entry["lag_seconds"] = lag;
      text += fmt::format("{:{}}CPU {}: {:.2f} secs\n", "", 2 + digits(cpu_count) - digits(rq->cpu), rq->cpu, lag);
    } else {  // 'm'
      size_t max_indent = cpu_count < 10 ? 1 : cpu_count < 100 ? 2 : cpu_count < 1000 ? 3 : 4;
      size_t indent = max_indent + 1 - std::min(max_indent, digits(rq->cpu));
      if (max_days == 0) max_days = days_clock(rq->clock).find(' ');
      uint64_t delta = rq->clock > arrival ? rq->clock - arrival : 0;
      std::string since = days_clock(delta);
      size_t days = since.find(' ');
      entry["running_ns"] = delta;
      text += fmt::format("{:{}}CPU {}: [{:{}}{}]  {}\n", "", indent, rq->cpu, "", max_days > days ? max_days - days : 0,
                          since, task_line(task));
    }
    list.push_back(std::move(entry));
  }
  if (ctx.json()) ctx.emit({{"cpus", list}});
  else ctx.out << text;
  return {};
}

Expected<void> run_runq(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(r, parse_request(args));
  CORONER_TRY(info, ctx.program.debug_info());
  CORONER_TRY(cfs_groups, info->has_member("struct task_group", "cfs_rq"));
  CORONER_TRY(rt_groups, info->has_member("struct task_group", "rt_rq"));
  if (r.view == 'g' && !cfs_groups && !rt_groups)
    return make_error(Errc::unsupported, "-g option not supported or applicable on this architecture or kernel");
  RunqRequest all = r;
  if (r.view == 'T') all.cpus.reset();  // crash's -T compares every CPU
  CORONER_TRY(states, selected_cpus(ctx.program, all));
  std::vector<uint32_t> cpus;
  for (const linux_kernel::CpuState& s : states) cpus.push_back(s.cpu);
  CORONER_TRY(queues, linux_kernel::run_queues(ctx.program, cpus));
  if (r.view == 't' || r.view == 'T' || r.view == 'm') return show_timestamps(ctx, queues, r.view);
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const linux_kernel::RunQueue& rq : queues) list.push_back(run_queue_json(ctx.program, rq));
    ctx.emit({{"cpus", list}});
    return {};
  }
  for (size_t i = 0; i < queues.size(); ++i) {
    if (r.view == 'g') print_by_group(ctx.out, ctx.program, queues[i], i == 0, rt_groups);
    else print_run_queue(ctx.out, ctx.program, queues[i], i == 0);
  }
  return {};
}

}  // namespace

Command runq_command() {
  return {"runq", "each CPU's run queue: the running task and the tasks queued on the RT, CFS and deadline queues",
          "  runq [-t | -T | -m | -g] [-c CPU(s)]\n"
          "    (none)  per CPU: RUNQUEUE, CURRENT, RT PRIO_ARRAY and CFS RB_ROOT with the queued tasks as\n"
          "            [PRIO] PID TASK COMMAND (a task group's queue shows its tasks); DL RB_ROOT when\n"
          "            a deadline task is queued\n"
          "    -t      each runqueue's clock and its running task's last arrival (sched_info, 0 without it)\n"
          "    -T      each CPU's clock behind the newest one, in seconds\n"
          "    -m      how long each running task has been on its CPU, as [D hh:mm:ss.mmm]\n"
          "    -g      the queues by task group (FAIR_GROUP_SCHED kernels)\n"
          "    -c CPU  only these CPUs: 3, 1,8,9, 1-3\n"
          "  crash> runq -c 0",
          run_runq};
}

}  // namespace coroner::commands
