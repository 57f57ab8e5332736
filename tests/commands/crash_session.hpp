// Runs Debian's crash 8.0.2 over a fixture dump for the tests that compare
// coroner's output with crash's, line by line.
#pragma once

#include "tests/support/distro_dumps.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace coroner::test {

// The same lines as crash's; on a difference, the first one with its
// number, and both outputs.
inline void check_same_lines(const std::string& ours, const std::string& crash) {
  INFO("--- coroner:\n" << ours << "--- crash:\n" << crash);
  const std::vector<std::string> a = lines_of(ours), b = lines_of(crash);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) continue;
    INFO("line " << i + 1);
    CHECK(a[i] == b[i]);
    return;
  }
  CHECK(a.size() == b.size());
}

// Whether crash is installed; warns (the comparison is skipped) when not.
inline bool crash_installed() {
  if (!run_command("command -v crash || true").empty()) return true;
  WARN("crash is not installed: comparison skipped");
  return false;
}

// Runs crash once over all commands on VMLINUX and DUMP; returns each command's output.
inline std::vector<std::string> crash_outputs(const std::string& vmlinux, const std::string& dump_file,
                                              const std::vector<std::string>& commands) {
  const std::string marker = "104373592874733";  // p 0x5eed5eed5eed
  // One script per process: ctest runs the crash comparisons in parallel.
  const fs::path script = cache_dir() / fmt::format("crash_compare.{}.in", getpid());
  {
    std::ofstream out(script);
    // The marker is printed by crash itself (a number through gdb's p), so
    // it stays in order with crash's buffered output.
    for (const std::string& command : commands) out << command << "\np 0x5eed5eed5eed\n";
    out << "q\n";
  }
  const std::string text = run_command("timeout 600 crash -s " + vmlinux + " " + dump_file + " < " + script.string() +
                                       " 2>/dev/null || true");
  std::vector<std::string> outputs;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("$") && line.ends_with(" = " + marker)) {
      outputs.push_back(current);
      current.clear();
    } else if (!line.starts_with("WARNING: active task") && !(line.empty() && current.empty())) {
      current += line + "\n";
    }
  }
  return outputs;
}

inline std::vector<std::string> crash_outputs(const DumpCase& dump, const std::vector<std::string>& commands) {
  return crash_outputs(dump.vmlinux(), dump.files().front(), commands);
}

// Debian's 6.1 distro kernel's dump (tests/support/distro_dumps.hpp; full
// config); skips the test when it was not made.
struct DistroDump {
  std::string vmlinux, dump;
  ProgramOptions options() const {
    ProgramOptions o;
    o.vmlinux = vmlinux, o.dumps = {dump}, o.cache_dir = (cache_dir() / "coroner").string();
    o.os_model = linux_kernel::open_linux_kernel;
    return o;
  }
};
inline DistroDump distro_dump() {
  const DistroKernel kernel = distro_kernel("6.1-amd64");
  return {kernel.vmlinux(), kernel.dump()};
}

// Each command's text, from `run` and from crash over the same dump, line by line.
template <typename Runner>
void check_same_as_crash(Runner& run, const DumpCase& dump, const std::vector<std::string>& commands) {
  const std::vector<std::string> expected = crash_outputs(dump, commands);
  REQUIRE(expected.size() == commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    check_same_lines(run.text(commands[i]), expected[i]);
  }
}

}  // namespace coroner::test
