// Names of the alert enums and the JSON Lines rendering of an Alert.
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

void time_member(JsonWriter& w, std::string& out, std::string_view key, EventTime t) {
  // Written straight into the line (format_rfc3339 would allocate per time):
  // raw() places the separator and the opening quote, the time text needs no
  // escaping, then the closing quote.
  w.key(key).raw("\"");
  append_rfc3339(out, t);
  out.push_back('"');
}

}  // namespace

void render_alert(const Alert& a, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.member("alert_id", a.alert_id);
  w.member("dedup_key", a.dedup_key);
  w.member("type", alert_type_name(a.type));
  w.member("status", alert_status_name(a.status));
  w.member("priority", priority_name(a.score.priority));
  w.member("score", shown(a.score.score));
  w.key("confidence");
  if (a.has_confidence) {
    w.number(shown(a.confidence));
  } else {
    w.null();
  }
  w.member("verified", a.verified);
  const ScoreTerms& t = a.score.terms;
  w.key("terms").begin_object();
  w.member("threat_severity", shown(t.threat_severity));
  w.member("model_confidence", shown(t.model_confidence));
  w.member("corroboration", shown(t.corroboration));
  w.member("temporal_urgency", shown(t.temporal_urgency));
  w.member("spatial_sensitivity", shown(t.spatial_sensitivity));
  w.member("boost", shown(t.boost));
  w.end_object();
  w.key("sources").begin_array();
  for (const std::string& s : a.sources) w.string(s);
  w.end_array();
  w.key("event_ids").begin_array();
  for (const std::string& id : a.event_ids) w.string(id);
  w.end_array();
  if (a.has_location) {
    w.member("lat", a.lat);
    w.member("lon", a.lon);
    w.member("cell", a.cell_token);
  } else {
    w.key("lat").null();
    w.key("lon").null();
    w.key("cell").null();
  }
  w.key("district");
  if (a.district.empty()) {
    w.null();
  } else {
    w.string(a.district);
  }
  time_member(w, out, "event_time", a.event_time);
  time_member(w, out, "emitted_at", a.emitted_at);
  w.member("count", a.count);
  w.member("bias_review", a.bias_review);
  w.member("category", a.category);
  w.member("revision", a.revision);
  time_member(w, out, "first_seen", a.first_seen);
  time_member(w, out, "last_seen", a.last_seen);
  w.end_object();
}

}  // namespace sentinel
