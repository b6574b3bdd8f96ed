// MlEngine: feature mapping by name, verdicts equal to the model's own
// probabilities (the XGBoost reference model renamed onto flow features),
// deadline handling and the explanation.
#include "flows/ml_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sentinel::flows {
namespace ml_engine_test {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const std::string kDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/ml/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<double>> read_rows(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      const std::string f = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      row.push_back(f.empty() || f == "nan" ? std::nan("") : std::strtod(f.c_str(), nullptr));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// Flow features the renamed reference model reads: model feature j is flow
/// feature kFlowOf[j] (deliberately not in flow order).
size_t flow_of(size_t j) { return 78 - 3 * j; }

TreeModel renamed_reference_model() {
  auto j = nlohmann::json::parse(read_file(kDir + "xgboost/binary_logistic/model.json"));
  nlohmann::json names = nlohmann::json::array();
  for (size_t f = 0; f < 20; ++f) {
    // Mix the three accepted spellings: canonical, snake_case key, underscores.
    const size_t flow = flow_of(f);
    std::string name(f % 3 == 0 ? feature_names()[flow] : feature_keys()[flow]);
    if (f % 3 == 2) {
      name = std::string(feature_names()[flow]);
      for (char& c : name) {
        if (c == ' ') c = '_';
      }
    }
    names.push_back(name);
  }
  j["learner"]["feature_names"] = names;
  return TreeModel::parse(j.dump(), "renamed.json");
}

TEST(MlEngine, ScoresEqualTheModelsProbabilitiesThroughFlowFeatures) {
  MlEngine engine(renamed_reference_model(), 0.5);
  EXPECT_EQ(engine.name(), "ml");
  const auto input = read_rows(kDir + "xgboost/binary_logistic/input.csv");
  const auto expected = read_rows(kDir + "xgboost/binary_logistic/predictions.csv");
  ASSERT_EQ(input.size(), 1000u);
  std::vector<FlowRecord> flows(input.size());
  for (size_t r = 0; r < input.size(); ++r) {
    for (size_t f = 0; f < 20; ++f) flows[r].features[flow_of(f)] = input[r][1 + f];
    flows[r].features[1] = 12345.0;  // a feature the model does not read
  }
  std::vector<EngineVerdict> out(flows.size());
  const Status status = engine.evaluate(flows, out, Clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  size_t attacks = 0;
  for (size_t r = 0; r < flows.size(); ++r) {
    const double prob = expected[r][2];
    EXPECT_TRUE(out[r].decided);
    EXPECT_EQ(out[r].score, prob) << "row " << r;
    EXPECT_EQ(out[r].attack, prob >= 0.5) << "row " << r;
    EXPECT_EQ(engine.score(flows[r]), prob);
    attacks += out[r].attack;
  }
  EXPECT_GT(attacks, 100u);
  EXPECT_LT(attacks, 900u);

  // A second batch reuses the buffers and gives the same verdicts.
  std::vector<EngineVerdict> again(10);
  ASSERT_TRUE(engine.evaluate(std::span(flows).subspan(0, 10), again, Clock::now() + std::chrono::minutes(1)).ok());
  for (size_t r = 0; r < 10; ++r) EXPECT_EQ(again[r].score, out[r].score);
}

TEST(MlEngine, ThresholdDecidesTheVote) {
  MlEngine strict(renamed_reference_model(), 0.99);
  std::vector<FlowRecord> flows(1);  // all features missing
  std::vector<EngineVerdict> out(1);
  ASSERT_TRUE(strict.evaluate(flows, out, Clock::now() + std::chrono::minutes(1)).ok());
  EXPECT_TRUE(out[0].decided);
  EXPECT_EQ(out[0].attack, out[0].score >= 0.99);
  MlEngine lax(renamed_reference_model(), 0.0);
  ASSERT_TRUE(lax.evaluate(flows, out, Clock::now() + std::chrono::minutes(1)).ok());
  EXPECT_TRUE(out[0].attack);
  EXPECT_THROW(MlEngine(renamed_reference_model(), 1.5), std::invalid_argument);
}

TEST(MlEngine, PassedDeadlineIsAnError) {
  MlEngine engine(renamed_reference_model(), 0.5);
  std::vector<FlowRecord> flows(1000);
  std::vector<EngineVerdict> out(flows.size());
  const Status status = engine.evaluate(flows, out, Clock::now() - std::chrono::seconds(1));
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().to_string(), HasSubstr("deadline passed"));
  std::vector<EngineVerdict> short_out(3);
  EXPECT_FALSE(engine.evaluate(flows, short_out, Clock::now() + std::chrono::minutes(1)).ok());
}

TEST(MlEngine, UnknownFeatureAndNonBinaryModelsAreRefused) {
  // The reference model keeps its f0..f19 names: not flow features.
  try {
    MlEngine engine(TreeModel::load(kDir + "xgboost/binary_logistic/model.json"), 0.5);
    FAIL() << "accepted";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model feature 'f0' (feature 0) is not a flow feature"));
  }
  try {
    MlEngine engine(TreeModel::load(kDir + "xgboost/multi_softprob/model.json"), 0.5);
    FAIL() << "accepted";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs a binary attack-vs-benign model; objective 'multi:softprob'"));
  }
  DetectionConfig config;
  config.model = kDir + "does/not/exist.json";
  EXPECT_THROW(MlEngine::from_config(config), ModelError);
}

TEST(MlEngine, ExplainGivesTheTopFiveContributionsByMagnitude) {
  const TreeModel model = renamed_reference_model();
  const auto input = read_rows(kDir + "xgboost/binary_logistic/input.csv");
  FlowRecord flow;
  for (size_t f = 0; f < 20; ++f) flow.features[flow_of(f)] = input[3][1 + f];
  flow.features[flow_of(0)] = kMissing;
  std::vector<double> row(20);
  for (size_t f = 0; f < 20; ++f) row[f] = flow.features[flow_of(f)];
  const auto contributions = model.contributions(row.data());

  MlEngine engine(renamed_reference_model(), 0.5);
  std::vector<EngineVerdict> out(1);
  ASSERT_TRUE(engine.evaluate(std::span(&flow, 1), out, Clock::now() + std::chrono::minutes(1)).ok());
  const nlohmann::json e = engine.explain(flow, 0);
  EXPECT_EQ(e["engine"], "ml");
  EXPECT_EQ(e["model"], "xgboost");
  EXPECT_EQ(e["objective"], "binary:logistic");
  EXPECT_EQ(e["score"].get<double>(), out[0].score);
  EXPECT_EQ(e["attack"].get<bool>(), out[0].attack);
  const auto& top = e["top_features"];
  ASSERT_EQ(top.size(), 5u);
  double total = e["bias"].get<double>();
  for (const auto& [f, c] : contributions) total += c;
  EXPECT_NEAR(total, e["raw_score"].get<double>(), 1e-4);
  for (size_t i = 0; i < top.size(); ++i) {
    const double c = top[i]["contribution"].get<double>();
    if (i > 0) {
      EXPECT_GE(std::fabs(top[i - 1]["contribution"].get<double>()), std::fabs(c));
    }
    // Nothing left out is larger.
    size_t larger = 0;
    for (const auto& [f, other] : contributions) larger += std::fabs(other) > std::fabs(c);
    EXPECT_LE(larger, i);
    const auto key = top[i]["feature"].get<std::string>();
    const auto feature = find_feature(key);
    ASSERT_TRUE(feature.has_value()) << key;
    EXPECT_EQ(top[i]["name"], feature_names()[static_cast<size_t>(*feature)]);
    const double value = flow[*feature];
    if (std::isnan(value)) {
      EXPECT_TRUE(top[i]["value"].is_null());
    } else {
      EXPECT_EQ(top[i]["value"].get<double>(), value);
    }
  }
}

}  // namespace ml_engine_test
}  // namespace sentinel::flows
