// The alert model (DESIGN.md sections 4-5): what the gates and the score make
// (AlertCandidate) and what the dedup book keeps and the sinks receive (Alert).
//
// Both are plain values. A candidate is built per decision by the alerting
// stage and handed to AlertBook::offer() by rvalue, so its strings move into
// the alert; an Alert is owned by the AlertBook and read through const
// pointers (see alert_book.h for how long they stay valid).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/score.h"
#include "core/time.h"

namespace sentinel {

/// The rule family that raised an alert (the gates of DESIGN.md section 4).
enum class AlertType : uint8_t { kSensor, kCorrelation, kGeofence, kSpike, kMlAnomaly };

/// "sensor", "correlation", "geofence", "spike", "ml_anomaly".
std::string_view alert_type_name(AlertType type);

/// kAlert is pushed to operators; kTrendWatch is a spike below its gate,
/// shown on the trend list but not pushed as an alert.
enum class AlertStatus : uint8_t { kAlert, kTrendWatch };

/// "alert", "trend_watch".
std::string_view alert_status_name(AlertStatus status);

/// One gated, scored decision about to be deduplicated.
struct AlertCandidate {
  AlertType type = AlertType::kSensor;
  AlertStatus status = AlertStatus::kAlert;
  std::string category;     ///< the event type (or rule name) the dedup key groups by
  uint64_t cell = 0;        ///< fine S2 cell id; 0 without a location
  std::string cell_token;   ///< S2 token of `cell`; ignored without a location ("-" is used)
  PriorityScore score;
  double confidence = 0;    ///< the alert's (combined) confidence, when has_confidence
  bool has_confidence = false;
  bool verified = false;    ///< false for a sensor alert nobody corroborated
  std::vector<std::string> sources;    ///< source names behind it (any order, duplicates allowed)
  std::vector<std::string> event_ids;  ///< the events behind it; the first names the alert
  bool has_location = false;
  double lat = 0, lon = 0;
  std::string district;     ///< "" when the place is in no configured district
  EventTime event_time{};   ///< the decision's event time (the newest event behind it)
  bool bias_review = false; ///< an ML-derived alert from a district under bias review
};

/// A deduplicated alert as the sinks see it (one JSON Lines record, alert_json.cpp).
struct Alert {
  std::string alert_id;   ///< "a-" + 16 lowercase hex: XXH3-64 of dedup_key '\n' first event id
  std::string dedup_key;  ///< "<type>/<cell token or ->/<category>"
  AlertType type = AlertType::kSensor;
  AlertStatus status = AlertStatus::kAlert;
  std::string category;
  uint64_t cell = 0;
  std::string cell_token;  ///< "-" without a location
  /// The highest score seen; confidence, has_confidence and event_time belong
  /// to the same candidate, so the terms explain themselves.
  PriorityScore score;
  double confidence = 0;
  bool has_confidence = false;
  bool verified = false;
  std::vector<std::string> sources;    ///< sorted, distinct
  std::vector<std::string> event_ids;  ///< in order of arrival, at most dedup.max_event_ids
  bool has_location = false;
  double lat = 0, lon = 0;  ///< of the candidate that created the alert
  std::string district;
  EventTime event_time{};
  bool bias_review = false;
  uint64_t count = 0;       ///< distinct event ids absorbed (goes on past max_event_ids)
  uint32_t revision = 0;    ///< 0 when created, + 1 per update
  EventTime first_seen{}, last_seen{};  ///< min and max candidate event time absorbed
  EventTime emitted_at{};   ///< the caller's "now" at the latest creation or update

  /// render_alert_appending()'s memo: the rendered "event_ids" array (with
  /// its brackets) of the first `event_ids_memo_count` ids. Derived from
  /// event_ids, never saved or compared; a copy carries it along.
  mutable std::string event_ids_memo;
  mutable size_t event_ids_memo_count = 0;
  /// render_alert_appending()'s memo of the members "priority" to "terms"
  /// (an update seldom changes the score) and the values it was rendered
  /// from: reused only when they are all bitwise equal.
  mutable std::string score_memo;
  mutable std::array<double, 9> score_memo_values{};
};

/// Appends `alert` as one JSON object (no newline) in the DESIGN.md section 5
/// shape and member order: alert_id, dedup_key, type, status, priority, score,
/// confidence, verified, terms{threat_severity, model_confidence,
/// corroboration, temporal_urgency, spatial_sensitivity, boost}, sources,
/// event_ids, lat, lon, cell, district, event_time, emitted_at, count,
/// bias_review, category, revision, first_seen, last_seen.
/// score, terms and confidence are rounded to 4 decimals (round_term) and
/// printed shortest ("0.78", "1"); confidence, lat, lon, cell and district are
/// null when absent; times are RFC 3339 UTC. Deterministic; allocation-free
/// once `out` has grown.
void render_alert(const Alert& alert, std::string& out);

/// render_alert() for an alert whose event_ids has only grown (ids appended,
/// none changed or removed) since the previous call with it, as AlertBook's
/// alerts do: the same bytes, rendering only the ids added since then (an
/// update would otherwise re-render up to dedup.max_event_ids ids). Keeps the
/// rendered array in the alert's memo; a list shorter than the memo starts it
/// over. Alerts whose ids may change in place must use render_alert().
void render_alert_appending(const Alert& alert, std::string& out);

}  // namespace sentinel
