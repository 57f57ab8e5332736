// Running the stub against the dumps of the fixtures: the `coroner
// gdbserver --stdio` command line of a dump, and Debian's gdb (x86_64) or
// gdb-multiarch (arm64) in batch mode connected to it.
#pragma once

#include "tests/support/fixtures.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::test {

// The command that serves `dump` (its module directory as --mod-path).
std::string gdbserver_command(const DumpCase& dump, const std::string& transport = "--stdio");

// The gdb for the dump's architecture; fails the test when it is not
// installed (setup.sh's test packages hold it).
std::string gdb_for(const DumpCase& dump);

// gdb -batch on the dump's vmlinux, `target remote | gdbserver_command`,
// then `commands` (one -ex each); its standard output and error.
std::string run_gdb(const DumpCase& dump, const std::vector<std::string>& commands);

// The shipped dumps (not the makedumpfile-made variants of the same
// vmcore, which read the same pages).
std::vector<const DumpCase*> shipped_dumps();

// `coroner gdbserver --listen 127.0.0.1:0` on a dump as a child process,
// killed when this goes.
class ServerProcess {
 public:
  explicit ServerProcess(const DumpCase& dump);
  ~ServerProcess();
  uint16_t port() const { return port_; }
  bool running() const;

 private:
  int pid_ = -1;
  uint16_t port_ = 0;
};

// Runs a shell command and returns its standard output and error, whatever
// its exit status.
std::string shell_output(const std::string& command);

}  // namespace coroner::test
