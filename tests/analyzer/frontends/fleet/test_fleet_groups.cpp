// Must-show 1 of the fleet: the triage reports of every fixture dump (each
// form of the x86_64 oops among them: vmcore, d31, its zstd and snappy
// copies, lzo, ELF, flattened, split, -d 0 and -d 1), ingested twice, are
// one dump per crash and one group per crash signature with the right
// counts -- in SQLite and in a real PostgreSQL server.
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"

#include <set>

namespace coroner::test {

namespace {

// What the facts say: one crash per fixture scenario (a dump's forms are
// the same crash), an oops or a panic, on which host and kernel.
struct ExpectedGroup {
  std::set<std::string> crashes;  // "linux-6.1-x86_64/oops-kdump"
  std::set<std::string> hosts, releases, signatures;
};

std::map<std::string, ExpectedGroup> expected_groups() {
  std::map<std::string, ExpectedGroup> groups;  // by kind
  for (const FixtureReport& report : fixture_reports()) {
    const nlohmann::json& facts = report.dump->facts();
    const std::string kind = facts["oops_message"].is_string() ? "oops" : "panic";
    ExpectedGroup& group = groups[kind];
    group.crashes.insert(report.dump->arch_dir + "/" + report.dump->scenario);
    if (facts.contains("nodename")) group.hosts.insert(facts["nodename"].get<std::string>());
    if (facts.contains("osrelease")) group.releases.insert(facts["osrelease"].get<std::string>());
    group.signatures.insert(json_file(report.path)["signature"]["hash"].get<std::string>());
  }
  return groups;
}

void check_fleet_of_fixtures(const std::string& db) {
  std::string files;
  for (const FixtureReport& report : fixture_reports()) (files += ' ') += report.path.string();
  const size_t reports = fixture_reports().size();
  REQUIRE(reports == 19);
  const std::map<std::string, ExpectedGroup> expected = expected_groups();
  size_t crashes = 0;
  for (const auto& [kind, group] : expected) crashes += group.crashes.size();
  CHECK(crashes == 7);

  const nlohmann::json first = nlohmann::json::parse(fleet(fmt::format("ingest --format json --db '{}'{}", db, files)));
  CHECK(first["added"] == crashes);
  CHECK(first["already_present"] == reports - crashes);
  // Ingesting the same reports again adds nothing.
  const nlohmann::json again = nlohmann::json::parse(fleet(fmt::format("ingest --format json --db '{}'{}", db, files)));
  CHECK(again["added"] == 0);
  CHECK(again["already_present"] == reports);
  // And once more as JSON Lines on standard input.
  std::string lines;
  for (const FixtureReport& report : fixture_reports()) lines += json_file(report.path).dump() + "\n";
  const Run piped = run_coroner(fmt::format("fleet ingest --db '{}' -", db), lines);
  CHECK(piped.status == 0);
  CHECK(piped.out == fmt::format("{} reports: 0 new dumps, {} already in the store\n", reports, reports));

  const nlohmann::json report = nlohmann::json::parse(fleet(fmt::format("report --format json --db '{}'", db)));
  CHECK(report["dumps"] == crashes);
  REQUIRE(report["signatures"].size() == expected.size());
  for (const nlohmann::json& group : report["signatures"]) {
    const std::string kind = group["kind"];
    INFO(kind);
    REQUIRE(expected.count(kind));
    const ExpectedGroup& want = expected.at(kind);
    // Every form of every crash of this kind has the one signature.
    REQUIRE(want.signatures.size() == 1);
    CHECK(group["signature"] == *want.signatures.begin());
    CHECK(group["dumps"] == want.crashes.size());
    CHECK(group["hosts"] == want.hosts.size());
    std::set<std::string> releases;
    for (const nlohmann::json& release : group["releases"]) releases.insert(release["release"].get<std::string>());
    CHECK(releases == want.releases);
    CHECK(group["module"] == "fx_crash");
    CHECK(group["frames"][0]["function"] == "fx_crash_level3");
    // The example is a stored dump whose report has this signature.
    const nlohmann::json example =
        nlohmann::json::parse(fleet(fmt::format("show --db '{}' {}", db, group["example"]["identity"].get<std::string>())));
    CHECK(example["signature"]["hash"] == group["signature"]);
    // show SIGNATURE lists its dumps: one per crash.
    const nlohmann::json shown = nlohmann::json::parse(
        fleet(fmt::format("show --format json --db '{}' {}", db, group["signature"].get<std::string>())));
    CHECK(shown["dump_list"].size() == want.crashes.size());
  }
  // The text report says the same.
  const std::string text = fleet(fmt::format("report --db '{}'", db));
  CHECK(text.starts_with(fmt::format("{} dumps, {} signatures", crashes, expected.size())));
}

}  // namespace

TEST_CASE("fleet of the fixture dumps in SQLite: one dump per crash and one group per signature", "[fleet]") {
  const fs::path db = cache_dir() / "fleet-fixtures.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  check_fleet_of_fixtures(db.string());
  // In WAL mode: the header's file format write version (offset 18) is 2.
  CHECK(file_contents(db).at(18) == 2);
}

TEST_CASE("fleet of the fixture dumps in PostgreSQL: one dump per crash and one group per signature",
          "[fleet][postgresql]") {
  fixture_reports();  // made before the server starts
  const PostgresServer server;
  check_fleet_of_fixtures(server.new_database("fixtures"));
}

}  // namespace coroner::test
