#include "intel/llm_answer.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "intel/llm_errors.h"
#include "intel/llm_schema.h"

namespace sentinel::intel {

namespace {

using nlohmann::json;

constexpr int64_t kMsPerDay = 86'400'000;

std::string_view trim_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// "```json\n{...}\n```" -> "{...}"; anything else is returned unchanged.
std::string_view strip_fence(std::string_view s) {
  if (s.substr(0, 3) != "```" || s.size() < 6 || s.substr(s.size() - 3) != "```") return s;
  size_t eol = s.find('\n');
  if (eol == std::string_view::npos) return s;
  std::string_view info = trim_space(s.substr(3, eol - 3));
  if (!info.empty() && info != "json" && info != "JSON") return s;
  return trim_space(s.substr(eol + 1, s.size() - 3 - (eol + 1)));
}

int offset_at(const AnswerContext& c, int64_t utc_ms) {
  return c.utc_offset_minutes ? c.utc_offset_minutes(utc_ms) : 0;
}

int32_t local_day(const AnswerContext& c, int64_t utc_ms) {
  int64_t local = utc_ms + static_cast<int64_t>(offset_at(c, utc_ms)) * 60'000;
  int64_t d = local / kMsPerDay;
  if (local % kMsPerDay < 0) --d;
  return static_cast<int32_t>(d);
}

// Local civil time (ms since the epoch as if local were UTC) -> UTC ms.
int64_t local_to_utc(const AnswerContext& c, int64_t local_ms) {
  int64_t guess = local_ms - static_cast<int64_t>(offset_at(c, local_ms)) * 60'000;
  return local_ms - static_cast<int64_t>(offset_at(c, guess)) * 60'000;
}

int num(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

int32_t civil_day(std::string_view date) {
  std::chrono::year_month_day ymd{std::chrono::year(num(date, 0, 4)),
                                  std::chrono::month(static_cast<unsigned>(num(date, 5, 2))),
                                  std::chrono::day(static_cast<unsigned>(num(date, 8, 2)))};
  return static_cast<int32_t>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

// `text` passed the schema's date / local-date-time format check.
OccurredTime occurred_from(const json& value, const AnswerContext& c) {
  OccurredTime t;
  if (!value.is_string()) {
    if (c.published_ms == 0) return t;
    // No time in the answer: the publication day bounds it, as the built-in
    // extractor's default does.
    t.precision = TimePrecision::kApprox;
    t.basis = DateBasis::kDefault;
    t.on_or_before = true;
    t.first_day = t.last_day = local_day(c, c.published_ms);
    t.start_ms = local_to_utc(c, static_cast<int64_t>(t.first_day) * kMsPerDay);
    t.end_ms = local_to_utc(c, static_cast<int64_t>(t.last_day + 1) * kMsPerDay) - 1;
    return t;
  }
  const std::string& s = value.get_ref<const std::string&>();
  t.text = s;
  t.basis = DateBasis::kAbsolute;
  int32_t day = civil_day(s);
  if (s.size() == 10) {
    t.precision = TimePrecision::kDay;
    t.first_day = t.last_day = day;
    t.start_ms = local_to_utc(c, static_cast<int64_t>(day) * kMsPerDay);
    t.end_ms = local_to_utc(c, static_cast<int64_t>(day + 1) * kMsPerDay) - 1;
    return t;
  }
  t.precision = TimePrecision::kExact;
  t.first_day = t.last_day = day;
  t.minute_of_day = num(s, 11, 2) * 60 + num(s, 14, 2);
  int64_t local_ms = static_cast<int64_t>(day) * kMsPerDay + int64_t{t.minute_of_day} * 60'000;
  // The day and minute stay as written (the place's civil time); an explicit
  // offset fixes the instant, else the context's offset function does.
  size_t tz = s.find_first_of("Zz+-", 16);
  if (tz == std::string::npos) {
    t.start_ms = local_to_utc(c, local_ms);
  } else if (s[tz] == 'Z' || s[tz] == 'z') {
    t.start_ms = local_ms;
  } else {
    int minutes = num(s, tz + 1, 2) * 60 + num(s, tz + 4, 2);
    t.start_ms = local_ms - (s[tz] == '-' ? -minutes : minutes) * int64_t{60'000};
  }
  t.end_ms = t.start_ms + 59'999;
  return t;
}

ActorRole role_from(std::string_view r) {
  if (r == "suspect") return ActorRole::kSuspect;
  if (r == "officer") return ActorRole::kOfficer;
  if (r == "witness") return ActorRole::kWitness;
  if (r == "agency") return ActorRole::kAgency;
  return ActorRole::kVictim;
}

double place_factor(PlacePrecision p) {
  switch (p) {
    case PlacePrecision::kCountry: return 0.2;
    case PlacePrecision::kRegion: return 0.4;
    case PlacePrecision::kCity: return 0.6;
    case PlacePrecision::kDistrict: return 0.8;
    case PlacePrecision::kStreet: return 0.9;
    case PlacePrecision::kSite: return 1.0;
    case PlacePrecision::kNone: break;
  }
  return 0;
}

double time_factor(TimePrecision p) {
  switch (p) {
    case TimePrecision::kApprox: return 0.4;
    case TimePrecision::kDay: return 0.8;
    case TimePrecision::kExact: return 1.0;
    case TimePrecision::kNone: break;
  }
  return 0;
}

// True when place `id` lies within a candidate of another mention.
bool inside_other_mention(const Gazetteer& g, const std::vector<PlaceMention>& mentions,
                          const PlaceMention& self, uint32_t id) {
  for (const auto& other : mentions) {
    if (&other == &self) continue;
    for (uint32_t o : other.candidates) {
      if (o != id && g.within(id, o)) return true;
    }
  }
  return false;
}

std::string string_or_empty(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

}  // namespace

Result<nlohmann::json> parse_model_answer(std::string_view text, const nlohmann::json& schema) {
  std::string_view body = strip_fence(trim_space(text));
  json answer = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded()) {
    return make_error(std::string(kExtractPermanent), "model answer is not JSON");
  }
  if (!answer.is_object()) {
    return make_error(std::string(kExtractPermanent), "model answer is not a JSON object");
  }
  if (std::string v = validate_json(schema, answer); !v.empty()) {
    return make_error(std::string(kExtractPermanent), "model answer breaks the schema: " + v);
  }
  return answer;
}

Place geocode_place(const Gazetteer& gazetteer, std::string_view text) {
  Place place;
  place.text = std::string(text);
  TokenizedText tok;
  tokenize(text, tok);
  std::vector<PlaceMention> mentions;
  gazetteer.find(tok, mentions);
  const PlaceMention* best_mention = nullptr;
  int64_t best_id = -1;
  int best_score = -1;
  for (const auto& m : mentions) {
    for (uint32_t id : m.candidates) {
      const PlaceEntry& e = gazetteer.entry(id);
      if (e.demonym) continue;
      // Precision first; a candidate inside another named place beats an
      // equally precise one that is not.
      int score = static_cast<int>(e.precision) * 2;
      if (inside_other_mention(gazetteer, mentions, m, id)) score += 1;
      if (score > best_score) {
        best_score = score;
        best_id = id;
        best_mention = &m;
      }
    }
  }
  if (best_id < 0) return place;
  auto id = static_cast<uint32_t>(best_id);
  const PlaceEntry& e = gazetteer.entry(id);
  place.name = e.name;
  place.qualified = gazetteer.qualified_name(id);
  place.country = e.country;
  place.precision = e.precision;
  place.lat = e.lat;
  place.lon = e.lon;
  place.district = e.district;
  place.district_id = e.district_id;
  if (place.district.empty() && e.parent != PlaceEntry::kNoParent) {
    const PlaceEntry& parent = gazetteer.entry(e.parent);
    if (parent.precision == PlacePrecision::kDistrict || parent.precision == PlacePrecision::kRegion) {
      place.district = parent.name;
      place.district_id = parent.district_id;
    }
  }
  if (e.precision != PlacePrecision::kStreet || !e.has_range) return place;
  // "1300 block of W 63rd St" / "1300 W 63rd St": a number before the street
  // (and its direction word: west and south numbers are negative).
  uint32_t k = best_mention->begin;
  bool negative = false;
  if (k > 0) {
    std::string_view d = tok.norm_token(k - 1);
    if (d == "w" || d == "west" || d == "s" || d == "south" || d == "e" || d == "east" || d == "n" ||
        d == "north") {
      negative = d == "w" || d == "west" || d == "s" || d == "south";
      --k;
    }
  }
  int number = -1;
  if (k >= 3 && tok.norm_token(k - 1) == "of" &&
      (tok.norm_token(k - 2) == "block" || tok.norm_token(k - 2) == "blocks") &&
      (tok.tokens[k - 3].flags & Token::kNumber) != 0) {
    number = std::atoi(std::string(tok.norm_token(k - 3)).c_str());
  } else if (k >= 1 && (tok.tokens[k - 1].flags & Token::kNumber) != 0) {
    number = std::atoi(std::string(tok.norm_token(k - 1)).c_str());
  }
  if (number < 0) return place;
  auto pt = gazetteer.geocode_address(id, negative ? -number : number);
  if (!pt && k == best_mention->begin) pt = gazetteer.geocode_address(id, -number);
  if (pt) {
    place.lat = pt->first;
    place.lon = pt->second;
    place.precision = PlacePrecision::kSite;
  }
  return place;
}

Incident incident_from_json(const nlohmann::json& incident, const AnswerContext& context) {
  Incident inc;
  inc.type = parse_incident_type(incident.at("type").get<std::string>()).value_or(IncidentType::kUnknown);
  inc.occurred = occurred_from(incident.at("time"), context);
  std::string place_text = string_or_empty(incident.at("place"));
  if (!place_text.empty()) {
    if (context.gazetteer != nullptr) {
      inc.place = geocode_place(*context.gazetteer, place_text);
    } else {
      inc.place.text = place_text;
    }
  }
  bool perpetrator = false, victim = false;
  for (const auto& a : incident.at("actors")) {
    Actor actor;
    actor.text = a.at("description").get<std::string>();
    actor.role = role_from(a.at("role").get<std::string>());
    perpetrator = perpetrator || actor.role == ActorRole::kSuspect;
    victim = victim || actor.role == ActorRole::kVictim;
    inc.actors.push_back(std::move(actor));
  }
  inc.perpetrator_org = string_or_empty(incident.at("perpetrator_org"));
  perpetrator = perpetrator || !inc.perpetrator_org.empty();
  for (const auto& t : incident.at("targets")) {
    Target target;
    target.text = t.at("description").get<std::string>();
    target.kind = t.at("kind").get<std::string>() == "human" ? TargetKind::kHuman : TargetKind::kPhysical;
    victim = true;
    inc.targets.push_back(std::move(target));
  }
  if (auto ev = incident.find("evidence"); ev != incident.end()) inc.evidence = string_or_empty(*ev);
  double confidence = incident.at("confidence").get<double>();
  inc.confidence.value = confidence;
  inc.confidence.type = confidence;
  inc.confidence.relevance = confidence;
  inc.confidence.place = place_factor(inc.place.precision);
  inc.confidence.time = time_factor(inc.occurred.precision);
  inc.confidence.actors = (perpetrator ? 0.5 : 0.0) + (victim ? 0.5 : 0.0);
  return inc;
}

Extraction extraction_from_answer(const nlohmann::json& answer, const AnswerContext& context,
                                  std::string provider) {
  Extraction out;
  out.provider = std::move(provider);
  if (answer.at("type").get<std::string>() == kNoIncidentType) return out;
  out.incidents.push_back(incident_from_json(answer, context));
  return out;
}

}  // namespace sentinel::intel
