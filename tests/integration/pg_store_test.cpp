// The PostgreSQL incident store against a real server: the same store and
// job-queue cases as unit_intel runs on SQLite (tests/unit/intel/
// store_test_cases.h, job_test_cases.h), each in a fresh schema, plus what
// only a server has: title similarity equal to the SQLite store's on the
// same data, recovery after the server kills the connection, and connection
// errors that name the server without the password.
//
// Run by pg_store_test.sh, which starts a throwaway cluster and sets
// SENTINEL_PG_CONNINFO (a non-superuser owning the database, pg_trgm
// installed). Without it every case is skipped.
#include "intel/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../unit/intel/job_test_cases.h"
#include "../unit/intel/store_test_cases.h"

namespace sentinel::intel::testing {
namespace {

std::string conninfo() {
  const char* c = std::getenv("SENTINEL_PG_CONNINFO");
  return c != nullptr ? c : "";
}

/// A fresh schema per test in the database the script made.
class PgBackend {
 public:
  void SetUp() {
    if (conninfo().empty())
      GTEST_SKIP() << "SENTINEL_PG_CONNINFO is not set (run pg_store_test.sh)";
    static std::atomic<int> counter{0};
    schema_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  }
  std::unique_ptr<IncidentStore> open() {
    return open_pg_store(PgStoreOptions{conninfo(), schema_});
  }
  void TearDown() {}
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreTest, PgBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, JobQueueTest, PgBackend);

namespace {

/// Runs one statement on a separate libpq connection; returns the first
/// cell ("" when none).
std::string query(const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << PQerrorMessage(conn);
    PQfinish(conn);
    return "";
  }
  PGresult* r = PQexec(conn, sql.c_str());
  std::string out;
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
  } else if (PQntuples(r) > 0) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  PQfinish(conn);
  return out;
}

class PgStoreOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.SetUp();
    if (IsSkipped()) return;
  }
  PgBackend backend_;
};

TEST_F(PgStoreOnly, TitleSimilarityEqualsTheSqliteStores) {
  SqliteBackend sqlite;
  sqlite.SetUp();
  auto lite = sqlite.open();
  auto pg = backend_.open();
  ASSERT_EQ(pg->backend(), "postgres");
  const std::vector<std::string> words = {
      "man",        "woman",    "shot",     "killed", "wounded", "police", "officer", "suspect",
      "arrested",   "downtown", "West",     "Side",   "Austin",  "Loop",   "robbery", "armed",
      "carjacking", "near",     "school",   "in",     "on",      "after",  "crash",   "chase",
      "fire",       "Bogotá",   "Medellín", "O'Hare", "Avenue",  "St.",    "2",       "teens",
      "boy, 15",    "CTA",      "Red Line", "—"};
  std::mt19937_64 rng(7);
  const auto title = [&] {
    std::string t;
    const size_t n = 3 + rng() % 6;
    for (size_t i = 0; i < n; ++i) t += (i ? " " : "") + words[rng() % words.size()];
    return t;
  };
  for (int i = 0; i < 400; ++i) {
    NewArticle a;
    a.canonical_url = "https://news.example/" + std::to_string(i);
    a.url = a.canonical_url;
    a.title = title();
    a.fetched = kT0;
    ASSERT_EQ(must(lite->insert_article(a)).id, must(pg->insert_article(a)).id);
  }
  size_t matched = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string q = title();
    for (double threshold : {0.3, 0.5}) {
      const auto a = must(lite->similar_titles(q, 20, threshold));
      const auto b = must(pg->similar_titles(q, 20, threshold));
      ASSERT_EQ(a.size(), b.size()) << q << " at " << threshold;
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].article, b[k].article) << q << " #" << k;
        EXPECT_EQ(a[k].similarity, b[k].similarity) << q << " #" << k;
        EXPECT_EQ(a[k].title, b[k].title);
      }
      matched += a.size();
    }
  }
  EXPECT_GT(matched, 100u);  // the comparison compared something
  lite.reset();
  sqlite.TearDown();
}

TEST_F(PgStoreOnly, RecoversWhenTheServerEndsTheConnection) {
  const std::string app = "victim_" + backend_.schema();
  auto store =
      open_pg_store(PgStoreOptions{conninfo() + " application_name=" + app, backend_.schema()});
  ASSERT_TRUE(store->add_feed(NewFeed{"https://x.example/rss", "x", kHour}, kT0).ok());
  EXPECT_EQ(query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE "
                  "application_name = '" +
                  app + "'"),
            "t");
  // The statement that meets the dead connection may fail, and then only as
  // "unavailable"; libpqxx reconnects with the session settings (search_path)
  // restored, so the schema's tables are found again.
  bool recovered = false;
  for (int attempt = 0; attempt < 3 && !recovered; ++attempt) {
    auto feeds = store->list_feeds();
    if (feeds.ok()) {
      ASSERT_EQ(feeds->size(), 1u);
      EXPECT_EQ((*feeds)[0].url, "https://x.example/rss");
      recovered = true;
    } else {
      EXPECT_EQ(feeds.error().field, kStoreUnavailable) << feeds.error().to_string();
      EXPECT_TRUE(store_error_is_transient(feeds.error()));
    }
  }
  EXPECT_TRUE(recovered);
  EXPECT_TRUE(store->add_feed(NewFeed{"https://y.example/rss", "y", kHour}, kT0).ok());
}

TEST_F(PgStoreOnly, ConnectionErrorsNameTheServerNotThePassword) {
  try {
    open_pg_store(PgStoreOptions{
        "host=127.0.0.1 port=1 dbname=nowhere user=u password=hunter2 connect_timeout=5"});
    FAIL() << "connected to port 1";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("postgres 127.0.0.1:1/nowhere"));
    EXPECT_THAT(e.what(), ::testing::Not(::testing::HasSubstr("hunter2")));
  }
  EXPECT_THROW(open_pg_store(PgStoreOptions{conninfo(), "Bad-Schema"}), StoreError);
}

TEST_F(PgStoreOnly, SchemasKeepStoresApart) {
  auto a = backend_.open();
  auto b = open_pg_store(PgStoreOptions{conninfo(), backend_.schema() + "_other"});
  ASSERT_TRUE(a->add_feed(NewFeed{"https://x.example/rss", "x", kHour}, kT0).ok());
  EXPECT_EQ(must(a->list_feeds()).size(), 1u);
  EXPECT_TRUE(must(b->list_feeds()).empty());
  EXPECT_EQ(query("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                  backend_.schema() + "' AND table_name = 'jobs'"),
            "1");
  EXPECT_EQ(
      query("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"),
      "public");
}

}  // namespace
}  // namespace sentinel::intel::testing
