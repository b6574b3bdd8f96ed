// The incident-store test cases shared by both backends: unit_intel runs
// them on SQLite (sqlite_store_test.cpp), integration_pg_store on a real
// PostgreSQL (tests/integration/pg_store_test.cpp). A backend is a class with
//   void SetUp();                                 // a fresh, empty database
//   std::unique_ptr<IncidentStore> open();        // a new handle on it (migrates)
//   void TearDown();
// Descriptions of people here are invented; no name from reference data.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "intel/sql_store.h"
#include "intel/sqlite_store.h"
#include "intel/store.h"

namespace sentinel::intel::testing {

/// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sentinel-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The SQLite backend: one database file in a fresh temp directory per test.
class SqliteBackend {
 public:
  void SetUp() { dir_ = std::make_unique<TempDir>(); }
  std::unique_ptr<IncidentStore> open() {
    return open_sqlite_store(SqliteStoreOptions{path(), Millis(10'000)});
  }
  void TearDown() { dir_.reset(); }
  std::string path() const { return dir_->path() + "/store.db"; }

 private:
  std::unique_ptr<TempDir> dir_;
};

inline constexpr WallTime kT0 = WallTime(std::chrono::milliseconds(1'772'000'000'000));
inline constexpr Millis kMinute{60'000};
inline constexpr Millis kHour{3'600'000};

inline EventTime day(int d, int hour = 12) {
  return event_time_from_ms(1'767'225'600'000 + int64_t{d} * 86'400'000 +
                            int64_t{hour} * 3'600'000);  // 2026-01-01
}

template <typename Backend>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.SetUp();
    if (IsSkipped()) return;
    store_ = backend_.open();
  }
  void TearDown() override {
    store_.reset();
    backend_.TearDown();
  }
  IncidentStore& s() { return *store_; }

  NewArticle article(const std::string& slug, const std::string& title,
                     std::optional<FeedId> feed = std::nullopt) {
    NewArticle a;
    a.canonical_url = "https://news.example/" + slug;
    a.url = a.canonical_url + "?utm_source=rss";
    a.feed = feed;
    a.title = title;
    a.text = "Body of " + title;
    a.language = "en";
    a.published = day(3);
    a.fetched = kT0;
    a.fingerprint = 0xF0E1D2C3B4A59687ull;
    return a;
  }
  ArticleId add_article(const std::string& slug, const std::string& title) {
    auto r = s().insert_article(article(slug, title));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? r->id : ArticleId{};
  }
  ExtractionId add_extraction(ArticleId a, double confidence,
                              const std::string& json = R"({"type":"shooting"})") {
    auto r = s().insert_extraction(NewExtraction{a,
                                                 "builtin",
                                                 "single",
                                                 json,
                                                 confidence,
                                                 RecordedTriage::kReview,
                                                 {"confidence 0.50-0.85"},
                                                 kT0});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ExtractionId{};
  }
  IncidentDraft draft(const std::string& type, EventTime t, const std::string& district,
                      IncidentStatus status = IncidentStatus::kOpen) {
    IncidentDraft d;
    d.type = type;
    d.time = t;
    d.place = "W Madison St & N Pulaski Rd";
    d.lat = 41.8806;
    d.lon = -87.7257;
    d.district = district;
    d.status = status;
    d.confidence = 0.9;
    return d;
  }

  Backend backend_;
  std::unique_ptr<IncidentStore> store_;
};

TYPED_TEST_SUITE_P(StoreTest);

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& assert_ok_ = (expr);                                                 \
    ASSERT_TRUE(assert_ok_.ok()) << #expr << ": " << assert_ok_.error().to_string(); \
  } while (false)

/// The value of a Result that must be ok (fails the test otherwise).
template <typename T>
T must(Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.error().to_string();
    return T{};
  }
  return std::move(r).value();
}

TYPED_TEST_P(StoreTest, MigrationsAppliedOnceInOrder) {
  auto applied = must(this->s().migrations());
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0].version, 1);
  EXPECT_EQ(applied[0].name, "initial");
  EXPECT_EQ(applied[1].version, 2);
  EXPECT_EQ(applied[1].name, "jobs");
  // A second handle finds them applied and changes nothing.
  auto again = this->backend_.open();
  auto reapplied = must(again->migrations());
  ASSERT_EQ(reapplied.size(), 2u);
  EXPECT_EQ(reapplied[1].applied_at, applied[1].applied_at);
}

TYPED_TEST_P(StoreTest, FeedLifecycleWithConditionalGetValidators) {
  auto& s = this->s();
  const FeedId id =
      must(s.add_feed(NewFeed{"https://news.example/rss", "Example News", kHour}, kT0));
  ASSERT_TRUE(id.valid());
  auto dup = s.add_feed(NewFeed{"https://news.example/rss", "again", kHour}, kT0);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().field, kStoreConflict);
  EXPECT_FALSE(s.add_feed(NewFeed{"", "", kHour}, kT0).ok());

  auto feed = must(s.get_feed(id));
  ASSERT_TRUE(feed.has_value());
  EXPECT_EQ(feed->title, "Example News");
  EXPECT_EQ(feed->schedule, kHour);
  EXPECT_EQ(feed->status, FeedStatus::kActive);
  EXPECT_FALSE(feed->last_fetch.has_value());
  EXPECT_EQ(feed->next_fetch, kT0);  // due at once
  EXPECT_EQ(must(s.due_feeds(kT0, 10)).size(), 1u);

  // A 200 with validators: kept, next fetch an hour later.
  ASSERT_OK(s.record_fetch(id, FeedFetchRecord{kT0 + kMinute, true, false, "\"abc\"",
                                               "Sun, 01 Mar 2026 10:00:00 GMT", ""}));
  feed = must(s.get_feed(id));
  EXPECT_EQ(feed->etag, "\"abc\"");
  EXPECT_EQ(feed->last_modified, "Sun, 01 Mar 2026 10:00:00 GMT");
  EXPECT_EQ(feed->last_fetch, kT0 + kMinute);
  EXPECT_EQ(feed->next_fetch, kT0 + kMinute + kHour);
  EXPECT_TRUE(must(s.due_feeds(kT0 + kHour, 10)).empty());
  EXPECT_EQ(must(s.due_feeds(kT0 + kMinute + kHour, 10)).size(), 1u);

  // A 304 keeps the validators.
  ASSERT_OK(s.record_fetch(id, FeedFetchRecord{kT0 + 2 * kHour, true, true, "", "", ""}));
  feed = must(s.get_feed(id));
  EXPECT_EQ(feed->etag, "\"abc\"");
  EXPECT_EQ(feed->next_fetch, kT0 + 3 * kHour);

  // Failures count up and show; a success clears them.
  ASSERT_OK(s.record_fetch(id, FeedFetchRecord{kT0 + 3 * kHour, false, false, "", "", "HTTP 503"}));
  ASSERT_OK(s.record_fetch(
      id, FeedFetchRecord{kT0 + 4 * kHour, false, false, "", "", "timeout after 10s"}));
  feed = must(s.get_feed(id));
  EXPECT_EQ(feed->status, FeedStatus::kFailing);
  EXPECT_EQ(feed->last_error, "timeout after 10s");
  EXPECT_EQ(feed->consecutive_failures, 2u);
  EXPECT_EQ(feed->etag, "\"abc\"");
  ASSERT_OK(s.record_fetch(id, FeedFetchRecord{kT0 + 5 * kHour, true, false, "\"def\"", "", ""}));
  feed = must(s.get_feed(id));
  EXPECT_EQ(feed->status, FeedStatus::kActive);
  EXPECT_EQ(feed->last_error, "");
  EXPECT_EQ(feed->consecutive_failures, 0u);
  EXPECT_EQ(feed->etag, "\"def\"");
  EXPECT_EQ(feed->last_modified, "");

  // Paused feeds are never due; "fetch now" makes an active one due.
  ASSERT_OK(s.set_feed_status(id, FeedStatus::kPaused));
  ASSERT_OK(s.request_fetch(id, kT0 + 5 * kHour + kMinute));
  EXPECT_TRUE(must(s.due_feeds(kT0 + 100 * kHour, 10)).empty());
  ASSERT_OK(s.record_fetch(id, FeedFetchRecord{kT0 + 6 * kHour, false, false, "", "", "HTTP 500"}));
  EXPECT_EQ(must(s.get_feed(id))->status, FeedStatus::kPaused);
  ASSERT_OK(s.set_feed_status(id, FeedStatus::kActive));
  ASSERT_OK(s.request_fetch(id, kT0 + 6 * kHour + kMinute));
  EXPECT_EQ(must(s.due_feeds(kT0 + 6 * kHour + kMinute, 10)).size(), 1u);

  // Schedule change moves the next fetch relative to the last one.
  ASSERT_OK(s.update_feed(id, "Renamed", 2 * kHour));
  feed = must(s.get_feed(id));
  EXPECT_EQ(feed->title, "Renamed");
  EXPECT_EQ(feed->next_fetch, kT0 + 8 * kHour);

  const FeedId other = must(s.add_feed(NewFeed{"https://other.example/atom", "", kHour}, kT0));
  auto all = must(s.list_feeds());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[1].id, other);
  ASSERT_OK(s.delete_feed(other));
  EXPECT_FALSE(must(s.get_feed(other)).has_value());
  auto gone = s.delete_feed(other);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().field, kStoreNotFound);
  EXPECT_EQ(s.set_feed_status(FeedId{999}, FeedStatus::kPaused).error().field, kStoreNotFound);
}

TYPED_TEST_P(StoreTest, ArticleStoredOnceUnderCanonicalUrl) {
  auto& s = this->s();
  const FeedId feed = must(s.add_feed(NewFeed{"https://news.example/rss", "", kHour}, kT0));
  NewArticle a = this->article("man-shot", "Man shot on West Side", feed);
  a.fingerprint = 0xFFFFFFFFFFFFFFFFull;  // the high bit survives the signed column
  a.published = std::nullopt;
  const ArticleInsert first = must(s.insert_article(a));
  EXPECT_TRUE(first.inserted);
  NewArticle again = a;
  again.title = "A different title";
  again.url = "https://news.example/man-shot?fbclid=1";
  const ArticleInsert second = must(s.insert_article(again));
  EXPECT_FALSE(second.inserted);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(must(s.article_count()), 1);

  auto got = must(s.find_article_by_url("https://news.example/man-shot"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, first.id);
  EXPECT_EQ(got->title, "Man shot on West Side");
  EXPECT_EQ(got->url, a.url);
  EXPECT_EQ(got->feed, feed);
  EXPECT_EQ(got->text, a.text);
  EXPECT_EQ(got->language, "en");
  EXPECT_FALSE(got->published.has_value());
  EXPECT_EQ(got->fetched, kT0);
  EXPECT_EQ(got->fingerprint, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(got->dedup, DedupVerdict{});
  EXPECT_FALSE(must(s.find_article_by_url("https://news.example/other")).has_value());
  EXPECT_FALSE(must(s.get_article(ArticleId{first.id.value + 100})).has_value());

  // Deleting the feed keeps its articles.
  ASSERT_OK(s.delete_feed(feed));
  got = must(s.get_article(first.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->feed.has_value());

  NewArticle bad = this->article("", "");
  bad.canonical_url = "";
  EXPECT_EQ(s.insert_article(bad).error().field, kStoreInvalid);

  // A batch: one transaction, repeats stored once, all or nothing.
  NewArticle a_again = a;
  a_again.feed = std::nullopt;  // its feed was deleted above
  const std::vector<NewArticle> batch = {this->article("b1", "Fire on North Ave"), a_again,
                                         this->article("b2", "Crash"),
                                         this->article("b1", "Fire on North Avenue")};
  auto stored = must(s.insert_articles(batch));
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_TRUE(stored[0].inserted);
  EXPECT_FALSE(stored[1].inserted);
  EXPECT_EQ(stored[1].id, first.id);
  EXPECT_TRUE(stored[2].inserted);
  EXPECT_FALSE(stored[3].inserted);
  EXPECT_EQ(stored[3].id, stored[0].id);
  EXPECT_EQ(must(s.article_count()), 3);
  std::vector<NewArticle> broken = {this->article("c1", "Ok"),
                                    this->article("c2", "Not \xFF UTF-8")};
  EXPECT_EQ(s.insert_articles(broken).error().field, kStoreInvalid);
  broken = {this->article("c1", "Ok"), bad};
  EXPECT_EQ(s.insert_articles(broken).error().field, kStoreInvalid);
  EXPECT_EQ(must(s.article_count()), 3);
  EXPECT_FALSE(must(s.find_article_by_url("https://news.example/c1")).has_value());
  EXPECT_TRUE(must(s.insert_articles({})).empty());
}

TYPED_TEST_P(StoreTest, EnrichmentAndDedupVerdict) {
  auto& s = this->s();
  const ArticleId a = this->add_article("a", "Two wounded in Austin shooting");
  const ArticleId b = this->add_article("b", "Two wounded in shooting in Austin");
  const std::string text(3000, 'x');
  ASSERT_OK(s.update_article_text(a, text, 42));
  ASSERT_OK(s.set_dedup_verdict(b, DedupVerdict{DedupRule::kTitle, a, IncidentId{7}, 0.83}));
  auto ga = must(s.get_article(a));
  EXPECT_EQ(ga->text, text);
  EXPECT_EQ(ga->fingerprint, 42u);
  auto gb = must(s.get_article(b));
  EXPECT_EQ(gb->dedup.rule, DedupRule::kTitle);
  EXPECT_EQ(gb->dedup.article, a);
  EXPECT_EQ(gb->dedup.incident, IncidentId{7});
  EXPECT_DOUBLE_EQ(gb->dedup.score, 0.83);
  EXPECT_EQ(s.update_article_text(ArticleId{999}, "x", 1).error().field, kStoreNotFound);
  EXPECT_EQ(s.set_dedup_verdict(ArticleId{999}, DedupVerdict{}).error().field, kStoreNotFound);
}

TYPED_TEST_P(StoreTest, ArticlePagesAndFingerprints) {
  auto& s = this->s();
  const FeedId f1 = must(s.add_feed(NewFeed{"https://a.example/rss", "", kHour}, kT0));
  const FeedId f2 = must(s.add_feed(NewFeed{"https://b.example/rss", "", kHour}, kT0));
  std::vector<ArticleId> ids;
  for (int i = 0; i < 7; ++i) {
    NewArticle a =
        this->article("n" + std::to_string(i), "Story " + std::to_string(i), i % 2 == 0 ? f1 : f2);
    a.fetched = kT0 + i * kMinute;
    a.fingerprint = 1000u + static_cast<uint64_t>(i);
    ids.push_back(must(s.insert_article(a)).id);
  }
  auto newest = must(s.list_articles(ArticleQuery{std::nullopt, 3, 0}));
  ASSERT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest[0].id, ids[6]);
  EXPECT_EQ(newest[2].id, ids[4]);
  auto next = must(s.list_articles(ArticleQuery{std::nullopt, 3, 3}));
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].id, ids[3]);
  auto of_f2 = must(s.list_articles(ArticleQuery{f2, 100, 0}));
  ASSERT_EQ(of_f2.size(), 3u);
  EXPECT_EQ(of_f2[0].id, ids[5]);
  EXPECT_EQ(s.list_articles(ArticleQuery{std::nullopt, 0, 0}).error().field, kStoreInvalid);

  auto page1 = must(s.fingerprints(ArticleId{}, 4));
  ASSERT_EQ(page1.size(), 4u);
  EXPECT_EQ(page1[0].article, ids[0]);
  EXPECT_EQ(page1[0].fingerprint, 1000u);
  EXPECT_EQ(page1[0].published, day(3));
  auto page2 = must(s.fingerprints(page1.back().article, 4));
  ASSERT_EQ(page2.size(), 3u);
  EXPECT_EQ(page2.back().fingerprint, 1006u);
  auto rebuilt = must(s.articles_after(ids[4], 10));
  ASSERT_EQ(rebuilt.size(), 2u);
  EXPECT_EQ(rebuilt[0].id, ids[5]);
  EXPECT_EQ(rebuilt[0].title, "Story 5");
  EXPECT_EQ(must(s.article_count()), 7);
}

TYPED_TEST_P(StoreTest, SimilarTitlesFollowPgTrgm) {
  auto& s = this->s();
  const ArticleId a = this->add_article("a", "shooting downtown");
  const ArticleId b = this->add_article("b", "Downtown shooting!");
  const ArticleId c = this->add_article("c", "abc dex");
  const ArticleId d = this->add_article("d", "Police chase ends in crash");
  this->add_article("e", "---");

  // Word order, case and punctuation do not matter to trigram sets.
  auto m = must(s.similar_titles("downtown shooting", 10));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].article, a);
  EXPECT_EQ(m[0].similarity, 1.0);
  EXPECT_EQ(m[0].title, "shooting downtown");
  EXPECT_EQ(m[1].article, b);
  EXPECT_EQ(m[1].similarity, 1.0);

  // similarity('abc def', 'abc dex') = 6 / 10 in PostgreSQL.
  m = must(s.similar_titles("abc def", 10));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].article, c);
  EXPECT_EQ(m[0].similarity, 0.6);
  EXPECT_TRUE(must(s.similar_titles("abc def", 10, 0.61)).empty());

  // The value is pg_trgm's, whichever store computes it.
  const auto q = sql::trigrams("Police chase ends in a crash");
  const auto t = sql::trigrams("Police chase ends in crash");
  std::vector<std::string> common;
  std::set_intersection(q.begin(), q.end(), t.begin(), t.end(), std::back_inserter(common));
  m = must(s.similar_titles("Police chase ends in a crash", 10));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].article, d);
  EXPECT_EQ(m[0].similarity, sql::trigram_similarity(common.size(), q.size(), t.size()));

  // A time window: only articles fetched since.
  NewArticle late = this->article("late", "Shooting downtown, police say");
  late.fetched = kT0 + kHour;
  const ArticleId l = must(s.insert_article(late)).id;
  m = must(s.similar_titles("downtown shooting", 10, 0.3, kT0 + kMinute));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].article, l);
  EXPECT_EQ(must(s.similar_titles("downtown shooting", 10, 0.3)).size(), 3u);
  EXPECT_EQ(must(s.similar_titles("downtown shooting", 10, 0.3, kT0)).size(), 3u);
  EXPECT_TRUE(must(s.similar_titles("downtown shooting", 10, 0.3, kT0 + 2 * kHour)).empty());

  EXPECT_EQ(must(s.similar_titles("downtown shooting", 1)).size(), 1u);
  EXPECT_TRUE(must(s.similar_titles("!!!", 10)).empty());
  EXPECT_TRUE(must(s.similar_titles("zzzz qqqq", 10)).empty());
  EXPECT_EQ(s.similar_titles("x", 10, 0).error().field, kStoreInvalid);
  EXPECT_EQ(s.similar_titles("x", 0).error().field, kStoreInvalid);
}

TYPED_TEST_P(StoreTest, RefusesTextThatIsNotUtf8) {
  auto& s = this->s();
  NewArticle a = this->article("nul", "title");
  a.text = std::string("before\0after", 12);
  EXPECT_EQ(s.insert_article(a).error().field, kStoreInvalid);
  a.text = "ok";
  a.title = "caf\xE9";  // Latin-1, not UTF-8
  EXPECT_EQ(s.insert_article(a).error().field, kStoreInvalid);
  a.title = "caf\xC3\xA9 \xE2\x80\x94 Bogot\xC3\xA1";
  const ArticleId id = must(s.insert_article(a)).id;
  EXPECT_EQ(must(s.get_article(id))->title, a.title);
  EXPECT_EQ(must(s.article_count()), 1);
}

TYPED_TEST_P(StoreTest, ExtractionsWithTriage) {
  auto& s = this->s();
  const ArticleId a = this->add_article("a", "Store robbed at gunpoint");
  const ExtractionId e1 =
      this->add_extraction(a, 0.7, R"({"type":"robbery","actors":[{"role":"suspect"}]})");
  const ExtractionId e2 = must(s.insert_extraction(NewExtraction{a,
                                                                 "anthropic",
                                                                 "stage2",
                                                                 R"({"domain":"crime"})",
                                                                 0.91,
                                                                 RecordedTriage::kPending,
                                                                 {},
                                                                 kT0 + kMinute}));
  auto got = must(s.get_extraction(e1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->article, a);
  EXPECT_EQ(got->provider, "builtin");
  EXPECT_EQ(got->stage, "single");
  EXPECT_EQ(got->result_json, R"({"type":"robbery","actors":[{"role":"suspect"}]})");
  EXPECT_DOUBLE_EQ(got->confidence, 0.7);
  EXPECT_EQ(got->triage, RecordedTriage::kReview);
  EXPECT_THAT(got->triage_reasons, ::testing::ElementsAre("confidence 0.50-0.85"));
  ASSERT_OK(s.set_triage(e2, RecordedTriage::kApprove,
                         {"confidence >= 0.90 (enforcement)", "required fields present"}));
  auto all = must(s.extractions_for_article(a));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].id, e2);
  EXPECT_EQ(all[1].triage, RecordedTriage::kApprove);
  EXPECT_THAT(all[1].triage_reasons, ::testing::ElementsAre("confidence >= 0.90 (enforcement)",
                                                            "required fields present"));

  EXPECT_EQ(
      s.insert_extraction(NewExtraction{a, "builtin", "single", "{not json", 0.5, {}, {}, kT0})
          .error()
          .field,
      kStoreInvalid);
  auto orphan = s.insert_extraction(
      NewExtraction{ArticleId{999}, "builtin", "single", "{}", 0.5, {}, {}, kT0});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().field, kStoreConflict);
  EXPECT_EQ(s.set_triage(ExtractionId{999}, RecordedTriage::kReject, {}).error().field,
            kStoreNotFound);
}

TYPED_TEST_P(StoreTest, CurationQueueApproveRejectCorrect) {
  auto& s = this->s();
  const ArticleId a1 = this->add_article("a1", "Shots fired near school");
  const ArticleId a2 = this->add_article("a2", "Carjacking on Lake Shore Drive");
  const ArticleId a3 = this->add_article("a3", "Officer injured during arrest");
  const ExtractionId e1 = this->add_extraction(a1, 0.6);
  const ExtractionId e2 = this->add_extraction(a2, 0.7);
  const ExtractionId e3 = this->add_extraction(a3, 0.8);
  const CurationItemId i1 = must(s.enqueue_curation(e1, kT0));
  const CurationItemId i2 = must(s.enqueue_curation(e2, kT0 + kMinute));
  const CurationItemId i3 = must(s.enqueue_curation(e3, kT0 + 2 * kMinute));
  EXPECT_EQ(must(s.enqueue_curation(e2, kT0 + kHour)), i2);  // idempotent
  EXPECT_EQ(s.enqueue_curation(ExtractionId{999}, kT0).error().field, kStoreNotFound);

  CurationPage page = must(s.curation_page(CurationQuery{}));
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].item.id, i1);  // oldest first
  EXPECT_EQ(page.items[0].article.title, "Shots fired near school");
  EXPECT_EQ(page.items[0].extraction.id, e1);
  EXPECT_DOUBLE_EQ(page.items[0].item.confidence, 0.6);
  page = must(s.curation_page(CurationQuery{CurationState::kOpen, 1, 1}));
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].item.id, i2);

  // Corrections are recorded on the open item, in order.
  ASSERT_OK(s.correct_curation(i1, "place", "Lake St", "W Lake St & N Cicero Ave", "curator-1",
                               kT0 + kHour));
  ASSERT_OK(s.correct_curation(i1, "actors[0].role", "witness", "victim", "curator-1",
                               kT0 + kHour + kMinute));
  EXPECT_EQ(s.correct_curation(i1, "", "a", "b", "curator-1", kT0).error().field, kStoreInvalid);

  // Approve: the incident gets the item's article as a source and its extraction.
  IncidentDraft d = this->draft("shooting", day(3, 15), "Austin");
  d.place = "W Lake St & N Cicero Ave";
  d.actors = {IncidentActor{ActorRole::kVictim, "teenager, 16"}};
  const IncidentId inc =
      must(s.approve_curation(i1, d, "curator-1", kT0 + 2 * kHour, "looks right"));
  auto view = must(s.get_curation_item(i1));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->item.state, CurationState::kApproved);
  EXPECT_EQ(view->item.incident, inc);
  EXPECT_EQ(view->item.decided, kT0 + 2 * kHour);
  EXPECT_EQ(view->item.decided_by, "curator-1");
  ASSERT_EQ(view->actions.size(), 3u);
  EXPECT_EQ(view->actions[0].kind, CurationActionKind::kCorrect);
  EXPECT_EQ(view->actions[0].field, "place");
  EXPECT_EQ(view->actions[0].old_value, "Lake St");
  EXPECT_EQ(view->actions[0].new_value, "W Lake St & N Cicero Ave");
  EXPECT_EQ(view->actions[1].field, "actors[0].role");
  EXPECT_EQ(view->actions[2].kind, CurationActionKind::kApprove);
  EXPECT_EQ(view->actions[2].reason, "looks right");
  EXPECT_EQ(view->actions[2].actor, "curator-1");
  EXPECT_EQ(view->actions[2].at, kT0 + 2 * kHour);
  auto incident = must(s.get_incident(inc));
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(incident->extraction, e1);
  ASSERT_EQ(incident->sources.size(), 1u);
  EXPECT_EQ(incident->sources[0].article, a1);
  EXPECT_EQ(incident->sources[0].url, "https://news.example/a1");
  EXPECT_EQ(incident->sources[0].via, DedupRule::kNone);

  // A decided item cannot be decided again, nor corrected.
  auto twice = s.approve_curation(i1, d, "curator-2", kT0 + 3 * kHour);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().field, kStoreConflict);
  EXPECT_EQ(s.reject_curation(i1, "dup", "curator-2", kT0).error().field, kStoreConflict);
  EXPECT_EQ(s.correct_curation(i1, "type", "a", "b", "curator-2", kT0).error().field,
            kStoreConflict);
  EXPECT_EQ(must(s.list_incidents(IncidentQuery{})).total, 1);  // the failed approval left nothing

  // Reject needs a reason.
  EXPECT_EQ(s.reject_curation(i2, "", "curator-1", kT0).error().field, kStoreInvalid);
  ASSERT_OK(s.reject_curation(i2, "not an incident: opinion piece", "curator-1", kT0 + 3 * kHour));
  view = must(s.get_curation_item(i2));
  EXPECT_EQ(view->item.state, CurationState::kRejected);
  ASSERT_EQ(view->actions.size(), 1u);
  EXPECT_EQ(view->actions[0].kind, CurationActionKind::kReject);
  EXPECT_EQ(view->actions[0].reason, "not an incident: opinion piece");
  EXPECT_EQ(s.reject_curation(CurationItemId{999}, "x", "c", kT0).error().field, kStoreNotFound);

  page = must(s.curation_page(CurationQuery{}));
  EXPECT_EQ(page.total, 1);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].item.id, i3);
  EXPECT_EQ(must(s.curation_page(CurationQuery{CurationState::kRejected, 10, 0})).total, 1);
  EXPECT_EQ(must(s.curation_page(CurationQuery{std::nullopt, 10, 0})).total, 3);
  EXPECT_FALSE(must(s.get_curation_item(CurationItemId{999})).has_value());
}

TYPED_TEST_P(StoreTest, IncidentWithActorsEventsAndCase) {
  auto& s = this->s();
  const ArticleId a = this->add_article("a", "Two charged after shooting");
  const ArticleId b = this->add_article("b", "Charges filed in shooting");
  IncidentDraft d = this->draft("shooting", day(10, 23), "Garfield Park");
  d.actors = {IncidentActor{ActorRole::kVictim, "man, 34"},
              IncidentActor{ActorRole::kSuspect, "two men in a sedan"},
              IncidentActor{ActorRole::kAgency, "police department, 11th district"}};
  d.events = {IncidentEvent{day(10, 23), "shooting", "shots fired from a passing car"},
              IncidentEvent{day(12, 9), "arrest", "two suspects arrested"},
              IncidentEvent{std::nullopt, "charge", ""}};
  d.case_info = CaseInfo{
      "26-CR-01234",
      "Circuit Court of Cook County",
      {Charge{"attempted murder", "720 ILCS 5/8-4", 2}, Charge{"unlawful use of a weapon", "", 1}},
      "",
      std::nullopt};
  d.sources = {a, b, a};
  const IncidentId id = must(s.create_incident(d, "triage:auto", kT0));
  auto inc = must(s.get_incident(id));
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->type, "shooting");
  EXPECT_EQ(inc->time, day(10, 23));
  EXPECT_EQ(inc->place, "W Madison St & N Pulaski Rd");
  EXPECT_DOUBLE_EQ(*inc->lat, 41.8806);
  EXPECT_DOUBLE_EQ(*inc->lon, -87.7257);
  EXPECT_EQ(inc->district, "Garfield Park");
  EXPECT_EQ(inc->status, IncidentStatus::kOpen);
  EXPECT_DOUBLE_EQ(inc->confidence, 0.9);
  EXPECT_EQ(inc->actors, d.actors);
  EXPECT_EQ(inc->events, d.events);
  EXPECT_EQ(inc->case_info, d.case_info);
  ASSERT_EQ(inc->sources.size(), 2u);
  EXPECT_EQ(inc->sources[0].article, a);
  EXPECT_EQ(inc->sources[1].article, b);
  EXPECT_EQ(inc->created, kT0);
  EXPECT_EQ(inc->updated, kT0);
  EXPECT_FALSE(inc->extraction.has_value());
  auto history = must(s.incident_history(id));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].field, "created");
  EXPECT_EQ(history[0].actor, "triage:auto");
  EXPECT_EQ(history[0].new_value, "shooting");

  IncidentDraft no_place = this->draft("robbery", day(1), "");
  no_place.lat = std::nullopt;
  no_place.lon = std::nullopt;
  const IncidentId bare = must(s.create_incident(no_place, "c", kT0));
  auto got = must(s.get_incident(bare));
  EXPECT_FALSE(got->lat.has_value());
  EXPECT_FALSE(got->case_info.has_value());
  EXPECT_TRUE(got->actors.empty());

  IncidentDraft bad = this->draft("", day(1), "");
  EXPECT_EQ(s.create_incident(bad, "c", kT0).error().field, kStoreInvalid);
  bad = this->draft("x", day(1), "");
  bad.lon = std::nullopt;
  EXPECT_EQ(s.create_incident(bad, "c", kT0).error().field, kStoreInvalid);
  bad = this->draft("x", day(1), "");
  bad.lat = 91;
  EXPECT_EQ(s.create_incident(bad, "c", kT0).error().field, kStoreInvalid);
  bad = this->draft("x", day(1), "");
  bad.confidence = 1.5;
  EXPECT_EQ(s.create_incident(bad, "c", kT0).error().field, kStoreInvalid);
  bad = this->draft("x", day(1), "");
  bad.sources = {ArticleId{999}};
  EXPECT_EQ(s.create_incident(bad, "c", kT0).error().field, kStoreConflict);
  EXPECT_EQ(must(s.list_incidents(IncidentQuery{})).total, 2);  // nothing of the failed ones stayed
  EXPECT_FALSE(must(s.get_incident(IncidentId{999})).has_value());
}

TYPED_TEST_P(StoreTest, IncidentListFiltersAndCounts) {
  auto& s = this->s();
  struct Row {
    const char* type;
    int d;
    const char* district;
    IncidentStatus status;
  };
  const std::vector<Row> rows = {
      {"shooting", 1, "Austin", IncidentStatus::kOpen},
      {"shooting", 2, "Austin", IncidentStatus::kOpen},
      {"robbery", 3, "Austin", IncidentStatus::kClosed},
      {"shooting", 4, "Loop", IncidentStatus::kOpen},
      {"assault", 5, "Loop", IncidentStatus::kRetracted},
      {"robbery", 6, "", IncidentStatus::kOpen},
      {"shooting", 20, "Garfield Park", IncidentStatus::kOpen},
  };
  std::vector<IncidentId> ids;
  for (const Row& r : rows)
    ids.push_back(
        must(s.create_incident(this->draft(r.type, day(r.d), r.district, r.status), "c", kT0)));
  const ArticleId a = this->add_article("a", "x");
  ASSERT_TRUE(must(s.add_incident_source(ids[1], a, DedupRule::kNone, "c", kT0)));

  IncidentPage all = must(s.list_incidents(IncidentQuery{}));
  EXPECT_EQ(all.total, 7);
  ASSERT_EQ(all.items.size(), 7u);
  EXPECT_EQ(all.items[0].id, ids[6]);  // newest first
  EXPECT_EQ(all.items[6].id, ids[0]);
  EXPECT_EQ(all.items[5].source_count, 1);
  EXPECT_EQ(all.items[5].type, "shooting");
  EXPECT_EQ(all.items[5].district, "Austin");
  EXPECT_DOUBLE_EQ(*all.items[5].lat, 41.8806);
  using P = std::pair<std::string, int64_t>;
  EXPECT_THAT(all.by_type,
              ::testing::ElementsAre(P{"shooting", 4}, P{"robbery", 2}, P{"assault", 1}));
  EXPECT_THAT(all.by_district, ::testing::ElementsAre(P{"Austin", 3}, P{"Loop", 2}, P{"", 1},
                                                      P{"Garfield Park", 1}));

  IncidentQuery q;
  q.from = day(2, 0);
  q.to = day(6, 0);
  IncidentPage window = must(s.list_incidents(q));
  EXPECT_EQ(window.total, 4);  // days 2..5
  EXPECT_THAT(window.by_type,
              ::testing::ElementsAre(P{"shooting", 2}, P{"assault", 1}, P{"robbery", 1}));

  q = IncidentQuery{};
  q.types = {"shooting", "robbery"};
  q.districts = {"Austin", "Loop"};
  q.statuses = {IncidentStatus::kOpen};
  IncidentPage filtered = must(s.list_incidents(q));
  EXPECT_EQ(filtered.total, 3);
  EXPECT_THAT(filtered.by_district, ::testing::ElementsAre(P{"Austin", 2}, P{"Loop", 1}));
  ASSERT_EQ(filtered.items.size(), 3u);
  EXPECT_EQ(filtered.items[0].id, ids[3]);

  q.limit = 2;
  q.offset = 2;
  IncidentPage paged = must(s.list_incidents(q));
  EXPECT_EQ(paged.total, 3);
  ASSERT_EQ(paged.items.size(), 1u);
  EXPECT_EQ(paged.items[0].id, ids[0]);

  q = IncidentQuery{};
  q.districts = {""};
  EXPECT_EQ(must(s.list_incidents(q)).total, 1);
  q.limit = 0;
  EXPECT_EQ(s.list_incidents(q).error().field, kStoreInvalid);
}

TYPED_TEST_P(StoreTest, IncidentUpdatesWriteHistory) {
  auto& s = this->s();
  const IncidentId id =
      must(s.create_incident(this->draft("shooting", day(5, 22), "Austin"), "triage:auto", kT0));
  IncidentPatch patch;
  patch.type = "homicide";
  patch.status = IncidentStatus::kClosed;
  patch.location = std::make_pair(std::optional<double>(41.9), std::optional<double>(-87.7));
  patch.district = "Austin";  // unchanged: no history line
  EXPECT_TRUE(must(s.update_incident(id, patch, "curator-1", kT0 + kHour, "victim died")));
  EXPECT_FALSE(must(s.update_incident(id, patch, "curator-1", kT0 + 2 * kHour)));
  auto inc = must(s.get_incident(id));
  EXPECT_EQ(inc->type, "homicide");
  EXPECT_EQ(inc->status, IncidentStatus::kClosed);
  EXPECT_DOUBLE_EQ(*inc->lat, 41.9);
  EXPECT_EQ(inc->updated, kT0 + kHour);
  auto history = must(s.incident_history(id));
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[1].field, "type");
  EXPECT_EQ(history[1].old_value, "shooting");
  EXPECT_EQ(history[1].new_value, "homicide");
  EXPECT_EQ(history[1].reason, "victim died");
  EXPECT_EQ(history[1].actor, "curator-1");
  EXPECT_EQ(history[1].at, kT0 + kHour);
  EXPECT_EQ(history[2].field, "location");
  EXPECT_EQ(history[2].old_value, "41.8806,-87.7257");
  EXPECT_EQ(history[2].new_value, "41.9,-87.7");
  EXPECT_EQ(history[3].field, "status");
  EXPECT_EQ(history[3].old_value, "open");
  EXPECT_EQ(history[3].new_value, "closed");

  patch = IncidentPatch{};
  patch.time = day(6, 1);
  patch.confidence = 0.95;
  patch.location = std::make_pair(std::optional<double>(), std::optional<double>());
  EXPECT_TRUE(must(s.update_incident(id, patch, "curator-2", kT0 + 3 * kHour)));
  history = must(s.incident_history(id));
  ASSERT_EQ(history.size(), 7u);
  EXPECT_EQ(history[4].field, "time");
  EXPECT_EQ(history[4].old_value, "2026-01-06T22:00:00Z");
  EXPECT_EQ(history[4].new_value, "2026-01-07T01:00:00Z");
  EXPECT_EQ(history[5].field, "location");
  EXPECT_EQ(history[5].new_value, "");
  EXPECT_EQ(history[6].field, "confidence");
  EXPECT_EQ(history[6].new_value, "0.95");
  EXPECT_FALSE(must(s.get_incident(id))->lat.has_value());

  patch = IncidentPatch{};
  patch.location = std::make_pair(std::optional<double>(1.0), std::optional<double>());
  EXPECT_EQ(s.update_incident(id, patch, "c", kT0).error().field, kStoreInvalid);
  patch = IncidentPatch{};
  patch.type = "";
  EXPECT_EQ(s.update_incident(id, patch, "c", kT0).error().field, kStoreInvalid);
  EXPECT_EQ(s.update_incident(IncidentId{999}, IncidentPatch{}, "c", kT0).error().field,
            kStoreNotFound);
}

TYPED_TEST_P(StoreTest, ReplaceDetailsAndAddSources) {
  auto& s = this->s();
  IncidentDraft d = this->draft("assault", day(8), "Loop");
  d.actors = {IncidentActor{ActorRole::kVictim, "woman, 50s"}};
  const IncidentId id = must(s.create_incident(d, "c", kT0));
  const std::vector<IncidentActor> actors = {IncidentActor{ActorRole::kVictim, "woman, 52"},
                                             IncidentActor{ActorRole::kWitness, "bus driver"}};
  const std::optional<CaseInfo> case_info =
      CaseInfo{"26-CR-9", "", {Charge{"battery", "", 1}}, "dismissed", day(40)};
  ASSERT_OK(s.replace_incident_details(id, actors, {}, case_info, "curator-1", kT0 + kHour));
  ASSERT_OK(s.replace_incident_details(id, actors, {}, case_info, "curator-1",
                                       kT0 + 2 * kHour));  // no change
  auto inc = must(s.get_incident(id));
  EXPECT_EQ(inc->actors, actors);
  EXPECT_EQ(inc->case_info, case_info);
  EXPECT_EQ(inc->updated, kT0 + kHour);
  auto history = must(s.incident_history(id));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].field, "actors");
  EXPECT_EQ(history[1].old_value, R"([{"description":"woman, 50s","role":"victim"}])");
  EXPECT_EQ(history[2].field, "case");
  EXPECT_EQ(history[2].old_value, "");
  ASSERT_OK(s.replace_incident_details(id, actors, {}, std::nullopt, "curator-1", kT0 + 3 * kHour));
  EXPECT_FALSE(must(s.get_incident(id))->case_info.has_value());

  const ArticleId dup = this->add_article("dup", "Woman attacked downtown");
  EXPECT_TRUE(
      must(s.add_incident_source(id, dup, DedupRule::kFingerprint, "dedup", kT0 + 4 * kHour)));
  EXPECT_FALSE(must(s.add_incident_source(id, dup, DedupRule::kTitle, "dedup", kT0 + 5 * kHour)));
  inc = must(s.get_incident(id));
  ASSERT_EQ(inc->sources.size(), 1u);
  EXPECT_EQ(inc->sources[0].via, DedupRule::kFingerprint);
  EXPECT_EQ(inc->sources[0].added, kT0 + 4 * kHour);
  history = must(s.incident_history(id));
  EXPECT_EQ(history.back().field, "source");
  EXPECT_EQ(history.back().new_value, std::to_string(dup.value));
  EXPECT_EQ(history.back().reason, "fingerprint");
  EXPECT_EQ(s.add_incident_source(IncidentId{999}, dup, DedupRule::kNone, "c", kT0).error().field,
            kStoreNotFound);
  EXPECT_EQ(
      s.replace_incident_details(IncidentId{999}, {}, {}, std::nullopt, "c", kT0).error().field,
      kStoreNotFound);
}

TYPED_TEST_P(StoreTest, TriageSettingsAreVersioned) {
  auto& s = this->s();
  EXPECT_FALSE(must(s.current_triage_settings()).has_value());
  EXPECT_EQ(must(s.save_triage_settings(R"({"approve":0.85,"review":0.5})", "admin-1", kT0)), 1);
  EXPECT_EQ(must(s.save_triage_settings(
                R"({"approve":0.85,"review":0.5,"categories":{"enforcement":0.9}})", "admin-2",
                kT0 + kHour)),
            2);
  auto current = must(s.current_triage_settings());
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->version, 2);
  EXPECT_EQ(current->author, "admin-2");
  EXPECT_EQ(current->at, kT0 + kHour);
  EXPECT_EQ(current->settings_json,
            R"({"approve":0.85,"review":0.5,"categories":{"enforcement":0.9}})");
  auto history = must(s.triage_settings_history(10));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].version, 1);
  EXPECT_EQ(history[1].author, "admin-1");
  EXPECT_EQ(s.save_triage_settings("[1,2]", "admin-1", kT0).error().field, kStoreInvalid);
  EXPECT_EQ(s.save_triage_settings("{", "admin-1", kT0).error().field, kStoreInvalid);
  EXPECT_EQ(must(s.triage_settings_history(10)).size(), 2u);
}

TYPED_TEST_P(StoreTest, JobRowsClaimFenceAndDedup) {
  auto& s = this->s();
  const auto enqueue = [&](const std::string& queue, const std::string& key, WallTime run_at) {
    return must(s.enqueue_job(NewJob{queue, R"({"feed":1})", key, run_at, kT0}));
  };
  const JobEnqueue j1 = enqueue("fetch", "feed:1", kT0 + kMinute);
  const JobEnqueue j2 = enqueue("fetch", "", kT0);
  const JobEnqueue j3 = enqueue("fetch", "", kT0);
  EXPECT_TRUE(j1.created);
  const JobEnqueue again = enqueue("fetch", "feed:1", kT0);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.id, j1.id);
  EXPECT_TRUE(enqueue("enrich", "feed:1", kT0).created);  // keys are per queue
  EXPECT_EQ(s.enqueue_job(NewJob{"", "", "", kT0, kT0}).error().field, kStoreInvalid);

  // Earliest run_at first, then the smaller id; nothing before its run_at.
  auto c1 = must(s.claim_job("fetch", "w1", kT0, kT0 + kMinute, 10));
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->id, j2.id);
  EXPECT_EQ(c1->state, JobState::kRunning);
  EXPECT_EQ(c1->attempts, 1u);
  EXPECT_EQ(c1->worker, "w1");
  EXPECT_EQ(c1->lease_until, kT0 + kMinute);
  EXPECT_EQ(c1->payload, R"({"feed":1})");
  auto c2 = must(s.claim_job("fetch", "w2", kT0, kT0 + kMinute, 10));
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->id, j3.id);
  EXPECT_FALSE(must(s.claim_job("fetch", "w3", kT0, kT0 + kMinute, 10)).has_value());
  // Concurrency: two running, limit two.
  EXPECT_FALSE(must(s.claim_job("fetch", "w3", kT0 + kMinute, kT0 + 2 * kMinute, 2)).has_value());
  auto c3 = must(s.claim_job("fetch", "w3", kT0 + kMinute, kT0 + 2 * kMinute, 3));
  ASSERT_TRUE(c3.has_value());
  EXPECT_EQ(c3->id, j1.id);
  EXPECT_EQ(c3->dedup_key, "feed:1");

  // While feed:1 runs, enqueueing it again returns it; once done, a new one is made.
  EXPECT_EQ(enqueue("fetch", "feed:1", kT0).id, j1.id);
  const JobTransition done{JobState::kDone, c3->run_at,       WallTime{}, "",
                           std::nullopt,    kT0 + 2 * kMinute};
  EXPECT_FALSE(
      must(s.transition_job(j1.id, JobState::kRunning, 2, done)));          // wrong attempt: fenced
  EXPECT_FALSE(must(s.transition_job(j1.id, JobState::kQueued, 1, done)));  // wrong state: fenced
  EXPECT_TRUE(must(s.transition_job(j1.id, JobState::kRunning, 1, done)));
  EXPECT_FALSE(must(s.transition_job(j1.id, JobState::kRunning, 1, done)));
  const JobEnqueue fresh = enqueue("fetch", "feed:1", kT0 + kHour);
  EXPECT_TRUE(fresh.created);
  EXPECT_NE(fresh.id, j1.id);
  EXPECT_EQ(must(s.next_job_due("fetch")), kT0 + kHour);
  EXPECT_EQ(must(s.next_job_due("extract")), std::nullopt);

  // Leases: extend under the fence; expired ones are listed oldest first.
  EXPECT_TRUE(must(s.extend_job_lease(c2->id, 1, kT0 + 10 * kMinute)));
  EXPECT_FALSE(must(s.extend_job_lease(c2->id, 2, kT0 + 10 * kMinute)));
  auto expired = must(s.expired_jobs(kT0 + 5 * kMinute, 10));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, c1->id);
  EXPECT_EQ(must(s.expired_jobs(kT0 + 10 * kMinute, 10)).size(), 2u);

  const JobTransition retry{JobState::kQueued, kT0 + 20 * kMinute,      WallTime{},
                            "HTTP 503",        FailureKind::kTransient, kT0 + 3 * kMinute};
  EXPECT_TRUE(must(s.transition_job(c1->id, JobState::kRunning, 1, retry)));
  auto job = must(s.get_job(c1->id));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->last_error, "HTTP 503");
  EXPECT_EQ(job->last_failure, FailureKind::kTransient);
  EXPECT_EQ(job->run_at, kT0 + 20 * kMinute);
  EXPECT_EQ(job->updated, kT0 + 3 * kMinute);
  EXPECT_EQ(job->attempts, 1u);
  auto reclaimed = must(s.claim_job("fetch", "w4", kT0 + 20 * kMinute, kT0 + 21 * kMinute, 10));
  ASSERT_TRUE(reclaimed.has_value());
  EXPECT_EQ(reclaimed->id, c1->id);
  EXPECT_EQ(reclaimed->attempts, 2u);

  auto counts = must(s.job_counts());
  std::map<std::pair<std::string, JobState>, int64_t> by;
  for (const auto& c : counts) by[{c.queue, c.state}] = c.count;
  EXPECT_EQ((by[{"fetch", JobState::kRunning}]), 2);
  EXPECT_EQ((by[{"fetch", JobState::kDone}]), 1);
  EXPECT_EQ((by[{"fetch", JobState::kQueued}]), 1);
  EXPECT_EQ((by[{"enrich", JobState::kQueued}]), 1);

  auto listed = must(s.list_jobs(JobListQuery{std::string("fetch"), JobState::kRunning, 10}));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, c1->id);  // most recently updated first
  EXPECT_EQ(must(s.list_jobs(JobListQuery{})).size(), 5u);

  EXPECT_EQ(must(s.purge_jobs(JobState::kDone, kT0 + 2 * kMinute)), 0);
  EXPECT_EQ(must(s.purge_jobs(JobState::kDone, kT0 + 2 * kMinute + Millis(1))), 1);
  EXPECT_FALSE(must(s.get_job(j1.id)).has_value());
  EXPECT_EQ(s.purge_jobs(JobState::kRunning, kT0 + kHour).error().field, kStoreInvalid);
}

TYPED_TEST_P(StoreTest, ConcurrentClaimsAcrossHandlesHonourTheLimit) {
  constexpr int kJobs = 40;
  constexpr uint32_t kLimit = 3;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(this->s().enqueue_job(NewJob{"extract", std::to_string(i), "", kT0, kT0}).ok());
  }
  std::vector<std::unique_ptr<IncidentStore>> handles;
  handles.push_back(this->backend_.open());
  handles.push_back(this->backend_.open());
  std::atomic<int> in_flight{0}, max_in_flight{0};
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::vector<std::thread> workers;
  std::atomic<bool> failed{false};
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      IncidentStore& s = *handles[static_cast<size_t>(w % 2)];
      int idle = 0;
      while (idle < 200 && !failed) {
        auto job = s.claim_job("extract", "w" + std::to_string(w), kT0, kT0 + kHour, kLimit);
        if (!job.ok()) {
          if (job.error().field == kStoreUnavailable) continue;  // busy past the timeout: retry
          failed = true;
          ADD_FAILURE() << job.error().to_string();
          return;
        }
        if (!job->has_value()) {
          ++idle;
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        const int now = ++in_flight;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        {
          std::lock_guard lock(mu);
          claimed.insert((*job)->id.value);
        }
        --in_flight;  // before the row leaves "running", so never above the store's count
        const JobTransition done{JobState::kDone, kT0, WallTime{}, "", std::nullopt, kT0};
        for (;;) {
          auto moved = s.transition_job((*job)->id, JobState::kRunning, (*job)->attempts, done);
          if (moved.ok()) {
            EXPECT_TRUE(*moved);
            break;
          }
          if (moved.error().field != kStoreUnavailable) {
            failed = true;
            ADD_FAILURE() << moved.error().to_string();
            return;
          }
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kJobs));  // once each
  EXPECT_LE(max_in_flight.load(), static_cast<int>(kLimit));
  auto counts = must(this->s().job_counts());
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].state, JobState::kDone);
  EXPECT_EQ(counts[0].count, kJobs);
}

REGISTER_TYPED_TEST_SUITE_P(StoreTest, MigrationsAppliedOnceInOrder,
                            FeedLifecycleWithConditionalGetValidators,
                            ArticleStoredOnceUnderCanonicalUrl, EnrichmentAndDedupVerdict,
                            ArticlePagesAndFingerprints, SimilarTitlesFollowPgTrgm,
                            RefusesTextThatIsNotUtf8, ExtractionsWithTriage,
                            CurationQueueApproveRejectCorrect, IncidentWithActorsEventsAndCase,
                            IncidentListFiltersAndCounts, IncidentUpdatesWriteHistory,
                            ReplaceDetailsAndAddSources, TriageSettingsAreVersioned,
                            JobRowsClaimFenceAndDedup, ConcurrentClaimsAcrossHandlesHonourTheLimit);

}  // namespace sentinel::intel::testing
