#include "intel/llm_schema.h"

#include <array>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "intel/incident_types.h"

namespace sentinel::intel {

namespace {

using nlohmann::json;

std::string type_name_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    default: return "other";
  }
}

bool has_type(const json& v, std::string_view name) {
  if (name == "null") return v.is_null();
  if (name == "object") return v.is_object();
  if (name == "array") return v.is_array();
  if (name == "string") return v.is_string();
  if (name == "boolean") return v.is_boolean();
  if (name == "number") return v.is_number();
  if (name == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d);
  }
  return false;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return false;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int number_at(std::string_view s, size_t pos, size_t count) {
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4) || !digits(s, 5, 2) ||
      !digits(s, 8, 2)) {
    return false;
  }
  std::chrono::year_month_day ymd{std::chrono::year(number_at(s, 0, 4)),
                                  std::chrono::month(static_cast<unsigned>(number_at(s, 5, 2))),
                                  std::chrono::day(static_cast<unsigned>(number_at(s, 8, 2)))};
  return ymd.ok();
}

// YYYY-MM-DDTHH:MM[:SS[.f+]][Z|(+|-)HH:MM]
bool valid_local_date_time(std::string_view s) {
  if (s.size() < 16 || !valid_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't')) return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2)) return false;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59) return false;
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, i + 1, 2) || number_at(s, i + 1, 2) > 60) return false;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j == i + 1) return false;
      i = j;
    }
  }
  if (i == s.size()) return true;
  if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) return true;
  if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && digits(s, i + 1, 2) && s[i + 3] == ':' &&
      digits(s, i + 4, 2)) {
    return number_at(s, i + 1, 2) <= 23 && number_at(s, i + 4, 2) <= 59;
  }
  return false;
}

std::string list_values(const json& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

constexpr std::array<std::string_view, 22> kKnownKeywords = {
    "type",     "enum",      "const",     "properties", "required",  "additionalProperties",
    "items",    "minItems",  "maxItems",  "minimum",    "maximum",   "minLength",
    "maxLength", "anyOf",    "format",    "title",      "description", "$schema",
    "$id",      "examples",  "default",   "$comment"};

class Validator {
 public:
  std::string check(const json& schema, const json& v, const std::string& path) {
    if (schema.is_boolean()) return schema.get<bool>() ? "" : path + ": not allowed";
    if (!schema.is_object()) return path + ": schema is not an object";
    for (const auto& [key, unused] : schema.items()) {
      bool known = false;
      for (auto k : kKnownKeywords) known = known || k == key;
      if (!known) return path + ": schema uses unsupported keyword \"" + key + "\"";
    }
    if (auto it = schema.find("type"); it != schema.end()) {
      bool ok = false;
      if (it->is_string()) {
        ok = has_type(v, it->get<std::string>());
      } else {
        for (const auto& t : *it) ok = ok || (t.is_string() && has_type(v, t.get<std::string>()));
      }
      if (!ok) {
        return path + ": expected " + (it->is_string() ? it->get<std::string>() : list_values(*it)) +
               ", got " + type_name_of(v);
      }
    }
    if (auto it = schema.find("const"); it != schema.end() && *it != v) {
      return path + ": must be " + it->dump();
    }
    if (auto it = schema.find("enum"); it != schema.end()) {
      bool found = false;
      for (const auto& e : *it) found = found || e == v;
      if (!found) return path + ": not one of " + list_values(*it);
    }
    if (auto it = schema.find("anyOf"); it != schema.end()) {
      std::string first;
      bool any = false;
      for (const auto& alt : *it) {
        std::string e = check(alt, v, path);
        if (e.empty()) {
          any = true;
          break;
        }
        if (first.empty()) first = e;
      }
      if (!any) return path + ": matches none of the allowed forms (" + first + ")";
    }
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (auto e = bound(schema, "minLength", code_points(s), true, path, "characters"); !e.empty())
        return e;
      if (auto e = bound(schema, "maxLength", code_points(s), false, path, "characters"); !e.empty())
        return e;
      if (auto it = schema.find("format"); it != schema.end()) {
        const std::string f = it->get<std::string>();
        if (f == "date" && !valid_date(s)) return path + ": not a date (YYYY-MM-DD)";
        if (f == "local-date-time" && !valid_local_date_time(s))
          return path + ": not an ISO-8601 date-time (YYYY-MM-DDTHH:MM)";
        if (f != "date" && f != "local-date-time") return path + ": schema uses unknown format " + f;
      }
    }
    if (v.is_number()) {
      double d = v.get<double>();
      if (auto it = schema.find("minimum"); it != schema.end() && d < it->get<double>())
        return path + ": below the minimum " + it->dump();
      if (auto it = schema.find("maximum"); it != schema.end() && d > it->get<double>())
        return path + ": above the maximum " + it->dump();
    }
    if (v.is_array()) {
      if (auto e = bound(schema, "minItems", v.size(), true, path, "items"); !e.empty()) return e;
      if (auto e = bound(schema, "maxItems", v.size(), false, path, "items"); !e.empty()) return e;
      if (auto it = schema.find("items"); it != schema.end()) {
        for (size_t i = 0; i < v.size(); ++i) {
          if (auto e = check(*it, v[i], path + "[" + std::to_string(i) + "]"); !e.empty()) return e;
        }
      }
    }
    if (v.is_object()) {
      static const json kEmpty = json::object();
      auto pit = schema.find("properties");
      const json& props = pit != schema.end() ? *pit : kEmpty;
      if (auto it = schema.find("required"); it != schema.end()) {
        for (const auto& r : *it) {
          if (!v.contains(r.get<std::string>())) return path + ": missing required \"" + r.get<std::string>() + "\"";
        }
      }
      auto ait = schema.find("additionalProperties");
      for (const auto& [key, value] : v.items()) {
        std::string sub = path + "." + key;
        if (auto p = props.find(key); p != props.end()) {
          if (auto e = check(*p, value, sub); !e.empty()) return e;
        } else if (ait != schema.end()) {
          if (ait->is_boolean() && !ait->get<bool>()) return sub + ": unexpected property";
          if (auto e = check(*ait, value, sub); !e.empty()) return e;
        }
      }
    }
    return "";
  }

 private:
  static std::string bound(const json& schema, const char* key, size_t n, bool lower,
                           const std::string& path, const char* unit) {
    auto it = schema.find(key);
    if (it == schema.end()) return "";
    auto limit = it->get<size_t>();
    if (lower ? n >= limit : n <= limit) return "";
    return path + ": " + (lower ? "fewer than " : "more than ") + std::to_string(limit) + " " + unit;
  }
};

json nullable_string(size_t max_length) {
  return json{{"type", json::array({"string", "null"})}, {"maxLength", max_length}};
}

json text(size_t max_length) {
  return json{{"type", "string"}, {"minLength", 1}, {"maxLength", max_length}};
}

json time_schema() {
  return json{{"description", "when the incident happened: a date, a local date-time, or null"},
              {"anyOf", json::array({json{{"type", "null"}},
                                     json{{"type", "string"}, {"format", "date"}},
                                     json{{"type", "string"}, {"format", "local-date-time"}}})}};
}

json role_enum() { return json::array({"victim", "suspect", "officer", "witness", "agency"}); }

// The incident object shared by the single-stage answer and the domain
// results; `types` is the allowed type enum.
json incident_schema(json types) {
  return json{
      {"type", "object"},
      {"additionalProperties", false},
      {"required",
       json::array({"type", "time", "place", "actors", "perpetrator_org", "targets", "confidence"})},
      {"properties",
       {{"type", {{"type", "string"}, {"enum", std::move(types)}}},
        {"time", time_schema()},
        {"place", nullable_string(300)},
        {"actors",
         {{"type", "array"},
          {"maxItems", 50},
          {"items",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", json::array({"role", "description"})},
            {"properties", {{"role", {{"enum", role_enum()}}}, {"description", text(300)}}}}}}},
        {"perpetrator_org", nullable_string(200)},
        {"targets",
         {{"type", "array"},
          {"maxItems", 50},
          {"items",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", json::array({"description", "kind"})},
            {"properties",
             {{"description", text(300)}, {"kind", {{"enum", json::array({"physical", "human"})}}}}}}}}},
        {"confidence", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
        {"evidence", nullable_string(1000)}}}};
}

constexpr std::array<std::string_view, 3> kDomains = {"political_violence", "crime", "enforcement"};

bool type_in_domain(std::string_view domain, IncidentType t) {
  if (t == IncidentType::kUnknown) return false;
  // Political violence is the MUC-3/4 domain: the types with a MUC fill.
  if (domain == "political_violence") return !muc_type_name(t).empty();
  if (domain == "crime") return incident_category(t) == "crime";
  if (domain == "enforcement") return incident_category(t) == "enforcement";
  return false;
}

json domain_types(std::string_view domain) {
  json types = json::array();
  for (int i = 1; i < static_cast<int>(IncidentType::kCount); ++i) {
    auto t = static_cast<IncidentType>(i);
    if (type_in_domain(domain, t)) types.push_back(std::string(incident_type_name(t)));
  }
  return types;
}

json build_domain_schema(std::string_view domain) {
  return json{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"title", "sentinel stage-2 " + std::string(domain) + " result"},
              {"type", "object"},
              {"additionalProperties", false},
              {"required", json::array({"domain", "incidents"})},
              {"properties",
               {{"domain", {{"const", std::string(domain)}}},
                {"incidents",
                 {{"type", "array"}, {"maxItems", 10}, {"items", incident_schema(domain_types(domain))}}}}}};
}

}  // namespace

std::string validate_json(const nlohmann::json& schema, const nlohmann::json& value) {
  return Validator().check(schema, value, "$");
}

const nlohmann::json& extraction_schema() {
  static const json schema = [] {
    json types = json::array();
    for (int i = 1; i < static_cast<int>(IncidentType::kCount); ++i) {
      types.push_back(std::string(incident_type_name(static_cast<IncidentType>(i))));
    }
    types.push_back(std::string(kNoIncidentType));
    json s = incident_schema(std::move(types));
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
    s["title"] = "sentinel single-stage extraction";
    return s;
  }();
  return schema;
}

const nlohmann::json& stage1_schema() {
  static const json schema = [] {
    json domains = json::array();
    for (auto d : kDomains) domains.push_back(std::string(d));
    json ids = {{"type", "array"}, {"maxItems", 50}, {"items", text(40)}};
    json role = role_enum();
    role.push_back("other");
    return json{
        {"$schema", "https://json-schema.org/draft/2020-12/schema"},
        {"title", "sentinel stage-1 intermediate representation"},
        {"type", "object"},
        {"additionalProperties", false},
        {"required", json::array({"entities", "events", "legal", "quotes", "classification"})},
        {"properties",
         {{"entities",
           {{"type", "array"},
            {"maxItems", 100},
            {"items",
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", json::array({"id", "kind", "text"})},
              {"properties",
               {{"id", text(40)},
                {"kind",
                 {{"enum", json::array({"person", "group", "organisation", "place", "object", "weapon",
                                        "vehicle", "other"})}}},
                {"text", text(300)},
                {"role", {{"anyOf", json::array({json{{"type", "null"}}, json{{"enum", role}}})}}}}}}}}},
          {"events",
           {{"type", "array"},
            {"maxItems", 50},
            {"items",
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", json::array({"id", "description", "time", "place", "participants"})},
              {"properties",
               {{"id", text(40)},
                {"description", text(500)},
                {"time", time_schema()},
                {"place", nullable_string(300)},
                {"participants", ids},
                {"outcome", nullable_string(300)}}}}}}},
          {"legal",
           {{"type", "array"},
            {"maxItems", 50},
            {"items",
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", json::array({"kind", "description"})},
              {"properties",
               {{"kind",
                 {{"enum", json::array({"arrest", "charge", "warrant", "court", "sentence", "other"})}}},
                {"description", text(500)},
                {"subjects", ids}}}}}}},
          {"quotes",
           {{"type", "array"},
            {"maxItems", 50},
            {"items",
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", json::array({"speaker", "text"})},
              {"properties", {{"speaker", nullable_string(200)}, {"text", text(1000)}}}}}}},
          {"classification",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", json::array({"is_incident_report", "domains", "confidence"})},
            {"properties",
             {{"is_incident_report", {{"type", "boolean"}}},
              {"domains", {{"type", "array"}, {"maxItems", 3}, {"items", {{"enum", domains}}}}},
              {"confidence", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
              {"summary", nullable_string(1000)}}}}}}}};
  }();
  return schema;
}

const nlohmann::json* domain_schema(std::string_view domain) {
  static const std::array<json, kDomains.size()> schemas = [] {
    std::array<json, kDomains.size()> out;
    for (size_t i = 0; i < kDomains.size(); ++i) out[i] = build_domain_schema(kDomains[i]);
    return out;
  }();
  for (size_t i = 0; i < kDomains.size(); ++i) {
    if (kDomains[i] == domain) return &schemas[i];
  }
  return nullptr;
}

std::span<const std::string_view> domain_names() { return kDomains; }

bool domain_has_type(std::string_view domain, std::string_view type_name) {
  auto t = parse_incident_type(type_name);
  return t && type_in_domain(domain, *t);
}

}  // namespace sentinel::intel
