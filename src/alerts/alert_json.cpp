// Names of the alert enums and the JSON Lines rendering of an Alert.
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "alerts/alert.h"
#include "alerts/score.h"
#include "core/json_writer.h"

namespace sentinel {

std::string_view alert_type_name(AlertType type) {
  switch (type) {
    case AlertType::kSensor:
      return "sensor";
    case AlertType::kCorrelation:
      return "correlation";
    case AlertType::kGeofence:
      return "geofence";
    case AlertType::kSpike:
      return "spike";
    case AlertType::kMlAnomaly:
      return "ml_anomaly";
  }
  return "unknown";
}

std::string_view alert_status_name(AlertStatus status) {
  switch (status) {
    case AlertStatus::kAlert:
      return "alert";
    case AlertStatus::kTrendWatch:
      return "trend_watch";
  }
  return "unknown";
}

namespace {

// Display value: 4 decimals, and never "-0" (a tiny negative rounds to -0.0).
double shown(double v) {
  const double r = round_term(v);
  return r == 0 ? 0.0 : r;
}

// The record is written fragment by fragment rather than through
// JsonWriter: its member names are constants (no escaping to check), and
// JsonWriter's per-member bookkeeping was a large part of an update's cost.
// The bytes are JsonWriter's: no spaces, strings escaped by
// JsonWriter::append_string, doubles shortest (std::to_chars), non-finite
// doubles as null.
void put_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_time(std::string& out, std::string_view member, EventTime t) {
  out += member;  // ,"name":"
  append_rfc3339(out, t);
  out.push_back('"');
}

// "priority" ... "terms"{...}, without a leading comma.
void put_score(const Alert& a, std::string& out) {
  out += R"("priority":)";
  JsonWriter::append_string(out, priority_name(a.score.priority));
  out += R"(,"score":)";
  put_double(out, shown(a.score.score));
  out += R"(,"confidence":)";
  if (a.has_confidence) {
    put_double(out, shown(a.confidence));
  } else {
    out += "null";
  }
  out += a.verified ? R"(,"verified":true)" : R"(,"verified":false)";
  const ScoreTerms& t = a.score.terms;
  out += R"(,"terms":{"threat_severity":)";
  put_double(out, shown(t.threat_severity));
  out += R"(,"model_confidence":)";
  put_double(out, shown(t.model_confidence));
  out += R"(,"corroboration":)";
  put_double(out, shown(t.corroboration));
  out += R"(,"temporal_urgency":)";
  put_double(out, shown(t.temporal_urgency));
  out += R"(,"spatial_sensitivity":)";
  put_double(out, shown(t.spatial_sensitivity));
  out += R"(,"boost":)";
  put_double(out, shown(t.boost));
  out.push_back('}');
}

// The alert's memo of put_score(), re-rendered when a value it shows changed.
std::string_view score_text(const Alert& a) {
  const ScoreTerms& t = a.score.terms;
  const double flags = static_cast<double>(static_cast<int>(a.score.priority) * 4 + (a.has_confidence ? 2 : 0) +
                                           (a.verified ? 1 : 0));
  const std::array<double, 9> values = {a.score.score,      a.has_confidence ? a.confidence : 0.0,
                                        t.threat_severity,  t.model_confidence,
                                        t.corroboration,    t.temporal_urgency,
                                        t.spatial_sensitivity, t.boost,
                                        flags};
  if (a.score_memo.empty() ||
      std::memcmp(values.data(), a.score_memo_values.data(), sizeof(double) * values.size()) != 0) {
    a.score_memo.clear();
    put_score(a, a.score_memo);
    a.score_memo_values = values;
  }
  return a.score_memo;
}

// Brings the alert's memo of its rendered "event_ids" array up to date:
// appends the ids added since it was last rendered.
std::string_view event_ids_array(const Alert& a) {
  std::string& memo = a.event_ids_memo;
  if (a.event_ids_memo_count > a.event_ids.size() || memo.empty()) {
    memo.clear();
    memo.push_back('[');
    a.event_ids_memo_count = 0;
  } else {
    memo.pop_back();  // the closing bracket
  }
  for (size_t i = a.event_ids_memo_count; i < a.event_ids.size(); ++i) {
    if (i != 0) memo.push_back(',');
    JsonWriter::append_string(memo, a.event_ids[i]);
  }
  memo.push_back(']');
  a.event_ids_memo_count = a.event_ids.size();
  return memo;
}

void put_strings(std::string& out, const std::vector<std::string>& items) {
  out.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out.push_back(',');
    JsonWriter::append_string(out, items[i]);
  }
  out.push_back(']');
}

void render(const Alert& a, std::string& out, bool memo) {
  out += R"({"alert_id":)";
  JsonWriter::append_string(out, a.alert_id);
  out += R"(,"dedup_key":)";
  JsonWriter::append_string(out, a.dedup_key);
  out += R"(,"type":)";
  JsonWriter::append_string(out, alert_type_name(a.type));
  out += R"(,"status":)";
  JsonWriter::append_string(out, alert_status_name(a.status));
  out.push_back(',');
  if (memo) {
    out += score_text(a);
  } else {
    put_score(a, out);
  }
  out += R"(,"sources":)";
  put_strings(out, a.sources);
  out += R"(,"event_ids":)";
  if (memo) {
    out += event_ids_array(a);
  } else {
    put_strings(out, a.event_ids);
  }
  if (a.has_location) {
    out += R"(,"lat":)";
    put_double(out, a.lat);
    out += R"(,"lon":)";
    put_double(out, a.lon);
    out += R"(,"cell":)";
    JsonWriter::append_string(out, a.cell_token);
  } else {
    out += R"(,"lat":null,"lon":null,"cell":null)";
  }
  out += R"(,"district":)";
  if (a.district.empty()) {
    out += "null";
  } else {
    JsonWriter::append_string(out, a.district);
  }
  put_time(out, R"(,"event_time":")", a.event_time);
  put_time(out, R"(,"emitted_at":")", a.emitted_at);
  out += R"(,"count":)";
  put_uint(out, a.count);
  out += a.bias_review ? R"(,"bias_review":true)" : R"(,"bias_review":false)";
  out += R"(,"category":)";
  JsonWriter::append_string(out, a.category);
  out += R"(,"revision":)";
  put_uint(out, a.revision);
  put_time(out, R"(,"first_seen":")", a.first_seen);
  put_time(out, R"(,"last_seen":")", a.last_seen);
  out.push_back('}');
}

}  // namespace

void render_alert(const Alert& a, std::string& out) { render(a, out, /*memo=*/false); }

void render_alert_appending(const Alert& a, std::string& out) { render(a, out, /*memo=*/true); }

}  // namespace sentinel
