// The intel runtime as `sentinel run` builds it from the configuration:
// which extraction provider each `intel.extraction` mode makes, against a
// local server speaking the LLM APIs (tests/unit/intel/llm_test_server.h).
#include "server/intel_runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../intel/llm_test_server.h"
#include "intel/intel_service.h"
#include "intel/store.h"

namespace sentinel {
namespace intel_runtime_test {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kArticle[] =
    "A 24-year-old man was shot and wounded Tuesday night in the 1300 block of West 63rd Street in "
    "Englewood, police said. No arrests were made.";

class IntelRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sentinel-intel-rt-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_.city.time_zone = "America/Chicago";
    config_.intel.enabled = true;
    config_.intel.gazetteer = {std::string(SENTINEL_SOURCE_DIR) + "/examples/intel/gazetteer/chicago_community_areas.tsv",
                               std::string(SENTINEL_SOURCE_DIR) + "/examples/intel/gazetteer/chicago_streets.tsv"};
    config_.intel.home_regions = {"CHICAGO"};
    config_.intel.enrich_min_chars = 0;
    config_.intel.llm_kind = "openai";
    config_.intel.llm_base_url = server_.base_url();
    config_.intel.llm_model = "local-model";
    config_.intel.llm_timeout = Millis(5'000);
  }
  void TearDown() override {
    server_.stop();
    fs::remove_all(dir_);
  }

  /// Stores an article, queues its extraction and runs it.
  std::vector<intel::StoredExtraction> extract_one(IntelRuntime& rt) {
    intel::NewArticle a;
    a.canonical_url = a.url = "https://news.example/a/1";
    a.title = "Man wounded in Englewood shooting";
    a.text = kArticle;
    a.published = event_time_from_ms(1772636400000);
    a.fetched = intel::wall_now();
    auto id = rt.store->insert_article(a);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(rt.service->jobs().enqueue(intel::JobKind::kExtract, json{{"article", id.value().id.value}}.dump()).ok());
    auto ran = rt.service->run_one(intel::JobKind::kExtract);
    EXPECT_TRUE(ran.ok() && ran.value());
    auto rows = rt.store->extractions_for_article(id.value().id);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows.value() : std::vector<intel::StoredExtraction>{};
  }

  fs::path dir_;
  Config config_;
  intel::testing::FakeLlmServer server_;
};

TEST_F(IntelRuntimeTest, BuiltinIsTheDefaultAndNeedsNoNetwork) {
  config_.intel.extraction = "builtin";
  IntelRuntime rt = make_intel_runtime(config_, dir_.string(), {});
  EXPECT_EQ(rt.provider->name(), "builtin");
  auto rows = extract_one(rt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].provider, "builtin");
  EXPECT_EQ(server_.request_count(), 0u);
}

TEST_F(IntelRuntimeTest, AnLlmAnswersAndATransientOutageFallsBackToTheBuiltinExtractor) {
  config_.intel.extraction = "llm";
  IntelRuntime rt = make_intel_runtime(config_, dir_.string(), {});
  server_.push(intel::testing::openai_reply(
      R"({"type":"shooting","time":"2026-03-03","place":"Englewood","actors":[{"role":"victim","description":"man, 24"}],)"
      R"("perpetrator_org":null,"targets":[],"confidence":0.9})"));
  auto first = extract_one(rt);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].provider, "openai");
  const json fields = json::parse(first[0].result_json)["incidents"][0];
  EXPECT_EQ(fields["type"], "shooting");
  EXPECT_EQ(fields["district"], "Englewood") << "places are geocoded by the gazetteer, not the model";

  // The server is down (503): the chain moves on to the built-in extractor.
  server_.respond([](const intel::testing::Recorded&) { return intel::testing::error_reply(503, "unavailable", "down"); });
  intel::NewArticle b;
  b.canonical_url = b.url = "https://news.example/a/2";
  b.title = "Second article";
  b.text = kArticle;
  b.fetched = intel::wall_now();
  auto id = rt.store->insert_article(b);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(rt.service->jobs().enqueue(intel::JobKind::kExtract, json{{"article", id.value().id.value}}.dump()).ok());
  ASSERT_TRUE(rt.service->run_one(intel::JobKind::kExtract).ok());
  auto rows = rt.store->extractions_for_article(id.value().id);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows.value().size(), 1u);
  EXPECT_EQ(rows.value()[0].provider, "builtin");
}

TEST_F(IntelRuntimeTest, AMalformedAnswerIsAFailureNotData) {
  config_.intel.extraction = "llm";
  IntelRuntime rt = make_intel_runtime(config_, dir_.string(), {});
  server_.push(intel::testing::openai_reply(R"({"type":"shooting","confidence":"very"})"));
  auto rows = extract_one(rt);
  EXPECT_TRUE(rows.empty()) << "a permanent failure does not fall back and stores nothing";
  auto dead = rt.store->list_jobs({std::string("extract"), intel::JobState::kDead, 10});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead.value().size(), 1u);
  EXPECT_NE(dead.value()[0].last_error.find("extraction"), std::string::npos) << dead.value()[0].last_error;
}

TEST_F(IntelRuntimeTest, TwoStageModeStoresBothStagesAndTheSelectedResult) {
  config_.intel.extraction = "two_stage";
  IntelRuntime rt = make_intel_runtime(config_, dir_.string(), {});
  EXPECT_EQ(rt.provider->name(), "two_stage");
  server_.respond([](const intel::testing::Recorded& r) {
    const json body = r.json();
    const std::string system = body["messages"][0]["content"].get<std::string>();
    if (system.find("stage-1 intermediate") != std::string::npos) {
      return intel::testing::openai_reply(
          R"({"entities":[{"id":"e1","kind":"person","text":"a 24-year-old man","role":"victim"}],)"
          R"("events":[{"id":"v1","description":"a man was shot","time":"2026-03-03","place":"Englewood","participants":["e1"]}],)"
          R"("legal":[],"quotes":[],"classification":{"is_incident_report":true,"domains":["crime"],"confidence":0.8}})");
    }
    return intel::testing::openai_reply(
        R"({"domain":"crime","incidents":[{"type":"shooting","time":"2026-03-03","place":"Englewood",)"
        R"("actors":[],"perpetrator_org":null,"targets":[],"confidence":0.9}]})");
  });
  auto rows = extract_one(rt);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].stage, "stage1");
  EXPECT_EQ(rows[1].stage, "stage2");
  EXPECT_NE(rows[1].result_json.find("selector"), std::string::npos);
  EXPECT_EQ(rows[2].stage, "selected");
  EXPECT_EQ(json::parse(rows[2].result_json)["incidents"][0]["type"], "shooting");
}

TEST_F(IntelRuntimeTest, BadSettingsAreRefusedNamingTheKey) {
  config_.intel.extraction = "llm";
  config_.intel.llm_model = "";
  try {
    (void)make_intel_runtime(config_, dir_.string(), {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("intel.llm_model"), std::string::npos) << e.what();
  }
  config_.intel.llm_model = "m";
  config_.intel.llm_kind = "anthropic";
  config_.intel.llm_api_key_env = "SENTINEL_TEST_UNSET_KEY_VARIABLE";
  ::unsetenv("SENTINEL_TEST_UNSET_KEY_VARIABLE");
  EXPECT_THROW((void)make_intel_runtime(config_, dir_.string(), {}), std::runtime_error);
  config_.intel.extraction = "builtin";
  config_.intel.store = "postgres";
  config_.intel.postgres_env = "SENTINEL_TEST_UNSET_PG";
  ::unsetenv("SENTINEL_TEST_UNSET_PG");
  try {
    (void)make_intel_runtime(config_, dir_.string(), {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("SENTINEL_TEST_UNSET_PG"), std::string::npos) << e.what();
  }
}

}  // namespace intel_runtime_test
}  // namespace sentinel
