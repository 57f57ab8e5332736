// timer on every fixture dump: the JIFFIES header is facts.json's
// jiffies_64, each CPU has its two wheel bases, every pending timer's
// function is a named kernel function and the timers come soonest first;
// timer -r: each CPU's monotonic clock base holds the CPU's tick
// (tick_cpu_sched.sched_timer, tick_sched_timer), CURRENT is facts'
// jiffies_64 as ns, the timers come soonest first; the text next to crash
// 8.0.2's on the x86_64 dumps; errors.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

#include "analyzer/object.hpp"

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

TEST_CASE("timer -r lists each CPU's hrtimers with its tick on every dump", "[timer][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json doc = run.json("timer -r");
      const size_t cpus = run.json("runq")["cpus"].size();
      REQUIRE(doc["cpus"].size() == cpus);
      // CONFIG_HZ=250 in every fixture: a jiffy is 4 ms; INITIAL_JIFFIES is -300 s as a 32-bit count.
      const nlohmann::json& facts = dump.facts();
      std::optional<uint64_t> ticks;
      if (facts.contains("values") && facts["values"].contains("jiffies_64"))
        ticks = facts["values"]["jiffies_64"].get<uint64_t>() - static_cast<uint32_t>(0 - 300 * 250);
      auto sched = find_kernel_global(run.program(), "tick_cpu_sched");
      REQUIRE(sched);
      for (const auto& cpu : doc["cpus"]) {
        INFO("CPU " << cpu["cpu"]);
        REQUIRE(cpu["clock_bases"].size() == 8);  // MONOTONIC, REALTIME, BOOTTIME, TAI; hard and soft
        const nlohmann::json& monotonic = cpu["clock_bases"][0];
        CHECK(monotonic["get_time"] == "ktime_get");
        if (ticks) CHECK(monotonic["current"] == *ticks * 4000000);
        auto tick = per_cpu(*sched, cpu["cpu"].get<uint32_t>());
        REQUIRE(tick);
        const std::string tick_timer = fmt::format("{:#x}", *tick->address() + *run.program().member_offset("struct tick_sched", "sched_timer"));
        bool found = false;
        for (const auto& clock : cpu["clock_bases"]) {
          CHECK_FALSE(clock.contains("errors"));
          int64_t previous = INT64_MIN;
          for (const auto& t : clock["timers"]) {
            CHECK(t["expires"].get<int64_t>() >= previous);
            previous = t["expires"];
            CHECK(t["tte"].get<int64_t>() == t["expires"].get<int64_t>() - clock["current"].get<int64_t>());
            CHECK(t["softexpires"].get<int64_t>() <= t["expires"].get<int64_t>());
            if (t["hrtimer"] == tick_timer) {
              found = true;
              CHECK(t["symbol"] == "tick_sched_timer");
              CHECK(clock["clock"] == 0);
            }
          }
        }
        CHECK(found);
      }
      const std::string text = run.text("timer -r -C 1");
      CHECK_THAT(text, Catch::StartsWith(fmt::format("CPU: 1  HRTIMER_CPU_BASE: {}\n  CLOCK: 0  HRTIMER_CLOCK_BASE: ",
                                                     doc["cpus"][1]["hrtimer_cpu_base"].get<std::string>().substr(2))));
      CHECK(text.find("CPU: 0") == std::string::npos);
    }
  }
}

TEST_CASE("timer rejects bad arguments with one line", "[timer][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("timer -C"), Catch::Contains("-C needs a CPU list"));
  CHECK_THAT(run.failure("timer -C x"), Catch::Contains("invalid CPU list"));
  CHECK_THAT(run.failure("timer 5"), Catch::Contains("unexpected argument 5"));
  CHECK_THAT(run.failure("timer -r -C"), Catch::Contains("-C needs a CPU list"));
}

TEST_CASE("timer and timer -r print what crash 8.0.2 prints on the x86_64 dumps", "[timer][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"timer", "timer -C 1", "timer -r", "timer -r -C 0"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
