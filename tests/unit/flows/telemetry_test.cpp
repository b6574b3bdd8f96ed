#include "flows/telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::flows {
namespace telemetry_test {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kData = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/";

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

TEST(Telemetry, OpensTheWholeNetflowsFolder) {
  std::vector<TelemetryIssue> issues;
  const std::vector<std::string> paths = {kData + "netflows"};
  auto sources = open_telemetry(paths, TelemetryConfig{}, [&](const TelemetryIssue& i) { issues.push_back(i); });
  ASSERT_TRUE(sources.ok()) << sources.error().to_string();
  ASSERT_EQ(sources->size(), 15u);  // 15 CSV files, no JSON
  std::map<std::string, size_t> layouts;
  size_t rows = 0;
  std::vector<FlowRecord> batch;
  for (const auto& source : sources.value()) {
    ++layouts[std::string(source->layout())];
    while (true) {
      auto n = source->next_batch(batch, 4096);
      ASSERT_TRUE(n.ok());
      if (n.value() == 0) break;
      rows += n.value();
    }
  }
  EXPECT_EQ(rows, 40177u);  // every data row of every file
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(layouts, (std::map<std::string, size_t>{
                         {"derived_sample", 1}, {"improved", 12}, {"machine_learning_cve", 1}, {"traffic_labelling", 1}}));
}

TEST(Telemetry, FeatureExportWritesTheTrainingTable) {
  const std::vector<std::string> paths = {
      kData + "netflows/cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv",
      kData + "netflows/cicids2017_improved_engelen_sampled/Heartbleed_11.csv",
      kData + "flows_json/flows/ddos"};
  auto sources = open_telemetry(paths, TelemetryConfig{}, {});
  ASSERT_TRUE(sources.ok());
  std::stringstream out;
  auto stats = write_features_csv(sources.value(), out, 1000);
  ASSERT_TRUE(stats.ok()) << stats.error().to_string();
  EXPECT_EQ(stats->rows, 9998u + 11u + 1u);
  EXPECT_EQ(stats->rejected, 0u);
  EXPECT_EQ(stats->per_label, (std::map<std::string, uint64_t>{{"BENIGN", 9998}, {"DDoS", 1}, {"Heartbleed", 11}}));
  EXPECT_EQ(stats->per_layout,
            (std::map<std::string, uint64_t>{{"improved", 11}, {"json", 1}, {"machine_learning_cve", 9998}}));

  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(out, line)) rows.push_back(split(line));
  ASSERT_EQ(rows.size(), 1u + 9998u + 11u + 1u);
  const auto& header = rows[0];
  ASSERT_EQ(header.size(), kFeatureCount + 3);
  for (size_t i = 0; i < kFeatureCount; ++i) EXPECT_EQ(header[i], feature_names()[i]);
  EXPECT_EQ(header[79], "label");
  EXPECT_EQ(header[80], "layout");
  EXPECT_EQ(header[81], "source");
  for (const auto& row : rows) ASSERT_EQ(row.size(), kFeatureCount + 3);

  const auto& first = rows[1];  // Friday line 2
  EXPECT_EQ(first[0], "54865");
  EXPECT_EQ(first[15], "666666.6667");
  EXPECT_EQ(first[78], "");  // Protocol: missing in this layout
  EXPECT_EQ(first[79], "BENIGN");
  EXPECT_EQ(first[80], "machine_learning_cve");
  EXPECT_EQ(first[81], paths[0]);
  EXPECT_EQ(rows[67 - 1][14], "inf");   // Friday line 67: Flow Bytes/s Infinity
  EXPECT_EQ(rows[6798 - 1][14], "");    // Friday line 6798: NaN
  const auto& heartbleed = rows[1 + 9998];
  EXPECT_EQ(heartbleed[79], "Heartbleed");
  EXPECT_EQ(heartbleed[80], "improved");
  EXPECT_EQ(heartbleed[55], "");  // Fwd Header Length.1: missing in the improved layout
  EXPECT_EQ(heartbleed[78], "6");
  const auto& json = rows.back();
  EXPECT_EQ(json[79], "DDoS");
  EXPECT_EQ(json[80], "json");
  EXPECT_EQ(json[81], kData + "flows_json/flows/ddos/syn_flood.json");
  EXPECT_EQ(json[1], "4216645");
}

TEST(Telemetry, FeatureValuesAreShortestRoundTripText) {
  std::string s;
  append_feature_value(s, 0.1);
  s += '|';
  append_feature_value(s, -kMissing);
  s += '|';
  append_feature_value(s, -std::numeric_limits<double>::infinity());
  s += '|';
  append_feature_value(s, 1e21);
  EXPECT_EQ(s, "0.1||-inf|1e+21");
}

TEST(Telemetry, OpenErrorsNameThePath) {
  auto missing = open_telemetry(std::vector<std::string>{kData + "no-such-dir"}, TelemetryConfig{}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, kData + "no-such-dir");
  auto other = open_telemetry(std::vector<std::string>{kData + "flows_json/files/notes.txt"}, TelemetryConfig{}, {});
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.error().reason, HasSubstr("not a flow telemetry file"));

  // A CSV with an unknown layout: refused by name when given, reported and skipped inside a directory.
  const fs::path dir = fs::temp_directory_path() /
                       ("flowio-open-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(dir);
  fs::create_directories(dir / "benign");
  std::ofstream(dir / "benign" / "odd.csv") << "Flow Duration,Tot Fwd Pkts\n1,2\n";
  std::ofstream(dir / "benign" / "good.csv") << "Flow Duration,SYN Flag Count\n5,1\n";
  auto given = open_telemetry(std::vector<std::string>{(dir / "benign" / "odd.csv").string()}, TelemetryConfig{}, {});
  ASSERT_FALSE(given.ok());
  EXPECT_THAT(given.error().to_string(), HasSubstr("odd.csv: unknown flow CSV layout"));
  EXPECT_THAT(given.error().reason, HasSubstr("'Tot Fwd Pkts' (column 2)"));
  std::vector<TelemetryIssue> issues;
  auto walked = open_telemetry(std::vector<std::string>{dir.string()}, TelemetryConfig{},
                               [&](const TelemetryIssue& i) { issues.push_back(i); });
  ASSERT_TRUE(walked.ok());
  ASSERT_EQ(walked->size(), 1u);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_THAT(issues[0].origin, HasSubstr("odd.csv"));
  std::vector<FlowRecord> batch;
  ASSERT_EQ(walked->front()->next_batch(batch, 10).value(), 1u);
  EXPECT_EQ(batch[0].label, "BENIGN");  // from the benign/ folder
  fs::remove_all(dir);
}

}  // namespace telemetry_test
}  // namespace sentinel::flows
