// CAP 1.2 export: the mapping is documented in cap.h; this file builds the
// XML with pugixml from the stored alert and its pipeline record (read with
// simdjson's DOM: an export is a cold path, a few thousand alerts at most).
#include "alerts/cap.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <pugixml.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "alerts/score.h"

namespace sentinel {

namespace {

constexpr const char* kCapNamespace = "urn:oasis:names:tc:emergency:cap:1.2";
constexpr const char* kAtomNamespace = "http://www.w3.org/2005/Atom";
constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What the CAP message needs from the pipeline record beyond StoredAlert.
struct RecordView {
  std::string category;
  std::optional<double> confidence;
  bool verified = false;
  bool bias_review = false;
  std::vector<std::pair<std::string, double>> terms;  // record order
  std::vector<std::string> sources, event_ids;
  std::optional<double> lat, lon;
  uint64_t count = 0;
};

// Missing or mistyped members keep their defaults: the export shows what the
// record holds and never fails on it.
RecordView read_record(std::string_view record) {
  namespace dom = simdjson::dom;
  thread_local dom::parser parser;
  RecordView r;
  dom::object obj;
  if (parser.parse(record.data(), record.size()).get_object().get(obj)) return r;
  std::string_view s;
  double d = 0;
  bool b = false;
  uint64_t u = 0;
  if (!obj["category"].get_string().get(s)) r.category.assign(s);
  if (!obj["confidence"].get_double().get(d)) r.confidence = d;
  if (!obj["verified"].get_bool().get(b)) r.verified = b;
  if (!obj["bias_review"].get_bool().get(b)) r.bias_review = b;
  if (!obj["count"].get_uint64().get(u)) r.count = u;
  if (!obj["lat"].get_double().get(d)) r.lat = d;
  if (!obj["lon"].get_double().get(d)) r.lon = d;
  dom::object terms;
  if (!obj["terms"].get_object().get(terms)) {
    for (auto [key, value] : terms) {
      if (!value.get_double().get(d)) r.terms.emplace_back(std::string(key), d);
    }
  }
  auto strings = [&](const char* key, std::vector<std::string>& out) {
    dom::array arr;
    if (obj[key].get_array().get(arr)) return;
    for (dom::element e : arr) {
      if (!e.get_string().get(s)) out.emplace_back(s);
    }
  };
  strings("sources", r.sources);
  strings("event_ids", r.event_ids);
  return r;
}

// pugixml writes whatever bytes it is given, but XML 1.0 cannot hold C0
// controls other than tab/LF/CR, U+FFFE/U+FFFF or ill-formed UTF-8 (a parser
// rejects the document). Hand-written: no Debian library offers just this
// filter. Each bad sequence becomes U+FFFD.
std::string xml_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
        out.push_back(static_cast<char>(c));
      } else {
        out += kReplacement;
      }
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    size_t n = 1;
    bool ok = len != 0;
    for (; ok && n < len; ++n) {
      if (i + n >= s.size() || (static_cast<unsigned char>(s[i + n]) & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = cp << 6 | (static_cast<unsigned char>(s[i + n]) & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
               cp == 0xFFFF)) {
      ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      i += std::max<size_t>(n, 1);
    }
  }
  return out;
}

// CAP identifiers, senders and references must not hold spaces, commas, '<'
// or '&' (they are separators in <references>).
std::string cap_token(std::string_view s) {
  std::string out = xml_safe(s);
  for (char& c : out) {
    if (c == ' ' || c == ',' || c == '<' || c == '&') c = '_';
  }
  return out;
}

std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Shown like the record shows it (4 decimals).
std::string term_text(double v) {
  const double r = round_term(v);
  return number_text(r == 0 ? 0.0 : r);
}

std::string atom_time(WallMs t) { return format_rfc3339(event_time_from_ms(t)); }

// Cut to at most `max` bytes on a UTF-8 boundary.
std::string_view cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const char* cap_category(std::string_view category) {
  static constexpr std::pair<std::string_view, const char*> kKeywords[] = {
      {"fire", "Fire"},        {"medical", "Health"},    {"ems", "Health"},       {"health", "Health"},
      {"overdose", "Health"},  {"traffic", "Transport"}, {"crash", "Transport"},  {"transport", "Transport"},
      {"network", "Infra"},    {"cyber", "Infra"},       {"power", "Infra"},      {"outage", "Infra"},
      {"flood", "Met"},        {"storm", "Met"},         {"weather", "Met"},      {"crowd", "Safety"},
      {"hazard", "Safety"},    {"collapse", "Safety"},
  };
  const std::string c = lower(category);
  for (const auto& [keyword, name] : kKeywords) {
    if (contains(c, keyword)) return name;
  }
  return "Security";
}

const char* urgency(const StoredAlert& a) {
  if (a.status == AlertStatus::kTrendWatch) return "Future";
  switch (a.priority) {
    case Priority::kP0:
    case Priority::kP1:
      return "Immediate";
    case Priority::kP2:
      return "Expected";
    case Priority::kP3:
      return "Future";
  }
  return "Unknown";
}

const char* severity(const StoredAlert& a) {
  if (a.status == AlertStatus::kTrendWatch) return "Minor";
  switch (a.priority) {
    case Priority::kP0:
      return "Extreme";
    case Priority::kP1:
      return "Severe";
    case Priority::kP2:
      return "Moderate";
    case Priority::kP3:
      return "Minor";
  }
  return "Unknown";
}

const char* certainty(const StoredAlert& a, const RecordView& r) {
  if (a.verdict == Verdict::kTruePositive) return "Observed";
  if (a.verdict == Verdict::kFalsePositive) return "Unlikely";
  if (a.status == AlertStatus::kTrendWatch) return "Possible";
  if (r.verified && r.confidence && *r.confidence >= 0.9) return "Observed";
  if (r.verified || (r.confidence && *r.confidence > 0.5)) return "Likely";
  return "Possible";
}

void text_child(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(xml_safe(text).c_str());
}

void parameter(pugi::xml_node info, std::string_view name, std::string_view value) {
  pugi::xml_node p = info.append_child("parameter");
  text_child(p, "valueName", name);
  text_child(p, "value", value);
}

std::string join(const std::vector<std::string>& items, std::string_view sep, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) out += sep;
    out += items[i];
  }
  if (items.size() > max_items) out += std::string(sep) + "...";
  return out;
}

bool is_cancel(const StoredAlert& a) { return a.verdict == Verdict::kFalsePositive; }

std::string identifier_of(const StoredAlert& a) {
  std::string id = cap_token(a.alert_id);
  if (a.revision > 0 || is_cancel(a)) id += "-r" + std::to_string(a.revision);
  if (is_cancel(a)) id += "-cancel";
  return id;
}

WallMs sent_of(const StoredAlert& a) {
  const WallMs t = is_cancel(a) && a.verdict_at != 0 ? a.verdict_at : a.updated_at;
  return t != 0 ? t : a.received_at;
}

std::string headline_of(const StoredAlert& a, const RecordView& r, std::string_view event) {
  std::string h = std::string(priority_name(a.priority)) + " ";
  if (a.status == AlertStatus::kTrendWatch) h += "trend watch: ";
  h += event;
  if (!a.district.empty()) {
    h += " in " + a.district;
  } else if (r.lat && r.lon) {
    h += " at " + number_text(*r.lat) + "," + number_text(*r.lon);
  }
  // CAP recommends headlines under 160 characters (SMS-sized).
  return std::string(cut_utf8(h, 160));
}

std::string description_of(const StoredAlert& a, const RecordView& r) {
  std::string d = "Priority " + std::string(priority_name(a.priority)) + ", score " + term_text(a.score) +
                  " (" + std::string(alert_type_name(a.type)) + " " +
                  std::string(alert_status_name(a.status)) + ", revision " + std::to_string(a.revision) +
                  ").";
  if (!r.terms.empty()) {
    d += "\nScore terms:";
    for (size_t i = 0; i < r.terms.size(); ++i) {
      d += (i ? ", " : " ") + r.terms[i].first + " " + term_text(r.terms[i].second);
    }
    d += ".";
  }
  d += "\nConfidence " + (r.confidence ? term_text(*r.confidence) : std::string("not given")) +
       "; verified: " + (r.verified ? "yes" : "no") + ".";
  if (!r.sources.empty()) d += "\nSources: " + join(r.sources, ", ", 20) + ".";
  if (!r.event_ids.empty()) {
    d += "\nEvents (" + std::to_string(std::max<uint64_t>(r.count, r.event_ids.size())) +
         "): " + join(r.event_ids, ", ", 10) + ".";
  }
  if (r.bias_review) d += "\nBias review: ML alerts of this district are under review.";
  if (a.verdict != Verdict::kNone) {
    d += "\nAnalyst verdict: " + std::string(verdict_name(a.verdict));
    if (!a.verdict_note.empty()) d += " (" + a.verdict_note + ")";
    d += ".";
  }
  return d;
}

void append_alert(pugi::xml_node parent, const StoredAlert& a, const CapOptions& o) {
  const RecordView r = read_record(a.record);
  const bool cancel = is_cancel(a);
  const bool update = a.revision > 0;
  const std::string event = r.category.empty() ? std::string(alert_type_name(a.type)) : r.category;

  pugi::xml_node alert = parent.append_child("alert");
  alert.append_attribute("xmlns") = kCapNamespace;
  text_child(alert, "identifier", identifier_of(a));
  text_child(alert, "sender", cap_token(o.sender));
  text_child(alert, "sent", format_cap_time(sent_of(a)));
  text_child(alert, "status", o.status);
  text_child(alert, "msgType", cancel ? "Cancel" : update ? "Update" : "Alert");
  text_child(alert, "scope", o.scope);
  if (o.scope == "Restricted") text_child(alert, "restriction", o.restriction);
  if (cancel) {
    std::string note = "Marked false positive";
    if (!a.verdict_by.empty()) note += " by " + a.verdict_by;
    if (!a.verdict_note.empty()) note += ": " + a.verdict_note;
    text_child(alert, "note", note);
  }
  if (update || cancel) {
    text_child(alert, "references",
               cap_token(o.sender) + "," + cap_token(a.alert_id) + "," + format_cap_time(a.received_at));
  }

  pugi::xml_node info = alert.append_child("info");
  text_child(info, "language", o.language);
  text_child(info, "category", cap_category(event));
  text_child(info, "event", event);
  text_child(info, "urgency", urgency(a));
  text_child(info, "severity", severity(a));
  text_child(info, "certainty", certainty(a, r));
  pugi::xml_node code = info.append_child("eventCode");
  text_child(code, "valueName", "sentinel:type");
  text_child(code, "value", alert_type_name(a.type));
  text_child(info, "onset", format_cap_time(to_ms(a.event_time)));
  text_child(info, "senderName", o.sender_name);
  text_child(info, "headline", headline_of(a, r, event));
  text_child(info, "description", description_of(a, r));
  if (!o.base_url.empty()) text_child(info, "web", o.base_url + "/v1/alerts/" + a.alert_id);

  parameter(info, "sentinel:priority", priority_name(a.priority));
  parameter(info, "sentinel:score", term_text(a.score));
  if (r.confidence) parameter(info, "sentinel:confidence", term_text(*r.confidence));
  parameter(info, "sentinel:verified", r.verified ? "true" : "false");
  for (const auto& [name, value] : r.terms) parameter(info, "sentinel:term:" + name, term_text(value));
  if (!r.sources.empty()) parameter(info, "sentinel:sources", join(r.sources, " ", r.sources.size()));
  parameter(info, "sentinel:event_count", std::to_string(std::max<uint64_t>(r.count, r.event_ids.size())));
  parameter(info, "sentinel:revision", std::to_string(a.revision));
  parameter(info, "sentinel:bias_review", r.bias_review ? "true" : "false");
  if (a.acked()) parameter(info, "sentinel:acknowledged_at", format_cap_time(a.acked_at));
  if (a.verdict != Verdict::kNone) parameter(info, "sentinel:verdict", verdict_name(a.verdict));

  const bool located = r.lat && r.lon;
  if (!a.district.empty() || located) {
    pugi::xml_node area = info.append_child("area");
    text_child(area, "areaDesc",
               !a.district.empty() ? a.district : "Around " + number_text(*r.lat) + "," + number_text(*r.lon));
    if (located) {
      text_child(area, "circle",
                 number_text(*r.lat) + "," + number_text(*r.lon) + " " + number_text(o.radius_km));
    }
  }
}

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
};

std::string save(pugi::xml_document& doc) {
  pugi::xml_node decl = doc.prepend_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  StringWriter w;
  doc.save(w, "  ", pugi::format_default, pugi::encoding_utf8);
  return std::move(w.out);
}

}  // namespace

std::string format_cap_time(WallMs t) {
  // Whole seconds (floor), then the UTC offset the way CAP spells it.
  const WallMs secs = t / 1000 - (t % 1000 < 0 ? 1 : 0);
  std::string s = format_rfc3339(event_time_from_ms(secs * 1000));
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  s += "-00:00";
  return s;
}

Status validate_cap_options(const CapOptions& o) {
  if (o.sender.empty()) return make_error("sender", "must not be empty");
  if (o.sender.find_first_of(" ,<&") != std::string::npos) {
    return make_error("sender", "must not hold spaces, commas, '<' or '&' (CAP 1.2): '" + o.sender + "'");
  }
  static constexpr std::string_view kStatuses[] = {"Actual", "Exercise", "System", "Test", "Draft"};
  if (std::find(std::begin(kStatuses), std::end(kStatuses), o.status) == std::end(kStatuses)) {
    return make_error("status", "must be Actual, Exercise, System, Test or Draft: '" + o.status + "'");
  }
  if (o.scope != "Public" && o.scope != "Restricted") {
    return make_error("scope", "must be Public or Restricted: '" + o.scope + "'");
  }
  if (o.scope == "Restricted" && o.restriction.empty()) {
    return make_error("restriction", "required when scope is Restricted");
  }
  if (!std::isfinite(o.radius_km) || o.radius_km < 0) {
    return make_error("radius_km", "must be a finite number >= 0");
  }
  if (o.feed_id.empty()) return make_error("feed_id", "must not be empty");
  return Ok{};
}

std::string render_cap_alert(const StoredAlert& alert, const CapOptions& options) {
  pugi::xml_document doc;
  append_alert(doc, alert, options);
  return save(doc);
}

std::string render_cap(std::span<const StoredAlert> alerts, const CapOptions& options) {
  WallMs updated = options.now;
  if (updated == 0) {
    for (const StoredAlert& a : alerts) updated = std::max(updated, sent_of(a));
  }
  pugi::xml_document doc;
  pugi::xml_node feed = doc.append_child("feed");
  feed.append_attribute("xmlns") = kAtomNamespace;
  text_child(feed, "id", options.feed_id);
  text_child(feed, "title", options.feed_title);
  text_child(feed, "updated", atom_time(updated));
  text_child(feed.append_child("author"), "name", options.sender_name);
  if (!options.base_url.empty()) {
    pugi::xml_node self = feed.append_child("link");
    self.append_attribute("rel") = "self";
    self.append_attribute("type") = "application/atom+xml";
    self.append_attribute("href") = xml_safe(options.base_url + "/v1/alerts/export?format=cap").c_str();
  }
  for (const StoredAlert& a : alerts) {
    const RecordView r = read_record(a.record);
    const std::string event = r.category.empty() ? std::string(alert_type_name(a.type)) : r.category;
    pugi::xml_node entry = feed.append_child("entry");
    text_child(entry, "id", options.feed_id + ":" + identifier_of(a));
    text_child(entry, "title", headline_of(a, r, event));
    text_child(entry, "updated", atom_time(sent_of(a)));
    if (!options.base_url.empty()) {
      pugi::xml_node link = entry.append_child("link");
      link.append_attribute("rel") = "alternate";
      link.append_attribute("type") = "application/json";
      link.append_attribute("href") = xml_safe(options.base_url + "/v1/alerts/" + a.alert_id).c_str();
    }
    pugi::xml_node content = entry.append_child("content");
    content.append_attribute("type") = "application/cap+xml";
    append_alert(content, a, options);
  }
  return save(doc);
}

}  // namespace sentinel
