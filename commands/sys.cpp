// sys: crash's system summary (KERNEL, DUMPFILE, CPUS, DATE, UPTIME, ...).
#include "analyzer/os/linux/system_info.hpp"
#include "commands/builtin.hpp"

#include <algorithm>
#include <ctime>
#include <ostream>

namespace coroner::commands {

namespace {

std::string format_date(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S UTC %Y", &tm);
  return buf;
}

std::string format_uptime(uint64_t seconds) {
  uint64_t days = seconds / 86400;
  std::string clock = fmt::format("{:02}:{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
  return days ? fmt::format("{} days, {}", days, clock) : clock;
}

// "511.5 MB", "2 GB": one decimal, dropped when it is zero (as crash).
std::string format_memory(uint64_t bytes) {
  bool giga = bytes >= (1ull << 30);
  double value = static_cast<double>(bytes) / static_cast<double>(giga ? 1ull << 30 : 1ull << 20);
  std::string number = fmt::format("{:.1f}", value);
  if (number.ends_with(".0")) number.resize(number.size() - 2);
  return number + (giga ? " GB" : " MB");
}

std::string dumpfile_text(const Program& program) {
  std::string files;
  for (const std::string& f : program.options().dumps) files += (files.empty() ? "" : " ") + f;
  const Dump& dump = program.dump();
  if (dump.dump_level().value_or(0) > 1) files += "  [PARTIAL DUMP]";
  if (dump.incomplete()) files += "  [INCOMPLETE DUMP]";
  return files;
}

Expected<void> run_sys(CommandContext& ctx, const Arguments& args) {
  if (!args.empty()) return make_error(Errc::invalid_argument, "unknown option {} (usage: sys)", args.front());
  const Program& program = ctx.program;
  linux_kernel::SystemInfo info = linux_kernel::read_system_info(program);
  std::string machine = info.uts.machine;
  std::string load = info.load_average
                         ? fmt::format("{:.2f}, {:.2f}, {:.2f}", (*info.load_average)[0], (*info.load_average)[1],
                                       (*info.load_average)[2])
                         : std::string();

  // CPUs that are present but were stopped (panic stops all but its own).
  std::vector<int> offline;
  for (int cpu : info.present_cpus)
    if (std::find(info.online_cpus.begin(), info.online_cpus.end(), cpu) == info.online_cpus.end()) offline.push_back(cpu);

  if (ctx.json()) {
    auto opt = [](const auto& v) -> nlohmann::json { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    ctx.emit({{"kernel", program.options().vmlinux},
              {"dumpfile", program.options().dumps},
              {"format", program.dump().description()},
              {"cpus", info.present_cpus.size()},
              {"online_cpus", info.online_cpus},
              {"offline_cpus", offline},
              {"date", info.time ? nlohmann::json(format_date(*info.time)) : nlohmann::json(nullptr)},
              {"uptime", info.uptime_seconds ? nlohmann::json(format_uptime(*info.uptime_seconds)) : nullptr},
              {"load_average", load.empty() ? nlohmann::json(nullptr) : nlohmann::json(load)},
              {"tasks", opt(info.tasks)},
              {"nodename", info.uts.nodename},
              {"release", info.uts.release},
              {"version", info.uts.version},
              {"machine", machine},
              {"cpu_mhz", opt(info.cpu_mhz)},
              {"memory", format_memory(info.memory_bytes)},
              {"memory_bytes", info.memory_bytes},
              {"panic", opt(info.panic)},
              {"problems", info.problems}});
    return {};
  }
  auto line = [&](std::string_view key, const std::string& value) {
    ctx.out << fmt::format("{:>12}: {}\n", key, value);
  };
  line("KERNEL", program.options().vmlinux);
  line("DUMPFILE", dumpfile_text(program));
  line("CPUS", offline.empty() ? std::to_string(info.present_cpus.size())
                               : fmt::format("{} [OFFLINE: {}]", info.present_cpus.size(), offline.size()));
  line("DATE", info.time ? format_date(*info.time) : "(unknown)");
  line("UPTIME", info.uptime_seconds ? format_uptime(*info.uptime_seconds) : "(unknown)");
  line("LOAD AVERAGE", load.empty() ? "(unknown)" : load);
  line("TASKS", info.tasks ? std::to_string(*info.tasks) : "(unknown)");
  line("NODENAME", info.uts.nodename);
  line("RELEASE", info.uts.release);
  line("VERSION", info.uts.version);
  line("MACHINE", info.cpu_mhz ? fmt::format("{}  ({} Mhz)", machine, *info.cpu_mhz) : machine);
  line("MEMORY", format_memory(info.memory_bytes));
  line("PANIC", info.panic ? fmt::format("\"{}\"", *info.panic) : "(none found)");
  return {};
}

}  // namespace

Command sys_command() {
  return {"sys", "system data: kernel, dump file, CPUs, date, uptime, release, panic message", "  sys\n  crash> sys", run_sys};
}

}  // namespace coroner::commands
