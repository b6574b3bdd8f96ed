// LLM extraction providers: the Anthropic Messages API and OpenAI-compatible
// chat completions (OpenAI, Ollama, vLLM), over libcurl.
//
// One call = one HTTP POST with connect and total timeouts and a cap on the
// response size. The answer must be one JSON object that passes the schema
// (llm_schema.h); places are geocoded with the gazetteer (llm_answer.h).
// Failures are classified (llm_errors.h): timeouts, refused connections,
// 408, 429, 5xx and 529 are transient; 400/401/403/404, other 4xx and a
// malformed answer are permanent. A 429 whose Retry-After is within
// `retry_after_cap` is waited out once (with the injected sleeper) and the
// call repeated; a longer or missing Retry-After is a transient failure that
// says when to come back. Each provider has its own circuit breaker
// (llm_breaker.h); while it is open the provider answers kExtractCircuitOpen
// without calling out.
//
// Secrets: the API key is read once, at construction, from the environment
// variable the options name. It goes into the request header only: never
// into a log line or an error (error texts are also scrubbed of it, in case a
// server echoes it).
//
// Threading: extract()/complete_json()/complete() may be called from any
// number of threads at once (a curl handle per call, the breaker locks).
// Blocking: call from a job worker, never from an I/O thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "intel/extraction.h"
#include "intel/gazetteer.h"
#include "intel/llm_breaker.h"
#include "intel/llm_errors.h"

namespace sentinel::intel {

/// Configuration of one LLM provider (defaults as documented in docs/LLM.md).
struct LlmProviderOptions {
  /// "anthropic" (Messages API) or "openai" (OpenAI-compatible chat
  /// completions: OpenAI, Ollama, vLLM).
  std::string kind = "anthropic";
  /// The name reported in Extraction::provider and in errors; "" = `kind`.
  std::string name;
  /// Scheme, host and optional port (and path prefix) before "/v1/...".
  /// "" = https://api.anthropic.com for anthropic, http://127.0.0.1:11434
  /// (a local Ollama) for openai.
  std::string base_url;
  std::string model;  ///< required
  /// The environment variable holding the API key ("ANTHROPIC_API_KEY");
  /// "" = send no key (local Ollama/vLLM). Required for anthropic.
  std::string api_key_env;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{60'000};  ///< whole call, per attempt
  size_t max_answer_bytes = 1u << 20;         ///< larger responses fail (permanently)
  int max_tokens = 2048;                      ///< Anthropic's max_tokens
  /// Article text past this many bytes is cut (at a UTF-8 boundary) before
  /// it is sent, to bound the prompt.
  size_t max_article_bytes = 24'000;
  /// A 429's Retry-After up to this long is waited out once; longer ones
  /// fail transiently at once (the job queue or the next provider takes over).
  std::chrono::milliseconds retry_after_cap{10'000};
  CircuitBreakerOptions breaker;
  std::string user_agent = "Sentinel/0.1 extraction";
};

/// What a provider needs at run time besides its options.
struct LlmDependencies {
  /// Geocodes the model's place text; null: places keep only their text.
  std::shared_ptr<const Gazetteer> gazetteer;
  /// UTC offset in minutes in force at a UTC instant (ms) for local times; empty: UTC.
  std::function<int(int64_t)> utc_offset_minutes;
  /// Waits out a short Retry-After; tests record instead. Default: sleep.
  std::function<void(std::chrono::milliseconds)> sleeper;
  /// The breaker's clock; tests inject one. Default: steady_clock.
  CircuitBreaker::Clock clock;
};

/// A schema-checked JSON answer and who gave it.
struct JsonAnswer {
  std::string json;      ///< the answer object, compact
  std::string provider;  ///< name() of the provider that answered
  /// Providers passed over before it, "name: reason" (FallbackProvider).
  std::vector<std::string> skipped;
};

/// Something that can answer a prompt with a JSON object conforming to a
/// schema: an LLM provider, or a fallback chain of them. Same error kinds as
/// extraction (llm_errors.h).
class JsonCompleter {
 public:
  virtual ~JsonCompleter() = default;
  virtual std::string_view name() const = 0;
  virtual Result<JsonAnswer> complete_json(std::string_view system, std::string_view user,
                                           const nlohmann::json& schema) = 0;
};

/// The part both API shapes share: HTTP, error classification, breaker,
/// prompts, answer checking and mapping. Subclasses say how a request is
/// written and where the answer text is in the response.
class LlmProvider : public ExtractionProvider, public JsonCompleter {
 public:
  ~LlmProvider() override;
  LlmProvider(const LlmProvider&) = delete;
  LlmProvider& operator=(const LlmProvider&) = delete;

  std::string_view name() const override { return name_; }
  /// Single-stage extraction: the article with the extraction schema; an
  /// answer of type "none" is an empty Extraction.
  Result<Extraction> extract(const ArticleText& article) override;
  Result<JsonAnswer> complete_json(std::string_view system, std::string_view user,
                                   const nlohmann::json& schema) override;
  /// One call: the model's answer text, unchecked. Goes through the breaker.
  Result<std::string> complete(std::string_view system, std::string_view user);

  const LlmProviderOptions& options() const { return options_; }
  const CircuitBreaker& breaker() const { return breaker_; }
  const LlmDependencies& dependencies() const { return deps_; }

 protected:
  /// Throws std::invalid_argument naming the option ("llm.model: required")
  /// on bad options, or when api_key_env names an unset variable.
  LlmProvider(LlmProviderOptions options, LlmDependencies deps, std::string_view default_base_url);

  /// One HTTP request: path after base_url, extra headers ("Name: value"),
  /// JSON body.
  struct HttpCall {
    std::string path;
    std::vector<std::string> headers;
    std::string body;
  };
  virtual HttpCall build_call(std::string_view system, std::string_view user) const = 0;
  /// The answer text in a 2xx response body, or a kExtractPermanent error
  /// when the response does not have the API's shape.
  virtual Result<std::string> answer_text(std::string_view response_body) const = 0;
  /// "" when no key is configured.
  const std::string& api_key() const { return api_key_; }

 private:
  /// One POST; sets the HTTP status (0 when none arrived) and the Retry-After asked for (if any).
  Result<std::string> call_once(const HttpCall& call, long* status,
                                std::chrono::milliseconds* retry_after) const;
  Error scrub(Error e) const;

  LlmProviderOptions options_;
  LlmDependencies deps_;
  std::string name_;
  std::string base_url_;
  std::string api_key_;
  CircuitBreaker breaker_;
};

/// POST {base_url}/v1/messages with x-api-key and anthropic-version
/// 2023-06-01; the answer is content[0].text.
class AnthropicProvider final : public LlmProvider {
 public:
  explicit AnthropicProvider(LlmProviderOptions options, LlmDependencies deps = {});

 protected:
  HttpCall build_call(std::string_view system, std::string_view user) const override;
  Result<std::string> answer_text(std::string_view response_body) const override;
};

/// POST {base_url}/v1/chat/completions with "Authorization: Bearer" when a
/// key is set, response_format json_object and temperature 0; the answer is
/// choices[0].message.content.
class OpenAiCompatibleProvider final : public LlmProvider {
 public:
  explicit OpenAiCompatibleProvider(LlmProviderOptions options, LlmDependencies deps = {});

 protected:
  HttpCall build_call(std::string_view system, std::string_view user) const override;
  Result<std::string> answer_text(std::string_view response_body) const override;
};

/// Builds the provider `options.kind` names. Throws std::invalid_argument
/// naming the option on an unknown kind or bad options (a start-up error).
std::unique_ptr<LlmProvider> make_llm_provider(const LlmProviderOptions& options,
                                               LlmDependencies deps = {});

/// The single-stage system prompt (instructions and the extraction schema).
std::string extraction_system_prompt();
/// The user message for an article: title, publication time, URL and text
/// (cut to `max_bytes` at a UTF-8 boundary).
std::string article_prompt(const ArticleText& article, size_t max_bytes);

}  // namespace sentinel::intel
