// TwoStageExtractor against the local API server: stage 1 (intermediate
// representation), stage 2 per classified domain, the selector's choice and
// merge, different providers per stage, and both stages stored.
#include "intel/llm_two_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "intel/llm_schema.h"
#include "intel/sqlite_store.h"
#include "llm_test_server.h"

namespace sentinel::intel {
namespace llm_two_stage_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeLlmServer;
using testing::Recorded;
using testing::Reply;

constexpr char kKeyEnv[] = "SENTINEL_TEST_TWO_STAGE_KEY";

std::string stage1(const std::string& domains, bool incident = true) {
  return R"({"entities":[{"id":"e1","kind":"person","text":"a 17-year-old man","role":"victim"},
    {"id":"e2","kind":"person","text":"a 20-year-old man","role":"suspect"},
    {"id":"e3","kind":"organisation","text":"Chicago police","role":"agency"}],
   "events":[{"id":"v1","description":"a man was shot","time":"2024-03-02","place":"Englewood","participants":["e1","e2"]}],
   "legal":[{"kind":"arrest","description":"suspect arrested","subjects":["e2"]}],
   "quotes":[{"speaker":"police","text":"We made an arrest."}],
   "classification":{"is_incident_report":)" +
         std::string(incident ? "true" : "false") + R"(,"domains":)" + domains + R"(,"confidence":0.8}})";
}

std::string domain_answer(const std::string& domain, const std::string& type, double confidence,
                          const std::string& place = "null") {
  return R"({"domain":")" + domain + R"(","incidents":[{"type":")" + type +
         R"(","time":"2024-03-02","place":)" + place +
         R"(,"actors":[],"perpetrator_org":null,"targets":[],"confidence":)" + std::to_string(confidence) + "}]}";
}

// Which call a request is: stage 1, or stage 2 of a domain.
std::string call_of(const Recorded& r) {
  std::string system;
  nlohmann::json body = r.json();
  if (body.contains("system")) {
    system = body["system"].get<std::string>();
  } else {
    system = body["messages"][0]["content"].get<std::string>();
  }
  if (system.find("stage-1 intermediate") != std::string::npos) return "stage1";
  for (auto d : domain_names()) {
    if (system.find("the domain \"" + std::string(d) + "\"") != std::string::npos) return std::string(d);
  }
  return "?";
}

ArticleText article() {
  static const std::string text = "A 17-year-old man was shot in Englewood on Saturday; police arrested a suspect.";
  return ArticleText{"Teen shot, suspect held", text, 1709510400000, "https://news.example/a"};
}

class TwoStageTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kKeyEnv, "k-2", 1); }
  void TearDown() override { ::unsetenv(kKeyEnv); }

  std::shared_ptr<LlmProvider> provider(const std::string& kind, FakeLlmServer& server) {
    LlmProviderOptions o;
    o.kind = kind;
    o.base_url = server.base_url();
    o.model = "m";
    o.api_key_env = kKeyEnv;
    o.timeout = 5s;
    return make_llm_provider(o);
  }

  // Anthropic answers: stage 1, then per domain from `answers`.
  void script(FakeLlmServer& server, bool anthropic, std::string s1, std::map<std::string, std::string> answers) {
    server.respond([=](const Recorded& r) {
      std::string call = call_of(r);
      std::string text = call == "stage1" ? s1 : (answers.count(call) ? answers.at(call) : std::string("{}"));
      return anthropic ? testing::anthropic_reply(text) : testing::openai_reply(text);
    });
  }

  FakeLlmServer anthropic_;
  FakeLlmServer openai_;
};

TEST_F(TwoStageTest, RunsClassifiedDomainsAndSelectsByPriorityThenConfidence) {
  script(anthropic_, true, stage1(R"(["crime","enforcement"])"),
         {{"crime", domain_answer("crime", "shooting", 0.8, "\"Englewood\"")},
          {"enforcement", domain_answer("enforcement", "arrest", 0.95)}});
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p);
  Result<TwoStageResult> r = x.run(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();

  // Stage 1 once, then crime and enforcement; political_violence was not classified.
  std::vector<std::string> calls;
  for (const auto& req : anthropic_.requests()) calls.push_back(call_of(req));
  EXPECT_THAT(calls, ElementsAre("stage1", "crime", "enforcement"));
  // Stage 2 sees the stage-1 JSON, not the article.
  nlohmann::json crime_req = anthropic_.requests()[1].json();
  std::string user = crime_req["messages"][0]["content"].get<std::string>();
  EXPECT_THAT(user, HasSubstr("\"classification\""));
  EXPECT_THAT(user, HasSubstr("Published: 2024-03-04T00:00:00Z"));

  const TwoStageResult& t = *r;
  EXPECT_EQ(t.stage1_provider, "anthropic");
  EXPECT_EQ(t.stage2_provider, "anthropic");
  EXPECT_EQ(nlohmann::json::parse(t.stage1_json)["legal"][0]["kind"], "arrest");
  EXPECT_EQ(t.choice.domain, "crime");
  EXPECT_EQ(t.choice.type, "shooting");
  EXPECT_DOUBLE_EQ(t.choice.confidence, 0.8);
  EXPECT_EQ(t.choice.reason, "domain priority");  // enforcement was more confident
  EXPECT_THAT(t.choice.ranked, ElementsAre("crime/shooting/0.80", "enforcement/arrest/0.95"));
  ASSERT_EQ(t.extraction.incidents.size(), 2u);
  EXPECT_EQ(t.extraction.incidents[0].type, IncidentType::kShooting);
  EXPECT_EQ(t.extraction.incidents[0].place.text, "Englewood");
  EXPECT_EQ(t.extraction.incidents[1].type, IncidentType::kArrest);
  EXPECT_EQ(t.extraction.provider, "anthropic");

  nlohmann::json s2 = nlohmann::json::parse(t.stage2_json);
  EXPECT_TRUE(s2["domains"].contains("crime"));
  EXPECT_TRUE(s2["domains"].contains("enforcement"));
  EXPECT_FALSE(s2["domains"].contains("political_violence"));
  EXPECT_EQ(s2["selector"]["domain"], "crime");
  EXPECT_EQ(s2["selector"]["reason"], "domain priority");
}

TEST_F(TwoStageTest, BothStagesAreStored) {
  script(anthropic_, true, stage1(R"(["crime"])"), {{"crime", domain_answer("crime", "shooting", 0.7)}});
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p);
  Result<TwoStageResult> r = x.run(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();

  auto store = open_sqlite_store(SqliteStoreOptions{":memory:"});
  NewArticle a;
  a.canonical_url = "https://news.example/a";
  a.url = a.canonical_url;
  a.title = "Teen shot, suspect held";
  a.text = "text";
  Result<ArticleInsert> ins = store->insert_article(a);
  ASSERT_TRUE(ins.ok()) << ins.error().to_string();
  WallTime created{std::chrono::milliseconds(1'700'000'000'000)};
  for (const NewExtraction& rec : two_stage_records(*r, ins->id, created)) {
    Result<ExtractionId> id = store->insert_extraction(rec);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
  }
  Result<std::vector<StoredExtraction>> rows = store->extractions_for_article(ins->id);
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 2u);
  std::map<std::string, StoredExtraction> by_stage;
  for (const auto& row : *rows) by_stage[row.stage] = row;
  ASSERT_TRUE(by_stage.count("stage1"));
  ASSERT_TRUE(by_stage.count("stage2"));
  EXPECT_EQ(nlohmann::json::parse(by_stage["stage1"].result_json), nlohmann::json::parse(r->stage1_json));
  EXPECT_EQ(nlohmann::json::parse(by_stage["stage2"].result_json), nlohmann::json::parse(r->stage2_json));
  EXPECT_DOUBLE_EQ(by_stage["stage1"].confidence, 0.8);
  EXPECT_DOUBLE_EQ(by_stage["stage2"].confidence, 0.7);
  EXPECT_EQ(by_stage["stage2"].provider, "anthropic");
}

TEST_F(TwoStageTest, StagesUseTheirOwnProviders) {
  script(anthropic_, true, stage1(R"(["crime"])"), {});
  script(openai_, false, "{}", {{"crime", domain_answer("crime", "robbery", 0.6)}});
  TwoStageExtractor x(provider("anthropic", anthropic_), provider("openai", openai_));
  Result<TwoStageResult> r = x.run(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->stage1_provider, "anthropic");
  EXPECT_EQ(r->stage2_provider, "openai");
  EXPECT_EQ(anthropic_.request_count(), 1u);
  EXPECT_EQ(openai_.request_count(), 1u);
  EXPECT_EQ(r->extraction.provider, "openai");
  EXPECT_EQ(r->choice.reason, "only candidate");
}

TEST_F(TwoStageTest, SameIncidentFromTwoDomainsIsMerged) {
  TwoStageOptions o;
  o.all_domains = true;
  script(anthropic_, true, stage1(R"([])"),
         {{"political_violence", domain_answer("political_violence", "bombing", 0.6)},
          {"crime", domain_answer("crime", "bombing", 0.9, "\"Medellin\"")},
          {"enforcement", R"({"domain":"enforcement","incidents":[]})"}});
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p, o);
  Result<TwoStageResult> r = x.run(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(anthropic_.request_count(), 4u);  // every domain
  ASSERT_EQ(r->extraction.incidents.size(), 1u);
  EXPECT_EQ(r->choice.domain, "political_violence");
  EXPECT_EQ(r->extraction.incidents[0].place.text, "Medellin");  // filled from the crime reading
  EXPECT_THAT(r->choice.ranked, ElementsAre("political_violence/bombing/0.60", "crime/bombing/0.90 (merged)"));
}

TEST_F(TwoStageTest, NoIncidentMeansNoStageTwoCalls) {
  script(anthropic_, true, stage1("[]", false), {});
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p);
  Result<TwoStageResult> r = x.run(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(anthropic_.request_count(), 1u);
  EXPECT_TRUE(r->extraction.incidents.empty());
  EXPECT_EQ(r->choice.reason, "stage 1 found no incident");
  EXPECT_EQ(nlohmann::json::parse(r->stage2_json)["selector"]["domain"], nullptr);
}

TEST_F(TwoStageTest, DomainTypeOutsideTheDomainIsPermanent) {
  // An arrest is not a crime-domain type: the crime schema refuses it.
  script(anthropic_, true, stage1(R"(["crime"])"), {{"crime", domain_answer("crime", "arrest", 0.9)}});
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p);
  Result<Extraction> r = x.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractPermanent);
  EXPECT_THAT(r.error().reason, HasSubstr("$.incidents[0].type"));
}

TEST_F(TwoStageTest, MalformedStageOneIsPermanentAndTransientIsTransient) {
  anthropic_.push(testing::anthropic_reply(R"({"entities":[]})"));
  anthropic_.push(testing::error_reply(529, "overloaded_error", "Overloaded"));
  auto p = provider("anthropic", anthropic_);
  TwoStageExtractor x(p, p);
  Result<TwoStageResult> bad = x.run(article());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, kExtractPermanent);
  Result<TwoStageResult> busy = x.run(article());
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().field, kExtractTransient);
}

TEST_F(TwoStageTest, RefusesUnknownDomains) {
  auto p = provider("anthropic", anthropic_);
  TwoStageOptions o;
  o.domains = {"crime", "weather"};
  EXPECT_THROW(TwoStageExtractor(p, p, o), std::invalid_argument);
  EXPECT_THROW(TwoStageExtractor(nullptr, p), std::invalid_argument);
}

}  // namespace llm_two_stage_test
}  // namespace sentinel::intel
