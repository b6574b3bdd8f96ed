#include "intel/extraction_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sentinel::intel {
namespace {

using nlohmann::json;

json number_or_null(double v) { return v == v ? json(v) : json(nullptr); }

json incident_json(const Incident& in) {
  json j;
  j["type"] = in.type == IncidentType::kUnknown ? "" : std::string(incident_type_name(in.type));
  j["category"] = std::string(incident_category(in.type));
  const bool dated = in.occurred.precision != TimePrecision::kNone;
  j["time"] = dated ? json(in.occurred.start_ms) : json(nullptr);
  j["time_end"] = dated ? json(in.occurred.end_ms) : json(nullptr);
  j["time_precision"] = std::string(time_precision_name(in.occurred.precision));
  j["time_text"] = in.occurred.text;
  j["place"] = in.place.name.empty() ? in.place.text : in.place.name;
  j["qualified"] = in.place.qualified;
  j["place_text"] = in.place.text;
  j["lat"] = number_or_null(in.place.lat);
  j["lon"] = number_or_null(in.place.lon);
  j["district"] = in.place.district;
  j["place_precision"] = std::string(place_precision_name(in.place.precision));
  json actors = json::array();
  for (const Actor& a : in.actors) {
    actors.push_back({{"role", std::string(actor_role_name(a.role))},
                      {"description", a.text},
                      {"organisation", a.organisation}});
  }
  j["actors"] = std::move(actors);
  j["perpetrator_org"] = in.perpetrator_org;
  json targets = json::array();
  for (const Target& t : in.targets) targets.push_back(t.text);
  j["targets"] = std::move(targets);
  j["evidence"] = in.evidence;
  j["confidence"] = in.confidence.value;
  j["confidence_factors"] = {{"type", in.confidence.type},     {"relevance", in.confidence.relevance},
                             {"place", in.confidence.place},   {"time", in.confidence.time},
                             {"actors", in.confidence.actors}};
  j["cues"] = in.confidence.cues;
  return j;
}

}  // namespace

std::string extraction_to_json(const Extraction& extraction) {
  json j;
  j["provider"] = extraction.provider;
  json incidents = json::array();
  for (const Incident& in : extraction.incidents) incidents.push_back(incident_json(in));
  j["incidents"] = std::move(incidents);
  // Invalid UTF-8 in article text must not make the whole result unwritable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<IncidentFields> main_incident_fields(std::string_view result_json) {
  const json j = json::parse(result_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error{"result_json", "is not a JSON object"};
  IncidentFields f;
  const auto it = j.find("incidents");
  if (it == j.end() || !it->is_array()) return Error{"result_json.incidents", "is missing or not an array"};
  if (it->empty()) return f;
  const json& in = it->front();
  if (!in.is_object()) return Error{"result_json.incidents[0]", "is not an object"};
  auto text = [&](const char* key) -> std::string {
    const auto k = in.find(key);
    return k != in.end() && k->is_string() ? k->get<std::string>() : std::string();
  };
  auto number = [&](const char* key) -> std::optional<double> {
    const auto k = in.find(key);
    if (k == in.end() || !k->is_number()) return std::nullopt;
    return k->get<double>();
  };
  f.type = text("type");
  if (const auto t = in.find("time"); t != in.end() && t->is_number_integer()) f.time_ms = t->get<int64_t>();
  f.place = text("place");
  f.lat = number("lat");
  f.lon = number("lon");
  if (!f.lat || !f.lon) f.lat = f.lon = std::nullopt;
  f.district = text("district");
  f.confidence = number("confidence").value_or(0);
  if (const auto a = in.find("actors"); a != in.end() && a->is_array()) {
    for (const json& actor : *a) {
      if (!actor.is_object()) continue;
      f.actors.emplace_back(actor.value("role", std::string("victim")), actor.value("description", std::string()));
    }
  }
  f.perpetrator_org = text("perpetrator_org");
  if (const auto t = in.find("targets"); t != in.end() && t->is_array()) {
    for (const json& target : *t) {
      if (target.is_string()) f.targets.push_back(target.get<std::string>());
    }
  }
  f.evidence = text("evidence");
  return f;
}

std::vector<std::string> present_triage_fields(const Incident& in) {
  std::vector<std::string> out;
  if (in.occurred.precision >= TimePrecision::kDay) out.emplace_back("date");
  if (in.occurred.precision == TimePrecision::kExact) out.emplace_back("time");
  if (in.place.precision != PlacePrecision::kNone) out.emplace_back("place");
  if (in.place.has_coordinates()) out.emplace_back("coordinates");
  if (!in.actors.empty()) out.emplace_back("actors");
  for (const Actor& a : in.actors) {
    const std::string role(actor_role_name(a.role));
    if (std::find(out.begin(), out.end(), role) == out.end()) out.push_back(role);
  }
  return out;
}

}  // namespace sentinel::intel
