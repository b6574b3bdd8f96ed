// BuiltinExtractor: the offline, rule-based extraction provider (the
// default). One pass of two phrase matchers (gazetteer places; a lexicon of
// incident evidence, organisations, actor and target words) and the date
// resolver over the article's tokens, then per-sentence events grouped into
// incidents with their slots and a confidence (docs/EXTRACTION.md).
//
// Lifecycle: construct once at start-up (reads the organisation lexicon
// files; throws std::runtime_error naming the file on bad input), then call
// extract()/run() from any number of threads: the object is immutable and
// per-call scratch space is thread-local.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"
#include "intel/gazetteer.h"

namespace sentinel::intel {

struct BuiltinExtractorOptions {
  /// Perpetrator-organisation lexicons: one organisation per line, its names
  /// separated by " / " ("FARABUNDO MARTI NATIONAL LIBERATION FRONT / FMLN"),
  /// optionally a tab and its class (guerrilla, state, criminal); '#' lines
  /// are comments.
  std::vector<std::string> organisation_files;
  /// The same, as text (for tests and embedded defaults).
  std::vector<std::string> organisation_texts;
  /// Top-level places (gazetteer `country` values: "CHICAGO", "EL
  /// SALVADOR") incidents are reported for; an incident placed elsewhere is
  /// dropped. Empty: anywhere.
  std::vector<std::string> home_regions;
  /// UTC offset in minutes in force at a UTC instant (ms), to turn the
  /// publication time into a local day and civil days into ms. Default: UTC.
  std::function<int(int64_t)> utc_offset_minutes;
  /// An incident dated more than this many days before the anchor (dateline
  /// or publication day) is background, not news: not reported.
  int recent_days = 62;
  /// Incidents whose confidence is below this are not reported.
  double min_confidence = 0.35;
  /// Political-violence rules (the MUC-3/4 task definition): clashes
  /// between armed forces and guerrillas, and casualties among guerrillas,
  /// are not incidents; attacks on purely military targets are not either.
  bool political_violence_rules = false;
  /// When the text names no place for an incident, fall back to the
  /// dateline city (true) or only to its country (false).
  bool dateline_city_fallback = false;
  /// ... and before that, to the place of the article's first sentence.
  bool lead_place_fallback = true;
  /// Relevance model: "bias<TAB>w", "cue:NAME<TAB>w" and "word:TOKEN<TAB>w"
  /// lines (docs/EXTRACTION.md); relevance = sigmoid(bias + cue weights +
  /// weights of the article's distinct words). Empty: built-in cue weights.
  std::string relevance_model_file;
};

class BuiltinExtractor final : public ExtractionProvider {
 public:
  BuiltinExtractor(std::shared_ptr<const Gazetteer> gazetteer, BuiltinExtractorOptions options);
  ~BuiltinExtractor() override;
  BuiltinExtractor(const BuiltinExtractor&) = delete;
  BuiltinExtractor& operator=(const BuiltinExtractor&) = delete;

  std::string_view name() const override { return "builtin"; }
  /// Never fails for well-formed input; an article with no text is an
  /// error (field "text").
  Result<Extraction> extract(const ArticleText& article) override;
  /// The extraction itself (thread-safe).
  Extraction run(const ArticleText& article) const;

  const Gazetteer& gazetteer() const { return *gazetteer_; }

  /// Every relevance cue the extractor can emit (Confidence::cues values).
  static std::span<const std::string_view> cue_names();

  /// The compiled word lists (opaque; defined in the .cpp).
  struct Lexicon;

 private:
  std::shared_ptr<const Gazetteer> gazetteer_;
  BuiltinExtractorOptions options_;
  std::unique_ptr<Lexicon> lexicon_;
};

}  // namespace sentinel::intel
