// mach, ptov, ptob and btop on every fixture dump: the page size and HZ the
// kernels were built with (CONFIG_HZ=250), the linear map base, physical
// addresses that vtop maps back, per-CPU offsets plus __per_cpu_offset;
// next to crash 8.0.2 on x86_64.
#include "analyzer/object.hpp"
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

TEST_CASE("mach shows the fixture machines' page size, CPUs, HZ and bases", "[mach][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const bool x86 = dump.arch_dir.find("x86_64") != std::string::npos;
      const nlohmann::json mach = run.json("mach");
      const auto& vmcoreinfo = dump.facts()["vmcoreinfo"];
      CHECK(mach["machine_type"] == (x86 ? "x86_64" : "aarch64"));
      CHECK(std::to_string(mach["page_size"].get<uint64_t>()) == vmcoreinfo["PAGESIZE"].get<std::string>());
      CHECK(mach["cpus"] == 2);
      CHECK(mach["hz"] == 250);
      CHECK(mach["kernel_stack_size"] == 16384);
      CHECK(mach["problems"].empty());
      if (x86) {
        CHECK(mach["kernel_start_map"] == "0xffffffff80000000");
        CHECK(mach["kernel_modules_base"] == "0xffffffffc0000000");
      } else {
        const int va_bits = std::stoi(vmcoreinfo["NUMBER(VA_BITS)"].get<std::string>());
        CHECK(hex_value(mach["kernel_virtual_base"]) == ~uint64_t{0} << va_bits);
      }
      // fx_crash lies in the modules area (arm64 QEMU dumps have no module facts).
      for (const auto& module : dump.facts().value("modules", nlohmann::json::array())) {
        INFO(module.dump());
        CHECK(hex_value(module["base"]) >= hex_value(mach["kernel_modules_base"]));
      }
      const std::string text = run.text("mach");
      CHECK_THAT(text, Catch::Contains(x86 ? "          MACHINE TYPE: x86_64\n" : "       MACHINE TYPE: aarch64\n"));
      CHECK_THAT(text, Catch::Contains(x86 ? "                    HZ: 250\n" : "                 HZ: 250\n"));
    }
  }
}

TEST_CASE("ptov maps physical addresses into the linear map and per-CPU offsets to each CPU", "[ptov][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      // Physical address of init_task, and back.
      const nlohmann::json walk = run.json("vtop init_task");
      REQUIRE(walk["paddr"].is_string());
      const nlohmann::json linear = run.json("ptov " + walk["paddr"].get<std::string>());
      CHECK(linear["physical"] == walk["paddr"]);
      const nlohmann::json back = run.json("vtop " + linear["virtual"].get<std::string>());
      CHECK(back["paddr"] == walk["paddr"]);

      // runqueues:a gives runqueues plus each CPU's __per_cpu_offset.
      auto runqueues = run.program().symbol_address("runqueues");
      REQUIRE(runqueues);
      auto offsets = kernel_object(run.program(), "__per_cpu_offset");
      REQUIRE(offsets);
      const nlohmann::json per_cpu = run.json("ptov runqueues:a");
      REQUIRE(per_cpu["cpus"].size() == 2);
      for (const auto& entry : per_cpu["cpus"]) {
        auto slot = offsets->index(entry["cpu"].get<int64_t>());
        REQUIRE(slot);
        CHECK(hex_value(entry["virtual"]) == *runqueues + *slot->read_unsigned());
      }
      CHECK(run.json("ptov runqueues:1")["cpus"].size() == 1);
    }
  }
}

TEST_CASE("ptob and btop use the dump's page size", "[ptob][btop]") {
  CommandRunner x86(fixture_case("x86_64/oops-kdump/d31"));
  CHECK(x86.text("ptob 512a") == "512a: 512a000\n");
  CHECK(x86.text("ptob 16 0x10") == "10: 10000\n10: 10000\n");
  CHECK(x86.text("btop 512a000 fff") == "512a000: 512a\nfff: 0\n");
  CHECK(x86.json("btop 0x2000")["pfn"] == 2);
  CommandRunner arm64_16k(fixture_case("arm64-16k/oops-kdump/d31"));
  CHECK(arm64_16k.text("ptob 1") == "1: 4000\n");
  CHECK(arm64_16k.json("btop 8000")["pfn"] == 2);
}

TEST_CASE("ptov, ptob, btop and mach reject bad arguments with one line", "[ptov][ptob][btop][mach][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("ptob"), Catch::Contains("usage: ptob"));
  CHECK_THAT(run.failure("btop zzz"), Catch::Contains("zzz"));
  CHECK_THAT(run.failure("ptob fffffffffffffffff"), Catch::Contains("fffffffffffffffff"));
  CHECK_THAT(run.failure("ptob ffffffffffffff"), Catch::Contains("too large"));
  CHECK_THAT(run.failure("ptov"), Catch::Contains("usage: ptov"));
  CHECK_THAT(run.failure("ptov 1000:7"), Catch::Contains("CPU 7 does not exist"));
  CHECK_THAT(run.failure("ptov 1000:x"), Catch::Contains("x"));
  CHECK_THAT(run.failure("mach -x"), Catch::Contains("unknown option -x"));
  CommandRunner arm64(fixture_case("arm64/oops-kdump/d31"));
  CHECK_THAT(arm64.failure("mach -m"), Catch::Contains("x86_64"));
}

TEST_CASE("mach, mach -m, mach -c, ptov, ptob and btop print what crash 8.0.2 prints on x86_64",
          "[mach][ptov][ptob][btop][crash]") {
  if (!crash_installed()) return;
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::vector<std::string> commands = {"mach", "mach -m", "mach -c", "ptov 1000 2000", "ptov 1a040:a",
                                             "ptob 512a 0x10", "btop 512a000"};
  const std::vector<std::string> expected = crash_outputs(dump, commands);
  REQUIRE(expected.size() == commands.size());
  CommandRunner run(dump);
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    std::string theirs = expected[i];
    // crash goes on with the per-CPU IRQ and exception stacks after
    // KERNEL STACK SIZE, which coroner does not show.
    if (commands[i] == "mach") theirs = theirs.substr(0, theirs.find("        IRQ STACK SIZE"));
    check_same_lines(run.text(commands[i]), theirs);
  }
}

}  // namespace coroner::test
