// `search` on the fixtures: fx_magic's value at fx_magic's address
// (facts.symbols), direct-map hits of the fx_items values, physical and
// user searches.
#include "tests/commands/command_runner.hpp"

#include <set>

namespace coroner::test {

TEST_CASE("search finds fx_magic at its address", "[search][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("symbols") || !facts["symbols"].contains("fx_magic")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const uint64_t magic = hex_value(facts["symbols"]["fx_magic"]);
      const std::string hit = fmt::format("{:x}: c0ffee11deadbeef\n", magic);
      // The module's vmalloc area, around the variable.
      auto text = run.text(fmt::format("search -s {:#x} -e {:#x} c0ffee11deadbeef", magic - 0x800, magic + 0x800));
      CHECK(text == hit);
      auto json = run.json(fmt::format("search -s {:#x} -l 16 c0ffee11deadbeef", magic));
      REQUIRE(json["matches"].size() == 1);
      CHECK(json["matches"][0]["address"] == fmt::format("{:#x}", magic));
      CHECK(json["space"] == "kernel");

      // Physical memory: the page behind the variable.
      auto phys = run.program().memory().to_physical(magic);
      REQUIRE(phys);
      CHECK(run.text(fmt::format("search -p -s {:x} -l 4096 c0ffee11deadbeef", *phys & ~uint64_t{0xfff})) ==
            fmt::format("{:x}: c0ffee11deadbeef\n", *phys));

      // -w: the low half of the value, 32-bit aligned.
      CHECK(run.text(fmt::format("search -w -s {:#x} -l 16 deadbeef", magic)) == fmt::format("{:x}: deadbeef\n", magic));
    }
  }
}

TEST_CASE("search -k covers the direct map, the image and the vmalloc areas", "[search][facts][slow]") {
  size_t searched = 0;
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    // Whole-memory searches take seconds: the kdump-compressed d31 of each
    // architecture.
    if (dump.variant != "d31" || dump.scenario != "oops-kdump" || !facts.contains("values")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      // Masked: fx_magic itself and the five items' values (fx_magic ^ id),
      // those in slab memory found through the direct map.
      auto json = run.json("search -k -m f c0ffee11deadbeef");
      std::set<std::string> found;
      for (const auto& m : json["matches"]) found.insert(m["address"].get<std::string>());
      CHECK(found.count(facts["symbols"]["fx_magic"].get<std::string>()));
      for (const auto& item : facts["values"]["fx_items"]) {
        // fx_item.value follows id and name[16]: offset 24 (see struct fx_item).
        CHECK(found.count(fmt::format("{:#x}", hex_value(item["addr"]) + 24)));
      }
      ++searched;
    }
  }
  CHECK(searched > 0);
}

TEST_CASE("search -u finds busybox's ELF header in the context task", "[search][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!dump.keeps_user_pages || !facts.contains("user_memory")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& sample : facts["user_memory"]) {
        if (!sample.contains("first16")) continue;
        run.text(fmt::format("set {}", sample["pid"].get<int>()));
        // 7f 45 4c 46 02 01 01 03 read as a little-endian 64-bit value.
        CHECK(run.text("search -u -s 400000 -l 4096 03010102464c457f") == "400000: 3010102464c457f\n");
        break;
      }
    }
  }
}

TEST_CASE("search rejects bad requests", "[search][facts]") {
  CommandRunner run(all_dumps().front());
  CHECK_THAT(run.failure("search"), Catch::Contains("missing value"));
  CHECK_THAT(run.failure("search -w 123456789"), Catch::Contains("4 bytes"));
  CHECK_THAT(run.failure("search -s 2000 -e 1000 -p 1"), Catch::Contains("empty range"));
  CHECK_THAT(run.failure("search -q 1"), Catch::Contains("-q"));
}

}  // namespace coroner::test
