// `log` on every fixture dump: the records of facts.json (drgn's reading),
// the time stamps the guest's console printed, `log -T` dates pinned by the
// guest's own clock, the options' formats and the JSON document. Next to
// crash 8.0.2 in test_log_sys_crash.cpp.
#include "analyzer/os/linux/printk_log.hpp"
#include "analyzer/os/linux/printk_vmcoreinfo.hpp"
#include "tests/commands/command_runner.hpp"
#include "tests/commands/guest_console.hpp"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <ctime>

namespace coroner::test {

namespace {

// "Sun Nov 22 19:04:10 UTC 2026" -> seconds since the epoch.
int64_t parse_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a %b %e %H:%M:%S UTC %Y", &tm);
  if (!end || *end) FAIL("not a date: " << text);
  return timegm(&tm);
}

}  // namespace

TEST_CASE("log shows the records of facts.json on every dump", "[log][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json log = run.json("log");
      CHECK(log["skipped"].empty());
      const nlohmann::json& records = log["records"];
      std::vector<std::string> text = lines_of(run.text("log"));
      REQUIRE(!text.empty());
      const auto& facts = dump.facts();
      if (facts.contains("printk")) {
        const auto& printk = facts["printk"];
        REQUIRE(records.size() == printk["count"].get<size_t>());
        CHECK(records.front()["text"] == printk["first"]);
        CHECK(records.front()["ts_nsec"] == printk["first_timestamp_ns"]);
        CHECK(records.back()["ts_nsec"] == printk["last_timestamp_ns"]);
        for (size_t i = 0; i < 5; ++i) CHECK(records[records.size() - 5 + i]["text"] == printk["last"][i]);
        // The text: one line per record line, the time stamp in front.
        CHECK(text.front() == "[    0.000000] " + printk["first"].get<std::string>());
        CHECK_THAT(text.back(), Catch::EndsWith("] " + printk["last"][4].get<std::string>()));
      } else {  // arm64's panic-qemu: drgn 0.0.22 cannot open it
        REQUIRE(records.size() > 100);
        CHECK_THAT(text.front(), Catch::StartsWith("[    0.000000] Booting Linux on physical CPU"));
      }
      size_t lines = 0;
      for (const auto& r : records) {
        std::string record_text = r["text"];
        lines += 1 + std::count(record_text.begin(), record_text.end(), '\n');
      }
      CHECK(text.size() == lines);
    }
  }
}

TEST_CASE("log has the time stamps of the console, log -T dates them from the boot time", "[log][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json records = run.json("log -T")["records"];
      REQUIRE(!records.empty());

      // Every line the console printed since the oldest record still in the
      // ring (arm64-16k's ring has dropped the first ones) is a record line,
      // with its time.
      std::multiset<std::pair<std::string, std::string>> logged;
      for (const auto& r : records)
        for (const std::string& line : lines_of(r["text"].get<std::string>())) logged.emplace(r["time"], line);
      auto console = console_lines(dump);
      auto oldest = std::find(console.begin(), console.end(),
                              std::pair<std::string, std::string>(records.front()["time"],
                                                                  lines_of(records.front()["text"]).front()));
      REQUIRE(console.end() - oldest > 100);
      for (const auto& [time, text] : std::vector(oldest, console.end())) {
        INFO("console: [" << time << "] " << text);
        CHECK(logged.count({time, text}) > 0);
      }

      // -T: boot time plus the whole seconds of each record, one boot time.
      std::vector<std::string> dated = lines_of(run.text("log -T"));
      int64_t boot = parse_date(records.front()["date"]) - records.front()["ts_nsec"].get<int64_t>() / 1000000000;
      size_t line = 0;
      for (const auto& r : records) {
        int64_t date = parse_date(r["date"]);
        REQUIRE(date - r["ts_nsec"].get<int64_t>() / 1000000000 == boot);
        REQUIRE(line < dated.size());
        CHECK(dated[line] == "[" + r["date"].get<std::string>() + "] " + lines_of(r["text"].get<std::string>() + "\n").front());
        line += lines_of(r["text"].get<std::string>() + "\n").size();
      }
      CHECK(line == dated.size());

      // The boot time is DATE minus the uptime of jiffies_64 (drgn's value) at
      // the kernel's HZ; the last record was logged just before DATE.
      nlohmann::json sys = run.json("sys");
      int64_t now = parse_date(sys["date"]);
      if (dump.facts().contains("values")) {
        int64_t hz = config_hz(dump);
        uint64_t initial = static_cast<uint32_t>(-300 * hz);
        uint64_t jiffies = dump.facts()["values"]["jiffies_64"];
        CHECK(boot == now - static_cast<int64_t>((jiffies - initial) / hz));
      }
      int64_t last = parse_date(records.back()["date"]);
      CHECK(last <= now);
      CHECK(last >= now - 2);

      // arm64's RTC set the clock at boot and logged it: "setting system
      // clock to 2026-11-24T11:46:22 UTC (1795520782)".
      static const std::regex rtc(R"(setting system clock to \S+ UTC \((\d+)\))");
      for (const auto& r : records) {
        std::smatch m;
        std::string text = r["text"];
        if (!std::regex_search(text, m, rtc)) continue;
        int64_t clock = std::stoll(m[1]);
        INFO(text << " logged at " << r["date"].get<std::string>());
        CHECK(std::abs(parse_date(r["date"]) - clock) <= 1);
      }
    }
  }
}

TEST_CASE("log -t, -m, -d and -c format as crash's log", "[log]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  std::vector<std::string> plain = lines_of(run.text("log"));
  std::vector<std::string> bare = lines_of(run.text("log -t"));
  REQUIRE(bare.size() == plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    // A record's further lines are indented under its text: without a time
    // stamp, not at all.
    REQUIRE(plain[i].size() >= 15);
    REQUIRE(bare[i] == plain[i].substr(15));
  }

  std::vector<std::string> levels = lines_of(run.text("log -m"));
  CHECK(levels.front() == "[    0.000000] <5>Linux version 6.1.192 (root@vm) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU "
                          "ld (GNU Binutils for Debian) 2.40) #2 SMP Sun Nov 22 19:03:17 UTC 2026");
  CHECK(std::find(levels.begin(), levels.end(),
                  "[    4.088577] <1>BUG: kernel NULL pointer dereference, address: 0000000000000000") != levels.end());

  // dev_printk() records name their device under the text.
  std::string devices = run.text("log -d");
  CHECK_THAT(devices, Catch::Contains("] acpi PNP0A03:00: _OSC: OS supports [ASPM ClockPM Segments HPX-Type3]\n"
                                      "               SUBSYSTEM=acpi\n"
                                      "               DEVICE=+acpi:PNP0A03:00\n"));
  nlohmann::json records = run.json("log")["records"];
  size_t device_lines = 0;
  for (const auto& r : records)
    device_lines += !r["subsystem"].get<std::string>().empty() + !r["device"].get<std::string>().empty();
  CHECK(device_lines > 10);
  CHECK(lines_of(devices).size() == plain.size() + device_lines);

  // The lockless ring records every caller: here pid_max is 32768, so the
  // column is 6 wide. The oops came from init (PID 1) on CPU 0.
  std::vector<std::string> callers = lines_of(run.text("log -c"));
  CHECK(callers.front().starts_with("[    0.000000] [    T0] Linux version 6.1.192"));
  CHECK(std::find(callers.begin(), callers.end(),
                  "[    4.088577] [    T1] BUG: kernel NULL pointer dereference, address: 0000000000000000") !=
        callers.end());
  // Wider ids are right-aligned in the column.
  CHECK(std::find_if(callers.begin(), callers.end(), [](const std::string& l) { return l.find("] [   T19] ") == 13; }) !=
        callers.end());
  CHECK(lines_of(run.text("log -tmc")).front().starts_with("[    T0] <5>Linux version"));
  nlohmann::json oops;
  for (const auto& r : records)
    if (r["text"].get<std::string>().starts_with("BUG: kernel NULL pointer")) oops = r;
  REQUIRE(oops.is_object());
  CHECK(oops["caller"] == "T1");
  CHECK(oops["level"] == 1);
  CHECK(oops["time"] == "4.088577");
  CHECK(oops["continuation"] == false);
}

TEST_CASE("log: bad options are one-line errors", "[log]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("log -x"), Catch::Contains("unknown option -x") && Catch::Contains("usage: log"));
  CHECK_THAT(run.failure("log 12"), Catch::Contains("unexpected argument 12"));
  CHECK_THAT(run.failure("log -"), Catch::Contains("unexpected argument -"));
  CHECK_THAT(run.failure("log -s"), Catch::Contains("-s is not supported"));
}

TEST_CASE("log reads VMCOREINFO alone, DWARF only fills keys a dump lacks", "[log][printk]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  {
    CommandRunner run(dump);
    nlohmann::json log = run.json("log");
    CHECK(log["records"].size() == dump.facts()["printk"]["count"].get<size_t>());
    CHECK(run.program().opened_debug_info() == nullptr);
  }
  // Without the printk keys (a QEMU dump without the vmcoreinfo device has
  // none), the same keys come from the symbols and DWARF.
  CommandRunner run(dump);
  const VmcoreInfo& full = run.program().vmcoreinfo();
  std::string stripped;
  size_t removed = 0;
  for (const auto& [key, value] : full.entries()) {
    bool printk = key == "SYMBOL(prb)" || key.find("printk_") != std::string::npos ||
                  key.find("prb_") != std::string::npos || key.find("atomic_long_t") != std::string::npos;
    if (printk) ++removed;
    else stripped += fmt::format("{}={}\n", key, value);
  }
  REQUIRE(removed > 20);
  VmcoreInfo base = VmcoreInfo::parse(stripped);
  VmcoreInfo completed = linux_kernel::with_printk_keys(run.program(), base);
  // Each key filled in is the kernel's own value.
  size_t added = 0;
  for (const auto& [key, value] : completed.entries()) {
    if (base.get(key)) continue;
    INFO(key);
    CHECK(full.get(key) == std::optional<std::string_view>(value));
    ++added;
  }
  CHECK(added >= 25);
  auto records = linux_kernel::read_printk_log(completed, run.program().memory());
  REQUIRE(records);
  CHECK(records->size() == dump.facts()["printk"]["count"].get<size_t>());
  CHECK(run.program().opened_debug_info() != nullptr);
}

}  // namespace coroner::test
