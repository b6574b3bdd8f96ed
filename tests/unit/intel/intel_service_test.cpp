// IntelService end to end on one thread: a real feed served over loopback
// HTTP, the SQLite store, the built-in extractor over the Chicago
// gazetteer, dedup, triage, curation and the platform events it emits.
#include "intel/intel_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "intel/builtin_extractor.h"
#include "intel/extraction_json.h"
#include "intel/sqlite_store.h"
#include "net/http_server.h"

namespace sentinel::intel {
namespace intel_service_test {

using nlohmann::json;

const std::string kSource = SENTINEL_SOURCE_DIR;

// Synthetic local-news items (no real people). The second is a syndicated
// copy of the first under another URL; the third's link differs from the
// first only by tracking parameters; the fourth is a snippet whose page the
// enricher supplies.
constexpr const char* kShooting =
    "A 24-year-old man was shot and wounded Tuesday night in the 1300 block of West 63rd Street in "
    "Englewood, police said. The man was standing on the sidewalk about 10:40 p.m. when a gunman in a "
    "passing car opened fire, striking him in the leg. He was taken to a hospital in good condition. "
    "No arrests were made and detectives are investigating. Area detectives asked anyone with "
    "information to contact the police department.";

std::string feed_xml() {
  std::string items;
  auto item = [&](std::string title, std::string link, std::string text) {
    items += "<item><title>" + title + "</title><link>" + link + "</link><pubDate>Wed, 04 Mar 2026 09:00:00 -0600" +
             "</pubDate><description>" + text + "</description></item>";
  };
  item("Man wounded in Englewood shooting", "https://news.example/a/englewood-shooting", kShooting);
  item("Englewood man shot on 63rd Street, police say", "https://wire.example/stories/1234", kShooting);
  item("Man wounded in Englewood shooting", "https://news.example/a/englewood-shooting?utm_source=rss#top", kShooting);
  item("Robbery reported in Austin", "https://news.example/a/austin-robbery", "A robbery in Austin.");
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Local news</title>" + items +
         "</channel></rss>";
}

class IntelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("intel_service_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open_sqlite_store({(dir_ / "intel.db").string()});

    net::HttpServerOptions so;
    server_ = std::make_unique<net::HttpServer>(so);
    server_->route("GET", "/feed.xml", [this](net::HttpRequest& req) {
      ++feed_requests_;
      net::HttpResponse r;
      if (req.header("if-none-match") == "\"v1\"") {
        r.status = 304;
        return r;
      }
      r.content_type = "application/rss+xml; charset=utf-8";
      r.headers.emplace_back("ETag", "\"v1\"");
      r.body = feed_xml();
      return r;
    });
    server_->route("GET", "/missing.xml", [](net::HttpRequest&) {
      net::HttpResponse r;
      r.status = 404;
      r.body = "{}";
      return r;
    });
    server_->start();

    Gazetteer g = Gazetteer::load({kSource + "/examples/intel/gazetteer/chicago_community_areas.tsv",
                                   kSource + "/examples/intel/gazetteer/chicago_streets.tsv"});
    BuiltinExtractorOptions xo;
    xo.home_regions = {"CHICAGO"};
    xo.utc_offset_minutes = [](int64_t) { return -360; };
    extractor_ = std::make_unique<BuiltinExtractor>(std::make_shared<const Gazetteer>(std::move(g)), xo);
  }

  void TearDown() override {
    service_.reset();
    server_->stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// Rules that send everything with an incident to `outcome`.
  static TriageRules rules_for(std::string_view outcome) {
    TriageRules r;
    r.categories.clear();
    r.incident_types.clear();
    if (outcome == "approve") {
      r.approve = 0.01;
      r.reject = 0.0;
    } else {
      r.approve = 1.0;
      r.reject = 0.0;
    }
    return r;
  }

  void make_service(TriageRules rules) {
    IntelServiceOptions o;
    o.worker_name = "test";
    o.fetch.max_attempts = 1;
    o.enrich_min_chars = 100;  // the snippet only
    IntelCallbacks cb;
    cb.on_platform_event = [this](std::string_view e) {
      std::lock_guard lock(mutex_);
      events_.emplace_back(e);
    };
    cb.on_job_event = [this](const JobEvent&) { ++job_events_; };
    service_ = std::make_unique<IntelService>(
        *store_, *extractor_, std::move(rules), o, cb, [this](const StoredArticle& a) -> Result<std::string> {
          ++page_requests_;
          if (a.title.find("Austin") == std::string::npos) return Error{"enrich.permanent", "unexpected page"};
          return std::string(
              "Two men robbed a convenience store at gunpoint Monday evening in the Austin neighborhood, "
              "police said. The men entered the store in the 5000 block of West Madison Street about 8 p.m., "
              "displayed a handgun and demanded cash from the clerk, who was not hurt. The robbers fled on "
              "foot with an undisclosed amount of money. No one is in custody and area detectives are "
              "investigating the armed robbery.");
        });
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  /// Runs queued jobs of every queue until none is left.
  void drain() {
    for (int guard = 0; guard < 100; ++guard) {
      bool ran = false;
      for (JobKind k : {JobKind::kFetch, JobKind::kEnrich, JobKind::kExtract}) {
        auto r = service_->run_one(k);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        ran |= r.value();
      }
      if (!ran) return;
    }
    FAIL() << "jobs kept coming";
  }

  std::filesystem::path dir_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<BuiltinExtractor> extractor_;
  std::unique_ptr<IntelService> service_;
  std::atomic<int> feed_requests_{0}, page_requests_{0}, job_events_{0};
  std::mutex mutex_;
  std::vector<std::string> events_;
};

TEST_F(IntelServiceTest, FeedToIncidentsWithDedupEnrichmentAndPlatformEvents) {
  make_service(rules_for("approve"));
  auto feed = service_->add_feed({url("/feed.xml"), "Local news", Millis(3'600'000)});
  ASSERT_TRUE(feed.ok()) << feed.error().to_string();
  ASSERT_TRUE(service_->schedule_due_feeds().ok());
  drain();

  // Four entries, three articles: the tracking-parameter copy is the same URL.
  auto count = store_->article_count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count.value(), 3);
  const IntelMetrics m = service_->metrics();
  EXPECT_EQ(m.entries_seen, 4u);
  EXPECT_EQ(m.articles_stored, 3u);
  EXPECT_EQ(m.extracted, 3u);
  EXPECT_EQ(m.enriched, 1u);  // only the snippet
  EXPECT_EQ(page_requests_.load(), 1);
  EXPECT_EQ(m.duplicates_fingerprint + m.duplicates_title, 1u);

  // The shooting and the robbery became incidents; the wire copy is a source of the first.
  auto page = store_->list_incidents({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page.value().items.size(), 2u);
  std::optional<IncidentSummary> shooting;
  for (const auto& s : page.value().items) {
    if (s.type == "shooting") shooting = s;
  }
  ASSERT_TRUE(shooting) << "types: " << page.value().items[0].type << ", " << page.value().items[1].type;
  EXPECT_EQ(shooting->district, "Englewood");
  EXPECT_EQ(shooting->source_count, 2);
  auto incident = store_->get_incident(shooting->id);
  ASSERT_TRUE(incident.ok() && incident.value());
  ASSERT_EQ(incident.value()->sources.size(), 2u);
  EXPECT_NE(incident.value()->sources[1].via, DedupRule::kNone);

  // One platform event per incident, shaped for the alert pipeline.
  std::lock_guard lock(mutex_);
  ASSERT_EQ(events_.size(), 2u);
  bool saw_shooting = false;
  for (const std::string& e : events_) {
    const json j = json::parse(e);
    EXPECT_EQ(j["specversion"], "1.0");
    EXPECT_EQ(j["source"], "platform");
    EXPECT_TRUE(j["type"].get<std::string>().starts_with("platform.incident."));
    EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
    if (j["type"] == "platform.incident.shooting") {
      saw_shooting = true;
      EXPECT_EQ(j["severity"], "violent");
      EXPECT_EQ(j["id"], "incident-" + std::to_string(shooting->id.value));
      EXPECT_NEAR(j["lat"].get<double>(), 41.78, 0.05);
    }
  }
  EXPECT_TRUE(saw_shooting);
  EXPECT_GT(job_events_.load(), 0);
}

TEST_F(IntelServiceTest, ConditionalGetAnswers304TheSecondTime) {
  make_service(rules_for("approve"));
  auto feed = service_->add_feed({url("/feed.xml"), "Local news", Millis(3'600'000)});
  ASSERT_TRUE(feed.ok());
  ASSERT_TRUE(service_->schedule_due_feeds().ok());
  drain();
  auto job = service_->fetch_now(feed.value().id);
  ASSERT_TRUE(job.ok()) << job.error().to_string();
  drain();
  EXPECT_EQ(feed_requests_.load(), 2);
  EXPECT_EQ(service_->metrics().fetches_not_modified, 1u);
  auto f = store_->get_feed(feed.value().id);
  ASSERT_TRUE(f.ok() && f.value());
  EXPECT_EQ(f.value()->etag, "\"v1\"");
  EXPECT_EQ(f.value()->status, FeedStatus::kActive);
}

TEST_F(IntelServiceTest, CuratorApprovesWithCorrectionsAndRejectsWithAReason) {
  make_service(rules_for("review"));
  ASSERT_TRUE(service_->add_feed({url("/feed.xml"), "Local news", Millis(3'600'000)}).ok());
  ASSERT_TRUE(service_->schedule_due_feeds().ok());
  drain();
  CurationQuery q;
  auto queue = store_->curation_page(q);
  ASSERT_TRUE(queue.ok());
  // Three extractions, all for review (the copy shows its match).
  ASSERT_EQ(queue.value().items.size(), 3u);
  EXPECT_TRUE(events_.empty());
  const CurationItemView& first = queue.value().items[0];
  const CurationItemView& copy = queue.value().items[1];
  EXPECT_NE(copy.article.dedup.rule, DedupRule::kNone);
  ASSERT_TRUE(copy.article.dedup.article.has_value());
  EXPECT_EQ(copy.article.dedup.article->value, first.article.id.value);

  CurationCorrections c;
  c.district = "WEST ENGLEWOOD";
  c.actors = std::vector<IncidentActor>{{ActorRole::kVictim, "man, 24"}};
  auto incident = service_->approve(first.item.id, c, "curator-1", "checked against the police blotter");
  ASSERT_TRUE(incident.ok()) << incident.error().to_string();
  auto stored = store_->get_incident(incident.value());
  ASSERT_TRUE(stored.ok() && stored.value());
  EXPECT_EQ(stored.value()->district, "WEST ENGLEWOOD");
  ASSERT_EQ(stored.value()->actors.size(), 1u);
  EXPECT_EQ(stored.value()->actors[0].description, "man, 24");
  auto item = store_->get_curation_item(first.item.id);
  ASSERT_TRUE(item.ok() && item.value());
  EXPECT_EQ(item.value()->item.state, CurationState::kApproved);
  int corrections = 0;
  for (const CurationAction& a : item.value()->actions) {
    corrections += a.kind == CurationActionKind::kCorrect;
    EXPECT_EQ(a.actor, "curator-1");
  }
  EXPECT_EQ(corrections, 2);
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(events_.size(), 1u);
  }
  // Deciding twice is refused; rejecting needs a reason.
  EXPECT_FALSE(service_->approve(first.item.id, {}, "curator-1", "").ok());
  Status no_reason = service_->reject(copy.item.id, "  ", "curator-1");
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().field, "reason");
  EXPECT_TRUE(service_->reject(copy.item.id, "same story as item 1", "curator-1").ok());
  CurationCorrections bad;
  bad.type = "alien_invasion";
  auto refused = service_->approve(queue.value().items[2].item.id, bad, "curator-1", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "corrections.type");
}

TEST_F(IntelServiceTest, TriageRulesAreVersionedAndValidated) {
  make_service(default_triage_rules());
  service_->start();
  auto v1 = service_->triage_settings();
  ASSERT_TRUE(v1.ok()) << v1.error().to_string();
  EXPECT_EQ(v1.value().version, 1);
  EXPECT_EQ(v1.value().author, "config");
  auto bad = service_->set_triage_rules(R"({"approve":0.4,"reject":0.6})", "admin-1");
  ASSERT_FALSE(bad.ok());
  auto v2 = service_->set_triage_rules(R"({"approve":0.8,"reject":0.4})", "admin-1");
  ASSERT_TRUE(v2.ok()) << v2.error().to_string();
  EXPECT_EQ(v2.value().version, 2);
  EXPECT_EQ(v2.value().author, "admin-1");
  service_->stop();
  // A restart keeps the saved version, not the configuration's.
  service_.reset();
  make_service(default_triage_rules());
  service_->start();
  auto again = service_->triage_settings();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().version, 2);
}

TEST_F(IntelServiceTest, AFeedThatFailsIsMarkedAndItsJobDies) {
  make_service(rules_for("approve"));
  auto feed = service_->add_feed({url("/missing.xml"), "Gone", Millis(3'600'000)});
  ASSERT_TRUE(feed.ok());
  ASSERT_TRUE(service_->schedule_due_feeds().ok());
  drain();
  auto f = store_->get_feed(feed.value().id);
  ASSERT_TRUE(f.ok() && f.value());
  EXPECT_EQ(f.value()->status, FeedStatus::kFailing);
  EXPECT_NE(f.value()->last_error.find("404"), std::string::npos) << f.value()->last_error;
  auto dead = store_->list_jobs({std::string("fetch"), JobState::kDead, 10});
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead.value().size(), 1u);
  // Bad feed URLs are refused at the door.
  EXPECT_FALSE(service_->add_feed({"file:///etc/passwd", "x", Millis(3'600'000)}).ok());
}

TEST_F(IntelServiceTest, ThreadsProcessAFeedAndStopCleanly) {
  make_service(rules_for("approve"));
  service_->start();
  ASSERT_TRUE(service_->add_feed({url("/feed.xml"), "Local news", Millis(3'600'000)}).ok());
  for (int i = 0; i < 500; ++i) {
    if (service_->metrics().extracted >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  service_->stop();
  EXPECT_EQ(service_->metrics().extracted, 3u);
}

TEST_F(IntelServiceTest, AJobLeftRunningByACrashedWorkerIsRecoveredAtStart) {
  make_service(rules_for("approve"));
  NewArticle a;
  a.canonical_url = a.url = "https://news.example/a/crash";
  a.title = "Man wounded in Englewood shooting";
  a.text = kShooting;
  a.fetched = wall_now();
  auto id = store_->insert_article(a);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(service_->jobs().enqueue(JobKind::kExtract, json{{"article", id.value().id.value}}.dump()).ok());
  // A worker claims the job and dies: its lease runs out with the job still running.
  auto claimed = service_->jobs().claim(JobKind::kExtract, "crashed-worker", Millis(1));
  ASSERT_TRUE(claimed.ok() && claimed.value());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  service_.reset();
  make_service(rules_for("approve"));
  service_->start();
  for (int i = 0; i < 500 && service_->metrics().extracted < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  service_->stop();
  EXPECT_EQ(service_->metrics().extracted, 1u);
  auto job = store_->get_job(claimed.value()->id);
  ASSERT_TRUE(job.ok() && job.value());
  EXPECT_EQ(job.value()->state, JobState::kDone);
  EXPECT_EQ(job.value()->attempts, 2u);
}

}  // namespace intel_service_test
}  // namespace sentinel::intel
