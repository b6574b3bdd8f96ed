#include "flows/normaliser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/csv_telemetry.h"

namespace sentinel::flows {
namespace normaliser_test {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<FlowRecord> flows_with(Feature feature, const std::vector<double>& values) {
  std::vector<FlowRecord> flows(values.size());
  for (size_t i = 0; i < values.size(); ++i) flows[i][feature] = values[i];
  return flows;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() /
          ("flowio-norm-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" + name))
      .string();
}

TEST(Normaliser, MedianAndIqrOverFiniteValues) {
  std::vector<double> values;
  for (int i = 1; i <= 100; ++i) values.push_back(i);
  values.push_back(kInf);                                      // skipped
  values.push_back(std::numeric_limits<double>::quiet_NaN());  // skipped
  const Normaliser n = fit_normaliser(flows_with(Feature::flow_duration, values));
  EXPECT_DOUBLE_EQ(n.centre(Feature::flow_duration), 50.5);
  // numpy: percentile([1..100], 75) - percentile(.., 25) = 75.25 - 25.75
  EXPECT_DOUBLE_EQ(n.scale(Feature::flow_duration), 49.5 / 1.349);
  EXPECT_EQ(n.count(Feature::flow_duration), 100u);
  EXPECT_DOUBLE_EQ(n.z(Feature::flow_duration, 50.5), 0.0);
  EXPECT_DOUBLE_EQ(n.z(Feature::flow_duration, 50.5 + 49.5 / 1.349), 1.0);
  EXPECT_TRUE(std::isnan(n.z(Feature::flow_duration, kMissing)));
  EXPECT_EQ(n.z(Feature::flow_duration, kInf), kInf);
  // A feature with no values is the identity.
  EXPECT_EQ(n.centre(Feature::protocol), 0.0);
  EXPECT_EQ(n.scale(Feature::protocol), 1.0);
  EXPECT_EQ(n.count(Feature::protocol), 0u);
}

TEST(Normaliser, MeanAndStdWhereTheIqrIsZero) {
  std::vector<double> values(90, 0.0);
  values.insert(values.end(), 10, 10.0);  // quartiles both 0; mean 1, std 3
  const Normaliser n = fit_normaliser(flows_with(Feature::syn_flag_count, values));
  EXPECT_DOUBLE_EQ(n.centre(Feature::syn_flag_count), 1.0);
  EXPECT_DOUBLE_EQ(n.scale(Feature::syn_flag_count), 3.0);
  EXPECT_DOUBLE_EQ(n.z(Feature::syn_flag_count, 10), 3.0);
  // A constant: scale 1 and centre the constant.
  const Normaliser c = fit_normaliser(flows_with(Feature::urg_flag_count, std::vector<double>(50, 7.0)));
  EXPECT_EQ(c.centre(Feature::urg_flag_count), 7.0);
  EXPECT_EQ(c.scale(Feature::urg_flag_count), 1.0);
}

TEST(Normaliser, TransformGivesEveryZ) {
  NormaliserFitter fitter;
  fitter.add(flows_with(Feature::flow_duration, {1, 2, 3, 4, 5}));
  EXPECT_EQ(fitter.flows(), 5u);
  const Normaliser n = fitter.fit();
  FlowRecord flow;
  flow[Feature::flow_duration] = 3;
  std::array<double, kFeatureCount> z{};
  n.transform(flow, z);
  EXPECT_EQ(z[static_cast<size_t>(Feature::flow_duration)], 0.0);
  EXPECT_TRUE(std::isnan(z[static_cast<size_t>(Feature::protocol)]));
}

TEST(Normaliser, SaveAndLoadRoundTripExactly) {
  auto reader = CsvReader::open(std::string(SENTINEL_SOURCE_DIR) +
                                "/tests/data/netflows/cicids2017_improved_engelen_sampled/DDoS_5000.csv");
  ASSERT_TRUE(reader.ok());
  std::vector<FlowRecord> flows;
  ASSERT_TRUE(reader.value()->next_batch(flows, 5000).ok());
  const Normaliser fitted = fit_normaliser(flows);
  EXPECT_EQ(fitted.count(Feature::flow_duration), 5000u);
  EXPECT_EQ(fitted.count(Feature::fwd_header_length_1), 0u);  // the improved layout lacks it

  const std::string path = temp_path("model.json.norm.json");
  ASSERT_TRUE(fitted.save(path).ok());
  auto loaded = Normaliser::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const auto f = static_cast<Feature>(i);
    EXPECT_EQ(loaded->centre(f), fitted.centre(f)) << feature_names()[i];
    EXPECT_EQ(loaded->scale(f), fitted.scale(f)) << feature_names()[i];
    EXPECT_EQ(loaded->count(f), fitted.count(f)) << feature_names()[i];
  }
  const auto doc = nlohmann::json::parse(fitted.to_json());
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["features"].size(), kFeatureCount);
  EXPECT_EQ(doc["features"][55], "Fwd Header Length.1");
  EXPECT_EQ(doc["count"][1], 5000);
  fs::remove(path);
  EXPECT_EQ(Normaliser::path_for_model("models/flows.json"), "models/flows.json.norm.json");
}

TEST(Normaliser, FeaturesAreMatchedByNameOnLoad) {
  auto doc = nlohmann::json::parse(Normaliser().to_json());
  // Reverse every array: same normaliser.
  for (const char* key : {"features", "centre", "scale", "count"}) {
    std::reverse(doc[key].begin(), doc[key].end());
  }
  doc["centre"][0] = 5.0;  // now Protocol's centre
  auto n = Normaliser::from_json(doc.dump());
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  EXPECT_EQ(n->centre(Feature::protocol), 5.0);
  EXPECT_EQ(n->centre(Feature::destination_port), 0.0);
}

TEST(Normaliser, LoadErrorsNameTheFileAndTheReason) {
  auto missing = Normaliser::load("/nonexistent/flows.norm.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "/nonexistent/flows.norm.json");
  EXPECT_THAT(missing.error().reason, HasSubstr("cannot open"));

  const std::string path = temp_path("bad.norm.json");
  std::ofstream(path) << "{\"version\": 1, \"features\": [";
  auto bad = Normaliser::load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, path);
  EXPECT_THAT(bad.error().reason, HasSubstr("not valid JSON"));
  fs::remove(path);

  const auto good = nlohmann::json::parse(Normaliser().to_json());
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {[](auto& d) { d["version"] = 2; }, "unsupported version 2"},
      {[](auto& d) { d.erase("version"); }, "missing integer \"version\""},
      {[](auto& d) { d.erase("scale"); }, "missing array \"scale\""},
      {[](auto& d) { d["features"][3] = "Packets per Fortnight"; }, "unknown feature 'Packets per Fortnight'"},
      {[](auto& d) { d["features"][3] = "Flow Duration"; }, "feature 'Flow Duration' appears twice"},
      {[](auto& d) { d["scale"][2] = 0.0; }, "scale[2] ('Total Fwd Packets') is not a positive finite number"},
      {[](auto& d) { d["scale"][2] = "1"; }, "scale[2]"},
      {[](auto& d) { d["centre"][2] = nullptr; }, "centre[2]"},
      {[](auto& d) { d["count"][2] = -1; }, "count[2]"},
      {[](auto& d) { d["centre"].erase(0); }, "arrays of different lengths"},
      {[](auto& d) {
         for (const char* key : {"features", "centre", "scale", "count"}) d[key].erase(d[key].size() - 1);
       },
       "feature 'Protocol' is missing (78 of 79 features given)"},
  };
  for (const Case& c : cases) {
    auto doc = good;
    c.edit(doc);
    auto n = Normaliser::from_json(doc.dump());
    ASSERT_FALSE(n.ok()) << c.reason;
    EXPECT_THAT(n.error().reason, HasSubstr(c.reason));
  }
  EXPECT_FALSE(Normaliser::from_json("[]").ok());
}

TEST(Normaliser, SaveToAnUnwritablePathNamesIt) {
  auto status = Normaliser().save("/nonexistent/dir/x.norm.json");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().field, "/nonexistent/dir/x.norm.json");
}

}  // namespace normaliser_test
}  // namespace sentinel::flows
