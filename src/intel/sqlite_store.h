// The SQLite incident store: the default (DESIGN.md section 7), one file,
// no server. sql_store.h holds the logic; this is its driver.
//
// The database runs in WAL mode (readers never block the writer), with
// foreign keys on, synchronous=NORMAL (a power cut may lose the last
// transactions, never corrupt the file) and a busy timeout, so several
// processes may share the file: a write that waits past the timeout fails
// with "store.unavailable". Statements are prepared once per instance and
// reused.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "intel/store.h"

namespace sentinel::intel {

struct SqliteStoreOptions {
  std::string path;  ///< the database file, created when missing (":memory:" for a private one)
  std::chrono::milliseconds busy_timeout{5000};  ///< how long a write waits for another writer
};

/// Opens (creating when missing) and migrates the database. Throws
/// StoreError naming the file when it cannot be opened or migrated, or when
/// a newer binary migrated it.
std::unique_ptr<IncidentStore> open_sqlite_store(const SqliteStoreOptions& options);

}  // namespace sentinel::intel
