#include "flows/evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/normaliser.h"
#include "flows/rules.h"

namespace sentinel::flows {
namespace evidence_test {

using ::testing::ElementsAre;

// An engine whose explanation is fixed, or throws: stands in for the ML engine.
class FixedEngine final : public DetectionEngine {
 public:
  FixedEngine(std::string name, bool throws) : name_(std::move(name)), throws_(throws) {}
  std::string_view name() const override { return name_; }
  Status evaluate(std::span<const FlowRecord>, std::span<EngineVerdict>, std::chrono::steady_clock::time_point) override {
    return Ok{};
  }
  nlohmann::json explain(const FlowRecord&, size_t index) const override {
    if (throws_) throw std::runtime_error("model unavailable");
    return {{"top_features", {{{"feature", "syn_flag_count"}, {"contribution", 1.25}}}}, {"index", index}};
  }

 private:
  std::string name_;
  bool throws_;
};

FlowRecord scan_flow() {
  FlowRecord f;
  f.flow_id = "192.168.10.50-172.16.0.1-80-33898-6";
  f.src_ip = "172.16.0.1";
  f.dst_ip = "192.168.10.50";
  f.src_port = 33898;
  f.timestamp_ms = 1'499'435'025'123;
  f.origin = "Portscan.csv:17";
  f.label = "PortScan";
  f[Feature::destination_port] = 80;
  f[Feature::protocol] = 6;
  f[Feature::flow_duration] = 48;
  f[Feature::total_fwd_packets] = 1;
  f[Feature::syn_flag_count] = 1;
  f[Feature::flow_bytes_per_s] = std::numeric_limits<double>::infinity();
  return f;
}

Normaliser normaliser() {
  nlohmann::json doc;
  doc["version"] = 1;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const auto f = static_cast<Feature>(i);
    doc["features"].push_back(feature_names()[i]);
    doc["centre"].push_back(f == Feature::flow_duration ? 1'000'000.0 : 0.0);
    doc["scale"].push_back(f == Feature::flow_duration ? 100'000.0 : (f == Feature::syn_flag_count ? 0.1 : 1.0));
    doc["count"].push_back(100);
  }
  return *Normaliser::from_json(doc.dump());
}

EnsembleConfig config() {
  EnsembleConfig c;
  c.weight_rules = 0.35;
  c.weight_math = 0.15;
  c.weight_ml = 0.50;
  c.threshold = 0.5;
  return c;
}

struct Fixture {
  std::unique_ptr<RulesEngine> rules = RulesEngine::from_text(
      "title: Probe to web port\nid: probe-web\nlevel: high\ndetection:\n"
      "  probe: {total_fwd_packets|lte: 2, destination_port: [80, 443]}\n  condition: probe\n",
      "inline.yml");
  FixedEngine ml{"ml", false};
  std::vector<FlowRecord> flows{scan_flow()};
  std::vector<EngineVerdict> rule_verdicts = std::vector<EngineVerdict>(1);
  std::vector<EngineVerdict> ml_verdicts{EngineVerdict{true, true, 0.97}};
  EnsembleVoter voter{config()};
  std::vector<EvidenceEngine> engines;
  std::vector<EngineColumn> columns;
  std::vector<EnsembleDecision> decisions = std::vector<EnsembleDecision>(1);

  Fixture() {
    EXPECT_TRUE(rules->evaluate(flows, rule_verdicts, std::chrono::steady_clock::now() + std::chrono::hours(1)).ok());
    // Math was skipped for this batch (empty column).
    engines = {{rules.get(), voter.column("rules", rule_verdicts)},
               {nullptr, voter.column("math", {})},
               {&ml, voter.column("ml", ml_verdicts)}};
    for (const auto& e : engines) columns.push_back(e.column);
    EXPECT_TRUE(voter.vote(columns, decisions).ok());
  }
};

TEST(Evidence, ShapeAndContent) {
  Fixture fx;
  const Normaliser norm = normaliser();
  ASSERT_TRUE(fx.decisions[0].anomaly);
  const nlohmann::json e = build_evidence(fx.flows[0], 0, fx.decisions[0], fx.voter.threshold(), fx.engines, &norm);

  std::vector<std::string> keys;
  for (const auto& [key, value] : e.items()) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("engines", "ensemble", "flow", "top_features"));

  const auto& flow = e["flow"];
  EXPECT_EQ(flow["flow_id"], "192.168.10.50-172.16.0.1-80-33898-6");
  EXPECT_EQ(flow["src_ip"], "172.16.0.1");
  EXPECT_EQ(flow["dst_ip"], "192.168.10.50");
  EXPECT_EQ(flow["src_port"], 33898);
  EXPECT_EQ(flow["dst_port"], 80.0);
  EXPECT_EQ(flow["protocol"], 6.0);
  EXPECT_EQ(flow["timestamp_ms"], 1'499'435'025'123);
  EXPECT_EQ(flow["time"], "2017-07-07T13:43:45.123Z");
  EXPECT_EQ(flow["origin"], "Portscan.csv:17");
  EXPECT_EQ(flow["label"], "PortScan");

  const auto& ens = e["ensemble"];
  EXPECT_NEAR(ens["score"].get<double>(), (0.35 * 0.9 + 0.5 * 0.97) / 0.85, 1e-12);
  EXPECT_EQ(ens["threshold"], 0.5);
  EXPECT_EQ(ens["anomaly"], true);
  EXPECT_EQ(ens["contributing"], nlohmann::json({"rules", "ml"}));
  EXPECT_EQ(ens["deciding"], nlohmann::json({"rules", "ml"}));

  const auto& rules = e["engines"]["rules"];
  EXPECT_EQ(rules["status"], "decided");
  EXPECT_EQ(rules["attack"], true);
  EXPECT_EQ(rules["score"], 0.9);
  EXPECT_EQ(rules["weight"], 0.35);
  EXPECT_EQ(rules["explain"]["matched"][0]["id"], "probe-web");
  EXPECT_EQ(rules["explain"]["matched"][0]["selections"]["probe"]["values"]["total_fwd_packets|lte"], 1.0);

  const auto& math = e["engines"]["math"];
  EXPECT_EQ(math["status"], "skipped");
  EXPECT_EQ(math["score"], nullptr);
  EXPECT_FALSE(math.contains("explain"));

  const auto& ml = e["engines"]["ml"];
  EXPECT_EQ(ml["status"], "decided");
  EXPECT_EQ(ml["score"], 0.97);
  EXPECT_EQ(ml["explain"]["top_features"][0]["feature"], "syn_flag_count");

  // |z|: syn_flag_count 10, flow_duration 9.99952, total_fwd_packets 1, protocol 6, destination_port 80;
  // flow_bytes_per_s is infinite and left out.
  const auto& top = e["top_features"];
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0]["feature"], "destination_port");
  EXPECT_EQ(top[0]["name"], "Destination Port");
  EXPECT_EQ(top[0]["z"], 80.0);
  EXPECT_EQ(top[1]["feature"], "syn_flag_count");
  EXPECT_NEAR(top[1]["z"].get<double>(), 10.0, 1e-9);
  EXPECT_EQ(top[2]["feature"], "flow_duration");
  EXPECT_NEAR(top[2]["z"].get<double>(), (48 - 1e6) / 1e5, 1e-9);
  EXPECT_EQ(top[2]["value"], 48.0);
  EXPECT_EQ(top[3]["feature"], "protocol");
  EXPECT_EQ(top[4]["feature"], "total_fwd_packets");
  for (const auto& t : top) EXPECT_NE(t["feature"], "flow_bytes_per_s");
}

TEST(Evidence, DeterministicSerialisation) {
  Fixture a, b;
  const Normaliser norm = normaliser();
  const std::string one = build_evidence(a.flows[0], 0, a.decisions[0], 0.5, a.engines, &norm).dump();
  const std::string two = build_evidence(b.flows[0], 0, b.decisions[0], 0.5, b.engines, &norm).dump();
  EXPECT_EQ(one, two);
  EXPECT_LT(one.find("\"engines\""), one.find("\"ensemble\""));
  EXPECT_LT(one.find("\"ensemble\""), one.find("\"flow\""));
}

TEST(Evidence, MissingValuesNoNormaliserAndAFailingExplanation) {
  Fixture fx;
  FixedEngine broken{"ml", true};
  fx.engines[2].engine = &broken;
  FlowRecord bare = fx.flows[0];
  bare.flow_id.clear();
  bare.src_ip.clear();
  bare.src_port = -1;
  bare.timestamp_ms = 0;
  bare.label.clear();
  bare[Feature::destination_port] = kMissing;
  const nlohmann::json e = build_evidence(bare, 0, fx.decisions[0], 0.5, fx.engines, nullptr);
  EXPECT_EQ(e["flow"]["flow_id"], nullptr);
  EXPECT_EQ(e["flow"]["src_ip"], nullptr);
  EXPECT_EQ(e["flow"]["src_port"], nullptr);
  EXPECT_EQ(e["flow"]["dst_port"], nullptr);
  EXPECT_EQ(e["flow"]["timestamp_ms"], nullptr);
  EXPECT_EQ(e["flow"]["time"], nullptr);
  EXPECT_EQ(e["flow"]["label"], nullptr);
  EXPECT_TRUE(e["top_features"].is_array());
  EXPECT_TRUE(e["top_features"].empty());
  EXPECT_EQ(e["engines"]["ml"]["explain_error"], "model unavailable");
  EXPECT_FALSE(e["engines"]["ml"].contains("explain"));
  // An engine that was undecided for the flow still explains itself.
  std::vector<EngineVerdict> undecided(1);
  fx.engines[2] = {&fx.ml, fx.voter.column("ml", undecided)};
  const nlohmann::json u = build_evidence(fx.flows[0], 0, fx.decisions[0], 0.5, fx.engines, nullptr);
  EXPECT_EQ(u["engines"]["ml"]["status"], "undecided");
  EXPECT_EQ(u["engines"]["ml"]["attack"], false);
  EXPECT_EQ(u["engines"]["ml"]["score"], nullptr);
  EXPECT_EQ(u["engines"]["ml"]["explain"]["index"], 0);
}

}  // namespace evidence_test
}  // namespace sentinel::flows
