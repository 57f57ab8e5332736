// bt: backtraces as crash's bt [-a|-c CPUS] [-f|-F] [-l] [-s [-x]] [-v] [-t|-T]
// [PID | TASK ...], unwound exactly (ORC, CFI, frame pointers, pt_regs)
// rather than guessed from text addresses on the stack; -t/-T still give
// that scan, marked as such.
#include "analyzer/os/linux/task_registers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/freebsd_views.hpp"
#include "commands/stack_format.hpp"
#include "commands/task_output.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "bt [-a|-c CPU[,CPU..]] [-f|-F] [-l] [-s [-x]] [-v] [-t|-T] [PID | TASK ...]";

struct BtRequest {
  BacktraceOptions options;
  bool all_cpus = false;            // -a
  std::vector<uint32_t> cpus;       // -c
  std::vector<std::string> tasks;   // PIDs and task addresses
};

Expected<BtRequest> parse_request(const Arguments& args) {
  BtRequest request;
  BacktraceOptions& o = request.options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.size() < 2 || word[0] != '-') {
      request.tasks.push_back(word);
      continue;
    }
    for (size_t j = 1; j < word.size(); ++j) {
      switch (word[j]) {
        case 'a': request.all_cpus = true; break;
        case 'f': o.frame_data = true; break;
        case 'F': o.symbolic_data = true; break;
        case 'l': o.lines = true; break;
        case 's': o.symbol_offsets = true; break;
        case 'x': o.hex_offsets = true; break;
        case 'v': o.variables = true; break;
        case 't': o.scan = BacktraceOptions::Scan::from_sp; break;
        case 'T': o.scan = BacktraceOptions::Scan::from_bottom; break;
        case 'c': {
          CORONER_TRY(cpus, option_cpu_list(args, i, j, kUsage));
          request.cpus.insert(request.cpus.end(), cpus.begin(), cpus.end());
          j = word.size();
          break;
        }
        default:
          return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", word[j], kUsage);
      }
    }
  }
  if (request.all_cpus && !request.cpus.empty())
    return make_error(Errc::invalid_argument, "-a and -c cannot be combined (usage: {})", kUsage);
  if ((request.all_cpus || !request.cpus.empty()) && !request.tasks.empty())
    return make_error(Errc::invalid_argument, "-a/-c select the tasks themselves: no PID or TASK with them");
  return request;
}

// -l and -v read the vmlinux's DWARF (line tables, variable locations): a
// session without it (no vmlinux file -- its types may still come from BTF
// -- or a vmlinux without debug info) refuses them in one line. Plain bt
// needs none: its frames are then the physical ones, named from the symbols.
Expected<void> require_dwarf(const Program& program, const BacktraceOptions& options) {
  if (!options.lines && !options.variables) return {};
  std::string why;
  if (program.vmlinux_path().empty()) why = "this session has no vmlinux file";
  else if (auto info = program.debug_info(); !info) why = info.error().message();
  else return {};
  return make_error(Errc::unsupported, "{} need the vmlinux's DWARF: {}",
                    options.lines ? "source lines" : "parameters and local variables", why);
}

struct Selected {
  linux_kernel::Task task;
  std::optional<uint32_t> cpu;  // for -a/-c: the CPU it runs on
};

// The active task of each requested CPU (every online one for -a; -c also
// takes a CPU the panic stopped, whose registers a QEMU dump still holds).
Expected<std::vector<Selected>> active_tasks(const Program& program, const BtRequest& request) {
  CORONER_TRY(states, linux_kernel::cpu_states(program));
  std::vector<Selected> selected;
  auto add = [&](const linux_kernel::CpuState& state) -> Expected<void> {
    CORONER_TRY(task, task_at(program, state.task));
    selected.push_back({std::move(task), state.cpu});
    return {};
  };
  if (request.all_cpus) {
    for (const auto& state : states)
      if (state.online) CORONER_CHECK(add(state));
    return selected;
  }
  for (uint32_t cpu : request.cpus) {
    auto state = std::find_if(states.begin(), states.end(), [&](const auto& s) { return s.cpu == cpu; });
    if (state == states.end()) return make_error(Errc::invalid_argument, "invalid CPU: {} (not present)", cpu);
    CORONER_CHECK(add(*state));
  }
  return selected;
}

// Traces and prints each task.
Expected<void> show(CommandContext& ctx, const std::vector<Selected>& tasks, const BacktraceOptions& options,
                    bool single) {
  BacktraceOptions traced = options;
  traced.find_lines = ctx.json();  // (-l adds them: backtrace_task)
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    TaskBacktrace backtrace = backtrace_task(ctx.program, tasks[i].task, traced, tasks[i].cpu);
    if (ctx.json()) return backtrace_json(ctx.program, backtrace, options);
    if (i > 0) ctx.out << '\n';
    print_backtrace(ctx.out, ctx.program, backtrace, options);
    return nlohmann::json();
  });
}

Expected<void> run_bt(CommandContext& ctx, const Arguments& args) {
  if (auto freebsd = freebsd_kernel::kernel_model(ctx.program)) return show_freebsd_backtraces(ctx, **freebsd, args);
  CORONER_TRY(request, parse_request(args));
  CORONER_CHECK(require_dwarf(ctx.program, request.options));
  std::vector<Selected> tasks;
  if (request.all_cpus || !request.cpus.empty()) {
    CORONER_TRY(active, active_tasks(ctx.program, request));
    tasks = std::move(active);
  } else if (!request.tasks.empty()) {
    for (const std::string& word : request.tasks) {
      CORONER_TRY(task, task_argument(ctx.program, word));
      tasks.push_back({std::move(task), std::nullopt});
    }
  } else {
    CORONER_TRY(task, default_task(ctx));
    tasks.push_back({std::move(task), std::nullopt});
  }
  bool single = !request.all_cpus && request.cpus.empty() && request.tasks.size() <= 1;
  return show(ctx, tasks, request.options, single);
}

// foreach's entry: the given tasks, bt's options (no -a/-c/PID).
Expected<void> run_bt_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                               const Arguments& options) {
  CORONER_TRY(request, parse_request(options));
  if (request.all_cpus || !request.cpus.empty() || !request.tasks.empty())
    return make_error(Errc::invalid_argument, "foreach bt takes bt's display options only (-f -F -l -s -x -v -t -T)");
  CORONER_CHECK(require_dwarf(ctx.program, request.options));
  std::vector<Selected> selected;
  for (const linux_kernel::Task& task : tasks) selected.push_back({task, std::nullopt});
  return show(ctx, selected, request.options, /*single=*/false);
}

}  // namespace

PerTaskCommand bt_per_task_command() { return {"bt", run_bt_per_task}; }

Command bt_command() {
  return {"bt", "backtrace of a task, of the crashed task, or of each CPU's active task",
          "  bt [-a|-c CPU[,CPU..]] [-f|-F] [-l] [-s [-x]] [-v] [-t|-T] [PID | TASK ...]\n"
          "    (none)   the task of the `set` context, else the one running on the CPU that crashed\n"
          "    PID      that task; TASK: a task_struct address in hex (several may be given)\n"
          "    -a       the task running on every online CPU, with the registers the dump saved for it\n"
          "    -c CPUS  the same for the CPUs listed (offline ones too): 3, 1,3 or 0-2\n"
          "    -f       the stack words of each frame (from its sp up to its caller's)\n"
          "    -F       the same, a word that is a symbol's address shown as symbol+offset\n"
          "    -l       the source file and line of each frame\n"
          "    -s       function+offset for each frame (-x: the offsets in hex)\n"
          "    -v       each frame's parameters and local variables (\"local \" marks the latter) with their\n"
          "             values where DWARF locates them at that pc: <optimized out>, or <unavailable: why>\n"
          "             (DW_OP_entry_value, a register the unwind did not recover) instead of a guess\n"
          "    -t / -T  no trace: the text addresses found on the stack from the first frame's sp (-t)\n"
          "             or from the stack's bottom (-T), a scan that may show stale values\n"
          "  Frames come from the unwind tables (ORC or DWARF CFI, arm64 frame pointers), with inlined\n"
          "  functions as frames of their own marked (inlined). An exception or interrupt frame shows\n"
          "  its registers before the interrupted function; the user-mode registers at the syscall\n"
          "  boundary end the trace. When the unwind stops early, the last line says why (bt: ...).\n"
          "  Without the vmlinux file: x86_64 uses the ORC tables in the dump, arm64 the frame records;\n"
          "  no inline frames, and -l and -v (which need the vmlinux's DWARF) are refused.\n"
          "  On a FreeBSD minidump with its kernel file: bt [-a] [TID | PID ...], from dumppcb (the panicking\n"
          "  thread), stoppcbs[cpu] or td_pcb, up the frame records (docs/freebsd.md).\n"
          "  crash> bt\n"
          "  crash> bt -a\n"
          "  crash> bt -f 1",
          run_bt};
}

}  // namespace coroner::commands
