// `coroner gdbserver --pid N` on the full (unfiltered) fixture dumps: gdb
// sees the process's user-mode registers exactly as bt shows them at the
// syscall boundary, and reads its memory through its own page tables (the
// busybox ELF header at 0x400000, facts.json's user_memory) and its
// auxiliary vector.
#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <regex>

namespace coroner::test {

TEST_CASE("gdbserver --pid: a process's user registers and memory", "[gdbstub][gdb]") {
  size_t processes = 0;
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "vmcore") continue;  // the full dumps, with user pages
    INFO(dump.id);
    CommandRunner runner(dump, {fs::path(dump.module_path()).parent_path().string()});
    for (const auto& sample : dump.facts()["user_memory"]) {
      const int64_t pid = sample["pid"];
      INFO("PID " << pid);
      ++processes;
      // bt's user-mode registers: the last frame, marked user.
      const nlohmann::json trace = runner.json(fmt::format("bt {}", pid));
      REQUIRE(!trace["frames"].empty());
      const nlohmann::json& user = trace["frames"].back();
      REQUIRE(user["user"].get<bool>());
      const std::string command = gdb_for(dump) + " -batch -nx -ex 'target remote | " +
                                  gdbserver_command(dump, fmt::format("--stdio --pid {}", pid)) +
                                  "' -ex 'info registers' -ex 'x/4xb " + sample["vaddr"].get<std::string>() +
                                  "' -ex 'info auxv' < /dev/null";
      const std::string output = shell_output(command);
      INFO(output);
      std::map<std::string, uint64_t> shown;
      static const std::regex line(R"(^(\w+)\s+0x([0-9a-f]+))");
      for (const std::string& text : lines_of(output)) {
        std::smatch m;
        if (std::regex_search(text, m, line)) shown[m[1]] = std::stoull(m[2].str(), nullptr, 16);
      }
      size_t compared = 0;
      for (const auto& [name, value] : user["registers"].items()) {
        // gdb's names: arm64's pstate is cpsr, 32 bits like x86_64's eflags.
        std::string gdb_name = name == "pstate" ? "cpsr" : name;
        auto found = shown.find(gdb_name);
        if (found == shown.end()) continue;
        uint64_t expected = hex_value(value);
        if (gdb_name == "cpsr" || gdb_name == "eflags") expected &= 0xffffffff;
        INFO(gdb_name);
        CHECK(found->second == expected);
        ++compared;
      }
      CHECK(compared >= 18);
      // The auxiliary vector the kernel kept (mm->saved_auxv) through qXfer:auxv:read.
      CHECK(std::regex_search(output, std::regex(R"(AT_ENTRY\s+Entry point of program\s+0x[0-9a-f]+)")));
      CHECK_THAT(output, Catch::Contains("AT_NULL"));  // x86_64's general registers and rip; arm64's x0..x30, sp, pc
      // A page the process never touched is not mapped (drgn says so); any
      // other fault of facts.json is drgn's own: busybox's header is there.
      const std::string vaddr = sample["vaddr"];
      if (sample.value("fault", "").find("not mapped") != std::string::npos)
        CHECK_THAT(output, Catch::Contains("Cannot access memory at address " + vaddr));
      else
        CHECK_THAT(output, Catch::Contains(vaddr + ":\t0x7f\t0x45\t0x4c\t0x46"));
    }
  }
  CHECK(processes >= 3);
}

}  // namespace coroner::test
