// log: the kernel's message buffer, as crash's `log [-Ttdmc]` prints it --
// the lockless ring of 5.10+ or the legacy log_buf, read from VMCOREINFO
// (completed from DWARF only where the dump lacks keys).
#include "analyzer/os/linux/printk_log.hpp"
#include "analyzer/os/linux/printk_vmcoreinfo.hpp"
#include "analyzer/os/linux/system_info.hpp"
#include "commands/builtin.hpp"
#include "commands/date_format.hpp"
#include "commands/freebsd_views.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr const char* kUsage = "log [-Ttdmc]";
constexpr uint64_t kNsecPerSec = 1000000000;

struct LogOptions {
  bool wall_clock = false;  // -T
  bool no_time = false;     // -t
  bool device = false;      // -d
  bool level = false;       // -m
  bool caller = false;      // -c
};

Expected<LogOptions> parse_options(const Arguments& args) {
  LogOptions o;
  for (const std::string& word : args) {
    if (word.size() < 2 || word[0] != '-')
      return make_error(Errc::invalid_argument, "unexpected argument {} (usage: {})", word, kUsage);
    for (char c : std::string_view(word).substr(1)) {
      switch (c) {
        case 'T': o.wall_clock = true; break;
        case 't': o.no_time = true; break;
        case 'd': o.device = true; break;
        case 'm': o.level = true; break;
        case 'c': o.caller = true; break;
        case 'a':
        case 's':
          return make_error(Errc::unsupported, "-{} is not supported: coroner reads the {} (usage: {})", c,
                            c == 'a' ? "printk log, not the audit queues" : "printk log, not the per-CPU safe buffers",
                            kUsage);
        default: return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", c, kUsage);
      }
    }
  }
  return o;
}

// crash's caller column: "T123" for a thread, "C1" for a CPU, as wide as
// the largest PID can be (pid_max up to 99999: 6, up to 999999: 7, else 8).
std::string caller_text(uint32_t caller_id) {
  bool cpu = (caller_id & linux_kernel::kCallerCpu) != 0;
  return fmt::format("{}{}", cpu ? 'C' : 'T', caller_id & ~linux_kernel::kCallerCpu);
}

size_t caller_width(const Program& program) {
  constexpr size_t kDefault = 8;
  auto pid_max = program.symbol_address("pid_max");
  if (!pid_max) return kDefault;
  auto value = program.memory().read_u32(*pid_max);
  if (!value) return kDefault;
  return *value <= 99999 ? 6 : *value <= 999999 ? 7 : kDefault;
}

// One record as crash prints it: time stamp, caller, level, the text with
// its continuation lines indented under it, and with -d its device.
std::string format_record(const linux_kernel::LogRecord& record, const LogOptions& o, int64_t boot_time,
                          size_t width) {
  std::string prefix;
  if (o.no_time) {
  } else if (o.wall_clock) {
    prefix = fmt::format("[{}] ", format_date(boot_time + static_cast<int64_t>(record.ts_nsec / kNsecPerSec)));
  } else {
    prefix = linux_kernel::log_timestamp(record);
  }
  if (o.caller && record.caller_id) prefix += fmt::format("[{:>{}}] ", caller_text(*record.caller_id), width);
  if (o.level) prefix += fmt::format("<{:x}>", record.level);
  std::string text = linux_kernel::format_log_text(prefix, record);
  if (o.device) {
    std::string indent(prefix.size(), ' ');
    if (!record.subsystem.empty()) text += fmt::format("\n{}SUBSYSTEM={}", indent, record.subsystem);
    if (!record.device.empty()) text += fmt::format("\n{}DEVICE={}", indent, record.device);
  }
  return text + '\n';
}

nlohmann::json record_json(const linux_kernel::LogRecord& record, const LogOptions& o, int64_t boot_time) {
  nlohmann::json j = {{"seq", record.seq},
                      {"ts_nsec", record.ts_nsec},
                      {"time", fmt::format("{}.{:06}", record.ts_nsec / kNsecPerSec, record.ts_nsec % kNsecPerSec / 1000)},
                      {"level", record.level},
                      {"facility", record.facility},
                      {"continuation", record.continuation},
                      {"caller", record.caller_id ? nlohmann::json(caller_text(*record.caller_id)) : nlohmann::json()},
                      {"text", record.text},
                      {"subsystem", record.subsystem},
                      {"device", record.device}};
  if (o.wall_clock) j["date"] = format_date(boot_time + static_cast<int64_t>(record.ts_nsec / kNsecPerSec));
  return j;
}

Expected<void> run_log(CommandContext& ctx, const Arguments& args) {
  if (auto freebsd = freebsd_kernel::kernel_model(ctx.program)) return show_freebsd_log(ctx, **freebsd, args);
  CORONER_TRY(options, parse_options(args));
  const Program& program = ctx.program;
  int64_t boot_time = 0;
  if (options.wall_clock) {
    auto boot = linux_kernel::boot_time(program);
    if (!boot) return boot.error().context("-T needs the time of boot");
    boot_time = *boot;
  }
  std::vector<Error> skipped;
  CORONER_TRY(records, linux_kernel::read_printk_log(linux_kernel::printk_vmcoreinfo(program), program.memory(),
                                                     &skipped));

  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const linux_kernel::LogRecord& record : records) list.push_back(record_json(record, options, boot_time));
    nlohmann::json problems = nlohmann::json::array();
    for (const Error& e : skipped) problems.push_back(e.message());
    ctx.emit({{"records", std::move(list)}, {"skipped", std::move(problems)}});
    return {};
  }
  size_t width = options.caller ? caller_width(program) : 0;
  std::string text;
  for (const linux_kernel::LogRecord& record : records) text += format_record(record, options, boot_time, width);
  for (const Error& e : skipped) text += fmt::format("log: skipped {}\n", e.message());
  ctx.out << text;
  return {};
}

}  // namespace

Command log_command() {
  return {"log", "the kernel's message buffer (printk ring or log_buf)",
          "  log [-Ttdmc]\n"
          "    -T  dates instead of seconds since boot (from the boot time: DATE minus UPTIME)\n"
          "    -t  no time stamps\n"
          "    -d  the device of dev_printk() records (SUBSYSTEM=, DEVICE=)\n"
          "    -m  each record's level, <L>\n"
          "    -c  who logged each record: [T<pid>] a thread, [C<cpu>] a CPU (5.10+, or CONFIG_PRINTK_CALLER)\n"
          "  On a FreeBSD minidump: the message buffer, oldest line first (no options)\n"
          "  crash> log\n"
          "  crash> log -T\n"
          "  crash> log -m",
          run_log};
}

}  // namespace coroner::commands
