// The PostgreSQL driver of the incident store (libpqxx 6.4).
#include "intel/pg_store.h"

#include <libpq-fe.h>

#include <pqxx/pqxx>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "intel/sql_store.h"

namespace sentinel::intel {
namespace {

using sql::Dialect;
using sql::Rows;
using sql::Value;

/// host:port/dbname of a connection string, without the password.
std::string describe_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "postgres (unparsable connection string)";
  }
  std::string host = "localhost", port = "5432", dbname;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string_view key = o->keyword;
    if (key == "host" || key == "hostaddr") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  return "postgres " + host + ":" + port + "/" + dbname;
}

bool valid_schema(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  for (char c : s) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

/// Maps a libpqxx exception to the store's error kinds by SQLSTATE class:
/// connection loss, serialisation failures, deadlocks, shutdown and lack of
/// resources can pass with a retry; constraint violations are conflicts;
/// data exceptions are invalid input.
Error pg_error(const std::exception& e, std::string_view what) {
  std::string field = "store";
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    field = std::string(kStoreUnavailable);
  } else if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string cls = s->sqlstate().substr(0, 2);
    if (cls == "08" || cls == "40" || cls == "53" || cls == "57")
      field = std::string(kStoreUnavailable);
    if (cls == "23") field = std::string(kStoreConflict);
    if (cls == "22") field = std::string(kStoreInvalid);
  }
  std::string message = e.what();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return make_error(std::move(field), std::string(what) + ": " + message);
}

class PgDriver final : public sql::Driver {
 public:
  explicit PgDriver(const PgStoreOptions& options)
      : describe_(describe_conninfo(options.conninfo)) {
    if (!valid_schema(options.schema)) {
      throw StoreError(describe_ + ": schema '" + options.schema +
                       "' is not [a-z_][a-z0-9_]* (at most 63)");
    }
    try {
      conn_ = std::make_unique<pqxx::connection>(options.conninfo);
      if (options.schema != "public") {
        pqxx::nontransaction setup(*conn_);
        setup.exec("CREATE SCHEMA IF NOT EXISTS \"" + options.schema + "\"");
      }
      // set_variable (not a plain SET) so libpqxx restores them when it
      // re-establishes a broken connection.
      conn_->set_variable("search_path", "\"" + options.schema + "\", public");
      conn_->set_variable("statement_timeout", std::to_string(options.statement_timeout.count()));
    } catch (const std::exception& e) {
      throw StoreError(describe_ + ": cannot connect: " + pg_error(e, "connect").reason);
    }
  }

  ~PgDriver() override { rollback(); }
  PgDriver(const PgDriver&) = delete;
  PgDriver& operator=(const PgDriver&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string describe() const override { return describe_; }

  Status begin(bool write) override {
    rollback();
    try {
      if (write) {
        txn_ = std::make_unique<pqxx::work>(*conn_);
      } else {
        txn_ = std::make_unique<pqxx::read_transaction>(*conn_);
      }
      return Ok{};
    } catch (const std::exception& e) {
      return pg_error(e, "begin");
    }
  }

  Status commit() override {
    if (!txn_) return make_error("store", "commit without a transaction");
    try {
      txn_->commit();
      txn_.reset();
      return Ok{};
    } catch (const std::exception& e) {
      txn_.reset();
      return pg_error(e, "commit");
    }
  }

  void rollback() override {
    if (!txn_) return;
    try {
      txn_->abort();
    } catch (const std::exception&) {
      // The connection is gone; the server rolls the transaction back itself.
    }
    txn_.reset();
  }

  Result<Rows> exec(std::string_view sql, std::span<const Value> params) override {
    if (!txn_) return make_error("store", "statement outside a transaction");
    std::vector<std::string> texts;
    texts.reserve(params.size());
    std::vector<const char*> pointers(params.size(), nullptr);
    for (const Value& v : params) texts.push_back(sql::as_text(v));
    for (size_t i = 0; i < params.size(); ++i) {
      if (!sql::is_null(params[i])) pointers[i] = texts[i].c_str();
    }
    try {
      const std::string* name = statement(sql);
      const pqxx::result r =
          name != nullptr
              ? txn_->exec_prepared(*name, pqxx::prepare::make_dynamic_params(pointers))
              : txn_->exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(pointers));
      Rows out;
      out.rows.reserve(r.size());
      for (const auto& row : r) {
        sql::Row values;
        values.reserve(row.size());
        for (const auto& field : row) {
          if (field.is_null()) {
            values.emplace_back();
          } else {
            values.emplace_back(std::string(field.c_str(), field.size()));
          }
        }
        out.rows.push_back(std::move(values));
      }
      out.affected = static_cast<int64_t>(r.affected_rows());
      return out;
    } catch (const std::exception& e) {
      return pg_error(e, "statement");
    }
  }

  Status exec_script(std::string_view sql) override {
    if (!txn_) return make_error("store", "script outside a transaction");
    try {
      txn_->exec(std::string(sql));
      return Ok{};
    } catch (const std::exception& e) {
      return pg_error(e, "script");
    }
  }

 private:
  /// The prepared statement's name for this text, registered on first use
  /// (libpqxx prepares it on the server lazily, again after a reconnect).
  /// Dynamic statements (IN lists of varying length) could grow the set
  /// without bound: past kMaxStatements, new texts run unprepared (nullptr).
  const std::string* statement(std::string_view sql) {
    auto it = names_.find(std::string(sql));
    if (it != names_.end()) return &it->second;
    if (names_.size() >= kMaxStatements) return nullptr;
    std::string name = "s" + std::to_string(names_.size());
    conn_->prepare(name, std::string(sql));
    return &names_.emplace(std::string(sql), std::move(name)).first->second;
  }

  static constexpr size_t kMaxStatements = 512;

  std::string describe_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::transaction_base> txn_;  // the open transaction, if any
  std::unordered_map<std::string, std::string> names_;
};

}  // namespace

std::unique_ptr<IncidentStore> open_pg_store(const PgStoreOptions& options) {
  return sql::open_store(std::make_unique<PgDriver>(options));
}

}  // namespace sentinel::intel
