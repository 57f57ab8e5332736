#include "analyzer/frontends/shell/banner.hpp"

#include "analyzer/os/linux/system_info.hpp"

#include <fmt/format.h>

#include <ostream>

namespace coroner::frontends {

namespace {

void line(std::ostream& out, std::string_view key, const std::string& value) {
  out << fmt::format("{:>12}: {}\n", key, value);
}

std::string modules_text(const Program& program) {
  auto modules = program.modules();
  if (!modules) return "(unreadable: " + modules.error().message() + ")";
  std::vector<std::string> with, without;
  for (const auto& module : **modules)
    (module->has_dwarf() ? with : without).push_back(module->name);
  std::string text = fmt::format("{} loaded", (*modules)->size());
  if (!with.empty()) text += fmt::format(", with debug info: {}", fmt::join(with, " "));
  if (!without.empty()) text += fmt::format(", without (names from kallsyms; mod -s NAME FILE): {}", fmt::join(without, " "));
  return text;
}

// Where symbols and types come from; without a vmlinux, why and what that costs.
std::string debuginfo_text(const Program& program) {
  if (program.debuginfo_source() == DebugInfoSource::dwarf) return "dwarf (vmlinux: symbols, types, source lines)";
  if (program.debuginfo_source() == DebugInfoSource::btf_kallsyms)
    return fmt::format("btf+kallsyms (no vmlinux: {}): symbols from the dump's kallsyms, types from its BTF; "
                       "source lines and local variables need the vmlinux", program.debuginfo_reason());
  if (program.debuginfo_source() == DebugInfoSource::kallsyms)
    return fmt::format("kallsyms (no vmlinux: {}): symbols from the dump's kallsyms, the layouts of tasks, modules "
                       "and memory maps inferred from its memory; other types, source lines and local variables "
                       "need the vmlinux", program.debuginfo_reason());
  return fmt::format("{} (no vmlinux: {}): symbols from the dump; commands that need types or source lines say so",
                     program.debuginfo_label(), program.debuginfo_reason());
}

// makedumpfile's dump level bits.
std::string excluded_text(int level) {
  static const char* const kinds[] = {"zero", "cache", "private cache", "user", "free"};
  std::vector<std::string> left_out;
  for (int bit = 0; bit < 5; ++bit)
    if (level & (1 << bit)) left_out.push_back(kinds[bit]);
  return fmt::format("{} pages (dump level {}): reading one says \"excluded by the dump filter\"",
                     fmt::join(left_out, ", "), level);
}

}  // namespace

void print_banner(commands::CommandContext& context, std::ostream& errors) {
  const Program& program = context.program;
  context.out << "coroner 0.1.0 — " << program.dump().description() << "\n\n";
  if (auto shown = commands::run_command_line(context, "sys"); !shown) errors << shown.error().message() << '\n';
  if (program.debuginfo_source() == DebugInfoSource::none) {  // a FreeBSD minidump opened alone: sys said what it holds
    context.out << '\n';
    return;
  }
  line(context.out, "DEBUG INFO", debuginfo_text(program));
  // Without debug info, what fails for want of types fails for the reason
  // DEBUG INFO gave: named, not repeated.
  std::string no_types;
  if (program.debuginfo_source() != DebugInfoSource::dwarf)
    if (auto types = program.debug_info(); !types) no_types = types.error().message();
  auto for_want_of_types = [&no_types](const std::string& problem) {
    return !no_types.empty() && problem.find(no_types) != std::string::npos;
  };
  const std::string modules = modules_text(program);
  line(context.out, "MODULES", for_want_of_types(modules) ? "(unreadable without types)" : modules);
  if (int level = program.dump().dump_level().value_or(0); level > 0) line(context.out, "EXCLUDED", excluded_text(level));
  const linux_kernel::SystemInfo info = linux_kernel::read_system_info(program);
  std::vector<std::string> without_types;
  for (const std::string& problem : info.problems) {
    if (for_want_of_types(problem)) without_types.push_back(problem.substr(0, problem.find(':')));
    else line(context.out, "MISSING", problem);
  }
  if (!without_types.empty())
    line(context.out, "MISSING", fmt::format("without types: {}", fmt::join(without_types, ", ")));
  if (program.dump().incomplete()) line(context.out, "MISSING", "the dump is incomplete (its writer did not finish)");
  context.out << '\n';
}

}  // namespace coroner::frontends
