#include "flows/ensemble.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace sentinel::flows {
namespace ensemble_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr EngineVerdict kUndecided{false, false, 0};
EngineVerdict yes(double score) { return EngineVerdict{true, true, score}; }
EngineVerdict no(double score) { return EngineVerdict{true, false, score}; }

// Explicit, so the tests do not follow the configuration's defaults.
EnsembleConfig defaults() {
  EnsembleConfig c;
  c.weight_rules = 0.35;
  c.weight_math = 0.15;
  c.weight_ml = 0.50;
  c.threshold = 0.5;
  return c;
}

std::vector<EnsembleDecision> vote(const EnsembleVoter& voter, std::span<const EngineColumn> columns, size_t n) {
  std::vector<EnsembleDecision> out(n);
  Status status = voter.vote(columns, out);
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().to_string());
  return out;
}

TEST(Ensemble, WeightedScoreOverDecidingEngines) {
  const EnsembleVoter voter(defaults());
  const std::vector<EngineVerdict> rules = {yes(0.9), no(0), no(0), yes(0.5)};
  const std::vector<EngineVerdict> math = {no(0.2), kUndecided, yes(0.8), kUndecided};
  const std::vector<EngineVerdict> ml = {yes(0.8), no(0.1), yes(0.6), no(0.45)};
  const EngineColumn columns[] = {voter.column("rules", rules), voter.column("math", math), voter.column("ml", ml)};
  auto d = vote(voter, columns, 4);

  EXPECT_NEAR(d[0].score, 0.35 * 0.9 + 0.15 * 0.2 + 0.5 * 0.8, 1e-12);
  EXPECT_TRUE(d[0].anomaly);
  EXPECT_EQ(d[0].deciding, 0b111u);
  EXPECT_EQ(d[0].contributing, 0b101u);
  EXPECT_THAT(engine_names(d[0].contributing, columns), ElementsAre("rules", "ml"));

  // Math undecided: it counts in neither the numerator nor the denominator.
  EXPECT_NEAR(d[1].score, (0.5 * 0.1) / (0.35 + 0.5), 1e-12);
  EXPECT_FALSE(d[1].anomaly);
  EXPECT_EQ(d[1].deciding, 0b101u);
  EXPECT_EQ(d[1].contributing, 0u);

  EXPECT_NEAR(d[2].score, (0.15 * 0.8 + 0.5 * 0.6) / 1.0, 1e-12);
  EXPECT_FALSE(d[2].anomaly);  // 0.42: two engines say attack, but weakly
  EXPECT_EQ(d[2].contributing, 0b110u);

  EXPECT_NEAR(d[3].score, (0.35 * 0.5 + 0.5 * 0.45) / 0.85, 1e-12);
  EXPECT_EQ(d[3].anomaly, d[3].score >= 0.5);
}

TEST(Ensemble, SkippedEngineDoesNotCount) {
  const EnsembleVoter voter(defaults());
  const std::vector<EngineVerdict> rules = {yes(0.9), no(0)};
  const std::vector<EngineVerdict> math = {no(0.3), no(0.1)};
  // ML passed its time budget this batch: an empty column.
  const EngineColumn columns[] = {voter.column("rules", rules), voter.column("math", math), voter.column("ml", {})};
  auto d = vote(voter, columns, 2);
  EXPECT_NEAR(d[0].score, (0.35 * 0.9 + 0.15 * 0.3) / 0.5, 1e-12);
  EXPECT_TRUE(d[0].anomaly);
  EXPECT_EQ(d[0].deciding, 0b011u);
  EXPECT_NEAR(d[1].score, (0.15 * 0.1) / 0.5, 1e-12);
  EXPECT_FALSE(d[1].anomaly);
  // Only ML, alone: its score is the ensemble's.
  const std::vector<EngineVerdict> ml = {yes(0.7), no(0.2)};
  const EngineColumn only_ml[] = {voter.column("rules", {}), voter.column("math", {}), voter.column("ml", ml)};
  d = vote(voter, only_ml, 2);
  EXPECT_DOUBLE_EQ(d[0].score, 0.7);
  EXPECT_TRUE(d[0].anomaly);
  EXPECT_EQ(d[0].contributing, 0b100u);
}

TEST(Ensemble, NobodyDecidedIsNoAnomalyEvenAtThresholdZero) {
  EnsembleConfig config = defaults();
  config.threshold = 0;
  const EnsembleVoter voter(config);
  const std::vector<EngineVerdict> math = {kUndecided, no(0)};
  const EngineColumn columns[] = {voter.column("rules", {}), voter.column("math", math)};
  auto d = vote(voter, columns, 2);
  EXPECT_FALSE(d[0].decided);
  EXPECT_FALSE(d[0].anomaly);
  EXPECT_EQ(d[0].score, 0);
  EXPECT_TRUE(d[1].decided);
  EXPECT_TRUE(d[1].anomaly);  // threshold 0: every decided flow
}

TEST(Ensemble, ThresholdIsInclusiveAndZeroWeightsAreIgnored) {
  EnsembleConfig config = defaults();
  config.weight_math = 0;
  config.threshold = 0.6;
  const EnsembleVoter voter(config);
  const std::vector<EngineVerdict> rules = {yes(0.6)};
  const std::vector<EngineVerdict> math = {yes(1.0)};
  const EngineColumn columns[] = {voter.column("rules", rules), voter.column("math", math)};
  auto d = vote(voter, columns, 1);
  EXPECT_DOUBLE_EQ(d[0].score, 0.6);
  EXPECT_TRUE(d[0].anomaly);
  EXPECT_EQ(d[0].deciding, 0b01u);  // a zero-weight engine has no say
  EXPECT_EQ(d[0].contributing, 0b01u);
}

TEST(Ensemble, Errors) {
  const std::vector<EngineVerdict> two = {no(0), no(0)};
  std::vector<EnsembleDecision> out(3);
  const EngineColumn mismatch[] = {{"rules", 1.0, two}};
  Status s = ensemble_vote(mismatch, 0.5, out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().reason, HasSubstr("engine 'rules' has 2 verdicts for 3 flows"));
  const EngineColumn negative[] = {{"math", -1.0, {}}};
  EXPECT_FALSE(ensemble_vote(negative, 0.5, out).ok());
  const EngineColumn nan[] = {{"math", std::numeric_limits<double>::quiet_NaN(), {}}};
  EXPECT_FALSE(ensemble_vote(nan, 0.5, out).ok());
  std::vector<EngineColumn> many(kMaxEnsembleEngines + 1, EngineColumn{"x", 1.0, {}});
  EXPECT_FALSE(ensemble_vote(many, 0.5, out).ok());
  // Columns are checked even for an empty batch; a valid one votes nothing.
  EXPECT_FALSE(ensemble_vote(negative, 0.5, {}).ok());
  const EngineColumn fine[] = {{"rules", 1.0, {}}};
  EXPECT_TRUE(ensemble_vote(fine, 0.5, {}).ok());
}

TEST(Ensemble, VoterValidatesItsConfiguration) {
  EnsembleConfig c = defaults();
  c.weight_ml = -0.1;
  EXPECT_THROW(EnsembleVoter{c}, ConfigError);
  c = defaults();
  c.weight_rules = c.weight_math = c.weight_ml = 0;
  EXPECT_THROW(EnsembleVoter{c}, ConfigError);
  c = defaults();
  c.threshold = 1.5;
  try {
    EnsembleVoter v(c);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ensemble.threshold"));
  }
  const EnsembleVoter voter(defaults());
  EXPECT_EQ(voter.weight("rules"), 0.35);
  EXPECT_EQ(voter.weight("math"), 0.15);
  EXPECT_EQ(voter.weight("ml"), 0.50);
  EXPECT_EQ(voter.threshold(), 0.5);
  EXPECT_THROW(voter.weight("oracle"), std::invalid_argument);
}

}  // namespace ensemble_test
}  // namespace sentinel::flows
