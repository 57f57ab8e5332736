// coroner: the analyzer's command line (described for --help and the man
// page in frontends/manual/coroner_manual.cpp).
//   coroner [-s] [-i FILE] [-x COMMAND]... [--mod-path DIR] [--debuginfo-dir DIR] [--no-debuginfo]
//           [--plugin PATH] [--output text|json] [VMLINUX] DUMP [DUMP...]
//   coroner gdbserver [--listen [HOST:]PORT | --stdio] [--mod-path DIR] VMLINUX DUMP [DUMP...]
// With no dump arguments it opens the sample dump shipped with coroner; with
// one argument it is the dump, and the vmlinux is found by its build-id
// (--debuginfo-dir, /usr/lib/debug, debuginfod: symbols/build_id_search.hpp),
// or, for a FreeBSD minidump, none is needed (the OS model: os_models.hpp).
// A Linux dump whose vmlinux is not found, is another kernel's, or is set
// aside by --no-debuginfo opens from its own kallsyms (Program::open).
// Commands come from -i FILE, then -x (and exit), else the terminal (the
// crash> shell) or, when standard input is not a terminal, one per line
// from it.
//   coroner triage [--format text|markdown|json|html] [--sections LIST] [-o FILE] [VMLINUX] DUMP [DUMP...]
// writes a triage report (frontends/triage/triage_command.hpp).
//   coroner erase-offsets --config FILE [-o OFFSETS] [--mod-path DIR]... VMLINUX
// resolves a makedumpfile filter config for coroner-capture --config.
#include "analyzer/frontends/batch/batch.hpp"
#include "analyzer/frontends/erase_offsets/erase_offsets.hpp"
#include "analyzer/frontends/gdbstub/gdbserver.hpp"
#include "analyzer/frontends/index_builder/index_builder.hpp"
#include "analyzer/frontends/manual/coroner_manual.hpp"
#include "analyzer/frontends/shell/banner.hpp"
#include "analyzer/frontends/shell/shell.hpp"
#include "analyzer/frontends/triage/triage_command.hpp"
#include "analyzer/os/os_models.hpp"
#include "analyzer/program.hpp"
#include "capture/format/decompressed_file.hpp"
#include "plugins/loader/plugin_loader.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace {

int usage_error(const std::string& message) {
  std::cerr << "coroner: " << message << '\n'
            << coroner::manual::usage_lines(coroner::frontends::coroner_manual()) << "(coroner --help tells more)\n";
  return 2;
}

// The sample dump (arm64 oops, filtered) from the source tree, or installed
// beside the executable (PREFIX/bin/coroner, PREFIX/share/coroner/sample),
// so a package may choose its prefix.
// `coroner fleet ARGS` is coroner-fleet ARGS, from coroner's own directory
// (it alone links SQLite and libpq). Returns only when it cannot be run.
int run_fleet_program(char** argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path fleet = self.parent_path() / "coroner-fleet";
  if (!error) {
    argv[1] = const_cast<char*>(fleet.c_str());
    ::execv(fleet.c_str(), argv + 1);
  }
  std::cerr << "coroner: fleet: cannot run " << fleet.string() << ": "
            << (error ? error.message() : std::strerror(errno)) << '\n';
  return 1;
}

std::optional<std::filesystem::path> sample_directory() {
  std::error_code ignored;
  std::vector<std::filesystem::path> candidates = {CORONER_SAMPLE_DIR};
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ignored);
  if (exe.is_absolute()) candidates.push_back(exe.parent_path().parent_path() / "share/coroner/sample");
  for (const std::filesystem::path& dir : candidates)
    if (std::filesystem::exists(dir / "vmcore", ignored)) return dir;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "fleet") return run_fleet_program(argv);
  // Plugins from the plugin directories (docs/plugins.md), for every mode:
  // their commands in the shell and batch input, their checks in triage.
  coroner::plugins::PluginLoader plugins;
  plugins.load_directories(std::cerr);
  coroner::commands::set_plugin_host(&plugins);
  if (argc > 1 && std::string_view(argv[1]) == "triage")
    return coroner::frontends::run_triage({argv + 2, argv + argc}, std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "erase-offsets")
    return coroner::frontends::run_erase_offsets({argv + 2, argv + argc}, std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "gdbserver")
    return coroner::frontends::run_gdbserver(std::vector<std::string>(argv + 2, argv + argc), std::cerr);
  coroner::ProgramOptions options;
  coroner::commands::OutputFormat format = coroner::commands::OutputFormat::text;
  bool silent = false;
  bool build_index = false;
  bool background = false;
  std::vector<std::string> positional;
  std::vector<std::string> script;  // -i FILE's lines, then each -x COMMAND
  bool exit_after_script = false;   // -x given
  bool list_plugins = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << coroner::manual::help_text(coroner::frontends::coroner_manual());
      return 0;
    } else if (a == "--version") {
      std::cout << "coroner 0.1.0\n";
      return 0;
    } else if (a == "-s") {
      silent = true;
    } else if (a == "--list-plugins") {
      list_plugins = true;
    } else if (a == "--build-index") {
      build_index = true;
    } else if (a == "--background") {
      background = true;
    } else if (a == "--no-debuginfo") {
      options.no_debuginfo = true;
    } else if (a == "--mod-path" || a == "--debuginfo-dir" || a == "--output" || a == "-i" || a == "-x" ||
               a == "--command" || a == "--plugin") {
      if (i + 1 == argc) return usage_error(a + " needs a value");
      std::string value = argv[++i];
      if (a == "--mod-path") options.module_dirs.push_back(value);
      else if (a == "--debuginfo-dir") options.debuginfo_dirs.push_back(value);
      else if (a == "--plugin") {
        // A plugin that does not load is reported; the session goes on without it.
        if (auto loaded = plugins.load(value); !loaded) std::cerr << "coroner: plugin: " << loaded.error().message() << '\n';
      }
      else if (a == "-x" || a == "--command") {
        script.push_back(value);
        exit_after_script = true;
      } else if (a == "-i") {
        auto lines = coroner::frontends::read_command_file(value);
        if (!lines) return usage_error(lines.error().message());
        script.insert(script.end(), lines->begin(), lines->end());
      } else if (value == "json") format = coroner::commands::OutputFormat::json;
      else if (value != "text") return usage_error("--output takes text or json, not " + value);
    } else if (a.starts_with("--command=")) {
      script.push_back(a.substr(10));
      exit_after_script = true;
    } else if (a.starts_with("--output=")) {
      std::string value = a.substr(9);
      if (value == "json") format = coroner::commands::OutputFormat::json;
      else if (value != "text") return usage_error("--output takes text or json, not " + value);
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (list_plugins) {
    if (format == coroner::commands::OutputFormat::json)
      std::cout << coroner::commands::plugins_json(plugins.loaded()).dump(2) << '\n';
    else std::cout << coroner::commands::plugins_table(plugins.loaded());
    return 0;
  }
  if (build_index) {
    if (positional.size() != 1) return usage_error("--build-index takes one VMLINUX");
    if (background) (void)setpriority(PRIO_PROCESS, 0, 10);  // yield to the user's sessions
    return coroner::frontends::build_index_caches(positional[0], coroner::default_cache_dir(), std::cerr);
  }
  if (positional.empty()) {
    auto sample = sample_directory();
    if (!sample) return usage_error("no dump given and the bundled sample dump is not installed");
    positional = {(*sample / "vmlinux.zst").string(), (*sample / "vmcore").string()};
    if (!silent) std::cout << "coroner: opening the bundled sample dump (" << sample->string() << ")\n";
  }
  if (positional.size() == 1) {
    options.dumps = positional;  // the vmlinux: found by the dump's build-id
  } else {
    options.vmlinux = positional[0];
    options.dumps.assign(positional.begin() + 1, positional.end());
  }
  options.os_model = coroner::os::open_os_model;

  auto program = coroner::Program::open(options);
  if (!program) {
    std::cerr << "coroner: " << program.error().message() << '\n';
    return 1;
  }
  // A vmlinux of another kernel is refused, and the dump opened from its kallsyms (and BTF).
  if (const std::string& refused = (*program)->debuginfo_warning(); !refused.empty())
    std::cerr << "coroner: " << refused << "; opened without it (symbols from the dump's kallsyms"
              << ((*program)->debuginfo_source() == coroner::DebugInfoSource::btf_kallsyms
                      ? ", types from its BTF)\n"
                      : ", types inferred from its memory)\n");
  coroner::commands::CommandContext context{**program, format, std::cout};
  bool interactive = isatty(STDIN_FILENO);
  if (!silent && format == coroner::commands::OutputFormat::text) coroner::frontends::print_banner(context, std::cerr);
  // crash's order: -i FILE, then -x commands (and exit), else the shell or
  // standard input's commands.
  if (!exit_after_script && !interactive) {
    std::vector<std::string> piped = coroner::frontends::read_command_lines(std::cin);
    script.insert(script.end(), piped.begin(), piped.end());
  }
  int status = coroner::frontends::run_batch(context, script, std::cerr);
  if (!exit_after_script && interactive && !context.quit) status = coroner::frontends::run_shell(context);
  coroner::frontends::start_background_index(**program);
  // The process ends here: unmapping vmlinux and the dump and freeing every
  // cache would only add 10-20 ms to each session, so the program is left
  // to the exit (nothing in it writes on destruction; the index is built by
  // a separate process). Kept reachable from a static, it is no leak to
  // LeakSanitizer.
  std::cout.flush();
  static coroner::Program* const left_to_exit = program->release();
  (void)left_to_exit;
  return status;
}
