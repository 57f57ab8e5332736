// coroner: the analyzer's command line.
//   coroner [-s] [--mod-path DIR] [--output text|json] VMLINUX DUMP [DUMP...]
// With no dump arguments it opens the sample dump shipped with coroner.
// Commands come from the terminal (the crash> shell) or, when standard
// input is not a terminal, one per line from it.
#include "analyzer/frontends/batch/batch.hpp"
#include "analyzer/frontends/index_builder/index_builder.hpp"
#include "analyzer/frontends/shell/banner.hpp"
#include "analyzer/frontends/shell/shell.hpp"
#include "analyzer/os/linux/modules.hpp"
#include "analyzer/program.hpp"
#include "capture/format/decompressed_file.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

namespace {

constexpr const char* kUsage =
    "usage: coroner [-s] [--mod-path DIR] [--output text|json] VMLINUX DUMP [DUMP...]\n"
    "       coroner            (opens the bundled sample dump)\n"
    "  VMLINUX    the kernel with debug info (may be .zst/.gz/.xz)\n"
    "  DUMP       ELF vmcore, QEMU dump, kdump-compressed, flattened, or the files of a split dump\n"
    "  -s         silent: no banner (for scripts)\n"
    "  --mod-path DIR   where to look for module debug info (repeatable)\n"
    "  --output json    each command prints one JSON document\n"
    "       coroner --build-index [--background] VMLINUX\n"
    "             build the caches that make a start fast (DWARF name index, symbol table) in\n"
    "             $CORONER_CACHE_DIR (default ~/.cache/coroner); a session without them starts one\n"
    "             in the background when it ends (CORONER_BACKGROUND_INDEX=0: do not)\n"
    "Commands are read from standard input when it is not a terminal; `help` lists them.\n";

int usage_error(const std::string& message) {
  std::cerr << "coroner: " << message << '\n' << kUsage;
  return 2;
}

// The sample dump (arm64 oops, filtered) from the source tree or the
// installed share directory.
std::optional<std::filesystem::path> sample_directory() {
  for (const char* dir : {CORONER_SAMPLE_DIR, CORONER_INSTALLED_SAMPLE_DIR})
    if (std::filesystem::exists(std::filesystem::path(dir) / "vmcore")) return std::filesystem::path(dir);
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  coroner::ProgramOptions options;
  coroner::commands::OutputFormat format = coroner::commands::OutputFormat::text;
  bool silent = false;
  bool build_index = false;
  bool background = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "coroner 0.1.0\n";
      return 0;
    } else if (a == "-s") {
      silent = true;
    } else if (a == "--build-index") {
      build_index = true;
    } else if (a == "--background") {
      background = true;
    } else if (a == "--mod-path" || a == "--output") {
      if (i + 1 == argc) return usage_error(a + " needs a value");
      std::string value = argv[++i];
      if (a == "--mod-path") options.module_dirs.push_back(value);
      else if (value == "json") format = coroner::commands::OutputFormat::json;
      else if (value != "text") return usage_error("--output takes text or json, not " + value);
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
  if (positional.size() < 2) return usage_error("need a VMLINUX and at least one DUMP");
  options.vmlinux = positional[0];
  options.dumps.assign(positional.begin() + 1, positional.end());

  coroner::linux_kernel::install_module_reader();
  auto program = coroner::Program::open(options);
  if (!program) {
    std::cerr << "coroner: " << program.error().message() << '\n';
    return 1;
  }
  coroner::commands::CommandContext context{**program, format, std::cout};
  bool interactive = isatty(STDIN_FILENO);
  if (!silent && format == coroner::commands::OutputFormat::text) coroner::frontends::print_banner(context, std::cerr);
  const int status = interactive ? coroner::frontends::run_shell(context)
                                 : coroner::frontends::run_batch(context, std::cin, std::cerr);
  coroner::frontends::start_background_index(**program);
  return status;
}
