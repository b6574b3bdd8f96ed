// FallbackProvider: an ordered chain of extraction providers (for example
// anthropic -> openai -> builtin). It asks the first; it moves to the next
// only when that one failed transiently or its circuit breaker is open
// (llm_errors.h). A permanent failure (a 401, a malformed answer) is returned
// as it is: another provider would hide a configuration or model problem
// that someone has to fix, and would make results depend on which provider
// happened to be up.
//
// Threading: as thread-safe as its members (the LLM providers and the
// built-in extractor are); the chain itself is immutable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"
#include "intel/llm_provider.h"

namespace sentinel::intel {

/// An extraction and how the chain got it.
struct FallbackExtraction {
  Extraction extraction;  ///< extraction.provider names the provider that answered
  /// The providers passed over before it, in order: "anthropic: HTTP 529
  /// (overloaded_error: Overloaded)", "openai: circuit open, retry in 12 s".
  std::vector<std::string> skipped;
};

class FallbackProvider final : public ExtractionProvider, public JsonCompleter {
 public:
  /// `chain` in order of preference. Throws std::invalid_argument when it is
  /// empty or holds a null provider.
  explicit FallbackProvider(std::vector<std::shared_ptr<ExtractionProvider>> chain,
                            std::string name = "fallback");

  std::string_view name() const override { return name_; }
  Result<Extraction> extract(const ArticleText& article) override;
  /// extract() with the reasons earlier providers were passed over. When
  /// every provider failed transiently the error is kExtractTransient (or
  /// kExtractCircuitOpen when every breaker was open) and its reason lists
  /// each provider's failure.
  Result<FallbackExtraction> extract_traced(const ArticleText& article);
  /// The same policy over the chain's members that answer JSON prompts (the
  /// LLM providers; the built-in extractor does not). JsonAnswer::skipped
  /// holds the members passed over.
  Result<JsonAnswer> complete_json(std::string_view system, std::string_view user,
                                   const nlohmann::json& schema) override;

  const std::vector<std::shared_ptr<ExtractionProvider>>& chain() const { return chain_; }

 private:
  std::vector<std::shared_ptr<ExtractionProvider>> chain_;
  std::string name_;
};

}  // namespace sentinel::intel
