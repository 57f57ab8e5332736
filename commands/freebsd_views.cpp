#include "commands/freebsd_views.hpp"

#include "commands/date_format.hpp"
#include "commands/memory_size.hpp"

#include <ostream>

namespace coroner::commands {

Expected<void> show_freebsd_system(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel) {
  const freebsd_kernel::SystemInfo info = freebsd_kernel::read_system_info(kernel);
  const Program& program = ctx.program;
  const freebsd::Minidump& dump = kernel.minidump();
  // The version string's first line; all of it in JSON.
  std::string version = info.version_string.substr(0, info.version_string.find('\n'));
  std::string machine = fmt::format("{}  (minidump {} version {})", info.machine_arch,
                                    freebsd::minidump_arch_name(dump.header().arch), dump.header().version);
  std::string memory = info.memory_bytes ? format_memory(*info.memory_bytes, info.page_size) : "(unknown)";
  std::string dumped = format_memory(info.dumped_bytes, info.page_size);
  if (ctx.json()) {
    auto text_or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    ctx.emit({{"kernel", program.vmlinux_path().empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(program.options().vmlinux)},
              {"os", "FreeBSD"},
              {"dumpfile", program.options().dumps},
              {"format", dump.description()},
              {"incomplete", dump.incomplete()},
              {"header_source", text_or_null(info.header_source)},
              {"date", info.dump_time ? nlohmann::json(format_date(static_cast<int64_t>(*info.dump_time)))
                                      : nlohmann::json(nullptr)},
              {"dump_time", info.dump_time ? nlohmann::json(*info.dump_time) : nlohmann::json(nullptr)},
              {"nodename", info.hostname},
              {"release", info.release},
              {"version", info.version_string},
              {"machine", info.machine_arch},
              {"page_size", info.page_size},
              {"memory", memory},
              {"memory_bytes", info.memory_bytes ? nlohmann::json(*info.memory_bytes) : nlohmann::json(nullptr)},
              {"dumped_bytes", info.dumped_bytes},
              {"panic", text_or_null(info.panic_string)},
              {"problems", info.problems}});
    return {};
  }
  auto line = [&](std::string_view key, const std::string& value) {
    ctx.out << fmt::format("{:>12}: {}\n", key, value);
  };
  std::string files;
  for (const std::string& f : program.options().dumps) files += (files.empty() ? "" : " ") + f;
  line("KERNEL", program.vmlinux_path().empty() ? "(none: the dump was opened without a kernel file)"
                                                : program.options().vmlinux);
  line("DUMPFILE", files + (dump.incomplete() ? "  [INCOMPLETE]" : ""));
  line("FORMAT", dump.description());
  line("HEADER", info.header_source.empty() ? "(none)" : info.header_source);
  line("DATE", info.dump_time ? format_date(static_cast<int64_t>(*info.dump_time)) : "(unknown)");
  line("NODENAME", info.hostname.empty() ? "(unknown)" : info.hostname);
  line("RELEASE", info.release.empty() ? "(unknown)" : info.release);
  line("VERSION", version.empty() ? "(unknown)" : version);
  line("MACHINE", machine);
  line("PAGE SIZE", std::to_string(info.page_size));
  line("MEMORY", fmt::format("{}  ({} dumped)", memory, dumped));
  line("PANIC", info.panic_string.empty() ? "(none found)" : fmt::format("\"{}\"", info.panic_string));
  for (const std::string& problem : info.problems) line("MISSING", problem);
  return {};
}

Expected<void> show_freebsd_log(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                const Arguments& args) {
  for (const std::string& word : args)
    if (word != "-t")
      return make_error(Errc::unsupported, "{}: a FreeBSD message buffer has no time stamps, levels, devices or "
                                           "callers (usage: log)",
                        word);
  CORONER_TRY(buffer, freebsd_kernel::read_message_buffer(kernel));
  if (ctx.json()) {
    auto sequence = [](const std::optional<uint32_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    ctx.emit({{"lines", buffer.lines},
              {"write_sequence", sequence(buffer.write_sequence)},
              {"read_sequence", sequence(buffer.read_sequence)}});
    return {};
  }
  std::string text;
  for (const std::string& line : buffer.lines) text += line + '\n';
  ctx.out << text;
  return {};
}

}  // namespace coroner::commands
