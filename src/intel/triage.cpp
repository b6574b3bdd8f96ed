#include "intel/triage.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

namespace sentinel::intel {
namespace {

constexpr std::array<std::string_view, 12> kFieldNames = {
    "date", "time", "place", "coordinates", "actors", "victim", "suspect", "officer", "witness", "agency",
    "weapon", "charges"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ' ';
  });
}

bool in_unit_range(double v) { return std::isfinite(v) && v >= 0.0 && v <= 1.0; }

Status check_override(const ThresholdOverride& o, const std::string& path) {
  if (o.approve && !in_unit_range(*o.approve)) return make_error(path + ".approve", "must be a number in [0, 1]");
  if (o.reject && !in_unit_range(*o.reject)) return make_error(path + ".reject", "must be a number in [0, 1]");
  return Ok{};
}

// Shortest text that reads back as the same double: 0.85 -> "0.85", 0.8499 -> "0.8499".
std::string format_threshold(double v) { return fmt::format("{}", v); }

nlohmann::json override_to_json(const ThresholdOverride& o) {
  nlohmann::json j = nlohmann::json::object();
  if (o.approve) j["approve"] = *o.approve;
  if (o.reject) j["reject"] = *o.reject;
  return j;
}

// Reads {"approve": x, "reject": y} members of `j` into `o`; other keys are
// left for the caller, which names them.
Status read_override(const nlohmann::json& j, const std::string& path, ThresholdOverride& o) {
  for (const char* key : {"approve", "reject"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number()) return make_error(path + "." + key, "must be a number");
    (std::string_view(key) == "approve" ? o.approve : o.reject) = it->get<double>();
  }
  return Ok{};
}

}  // namespace

std::string_view to_string(TriageOutcome outcome) {
  switch (outcome) {
    case TriageOutcome::kAutoApprove: return "auto_approve";
    case TriageOutcome::kReview: return "review";
    case TriageOutcome::kAutoReject: return "auto_reject";
  }
  return "review";
}

std::span<const std::string_view> triage_field_names() { return kFieldNames; }

TriageRules default_triage_rules() {
  TriageRules r;
  r.categories["enforcement"].approve = 0.90;
  r.categories["crime"].approve = 0.85;
  for (const char* type : {"shooting", "homicide", "bombing"}) {
    r.incident_types[type].required_fields = {"place", "date"};
  }
  return r;
}

Status validate(const TriageRules& rules) {
  if (!in_unit_range(rules.approve)) return make_error("approve", "must be a number in [0, 1]");
  if (!in_unit_range(rules.reject)) return make_error("reject", "must be a number in [0, 1]");
  if (rules.reject > rules.approve) {
    return make_error("reject", fmt::format("{} is above approve {}", rules.reject, rules.approve));
  }
  for (const auto& [name, o] : rules.categories) {
    std::string path = "categories." + name;
    if (!valid_name(name)) return make_error(path, "name must be 1-64 lower-case letters, digits, ' ', '_' or '-'");
    if (Status s = check_override(o, path); !s) return s;
  }
  for (const auto& [name, rule] : rules.incident_types) {
    std::string path = "incident_types." + name;
    if (!valid_name(name)) return make_error(path, "name must be 1-64 lower-case letters, digits, ' ', '_' or '-'");
    if (Status s = check_override(rule.thresholds, path); !s) return s;
    std::set<std::string_view> seen;
    for (const std::string& field : rule.required_fields) {
      if (std::find(kFieldNames.begin(), kFieldNames.end(), field) == kFieldNames.end()) {
        return make_error(path + ".required_fields", "unknown field '" + field + "'");
      }
      if (!seen.insert(field).second) return make_error(path + ".required_fields", "'" + field + "' listed twice");
    }
  }
  // Each threshold resolves on its own (type, else category, else default),
  // so every pairing must still keep reject <= approve.
  std::vector<std::pair<std::string, const ThresholdOverride*>> cats = {{"", nullptr}};
  for (const auto& [name, o] : rules.categories) cats.emplace_back("categories." + name, &o);
  std::vector<std::pair<std::string, const ThresholdOverride*>> types = {{"", nullptr}};
  for (const auto& [name, rule] : rules.incident_types) types.emplace_back("incident_types." + name, &rule.thresholds);
  for (const auto& [cat_path, cat] : cats) {
    for (const auto& [type_path, type] : types) {
      double approve = rules.approve, reject = rules.reject;
      if (cat && cat->approve) approve = *cat->approve;
      if (cat && cat->reject) reject = *cat->reject;
      if (type && type->approve) approve = *type->approve;
      if (type && type->reject) reject = *type->reject;
      if (reject > approve) {
        std::string where = type_path.empty() ? cat_path : cat_path.empty() ? type_path : type_path + " with " + cat_path;
        return make_error(where, fmt::format("resolves to reject {} above approve {}", reject, approve));
      }
    }
  }
  return Ok{};
}

Result<TriageRules> triage_rules_from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("", "triage rules are not valid JSON");
  if (!j.is_object()) return make_error("", "triage rules must be a JSON object");
  TriageRules rules;
  rules.categories.clear();
  rules.incident_types.clear();
  for (const auto& [key, value] : j.items()) {
    if (key == "approve" || key == "reject") {
      if (!value.is_number()) return make_error(key, "must be a number");
      (key == "approve" ? rules.approve : rules.reject) = value.get<double>();
    } else if (key == "categories" || key == "incident_types") {
      if (!value.is_object()) return make_error(key, "must be an object");
      for (const auto& [name, body] : value.items()) {
        std::string path = key + "." + name;
        if (!body.is_object()) return make_error(path, "must be an object");
        ThresholdOverride o;
        if (Status s = read_override(body, path, o); !s) return s.error();
        std::vector<std::string> required;
        for (const auto& [member, v] : body.items()) {
          if (member == "approve" || member == "reject") continue;
          if (member == "required_fields" && key == "incident_types") {
            if (!v.is_array()) return make_error(path + ".required_fields", "must be an array of strings");
            for (const auto& f : v) {
              if (!f.is_string()) return make_error(path + ".required_fields", "must be an array of strings");
              required.push_back(f.get<std::string>());
            }
            continue;
          }
          return make_error(path + "." + member, "unknown key");
        }
        if (key == "categories") {
          rules.categories[name] = o;
        } else {
          rules.incident_types[name] = IncidentTypeRule{o, std::move(required)};
        }
      }
    } else {
      return make_error(key, "unknown key");
    }
  }
  if (Status s = validate(rules); !s) return s.error();
  return rules;
}

std::string triage_rules_to_json(const TriageRules& rules) {
  nlohmann::json j;
  j["approve"] = rules.approve;
  j["reject"] = rules.reject;
  j["categories"] = nlohmann::json::object();
  for (const auto& [name, o] : rules.categories) j["categories"][name] = override_to_json(o);
  j["incident_types"] = nlohmann::json::object();
  for (const auto& [name, rule] : rules.incident_types) {
    nlohmann::json t = override_to_json(rule.thresholds);
    if (!rule.required_fields.empty()) t["required_fields"] = rule.required_fields;
    j["incident_types"][name] = std::move(t);
  }
  return j.dump();
}

struct Triage::Snapshot {
  TriageRules rules;
  uint64_t version = 0;
};

Triage::Triage(TriageRules rules) {
  if (Status s = validate(rules); !s) throw std::invalid_argument("triage rules: " + s.error().to_string());
  current_.store(std::make_shared<const Snapshot>(Snapshot{std::move(rules), 1}));
}

Status Triage::replace_rules(TriageRules rules) {
  if (Status s = validate(rules); !s) return s;
  // Versions must not repeat when two admins save at once: retry on a race.
  std::shared_ptr<const Snapshot> old = current_.load();
  auto next = std::make_shared<const Snapshot>(Snapshot{rules, old->version + 1});
  while (!current_.compare_exchange_weak(old, next)) {
    next = std::make_shared<const Snapshot>(Snapshot{rules, old->version + 1});
  }
  return Ok{};
}

std::shared_ptr<const TriageRules> Triage::rules() const {
  std::shared_ptr<const Snapshot> s = current_.load();
  return std::shared_ptr<const TriageRules>(s, &s->rules);
}

uint64_t Triage::version() const { return current_.load()->version; }

TriageDecision Triage::decide(const TriageInput& input) const {
  std::shared_ptr<const Snapshot> snap = current_.load();
  const TriageRules& rules = snap->rules;
  TriageDecision d;
  d.rules_version = snap->version;
  d.approve_threshold = rules.approve;
  d.reject_threshold = rules.reject;
  std::string approve_from = "default", reject_from = "default";

  std::string category = lower(input.category);
  std::string type = lower(input.incident_type);
  if (auto it = rules.categories.find(category); !category.empty() && it != rules.categories.end()) {
    if (it->second.approve) {
      d.approve_threshold = *it->second.approve;
      approve_from = "category " + category;
    }
    if (it->second.reject) {
      d.reject_threshold = *it->second.reject;
      reject_from = "category " + category;
    }
  }
  const IncidentTypeRule* type_rule = nullptr;
  if (auto it = rules.incident_types.find(type); !type.empty() && it != rules.incident_types.end()) {
    type_rule = &it->second;
    if (type_rule->thresholds.approve) {
      d.approve_threshold = *type_rule->thresholds.approve;
      approve_from = "incident type " + type;
    }
    if (type_rule->thresholds.reject) {
      d.reject_threshold = *type_rule->thresholds.reject;
      reject_from = "incident type " + type;
    }
  }
  d.reasons.push_back("approve at " + format_threshold(d.approve_threshold) + " (" + approve_from + "), reject below " +
                      format_threshold(d.reject_threshold) + " (" + reject_from + ")");
  if (type_rule != nullptr) {
    for (const std::string& field : type_rule->required_fields) {
      if (std::find(input.present_fields.begin(), input.present_fields.end(), field) == input.present_fields.end()) {
        d.missing_fields.push_back(field);
        d.reasons.push_back("missing required field '" + field + "' (incident type " + type + ")");
      }
    }
  }

  const double c = input.confidence;
  if (!in_unit_range(c)) {
    d.outcome = TriageOutcome::kReview;
    d.reasons.push_back("confidence is not a number in [0, 1]: review");
    return d;
  }
  std::string conf = format_threshold(c);
  if (c < d.reject_threshold) {
    d.outcome = TriageOutcome::kAutoReject;
    d.reasons.push_back("confidence " + conf + " < " + format_threshold(d.reject_threshold) + ": auto_reject");
  } else if (c >= d.approve_threshold) {
    if (d.missing_fields.empty()) {
      d.outcome = TriageOutcome::kAutoApprove;
      d.reasons.push_back("confidence " + conf + " >= " + format_threshold(d.approve_threshold) + ": auto_approve");
    } else {
      d.outcome = TriageOutcome::kReview;
      d.reasons.push_back("confidence " + conf + " >= " + format_threshold(d.approve_threshold) +
                          " but required fields are missing: review");
    }
  } else {
    d.outcome = TriageOutcome::kReview;
    d.reasons.push_back("confidence " + conf + " in [" + format_threshold(d.reject_threshold) + ", " +
                        format_threshold(d.approve_threshold) + "): review");
  }
  return d;
}

}  // namespace sentinel::intel
