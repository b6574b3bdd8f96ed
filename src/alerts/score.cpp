#include "alerts/score.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace sentinel {
namespace {

double severity_term(Severity s, const PriorityConfig& c) {
  switch (s) {
    case Severity::kViolent:
      return c.severity_violent;
    case Severity::kProperty:
      return c.severity_property;
    case Severity::kOther:
      break;
  }
  return c.severity_other;
}

/// Clamps to [0, 1]; NaN becomes 0 (std::clamp would pass NaN through and
/// poison the score).
double unit(double v) {
  if (!(v >= 0)) return 0;
  return v > 1 ? 1 : v;
}

double urgency_term(EventTime event_time, EventTime now, Millis time_constant) {
  const int64_t age_ms = std::max<int64_t>(0, (now - event_time).count());
  // A validated config has time_constant > 0; the guard only keeps an
  // unvalidated one from producing 0/0.
  if (time_constant.count() <= 0) return age_ms == 0 ? 1.0 : 0.0;
  return std::exp(-static_cast<double>(age_ms) / static_cast<double>(time_constant.count()));
}

double spatial_term(double distance_m, const PriorityConfig& c) {
  if (!(distance_m <= c.site_zero_m)) return 0;  // also +inf and NaN: no site
  if (distance_m <= c.site_full_m) return 1;
  return (c.site_zero_m - distance_m) / (c.site_zero_m - c.site_full_m);
}

Status check_unit(std::string_view key, double v) {
  if (v >= 0 && v <= 1) return Ok{};
  return make_error(std::string(key), fmt::format("must be in [0, 1], got {}", v));
}

}  // namespace

std::string_view priority_name(Priority p) {
  switch (p) {
    case Priority::kP0:
      return "P0";
    case Priority::kP1:
      return "P1";
    case Priority::kP2:
      return "P2";
    case Priority::kP3:
      break;
  }
  return "P3";
}

Priority band_of(double score, const PriorityConfig& config) {
  if (score >= config.band_p0) return Priority::kP0;
  if (score >= config.band_p1) return Priority::kP1;
  if (score >= config.band_p2) return Priority::kP2;
  return Priority::kP3;
}

double round_term(double value) { return std::round(value * 1e4) / 1e4; }

PriorityScore score_alert(const ScoreInput& in, const PriorityConfig& c) {
  PriorityScore out;
  ScoreTerms& t = out.terms;
  const int sources = std::max(in.distinct_sources, 1);

  t.threat_severity = severity_term(in.severity, c);
  t.model_confidence = in.has_confidence ? unit(in.confidence) : c.default_confidence;
  t.corroboration = static_cast<double>(std::min(sources - 1, 2)) / 2.0;
  t.temporal_urgency = urgency_term(in.event_time, in.now, c.urgency_time_constant);
  t.spatial_sensitivity = spatial_term(in.site_distance_m, c);
  t.boost = sources >= 3 ? c.boost_multi : sources == 2 ? c.boost_corroborated : 0.0;

  const auto& w = c.weights;
  const double raw = w.threat_severity * t.threat_severity + w.model_confidence * t.model_confidence +
                     w.corroboration * t.corroboration + w.temporal_urgency * t.temporal_urgency +
                     w.spatial_sensitivity * t.spatial_sensitivity + t.boost;
  out.score = unit(raw);
  out.priority = band_of(out.score, c);
  return out;
}

Status validate_priority_config(const PriorityConfig& c) {
  const std::pair<std::string_view, double> unit_keys[] = {
      {"priority.weights.threat_severity", c.weights.threat_severity},
      {"priority.weights.model_confidence", c.weights.model_confidence},
      {"priority.weights.corroboration", c.weights.corroboration},
      {"priority.weights.temporal_urgency", c.weights.temporal_urgency},
      {"priority.weights.spatial_sensitivity", c.weights.spatial_sensitivity},
      {"priority.boost_corroborated", c.boost_corroborated},
      {"priority.boost_multi", c.boost_multi},
      {"priority.severity_violent", c.severity_violent},
      {"priority.severity_property", c.severity_property},
      {"priority.severity_other", c.severity_other},
      {"priority.default_confidence", c.default_confidence},
      {"priority.band_p0", c.band_p0},
      {"priority.band_p1", c.band_p1},
      {"priority.band_p2", c.band_p2},
  };
  for (const auto& [key, value] : unit_keys) {
    if (auto s = check_unit(key, value); !s) return s;
  }
  if (!(c.band_p0 > c.band_p1)) {
    return make_error("priority.band_p1",
                      fmt::format("must be below priority.band_p0 ({}), got {}", c.band_p0, c.band_p1));
  }
  if (!(c.band_p1 > c.band_p2)) {
    return make_error("priority.band_p2",
                      fmt::format("must be below priority.band_p1 ({}), got {}", c.band_p1, c.band_p2));
  }
  if (c.urgency_time_constant.count() <= 0) {
    return make_error("priority.urgency_time_constant",
                      fmt::format("must be positive, got {}ms", c.urgency_time_constant.count()));
  }
  if (!(c.site_full_m >= 0 && std::isfinite(c.site_full_m))) {
    return make_error("priority.site_full_m",
                      fmt::format("must be a finite distance >= 0, got {}", c.site_full_m));
  }
  if (!(c.site_zero_m > c.site_full_m && std::isfinite(c.site_zero_m))) {
    return make_error("priority.site_zero_m",
                      fmt::format("must be finite and above priority.site_full_m ({}), got {}",
                                  c.site_full_m, c.site_zero_m));
  }
  return Ok{};
}

void check_priority_config(const PriorityConfig& config) {
  if (auto s = validate_priority_config(config); !s) throw ConfigError(s.error().to_string());
}

}  // namespace sentinel
