// From a language model's answer text to Sentinel's values: the answer is
// parsed as one JSON object, checked against its schema (llm_schema.h), and
// mapped to Incident / Extraction. Places are geocoded with the project's
// gazetteer, so coordinates and districts come from the gazetteer, never
// from the model.
//
// Stateless functions; thread-safe as long as the gazetteer is (it is
// read-only after build()).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"
#include "intel/extraction.h"
#include "intel/gazetteer.h"

namespace sentinel::intel {

/// What the mapping needs besides the answer.
struct AnswerContext {
  /// Geocodes the model's place text; nullptr: the place keeps only its text.
  const Gazetteer* gazetteer = nullptr;
  /// The article's publication time (ms, UTC; 0 = unknown): bounds an
  /// incident whose time the model gave as null.
  int64_t published_ms = 0;
  /// UTC offset in minutes in force at a UTC instant, for date-times written
  /// without an offset and for civil days. Empty: UTC.
  std::function<int(int64_t)> utc_offset_minutes;
};

/// Parses `text` as one JSON object (surrounding white space and one
/// Markdown code fence, which models without a JSON mode add, are allowed;
/// nothing else) and checks it against `schema`. Every failure is an error
/// of field kExtractPermanent whose reason says what was wrong.
Result<nlohmann::json> parse_model_answer(std::string_view text, const nlohmann::json& schema);

/// Maps one incident object of a schema-checked answer (single-stage or a
/// domain result). The confidence's `value` is the model's; its factors
/// `place` and `time` follow from the precision found, and `type` and
/// `relevance` are the model's confidence.
Incident incident_from_json(const nlohmann::json& incident, const AnswerContext& context);

/// Maps a schema-checked single-stage answer: an empty Extraction when its
/// type is "none", else one incident. `provider` goes to Extraction::provider.
Extraction extraction_from_answer(const nlohmann::json& answer, const AnswerContext& context,
                                  std::string provider);

/// Geocodes a place text ("the 1300 block of W 63rd St, Englewood"): the
/// most precise gazetteer place named in it (a place contained in another
/// place the text names wins ties: "San Miguel, El Salvador"), with block
/// numbers placed along the street. No place found: only `text` is set.
Place geocode_place(const Gazetteer& gazetteer, std::string_view text);

}  // namespace sentinel::intel
