// coroner-capture: the dumper. Runs in a kdump capture kernel (or on any
// host) and writes a dump of /proc/vmcore, a vmcore file or a
// kdump-compressed dump that crash, drgn, makedumpfile and coroner open.
// `coroner-capture savecore` saves a FreeBSD kernel dump (savecore/).
#include "capture/capture_job.hpp"
#include "capture/options.hpp"
#include "capture/savecore/savecore.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <string>
#include <vector>

namespace {

std::atomic<int> stop_signal{0};

extern "C" void request_stop(int signal) { stop_signal.store(signal); }

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the writer checks the flag between batches
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A closed pipe under -F is a write error with a message, not a silent death.
  signal(SIGPIPE, SIG_IGN);
}

int run_savecore_command(const std::vector<std::string>& args) {
  auto options = coroner::capture::parse_savecore_options(args);
  if (!options) {
    fmt::print(stderr, "coroner-capture savecore: {}\nTry 'coroner-capture --help' for more information.\n",
               options.error().message());
    return 1;  // savecore(8)'s status for a bad command line
  }
  if (options->help) {
    fmt::print("{}", coroner::capture::usage_text());
    return 0;
  }
  auto saved = coroner::capture::run_savecore(*options);
  if (!saved) {
    fmt::print(stderr, "coroner-capture savecore: {}\n", saved.error().message());
    return 1;
  }
  fmt::print("{}: saved as {} and {}\n", options->input, saved->vmcore, saved->info);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "savecore") return run_savecore_command({args.begin() + 1, args.end()});
  auto options = coroner::capture::parse_options(args);
  if (!options) {
    fmt::print(stderr, "coroner-capture: {}\nTry 'coroner-capture --help' for more information.\n", options.error().message());
    return 1;  // makedumpfile's status for a bad command line
  }
  if (options->help) {
    fmt::print("{}", coroner::capture::usage_text());
    return 0;
  }
  if (options->version) {
    fmt::print("coroner-capture {}\n", CORONER_VERSION);
    return 0;
  }
  // makedumpfile --check-params (kdump-utils' mkdumprd asks it of the
  // core_collector line): a valid command line, nothing done, status 0.
  if (options->check_params) return 0;
  install_signal_handlers();
  return coroner::capture::run_capture(*options, &stop_signal);
}
