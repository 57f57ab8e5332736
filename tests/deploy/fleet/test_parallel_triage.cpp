// Must-show 3 of the fleet: deploy/fleet/parallel-triage.sh runs over a
// directory of the fixture dumps end to end -- GNU parallel triages each
// (its vmlinux found by build-id in a debug-info folder, as on a fleet's
// triage machine), ingests each report, and writes the fleet report -- and
// the store holds one dump per crash, grouped as the facts say.
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"

#include <set>

namespace coroner::test {

TEST_CASE("parallel-triage.sh triages, ingests and reports the fixture dumps", "[fleet][deploy]") {
  const fs::path dir = cache_dir() / "fleet-parallel";
  fs::remove_all(dir);
  const fs::path dumps = dir / "dumps", reports = dir / "reports", debug = dir / "debug";
  fs::create_directories(dumps);
  // The dumps (a split dump's two files are not one file: left out), and
  // each kernel's vmlinux at debug/.build-id/xx/rest.debug.
  std::map<std::string, std::set<std::string>> crashes_by_kind;
  std::set<std::string> hosts;
  size_t count = 0;
  for (const DumpCase& dump : all_dumps()) {
    const std::vector<std::string> files = dump.files();
    if (files.size() != 1) continue;
    std::string name = dump.id;
    std::replace(name.begin(), name.end(), '/', '_');
    fs::create_symlink(files.front(), dumps / name);
    ++count;
    const nlohmann::json& facts = dump.facts();
    crashes_by_kind[facts["oops_message"].is_string() ? "oops" : "panic"].insert(dump.arch_dir + "/" + dump.scenario);
    if (facts.contains("nodename")) hosts.insert(facts["nodename"].get<std::string>());
    const std::string build_id = facts["vmcoreinfo"]["BUILD-ID"];
    const fs::path link = debug / ".build-id" / build_id.substr(0, 2) / (build_id.substr(2) + ".debug");
    if (!fs::exists(link)) {
      fs::create_directories(link.parent_path());
      fs::create_symlink(dump.vmlinux(), link);
    }
  }
  REQUIRE(count == 18);

  const std::string output = run_command(fmt::format(
      "CORONER={} CORONER_CACHE_DIR={} CORONER_TRIAGE_ARGS='--debuginfo-dir {}' {}/deploy/fleet/parallel-triage.sh "
      "-j 2 {} {}",
      CORONER_BINARY, (cache_dir() / "coroner").string(), debug.string(), CORONER_SOURCE_DIR, dumps.string(),
      reports.string()));
  CHECK(file_contents(reports / "failed.txt").empty());
  CHECK(fs::exists(reports / "fleet.html"));
  // Every dump has its report, made with its vmlinux.
  for (const fs::directory_entry& dump : fs::directory_iterator(dumps)) {
    const fs::path report = reports / (dump.path().filename().string() + ".json");
    REQUIRE(fs::exists(report));
    CHECK(json_file(report)["with_vmlinux"] == true);
  }
  size_t crashes = 0;
  for (const auto& [kind, set] : crashes_by_kind) crashes += set.size();
  CHECK(output.starts_with(fmt::format("{} dumps, {} signatures", crashes, crashes_by_kind.size())));
  const nlohmann::json report =
      nlohmann::json::parse(fleet(fmt::format("report --format json --db {}", (reports / "fleet.db").string())));
  CHECK(report["dumps"] == crashes);
  REQUIRE(report["signatures"].size() == crashes_by_kind.size());
  for (const nlohmann::json& group : report["signatures"]) {
    INFO(group["kind"]);
    CHECK(group["dumps"] == crashes_by_kind.at(group["kind"]).size());
    CHECK(group["hosts"] == hosts.size());
  }
}

}  // namespace coroner::test
