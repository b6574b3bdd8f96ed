#include "alerts/score.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace sentinel {
namespace score_test {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const EventTime kNow = event_time_from_ms(1'772'400'000'000);

/// One source, no confidence, age 0, no site, severity other: every term at its floor
/// except urgency (1) and model_confidence (the default).
ScoreInput base_input() {
  ScoreInput in;
  in.severity = Severity::kOther;
  in.event_time = kNow;
  in.now = kNow;
  return in;
}

TEST(Score, ThreatSeverityPerSeverity) {
  const PriorityConfig c;
  ScoreInput in = base_input();
  in.severity = Severity::kViolent;
  EXPECT_EQ(score_alert(in, c).terms.threat_severity, 1.0);
  in.severity = Severity::kProperty;
  EXPECT_EQ(score_alert(in, c).terms.threat_severity, 0.6);
  in.severity = Severity::kOther;
  EXPECT_EQ(score_alert(in, c).terms.threat_severity, 0.3);
}

TEST(Score, ModelConfidenceOrDefault) {
  const PriorityConfig c;
  ScoreInput in = base_input();
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 0.5);  // sensor without a confidence
  in.has_confidence = true;
  in.confidence = 0.0;
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 0.0);
  in.confidence = 1.0;
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 1.0);
  in.confidence = 0.123456789;  // reported unrounded
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 0.123456789);
  // Out-of-range input never leaves [0, 1] and never poisons the score.
  in.confidence = 1.7;
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 1.0);
  in.confidence = -0.2;
  EXPECT_EQ(score_alert(in, c).terms.model_confidence, 0.0);
  in.confidence = kNaN;
  const PriorityScore s = score_alert(in, c);
  EXPECT_EQ(s.terms.model_confidence, 0.0);
  EXPECT_FALSE(std::isnan(s.score));
}

TEST(Score, CorroborationAndBoostBySourceCount) {
  const PriorityConfig c;
  struct Case {
    int sources;
    double corroboration;
    double boost;
  };
  const std::vector<Case> cases = {
      {-3, 0.0, 0.0}, {0, 0.0, 0.0}, {1, 0.0, 0.0}, {2, 0.5, 0.15}, {3, 1.0, 0.25}, {4, 1.0, 0.25}, {50, 1.0, 0.25},
  };
  for (const Case& k : cases) {
    ScoreInput in = base_input();
    in.distinct_sources = k.sources;
    const PriorityScore s = score_alert(in, c);
    EXPECT_EQ(s.terms.corroboration, k.corroboration) << k.sources << " sources";
    EXPECT_EQ(s.terms.boost, k.boost) << k.sources << " sources";
  }
}

TEST(Score, TemporalUrgencyDecaysWithAge) {
  const PriorityConfig c;
  ScoreInput in = base_input();
  EXPECT_EQ(score_alert(in, c).terms.temporal_urgency, 1.0);  // age 0
  in.event_time = kNow + Millis(60'000);                       // from the future: age counts as 0
  EXPECT_EQ(score_alert(in, c).terms.temporal_urgency, 1.0);
  in.event_time = kNow - Millis(15 * 60'000);  // one time constant
  EXPECT_DOUBLE_EQ(score_alert(in, c).terms.temporal_urgency, std::exp(-1.0));
  in.event_time = kNow - Millis(45 * 60'000);
  EXPECT_DOUBLE_EQ(score_alert(in, c).terms.temporal_urgency, std::exp(-3.0));
  in.event_time = kNow - Millis(1);  // unrounded: just below 1
  const double u = score_alert(in, c).terms.temporal_urgency;
  EXPECT_LT(u, 1.0);
  EXPECT_EQ(round_term(u), 1.0);
  in.event_time = kNow - Millis(30LL * 24 * 3600'000);  // a month old
  EXPECT_EQ(score_alert(in, c).terms.temporal_urgency, 0.0);
}

TEST(Score, SpatialSensitivityEdges) {
  const PriorityConfig c;  // full within 200 m, zero at 1 km
  struct Case {
    double distance;
    double expected;
  };
  const std::vector<Case> cases = {
      {-5.0, 1.0}, {0.0, 1.0},   {200.0, 1.0}, {600.0, 0.5}, {800.0, 0.25},
      {1000.0, 0.0}, {1000.5, 0.0}, {1e9, 0.0},  {kInf, 0.0},  {kNaN, 0.0},
  };
  for (const Case& k : cases) {
    ScoreInput in = base_input();
    in.site_distance_m = k.distance;
    EXPECT_DOUBLE_EQ(score_alert(in, c).terms.spatial_sensitivity, k.expected) << k.distance << " m";
  }
  ScoreInput in = base_input();
  in.site_distance_m = 200.001;
  EXPECT_DOUBLE_EQ(score_alert(in, c).terms.spatial_sensitivity, 799.999 / 800);
  in.site_distance_m = 999.999;
  const double just_inside = score_alert(in, c).terms.spatial_sensitivity;
  EXPECT_GT(just_inside, 0.0);
  EXPECT_NEAR(just_inside, 0.001 / 800, 1e-12);
}

TEST(Score, BandEdgesExactlyAndOneUlpBelow) {
  const PriorityConfig c;
  EXPECT_EQ(band_of(1.0, c), Priority::kP0);
  EXPECT_EQ(band_of(0.85, c), Priority::kP0);
  EXPECT_EQ(band_of(std::nextafter(0.85, 0.0), c), Priority::kP1);
  EXPECT_EQ(band_of(0.65, c), Priority::kP1);
  EXPECT_EQ(band_of(std::nextafter(0.65, 0.0), c), Priority::kP2);
  EXPECT_EQ(band_of(0.40, c), Priority::kP2);
  EXPECT_EQ(band_of(std::nextafter(0.40, 0.0), c), Priority::kP3);
  EXPECT_EQ(band_of(0.0, c), Priority::kP3);
  EXPECT_EQ(band_of(kNaN, c), Priority::kP3);
}

TEST(Score, BandComesFromTheUnroundedScore) {
  const PriorityConfig c;
  // violent, 2 sources, age 0, no site: 0.35 + 0.25·conf + 0.10 + 0.10 + 0.15 = 0.70 + 0.25·conf.
  ScoreInput in = base_input();
  in.severity = Severity::kViolent;
  in.distinct_sources = 2;
  in.has_confidence = true;
  in.confidence = 0.59984;  // score 0.84996: shows as 0.85, is P1
  const PriorityScore s = score_alert(in, c);
  EXPECT_NEAR(s.score, 0.84996, 1e-12);
  EXPECT_LT(s.score, 0.85);
  EXPECT_EQ(round_term(s.score), 0.85);
  EXPECT_EQ(s.priority, Priority::kP1);
  in.confidence = 0.6;  // exactly on the edge (up to the last bit of the sum)
  const PriorityScore edge = score_alert(in, c);
  EXPECT_EQ(edge.priority, edge.score >= 0.85 ? Priority::kP0 : Priority::kP1);
  EXPECT_NEAR(edge.score, 0.85, 1e-15);
}

TEST(Score, ClippedToUnitInterval) {
  const PriorityConfig c;
  ScoreInput in = base_input();
  in.severity = Severity::kViolent;
  in.has_confidence = true;
  in.confidence = 1.0;
  in.distinct_sources = 3;
  in.site_distance_m = 0;
  const PriorityScore top = score_alert(in, c);  // 1.0 of weights + 0.25 boost = 1.25
  EXPECT_EQ(top.score, 1.0);
  EXPECT_EQ(top.priority, Priority::kP0);
  EXPECT_EQ(top.terms.boost, 0.25);  // the terms stay as they are

  PriorityConfig negative;  // not a valid config, but the score still stays in [0, 1]
  negative.weights.threat_severity = -5;
  const PriorityScore bottom = score_alert(base_input(), negative);
  EXPECT_EQ(bottom.score, 0.0);
  EXPECT_EQ(bottom.priority, Priority::kP3);
}

// DESIGN.md section 5's alert: a correlation of cad + cctv, confidence 0.83,
// violent, urgency 0.97, no sensitive site nearby.
TEST(Score, DesignWorkedExampleTerms) {
  const PriorityConfig c;
  ScoreInput in;
  in.severity = Severity::kViolent;
  in.has_confidence = true;
  in.confidence = 0.83;
  in.distinct_sources = 2;
  in.now = kNow;
  in.event_time = kNow - Millis(27'413);  // exp(-27.413 s / 900 s) = 0.970000...
  const PriorityScore s = score_alert(in, c);
  EXPECT_EQ(s.terms.threat_severity, 1.0);
  EXPECT_EQ(s.terms.model_confidence, 0.83);
  EXPECT_EQ(s.terms.corroboration, 0.5);
  EXPECT_EQ(round_term(s.terms.temporal_urgency), 0.97);
  EXPECT_NE(s.terms.temporal_urgency, 0.97);  // kept unrounded
  EXPECT_EQ(s.terms.spatial_sensitivity, 0.0);
  EXPECT_EQ(s.terms.boost, 0.15);
  // The formula gives 0.35 + 0.2075 + 0.10 + 0.097 + 0 + 0.15 = 0.9045: P0.
  // (The sample JSON in DESIGN.md shows "score":0.78,"priority":"P1" beside
  // these terms; the formula, not the sample, is the contract.)
  EXPECT_NEAR(s.score, 0.9045, 1e-6);
  EXPECT_EQ(round_term(s.score), 0.9045);
  EXPECT_EQ(s.priority, Priority::kP0);
}

TEST(Score, CustomWeightsFromConfig) {
  PriorityConfig c;
  c.weights = {0.1, 0.2, 0.3, 0.15, 0.25};
  c.boost_corroborated = 0.05;
  c.boost_multi = 0.07;
  c.severity_property = 0.4;
  c.default_confidence = 0.9;
  c.urgency_time_constant = Millis(60'000);
  c.site_full_m = 100;
  c.site_zero_m = 300;
  c.band_p0 = 0.95;
  c.band_p1 = 0.6;
  c.band_p2 = 0.2;
  ASSERT_TRUE(validate_priority_config(c).ok());

  ScoreInput in;
  in.severity = Severity::kProperty;
  in.has_confidence = false;
  in.distinct_sources = 3;
  in.now = kNow;
  in.event_time = kNow - Millis(60'000);
  in.site_distance_m = 250;
  const PriorityScore s = score_alert(in, c);
  EXPECT_EQ(s.terms.threat_severity, 0.4);
  EXPECT_EQ(s.terms.model_confidence, 0.9);
  EXPECT_EQ(s.terms.corroboration, 1.0);
  EXPECT_DOUBLE_EQ(s.terms.temporal_urgency, std::exp(-1.0));
  EXPECT_DOUBLE_EQ(s.terms.spatial_sensitivity, 0.25);
  EXPECT_EQ(s.terms.boost, 0.07);
  const double expected = 0.1 * 0.4 + 0.2 * 0.9 + 0.3 * 1.0 + 0.15 * std::exp(-1.0) + 0.25 * 0.25 + 0.07;
  EXPECT_DOUBLE_EQ(s.score, expected);  // 0.7077...
  EXPECT_EQ(s.priority, Priority::kP1);
  EXPECT_EQ(band_of(0.95, c), Priority::kP0);
  EXPECT_EQ(band_of(0.2, c), Priority::kP2);
  EXPECT_EQ(band_of(0.19, c), Priority::kP3);
}

TEST(Score, RoundTermFourDecimals) {
  EXPECT_EQ(round_term(0.970000312), 0.97);
  EXPECT_EQ(round_term(0.12345), 0.1235);  // 0.12345 is stored just above
  EXPECT_EQ(round_term(0.123449), 0.1234);
  EXPECT_EQ(round_term(1.0), 1.0);
  EXPECT_EQ(round_term(0.0), 0.0);
  EXPECT_EQ(round_term(0.00004), 0.0);
  EXPECT_EQ(round_term(0.00005), 0.0001);
}

TEST(Score, PriorityNames) {
  EXPECT_EQ(priority_name(Priority::kP0), "P0");
  EXPECT_EQ(priority_name(Priority::kP1), "P1");
  EXPECT_EQ(priority_name(Priority::kP2), "P2");
  EXPECT_EQ(priority_name(Priority::kP3), "P3");
}

TEST(Score, ValidateAcceptsDefaults) {
  EXPECT_TRUE(validate_priority_config(PriorityConfig{}).ok());
  EXPECT_NO_THROW(check_priority_config(PriorityConfig{}));
}

TEST(Score, ValidateNamesTheOffendingKey) {
  struct Case {
    void (*edit)(PriorityConfig&);
    std::string key;
  };
  const std::vector<Case> cases = {
      {[](PriorityConfig& c) { c.weights.threat_severity = 1.5; }, "priority.weights.threat_severity"},
      {[](PriorityConfig& c) { c.weights.model_confidence = -0.1; }, "priority.weights.model_confidence"},
      {[](PriorityConfig& c) { c.weights.corroboration = kNaN; }, "priority.weights.corroboration"},
      {[](PriorityConfig& c) { c.weights.temporal_urgency = 2; }, "priority.weights.temporal_urgency"},
      {[](PriorityConfig& c) { c.weights.spatial_sensitivity = kInf; }, "priority.weights.spatial_sensitivity"},
      {[](PriorityConfig& c) { c.boost_corroborated = -0.15; }, "priority.boost_corroborated"},
      {[](PriorityConfig& c) { c.boost_multi = 1.25; }, "priority.boost_multi"},
      {[](PriorityConfig& c) { c.severity_violent = 1.1; }, "priority.severity_violent"},
      {[](PriorityConfig& c) { c.severity_property = -1; }, "priority.severity_property"},
      {[](PriorityConfig& c) { c.severity_other = kNaN; }, "priority.severity_other"},
      {[](PriorityConfig& c) { c.default_confidence = 1.5; }, "priority.default_confidence"},
      {[](PriorityConfig& c) { c.band_p0 = 1.01; }, "priority.band_p0"},
      {[](PriorityConfig& c) { c.band_p1 = 0.85; }, "priority.band_p1"},  // equal: not strictly decreasing
      {[](PriorityConfig& c) { c.band_p1 = 0.9; }, "priority.band_p1"},
      {[](PriorityConfig& c) { c.band_p2 = 0.65; }, "priority.band_p2"},
      {[](PriorityConfig& c) { c.band_p2 = -0.1; }, "priority.band_p2"},
      {[](PriorityConfig& c) { c.urgency_time_constant = Millis(0); }, "priority.urgency_time_constant"},
      {[](PriorityConfig& c) { c.site_full_m = -1; }, "priority.site_full_m"},
      {[](PriorityConfig& c) { c.site_full_m = 1000; }, "priority.site_zero_m"},  // equal to site_zero_m
      {[](PriorityConfig& c) { c.site_zero_m = 150; }, "priority.site_zero_m"},
      {[](PriorityConfig& c) { c.site_zero_m = kInf; }, "priority.site_zero_m"},
  };
  for (const Case& k : cases) {
    PriorityConfig c;
    k.edit(c);
    const Status s = validate_priority_config(c);
    ASSERT_FALSE(s.ok()) << k.key;
    EXPECT_EQ(s.error().field, k.key);
    EXPECT_FALSE(s.error().reason.empty());
    try {
      check_priority_config(c);
      ADD_FAILURE() << "no ConfigError for " << k.key;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(k.key + ": "));
    }
  }
}

TEST(Score, ValidateMessageSaysWhatIsWrong) {
  PriorityConfig c;
  c.weights.threat_severity = 1.5;
  EXPECT_EQ(validate_priority_config(c).error().to_string(),
            "priority.weights.threat_severity: must be in [0, 1], got 1.5");
  c = PriorityConfig{};
  c.band_p1 = 0.9;
  EXPECT_EQ(validate_priority_config(c).error().to_string(),
            "priority.band_p1: must be below priority.band_p0 (0.85), got 0.9");
}

}  // namespace score_test
}  // namespace sentinel
