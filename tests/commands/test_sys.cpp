// sys and sys -t on every fixture dump, against what the guest said about
// itself (facts.json, its console, its .config): TASKS, UPTIME, MEMORY,
// PANIC and the taint of the out-of-tree fx_crash module. Next to crash
// 8.0.2 in test_log_sys_crash.cpp.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/guest_console.hpp"

#include <fstream>
#include <regex>

namespace coroner::test {

namespace {

std::string field(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n) *" + key + ": ([^\n]*)"))) FAIL("no " << key << " in\n" << text);
  return m[2];
}

}  // namespace

TEST_CASE("sys: tasks, uptime, memory and panic of every dump as the guest knew them", "[sys][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const auto& facts = dump.facts();
      nlohmann::json sys = run.json("sys");
      std::string text = run.text("sys");
      CHECK(sys["problems"].empty());

      // Every task and each CPU's idle task (facts.json lists no idle task).
      if (facts.contains("tasks")) {
        CHECK(sys["tasks"] == facts["tasks"].size() + 2);
        CHECK(field(text, "TASKS") == std::to_string(facts["tasks"].size() + 2));
      }

      // jiffies_64 since INITIAL_JIFFIES (-300 s), at the .config's HZ.
      if (facts.contains("values")) {
        int64_t hz = config_hz(dump);
        uint64_t seconds = (facts["values"]["jiffies_64"].get<uint64_t>() - static_cast<uint32_t>(-300 * hz)) / hz;
        CHECK(sys["uptime"] == fmt::format("00:00:{:02}", seconds));
      }

      // The kernel's count of its pages, as it printed it at boot:
      // "Memory: 405648K/524288K available".
      auto memory = console_capture(dump, std::regex(R"(Memory: \d+K/(\d+)K available)"));
      REQUIRE(memory);
      CHECK(sys["memory_bytes"] == std::stoull(*memory) * 1024);

      if (!facts["panic_message"].is_null()) {
        CHECK(sys["panic"] == "Kernel panic - not syncing: " + facts["panic_message"].get<std::string>());
        CHECK(field(text, "PANIC") == "\"Kernel panic - not syncing: " + facts["panic_message"].get<std::string>() + "\"");
      } else {
        CHECK(sys["panic"] == facts["oops_message"]);
        CHECK(field(text, "PANIC") == "\"" + facts["oops_message"].get<std::string>() + "\"");
      }

      // fx_crash is an out-of-tree module: TAINT_OOT_MODULE, bit 12, 'O'.
      CHECK(sys["tainted"] == true);
      CHECK_THAT(field(text, "KERNEL"), Catch::EndsWith("  [TAINTED]"));
      CHECK(run.text("sys -t") == "TAINTED_MASK: 1000  O\n");
      nlohmann::json taint = run.json("sys -t");
      CHECK(taint["tainted_mask"] == "1000");
      CHECK(taint["flags"] == "O");
      CHECK(taint["set"] == nlohmann::json::parse(R"([{"bit": 12, "flag": "O", "name": "TAINT_OOT_MODULE"}])"));
    }
  }
}

TEST_CASE("sys: MACHINE and MEMORY lines as crash writes them", "[sys]") {
  CommandRunner x86(fixture_case("x86_64/oops-kdump/d31"));
  std::string text = x86.text("sys");
  CHECK(field(text, "MEMORY") == "511.5 MB");  // 523744K
  CHECK_THAT(field(text, "MACHINE"), Catch::Matches(R"(x86_64  \(\d+ Mhz\))"));
  CommandRunner arm64(fixture_case("arm64/oops-kdump/d31"));
  text = arm64.text("sys");
  CHECK(field(text, "MEMORY") == "512 MB");  // 524288K
  CHECK(field(text, "MACHINE") == "aarch64  (unknown Mhz)");
}

TEST_CASE("sys: bad options are one-line errors", "[sys]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("sys -x"), Catch::Contains("unknown option -x") && Catch::Contains("usage: sys"));
  CHECK_THAT(run.failure("sys bogus"), Catch::Contains("unknown option bogus"));
}

}  // namespace coroner::test
