// dis on the real fixtures: module and kernel code at facts.json's
// addresses, bytes equal to memory_samples, source lines from DWARF.
#include "tests/commands/test_mod_runner.hpp"

namespace coroner::test {

namespace {

std::string joined_bytes(const nlohmann::json& dis) {
  std::string bytes;
  for (const auto& i : dis["instructions"]) bytes += i["bytes"].get<std::string>();
  return bytes;
}

}  // namespace

TEST_CASE("dis shows fx_crash_level3 and panic with the bytes of memory_samples", "[facts][dis]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto& facts = dump->facts();
      const uint64_t level3 = hex_value(facts["symbols"]["fx_crash_level3"]);

      nlohmann::json whole = run.json("dis fx_crash_level3");
      REQUIRE(whole["instructions"].size() > 3);
      CHECK(hex_value(whole["instructions"][0]["address"]) == level3);
      CHECK(whole["instructions"][0]["symbol"] == "<fx_crash_level3>");
      const auto& last = whole["instructions"].back();
      CHECK(last["symbol"].get<std::string>().starts_with("<fx_crash_level3+"));

      for (const char* kind : {"module-text", "kernel-text"}) {
        const nlohmann::json* sample = memory_sample(facts, kind);
        REQUIRE(sample);
        nlohmann::json dis = run.json(fmt::format("dis {:#x} 4", hex_value((*sample)["vaddr"])));
        CHECK(dis["instructions"].size() == 4);
        CHECK(joined_bytes(dis).substr(0, 16) == (*sample)["first8"]);
      }

      nlohmann::json panic = run.json("dis panic 3");
      REQUIRE(panic["instructions"].size() == 3);
      CHECK(hex_value(panic["instructions"][0]["address"]) == hex_value(facts["symbols"]["panic"]));
      CHECK(panic["instructions"][1]["symbol"].get<std::string>().starts_with("<panic+"));

      std::string text = run.text("dis fx_crash_level3 2");
      CHECK(text.starts_with(fmt::format("{:#x} <fx_crash_level3>:", level3)));
      if (dump->arch_dir.find("x86_64") != std::string::npos)
        CHECK(text.find("push") != std::string::npos);  // first8 53 = push %rbx

      // A call from fx_crash_level3 into the kernel names its target (on
      // arm64 the call may go through the module's PLT, which has no symbol).
      if (dump->arch_dir.find("x86_64") != std::string::npos)
        CHECK(run.text("dis fx_crash_level3").find("call") != std::string::npos);
      const bool names_printk = run.text("dis fx_crash_level3").find("<_printk>") != std::string::npos;
      CHECK((names_printk || dump->arch_dir.find("16k") != std::string::npos));
      // ARM mapping symbols ($x, $d) never name an address.
      CHECK(run.text("dis fx_crash_level3").find("<$") == std::string::npos);
    }
  }
}

TEST_CASE("dis -l and -s give fx_crash.c lines, -r ends at the address", "[facts][dis]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const uint64_t level3 = hex_value(dump->facts()["symbols"]["fx_crash_level3"]);

      nlohmann::json lines = run.json("dis -l fx_crash_level3");
      size_t in_module_source = 0;
      for (const auto& i : lines["instructions"]) {
        REQUIRE(i.contains("file"));
        // Inlined helpers (arm64's percpu.h) keep their own file.
        if (!i["file"].get<std::string>().ends_with("fx_crash.c")) continue;
        ++in_module_source;
        CHECK(i["line"].get<int>() >= 55);  // fx_crash_level3's body in fx_crash.c
        CHECK(i["line"].get<int>() <= 64);
      }
      CHECK(lines["instructions"][0]["file"].get<std::string>().ends_with("fx_crash.c"));
      CHECK(in_module_source * 2 >= lines["instructions"].size());
      std::string text = run.text("dis -l fx_crash_level3 3");
      CHECK(text.find("fx_crash.c: ") != std::string::npos);

      // fx_crash.c sits in the fixtures folder, the parent of fx_crash.ko's.
      std::string source = run.text("dis -s fx_crash_level3");
      CHECK(source.find("pr_emerg(\"fx_crash: crashing with") != std::string::npos);

      // vmlinux's line table (link-time addresses under KASLR).
      nlohmann::json panic = run.json("dis -l panic 1");
      CHECK(panic["instructions"][0]["file"].get<std::string>().ends_with("kernel/panic.c"));

      nlohmann::json reverse = run.json(fmt::format("dis -r {:#x}", level3 + 8));
      CHECK(hex_value(reverse["instructions"][0]["address"]) == level3);
      CHECK(hex_value(reverse["instructions"].back()["address"]) <= level3 + 8);
      CHECK(reverse["instructions"].back()["mnemonic"] != "(bad)");
    }
  }
}

TEST_CASE("dis rejects bad arguments with a clear message", "[dis]") {
  auto dumps = module_dumps();
  REQUIRE(!dumps.empty());
  CommandRunner run(*dumps.front());
  CHECK(run.failure("dis").find("usage") != std::string::npos);
  CHECK(run.failure("dis no_such_symbol_anywhere").find("no_such_symbol_anywhere") != std::string::npos);
  CHECK(run.failure("dis panic 0").find("out of range") != std::string::npos);
  CHECK(run.failure("dis -r panic 3").find("-r") != std::string::npos);
  CHECK(run.failure("dis -q panic").find("unknown option") != std::string::npos);
  // Unmapped memory: the error names the address.
  CHECK(run.failure("dis 0x10 2").find("0x10") != std::string::npos);
}

}  // namespace coroner::test
