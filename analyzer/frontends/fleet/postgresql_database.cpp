// The PostgreSQL driver, through libpq: parameters travel as text and the
// server infers their types from the columns they meet.
#include "analyzer/frontends/fleet/sql_database.hpp"

#include <libpq-fe.h>

namespace coroner::frontends::fleet {

namespace {

// The advisory lock that serializes schema migrations between processes.
constexpr int64_t kSchemaLock = 0x636f726f6e6572;  // "coroner"

// The URL without its password, for messages.
std::string redacted(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

std::string first_line(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (size_t newline = text.find('\n'); newline != std::string::npos) text.resize(newline);
  return text;
}

class PostgresqlDatabase final : public SqlDatabase {
 public:
  PostgresqlDatabase(PGconn* connection, std::string url) : connection_(connection), url_(std::move(url)) {}
  ~PostgresqlDatabase() override { PQfinish(connection_); }

  std::string_view dialect() const override { return "postgresql"; }

  Expected<std::vector<SqlRow>> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (const SqlValue& value : params)
      texts.push_back(std::holds_alternative<int64_t>(value) ? std::to_string(std::get<int64_t>(value))
                                                             : std::get<std::string>(value));
    std::vector<const char*> values;
    for (const std::string& text : texts) values.push_back(text.c_str());
    PGresult* result = PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                    values.data(), nullptr, nullptr, 0);
    std::unique_ptr<PGresult, decltype(&PQclear)> owner(result, PQclear);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      return make_error(Errc::io, "{}: postgresql: {}", redacted(url_), first_line(PQresultErrorMessage(result)));
    std::vector<SqlRow> rows;
    for (int r = 0; r < PQntuples(result); ++r) {
      SqlRow row;
      for (int c = 0; c < PQnfields(result); ++c) {
        if (PQgetisnull(result, r, c)) row.emplace_back(std::nullopt);
        else row.emplace_back(std::string(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c))));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Expected<void> begin_write(bool schema) override {
    auto begun = query("BEGIN", {});
    if (begun && schema) begun = query("SELECT pg_advisory_xact_lock($1)", {kSchemaLock});
    if (!begun) return begun.error();
    return {};
  }

 private:
  PGconn* connection_;
  std::string url_;
};

}  // namespace

Expected<std::unique_ptr<SqlDatabase>> open_postgresql(const std::string& url) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    Error error = make_error(Errc::io, "{}: cannot connect to PostgreSQL: {}", redacted(url),
                             first_line(connection ? PQerrorMessage(connection) : "out of memory"));
    PQfinish(connection);
    return error;
  }
  auto database = std::make_unique<PostgresqlDatabase>(connection, url);
  // Notices (CREATE ... IF NOT EXISTS that exists) are not ours to print.
  auto quiet = database->query("SET client_min_messages = warning", {});
  if (!quiet) return quiet.error();
  return std::unique_ptr<SqlDatabase>(std::move(database));
}

}  // namespace coroner::frontends::fleet
