#include "analyzer/frontends/gdbstub/gdbserver.hpp"

#include "analyzer/frontends/gdbstub/connection.hpp"
#include "analyzer/frontends/gdbstub/kernel_target.hpp"
#include "analyzer/frontends/gdbstub/process_target.hpp"
#include "analyzer/os/linux/linux_kernel.hpp"
#include "commands/arguments.hpp"

#include <unistd.h>

#include <algorithm>
#include <ostream>

namespace coroner::frontends {

namespace {

constexpr std::string_view kUsage =
    "coroner gdbserver [--listen [HOST:]PORT | --stdio] [--pid PID] [--mod-path DIR] VMLINUX DUMP [DUMP...]";

struct ServerRequest {
  ProgramOptions program;
  bool stdio = false;
  gdbstub::ListenAddress listen;  // 127.0.0.1:1234 unless --listen says otherwise
  std::optional<int64_t> pid;     // process mode
};

Expected<ServerRequest> parse_request(const std::vector<std::string>& args) {
  ServerRequest request;
  std::vector<std::string> positional;
  bool listen_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--stdio") {
      request.stdio = true;
    } else if (a == "--listen" || a == "--mod-path" || a == "--pid") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "{} needs a value (usage: {})", a, kUsage);
      const std::string& value = args[++i];
      if (a == "--mod-path") {
        request.program.module_dirs.push_back(value);
      } else if (a == "--pid") {
        CORONER_TRY(pid, commands::parse_pid(value));
        request.pid = pid;
      } else {
        CORONER_TRY(address, gdbstub::parse_listen_address(value));
        request.listen = address;
        listen_given = true;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", a, kUsage);
    } else {
      positional.push_back(a);
    }
  }
  if (request.stdio && listen_given)
    return make_error(Errc::invalid_argument, "--stdio and --listen cannot be combined (usage: {})", kUsage);
  if (positional.size() < 2)
    return make_error(Errc::invalid_argument, "need a VMLINUX and a DUMP (usage: {})", kUsage);
  request.program.vmlinux = positional[0];
  request.program.dumps.assign(positional.begin() + 1, positional.end());
  request.program.os_model = linux_kernel::open_linux_kernel;
  return request;
}

// The kernel, or with --pid one process.
Expected<std::unique_ptr<gdbstub::DebugTarget>> open_target(const Program& program, std::optional<int64_t> pid) {
  if (pid) {
    CORONER_TRY(process, gdbstub::ProcessTarget::open(program, *pid));
    return std::unique_ptr<gdbstub::DebugTarget>(std::move(process));
  }
  CORONER_TRY(kernel, gdbstub::KernelTarget::open(program));
  return std::unique_ptr<gdbstub::DebugTarget>(std::move(kernel));
}

}  // namespace

int run_gdbserver(const std::vector<std::string>& args, std::ostream& log) {
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    log << "usage: " << kUsage << "\n(coroner --help tells more)\n";
    return 0;
  }
  auto request = parse_request(args);
  if (!request) {
    log << "coroner gdbserver: " << request.error().message() << '\n';
    return 2;
  }
  auto program = Program::open(request->program);
  if (!program) {
    log << "coroner gdbserver: " << program.error().message() << '\n';
    return 1;
  }
  // gdb works from vmlinux's DWARF: a dump opened without it is not served.
  if (const Program& opened = **program; opened.debuginfo_source() != DebugInfoSource::dwarf) {
    log << "coroner gdbserver: "
        << (opened.debuginfo_warning().empty() ? opened.debuginfo_reason() : opened.debuginfo_warning()) << '\n';
    return 1;
  }
  auto target = open_target(**program, request->pid);
  if (!target) {
    log << "coroner gdbserver: " << target.error().message() << '\n';
    return 1;
  }
  if (request->stdio) {
    gdbstub::serve_client(**target, STDIN_FILENO, STDOUT_FILENO);
    return 0;
  }
  if (auto served = gdbstub::serve_tcp(**target, request->listen, log); !served) {
    log << "coroner gdbserver: " << served.error().message() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace coroner::frontends
