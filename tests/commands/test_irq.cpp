// irq on every fixture dump against what the guest's console said: nr_irqs,
// the serial port's IRQ and handler, the PCI interrupt links the virtio
// devices got (x86_64); counts and affinity of each handled IRQ; the text
// next to crash 8.0.2's on the x86_64 dumps; errors.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

#include <map>

namespace coroner::test {

namespace {

std::vector<std::string> handler_names(const nlohmann::json& irq) {
  std::vector<std::string> names;
  for (const auto& a : irq["actions"]) names.push_back(a["name"]);
  return names;
}

}  // namespace

TEST_CASE("irq lists the interrupts the console shows on every dump", "[irq][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json all = run.json("irq -s");
      auto nr_irqs = console_capture(dump, std::regex(R"(nr_irqs: (\d+))"));
      REQUIRE(nr_irqs);
      CHECK(all["nr_irqs"] == std::stoul(*nr_irqs));
      std::map<uint32_t, nlohmann::json> by_irq;
      uint64_t total = 0;
      for (const auto& irq : all["irqs"]) {
        CHECK_FALSE(irq.contains("error"));
        by_irq[irq["irq"].get<uint32_t>()] = irq;
        CHECK(irq["counts"].size() == all["cpus"].size());
        for (const auto& [cpu, count] : irq["counts"].items()) total += count.get<uint64_t>();
        CHECK_FALSE(irq["affinity"].empty());
        CHECK_FALSE(irq["chip"].get<std::string>().empty());
      }
      CHECK(total > 0);

      // "ttyS0 at I/O 0x3f8 (irq = 4, ...)", "ttyAMA0 at MMIO 0x9000000 (irq = 13, ...)"
      auto serial = console_capture(dump, std::regex(R"(tty(?:S0|AMA0) at .*\(irq = (\d+))"));
      REQUIRE(serial);
      const nlohmann::json& port = by_irq.at(std::stoul(*serial));
      const bool x86 = dump.arch_dir == "linux-6.1-x86_64";
      CHECK(handler_names(port) == std::vector<std::string>{x86 ? "ttyS0" : "uart-pl011"});
      if (x86) {
        // "ACPI: \_SB_.LNKD: Enabled at IRQ 11": the virtio devices' lines.
        for (const auto& [time, text] : console_lines(dump)) {
          std::smatch m;
          if (!std::regex_search(text, m, std::regex(R"(LNK.: Enabled at IRQ (\d+))"))) continue;
          INFO(text);
          REQUIRE(by_irq.count(std::stoul(m[1])));
          CHECK_THAT(handler_names(by_irq[std::stoul(m[1])])[0], Catch::StartsWith("virtio"));
        }
        CHECK(by_irq.at(1)["chip"] == "IO-APIC");
        CHECK(by_irq.at(1)["flow"] == "edge");
      }

      // The text table: a row for every IRQ below nr_irqs.
      const std::vector<std::string> rows = lines_of(run.text("irq"));
      CHECK(rows.size() == 1 + std::stoul(*nr_irqs));
      CHECK(rows[0] == " IRQ   IRQ_DESC/_DATA      IRQACTION      NAME");
      const std::string one = run.text("irq " + *serial);
      CHECK_THAT(one, Catch::Contains(fmt::format("{}  \"{}\"\n", port["actions"][0]["irqaction"].get<std::string>().substr(2),
                                                  port["actions"][0]["name"].get<std::string>())));
    }
  }
}

TEST_CASE("irq rejects bad arguments with one line", "[irq][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("irq 99999"), Catch::Contains("invalid IRQ value: 99999  (55 max)"));
  CHECK_THAT(run.failure("irq zz"), Catch::Contains("invalid IRQ value: zz"));
  CHECK_THAT(run.failure("irq -c 1"), Catch::Contains("-c goes with -s"));
  CHECK_THAT(run.failure("irq -s -c"), Catch::Contains("-c needs a CPU list"));
  CHECK_THAT(run.failure("irq -x"), Catch::Contains("unknown option -x"));
  CHECK_THAT(run.failure("irq -d"), Catch::Contains("not supported"));
}

TEST_CASE("irq prints what crash 8.0.2 prints on the x86_64 dumps", "[irq][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"irq", "irq -u", "irq -s", "irq -s -c 1", "irq -a", "irq 4 11"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
