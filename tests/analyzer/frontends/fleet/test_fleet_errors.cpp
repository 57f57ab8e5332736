// The fleet commands on bad input: files that are not triage reports, a
// store newer than this coroner, a database that cannot be reached, bad
// options -- each one clear line and an exit status, never a crash; and
// --since keeps the dumps from a time on.
#include "analyzer/frontends/fleet/fleet_render.hpp"
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"

#include <sqlite3.h>

#include <set>

namespace coroner::test {

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = cache_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("fleet ingest names each file that is not a triage report and stores the others", "[fleet][errors]") {
  const fs::path dir = fresh_dir("fleet-errors-ingest");
  write_file_contents(dir / "garbage.json", "{not json");
  write_file_contents(dir / "other.json", R"({"format": "something-else"})");
  write_file_contents(dir / "nosignature.json", R"({"format": "coroner-triage/1", "system": {}})");
  const std::string db = (dir / "fleet.db").string();
  const Run run = run_coroner(fmt::format("fleet ingest --db {} {} {} {} {}", db, (dir / "garbage.json").string(),
                                          (dir / "other.json").string(), (dir / "nosignature.json").string(),
                                          fixture_reports().front().path.string()),
                              "");
  CHECK(run.status == 1);
  CHECK(run.out == "4 reports: 1 new dumps, 0 already in the store, 3 unreadable\n");
  CHECK(run.err.find((dir / "garbage.json").string() + ": not JSON") != std::string::npos);
  CHECK(run.err.find((dir / "other.json").string() + ": not a coroner triage report") != std::string::npos);
  CHECK(run.err.find((dir / "nosignature.json").string() + ": the report has no \"signature\" object") !=
        std::string::npos);
  CHECK(lines_of(run.err).size() == 3);
  // Standard input: the line is named.
  const Run piped = run_coroner(fmt::format("fleet ingest --db {} -", db), "\n{\"format\": 1}\n");
  CHECK(piped.status == 1);
  CHECK(piped.err.find("standard input line 2: not a coroner triage report") != std::string::npos);
  // A report of the right format with members of the wrong types is stored
  // and reported with what it has.
  const Run odd = run_coroner(
      fmt::format("fleet ingest --db {} -", db),
      R"({"format": "coroner-triage/1", "system": {"nodename": 5, "crash_time": "x", "release": []},)"
      R"( "signature": {"hash": "0badc0de0badc0de", "frames": "no", "title": 1},)"
      R"( "verdict": {"crashing_task": {"pid": "1", "stack": [1, {"function": 2}]}}})"
      "\n");
  CHECK(odd.status == 0);
  CHECK(odd.out == "1 reports: 1 new dumps, 0 already in the store\n");
  CHECK(fleet(fmt::format("report --db {} --format html", db)).find("<code>0badc0de0badc0de</code>") !=
        std::string::npos);
  CHECK(fleet(fmt::format("show --db {} 0badc0de0badc0de", db)).starts_with("signature 0badc0de0badc0de: \n"));
}

TEST_CASE("a fleet store newer than this coroner is refused with both versions", "[fleet][errors]") {
  const fs::path dir = fresh_dir("fleet-errors-schema");
  const std::string db = (dir / "fleet.db").string();
  fleet(fmt::format("report --db {}", db));  // creates it
  {
    auto store = frontends::fleet::FleetStore::open(db);
    REQUIRE(store);
    CHECK(*store->schema_version() == frontends::fleet::current_schema_version());
  }
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  CHECK(sqlite3_exec(handle, "UPDATE fleet_schema SET version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(handle);
  const Run run = run_coroner(fmt::format("fleet report --db {}", db), "");
  CHECK(run.status == 1);
  CHECK(run.err == fmt::format("coroner: fleet: the fleet database has schema version 99, newer than this coroner's "
                               "{}: use a newer coroner\n",
                               frontends::fleet::current_schema_version()));
}

TEST_CASE("fleet commands fail with one line on a database they cannot open and on bad options", "[fleet][errors]") {
  const fs::path dir = fresh_dir("fleet-errors-options");
  const Run unreachable =
      run_coroner(fmt::format("fleet report --db 'postgresql://coroner:secret@/x?host={}'", dir.string()), "");
  CHECK(unreachable.status == 1);
  CHECK(unreachable.err.starts_with("coroner: fleet: postgresql://coroner:***@/x"));
  CHECK(unreachable.err.find("secret") == std::string::npos);
  CHECK(lines_of(unreachable.err).size() == 1);
  const Run no_dir = run_coroner("fleet report --db /nonexistent-dir/fleet.db", "");
  CHECK(no_dir.status == 1);
  CHECK(no_dir.err.starts_with("coroner: fleet: /nonexistent-dir/fleet.db: cannot open the SQLite database"));
  for (const char* bad : {"report --since 1y", "report --format markdown", "show", "ingest", "frobnicate",
                          "ingest --batch 0 x.json", "report --db"}) {
    INFO(bad);
    const Run run = run_coroner(fmt::format("fleet {}", bad), "");
    CHECK(run.status == 2);
    CHECK(run.err.starts_with("coroner: fleet"));
  }
  const Run missing = run_coroner(fmt::format("fleet show --db {} 0123456789abcdef", (dir / "fleet.db").string()), "");
  CHECK(missing.status == 1);
  CHECK(missing.err == "coroner: fleet show: no signature or dump 0123456789abcdef in the store\n");
}

TEST_CASE("fleet report --since keeps the dumps that crashed from then on", "[fleet]") {
  const fs::path dir = fresh_dir("fleet-since");
  const std::string db = (dir / "fleet.db").string();
  std::string files;
  int64_t cut = 0;  // the crash time of the la57 oops: a day after the first dumps
  size_t later = 0;
  std::set<std::string> seen;
  for (const FixtureReport& report : fixture_reports()) {
    (files += ' ') += report.path.string();
    if (report.dump->scenario == "oops-kdump-la57") cut = json_file(report.path)["system"]["crash_time"];
  }
  REQUIRE(cut > 0);
  for (const FixtureReport& report : fixture_reports())
    if (json_file(report.path)["system"]["crash_time"].get<int64_t>() >= cut &&
        seen.insert(report.dump->arch_dir + report.dump->scenario).second)
      ++later;
  fleet(fmt::format("ingest --db {}{}", db, files));
  for (const std::string& since : {std::to_string(cut), frontends::fleet::utc_time(cut)}) {
    INFO(since);
    const nlohmann::json report = nlohmann::json::parse(fleet(fmt::format("report --format json --db {} --since {}", db, since)));
    CHECK(report["dumps"] == later);
  }
  CHECK(nlohmann::json::parse(fleet(fmt::format("report --format json --db {} --since 100000w", db)))["dumps"] == 7);
}

}  // namespace coroner::test
