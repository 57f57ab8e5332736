#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"

#include <catch2/catch.hpp>

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

std::vector<const DumpCase*> shipped_dumps() {
  static const std::set<std::string> shipped = {"vmcore", "d31", "d31-zstd", "d31-snappy", "elf", "kdump-zlib"};
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& dump : all_dumps())
    if (shipped.count(dump.variant)) dumps.push_back(&dump);
  return dumps;
}

}  // namespace coroner::test
