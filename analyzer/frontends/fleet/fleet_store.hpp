// The fleet's history: one row per dump (fleet_record.hpp) in SQLite or
// PostgreSQL (sql_database.hpp), under one versioned schema that opening
// brings up to date, and the queries the reports are made of. Ingesting is
// idempotent by the dump's identity and safe from many processes at once:
// each batch is one transaction of INSERT ... ON CONFLICT DO NOTHING.
#pragma once

#include "analyzer/frontends/fleet/fleet_record.hpp"
#include "analyzer/frontends/fleet/sql_database.hpp"

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace coroner::frontends::fleet {

// The schema version this coroner writes (fleet_store.cpp's migrations).
int64_t current_schema_version();

struct IngestCount {
  size_t added = 0;    // new dumps
  size_t present = 0;  // dumps the store already held
};

// Every dump of one crash signature (since a time).
struct SignatureGroup {
  std::string signature, title, kind, module;
  std::string frames;  // the signature's frames, JSON
  int64_t dumps = 0, hosts = 0, first_seen = 0, last_seen = 0;
  std::vector<std::pair<std::string, int64_t>> releases;  // kernel release -> dumps, by release
  std::map<int64_t, int64_t> daily;                       // day (seconds since the epoch / 86400) -> dumps
  std::string example;                                    // the identity of its latest dump
  std::string example_host;
};

struct DumpRow {
  std::string identity, host, release, build_id, machine;
  int64_t crash_time = 0;
};

class FleetStore {
 public:
  // Opens (creating an SQLite file when needed) and migrates the schema; an
  // error when the database's schema is newer than this coroner knows.
  static Expected<FleetStore> open(const std::string& url);

  // Stores the records in one transaction.
  Expected<IngestCount> ingest(const std::vector<FleetRecord>& records);
  // The signatures of the dumps that crashed at or after `since`, most
  // dumps first; only `signature`'s when it is not "".
  Expected<std::vector<SignatureGroup>> groups(int64_t since, const std::string& signature = "");
  // A signature's dumps, oldest first.
  Expected<std::vector<DumpRow>> dumps_of(const std::string& signature, int64_t since);
  // The triage report (JSON) of a dump; nullopt when there is no such dump.
  Expected<std::optional<std::string>> report_of(const std::string& identity);
  Expected<int64_t> dump_count();
  Expected<int64_t> schema_version();
  std::string_view dialect() const { return db_->dialect(); }

 private:
  explicit FleetStore(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {}
  Expected<void> migrate();

  std::unique_ptr<SqlDatabase> db_;
};

}  // namespace coroner::frontends::fleet
