// Schema migrations of the incident store, one list per SQL dialect.
//
// The source of truth is src/intel/migrations/<dialect>/NNNN_name.sql; the
// build embeds the files' bytes (migrations/embed_migrations.cmake writes
// migrations_sql.cpp in the build directory; a unit test checks them).
// Versions count up from 1 without gaps; a migration is never edited once
// released - a change is a new file. The store applies the missing ones at
// open, each in its own transaction together with its schema_migrations row.
#pragma once

#include <span>
#include <string_view>

namespace sentinel::intel {

struct Migration {
  int version = 0;
  std::string_view name;  ///< the file name between "NNNN_" and ".sql"
  std::string_view sql;   ///< the file's bytes
};

/// By version, ascending.
std::span<const Migration> sqlite_migrations();
std::span<const Migration> postgres_migrations();

}  // namespace sentinel::intel
