// The SQLite driver: one file in WAL mode (readers do not block the writer),
// with a busy timeout so that several ingesting processes wait for each
// other's transactions instead of failing.
#include "analyzer/frontends/fleet/sql_database.hpp"

#include <sqlite3.h>

namespace coroner::frontends::fleet {

namespace {

// How long a writer waits for another process's transaction.
constexpr int kBusyTimeoutMs = 120'000;

class SqliteDatabase final : public SqlDatabase {
 public:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  std::string_view dialect() const override { return "sqlite"; }

  Expected<std::vector<SqlRow>> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK)
      return failure("prepare");
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> owner(statement, sqlite3_finalize);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      int status = std::holds_alternative<int64_t>(params[i])
                       ? sqlite3_bind_int64(statement, index, std::get<int64_t>(params[i]))
                       : sqlite3_bind_text(statement, index, std::get<std::string>(params[i]).data(),
                                           static_cast<int>(std::get<std::string>(params[i]).size()), SQLITE_STATIC);
      if (status != SQLITE_OK) return failure("bind");
    }
    std::vector<SqlRow> rows;
    for (;;) {
      const int status = sqlite3_step(statement);
      if (status == SQLITE_DONE) break;
      if (status != SQLITE_ROW) return failure("step");
      SqlRow row;
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        if (sqlite3_column_type(statement, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
        row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, c))));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Expected<void> begin_write(bool) override {
    auto begun = query("BEGIN IMMEDIATE", {});
    if (!begun) return begun.error();
    return {};
  }

 private:
  Error failure(std::string_view step) const {
    return make_error(Errc::io, "{}: sqlite {}: {}", path_, step, sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  std::string path_;
};

}  // namespace

Expected<std::unique_ptr<SqlDatabase>> open_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  const int status = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (status != SQLITE_OK) {
    Error error = make_error(Errc::io, "{}: cannot open the SQLite database: {}", path,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(status));
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  auto database = std::make_unique<SqliteDatabase>(db, path);
  // WAL survives in the file; synchronous=NORMAL is durable across crashes
  // of the process (not of the machine) in WAL mode, and much faster; a 64
  // MiB page cache keeps the identity index's random inserts in memory.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-65536"}) {
    auto done = database->query(pragma, {});
    if (!done) return done.error();
  }
  return std::unique_ptr<SqlDatabase>(std::move(database));
}

Expected<std::unique_ptr<SqlDatabase>> open_database(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return open_postgresql(url);
  if (url.empty()) return make_error(Errc::invalid_argument, "fleet: the database URL is empty");
  return open_sqlite(url.starts_with("sqlite:") ? url.substr(7) : url);
}

}  // namespace coroner::frontends::fleet
