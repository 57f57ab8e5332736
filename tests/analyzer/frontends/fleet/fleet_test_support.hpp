// What the fleet tests share: the triage reports of every fixture dump
// (made once by the coroner executable, kept in the test cache), a real
// PostgreSQL server in a temporary directory, synthetic reports, and
// running `coroner fleet`.
#pragma once

#include "analyzer/frontends/fleet/fleet_record.hpp"
#include "tests/analyzer/coroner_run.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <pwd.h>
#include <stdlib.h>

namespace coroner::test {

struct FixtureReport {
  const DumpCase* dump;
  fs::path path;  // coroner triage --format json of the dump
};

// The JSON triage report of every fixture dump (all_dumps(): each form of
// the x86_64 oops included), made on first use with the coroner executable
// as a fleet job makes it, and kept under the test cache.
inline const std::vector<FixtureReport>& fixture_reports() {
  static const std::vector<FixtureReport> reports = [] {
    std::vector<FixtureReport> out;
    const fs::path dir = cache_dir() / "fleet-reports";
    fs::create_directories(dir);
    for (const DumpCase& dump : all_dumps()) {
      std::string name = dump.id;
      std::replace(name.begin(), name.end(), '/', '_');
      const fs::path path = dir / (name + ".json");
      if (!fs::exists(path)) {
        const fs::path partial = path.string() + "." + std::to_string(getpid()) + ".tmp";
        std::string files;
        for (const std::string& file : dump.files()) (files += ' ') += file;
        const Run run = run_coroner(fmt::format("triage --format json --mod-path {} -o {} {}{}",
                                                fs::path(dump.module_path()).parent_path().string(), partial.string(),
                                                dump.vmlinux(), files),
                                    "");
        if (run.status != 0) FAIL(dump.id << ": coroner triage failed: " << run.err);
        fs::rename(partial, path);
      }
      out.push_back({&dump, path});
    }
    return out;
  }();
  return reports;
}

inline nlohmann::json json_file(const fs::path& path) { return nlohmann::json::parse(file_contents(path)); }

// `coroner fleet ARGS`; fails the test unless it exits 0.
inline std::string fleet(const std::string& args) {
  const Run run = run_coroner("fleet " + args, "");
  if (run.status != 0) FAIL("coroner fleet " << args.substr(0, 300) << " exited " << run.status << ": " << run.err);
  return run.out;
}

// A PostgreSQL server of its own (Debian's postgresql-15) for one test:
// initdb in a temporary directory, listening only on a unix socket there,
// stopped and removed at the end. PostgreSQL refuses to run as root: then
// the server runs as the postgres user (or nobody) through runuser.
class PostgresServer {
 public:
  PostgresServer() {
    const fs::path bin = "/usr/lib/postgresql/15/bin";
    if (!fs::exists(bin / "initdb")) FAIL("no " << (bin / "initdb").string() << ": apt-get install postgresql");
    char pattern[] = "/tmp/coroner-pg.XXXXXX";  // short: a socket path has at most 107 bytes
    if (!mkdtemp(pattern)) FAIL("mkdtemp failed");
    dir_ = pattern;
    if (getuid() == 0) {
      const passwd* user = getpwnam("postgres");
      if (!user) user = getpwnam("nobody");
      REQUIRE(user);
      REQUIRE(chown(dir_.c_str(), user->pw_uid, user->pw_gid) == 0);
      as_user_ = fmt::format("runuser -u {} -- ", user->pw_name);
    }
    run_command(fmt::format("{}{}/initdb -D {}/data -A trust -U coroner --no-sync", as_user_, bin.string(),
                            dir_.string()));
    run_command(fmt::format("{}{}/pg_ctl -D {}/data -l {}/server.log -w -t 120 -o \"-k {} -c listen_addresses= "
                            "-c fsync=off -c max_connections=50\" start",
                            as_user_, bin.string(), dir_.string(), dir_.string(), dir_.string()));
    started_ = true;
  }
  ~PostgresServer() {
    if (started_)
      (void)std::system(fmt::format("{}/usr/lib/postgresql/15/bin/pg_ctl -D {}/data -m fast -w stop >/dev/null 2>&1",
                                    as_user_, dir_.string())
                            .c_str());
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A libpq URI of database `name` (postgres always exists).
  std::string url(const std::string& name = "postgres") const {
    return fmt::format("postgresql:///{}?host={}&user=coroner", name, dir_.string());
  }
  // Makes a new database; its URL.
  std::string new_database(const std::string& name) const {
    run_command(fmt::format("/usr/lib/postgresql/15/bin/psql -q -X -d '{}' -c 'CREATE DATABASE {}'", url(), name));
    return url(name);
  }

 private:
  fs::path dir_;
  std::string as_user_;
  bool started_ = false;
};

// A report like a real one (`base`'s verdict and system), as if `host` had
// crashed at `time` with the signature `signature`: for the concurrency and
// volume tests. The bulky context sections are left out.
inline nlohmann::json synthetic_report(const nlohmann::json& base, const std::string& host, int64_t time,
                                       const std::string& signature) {
  nlohmann::json report = base;
  for (const char* bulky : {"active_tasks", "hung_tasks", "log", "memory", "modules", "run_queues", "checks"})
    report.erase(bulky);
  report["system"]["nodename"] = host;
  report["system"]["crash_time"] = time;
  report["signature"]["hash"] = signature;
  report["signature"]["title"] = "synthetic crash " + signature;
  return report;
}

}  // namespace coroner::test
