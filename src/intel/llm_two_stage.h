// TwoStageExtractor: extraction in two model calls (or more).
//
//   stage 1  article -> intermediate representation (stage1_schema():
//            entities, events, legal data, quotes, classification);
//   stage 2  for each domain (crime, political_violence, enforcement, in
//            priority order) that stage 1 classified the article under -- or
//            every configured domain -- the stage-1 JSON -> that domain's
//            result (domain_schema(): incidents typed within the domain);
//   selector every domain incident at or above min_confidence, ranked by
//            domain priority, then confidence; the first is the main
//            incident; a lower-ranked incident of the same type is the same
//            incident seen by another domain: it fills the main one's empty
//            slots (place, time, perpetrator, actors, targets) instead of
//            being listed twice.
//
// Each stage has its own JsonCompleter (an LLM provider or a FallbackProvider
// chain), so stages may use different providers. run() returns both stages'
// JSON and the selector's choice, for the store (two_stage_records()).
//
// Threading: run()/extract() are as thread-safe as the completers (the LLM
// providers and FallbackProvider are); the extractor itself is immutable.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"
#include "intel/llm_provider.h"
#include "intel/store.h"

namespace sentinel::intel {

struct TwoStageOptions {
  /// Stage-2 domains, highest priority first (each a name of domain_names()).
  std::vector<std::string> domains{"political_violence", "crime", "enforcement"};
  /// Run every domain of `domains`, not only those stage 1 classified the
  /// article under (more calls, fewer misses of stage 1's classification).
  bool all_domains = false;
  /// Domain incidents below this confidence are not selected.
  double min_confidence = 0.0;
  size_t max_article_bytes = 24'000;  ///< article text past this is cut for stage 1
};

/// What the selector chose, and why.
struct SelectorChoice {
  std::string domain;     ///< the main incident's domain; "" when there is no incident
  std::string type;       ///< its incident type name
  double confidence = 0;  ///< its confidence
  /// "only candidate", "domain priority" (a lower-priority domain was more
  /// confident), "priority and confidence", or why there is none ("stage 1
  /// found no incident", "no domain reported an incident").
  std::string reason;
  /// Every candidate in selector order, "domain/type/confidence"; merged
  /// ones end in " (merged)".
  std::vector<std::string> ranked;
};

struct TwoStageResult {
  /// The final extraction: the selector's main incident first, then the
  /// other kept ones; provider is the stage-2 provider(s).
  Extraction extraction;
  std::string stage1_provider;
  std::string stage1_json;  ///< the stage-1 answer, schema-checked
  std::string stage2_provider;  ///< provider(s) of stage 2, comma-separated when domains differed
  /// {"domains":{"crime":<answer>,...},"selector":{...}}: every domain's
  /// schema-checked answer and the choice.
  std::string stage2_json;
  SelectorChoice choice;
  /// Providers passed over by fallback chains in either stage.
  std::vector<std::string> skipped;
  double stage1_confidence = 0;  ///< stage 1's classification confidence
};

class TwoStageExtractor final : public ExtractionProvider {
 public:
  /// Throws std::invalid_argument on a null completer, an empty or unknown
  /// domain list ("extract.two_stage.domains: unknown domain x").
  TwoStageExtractor(std::shared_ptr<JsonCompleter> stage1, std::shared_ptr<JsonCompleter> stage2,
                    TwoStageOptions options = {}, LlmDependencies deps = {});

  std::string_view name() const override { return "two_stage"; }
  Result<Extraction> extract(const ArticleText& article) override;
  /// Both stages. Any stage's failure fails the run with that error's kind
  /// (a malformed domain answer is permanent, like a malformed stage 1).
  Result<TwoStageResult> run(const ArticleText& article);

 private:
  std::shared_ptr<JsonCompleter> stage1_;
  std::shared_ptr<JsonCompleter> stage2_;
  TwoStageOptions options_;
  LlmDependencies deps_;
};

/// The stage-1 system prompt (instructions and stage1_schema()).
std::string stage1_system_prompt();
/// The stage-2 system prompt of a domain (instructions and its schema).
std::string stage2_system_prompt(std::string_view domain);

/// The two store rows of a run: stage "stage1" (confidence: stage 1's
/// classification) and stage "stage2" (the selected confidence).
std::array<NewExtraction, 2> two_stage_records(const TwoStageResult& result, ArticleId article,
                                               WallTime created);

}  // namespace sentinel::intel
