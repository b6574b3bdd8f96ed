// FallbackProvider: the chain moves on only on transient failures and open
// breakers; a permanent failure stops it. Against the local API server, and
// with scripted in-process providers for the chain logic.
#include "intel/llm_fallback.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>

#include "intel/llm_schema.h"
#include "llm_test_server.h"

namespace sentinel::intel {
namespace llm_fallback_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeLlmServer;

constexpr char kKeyEnv[] = "SENTINEL_TEST_FALLBACK_KEY";

const char* const kArrest = R"({"type":"arrest","time":"2024-03-01","place":null,"actors":[
  {"role":"suspect","description":"a 30-year-old man"},{"role":"agency","description":"police"}],
  "perpetrator_org":null,"targets":[],"confidence":0.7})";

// An in-process provider answering from a script.
class ScriptedProvider final : public ExtractionProvider {
 public:
  explicit ScriptedProvider(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  Result<Extraction> extract(const ArticleText&) override {
    ++calls;
    if (script.empty()) return make_error(std::string(kExtractPermanent), name_ + ": empty script");
    Result<Extraction> r = script.front();
    script.pop_front();
    return r;
  }
  std::deque<Result<Extraction>> script;
  int calls = 0;

 private:
  std::string name_;
};

Extraction answer_of(const std::string& provider) {
  Extraction x;
  x.provider = provider;
  x.incidents.emplace_back();
  x.incidents.back().type = IncidentType::kTheft;
  return x;
}

ArticleText article() {
  static const std::string text = "Police arrested a man on Friday.";
  return ArticleText{"Arrest", text, 0, ""};
}

TEST(FallbackProviderTest, MovesOnOnlyOnTransientErrors) {
  auto a = std::make_shared<ScriptedProvider>("a");
  auto b = std::make_shared<ScriptedProvider>("b");
  auto c = std::make_shared<ScriptedProvider>("builtin");
  FallbackProvider chain({a, b, c});
  a->script.push_back(make_error(std::string(kExtractTransient), "a: HTTP 529 (overloaded_error: Overloaded)"));
  b->script.push_back(make_error(std::string(kExtractCircuitOpen), "b: circuit open, retry in 5 s"));
  c->script.push_back(answer_of("builtin"));
  Result<FallbackExtraction> r = chain.extract_traced(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->extraction.provider, "builtin");
  EXPECT_THAT(r->skipped, ElementsAre("a: HTTP 529 (overloaded_error: Overloaded)", "b: circuit open, retry in 5 s"));
}

TEST(FallbackProviderTest, PermanentErrorIsReturnedAsIs) {
  auto a = std::make_shared<ScriptedProvider>("a");
  auto b = std::make_shared<ScriptedProvider>("b");
  FallbackProvider chain({a, b});
  a->script.push_back(make_error(std::string(kExtractPermanent), "a: model answer is not JSON"));
  b->script.push_back(answer_of("b"));
  Result<Extraction> r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractPermanent);
  EXPECT_EQ(r.error().reason, "a: model answer is not JSON");
  EXPECT_EQ(b->calls, 0);
  // Errors of other providers (the built-in extractor's "text") are permanent too.
  a->script.push_back(make_error("text", "the article has no text"));
  r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "text");
  EXPECT_EQ(b->calls, 0);
}

TEST(FallbackProviderTest, EveryProviderFailingTransientlyListsThemAll) {
  auto a = std::make_shared<ScriptedProvider>("a");
  auto b = std::make_shared<ScriptedProvider>("b");
  FallbackProvider chain({a, b});
  a->script.push_back(make_error(std::string(kExtractTransient), "a: Timeout was reached"));
  b->script.push_back(make_error(std::string(kExtractCircuitOpen), "b: circuit open, retry in 5 s"));
  Result<Extraction> r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractTransient);
  EXPECT_EQ(r.error().reason, "every provider failed: a: Timeout was reached; b: circuit open, retry in 5 s");
  EXPECT_TRUE(extract_error_is_transient(r.error()));

  a->script.push_back(make_error(std::string(kExtractCircuitOpen), "a: circuit open, retry in 1 s"));
  b->script.push_back(make_error(std::string(kExtractCircuitOpen), "b: circuit open, retry in 5 s"));
  r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractCircuitOpen);
}

TEST(FallbackProviderTest, RefusesAnEmptyChain) {
  EXPECT_THROW(FallbackProvider({}), std::invalid_argument);
  EXPECT_THROW(FallbackProvider({nullptr}), std::invalid_argument);
}

class FallbackProviderHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kKeyEnv, "k-123", 1); }
  void TearDown() override { ::unsetenv(kKeyEnv); }

  std::shared_ptr<LlmProvider> provider(const std::string& kind, FakeLlmServer& server, int threshold = 5) {
    LlmProviderOptions o;
    o.kind = kind;
    o.base_url = server.base_url();
    o.model = "m";
    o.api_key_env = kKeyEnv;
    o.timeout = 5s;
    o.breaker.failure_threshold = threshold;
    o.breaker.cool_down = 60s;
    LlmDependencies d;
    d.clock = [this] { return now_; };
    d.sleeper = [](std::chrono::milliseconds) {};
    return make_llm_provider(o, d);
  }

  FakeLlmServer anthropic_;
  FakeLlmServer openai_;
  ProcTime now_ = ProcTime{} + std::chrono::hours(1);
};

TEST_F(FallbackProviderHttpTest, OverloadedAnthropicFallsBackToOpenAi) {
  anthropic_.push(testing::error_reply(529, "overloaded_error", "Overloaded"));
  openai_.push(testing::openai_reply(kArrest));
  FallbackProvider chain({provider("anthropic", anthropic_), provider("openai", openai_)});
  Result<FallbackExtraction> r = chain.extract_traced(article());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->extraction.provider, "openai");
  EXPECT_EQ(r->extraction.incidents.at(0).type, IncidentType::kArrest);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_THAT(r->skipped[0], HasSubstr("anthropic: HTTP 529 (overloaded_error: Overloaded)"));
}

TEST_F(FallbackProviderHttpTest, UnauthorisedAnthropicDoesNotFallBack) {
  anthropic_.push(testing::error_reply(401, "authentication_error", "invalid x-api-key"));
  openai_.push(testing::openai_reply(kArrest));
  FallbackProvider chain({provider("anthropic", anthropic_), provider("openai", openai_)});
  Result<Extraction> r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractPermanent);
  EXPECT_THAT(r.error().reason, HasSubstr("HTTP 401"));
  EXPECT_EQ(openai_.request_count(), 0u);
}

TEST_F(FallbackProviderHttpTest, SchemaViolationDoesNotFallBack) {
  anthropic_.push(testing::anthropic_reply(R"({"type":"arrest"})"));
  FallbackProvider chain({provider("anthropic", anthropic_), provider("openai", openai_)});
  Result<Extraction> r = chain.extract(article());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kExtractPermanent);
  EXPECT_EQ(openai_.request_count(), 0u);
}

TEST_F(FallbackProviderHttpTest, OpenBreakerIsSkippedWithoutACall) {
  auto builtin = std::make_shared<ScriptedProvider>("builtin");
  FallbackProvider chain({provider("anthropic", anthropic_, 1), provider("openai", openai_), builtin});
  anthropic_.push(testing::error_reply(500, "api_error", "boom"));
  openai_.push(testing::error_reply(503, "unavailable", "down"));
  builtin->script.push_back(answer_of("builtin"));
  builtin->script.push_back(answer_of("builtin"));
  Result<FallbackExtraction> first = chain.extract_traced(article());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->extraction.provider, "builtin");
  EXPECT_EQ(first->skipped.size(), 2u);

  openai_.push(testing::openai_reply(kArrest));
  Result<FallbackExtraction> second = chain.extract_traced(article());
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->extraction.provider, "openai");
  ASSERT_EQ(second->skipped.size(), 1u);
  EXPECT_THAT(second->skipped[0], HasSubstr("anthropic: circuit open, retry in 60 s"));
  EXPECT_EQ(anthropic_.request_count(), 1u);  // the open breaker kept it from being called

  now_ += 60s;  // half-open: the probe goes to anthropic again
  anthropic_.push(testing::anthropic_reply(kArrest));
  Result<FallbackExtraction> third = chain.extract_traced(article());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->extraction.provider, "anthropic");
  EXPECT_TRUE(third->skipped.empty());
  EXPECT_EQ(anthropic_.request_count(), 2u);
}

TEST_F(FallbackProviderHttpTest, JsonCompletionSkipsProvidersThatCannotAnswerJson) {
  auto builtin = std::make_shared<ScriptedProvider>("builtin");
  anthropic_.push(testing::error_reply(529, "overloaded_error", "Overloaded"));
  openai_.push(testing::openai_reply(kArrest));
  FallbackProvider chain({builtin, provider("anthropic", anthropic_), provider("openai", openai_)});
  Result<JsonAnswer> r = chain.complete_json("system", "user", extraction_schema());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "openai");
  EXPECT_EQ(nlohmann::json::parse(r->json)["type"], "arrest");
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(builtin->calls, 0);

  FallbackProvider only_builtin({builtin});
  Result<JsonAnswer> none = only_builtin.complete_json("s", "u", extraction_schema());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, kExtractPermanent);
}

}  // namespace llm_fallback_test
}  // namespace sentinel::intel
