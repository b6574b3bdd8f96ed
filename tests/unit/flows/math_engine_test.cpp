#include "flows/math_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/normaliser.h"

namespace sentinel::flows {
namespace math_engine_test {

using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

Clock::time_point far_deadline() { return Clock::now() + std::chrono::hours(1); }

std::vector<EngineVerdict> judge(MathEngine& engine, const std::vector<FlowRecord>& flows) {
  std::vector<EngineVerdict> out(flows.size());
  Status status = engine.evaluate(flows, out, far_deadline());
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().to_string());
  return out;
}

// A flow with one z-scored feature set, on the log1p scale: total_length_fwd_packets = e^y - 1.
FlowRecord sized(double y, int64_t t = 0) {
  FlowRecord f;
  f[Feature::total_length_fwd_packets] = std::expm1(y);
  f.timestamp_ms = t;
  return f;
}

double squash(double s, double z) { return s <= 0 ? 0 : s * s / (s * s + z * z); }

// Warm-up flows with log1p values 5 +- 0.5 in steps of 0.1: median 5, MAD 0.3.
std::vector<FlowRecord> warmup_flows(size_t n) {
  std::vector<FlowRecord> flows;
  for (size_t i = 0; i < n; ++i) flows.push_back(sized(5.0 + (static_cast<int>(i % 11) - 5) * 0.1));
  return flows;
}

MathEngine::Options opts(uint32_t warmup) {
  MathEngine::Options o;
  o.warmup = warmup;
  o.z_threshold = 4.0;
  o.adapt_rate = 0;  // a fixed baseline unless the test is about adaptation
  o.min_scale = 0.25;  // below the MADs used here, so the scale is the MAD's
  return o;
}

TEST(MathEngine, UndecidedDuringWarmupThenZScores) {
  MathEngine engine(opts(110));
  auto verdicts = judge(engine, warmup_flows(109));
  for (const auto& v : verdicts) EXPECT_FALSE(v.decided);
  EXPECT_FALSE(engine.ready());
  EXPECT_EQ(engine.explain(FlowRecord{}, 0)["baseline"], "warming_up");
  // The 110th flow completes the warm-up and is itself still undecided.
  verdicts = judge(engine, {sized(5.0), sized(5.0), sized(10.0), sized(3.0)});
  EXPECT_FALSE(verdicts[0].decided);
  ASSERT_TRUE(engine.ready());
  EXPECT_EQ(engine.flows_seen(), 113u);
  auto b = engine.baseline(Feature::total_length_fwd_packets);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(b->median, 5.0, 1e-12);
  EXPECT_NEAR(b->scale, 1.4826 * 0.3, 1e-9);
  EXPECT_FALSE(engine.baseline(Feature::flow_bytes_per_s).has_value());  // no values seen
  EXPECT_FALSE(engine.baseline(Feature::syn_flag_count).has_value());    // not a math feature

  EXPECT_TRUE(verdicts[1].decided);
  EXPECT_FALSE(verdicts[1].attack);
  EXPECT_NEAR(verdicts[1].score, 0, 1e-12);  // z = 0
  const double z = (10.0 - 5.0) / (1.4826 * 0.3);
  EXPECT_TRUE(verdicts[2].attack);
  EXPECT_NEAR(verdicts[2].score, squash(z, 4.0), 1e-6);
  EXPECT_TRUE(verdicts[3].decided);  // small flows are not anomalous (upper tail only)
  EXPECT_FALSE(verdicts[3].attack);
  EXPECT_EQ(verdicts[3].score, 0);

  const nlohmann::json why = engine.explain(sized(10.0), 2);
  EXPECT_EQ(why["baseline"], "online");
  EXPECT_NEAR(why["z_scores"]["total_length_fwd_packets"].get<double>(), z, 1e-4);
  EXPECT_EQ(why["max_z"]["feature"], "total_length_fwd_packets");
  EXPECT_EQ(why["strongest"]["signal"], "z:total_length_fwd_packets");
  EXPECT_TRUE(why["entropy"].empty());
  EXPECT_FALSE(why.contains("rate"));
  // Below the threshold: reported as max_z but not among the z_scores.
  const nlohmann::json quiet = engine.explain(sized(5.0), 1);
  EXPECT_TRUE(quiet["z_scores"].empty());
  EXPECT_NEAR(quiet["max_z"]["z"].get<double>(), 0.0, 1e-6);
}

TEST(MathEngine, ScoreIsHalfAtTheThreshold) {
  MathEngine engine(opts(110));
  judge(engine, warmup_flows(110));
  const double at_threshold = 5.0 + 4.0 * 1.4826 * 0.3;
  auto v = judge(engine, {sized(at_threshold + 1e-9), sized(at_threshold - 0.01)});
  EXPECT_TRUE(v[0].attack);
  EXPECT_NEAR(v[0].score, 0.5, 1e-6);
  EXPECT_FALSE(v[1].attack);
  EXPECT_LT(v[1].score, 0.5);
  EXPECT_GT(v[1].score, 0.45);
}

TEST(MathEngine, InfiniteAndMissingValuesAreSkipped) {
  MathEngine engine(opts(110));
  judge(engine, warmup_flows(110));
  FlowRecord inf = sized(5.0);
  inf[Feature::total_length_fwd_packets] = std::numeric_limits<double>::infinity();
  FlowRecord nothing;  // every feature missing, no addresses
  FlowRecord negative = sized(5.0);
  negative[Feature::total_length_fwd_packets] = -1;
  auto v = judge(engine, {inf, nothing, negative});
  EXPECT_FALSE(v[0].decided);
  EXPECT_FALSE(v[1].decided);
  EXPECT_FALSE(v[2].decided);
}

Normaliser test_normaliser() {
  nlohmann::json doc;
  doc["version"] = 1;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const bool fwd = static_cast<Feature>(i) == Feature::total_length_fwd_packets;
    doc["features"].push_back(feature_names()[i]);
    doc["centre"].push_back(fwd ? 100.0 : 0.0);
    doc["scale"].push_back(fwd ? 50.0 : 1.0);
    doc["count"].push_back(fwd ? 1000 : 0);
  }
  auto n = Normaliser::from_json(doc.dump());
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().reason);
  return *n;
}

TEST(MathEngine, NormaliserSeedsTheBaselineWithoutWarmup) {
  const Normaliser normaliser = test_normaliser();
  MathEngine engine(opts(1000), &normaliser);
  EXPECT_TRUE(engine.ready());
  auto b = engine.baseline(Feature::total_length_fwd_packets);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(b->median, std::log1p(100.0), 1e-12);
  const double scale = (std::log1p(100.0 + 0.6745 * 50) - std::log1p(100.0 - 0.6745 * 50)) / 1.349;
  EXPECT_NEAR(b->scale, scale, 1e-9);
  // Features the normaliser never saw (count 0) are not scored.
  EXPECT_FALSE(engine.baseline(Feature::flow_bytes_per_s).has_value());

  FlowRecord big;
  big[Feature::total_length_fwd_packets] = 100'000;
  FlowRecord usual;
  usual[Feature::total_length_fwd_packets] = 120;
  auto v = judge(engine, {big, usual});
  EXPECT_TRUE(v[0].decided);
  EXPECT_TRUE(v[0].attack);
  const double z = (std::log1p(100'000.0) - std::log1p(100.0)) / scale;
  EXPECT_NEAR(v[0].score, squash(z, 4.0), 1e-6);
  EXPECT_TRUE(v[1].decided);
  EXPECT_FALSE(v[1].attack);
  EXPECT_EQ(engine.explain(big, 0)["baseline"], "normaliser");
}

TEST(MathEngine, BaselineAdaptsOnlyToOrdinaryFlows) {
  MathEngine::Options o = opts(110);
  o.adapt_rate = 0.01;
  MathEngine engine(o);
  judge(engine, warmup_flows(110));
  // Anomalous flows (z far past the threshold) move the baseline 20 times
  // more slowly: 100 of them by about 100 * 0.05 * 0.01 scales (the scale
  // itself grows a little meanwhile).
  const double scale = engine.baseline(Feature::total_length_fwd_packets)->scale;
  judge(engine, std::vector<FlowRecord>(100, sized(12.0)));
  const double moved = engine.baseline(Feature::total_length_fwd_packets)->median - 5.0;
  EXPECT_GT(moved, 100 * 0.05 * 0.01 * scale - 1e-9);
  EXPECT_LT(moved, 100 * 0.05 * 0.01 * scale * 1.1);
  // Ordinary but larger flows pull the median up, step by step.
  MathEngine fresh(o);
  judge(fresh, warmup_flows(110));
  judge(fresh, std::vector<FlowRecord>(100, sized(5.5)));
  const double median = fresh.baseline(Feature::total_length_fwd_packets)->median;
  EXPECT_GT(median, 5.2);
  EXPECT_LT(median, 5.51);
}

// Windowed statistics only: no z-scored features, warm-up off.
MathEngine::Options windows_only() {
  MathEngine::Options o = opts(0);
  o.window = std::chrono::milliseconds(60'000);
  return o;
}

FlowRecord conn(const std::string& src, const std::string& dst, int port, int64_t t) {
  FlowRecord f;
  f.src_ip = src;
  f.dst_ip = dst;
  f[Feature::destination_port] = port;
  f.timestamp_ms = t;
  return f;
}

TEST(MathEngine, PortEntropyFlagsAScan) {
  MathEngine engine(windows_only());
  std::vector<FlowRecord> scan, client;
  const int64_t t0 = 1'500'000'010'000;
  for (int i = 0; i < 100; ++i) scan.push_back(conn("172.16.0.1", "192.168.10.50", 1000 + i, t0 + i * 100));
  for (int i = 0; i < 100; ++i) client.push_back(conn("192.168.10.5", "192.168.10.50", 80 + (i % 3), t0 + i * 100));
  auto v = judge(engine, scan);
  EXPECT_FALSE(v[18].decided);  // fewer than min_entropy_flows so far, nothing else to judge on
  EXPECT_TRUE(v[19].decided);
  // Entropy of n equally used ports is log2(n); the signal is 4 * H / 5 bits.
  size_t first = v.size();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].attack) {
      first = i;
      break;
    }
  }
  EXPECT_EQ(first, 31u);  // 32 ports = 5 bits
  const nlohmann::json why = engine.explain(scan[99], 99);
  EXPECT_NEAR(why["entropy"]["src_dst_ports"]["bits"].get<double>(), std::log2(100.0), 1e-4);
  EXPECT_EQ(why["entropy"]["src_dst_ports"]["distinct"], 100);
  EXPECT_EQ(why["entropy"]["src_dst_ports"]["flows"], 100);
  EXPECT_EQ(why["strongest"]["signal"], "entropy:src_dst_ports");
  EXPECT_NEAR(v[99].score, squash(4.0 * std::log2(100.0) / 5.0, 4.0), 1e-5);
  EXPECT_EQ(why["entropy"]["src_peers"]["bits"], 0.0);  // one peer

  v = judge(engine, client);
  for (const auto& verdict : v) EXPECT_FALSE(verdict.attack);
  EXPECT_NEAR(engine.explain(client[99], 99)["entropy"]["src_dst_ports"]["bits"].get<double>(), std::log2(3.0), 1e-3);
}

TEST(MathEngine, PeerEntropyAndFanIn) {
  MathEngine engine(windows_only());
  const int64_t t0 = 1'500'000'010'000;
  std::vector<FlowRecord> sweep, ddos;
  for (int i = 0; i < 100; ++i) sweep.push_back(conn("10.0.0.9", "192.168.1." + std::to_string(i), 445, t0 + i));
  auto v = judge(engine, sweep);
  EXPECT_TRUE(v[99].attack);  // log2(100) = 6.6 bits >= 6
  EXPECT_EQ(engine.explain(sweep[99], 99)["strongest"]["signal"], "entropy:src_peers");
  for (int i = 0; i < 300; ++i) {
    ddos.push_back(conn("203.0." + std::to_string(i / 200) + "." + std::to_string(i % 200), "192.168.10.50", 80,
                        t0 + 1'000 + i));
  }
  v = judge(engine, ddos);
  EXPECT_FALSE(v[200].attack);  // log2(201) < 8 bits
  EXPECT_TRUE(v[299].attack);   // log2(300) = 8.2 bits
  const nlohmann::json why = engine.explain(ddos[299], 299);
  EXPECT_EQ(why["strongest"]["signal"], "entropy:dst_sources");
  EXPECT_EQ(why["entropy"]["dst_sources"]["distinct"], 300);
}

TEST(MathEngine, WindowSlidesAndIdleKeysExpire) {
  MathEngine engine(windows_only());
  const int64_t t0 = 1'500'000'000'000;  // a multiple of the 30 s half-window
  std::vector<FlowRecord> a, b, c;
  for (int i = 0; i < 40; ++i) a.push_back(conn("10.0.0.1", "10.0.0.2", 1000 + i, t0 + i));
  // 35 s later: the first half-window is the previous one, still counted.
  for (int i = 0; i < 10; ++i) b.push_back(conn("10.0.0.1", "10.0.0.2", 2000 + i, t0 + 35'000 + i));
  // 65 s after that: both halves have moved on; the old ports are gone.
  for (int i = 0; i < 25; ++i) c.push_back(conn("10.0.0.1", "10.0.0.2", 80, t0 + 100'000 + i));
  judge(engine, a);
  judge(engine, b);
  EXPECT_EQ(engine.explain(b[9], 9)["entropy"]["src_dst_ports"]["distinct"], 50);
  judge(engine, c);
  const nlohmann::json why = engine.explain(c[24], 24);
  EXPECT_EQ(why["entropy"]["src_dst_ports"]["distinct"], 1);
  EXPECT_EQ(why["entropy"]["src_dst_ports"]["flows"], 25);
  // Twenty minutes later every key has been idle for more than 10 windows.
  judge(engine, {conn("10.9.9.9", "10.9.9.8", 1, t0 + 1'300'000)});
  EXPECT_EQ(engine.live_keys(), 2u);
}

TEST(MathEngine, RateChangeOfFlowsPerSource) {
  MathEngine engine(windows_only());
  const int64_t half = 30'000, t0 = 1'500'000'010'000;
  std::vector<FlowRecord> steady;
  for (int w = 0; w < 5; ++w) {
    for (int i = 0; i < 10; ++i) steady.push_back(conn("10.0.0.1", "10.0.0.2", 443, t0 + w * half + i * 1'000));
  }
  auto v = judge(engine, steady);
  for (const auto& verdict : v) EXPECT_FALSE(verdict.attack);
  std::vector<FlowRecord> burst;
  for (int i = 0; i < 120; ++i) burst.push_back(conn("10.0.0.1", "10.0.0.2", 443, t0 + 5 * half + i * 100));
  // A late flow from the previous half-window: not counted in the current rate.
  burst.push_back(conn("10.0.0.1", "10.0.0.2", 443, t0 + 4 * half + 5'000));
  v = judge(engine, burst);
  // lambda = max(rate_floor 10, EWMA 8.3) = 10; signal = 4 * ln(n / 10) / ln(10) reaches 4 at n = 100,
  // and is only computed from n = 50 (rate_min_flows).
  EXPECT_FALSE(engine.explain(burst[48], 48).contains("rate"));
  EXPECT_EQ(engine.explain(burst[49], 49)["rate"]["flows"], 50);
  EXPECT_FALSE(v[98].attack);
  EXPECT_TRUE(v[99].attack);
  EXPECT_NEAR(v[99].score, 0.5, 1e-6);
  const nlohmann::json why = engine.explain(burst[119], 119);
  EXPECT_EQ(why["strongest"]["signal"], "rate:src_flows");
  EXPECT_EQ(why["rate"]["flows"], 120);
  EXPECT_EQ(why["rate"]["baseline"], 10.0);
  EXPECT_NEAR(why["rate"]["ratio"].get<double>(), 12.0, 1e-6);
  EXPECT_NEAR(why["strongest"]["value"].get<double>(), 4 * std::log(12.0) / std::log(10.0), 1e-5);
  EXPECT_FALSE(engine.explain(burst[120], 120).contains("rate"));
}

TEST(MathEngine, ScaleFloor) {
  MathEngine::Options o = opts(110);
  o.min_scale = 1.5;
  MathEngine engine(o);
  judge(engine, warmup_flows(110));
  EXPECT_EQ(engine.baseline(Feature::total_length_fwd_packets)->scale, 1.5);  // MAD-based 0.44 is below
  auto v = judge(engine, {sized(10.9), sized(11.1)});
  EXPECT_FALSE(v[0].attack);
  EXPECT_TRUE(v[1].attack);
}

TEST(MathEngine, MissingTimestampsUseArrivalOrder) {
  MathEngine engine(windows_only());
  std::vector<FlowRecord> scan;
  for (int i = 0; i < 60; ++i) scan.push_back(conn("172.16.0.1", "192.168.10.50", 1000 + i, 0));
  auto v = judge(engine, scan);
  EXPECT_TRUE(v[59].attack);
}

TEST(MathEngine, MemoryIsBounded) {
  MathEngine::Options o = windows_only();
  o.max_keys = 100;
  o.max_values_per_key = 16;
  o.max_values_total = 500;
  MathEngine engine(o);
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 2'000; ++i) {
    flows.push_back(conn("10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200), "10.0.0.1", i, 1'000 + i));
  }
  for (int i = 0; i < 200; ++i) flows.push_back(conn("10.2.0.1", "10.0.0.2", i, 5'000 + i));
  judge(engine, flows);
  EXPECT_LE(engine.live_keys(), 200u);
  EXPECT_GT(engine.evicted_keys(), 0u);
  // The budget stops new entries; each key may still hold its one "other" slot.
  EXPECT_LE(engine.live_values(), 500u + 3 * 100u);
  // Past the per-key cap new ports share one slot: 16 distinct plus "other".
  const nlohmann::json why = engine.explain(flows.back(), flows.size() - 1);
  EXPECT_LE(why["entropy"]["src_dst_ports"]["distinct"].get<int>(), 17);
}

TEST(MathEngine, ContractAndOptions) {
  MathEngine engine(windows_only());
  EXPECT_EQ(engine.name(), "math");
  std::vector<FlowRecord> flows(1'000, conn("a", "b", 1, 1));
  std::vector<EngineVerdict> out(flows.size());
  Status late = engine.evaluate(flows, out, Clock::now() - std::chrono::seconds(1));
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error().reason, HasSubstr("time budget passed"));
  std::vector<EngineVerdict> wrong(2);
  EXPECT_FALSE(engine.evaluate(flows, wrong, far_deadline()).ok());

  DetectionConfig config;
  config.math_z = 3.0;
  config.math_warmup = 77;
  const auto o = MathEngine::options_from(config);
  EXPECT_EQ(o.z_threshold, 3.0);
  EXPECT_EQ(o.warmup, 77u);
  MathEngine::Options bad;
  bad.z_threshold = 0;
  EXPECT_THROW(MathEngine{bad}, ConfigError);
}

}  // namespace math_engine_test
}  // namespace sentinel::flows
