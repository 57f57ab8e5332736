// sys: crash's system summary (KERNEL, DUMPFILE, CPUS, DATE, UPTIME, ...),
// `sys -t` the kernel's taint flags, `sys -c` the system call table and
// `sys config` the kernel's built-in .config.
#include "analyzer/os/linux/kernel_config.hpp"
#include "analyzer/os/linux/kernel_taint.hpp"
#include "analyzer/os/linux/syscall_table.hpp"
#include "analyzer/os/linux/system_info.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "commands/builtin.hpp"
#include "commands/freebsd_views.hpp"
#include "commands/date_format.hpp"
#include "commands/memory_size.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace coroner::commands {

namespace {

constexpr const char* kUsage = "sys [-t] [-c [NAME | NUMBER ...]] [config]";

std::string format_uptime(uint64_t seconds) {
  uint64_t days = seconds / 86400;
  std::string clock = fmt::format("{:02}:{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
  return days ? fmt::format("{} days, {}", days, clock) : clock;
}

// avenrun[] as the kernel's /proc/loadavg rounds it: "0.52, 0.58, 0.59".
std::string format_load(const std::array<uint64_t, 3>& avenrun) {
  constexpr uint64_t kFixed1 = uint64_t{1} << linux_kernel::kLoadFixedShift;
  std::string text;
  for (uint64_t value : avenrun) {
    uint64_t rounded = value + kFixed1 / 200;
    uint64_t whole = rounded >> linux_kernel::kLoadFixedShift;
    uint64_t hundredths = ((rounded & (kFixed1 - 1)) * 100) >> linux_kernel::kLoadFixedShift;
    text += fmt::format("{}{}.{:02}", text.empty() ? "" : ", ", whole, hundredths);
  }
  return text;
}

// The dump files, then crash's notes: [PARTIAL DUMP] when the dump left
// pages out (a dump level above 1; level 1 drops only zero pages, which
// read back as zeros), [INCOMPLETE] when the dump ended early.
std::string dumpfile_text(const Program& program) {
  std::string files;
  for (const std::string& f : program.options().dumps) files += (files.empty() ? "" : " ") + f;
  const Dump& dump = program.dump();
  bool partial = dump.dump_level().value_or(0) > 1;
  if (partial || dump.incomplete()) files += " ";
  if (partial) files += " [PARTIAL DUMP]";
  if (dump.incomplete()) files += " [INCOMPLETE]";
  return files;
}

// crash's PANIC: the line, quoted, and a pointer to the log after an oops.
std::string panic_text(const std::optional<std::string>& panic) {
  if (!panic) return "(none found)";
  bool oops = panic->find("Oops: ") != std::string::npos;
  return fmt::format("\"{}\"{}", *panic, oops ? " (check log for details)" : "");
}

Expected<void> show_taint(CommandContext& ctx) {
  CORONER_TRY(taint, linux_kernel::read_kernel_taint(ctx.program));
  if (ctx.json()) {
    nlohmann::json set = nlohmann::json::array();
    for (const linux_kernel::TaintFlag& flag : taint.set)
      set.push_back({{"bit", flag.bit}, {"flag", std::string(1, flag.letter)}, {"name", flag.name}});
    ctx.emit({{"tainted_mask", fmt::format("{:x}", taint.mask)}, {"flags", taint.letters}, {"set", set}});
    return {};
  }
  ctx.out << fmt::format("TAINTED_MASK: {:x}  {}\n", taint.mask, taint.letters);
  return {};
}

Expected<void> show_summary(CommandContext& ctx) {
  const Program& program = ctx.program;
  linux_kernel::SystemInfo info = linux_kernel::read_system_info(program);
  // TASKS counts every task as crash does, each CPU's idle task included.
  std::optional<size_t> tasks;
  if (auto list = linux_kernel::task_list(program)) {
    tasks = (*list)->tasks.size();
    for (const std::string& skipped : (*list)->skipped) info.problems.push_back("tasks: " + skipped);
  } else {
    info.problems.push_back(fmt::format("tasks: {}", list.error().message()));
  }
  std::string machine = info.uts.machine;
  std::string load = info.load_average ? format_load(*info.load_average) : std::string();
  std::string memory = format_memory(info.memory_bytes, program.arch().page_size());
  bool tainted = info.tainted_mask.value_or(0) != 0;

  // CPUs that are present but were stopped (panic stops all but its own).
  std::vector<int> offline;
  for (int cpu : info.present_cpus)
    if (std::find(info.online_cpus.begin(), info.online_cpus.end(), cpu) == info.online_cpus.end()) offline.push_back(cpu);

  if (ctx.json()) {
    auto opt = [](const auto& v) -> nlohmann::json { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    ctx.emit({{"kernel", program.options().vmlinux.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(program.options().vmlinux)},
              {"debuginfo_reason", program.debuginfo_reason().empty() ? nlohmann::json(nullptr)
                                                                       : nlohmann::json(program.debuginfo_reason())},
              {"kernel_found_by", program.vmlinux_origin().empty() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(program.vmlinux_origin())},
              {"tainted", tainted},
              {"dumpfile", program.options().dumps},
              {"format", program.dump().description()},
              {"cpus", info.present_cpus.size()},
              {"online_cpus", info.online_cpus},
              {"offline_cpus", offline},
              {"date", info.time ? nlohmann::json(format_date(*info.time)) : nlohmann::json(nullptr)},
              {"uptime", info.uptime_seconds ? nlohmann::json(format_uptime(*info.uptime_seconds)) : nullptr},
              {"load_average", load.empty() ? nlohmann::json(nullptr) : nlohmann::json(load)},
              {"tasks", opt(tasks)},
              {"nodename", info.uts.nodename},
              {"release", info.uts.release},
              {"version", info.uts.version},
              {"machine", machine},
              {"cpu_mhz", opt(info.cpu_mhz)},
              {"memory", memory},
              {"memory_bytes", info.memory_bytes},
              {"panic", opt(info.panic)},
              {"problems", info.problems}});
    return {};
  }
  auto line = [&](std::string_view key, const std::string& value) {
    ctx.out << fmt::format("{:>12}: {}\n", key, value);
  };
  // A vmlinux found by the dump's build-id says where (crash prints the path alone).
  const std::string found_by = program.vmlinux_origin().empty() ? "" : "  (by build-id: " + program.vmlinux_origin() + ")";
  const DebugInfoSource source = program.debuginfo_source();
  const std::string kernel = source == DebugInfoSource::dwarf ? program.options().vmlinux + found_by
                             : source == DebugInfoSource::btf_kallsyms
                                 ? "(no vmlinux: symbols from the dump's kallsyms, types from its BTF)"
                                 : "(no vmlinux: symbols from the dump's kallsyms, types inferred from memory)";
  line("KERNEL", kernel + (tainted ? "  [TAINTED]" : ""));
  line("DUMPFILE", dumpfile_text(program));
  line("CPUS", offline.empty() ? std::to_string(info.present_cpus.size())
                               : fmt::format("{} [OFFLINE: {}]", info.present_cpus.size(), offline.size()));
  line("DATE", info.time ? format_date(*info.time) : "(unknown)");
  line("UPTIME", info.uptime_seconds ? format_uptime(*info.uptime_seconds) : "(unknown)");
  line("LOAD AVERAGE", load.empty() ? "(unknown)" : load);
  line("TASKS", tasks ? std::to_string(*tasks) : "(unknown)");
  line("NODENAME", info.uts.nodename);
  line("RELEASE", info.uts.release);
  line("VERSION", info.uts.version);
  line("MACHINE", info.cpu_mhz ? fmt::format("{}  ({} Mhz)", machine, *info.cpu_mhz)
                               : fmt::format("{}  (unknown Mhz)", machine));
  line("MEMORY", memory);
  line("PANIC", panic_text(info.panic));
  return {};
}

// crash: with no spec every slot; else for each spec in turn, a NUMBER
// picks that slot, a NAME every handler whose name holds it.
std::vector<const linux_kernel::SystemCall*> selected(const std::vector<linux_kernel::SystemCall>& calls,
                                                     const std::vector<std::string>& specs) {
  std::vector<const linux_kernel::SystemCall*> shown;
  if (specs.empty())
    for (const linux_kernel::SystemCall& call : calls) shown.push_back(&call);
  for (const std::string& spec : specs) {
    bool number = std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
    for (const linux_kernel::SystemCall& call : calls)
      if (number ? std::to_string(call.number) == spec : call.name.find(spec) != std::string::npos)
        shown.push_back(&call);
  }
  return shown;
}

Expected<void> show_system_calls(CommandContext& ctx, const std::vector<std::string>& specs) {
  for (const std::string& spec : specs)
    if (spec.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", spec, kUsage);
  CORONER_TRY(table, linux_kernel::system_call_table(ctx.program, /*with_lines=*/true));
  const std::vector<const linux_kernel::SystemCall*> shown = selected(table.calls, specs);
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const linux_kernel::SystemCall* call : shown)
      list.push_back({{"number", call->number},
                      {"handler", fmt::format("{:#x}", call->handler)},
                      {"name", call->name.empty() ? nlohmann::json(nullptr) : nlohmann::json(call->name)},
                      {"file", call->file.empty() ? nlohmann::json(nullptr) : nlohmann::json(call->file)},
                      {"line", call->file.empty() ? nlohmann::json(nullptr) : nlohmann::json(call->line)}});
    ctx.emit({{"sys_call_table", fmt::format("{:#x}", table.address)}, {"system_calls", list}});
    return {};
  }
  // crash prints nothing, not even the header, when no slot matches.
  if (shown.empty()) return {};
  ctx.out << "NUM  SYSTEM CALL                FILE AND LINE NUMBER\n";
  for (const linux_kernel::SystemCall* call : shown) {
    if (call->name.empty()) {
      ctx.out << fmt::format("{:3}  invalid sys_call_table entry: {:x}\n", call->number, call->handler);
      continue;
    }
    std::string where = call->file.empty() ? "" : fmt::format("{}: {}", call->file, call->line);
    ctx.out << fmt::format("{:3}  {:<26} {}\n", call->number, call->name, where);
  }
  return {};
}

Expected<void> show_config(CommandContext& ctx) {
  CORONER_TRY(config, linux_kernel::kernel_config(ctx.program));
  if (ctx.json()) {
    // The settings as a map (CONFIG_X -> value); "is not set" lines as null.
    nlohmann::json settings = nlohmann::json::object();
    std::istringstream lines(config);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("CONFIG_")) {
        size_t eq = line.find('=');
        if (eq != std::string::npos) settings[line.substr(0, eq)] = line.substr(eq + 1);
      } else if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
        settings[line.substr(2, line.size() - 2 - std::string_view(" is not set").size())] = nullptr;
      }
    }
    ctx.emit({{"config", settings}});
    return {};
  }
  ctx.out << config;
  if (!config.empty() && config.back() != '\n') ctx.out << '\n';
  return {};
}

Expected<void> run_sys(CommandContext& ctx, const Arguments& args) {
  if (ctx.program.debuginfo_source() == DebugInfoSource::none && !args.empty() && (args[0] == "-c" || args[0] == "config"))
    return make_error(Errc::unsupported, "{}: not available for a dump opened without a kernel file", args[0]);
  if (!args.empty() && args[0] == "-c") return show_system_calls(ctx, {args.begin() + 1, args.end()});
  if (args.size() == 1 && args[0] == "config") return show_config(ctx);
  bool taint = false;
  for (const std::string& word : args) {
    if (word == "-t") taint = true;
    else return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
  }
  if (auto freebsd = freebsd_kernel::kernel_model(ctx.program)) {
    if (taint) return make_error(Errc::unsupported, "-t: Linux's taint flags; this is a FreeBSD dump");
    return show_freebsd_system(ctx, **freebsd);
  }
  return taint ? show_taint(ctx) : show_summary(ctx);
}

}  // namespace

Command sys_command() {
  return {"sys", "system data: kernel, dump file, CPUs, date, uptime, release, panic message",
          "  sys [-t] [-c [NAME | NUMBER ...]] [config]\n"
          "    -t      the kernel's taint flags: tainted_mask and the letters of its set flags\n"
          "    -c      the system call table: NUM SYSTEM CALL FILE AND LINE NUMBER for each slot of\n"
          "            sys_call_table; a NUMBER shows that slot, a NAME each handler whose name holds it\n"
          "    config  the kernel's .config, when built in (CONFIG_IKCONFIG); JSON: CONFIG_X -> value\n"
          "  Without a vmlinux (symbols from the dump's kallsyms) KERNEL says so; what needs types it cannot\n"
          "  find is (unknown).\n"
          "  On a FreeBSD minidump opened alone: KERNEL, DUMPFILE, FORMAT, HEADER, DATE, NODENAME, RELEASE,\n"
          "  VERSION, MACHINE, PAGE SIZE, MEMORY, PANIC from the kerneldumpheader (or info.N) and the dump\n"
          "  crash> sys\n"
          "  crash> sys -c write\n"
          "  crash> sys -t",
          run_sys};
}

}  // namespace coroner::commands
