// pte on every fixture dump: the leaf entries vtop finds for module text, a
// slab object and init_task decode to the page vtop reached, with their
// present/valid bits; on the x86_64 dumps the text equals crash 8.0.2's.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

namespace {

// The leaf entries of the walks to module text, the first fx_items entry
// and init_task, with the page each maps.
std::vector<std::pair<uint64_t, uint64_t>> leaf_entries(CommandRunner& run, const DumpCase& dump) {
  std::vector<std::string> addresses = {run.json("mod")["modules"][0]["base"], "init_task"};
  if (dump.facts().contains("values") && dump.facts()["values"].contains("fx_items"))
    addresses.push_back(dump.facts()["values"]["fx_items"][0]["addr"]);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const std::string& address : addresses) {
    const nlohmann::json walk = run.json("vtop " + address);
    INFO(address << ": " << walk.dump());
    REQUIRE(walk["paddr"].is_string());
    const uint64_t page = hex_value(walk["paddr"]) & ~(walk["page_size"].get<uint64_t>() - 1);
    out.emplace_back(hex_value(walk["levels"].back()["entry"]), page);
  }
  return out;
}

}  // namespace

TEST_CASE("pte decodes the leaf entries of vtop's walks to the pages they map on every dump", "[pte][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const bool arm64 = dump.arch_dir.find("arm64") != std::string::npos;
      for (const auto& [entry, page] : leaf_entries(run, dump)) {
        const nlohmann::json pte = run.json(fmt::format("pte {:x}", entry));
        INFO(pte.dump());
        CHECK(hex_value(pte["physical"]) == page);
        CHECK(pte["present"] == true);
        const std::vector<std::string> flags = pte["flags"];
        CHECK(flags.front() == (arm64 ? "VALID" : "PRESENT"));
        CHECK(std::count(flags.begin(), flags.end(), arm64 ? "AF" : "ACCESSED") == 1);
      }
      const nlohmann::json zero = run.json("pte 0");
      CHECK(zero["present"] == false);
      CHECK(zero["flags"].empty());
      CHECK_THAT(run.text("pte 0"), Catch::Equals("PTE  PHYSICAL  FLAGS\n 0       0     (no mapping)\n"));
    }
  }
}

TEST_CASE("pte prints what crash 8.0.2 prints on the x86_64 dumps", "[pte][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      CommandRunner run(dump);
      std::vector<std::string> commands = {"pte 0", "pte 80000001f4a00e7", "pte 8000000006a11063"};
      for (const auto& [entry, page] : leaf_entries(run, dump)) commands.push_back(fmt::format("pte {:x}", entry));
      check_same_as_crash(run, dump, commands);
    }
  }
}

TEST_CASE("pte rejects bad arguments and swap entries with one line", "[pte][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("pte"), Catch::Contains("missing entry"));
  CHECK_THAT(run.failure("pte zz"), Catch::Contains("zz"));
  CHECK_THAT(run.failure("pte -x"), Catch::Contains("unknown option"));
  CHECK_THAT(run.failure("pte 3fe00"), Catch::Contains("swap location"));
}

}  // namespace coroner::test
