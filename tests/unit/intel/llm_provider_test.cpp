// The Anthropic and OpenAI-compatible providers against a local server that
// speaks both APIs' shapes: request bodies and headers, answer checking and
// mapping (with gazetteer geocoding), error classification, Retry-After, the
// breaker, and that the API key never reaches a log line or an error.
#include "intel/llm_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "intel/llm_schema.h"
#include "llm_test_server.h"

namespace sentinel::intel {
namespace llm_provider_test {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::FakeLlmServer;
using testing::Reply;

constexpr char kKeyEnv[] = "SENTINEL_TEST_LLM_KEY";
constexpr char kKey[] = "sk-test-SECRET-0123456789";

const char* const kShooting = R"({"type":"shooting","time":"2024-03-02T23:30",
  "place":"Englewood, Chicago",
  "actors":[{"role":"victim","description":"a 17-year-old man"},{"role":"officer","description":"Chicago police"}],
  "perpetrator_org":null,"targets":[{"description":"a 17-year-old man","kind":"human"}],
  "confidence":0.9,"evidence":"A 17-year-old man was shot in Englewood."})";

std::shared_ptr<const Gazetteer> test_gazetteer() {
  auto g = std::make_shared<Gazetteer>();
  PlaceEntry chicago;
  chicago.name = "CHICAGO";
  chicago.kind_label = "CITY";
  chicago.precision = PlacePrecision::kCity;
  chicago.country = "CHICAGO";
  chicago.lat = 41.88;
  chicago.lon = -87.63;
  uint32_t city = g->add_entry(chicago, {"Chicago"});
  PlaceEntry englewood;
  englewood.name = "ENGLEWOOD";
  englewood.kind_label = "community_area";
  englewood.precision = PlacePrecision::kDistrict;
  englewood.parent = city;
  englewood.country = "CHICAGO";
  englewood.lat = 41.7798;
  englewood.lon = -87.6446;
  englewood.district = "ENGLEWOOD";
  englewood.district_id = 68;
  g->add_entry(englewood, {"Englewood"});
  g->build();
  return g;
}

ArticleText article() {
  static const std::string title = "Teen shot in Englewood";
  static const std::string text = "A 17-year-old man was shot in Englewood late Saturday, Chicago police said.";
  return ArticleText{title, text, 1709510400000, "https://news.example/teen-shot"};  // 2024-03-04T00:00Z
}

class LlmProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kKeyEnv, kKey, 1); }
  void TearDown() override { ::unsetenv(kKeyEnv); }

  LlmProviderOptions options(const std::string& kind) {
    LlmProviderOptions o;
    o.kind = kind;
    o.base_url = server_.base_url();
    o.model = kind == "anthropic" ? "claude-test" : "llama-test";
    o.api_key_env = kKeyEnv;
    o.timeout = 5s;
    return o;
  }
  LlmDependencies deps() {
    LlmDependencies d;
    d.gazetteer = gazetteer_;
    d.sleeper = [this](std::chrono::milliseconds ms) { sleeps_.push_back(ms); };
    return d;
  }

  FakeLlmServer server_;
  std::shared_ptr<const Gazetteer> gazetteer_ = test_gazetteer();
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(LlmProviderTest, AnthropicRequestAndMappedAnswer) {
  server_.push(testing::anthropic_reply(kShooting));
  auto p = make_llm_provider(options("anthropic"), deps());
  EXPECT_EQ(p->name(), "anthropic");
  Result<Extraction> r = p->extract(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();

  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/messages");
  EXPECT_EQ(reqs[0].header("x-api-key"), kKey);
  EXPECT_EQ(reqs[0].header("anthropic-version"), "2023-06-01");
  EXPECT_THAT(reqs[0].header("content-type"), HasSubstr("application/json"));
  EXPECT_EQ(reqs[0].header("authorization"), "");
  nlohmann::json body = reqs[0].json();
  EXPECT_EQ(body["model"], "claude-test");
  EXPECT_EQ(body["max_tokens"], 2048);
  EXPECT_THAT(body["system"].get<std::string>(), HasSubstr(extraction_schema().dump()));
  ASSERT_EQ(body["messages"].size(), 1u);
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_THAT(body["messages"][0]["content"].get<std::string>(), HasSubstr("Title: Teen shot in Englewood"));
  EXPECT_THAT(body["messages"][0]["content"].get<std::string>(), HasSubstr("Published: 2024-03-04T00:00:00Z"));
  EXPECT_THAT(reqs[0].body, Not(HasSubstr(kKey)));

  const Extraction& x = *r;
  EXPECT_EQ(x.provider, "anthropic");
  ASSERT_EQ(x.incidents.size(), 1u);
  const Incident& inc = x.incidents[0];
  EXPECT_EQ(inc.type, IncidentType::kShooting);
  EXPECT_EQ(inc.occurred.precision, TimePrecision::kExact);
  EXPECT_EQ(inc.occurred.minute_of_day, 23 * 60 + 30);
  EXPECT_EQ(inc.occurred.start_ms, 1709422200000);  // 2024-03-02T23:30Z (UTC by default)
  // Place: the gazetteer's, not the model's.
  EXPECT_EQ(inc.place.text, "Englewood, Chicago");
  EXPECT_EQ(inc.place.name, "ENGLEWOOD");
  EXPECT_EQ(inc.place.precision, PlacePrecision::kDistrict);
  EXPECT_DOUBLE_EQ(inc.place.lat, 41.7798);
  EXPECT_EQ(inc.place.district_id, 68);
  ASSERT_EQ(inc.actors.size(), 2u);
  EXPECT_EQ(inc.actors[0].role, ActorRole::kVictim);
  EXPECT_EQ(inc.actors[1].role, ActorRole::kOfficer);
  EXPECT_EQ(inc.actors[1].text, "Chicago police");
  ASSERT_EQ(inc.targets.size(), 1u);
  EXPECT_EQ(inc.targets[0].kind, TargetKind::kHuman);
  EXPECT_DOUBLE_EQ(x.confidence(), 0.9);
  EXPECT_EQ(inc.evidence, "A 17-year-old man was shot in Englewood.");
}

TEST_F(LlmProviderTest, OpenAiCompatibleRequestAndAnswer) {
  server_.push(testing::openai_reply(kShooting));
  auto p = make_llm_provider(options("openai"), deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "openai");
  EXPECT_EQ(r->incidents.at(0).type, IncidentType::kShooting);

  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].header("x-api-key"), "");
  nlohmann::json body = reqs[0].json();
  EXPECT_EQ(body["model"], "llama-test");
  EXPECT_EQ(body["response_format"]["type"], "json_object");
  EXPECT_EQ(body["temperature"], 0);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["role"], "user");
}

TEST_F(LlmProviderTest, OpenAiWithoutKeySendsNoAuthorization) {
  server_.push(testing::openai_reply(R"({"type":"none","time":null,"place":null,"actors":[],
    "perpetrator_org":null,"targets":[],"confidence":0.2})"));
  LlmProviderOptions o = options("openai");
  o.api_key_env.clear();
  auto p = make_llm_provider(o, deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->incidents.empty());  // "none": no incident, not an error
  EXPECT_EQ(server_.requests().at(0).header("authorization"), "");
}

TEST_F(LlmProviderTest, MalformedAnswersArePermanent) {
  struct Case {
    const char* answer;
    const char* why;
  };
  const Case cases[] = {
      {"The article reports a shooting.", "not JSON"},
      {"[1,2,3]", "not a JSON object"},
      {R"({"type":"shooting"})", "missing required"},
      {R"({"type":"riot","time":null,"place":null,"actors":[],"perpetrator_org":null,"targets":[],"confidence":0.5})",
       "$.type: not one of"},
      {R"({"type":"shooting","time":"last Tuesday","place":null,"actors":[],"perpetrator_org":null,"targets":[],"confidence":0.5})",
       "$.time"},
      {R"({"type":"shooting","time":null,"place":null,"actors":[{"role":"bystander","description":"x"}],"perpetrator_org":null,"targets":[],"confidence":0.5})",
       "$.actors[0].role"},
      {R"({"type":"shooting","time":null,"place":null,"actors":[],"perpetrator_org":null,"targets":[],"confidence":1.5})",
       "$.confidence: above the maximum"},
      {R"({"type":"shooting","time":null,"place":null,"actors":[],"perpetrator_org":null,"targets":[],"confidence":0.5,"lat":41.0})",
       "$.lat: unexpected property"},
  };
  auto p = make_llm_provider(options("anthropic"), deps());
  for (const auto& c : cases) {
    server_.push(testing::anthropic_reply(c.answer));
    Result<Extraction> r = p->extract(article());
    ASSERT_FALSE(r.ok()) << c.answer;
    EXPECT_EQ(r.error().field, kExtractPermanent) << c.answer;
    EXPECT_THAT(r.error().reason, HasSubstr(c.why)) << c.answer;
    EXPECT_FALSE(extract_error_is_transient(r.error()));
  }
  // A malformed answer shows the service is up: the breaker stays closed.
  EXPECT_EQ(p->breaker().state(), BreakerState::kClosed);
}

TEST_F(LlmProviderTest, FencedJsonAnswerIsAccepted) {
  server_.push(testing::anthropic_reply(std::string("```json\n") + kShooting + "\n```"));
  auto p = make_llm_provider(options("anthropic"), deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->incidents.size(), 1u);
}

TEST_F(LlmProviderTest, HttpStatusesAreClassified) {
  struct Case {
    int status;
    std::string_view field;
  };
  const Case cases[] = {{500, kExtractTransient}, {502, kExtractTransient}, {503, kExtractTransient},
                        {529, kExtractTransient}, {408, kExtractTransient}, {400, kExtractPermanent},
                        {401, kExtractPermanent}, {403, kExtractPermanent}, {404, kExtractPermanent}};
  LlmProviderOptions o = options("anthropic");
  o.breaker.failure_threshold = 100;
  auto p = make_llm_provider(o, deps());
  for (const auto& c : cases) {
    server_.push(testing::error_reply(c.status, "some_error", "status " + std::to_string(c.status)));
    Result<Extraction> r = p->extract(article());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().field, c.field) << c.status;
    EXPECT_THAT(r.error().reason, HasSubstr("anthropic: HTTP " + std::to_string(c.status)));
    EXPECT_THAT(r.error().reason, HasSubstr("some_error: status " + std::to_string(c.status)));
  }
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(LlmProviderTest, ShortRetryAfterOn429IsWaitedOutOnce) {
  Reply limited = testing::error_reply(429, "rate_limit_error", "slow down");
  limited.headers = {{"Retry-After", "2"}};
  server_.push(limited);
  server_.push(testing::anthropic_reply(kShooting));
  auto p = make_llm_provider(options("anthropic"), deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(server_.request_count(), 2u);
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_EQ(sleeps_[0], 2000ms);
  EXPECT_EQ(p->breaker().consecutive_failures(), 0);
}

TEST_F(LlmProviderTest, LongRetryAfterOn429FailsTransientlyAtOnce) {
  Reply limited = testing::error_reply(429, "rate_limit_error", "slow down");
  limited.headers = {{"Retry-After", "120"}};
  server_.push(limited);
  auto p = make_llm_provider(options("anthropic"), deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractTransient);
  EXPECT_THAT(r.error().reason, HasSubstr("retry after 120 s"));
  EXPECT_EQ(server_.request_count(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(LlmProviderTest, RepeatedShortRetryAfterIsWaitedOnlyOnce) {
  Reply limited = testing::error_reply(429, "rate_limit_error", "slow down");
  limited.headers = {{"Retry-After", "1"}};
  server_.push(limited);
  server_.push(limited);
  auto p = make_llm_provider(options("openai"), deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractTransient);
  EXPECT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(sleeps_.size(), 1u);
}

TEST_F(LlmProviderTest, TimeoutIsTransient) {
  Reply slow = testing::anthropic_reply(kShooting);
  slow.delay = 1000ms;
  server_.push(slow);
  LlmProviderOptions o = options("anthropic");
  o.timeout = 300ms;
  auto p = make_llm_provider(o, deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractTransient);
  EXPECT_THAT(r.error().reason, HasSubstr("Timeout"));
}

TEST_F(LlmProviderTest, ConnectionRefusedIsTransient) {
  FakeLlmServer closed;
  LlmProviderOptions o = options("openai");
  o.base_url = closed.base_url();
  closed.stop();  // nothing listens on the port any more
  auto p = make_llm_provider(o, deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractTransient);
  EXPECT_THAT(r.error().reason, HasSubstr("openai: "));
}

TEST_F(LlmProviderTest, OversizeResponseIsPermanent) {
  server_.push(testing::anthropic_reply(std::string(4096, ' ') + kShooting));
  LlmProviderOptions o = options("anthropic");
  o.max_answer_bytes = 1024;
  auto p = make_llm_provider(o, deps());
  Result<Extraction> r = p->extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractPermanent);
  EXPECT_THAT(r.error().reason, HasSubstr("larger than 1024 bytes"));
}

TEST_F(LlmProviderTest, WrongResponseShapeIsPermanent) {
  server_.push(Reply{200, R"({"content":[]})", {}, {}});
  server_.push(Reply{200, R"({"choices":[{"message":{"content":null}}]})", {}, {}});
  auto a = make_llm_provider(options("anthropic"), deps());
  auto o = make_llm_provider(options("openai"), deps());
  Result<Extraction> ra = a->extract(article());
  Result<Extraction> ro = o->extract(article());
  ASSERT_FALSE(ra.ok());
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ra.error().field, kExtractPermanent);
  EXPECT_EQ(ro.error().field, kExtractPermanent);
}

TEST_F(LlmProviderTest, BreakerOpensAfterTransientFailuresAndStopsCalling) {
  auto now = std::make_shared<ProcTime>(ProcTime{} + std::chrono::hours(1));
  LlmDependencies d = deps();
  d.clock = [now] { return *now; };
  LlmProviderOptions o = options("anthropic");
  o.breaker.failure_threshold = 2;
  o.breaker.cool_down = 30s;
  auto p = make_llm_provider(o, d);
  server_.push(testing::error_reply(529, "overloaded_error", "Overloaded"));
  server_.push(testing::error_reply(500, "api_error", "boom"));
  EXPECT_EQ(p->extract(article()).error().field, kExtractTransient);
  EXPECT_EQ(p->extract(article()).error().field, kExtractTransient);
  EXPECT_EQ(p->breaker().state(), BreakerState::kOpen);
  Result<Extraction> blocked = p->extract(article());
  EXPECT_EQ(blocked.error().field, kExtractCircuitOpen);
  EXPECT_THAT(blocked.error().reason, HasSubstr("circuit open, retry in 30 s"));
  EXPECT_EQ(server_.request_count(), 2u);  // not called while open
  *now += 30s;
  server_.push(testing::anthropic_reply(kShooting));
  Result<Extraction> probe = p->extract(article());
  ASSERT_TRUE(probe.ok()) << probe.error().to_string();
  EXPECT_EQ(p->breaker().state(), BreakerState::kClosed);
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(LlmProviderTest, KeyNeverReachesLogsOrErrors) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto existing = spdlog::get("intel");
  std::shared_ptr<spdlog::logger> logger = existing;
  if (existing) {
    existing->sinks().push_back(sink);
  } else {
    logger = std::make_shared<spdlog::logger>("intel", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::register_logger(logger);
  }
  // A server that echoes the key it was sent, then one that fails with 5xx.
  server_.push(testing::error_reply(401, "authentication_error", std::string("invalid x-api-key ") + kKey));
  server_.push(testing::error_reply(500, "api_error", "internal"));
  server_.push(testing::anthropic_reply("not json"));
  auto p = make_llm_provider(options("anthropic"), deps());
  std::vector<Error> errors;
  for (int i = 0; i < 3; ++i) errors.push_back(p->extract(article()).error());
  logger->flush();
  if (existing) {
    existing->sinks().pop_back();
  } else {
    spdlog::drop("intel");
  }
  for (const auto& e : errors) EXPECT_THAT(e.to_string(), Not(HasSubstr(kKey)));
  EXPECT_THAT(errors[0].reason, HasSubstr("invalid x-api-key [redacted]"));
  EXPECT_THAT(captured.str(), HasSubstr("anthropic: HTTP 401"));
  EXPECT_THAT(captured.str(), HasSubstr("anthropic: HTTP 500"));
  EXPECT_THAT(captured.str(), Not(HasSubstr(kKey)));
  EXPECT_THAT(captured.str(), Not(HasSubstr("SECRET")));
}

TEST_F(LlmProviderTest, FactoryRefusesBadOptions) {
  LlmProviderOptions o = options("anthropic");
  o.kind = "gemini";
  EXPECT_THROW(make_llm_provider(o), std::invalid_argument);
  o = options("anthropic");
  o.model.clear();
  EXPECT_THROW(make_llm_provider(o), std::invalid_argument);
  o = options("anthropic");
  o.api_key_env = "SENTINEL_TEST_UNSET_VARIABLE";
  try {
    make_llm_provider(o);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("llm.api_key_env"));
    EXPECT_THAT(e.what(), HasSubstr("SENTINEL_TEST_UNSET_VARIABLE"));
  }
  o = options("anthropic");
  o.api_key_env.clear();  // Anthropic needs a key
  EXPECT_THROW(make_llm_provider(o), std::invalid_argument);
  o = options("openai");
  o.base_url = "ftp://example";
  EXPECT_THROW(make_llm_provider(o), std::invalid_argument);
}

TEST_F(LlmProviderTest, LongArticleIsCutAtUtf8Boundary) {
  std::string text(30, 'a');
  for (int i = 0; i < 100; ++i) text += "\xC3\xA9";  // é
  ArticleText a{"t", text, 0, ""};
  std::string prompt = article_prompt(a, 31);
  EXPECT_THAT(prompt, HasSubstr(std::string(30, 'a') + "\n[text cut]"));
  EXPECT_THAT(prompt, HasSubstr("Published: unknown"));
}

}  // namespace llm_provider_test
}  // namespace sentinel::intel
