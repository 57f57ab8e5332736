#include "analyzer/frontends/triage/triage_command.hpp"

#include "analyzer/frontends/triage/triage_render.hpp"
#include "analyzer/os/linux/linux_kernel.hpp"
#include "analyzer/program.hpp"
#include "capture/format/dump.hpp"
#include "symbols/build_id_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <ostream>

namespace coroner::frontends {

namespace {

using triage::ReportFormat;

constexpr std::string_view kUsage =
    "triage [--format text|markdown|json|html] [--sections LIST] [-o FILE] [--mod-path DIR] [--debuginfo-dir DIR] "
    "[VMLINUX] DUMP [DUMP...]";
constexpr std::array<std::string_view, 2> kHelpOptions = {"-h", "--help"};

struct TriageOptions {
  ReportFormat format = ReportFormat::text;
  std::set<std::string> sections;
  std::string output;  // "" = standard output
  std::vector<std::string> module_dirs;
  std::vector<std::string> debuginfo_dirs;  // searched first for the vmlinux by build-id
  std::vector<std::string> positional;
};

Expected<ReportFormat> parse_format(std::string_view value) {
  if (value == "text") return ReportFormat::text;
  if (value == "markdown") return ReportFormat::markdown;
  if (value == "json") return ReportFormat::json;
  if (value == "html") return ReportFormat::html;
  return make_error(Errc::invalid_argument, "triage: --format takes text, markdown, json or html, not '{}'", value);
}

Expected<std::set<std::string>> parse_sections(std::string_view list) {
  std::set<std::string> sections;
  const auto& known = triage::section_names();
  for (size_t start = 0; start <= list.size();) {
    size_t end = std::min(list.find(',', start), list.size());
    std::string name(list.substr(start, end - start));
    if (name == "all") sections.insert(known.begin(), known.end());
    else if (std::find(known.begin(), known.end(), name) != known.end()) sections.insert(name);
    else
      return make_error(Errc::invalid_argument, "triage: unknown section '{}' (sections: {}, all)", name,
                        fmt::join(known, ","));
    start = end + 1;
  }
  return sections;
}

Expected<TriageOptions> parse_options(const std::vector<std::string>& args) {
  TriageOptions options;
  options.sections = {triage::section_names().begin(), triage::section_names().end()};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--format" || a == "--sections" || a == "-o" || a == "--mod-path" || a == "--debuginfo-dir") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "triage: {} needs a value", a);
      const std::string& value = args[++i];
      if (a == "--format") {
        CORONER_TRY(format, parse_format(value));
        options.format = format;
      } else if (a == "--sections") {
        CORONER_TRY(sections, parse_sections(value));
        options.sections = sections;
      } else if (a == "-o") options.output = value;
      else if (a == "--debuginfo-dir") options.debuginfo_dirs.push_back(value);
      else options.module_dirs.push_back(value);
    } else if (a.size() > 1 && a[0] == '-') {
      return make_error(Errc::invalid_argument, "triage: unknown option {}", a);
    } else {
      options.positional.push_back(a);
    }
  }
  if (options.positional.empty()) return make_error(Errc::invalid_argument, "triage: need a DUMP ([VMLINUX] DUMP)");
  return options;
}

// The debug vmlinux of the dump's kernel: by build-id in the --debuginfo-dir
// folders and where distributions install it (as `coroner DUMP` looks), then
// by release. "" when none is there.
std::string find_vmlinux(const std::vector<std::string>& dumps, const std::vector<std::string>& debuginfo_dirs) {
  auto dump = open_dump(dumps);
  if (!dump) return "";
  auto text = (*dump)->vmcoreinfo_text();
  if (!text) return "";
  const VmcoreInfo info = VmcoreInfo::parse(*text);
  if (auto found = symbols::find_vmlinux_by_build_id(info.build_id(), {.debuginfo_dirs = debuginfo_dirs}))
    return found->path;
  std::vector<std::string> candidates;
  if (auto release = info.get("OSRELEASE")) {
    candidates.push_back(fmt::format("/usr/lib/debug/boot/vmlinux-{}", *release));
    candidates.push_back(fmt::format("/usr/lib/debug/lib/modules/{}/vmlinux", *release));
    candidates.push_back(fmt::format("/boot/vmlinux-{}", *release));
  }
  std::error_code ignored;
  for (const std::string& path : candidates)
    if (std::filesystem::is_regular_file(path, ignored)) return path;
  return "";
}

Expected<triage::TriageReport> make_report(const TriageOptions& options) {
  std::vector<std::string> dumps = options.positional;
  std::string vmlinux;
  // VMLINUX is the first argument when it is not a dump itself.
  if (dumps.size() > 1 && !open_dump({dumps.front()})) {
    vmlinux = dumps.front();
    dumps.erase(dumps.begin());
  }
  if (vmlinux.empty()) vmlinux = find_vmlinux(dumps, options.debuginfo_dirs);
  // A FreeBSD minidump with its kernel: the same answer as without it (Linux kernels only).
  if (auto dump = open_dump(dumps); dump && (*dump)->format_name() == "freebsd-minidump")
    return triage::build_report_without_vmlinux(dumps, options.sections);
  ProgramOptions program_options;
  program_options.vmlinux = vmlinux;
  program_options.dumps = dumps;
  program_options.module_dirs = options.module_dirs;
  program_options.os_model = linux_kernel::open_linux_kernel;
  // find_vmlinux searched already: without a vmlinux the program opens from
  // the dump (kallsyms, BTF) instead of asking debuginfod a second time.
  program_options.no_debuginfo = vmlinux.empty();
  auto program = Program::open(program_options);
  // With types (the vmlinux's DWARF, or the dump's BTF) the whole report.
  if (program && (*program)->debuginfo_source() != DebugInfoSource::kallsyms)
    return triage::build_report(**program, options.sections);
  // A dump without types (kallsyms only), or one that does not open: the log still tells.
  CORONER_TRY(report, triage::build_report_without_vmlinux(dumps, options.sections));
  if (!vmlinux.empty())
    report.problems.push_back("vmlinux: " + (program ? (*program)->debuginfo_warning() : program.error().message()));
  return report;
}

}  // namespace

int run_triage(const std::vector<std::string>& args, std::ostream& out, std::ostream& errors) {
  if (std::find_first_of(args.begin(), args.end(), kHelpOptions.begin(), kHelpOptions.end()) != args.end()) {
    out << "usage: coroner " << kUsage << "\n(coroner --help tells more)\n";
    return 0;
  }
  auto options = parse_options(args);
  if (!options) {
    errors << "coroner: " << options.error().message() << '\n';
    return 2;
  }
  auto report = make_report(*options);
  if (!report) {
    errors << "coroner: triage: " << report.error().message() << '\n';
    return 1;
  }
  const std::string text = triage::render_report(*report, options->format);
  if (options->output.empty()) {
    out << text << std::flush;
    return out ? 0 : 1;
  }
  std::ofstream file(options->output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    errors << "coroner: triage: cannot write " << options->output << '\n';
    return 1;
  }
  return 0;
}

}  // namespace coroner::frontends
