// timer on every fixture dump: the JIFFIES header is facts.json's
// jiffies_64, each CPU has its two wheel bases, every pending timer's
// function is a named kernel function and the timers come soonest first;
// the text next to crash 8.0.2's on the x86_64 dumps; errors.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

TEST_CASE("timer lists each CPU's timer wheel on every dump", "[timer][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json timers = run.json("timer");
      const nlohmann::json& facts = dump.facts();
      if (facts.contains("values") && facts["values"].contains("jiffies_64"))
        CHECK(timers["jiffies"] == facts["values"]["jiffies_64"]);
      const size_t cpus = run.json("runq")["cpus"].size();
      REQUIRE(timers["timer_bases"].size() == 2 * cpus);  // NO_HZ_COMMON: BASE_STD and BASE_DEF
      size_t count = 0;
      for (const auto& base : timers["timer_bases"]) {
        CHECK_FALSE(base.contains("errors"));
        uint64_t previous = 0;
        for (const auto& t : base["timers"]) {
          CHECK(t["expires"].get<uint64_t>() >= previous);
          previous = t["expires"];
          CHECK_FALSE(t["symbol"].get<std::string>().empty());
          CHECK(t["tte"].get<int64_t>() == static_cast<int64_t>(t["expires"].get<uint64_t>() -
                                                                 timers["jiffies"].get<uint64_t>()));
          ++count;
        }
      }
      CHECK(count > 0);
      const std::string text = run.text("timer -C 0");
      CHECK_THAT(text, Catch::StartsWith(fmt::format("JIFFIES   \n{}\n\nTIMER_BASES[0][BASE_STD]: ",
                                                     timers["jiffies"].get<uint64_t>())));
      CHECK(text.find("TIMER_BASES[1]") == std::string::npos);
    }
  }
}

TEST_CASE("timer rejects bad arguments with one line", "[timer][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("timer -C"), Catch::Contains("-C needs a CPU list"));
  CHECK_THAT(run.failure("timer -C x"), Catch::Contains("invalid CPU list"));
  CHECK_THAT(run.failure("timer 5"), Catch::Contains("unexpected argument 5"));
  CHECK_THAT(run.failure("timer -r"), Catch::Contains("not supported"));
}

TEST_CASE("timer prints what crash 8.0.2 prints on the x86_64 dumps", "[timer][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"timer", "timer -C 1"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
