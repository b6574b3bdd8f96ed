// Extraction <-> JSON: what the store keeps as an extraction's result_json,
// what the curation API shows as an item's "fields", and what approval reads
// back to build the incident draft.
//
// Shape: {"provider":"builtin","incidents":[Fields, ...]} where Fields is
//   {"type":"shooting","category":"crime","time":ms|null,"time_end":ms|null,
//    "time_precision":"day","time_text":"yesterday","place":"W 63rd St",
//    "qualified":"CHICAGO: ...","place_text":"..","lat":41.7|null,"lon":-87.6|null,
//    "district":"ENGLEWOOD","place_precision":"street",
//    "actors":[{"role":"victim","description":"a 17-year-old man","organisation":""}],
//    "perpetrator_org":"","targets":[".."],"evidence":"..","confidence":0.72,
//    "confidence_factors":{"type":..,"relevance":..,"place":..,"time":..,"actors":..},"cues":[..]}
// Cold path (once per article): nlohmann/json.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "intel/extraction.h"

namespace sentinel::intel {

/// The JSON above for a whole extraction.
std::string extraction_to_json(const Extraction& extraction);

/// The fields of one incident, as parsed back from result_json: what an
/// approval turns into an incident (a curator's corrections are applied to it).
struct IncidentFields {
  std::string type;  ///< incident type name ("" when the extraction found none)
  std::optional<int64_t> time_ms;
  std::string place;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string district;
  double confidence = 0;
  std::vector<std::pair<std::string, std::string>> actors;  ///< (role, description)
  std::string perpetrator_org;
  std::vector<std::string> targets;
  std::string evidence;
};

/// The main (first) incident of a stored result_json; an error names what
/// is malformed. An extraction with no incident gives empty fields.
Result<IncidentFields> main_incident_fields(std::string_view result_json);

/// The names of triage_field_names() an incident fills ("date", "place", ...).
std::vector<std::string> present_triage_fields(const Incident& incident);

}  // namespace sentinel::intel
