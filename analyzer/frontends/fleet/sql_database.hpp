// The two databases the fleet store keeps its rows in, behind one small
// interface: SQLite (a file; the default) and PostgreSQL (a
// postgresql:// URL, through libpq). The SQL the store sends is the same for
// both -- parameters are $1, $2, ... in order of first use, which both read
// -- so the schema, its migrations and the queries exist once
// (fleet_store.cpp); a driver only connects, binds and opens transactions.
#pragma once

#include "capture/format/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace coroner::frontends::fleet {

using SqlValue = std::variant<int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;  // nullopt: SQL NULL; numbers as decimal text

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  // "sqlite" or "postgresql".
  virtual std::string_view dialect() const = 0;
  // Runs one statement; the rows it returns (none for most).
  virtual Expected<std::vector<SqlRow>> query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // A transaction that writes: SQLite takes the write lock at once (BEGIN
  // IMMEDIATE, waiting up to the busy timeout) so that two writers never
  // deadlock on upgrading; `schema` also serializes schema changes between
  // processes (PostgreSQL: a transaction-scoped advisory lock).
  virtual Expected<void> begin_write(bool schema) = 0;
  Expected<void> commit() {
    auto done = query("COMMIT");
    if (!done) return done.error();
    return {};
  }
  void rollback() { (void)query("ROLLBACK"); }
};

// `url`: postgresql://... or postgres://... (libpq's URI, for example
// postgresql:///fleet?host=/run/postgresql), else an SQLite file, given as
// a path or sqlite:PATH.
Expected<std::unique_ptr<SqlDatabase>> open_database(const std::string& url);

Expected<std::unique_ptr<SqlDatabase>> open_sqlite(const std::string& path);
Expected<std::unique_ptr<SqlDatabase>> open_postgresql(const std::string& url);

}  // namespace coroner::frontends::fleet
