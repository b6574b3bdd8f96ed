// The SQLite store: the shared store cases (store_test_cases.h) on a temp
// file, plus what only SQLite has: the migration files against the SQL in
// the binary, migrating an older file, refusing a newer one, and the trigram
// extraction that stands in for pg_trgm.
#include "intel/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "intel/migrations.h"
#include "intel/sql_store.h"
#include "store_test_cases.h"

namespace sentinel::intel::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreTest, SqliteBackend);

namespace sqlite_store_test {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_files_match(const std::string& dialect, std::span<const Migration> embedded) {
  const fs::path dir = fs::path(SENTINEL_SOURCE_DIR) / "src/intel/migrations" / dialect;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), embedded.size())
      << dialect << ": every .sql file is embedded, and only those "
      << "(the build embeds them: re-run cmake)";
  for (size_t i = 0; i < files.size(); ++i) {
    // NNNN_name.sql (std::regex trips GCC 12's -Wmaybe-uninitialized under ASan).
    const std::string name = files[i].filename().string();
    ASSERT_GT(name.size(), 9u) << name;
    const std::string digits = name.substr(0, 4), stem = name.substr(5, name.size() - 9);
    ASSERT_TRUE(std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    })) << name;
    ASSERT_EQ(name[4], '_') << name;
    ASSERT_TRUE(name.ends_with(".sql")) << name;
    ASSERT_TRUE(!stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    })) << name;
    EXPECT_EQ(std::stoi(digits), static_cast<int>(i) + 1)
        << name << ": versions count up from 1 without gaps";
    EXPECT_EQ(embedded[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(embedded[i].name, stem);
    EXPECT_EQ(embedded[i].sql, read_file(files[i]))
        << name
        << " differs from the SQL in the binary (the build embeds it: re-run the build)";
  }
}

/// Runs SQL on the file directly, as another program (or an older binary) would.
void exec_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string why = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << why;
}

TEST(MigrationFiles, SqliteFilesAreTheSqlInTheBinary) {
  check_files_match("sqlite", sqlite_migrations());
}

TEST(MigrationFiles, PostgresFilesAreTheSqlInTheBinary) {
  check_files_match("postgres", postgres_migrations());
}

TEST(MigrationFiles, BothDialectsHaveTheSameVersions) {
  ASSERT_EQ(sqlite_migrations().size(), postgres_migrations().size());
  for (size_t i = 0; i < sqlite_migrations().size(); ++i) {
    EXPECT_EQ(sqlite_migrations()[i].name, postgres_migrations()[i].name);
  }
}

TEST(SqliteStore, MigratesADatabaseAnOlderBinaryLeft) {
  TempDir dir;
  const std::string path = dir.path() + "/old.db";
  const Migration& first = sqlite_migrations()[0];
  exec_raw(path,
           std::string(first.sql) +
               "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "applied_ms "
               "BIGINT NOT NULL);"
               "INSERT INTO schema_migrations VALUES (1, 'initial', 5);"
               "INSERT INTO articles (canonical_url, url, title, text, fetched_ms, fingerprint) "
               "VALUES ('https://x.example/1', 'https://x.example/1', 'Old article', '', 1, 7);");
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  auto applied = store->migrations();
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->size(), 2u);
  EXPECT_EQ((*applied)[0].applied_at, WallTime(Millis(5)));  // untouched
  EXPECT_EQ((*applied)[1].name, "jobs");
  auto old = store->find_article_by_url("https://x.example/1");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->title, "Old article");
  EXPECT_TRUE(store->enqueue_job(NewJob{"fetch", "{}", "", kT0, kT0}).ok());  // the new table works
}

TEST(SqliteStore, RefusesADatabaseANewerBinaryMigrated) {
  TempDir dir;
  const std::string path = dir.path() + "/new.db";
  open_sqlite_store(SqliteStoreOptions{path}).reset();
  exec_raw(path, "INSERT INTO schema_migrations VALUES (99, 'from_the_future', 1)");
  try {
    open_sqlite_store(SqliteStoreOptions{path});
    FAIL() << "opened a database of schema version 99";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(path));
    EXPECT_THAT(e.what(),
                ::testing::HasSubstr("schema version 99 is newer than this binary knows (2)"));
  }
}

TEST(SqliteStore, RefusesARenamedMigration) {
  TempDir dir;
  const std::string path = dir.path() + "/renamed.db";
  open_sqlite_store(SqliteStoreOptions{path}).reset();
  exec_raw(path, "UPDATE schema_migrations SET name = 'other' WHERE version = 2");
  EXPECT_THROW(open_sqlite_store(SqliteStoreOptions{path}), StoreError);
}

TEST(SqliteStore, OpenErrorsNameTheFile) {
  try {
    open_sqlite_store(SqliteStoreOptions{"/nonexistent-dir/sub/store.db"});
    FAIL() << "opened a file in a missing directory";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("/nonexistent-dir/sub/store.db"));
  }
  EXPECT_THROW(open_sqlite_store(SqliteStoreOptions{""}), StoreError);
  TempDir dir;
  std::ofstream(dir.path() + "/garbage.db", std::ios::binary) << std::string(4096, 'z');
  EXPECT_THROW(open_sqlite_store(SqliteStoreOptions{dir.path() + "/garbage.db"}), StoreError);
}

TEST(SqliteStore, KeepsDataAcrossReopenInWalMode) {
  TempDir dir;
  const std::string path = dir.path() + "/wal.db";
  ArticleId id;
  {
    auto store = open_sqlite_store(SqliteStoreOptions{path});
    NewArticle a;
    a.canonical_url = "https://x.example/a";
    a.url = a.canonical_url;
    a.title = "Kept";
    auto r = store->insert_article(a);
    ASSERT_TRUE(r.ok());
    id = r->id;
    EXPECT_TRUE(fs::exists(path + "-wal"));
  }
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  auto got = store->get_article(id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->title, "Kept");
  EXPECT_EQ(store->backend(), "sqlite");
}

TEST(SqliteStore, MemoryDatabaseWorks) {
  auto store = open_sqlite_store(SqliteStoreOptions{":memory:"});
  auto feed = store->add_feed(NewFeed{"https://x.example/rss", "x", Millis(60'000)}, kT0);
  ASSERT_TRUE(feed.ok());
  EXPECT_EQ(store->list_feeds()->size(), 1u);
}

TEST(Trigrams, MatchPgTrgmShowTrgm) {
  // SELECT show_trgm('O''Hare shooting_x') on PostgreSQL 15 (C.UTF-8).
  EXPECT_THAT(
      sql::trigrams("O'Hare shooting_x"),
      ::testing::ElementsAre("  h", "  o", "  s", "  x", " ha", " o ", " sh", " x ", "are", "har",
                             "hoo", "ing", "ng ", "oot", "oti", "re ", "sho", "tin"));
  EXPECT_EQ(sql::trigrams("Shooting Downtown"), sql::trigrams("downtown, SHOOTING!"));
  EXPECT_TRUE(sql::trigrams("").empty());
  EXPECT_TRUE(sql::trigrams(" -- !! ").empty());
  EXPECT_THAT(sql::trigrams("a"), ::testing::ElementsAre("  a", " a "));
  // Non-ASCII letters are word characters and are lower-cased (PostgreSQL
  // gives similarity('Élan', 'élan') = 1).
  EXPECT_EQ(sql::trigrams("\xC3\x89lan"), sql::trigrams("\xC3\xA9lan"));
  EXPECT_THAT(sql::trigrams("\xC3\xA9lan"), ::testing::Contains("lan"));
  EXPECT_THAT(sql::trigrams("\xC3\xA9lan"), ::testing::Contains("\xC3\xA9la"));
  // Invalid UTF-8 bytes separate words instead of failing.
  EXPECT_EQ(sql::trigrams("ab\xFF"
                          "cd"),
            sql::trigrams("ab cd"));
}

TEST(Trigrams, SimilarityIsPgTrgmsFloat4) {
  EXPECT_EQ(sql::trigram_similarity(6, 8, 8), 0.6);  // 6 / 10
  EXPECT_EQ(sql::trigram_similarity(1, 3, 3), 0.2);
  EXPECT_EQ(sql::trigram_similarity(2, 3, 4), 0.4);
  EXPECT_EQ(sql::trigram_similarity(1, 2, 3), 0.25);
  EXPECT_EQ(sql::trigram_similarity(5, 5, 5), 1.0);
  EXPECT_EQ(sql::trigram_similarity(0, 0, 5), 0.0);
  EXPECT_EQ(sql::trigram_similarity(1, 3, 4),
            0.16666667);  // float4 printed shortest, as PostgreSQL does
}

}  // namespace sqlite_store_test
}  // namespace sentinel::intel::testing
