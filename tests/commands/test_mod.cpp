// mod on the real fixtures: fx_crash at the base address of facts.json with
// its object and debug info attached automatically; -s / -S by hand; a .ko
// whose build-id differs is refused.
#include "tests/commands/test_mod_runner.hpp"

#include <fstream>

namespace coroner::test {

namespace {

// A copy of the fixture's .ko with one byte of its build-id flipped.
std::string ko_with_other_build_id(const DumpCase& dump) {
  const fs::path copy = cache_dir() / fmt::format("mod-test-{}", dump.arch_dir) / "fx_crash.ko";
  fs::create_directories(copy.parent_path());
  fs::copy_file(dump.module_path(), copy, fs::copy_options::overwrite_existing);
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write);
  std::ifstream in(dump.module_path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The note: namesz 4, descsz 20, type 3 (NT_GNU_BUILD_ID), "GNU\0", id.
  const std::string header("\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 16);
  const size_t at = bytes.find(header);
  REQUIRE(at != std::string::npos);
  bytes[at + 16] ^= 0x5a;
  std::ofstream(copy, std::ios::binary | std::ios::trunc) << bytes;
  return copy.string();
}

}  // namespace

TEST_CASE("mod lists fx_crash at facts' base with its debug info loaded automatically", "[facts][mod]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto& expected = dump->facts()["modules"];
      nlohmann::json mod = run.json("mod");
      REQUIRE(mod["modules"].size() == expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        const auto& m = mod["modules"][i];
        CHECK(m["name"] == expected[i]["name"]);
        CHECK(hex_value(m["base"]) == hex_value(expected[i]["base"]));
        CHECK(m["object_file"] == dump->module_path());
        CHECK(m["debug_info"] == true);
        CHECK(m["match"] == "build-id");
        CHECK(m["build_id"] == symbols::elf_build_id(dump->module_path()).value());
        CHECK(m["size"].get<uint64_t>() > 0);
      }
      std::string text = run.text("mod");
      CHECK(text.find("MODULE") == text.find_first_not_of(' '));
      CHECK(text.find("OBJECT FILE") != std::string::npos);
      CHECK(text.find(fmt::format("{:016x}", hex_value(expected[0]["base"]))) != std::string::npos);
      CHECK(text.find(dump->module_path()) != std::string::npos);
    }
  }
}

TEST_CASE("mod -s and -S attach objects by hand and refuse a .ko of another build", "[facts][mod]") {
  auto dumps = module_dumps();
  REQUIRE(!dumps.empty());
  for (const DumpCase* dump : dumps) {
    SECTION(dump->id) {
      // Nothing to find automatically: look in an empty directory.
      const fs::path empty = cache_dir() / "mod-test-empty";
      fs::create_directories(empty);
      CommandRunner run(*dump, {empty.string()});
      nlohmann::json before = run.json("mod");
      CHECK(before["modules"][0]["object_file"].is_null());
      CHECK(before["modules"][0]["problem"].get<std::string>().find("no fx_crash.ko") != std::string::npos);
      CHECK(run.text("mod").find("(not loaded") != std::string::npos);
      // Without the .ko, the kernel's kallsyms copy still names the module's
      // code: sym and bt see the addresses of facts.json.
      CHECK(run.text("mod").find("symbols from memory") != std::string::npos);
      CHECK(hex_value(run.json("sym fx_crash_level3")["address"]) ==
            hex_value(dump->facts()["symbols"]["fx_crash_level3"]));
      if (dump->scenario == "oops-kdump") {
        std::vector<std::string> names;
        const nlohmann::json trace = run.json("bt 1");
        for (const auto& frame : trace["frames"]) names.push_back(frame["function"]);
        const std::vector<std::string> expected = {"fx_crash_level3", "fx_crash_level2", "fx_crash_level1", "fx_write"};
        REQUIRE(names.size() > expected.size());
        CHECK(std::vector<std::string>(names.begin(), names.begin() + 4) == expected);
      }

      std::string other = ko_with_other_build_id(*dump);
      std::string refused = run.failure("mod -s fx_crash " + other);
      CHECK(refused.find("does not match") != std::string::npos);
      CHECK(refused.find(other) != std::string::npos);
      CHECK(run.json("mod")["modules"][0]["object_file"].is_null());

      nlohmann::json loaded = run.json("mod -s fx_crash " + dump->module_path());
      CHECK(loaded["modules"][0]["object_file"] == dump->module_path());
      CHECK(hex_value(run.json("sym fx_crash_level3")["address"]) ==
            hex_value(dump->facts()["symbols"]["fx_crash_level3"]));

      nlohmann::json all = run.json("mod -S " + fs::path(dump->module_path()).parent_path().string());
      CHECK(all["modules"][0]["match"] == "build-id");

      CHECK(run.failure("mod -s no_such_module").find("no such module") != std::string::npos);
      CHECK(run.failure("mod -x").find("unknown option") != std::string::npos);
    }
  }
}

TEST_CASE("a module's symbols sit at its sections' run-time addresses, sorted as vmlinux's", "[facts][mod][symbols]") {
  for (const DumpCase* dump : module_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      KernelModule* module = run.program().find_module("fx_crash");
      REQUIRE(module);
      REQUIRE(module->object_path() == dump->module_path());
      const auto& facts = dump->facts()["symbols"];
      for (const char* name : {"fx_crash_level3", "fx_items", "fx_magic"}) {
        INFO(name);
        REQUIRE(module->find_symbol(name));
        CHECK(module->find_symbol(name)->address == hex_value(facts[name]));
      }
      // Every kept symbol is of a loaded, not freed, section at that
      // section's address plus its offset in the .ko.
      auto linked = symbols::SymbolTable::from_elf(dump->module_path());
      REQUIRE(linked);
      const auto& placed = module->symbols();
      REQUIRE(!placed.empty());
      size_t kept = 0;
      for (const symbols::Symbol& symbol : linked->by_address()) {
        auto section = module->sections.find(symbol.section);
        if (section == module->sections.end() || symbol.section.starts_with(".init") || symbol.name.starts_with("$"))
          continue;
        ++kept;
        const symbols::Symbol* found = module->find_symbol(symbol.name);
        REQUIRE(found);
        if (found->section == symbol.section && found->size == symbol.size && symbol.type == found->type)
          CHECK(found->address - section->second == symbol.address);
      }
      CHECK(placed.size() == kept);
      for (size_t i = 1; i < placed.size(); ++i) CHECK(placed[i - 1].address <= placed[i].address);
      for (const symbols::Symbol& symbol : placed) {
        CHECK_FALSE(symbol.section.starts_with(".init"));
        CHECK(module->sections.count(symbol.section) == 1);
      }
    }
  }
}

TEST_CASE("place_sections keeps only the listed sections and refuses a linked file", "[mod][symbols]") {
  auto dumps = module_dumps();
  REQUIRE(!dumps.empty());
  const DumpCase& dump = *dumps.front();
  auto table = symbols::SymbolTable::from_elf(dump.module_path());
  REQUIRE(table);
  std::vector<symbols::Symbol> text;
  for (const symbols::Symbol& symbol : table->by_address())
    if (symbol.section == ".text" && !symbol.name.starts_with("$")) text.push_back(symbol);
  REQUIRE(text.size() >= 3);
  const uint64_t base = 0xffffffffc0001000;
  REQUIRE(table->place_sections({{".text", base}}));
  REQUIRE(table->by_address().size() == text.size());
  for (const symbols::Symbol& symbol : text) {
    INFO(symbol.name);
    const symbols::Symbol* placed = table->find(symbol.name);
    REQUIRE(placed);
    CHECK(placed->address == base + symbol.address);
  }
  REQUIRE(table->find("fx_crash_level3"));
  CHECK(table->find("fx_items") == nullptr);  // .data was not listed

  auto vmlinux = symbols::SymbolTable::from_elf(dump.vmlinux());
  REQUIRE(vmlinux);
  auto refused = vmlinux->place_sections({{".text", base}});
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(), Catch::Contains("linked"));
}

}  // namespace coroner::test
