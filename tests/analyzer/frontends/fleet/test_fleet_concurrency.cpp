// Must-show 2 of the fleet: 8 processes ingest 200 synthetic reports each
// into one store at once -- each also ingests 50 of its neighbour's, so that
// processes race to insert the same dumps -- in small transactions; every
// report is then there exactly once. In SQLite (WAL, busy timeout) and in
// PostgreSQL.
#include "analyzer/frontends/fleet/fleet_store.hpp"
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"

#include <set>

namespace coroner::test {

namespace {

constexpr int kProcesses = 8, kReportsEach = 200, kOverlap = 50, kSignatures = 10;

void check_concurrent_ingest(const std::string& db, const std::string& name) {
  const nlohmann::json base = json_file(fixture_reports().front().path);
  const fs::path dir = cache_dir() / ("fleet-concurrency-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::vector<std::string>> files(kProcesses);
  std::set<std::string> identities;
  std::map<std::string, int64_t> per_signature;
  for (int p = 0; p < kProcesses; ++p)
    for (int i = 0; i < kReportsEach; ++i) {
      const std::string signature = fmt::format("{:016x}", 0x5a5a000000000000ULL + uint64_t((p * kReportsEach + i) % kSignatures));
      const nlohmann::json report =
          synthetic_report(base, fmt::format("host-{}", p), 1'790'000'000 + p * 86400 + i * 60, signature);
      identities.insert(frontends::fleet::dump_identity(report));
      ++per_signature[signature];
      const fs::path path = dir / fmt::format("p{}-{}.json", p, i);
      write_file_contents(path, report.dump());
      files[p].push_back(path.string());
    }
  REQUIRE(identities.size() == size_t(kProcesses * kReportsEach));
  // All at once: one shell starts the eight and waits for them.
  std::string script;
  for (int p = 0; p < kProcesses; ++p) {
    std::string args;
    for (const std::string& f : files[p]) (args += ' ') += f;
    for (int i = 0; i < kOverlap; ++i) (args += ' ') += files[(p + 1) % kProcesses][i];
    script += fmt::format("CORONER_CACHE_DIR={} {} fleet ingest --batch 10 --format json --db '{}'{} > {}/out-{} 2>&1 "
                          "& pids=\"$pids $!\"\n",
                          (cache_dir() / "coroner").string(), CORONER_BINARY, db, args, dir.string(), p);
  }
  script += "status=0; for p in $pids; do wait $p || status=1; done; exit $status\n";
  write_file_contents(dir / "run.sh", script);
  const std::string output = run_command("sh " + (dir / "run.sh").string());
  size_t added = 0, present = 0;
  for (int p = 0; p < kProcesses; ++p) {
    const nlohmann::json counts = nlohmann::json::parse(file_contents(dir / fmt::format("out-{}", p)));
    CHECK(counts["reports"] == kReportsEach + kOverlap);
    added += counts["added"].get<size_t>();
    present += counts["already_present"].get<size_t>();
  }
  CHECK(added == identities.size());
  CHECK(present == size_t(kProcesses * kOverlap));

  // Every report once: the store's rows are exactly the reports' identities.
  auto store = frontends::fleet::FleetStore::open(db);
  REQUIRE(store);
  CHECK(*store->dump_count() == int64_t(identities.size()));
  std::set<std::string> stored;
  size_t rows = 0;
  for (const auto& [signature, count] : per_signature) {
    auto dumps = store->dumps_of(signature, 0);
    REQUIRE(dumps);
    CHECK(int64_t(dumps->size()) == count);
    rows += dumps->size();
    for (const auto& dump : *dumps) stored.insert(dump.identity);
  }
  CHECK(rows == identities.size());
  CHECK(stored == identities);
  auto groups = store->groups(0);
  REQUIRE(groups);
  CHECK(groups->size() == size_t(kSignatures));
  for (const auto& group : *groups) CHECK(group.hosts == kProcesses);
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("8 processes ingest at once into SQLite and every report is there once", "[fleet][concurrency]") {
  const fs::path db = cache_dir() / "fleet-concurrency.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  check_concurrent_ingest(db.string(), "sqlite");
}

TEST_CASE("8 processes ingest at once into PostgreSQL and every report is there once",
          "[fleet][concurrency][postgresql]") {
  fixture_reports();
  const PostgresServer server;
  check_concurrent_ingest(server.new_database("concurrency"), "postgresql");
}

}  // namespace coroner::test
