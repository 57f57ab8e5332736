#include "analyzer/frontends/fleet/fleet_store.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <tuple>

namespace coroner::frontends::fleet {

namespace {

// The schema, as the statements that bring version N-1 to version N. Both
// databases run the same text: types and syntax they share (BIGINT, TEXT,
// ON CONFLICT, RETURNING). Never edit a released step; add one.
const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> steps = {
      // 1: one row per dump; the report's fields a fleet is queried by.
      {"CREATE TABLE dumps ("
       " identity TEXT PRIMARY KEY,"
       " host TEXT NOT NULL,"
       " crash_time BIGINT NOT NULL,"  // seconds since the epoch
       " release TEXT NOT NULL,"
       " build_id TEXT NOT NULL,"
       " machine TEXT NOT NULL,"
       " signature TEXT NOT NULL,"
       " title TEXT NOT NULL,"
       " kind TEXT NOT NULL,"
       " module TEXT NOT NULL,"
       " frames TEXT NOT NULL,"  // JSON
       " report TEXT NOT NULL,"  // the triage report, JSON
       " ingested_at BIGINT NOT NULL)",
       // Both cover the report's grouping queries (groups()), so that these
       // read an index, not the rows with their reports: by signature for
       // the whole history, by time for --since.
       "CREATE INDEX dumps_by_signature ON dumps (signature, crash_time, host, release)",
       "CREATE INDEX dumps_by_time ON dumps (crash_time, signature, host, release)"},
  };
  return steps;
}

constexpr std::string_view kColumns =
    "identity, host, crash_time, release, build_id, machine, signature, title, kind, module, frames, report, "
    "ingested_at";
constexpr size_t kColumnCount = 13;
// Rows per INSERT: fewer round trips, well under both databases' parameter limits.
constexpr size_t kRowsPerInsert = 200;

int64_t number(const std::optional<std::string>& text) {
  int64_t value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

std::string text(const std::optional<std::string>& value) { return value.value_or(""); }

}  // namespace

int64_t current_schema_version() { return static_cast<int64_t>(migrations().size()); }

Expected<FleetStore> FleetStore::open(const std::string& url) {
  CORONER_TRY(db, open_database(url));
  FleetStore store(std::move(db));
  CORONER_CHECK(store.migrate());
  return store;
}

Expected<void> FleetStore::migrate() {
  CORONER_CHECK(db_->begin_write(true));
  auto run = [&]() -> Expected<void> {
    CORONER_TRY(created, db_->query("CREATE TABLE IF NOT EXISTS fleet_schema (version BIGINT NOT NULL)"));
    CORONER_TRY(rows, db_->query("SELECT version FROM fleet_schema"));
    int64_t version = rows.empty() ? 0 : number(rows.front().front());
    if (version > current_schema_version())
      return make_error(Errc::unsupported,
                        "the fleet database has schema version {}, newer than this coroner's {}: use a newer coroner",
                        version, current_schema_version());
    if (version == current_schema_version()) return {};
    for (; version < current_schema_version(); ++version)
      for (const std::string& statement : migrations()[static_cast<size_t>(version)]) {
        auto done = db_->query(statement);
        if (!done) return done.error().context(fmt::format("schema migration to version {}", version + 1));
      }
    CORONER_TRY(cleared, db_->query("DELETE FROM fleet_schema"));
    CORONER_TRY(set, db_->query("INSERT INTO fleet_schema (version) VALUES ($1)", {version}));
    return {};
  };
  if (auto done = run(); !done) {
    db_->rollback();
    return done.error();
  }
  return db_->commit();
}

Expected<int64_t> FleetStore::schema_version() {
  CORONER_TRY(rows, db_->query("SELECT version FROM fleet_schema"));
  return rows.empty() ? 0 : number(rows.front().front());
}

Expected<IngestCount> FleetStore::ingest(const std::vector<FleetRecord>& records) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  CORONER_CHECK(db_->begin_write(false));
  IngestCount count;
  for (size_t start = 0; start < records.size(); start += kRowsPerInsert) {
    const size_t end = std::min(records.size(), start + kRowsPerInsert);
    std::string sql = fmt::format("INSERT INTO dumps ({}) VALUES ", kColumns);
    std::vector<SqlValue> params;
    for (size_t i = start; i < end; ++i) {
      const FleetRecord& r = records[i];
      sql += i == start ? "(" : ", (";
      for (size_t c = 0; c < kColumnCount; ++c) sql += fmt::format("{}${}", c ? ", " : "", params.size() + c + 1);
      sql += ")";
      params.insert(params.end(), {r.identity, r.host, r.crash_time, r.release, r.build_id, r.machine, r.signature,
                                   r.title, r.kind, r.module, r.frames, r.report, now});
    }
    sql += " ON CONFLICT (identity) DO NOTHING RETURNING identity";
    auto added = db_->query(sql, params);
    if (!added) {
      db_->rollback();
      return added.error();
    }
    count.added += added->size();
  }
  CORONER_CHECK(db_->commit());
  count.present = records.size() - count.added;
  return count;
}

Expected<std::vector<SignatureGroup>> FleetStore::groups(int64_t since, const std::string& signature) {
  const std::string where = signature.empty() ? "crash_time >= $1" : "crash_time >= $1 AND signature = $2";
  std::vector<SqlValue> params = {since};
  if (!signature.empty()) params.push_back(signature);
  CORONER_TRY(totals, db_->query("SELECT signature, COUNT(*), COUNT(DISTINCT host), MIN(crash_time), "
                                 "MAX(crash_time) FROM dumps WHERE " + where + " GROUP BY signature",
                                 params));
  std::vector<SignatureGroup> groups;
  std::map<std::string, size_t> index;
  for (const SqlRow& row : totals) {
    index[text(row[0])] = groups.size();
    SignatureGroup& group = groups.emplace_back();
    group.signature = text(row[0]);
    group.dumps = number(row[1]);
    group.hosts = number(row[2]);
    group.first_seen = number(row[3]);
    group.last_seen = number(row[4]);
  }
  CORONER_TRY(releases, db_->query("SELECT signature, release, COUNT(*) FROM dumps WHERE " + where +
                                       " GROUP BY signature, release ORDER BY signature, release",
                                   params));
  for (const SqlRow& row : releases)
    if (auto it = index.find(text(row[0])); it != index.end())
      groups[it->second].releases.emplace_back(text(row[1]), number(row[2]));
  CORONER_TRY(days, db_->query("SELECT signature, crash_time / 86400, COUNT(*) FROM dumps WHERE " + where +
                                   " GROUP BY signature, crash_time / 86400",
                               params));
  for (const SqlRow& row : days)
    if (auto it = index.find(text(row[0])); it != index.end()) groups[it->second].daily[number(row[1])] = number(row[2]);
  // The example: the latest dump (by the (signature, crash_time) index).
  for (SignatureGroup& group : groups) {
    CORONER_TRY(latest, db_->query("SELECT identity, host, title, kind, module, frames FROM dumps WHERE "
                                   "signature = $1 AND crash_time >= $2 ORDER BY crash_time DESC, identity LIMIT 1",
                                   {group.signature, since}));
    if (latest.empty()) continue;
    const SqlRow& row = latest.front();
    group.example = text(row[0]);
    group.example_host = text(row[1]);
    group.title = text(row[2]);
    group.kind = text(row[3]);
    group.module = text(row[4]);
    group.frames = text(row[5]);
  }
  std::sort(groups.begin(), groups.end(), [](const SignatureGroup& a, const SignatureGroup& b) {
    return std::tie(b.dumps, b.last_seen, a.signature) < std::tie(a.dumps, a.last_seen, b.signature);
  });
  return groups;
}

Expected<std::vector<DumpRow>> FleetStore::dumps_of(const std::string& signature, int64_t since) {
  CORONER_TRY(rows, db_->query("SELECT identity, host, release, build_id, machine, crash_time FROM dumps WHERE "
                               "signature = $1 AND crash_time >= $2 ORDER BY crash_time, identity",
                               {signature, since}));
  std::vector<DumpRow> dumps;
  for (const SqlRow& row : rows)
    dumps.push_back({text(row[0]), text(row[1]), text(row[2]), text(row[3]), text(row[4]), number(row[5])});
  return dumps;
}

Expected<std::optional<std::string>> FleetStore::report_of(const std::string& identity) {
  CORONER_TRY(rows, db_->query("SELECT report FROM dumps WHERE identity = $1", {identity}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(text(rows.front().front()));
}

Expected<int64_t> FleetStore::dump_count() {
  CORONER_TRY(rows, db_->query("SELECT COUNT(*) FROM dumps"));
  return number(rows.front().front());
}

}  // namespace coroner::frontends::fleet
