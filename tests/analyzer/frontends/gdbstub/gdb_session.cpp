#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <set>

namespace coroner::test {

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buf{};
  while (size_t got = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), got);
  pclose(pipe);
  return out;
}

std::string gdbserver_command(const DumpCase& dump, const std::string& transport) {
  std::string command = "CORONER_CACHE_DIR=" + (cache_dir() / "coroner").string() + " " + CORONER_BINARY +
                        " gdbserver " + transport + " --mod-path " +
                        fs::path(dump.module_path()).parent_path().string() + " " + dump.vmlinux();
  for (const std::string& file : dump.files()) command += " " + file;
  return command;
}

std::string gdb_for(const DumpCase& dump) {
  std::string gdb = dump.arch_dir == "linux-6.1-x86_64" ? "gdb" : "gdb-multiarch";
  if (shell_output("command -v " + gdb).empty()) FAIL(gdb << " is not installed (setup.sh installs it for the tests)");
  return gdb;
}

std::string run_gdb(const DumpCase& dump, const std::vector<std::string>& commands) {
  std::string command = gdb_for(dump) + " -batch -nx -ex 'set width 0' -ex 'set height 0' -ex 'target remote | " +
                        gdbserver_command(dump) + "'";
  for (const std::string& c : commands) command += " -ex '" + c + "'";
  return shell_output(command + " " + dump.vmlinux() + " < /dev/null");
}

ServerProcess::ServerProcess(const DumpCase& dump) {
  int err[2];
  REQUIRE(pipe(err) == 0);
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(err[1], STDERR_FILENO);
    close(err[0]);
    execl("/bin/sh", "sh", "-c", ("exec env " + gdbserver_command(dump, "--listen 127.0.0.1:0")).c_str(), nullptr);
    _exit(127);
  }
  close(err[1]);
  // "Listening on 127.0.0.1:PORT" once the dump is open.
  std::string log;
  char c;
  while (log.find('\n') == std::string::npos && read(err[0], &c, 1) == 1) log.push_back(c);
  close(err[0]);
  INFO(log);
  size_t colon = log.rfind(':');
  REQUIRE((log.starts_with("Listening on ") && colon != std::string::npos));
  port_ = static_cast<uint16_t>(std::stoi(log.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

bool ServerProcess::running() const { return waitpid(pid_, nullptr, WNOHANG) == 0; }


std::vector<const DumpCase*> shipped_dumps() {
  static const std::set<std::string> shipped = {"vmcore", "d31", "d31-zstd", "d31-snappy", "elf", "kdump-zlib"};
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& dump : all_dumps())
    if (shipped.count(dump.variant)) dumps.push_back(&dump);
  return dumps;
}

}  // namespace coroner::test
