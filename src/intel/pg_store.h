// The PostgreSQL incident store (store.backend: postgres): several Sentinel
// processes share one database. sql_store.h holds the logic; this is its
// driver, on libpqxx 6.4.
//
// Needs PostgreSQL 13 or later with the pg_trgm extension (Debian:
// postgresql-contrib). The first migration runs CREATE EXTENSION IF NOT
// EXISTS pg_trgm SCHEMA public, which a database owner may do (pg_trgm is a
// trusted extension); otherwise a superuser creates it beforehand.
//
// Tables live in `schema` (created when missing); the session's search_path
// is "<schema>, public" so pg_trgm's operators resolve. The connection is
// re-established by libpqxx when it breaks (session settings restored); the
// transaction that saw the break fails with "store.unavailable".
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "intel/store.h"

namespace sentinel::intel {

struct PgStoreOptions {
  /// libpq connection string or URI ("host=127.0.0.1 port=5432 dbname=sentinel user=sentinel",
  /// "postgresql://sentinel@db/sentinel"); passwords belong in ~/.pgpass or PGPASSWORD.
  std::string conninfo;
  /// Schema of the tables: [a-z_][a-z0-9_]*, at most 63 characters.
  std::string schema = "public";
  /// Server-side limit per statement (0 = none).
  std::chrono::milliseconds statement_timeout{30'000};
};

/// Connects, creates the schema when missing and migrates. Throws StoreError
/// naming the server (host, port, database; never the password) when it
/// cannot connect or migrate, when the schema name is invalid, or when a
/// newer binary migrated the database.
std::unique_ptr<IncidentStore> open_pg_store(const PgStoreOptions& options);

}  // namespace sentinel::intel
