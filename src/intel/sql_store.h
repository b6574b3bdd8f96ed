// The SQL layer under both incident stores: IncidentStore is implemented once
// (sql_store.cpp) over a small Driver that runs parameterised statements in
// transactions; sqlite_store.cpp and pg_store.cpp are the two drivers. The
// SQL text is shared - both dialects accept the same DDL-free statements with
// $1..$n parameters, ON CONFLICT and RETURNING - and the few places that
// differ ask dialect(): title similarity (a trigram table in SQLite, pg_trgm
// in PostgreSQL), and the locks that serialise job claims and migrations.
//
// Internal to src/intel: include store.h, sqlite_store.h or pg_store.h instead.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "intel/store.h"

namespace sentinel::intel::sql {

enum class Dialect : uint8_t { kSqlite, kPostgres };

/// A parameter or a result cell. PostgreSQL cells arrive as text; SQLite
/// cells keep their storage class. The accessors below convert either way.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

bool is_null(const Value& v);
/// 0 for NULL or text that is not an integer.
int64_t as_int(const Value& v);
/// 0 for NULL or text that is not a number.
double as_double(const Value& v);
/// "" for NULL.
std::string as_text(const Value& v);

using Row = std::vector<Value>;

struct Rows {
  std::vector<Row> rows;
  int64_t affected = 0;  ///< rows changed by an INSERT, UPDATE or DELETE
};

/// One connection. Not thread-safe: the store serialises calls.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual Dialect dialect() const = 0;
  /// For messages: the file, or host:port/dbname (never a password).
  virtual std::string describe() const = 0;
  /// Opens a transaction; `write` asks for the write lock up front (SQLite
  /// BEGIN IMMEDIATE) so a reader never has to upgrade and deadlock.
  virtual Status begin(bool write) = 0;
  virtual Status commit() = 0;
  /// Ends the open transaction, if any, without its changes. Never fails.
  virtual void rollback() = 0;
  /// One statement with parameters $1..$n, prepared once per distinct text
  /// and reused. Inside the open transaction.
  virtual Result<Rows> exec(std::string_view sql, std::span<const Value> params) = 0;
  /// Several statements without parameters (a migration), inside the open transaction.
  virtual Status exec_script(std::string_view sql) = 0;
};

/// Runs the dialect's missing migrations, then wraps the driver. Throws
/// StoreError (naming driver->describe()) when a migration fails, or when the
/// database holds a version this binary does not know (a newer binary
/// migrated it) or one under another name.
std::unique_ptr<IncidentStore> open_store(std::unique_ptr<Driver> driver);

/// pg_trgm's trigrams of `text`, sorted and distinct: words are runs of
/// alphanumeric characters (Unicode, as glibc's C.UTF-8 classifies them),
/// lower-cased, padded with two spaces before and one after; each window of
/// three characters is a trigram (UTF-8 bytes). Hand-written because SQLite
/// has no pg_trgm, and SQLite's FTS5 trigram tokenizer does not pad words nor
/// skip punctuation, so its similarity would differ from PostgreSQL's.
std::vector<std::string> trigrams(std::string_view text);

/// pg_trgm's similarity of two trigram counts with `common` shared, as the
/// float4 PostgreSQL computes, widened to double the way PostgreSQL prints a
/// float4 (shortest decimal), so both stores report equal numbers.
double trigram_similarity(size_t common, size_t a, size_t b);

}  // namespace sentinel::intel::sql
