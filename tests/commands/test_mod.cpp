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
      CHECK(run.failure("sym fx_crash_level3").find("fx_crash_level3") != std::string::npos);

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

}  // namespace coroner::test
