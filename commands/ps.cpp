// ps: process status as crash's
//   ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A] [PID | TASK | COMMAND ...]
// The table PID PPID CPU TASK ST %MEM VSZ RSS COMM, ">" before each CPU's
// active task, kernel threads in brackets; or one of the per-task views
// (ps_views.hpp). What the task walk could not read is named first.
#include "analyzer/os/linux/task_memory.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/freebsd_views.hpp"
#include "commands/ps_views.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <ostream>
#include <set>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage =
    "ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A] [PID | TASK | COMMAND ...]";
constexpr size_t kPointerWidth = 16;  // crash's VADDR_PRLEN on 64-bit kernels

struct PsRequest {
  bool kernel = false, user = false, leaders = false, kstackp = false;
  char view = 0;  // 0: the table; else the exclusive option (p c t l m a g r S A)
  std::vector<std::string> selectors;
};

Expected<PsRequest> parse_request(const Arguments& args) {
  PsRequest r;
  for (const std::string& word : args) {
    if (word.size() < 2 || word[0] != '-') {
      r.selectors.push_back(word);
      continue;
    }
    for (char option : std::string_view(word).substr(1)) {
      switch (option) {
        case 'k':
        case 'u':
          if ((option == 'k' && r.user) || (option == 'u' && r.kernel))
            return make_error(Errc::invalid_argument, "-u and -k are mutually exclusive");
          (option == 'k' ? r.kernel : r.user) = true;
          break;
        case 'G': r.leaders = true; break;
        case 's': r.kstackp = true; break;
        case 'p': case 'c': case 't': case 'l': case 'm': case 'a': case 'g': case 'r': case 'S': case 'A':
          if (r.view && r.view != option)
            return make_error(Errc::invalid_argument,
                              "-a, -t, -c, -p, -g, -l, -m, -S, -r and -A flags are all mutually-exclusive");
          r.view = option;
          break;
        default:
          return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", option, kUsage);
      }
    }
  }
  if (r.view == 'S' && (r.kernel || r.user || r.leaders))
    return make_error(Errc::invalid_argument, "-S option cannot be used with other options");
  if (r.view == 'S' && !r.selectors.empty()) return make_error(Errc::invalid_argument, "-S option takes no arguments");
  return r;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A task_struct address: 0x..., or a long word of hex digits with a letter
// (a command name rarely is one).
bool looks_like_address(std::string_view word) {
  if (word.starts_with("0x") || word.starts_with("0X")) return true;
  return word.size() >= 8 && std::all_of(word.begin(), word.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

const linux_kernel::Task* leader_of(const linux_kernel::TaskList& list, const linux_kernel::Task& task) {
  if (task.pid == task.tgid) return &task;
  for (const linux_kernel::Task& t : list.tasks)
    if (t.pid == task.tgid) return &t;
  return nullptr;
}

// The tasks a request shows, in list order. A PID or address that names
// no task is an error (crash's "invalid task or pid value"); a command name
// may match none. A task named by address outside the readable part of the
// list is kept in `direct`.
Expected<TaskRefs> select(const Program& program, const linux_kernel::TaskList& list, const PsRequest& r,
                          std::deque<linux_kernel::Task>& direct) {
  std::set<uint64_t> named;  // task addresses
  std::set<std::string> names;
  bool leaders_only = r.leaders || r.view == 'g';
  for (const std::string& word : r.selectors) {
    if (all_digits(word)) {
      auto pid = parse_pid(word);
      if (!pid) return make_error(Errc::invalid_argument, "invalid task or pid value: {}", word);
      size_t before = named.size();
      for (const linux_kernel::Task& t : list.tasks)
        if (t.pid == *pid) named.insert(t.address);
      if (named.size() == before) return make_error(Errc::not_found, "invalid task or pid value: {}", word);
    } else if (looks_like_address(word)) {
      CORONER_TRY(task, task_argument(program, word));
      named.insert(task.address);
      direct.push_back(task);
    } else {
      names.insert(word.starts_with("\\") ? word.substr(1) : word);  // "\123": a command named by digits
    }
  }
  TaskRefs selected;
  std::set<uint64_t> shown;
  std::set<int64_t> groups;
  bool specified = !r.selectors.empty();
  auto consider = [&](const linux_kernel::Task& t) {
    if (specified && !named.count(t.address) && !(names.count(t.comm) && (!leaders_only || t.pid == t.tgid))) return;
    if (r.user && t.kernel_thread()) return;
    if (r.kernel && !t.kernel_thread()) return;
    const linux_kernel::Task* shown_task = &t;
    if (leaders_only && t.pid != t.tgid) {
      // A named thread shows its group's leader (once); unnamed threads none.
      if (!specified) return;
      shown_task = leader_of(list, t);
      if (!shown_task) return;
    }
    // ps -g lists a group once (the idle tasks share TGID 0).
    if (r.view == 'g' && !groups.insert(shown_task->tgid).second) return;
    if (shown.insert(shown_task->address).second) selected.push_back(shown_task);
  };
  for (const linux_kernel::Task& t : list.tasks) consider(t);
  for (const linux_kernel::Task& t : direct) consider(t);  // read behind a break in the list
  return selected;
}

// The kernel stack pointer saved at the last switch (crash's KSTACKP):
// x86_64 thread.sp, arm64 thread.cpu_context.sp.
std::string kernel_stack_pointer(const Program& program, const linux_kernel::Task& task, bool active) {
  if (active) return std::string(7, ' ') + "--" + std::string(7, ' ');
  auto offset = program.member_offset("struct task_struct", "thread.sp");
  if (!offset) offset = program.member_offset("struct task_struct", "thread.cpu_context.sp");
  auto sp = offset ? program.memory().read_u64(task.address + *offset) : Expected<uint64_t>(offset.error());
  return sp ? fmt::format("{:016x}", *sp) : std::string(7, ' ') + "??" + std::string(7, ' ');
}

struct TableRow {
  const linux_kernel::Task* task;
  bool active;
  linux_kernel::TaskMemory memory;
  std::string pointer, state;
};

std::string header(bool kstackp) {
  std::string column(kstackp ? "KSTACKP" : "TASK");
  size_t pad = kPointerWidth - column.size();
  size_t left = kstackp ? pad - pad / 2 : pad / 2;  // crash centers KSTACKP right-justified
  return fmt::format("      PID    PPID  CPU {}{}{}  ST  %MEM      VSZ      RSS  COMM\n", std::string(left, ' '), column,
                     std::string(pad - left, ' '));
}

std::string row_text(const TableRow& row, uint64_t page_size) {
  const linux_kernel::Task& t = *row.task;
  std::string percent = fmt::format("{:.1f}", row.memory.percent);
  if (percent.size() == 3) percent = " " + percent;
  std::string comm = t.kernel_thread() ? "[" + t.comm + "]" : t.comm;
  return fmt::format("{}{:>7} {:>7} {:>3}  {} {:>3}{}{} {:>8} {:>8}  {}\n", row.active ? "> " : "  ", t.pid, t.ppid,
                     t.cpu, row.pointer, row.state, row.state.size() > 3 ? " " : "  ", percent,
                     row.memory.total_vm_pages * page_size / 1024, row.memory.rss_pages * page_size / 1024, comm);
}

nlohmann::json row_json(const TableRow& row, uint64_t page_size, bool kstackp) {
  const linux_kernel::Task& t = *row.task;
  nlohmann::json j = {{"pid", t.pid}, {"ppid", t.ppid}, {"cpu", t.cpu}, {"st", row.state},
                      {"%mem", std::round(row.memory.percent * 10) / 10}, {"vsz", row.memory.total_vm_pages * page_size / 1024},
                      {"rss", row.memory.rss_pages * page_size / 1024}, {"comm", t.comm}, {"active", row.active},
                      {"kernel_thread", t.kernel_thread()}};
  if (kstackp) j["kstackp"] = row.pointer;
  else j["task"] = fmt::format("{:#x}", t.address);
  return j;
}

// The table (also -A and foreach ps) or the -S summary.
Expected<void> show_table(CommandContext& ctx, const linux_kernel::TaskList& list, const TaskRefs& tasks,
                          const PsRequest& r, nlohmann::json& document) {
  CORONER_TRY(active, active_tasks(ctx.program));
  const linux_kernel::TaskStateBits& bits = linux_kernel::task_state_bits(ctx.program);
  uint64_t page_size = ctx.program.arch().page_size();
  if (r.view == 'S') {
    std::vector<std::pair<std::string, size_t>> counts;  // in order of first appearance, as crash
    for (const linux_kernel::Task* t : tasks) {
      std::string state = linux_kernel::state_letters(bits, t->state);
      auto at = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == state; });
      if (at == counts.end()) counts.emplace_back(state, 1);
      else ++at->second;
    }
    nlohmann::json summary = nlohmann::json::object();
    for (const auto& [state, count] : counts) {
      if (!ctx.json()) ctx.out << fmt::format("  {}: {}\n", state, count);
      summary[state] = count;
    }
    document["summary"] = summary;
    return {};
  }
  if (!ctx.json()) ctx.out << header(r.kstackp);
  nlohmann::json rows = nlohmann::json::array();
  for (const linux_kernel::Task* t : tasks) {
    TableRow row{t, active.count(t->address) > 0, {}, {}, linux_kernel::state_letters(bits, t->state)};
    if (r.view == 'A' && !row.active) continue;
    auto memory = linux_kernel::task_memory(ctx.program, *t, list);
    if (memory) row.memory = *memory;
    row.pointer = r.kstackp ? kernel_stack_pointer(ctx.program, *t, row.active) : fmt::format("{:016x}", t->address);
    if (ctx.json()) {
      rows.push_back(row_json(row, page_size, r.kstackp));
      if (!memory) rows.back()["problem"] = memory.error().message();
    } else {
      ctx.out << row_text(row, page_size);
    }
  }
  document["tasks"] = rows;
  return {};
}

Expected<void> run_request(CommandContext& ctx, const PsRequest& r, const TaskRefs& tasks) {
  CORONER_TRY(list, linux_kernel::task_list(ctx.program));
  nlohmann::json document = nlohmann::json::object();
  // What the walk could not read comes first, as crash's warnings do.
  if (!list->skipped.empty()) {
    document["skipped"] = list->skipped;
    if (!ctx.json())
      for (const std::string& line : list->skipped) ctx.out << "WARNING: " << line << '\n';
  }
  PsViewOutput view;
  switch (r.view) {
    case 'p': show_parents(*list, tasks, view); break;
    case 'c': show_children(*list, tasks, view); break;
    case 'g': show_thread_groups(*list, tasks, view); break;
    case 't': CORONER_CHECK(show_times(ctx.program, tasks, view)); break;
    case 'l': case 'm': CORONER_CHECK(show_last_run(ctx.program, tasks, r.view == 'm', view)); break;
    case 'r': CORONER_CHECK(show_rlimits(ctx.program, tasks, view)); break;
    case 'a': CORONER_CHECK(show_arguments(ctx.program, tasks, view)); break;
    default: CORONER_CHECK(show_table(ctx, *list, tasks, r, document));
  }
  if (r.view && std::string_view("pcgtlmra").find(r.view) != std::string_view::npos) {
    document["tasks"] = view.json;
    if (!ctx.json()) ctx.out << view.text;
  }
  if (ctx.json()) ctx.emit(document);
  return {};
}

Expected<void> run_ps(CommandContext& ctx, const Arguments& args) {
  if (auto freebsd = freebsd_kernel::kernel_model(ctx.program)) return show_freebsd_threads(ctx, **freebsd, args);
  CORONER_TRY(request, parse_request(args));
  CORONER_TRY(list, linux_kernel::task_list(ctx.program));
  std::deque<linux_kernel::Task> direct;
  CORONER_TRY(tasks, select(ctx.program, *list, request, direct));
  return run_request(ctx, request, tasks);
}

// foreach's entry: the tasks foreach selected, ps's display options.
Expected<void> run_ps_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                               const Arguments& options) {
  CORONER_TRY(request, parse_request(options));
  if (!request.selectors.empty() || request.kernel || request.user || request.view == 'S' || request.view == 'A')
    return make_error(Errc::invalid_argument, "foreach ps takes ps's display options only (-G -s -p -c -t -l -m -a -g -r)");
  CORONER_TRY(list, linux_kernel::task_list(ctx.program));
  TaskRefs refs;
  for (const linux_kernel::Task& task : tasks)
    for (const linux_kernel::Task& known : list->tasks)
      if (known.address == task.address && (!request.leaders || known.pid == known.tgid)) refs.push_back(&known);
  return run_request(ctx, request, refs);
}

}  // namespace

PerTaskCommand ps_per_task_command() { return {"ps", run_ps_per_task}; }

Command ps_command() {
  return {"ps", "process status of every task, or of the tasks selected",
          "  ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A] [PID | TASK | COMMAND ...]\n"
          "    PID, TASK (hex task_struct address), COMMAND (a command name; \\NAME for one made of digits)\n"
          "    -k / -u  kernel threads only / user tasks only\n"
          "    -G       the thread group leaders only (a named thread shows its leader)\n"
          "    -s       KSTACKP (the kernel stack pointer saved at the last switch) instead of TASK\n"
          "    -p       the parents of each task, from PID 0 down      -c  the children of each task\n"
          "    -g       the threads of each thread group                -t  run time, start time, utime, stime\n"
          "    -l / -m  sched_info.last_arrival, newest first / as the time since (CONFIG_SCHED_INFO)\n"
          "    -a       command line arguments and environment (needs the user pages in the dump)\n"
          "    -r       resource limits                                 -S  how many tasks are in each state\n"
          "    -A       only the active task of each CPU\n"
          "  Columns: PID, PPID (the parent's TGID), CPU (last run on), TASK (task_struct), ST (RU IN UN ID\n"
          "  ST TR ZO DE PA WA NE), %MEM, VSZ and RSS (KiB: total_vm and the mm counters plus the threads'\n"
          "  unsynced caches), COMM ([kernel thread]); \">\" marks each CPU's active task. Parts of the task\n"
          "  lists that cannot be read are named first (WARNING: ...), the tasks behind them are still listed\n"
          "  when another link reaches them.\n"
          "  On a FreeBSD minidump with its kernel file: ps [PID | COMMAND ...], each thread of each process\n"
          "  (PID TID CPU THREAD STATE WMESG COMM; docs/freebsd.md).\n"
          "  crash> ps\n"
          "  crash> ps -k\n"
          "  crash> ps -p 1\n"
          "  crash> ps -S",
          run_ps};
}

}  // namespace coroner::commands
