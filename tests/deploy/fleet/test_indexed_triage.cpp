// The job of one index (deploy/fleet/indexed-triage.sh, what the container
// image of the Kubernetes Indexed Job and the Slurm array script run): the
// index picks its line of the dump list, the dump is triaged and its report
// ingested; an index past the list's end fails with a clear line.
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"

namespace coroner::test {

TEST_CASE("indexed-triage.sh triages the dump of its Kubernetes or Slurm index", "[fleet][deploy]") {
  const fs::path dir = cache_dir() / "fleet-indexed";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> ids = {"x86_64/oops-kdump/d31", "arm64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib"};
  std::string list;
  for (const std::string& id : ids) list += fixture_case(id).files().front() + "\n";
  write_file_contents(dir / "list.txt", list);
  const std::string db = (dir / "fleet.db").string();
  const std::string x86_vmlinux = fixture_case(ids[0]).vmlinux(), arm64_vmlinux = fixture_case(ids[1]).vmlinux();
  auto run_index = [&](const std::string& index_variable, size_t index, const std::string& vmlinux) {
    return run_command(fmt::format("{}={} CORONER={} CORONER_CACHE_DIR={} CORONER_FLEET_DB={} "
                                   "CORONER_TRIAGE_ARGS='{}' {}/deploy/fleet/indexed-triage.sh {} {}/reports",
                                   index_variable, index, CORONER_BINARY, (cache_dir() / "coroner").string(), db,
                                   vmlinux, CORONER_SOURCE_DIR, (dir / "list.txt").string(), dir.string()));
  };
  CHECK(run_index("JOB_COMPLETION_INDEX", 0, x86_vmlinux) == "1 reports: 1 new dumps, 0 already in the store\n");
  CHECK(run_index("SLURM_ARRAY_TASK_ID", 1, arm64_vmlinux) == "1 reports: 1 new dumps, 0 already in the store\n");
  CHECK(run_index("JOB_COMPLETION_INDEX", 2, x86_vmlinux) == "1 reports: 1 new dumps, 0 already in the store\n");
  const nlohmann::json report = nlohmann::json::parse(fleet(fmt::format("report --format json --db {}", db)));
  CHECK(report["dumps"] == 3);
  REQUIRE(report["signatures"].size() == 2);
  CHECK(report["signatures"][0]["kind"] == "oops");
  CHECK(report["signatures"][0]["dumps"] == 2);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string name = fs::path(fixture_case(ids[i]).files().front()).filename().string();
    CHECK(json_file(dir / "reports" / (name + ".json"))["with_vmlinux"] == true);
  }
  // Past the end of the list, and without an index.
  const std::string past = run_command(fmt::format("JOB_COMPLETION_INDEX=3 {}/deploy/fleet/indexed-triage.sh {} {} "
                                                   "2>&1; echo status $?",
                                                   CORONER_SOURCE_DIR, (dir / "list.txt").string(), dir.string()));
  CHECK(past.find("has no line 4 for index 3") != std::string::npos);
  CHECK(past.ends_with("status 2\n"));
  const std::string none = run_command(fmt::format("env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID "
                                                   "{}/deploy/fleet/indexed-triage.sh {} {} 2>&1; echo status $?",
                                                   CORONER_SOURCE_DIR, (dir / "list.txt").string(), dir.string()));
  CHECK(none.find("neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set") != std::string::npos);
}

}  // namespace coroner::test
