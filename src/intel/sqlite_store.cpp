// The SQLite driver of the incident store (sqlite3 C API).
#include "intel/sqlite_store.h"

#include <sqlite3.h>

#include <string>
#include <unordered_map>
#include <utility>

#include "intel/sql_store.h"

namespace sentinel::intel {
namespace {

using sql::Dialect;
using sql::Rows;
using sql::Value;

/// "store.unavailable" for a busy or locked database (a retry can help),
/// "store.conflict" for a constraint, "store" otherwise.
Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xFF;
  std::string field = "store";
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) field = std::string(kStoreUnavailable);
  if (primary == SQLITE_CONSTRAINT) field = std::string(kStoreConflict);
  return make_error(
      std::move(field),
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

/// The shared SQL writes parameters as $1..$n; SQLite reads "$1" as a named
/// parameter numbered by first appearance, which breaks when $2 comes before
/// $1. "?NNN" binds by number, so rewrite them (outside string literals).
std::string numbered_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (!quoted && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class SqliteDriver final : public sql::Driver {
 public:
  explicit SqliteDriver(const SqliteStoreOptions& options) : path_(options.path) {
    const int rc =
        sqlite3_open_v2(path_.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw StoreError(path_ + ": cannot open: " + why);
    }
    sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    // WAL: readers do not block the writer; NORMAL: durable to the last
    // checkpoint-safe commit (a crash of the process loses nothing).
    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"}) {
      char* message = nullptr;
      if (sqlite3_exec(db_, pragma, nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string why = message != nullptr ? message : "unknown error";
        sqlite3_free(message);
        sqlite3_close(db_);
        throw StoreError(path_ + ": " + pragma + ": " + why);
      }
    }
  }

  ~SqliteDriver() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  SqliteDriver(const SqliteDriver&) = delete;
  SqliteDriver& operator=(const SqliteDriver&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string describe() const override { return path_; }

  Status begin(bool write) override {
    return simple(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", "begin");
  }
  Status commit() override { return simple("COMMIT", "commit"); }
  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  Result<Rows> exec(std::string_view sql, std::span<const Value> params) override {
    auto prepared = statement(sql);
    if (!prepared.ok()) return prepared.error();
    sqlite3_stmt* stmt = *prepared;
    // Reset on every way out so the statement holds no read snapshot.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
      return make_error("store", "statement expects " +
                                     std::to_string(sqlite3_bind_parameter_count(stmt)) +
                                     " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *v);
      } else if (const auto* d = std::get_if<double>(&params[i])) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text(stmt, index, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return sqlite_error(db_, rc, "bind");
    }
    Rows out;
    const int columns = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sqlite_error(db_, rc, "step");
      sql::Row row;
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_NULL:
            row.emplace_back();
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row.emplace_back(std::string(text != nullptr ? text : "",
                                         static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    out.affected = sqlite3_changes64(db_);
    return out;
  }

  Status exec_script(std::string_view sql) override { return simple(std::string(sql), "script"); }

 private:
  Status simple(const std::string& sql, std::string_view what) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return Ok{};
    std::string why = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    Error e = sqlite_error(nullptr, rc, what);
    e.reason = std::string(what) + ": " + why;
    return e;
  }

  Result<sqlite3_stmt*> statement(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) return it->second;
    const std::string text = numbered_parameters(sql);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
    // Dynamic statements (IN lists of varying length) could grow the cache
    // without bound; drop it all when it gets large (prepare is ~10 us).
    if (statements_.size() >= kMaxStatements) {
      for (auto& [s, prepared] : statements_) sqlite3_finalize(prepared);
      statements_.clear();
    }
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

  static constexpr size_t kMaxStatements = 512;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

std::unique_ptr<IncidentStore> open_sqlite_store(const SqliteStoreOptions& options) {
  if (options.path.empty()) throw StoreError("sqlite store: the database path is empty");
  return sql::open_store(std::make_unique<SqliteDriver>(options));
}

}  // namespace sentinel::intel
