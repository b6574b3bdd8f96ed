#include "flows/flow_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/csv_telemetry.h"

namespace sentinel::flows {
namespace flow_json_test {

using ::testing::HasSubstr;

const std::string kNetflows = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/netflows/";
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<FlowRecord> read_csv(const std::string& path) {
  auto reader = CsvReader::open(path);
  EXPECT_TRUE(reader.ok());
  std::vector<FlowRecord> all, out;
  while (reader.ok()) {
    auto n = reader.value()->next_batch(out, 512);
    if (!n.ok() || n.value() == 0) break;
    all.insert(all.end(), out.begin(), out.end());
  }
  return all;
}

void expect_same(const FlowRecord& a, const FlowRecord& b, const std::string& where) {
  EXPECT_EQ(std::memcmp(a.features.data(), b.features.data(), sizeof(double) * kFeatureCount), 0) << where;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    if (std::isnan(a.features[i])) {
      EXPECT_TRUE(std::isnan(b.features[i])) << where << " " << feature_keys()[i];
    } else {
      EXPECT_EQ(a.features[i], b.features[i]) << where << " " << feature_keys()[i];
    }
  }
  EXPECT_EQ(a.flow_id, b.flow_id) << where;
  EXPECT_EQ(a.src_ip, b.src_ip) << where;
  EXPECT_EQ(a.dst_ip, b.dst_ip) << where;
  EXPECT_EQ(a.src_port, b.src_port) << where;
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms) << where;
  EXPECT_EQ(a.label, b.label) << where;
}

TEST(FlowJson, WritesIdentityThenPresentFeatures) {
  FlowRecord flow;
  flow.flow_id = "10.0.0.1-10.0.0.2-1234-80-6";
  flow.src_ip = "10.0.0.1";
  flow.dst_ip = "10.0.0.2";
  flow.src_port = 1234;
  flow.timestamp_ms = 1499454159182;
  flow.label = "DDoS";
  flow.origin = "not written";
  flow[Feature::destination_port] = 80;
  flow[Feature::flow_bytes_per_s] = kInf;
  flow[Feature::flow_iat_mean] = 0.1;
  flow[Feature::init_win_bytes_backward] = -1;
  flow[Feature::protocol] = 6;
  EXPECT_EQ(flow_to_json(flow),
            R"({"flow_id":"10.0.0.1-10.0.0.2-1234-80-6","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","src_port":1234,)"
            R"("timestamp":"2017-07-07T19:02:39.182Z","label":"DDoS","destination_port":80,)"
            R"("flow_bytes_per_s":"Infinity","flow_iat_mean":0.1,"init_win_bytes_backward":-1,"protocol":6})");
  EXPECT_EQ(flow_to_json(FlowRecord{}), "{}");
}

TEST(FlowJson, RoundTripsEveryLayoutExactly) {
  FlowJsonDecoder decoder;
  size_t checked = 0;
  for (const std::string& file :
       {std::string("cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv"),
        std::string("cicids2017_machinelearningcve/CICIDS2017_sample_westernoc2_derived.csv"),
        std::string("cicids2017_trafficlabelling/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first20rows.csv"),
        std::string("cicids2017_improved_engelen_sampled/DDoS_5000.csv")}) {
    const auto flows = read_csv(kNetflows + file);
    ASSERT_FALSE(flows.empty()) << file;
    std::string json;
    FlowRecord back;
    for (const FlowRecord& flow : flows) {
      json.clear();
      append_flow_json(json, flow);
      ASSERT_TRUE(nlohmann::json::accept(json)) << json;
      auto status = decoder.decode(json, back);
      ASSERT_TRUE(status.ok()) << flow.origin << ": " << status.error().to_string();
      EXPECT_TRUE(back.origin.empty());
      expect_same(flow, back, flow.origin);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9998u + 6311u + 20u + 5000u);
}

TEST(FlowJson, ReadsCanonicalNamesSpecialValuesAndTimestamps) {
  FlowJsonDecoder decoder;
  FlowRecord flow;
  flow.origin = "stale";
  auto status = decoder.decode(
      R"({"Flow Duration": 12, "SYN Flag Count": 1, "flow_bytes_per_s": "Infinity", "flow_packets_per_s": "-Infinity",
          "flow_iat_mean": "NaN", "flow_iat_std": null, "Destination Port": 443, "timestamp": 1499454159182,
          "src_port": null, "label": null})",
      flow);
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  EXPECT_EQ(flow[Feature::flow_duration], 12);
  EXPECT_EQ(flow[Feature::syn_flag_count], 1);
  EXPECT_EQ(flow[Feature::flow_bytes_per_s], kInf);
  EXPECT_EQ(flow[Feature::flow_packets_per_s], -kInf);
  EXPECT_FALSE(flow.has(Feature::flow_iat_mean));
  EXPECT_FALSE(flow.has(Feature::flow_iat_std));
  EXPECT_EQ(flow[Feature::destination_port], 443);
  EXPECT_EQ(flow.timestamp_ms, 1499454159182);
  EXPECT_EQ(flow.src_port, -1);
  EXPECT_EQ(flow.label, "");
  EXPECT_EQ(flow.origin, "");  // cleared

  for (const auto& [text, ms] : std::vector<std::pair<std::string, int64_t>>{
           {R"({"timestamp": "2017-07-07T19:02:39.182Z"})", 1499454159182},
           {R"({"timestamp": "2017-07-07T21:02:39+02:00"})", 1499454159000},
           {R"({"timestamp": "2017-07-07 19:02:39.182486"})", 1499454159182},
           {R"({"timestamp": "7/7/2017 3:30"})", 1499398200000}}) {
    ASSERT_TRUE(decoder.decode(text, flow).ok()) << text;
    EXPECT_EQ(flow.timestamp_ms, ms) << text;
  }
}

TEST(FlowJson, BadRecordsNameTheKey) {
  FlowJsonDecoder decoder;
  FlowRecord flow;
  struct Case {
    std::string json;
    std::string field;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"({"flow_duration": 1, "colour": "red"})", "colour", "unknown key"},
      {R"({"flow_duration": "fast"})", "flow_duration", "got the string \"fast\""},
      {R"({"syn_flag_count": true})", "syn_flag_count", "expected a number, got a boolean"},
      {R"({"syn_flag_count": [1]})", "syn_flag_count", "got an array"},
      {R"({"flow_duration": 1, "Flow Duration": 2})", "Flow Duration", "given twice"},
      {R"({"src_port": 70000})", "src_port", "outside 0-65535"},
      {R"({"src_port": 80.5})", "src_port", "integer port"},
      {R"({"src_port": "80"})", "src_port", "got a string"},
      {R"({"timestamp": "soon"})", "timestamp", "not a timestamp"},
      {R"({"timestamp": true})", "timestamp", "RFC 3339"},
      {R"({"label": 3})", "label", "expected a string"},
      {R"({"label": "a", "label": "b"})", "label", "given twice"},
      {R"([1, 2])", "", "must be a JSON object, got an array"},
      {R"({"flow_duration": )", "", "malformed JSON"},
      {"", "", "malformed JSON"},
  };
  for (const Case& c : cases) {
    auto status = decoder.decode(c.json, flow);
    ASSERT_FALSE(status.ok()) << c.json;
    EXPECT_EQ(status.error().field, c.field) << c.json;
    EXPECT_THAT(status.error().reason, HasSubstr(c.reason)) << c.json;
  }
}

TEST(FlowJson, InvalidUtf8InStringsStillWritesValidJson) {
  FlowRecord flow;
  flow.label = "Web Attack \x96 Brute Force";  // the byte CIC-IDS2017's original labels carry
  flow.flow_id = "quote\" back\\slash\nnewline";
  const std::string json = flow_to_json(flow);
  ASSERT_TRUE(nlohmann::json::accept(json)) << json;
  FlowJsonDecoder decoder;
  FlowRecord back;
  ASSERT_TRUE(decoder.decode(json, back).ok());
  EXPECT_EQ(back.label, "Web Attack \xEF\xBF\xBD Brute Force");  // U+FFFD
  EXPECT_EQ(back.flow_id, flow.flow_id);
}

TEST(FlowJson, LoadsObjectsAndArrays) {
  FlowJsonDecoder decoder;
  FlowRecord flow;
  auto n = decoder.load(R"([{"flow_duration": 1}, "x", {"flow_duration": 3}])");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 3u);
  ASSERT_TRUE(decoder.record(0, flow).ok());
  EXPECT_EQ(flow[Feature::flow_duration], 1);
  EXPECT_FALSE(decoder.record(1, flow).ok());
  ASSERT_TRUE(decoder.record(2, flow).ok());
  EXPECT_EQ(flow[Feature::flow_duration], 3);
  // decode() on the same decoder leaves the loaded document readable.
  ASSERT_TRUE(decoder.decode(R"({"flow_duration": 9})", flow).ok());
  ASSERT_TRUE(decoder.record(0, flow).ok());
  EXPECT_EQ(flow[Feature::flow_duration], 1);
  EXPECT_FALSE(decoder.record(3, flow).ok());

  n = decoder.load(R"({"flow_duration": 5})");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1u);
  auto scalar = decoder.load("42");
  ASSERT_FALSE(scalar.ok());
  EXPECT_THAT(scalar.error().reason, HasSubstr("got a number"));
  EXPECT_FALSE(decoder.load("[1,").ok());
}

}  // namespace flow_json_test
}  // namespace sentinel::flows
