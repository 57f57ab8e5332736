// sym over module symbols on the real fixtures: names resolve to the
// addresses of facts.json, addresses in module memory to "name+off [module]".
#include "tests/commands/test_mod_runner.hpp"

namespace coroner::test {

TEST_CASE("sym resolves fx_crash's symbols to facts.json addresses and back", "[facts][sym][mod]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto& symbols = dump->facts()["symbols"];
      for (const char* name : {"fx_crash_level3", "fx_magic", "fx_items", "panic", "init_task"}) {
        INFO(name);
        nlohmann::json sym = run.json(std::string("sym ") + name);
        CHECK(hex_value(sym["address"]) == hex_value(symbols[name]));
        CHECK(sym["name"] == name);
        CHECK(sym.contains("module") == std::string_view(name).starts_with("fx_"));
      }
      // Module variables through the module's DWARF, placed at its sections.
      KernelModule* module = run.program().find_module("fx_crash");
      REQUIRE(module);
      auto dwarf = module->debug_info();
      REQUIRE(dwarf);
      for (const char* name : {"fx_magic", "fx_items"}) {
        auto variable = (*dwarf)->find_variable(name);
        REQUIRE(variable);
        CHECK(variable->address == hex_value(symbols[name]));
      }
      CHECK(run.program().memory().read_u64(hex_value(symbols["fx_magic"])).value() ==
            hex_value(dump->facts()["values"]["fx_magic"]));

      const uint64_t level3 = hex_value(symbols["fx_crash_level3"]);
      std::string text = run.text(fmt::format("sym {:x}", level3 + 4));
      CHECK(text == fmt::format("{:016x} (t) fx_crash_level3+4 [fx_crash]\n", level3 + 4));
      nlohmann::json back = run.json(fmt::format("sym {:#x}", level3 + 4));
      CHECK(back["offset"] == 4);
      CHECK(back["module"] == "fx_crash");
      // Past the module's core memory, no module symbol claims an address.
      auto past = run.program().describe_address(module->base + module->size);
      CHECK((!past || past->module.empty()));
    }
  }
}

TEST_CASE("sym -m lists a module's symbols between its bounds", "[facts][sym][mod]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto& facts = dump->facts();
      const uint64_t base = hex_value(facts["modules"][0]["base"]);
      std::string text = run.text("sym -m fx_crash");
      CHECK(text.starts_with(fmt::format("{:016x} MODULE START: fx_crash\n", base)));
      CHECK(text.find(fmt::format("{:016x} (t) fx_crash_level3 [fx_crash]\n",
                                  hex_value(facts["symbols"]["fx_crash_level3"]))) != std::string::npos);
      CHECK(text.find("MODULE END: fx_crash") != std::string::npos);
      // Symbols of the freed .init.text are not listed.
      CHECK(text.find("fx_init") == std::string::npos);
      nlohmann::json json = run.json("sym -m fx_crash");
      for (const auto& s : json["symbols"]) CHECK(s["module"] == "fx_crash");
      CHECK(run.json("sym -q fx_crash_level")["symbols"].size() >= 3);
      CHECK(run.failure("sym -m no_such_module").find("no such module") != std::string::npos);
    }
  }
}

}  // namespace coroner::test
