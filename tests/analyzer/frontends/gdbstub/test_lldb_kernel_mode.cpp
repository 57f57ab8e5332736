// LLDB's gdb-remote client (Debian's lldb-19) against `coroner gdbserver
// --listen`: it connects, lists every task of facts.json as a thread (the
// thread id is the PID) and reads memory that matches facts' samples.
#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <regex>
#include <set>

namespace coroner::test {

TEST_CASE("gdbserver: lldb-19 connects, lists the threads and reads memory", "[gdbstub][lldb]") {
  if (shell_output("command -v lldb-19").empty()) FAIL("lldb-19 is not installed (setup.sh installs it for the tests)");
  for (const std::string id : {"x86_64/oops-kdump/d31", "arm64/oops-kdump/d31"}) {
    INFO(id);
    const DumpCase& dump = fixture_case(id);
    const nlohmann::json& facts = dump.facts();
    ServerProcess server(dump);
    std::string command = fmt::format("lldb-19 -b -o 'gdb-remote 127.0.0.1:{}' -o 'thread list'", server.port());
    for (const auto& sample : facts["memory_samples"])
      command += fmt::format(" -o 'memory read --size 1 --count 8 {}'", sample["vaddr"].get<std::string>());
    const std::string output = shell_output(command + " < /dev/null");
    INFO(output.substr(0, 3000));
    // "  thread #3: tid = 0x0002, 0xffff..., stop reason = signal SIGTRAP"
    std::set<uint64_t> tids;
    static const std::regex thread(R"(thread #\d+: tid = 0x([0-9a-f]+),)");
    for (std::sregex_iterator it(output.begin(), output.end(), thread), end; it != end; ++it)
      tids.insert(std::stoull((*it)[1].str(), nullptr, 16));
    for (const auto& task : facts["tasks"]) {
      int64_t pid = task["pid"];
      if (pid != 0) CHECK(tids.count(static_cast<uint64_t>(pid)));
    }
    // "0xffffffff852081cb: 55 31 c0 48 89 e5 41 56   U1.H..AV"
    for (const auto& sample : facts["memory_samples"]) {
      std::string first8 = sample["first8"];
      std::string spaced;
      for (size_t i = 0; i < first8.size(); i += 2) {
        if (i > 0) spaced += ' ';
        spaced += first8.substr(i, 2);
      }
      CHECK_THAT(output, Catch::Contains(sample["vaddr"].get<std::string>() + ": " + spaced));
    }
  }
}

}  // namespace coroner::test
