// sys -c (the system call table) and sys config (IKCONFIG) on every fixture
// dump: read and write at their numbers (x86_64 0 and 1, arm64 63 and 64)
// with their source lines; the fixture kernels lack CONFIG_IKCONFIG, so
// sys config is the one-line error; sys -c next to crash 8.0.2 on x86_64.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

#include <fstream>
#include <sstream>

namespace coroner::test {

namespace {

// The config the fixture kernel was built with says whether IKCONFIG is in.
bool built_with(const DumpCase& dump, const std::string& option) {
  std::ifstream in(fixtures_root() / dump.arch_dir / "config");
  for (std::string line; std::getline(in, line);)
    if (line == option + "=y") return true;
  return false;
}

}  // namespace

TEST_CASE("sys -c shows read and write at their numbers on every dump", "[sys][syscalls][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const bool x86 = dump.arch_dir.find("x86_64") != std::string::npos;
      const std::string prefix = x86 ? "__x64_sys_" : "__arm64_sys_";
      const int read = x86 ? 0 : 63, write = x86 ? 1 : 64;
      const nlohmann::json table = run.json("sys -c");
      const nlohmann::json& calls = table["system_calls"];
      // x86_64 6.1 has 451 slots (0..450), arm64 451 too (__NR_syscalls).
      CHECK(calls.size() == 451);
      for (auto [number, name] : {std::pair{read, "read"}, std::pair{write, "write"}}) {
        INFO(name);
        const nlohmann::json& call = calls.at(number);
        CHECK(call["number"] == number);
        CHECK(call["name"] == prefix + name);
        CHECK(call["file"].get<std::string>().ends_with("fs/read_write.c"));
        CHECK(call["line"].get<int>() > 0);
        // The slot holds the symbol's address.
        auto address = run.program().symbol_address(prefix + name);
        REQUIRE(address);
        CHECK(hex_value(call["handler"]) == *address);
      }
      // Every slot is a named handler (unused ones are sys_ni_syscall's).
      for (const auto& call : calls) CHECK(call["name"].is_string());

      const std::string one = run.text("sys -c " + std::to_string(write));
      const auto lines = lines_of(one);
      REQUIRE(lines.size() == 2);
      CHECK(lines[0] == "NUM  SYSTEM CALL                FILE AND LINE NUMBER");
      CHECK(lines[1].starts_with(fmt::format("{:3}  {:<26} ", write, prefix + "write")));
      CHECK_THAT(lines[1], Catch::Contains("fs/read_write.c: "));
      // A name picks every handler that holds it, in table order.
      const std::string named = run.text("sys -c write");
      CHECK_THAT(named, Catch::Contains(prefix + "write "));
      CHECK_THAT(named, Catch::Contains(prefix + "pwrite64 "));
      CHECK(run.text("sys -c no_such_call").empty());
    }
  }
}

TEST_CASE("sys config is a one-line error on kernels without CONFIG_IKCONFIG", "[sys][config]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      REQUIRE_FALSE(built_with(dump, "CONFIG_IKCONFIG"));
      CommandRunner run(dump);
      const std::string error = run.failure("sys config");
      CHECK_THAT(error, Catch::Contains("kernel_config_data does not exist in this kernel"));
      CHECK(error.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("sys -c rejects bad arguments with one line", "[sys][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("sys -c -x"), Catch::Contains("unknown option -x"));
  CHECK_THAT(run.failure("sys config extra"), Catch::Contains("unknown option"));
}

TEST_CASE("sys -c names the slots crash 8.0.2 names on the x86_64 dumps", "[sys][syscalls][crash]") {
  if (!crash_installed()) return;
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::vector<std::string> commands = {"sys -c", "sys -c 1", "sys -c read"};
  const std::vector<std::string> expected = crash_outputs(dump, commands);
  REQUIRE(expected.size() == commands.size());
  CommandRunner run(dump);
  // NUM and SYSTEM CALL: crash 8.0.2 finds no source lines for these kernels
  // (its FILE column is empty), and it names SYSCALL_DEFINE0 handlers by
  // their local alias __do_sys_X where the table's symbol is __x64_sys_X
  // (docs/crash-differences.md).
  auto columns = [](const std::string& text) {
    std::vector<std::string> out;
    for (const std::string& line : lines_of(text)) {
      std::istringstream words(line);
      std::string number, name;
      words >> number >> name;
      if (name.starts_with("__do_sys_")) name = "__x64_sys_" + name.substr(9);
      out.push_back(number + " " + name);
    }
    return out;
  };
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    const auto ours = columns(run.text(commands[i])), theirs = columns(expected[i]);
    CHECK(ours.size() > 1);
    CHECK(ours == theirs);
  }
}

}  // namespace coroner::test
