// The priority score of DESIGN.md section 4: five weighted terms plus a
// corroboration boost, clipped to [0, 1], cut into bands P0..P3.
//
//   score = w.threat_severity·threat_severity + w.model_confidence·model_confidence
//         + w.corroboration·corroboration + w.temporal_urgency·temporal_urgency
//         + w.spatial_sensitivity·spatial_sensitivity + boost,   clipped to [0, 1]
//
// Precision contract: the terms and the score are kept unrounded (full
// double); round_term() is for display only. The band is decided from the
// unrounded clipped score, so a score of 0.84996 is P1 even though it shows as
// 0.85. Band edges are inclusive from above: score >= band_p0 is P0.
//
// Pure functions of their arguments: no state, no allocation, no exceptions
// on the per-alert path (bad inputs such as a NaN confidence are clamped, see
// ScoreInput). validate_priority_config() is the start-up check.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "core/config.h"
#include "core/event.h"
#include "core/result.h"
#include "core/time.h"

namespace sentinel {

/// Alert priority band; kP0 is the most urgent.
enum class Priority : uint8_t { kP0, kP1, kP2, kP3 };

/// "P0", "P1", "P2", "P3".
std::string_view priority_name(Priority p);

/// Each term of the score, unweighted and unrounded. The five terms are in
/// [0, 1]; `boost` is the additive bonus itself (0, boost_corroborated or
/// boost_multi). These are what an alert carries as "terms".
struct ScoreTerms {
  double threat_severity = 0;
  double model_confidence = 0;
  double corroboration = 0;
  double temporal_urgency = 0;
  double spatial_sensitivity = 0;
  double boost = 0;
};

/// What the score needs to know about an alert.
struct ScoreInput {
  Severity severity = Severity::kOther;
  /// False: model_confidence is PriorityConfig::default_confidence.
  bool has_confidence = false;
  /// 0..1; values outside are clamped and NaN counts as 0.
  double confidence = 0;
  /// Distinct sources behind the alert; values below 1 count as 1.
  int distinct_sources = 1;
  /// The alert's event time; age = now - event_time, a negative age counts as 0.
  EventTime event_time{};
  /// Event-time "now": the watermark in replay, the wall clock when live.
  EventTime now{};
  /// Distance to the nearest sensitive site; +inf (or NaN) when there is none.
  double site_distance_m = std::numeric_limits<double>::infinity();
};

struct PriorityScore {
  ScoreTerms terms;
  double score = 0;  ///< weighted sum + boost, clipped to [0, 1], unrounded
  Priority priority = Priority::kP3;
};

/// Scores one alert. `config` is assumed to have passed validate_priority_config().
PriorityScore score_alert(const ScoreInput& input, const PriorityConfig& config);

/// The band of an (unrounded) score: P0 >= band_p0 > P1 >= band_p1 > P2 >= band_p2 > P3.
/// A NaN score is P3.
Priority band_of(double score, const PriorityConfig& config);

/// Rounds to 4 decimals (half away from zero) for display in alerts and the UI.
double round_term(double value);

/// The start-up check of the `priority.*` keys: every weight, boost, severity
/// value, default_confidence and band in [0, 1]; bands strictly decreasing
/// (band_p0 > band_p1 > band_p2); urgency_time_constant > 0;
/// 0 <= site_full_m < site_zero_m (finite). The error's field is the key path
/// ("priority.weights.threat_severity"), its reason says what is wrong and the
/// value found.
Status validate_priority_config(const PriorityConfig& config);

/// validate_priority_config() that throws ConfigError("<key.path>: <reason>").
void check_priority_config(const PriorityConfig& config);

}  // namespace sentinel
