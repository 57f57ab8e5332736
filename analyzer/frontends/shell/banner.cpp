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
  if (program.vmlinux_path().empty()) {  // a FreeBSD minidump opened alone: sys said what it holds
    context.out << '\n';
    return;
  }
  line(context.out, "MODULES", modules_text(program));
  if (int level = program.dump().dump_level().value_or(0); level > 0) line(context.out, "EXCLUDED", excluded_text(level));
  const linux_kernel::SystemInfo info = linux_kernel::read_system_info(program);
  for (const std::string& problem : info.problems) line(context.out, "MISSING", problem);
  if (program.dump().incomplete()) line(context.out, "MISSING", "the dump is incomplete (its writer did not finish)");
  context.out << '\n';
}

}  // namespace coroner::frontends
