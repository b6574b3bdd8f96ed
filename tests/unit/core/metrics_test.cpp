#include "core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace sentinel {
namespace metrics_test {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
namespace lb = latency_buckets;

ProcTime at(milliseconds t) {
  return ProcTime(t);
}

// ------------------------------------------------------------------ buckets --

TEST(LatencyBuckets, LayoutIsContiguousAndWithinOnePercent) {
  EXPECT_EQ(lb::kCount, 4562u);
  EXPECT_EQ(lb::lower_bound_ns(0), 0u);
  for (size_t i = 0; i + 1 < lb::kCount; ++i) {
    ASSERT_LE(lb::lower_bound_ns(i), lb::upper_bound_ns(i)) << i;
    ASSERT_EQ(lb::upper_bound_ns(i) + 1, lb::lower_bound_ns(i + 1)) << i;
    const uint64_t lo = lb::lower_bound_ns(i);
    if (lo >= 256) {
      // Width relative to the smallest value in the bucket: at most 1/128.
      ASSERT_LE(static_cast<double>(lb::upper_bound_ns(i) - lo) / static_cast<double>(lo),
                1.0 / 128)
          << i;
    } else {
      ASSERT_EQ(lb::upper_bound_ns(i), lo) << i;
    }
  }
  EXPECT_GE(lb::upper_bound_ns(lb::kCount - 1), lb::kMaxTrackableNs);
}

TEST(LatencyBuckets, IndexOfFindsTheBucketHoldingTheValue) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 5000; ++v) values.push_back(v);
  for (int i = 0; i < 100'000; ++i) values.push_back(rng() % lb::kMaxTrackableNs);
  for (int shift = 0; shift < 42; ++shift) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  for (const uint64_t v : values) {
    const size_t i = lb::index_of(v);
    ASSERT_LT(i, lb::kCount) << v;
    ASSERT_LE(lb::lower_bound_ns(i), v) << v;
    ASSERT_GE(lb::upper_bound_ns(i), v) << v;
  }
  EXPECT_EQ(lb::index_of(UINT64_MAX), lb::kCount - 1);
}

// ---------------------------------------------------------------- quantiles --

/// Nearest rank with q given in parts per ten thousand (integer arithmetic,
/// independent of the implementation's floating point).
uint64_t exact_quantile(const std::vector<uint64_t>& sorted, uint64_t q_per_10k) {
  const uint64_t n = sorted.size();
  uint64_t rank = (q_per_10k * n + 9999) / 10000;
  rank = std::clamp<uint64_t>(rank, 1, n);
  return sorted[rank - 1];
}

TEST(HistogramSnapshot, QuantilesWithinOnePercentOfExactSort) {
  for (const uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    // Log-uniform from 50 ns to 100 s, the span a stage or a pipeline covers.
    std::uniform_real_distribution<double> exponent(std::log(50.0), std::log(100e9));
    const size_t n = 20'000 + seed * 777;
    std::vector<uint64_t> samples;
    HistogramSnapshot h;
    for (size_t i = 0; i < n; ++i) {
      const auto v = static_cast<uint64_t>(std::exp(exponent(rng)));
      samples.push_back(v);
      h.record(nanoseconds(v));
    }
    std::sort(samples.begin(), samples.end());
    ASSERT_EQ(h.count(), n);
    for (const uint64_t q : {0u, 1u, 100u, 2500u, 5000u, 9000u, 9500u, 9900u, 9990u, 10000u}) {
      const uint64_t exact = exact_quantile(samples, q);
      const auto got = static_cast<uint64_t>(h.quantile(static_cast<double>(q) / 10000).count());
      SCOPED_TRACE(testing::Message() << "seed " << seed << " q " << q << " exact " << exact);
      EXPECT_GE(got, exact);
      EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 128));
    }
  }
}

TEST(HistogramSnapshot, SmallValuesAreExact) {
  HistogramSnapshot h;
  for (int v = 1; v <= 200; ++v) h.record(nanoseconds(v));
  EXPECT_EQ(h.quantile(0.5).count(), 100);
  EXPECT_EQ(h.quantile(0.95).count(), 190);
  EXPECT_EQ(h.quantile(1.0).count(), 200);
  EXPECT_EQ(h.quantile(0.0).count(), 1);
  EXPECT_EQ(h.sum().count(), 200 * 201 / 2);
}

TEST(HistogramSnapshot, EmptyClampedAndNegative) {
  HistogramSnapshot h;
  EXPECT_EQ(h.quantile(0.5).count(), 0);
  EXPECT_EQ(h.count(), 0u);
  h.record(nanoseconds(-5));
  EXPECT_EQ(h.quantile(0.5).count(), 0);
  h.record(std::chrono::hours(5));
  EXPECT_EQ(static_cast<uint64_t>(h.quantile(1.0).count()), lb::upper_bound_ns(lb::kCount - 1));
  EXPECT_EQ(h.quantile(7.0), h.quantile(1.0));
  EXPECT_EQ(h.quantile(-1.0), h.quantile(0.0));
  EXPECT_EQ(h.quantile(std::nan("")), h.quantile(0.0));
}

TEST(HistogramSnapshot, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(11);
  HistogramSnapshot a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const nanoseconds v(static_cast<int64_t>(rng() % 10'000'000'000));
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.buckets(), all.buckets());
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.sum(), all.sum());
  EXPECT_EQ(a.quantile(0.99), all.quantile(0.99));
  a.clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.quantile(0.5).count(), 0);
}

// -------------------------------------------------------- LatencyHistogram --

TEST(LatencyHistogram, SnapshotMatchesPlainHistogram) {
  LatencyHistogram live;
  HistogramSnapshot plain;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10'000; ++i) {
    const nanoseconds v(static_cast<int64_t>(rng() % 50'000'000));
    live.record(v);
    plain.record(v);
  }
  const HistogramSnapshot s = live.snapshot();
  EXPECT_EQ(s.buckets(), plain.buckets());
  EXPECT_EQ(s.count(), 10'000u);
  EXPECT_EQ(live.count(), 10'000u);
  EXPECT_EQ(s.sum(), plain.sum());
  EXPECT_EQ(live.sum(), plain.sum());
}

// One writer records while a reader snapshots: every snapshot is a state the
// histogram went through or a mix of two neighbouring ones, so counts only
// grow, and the last snapshot is exact. Run under ASan and TSan.
TEST(LatencyHistogram, ConcurrentWriterAndReader) {
  LatencyHistogram h;
  constexpr int kRecords = 200'000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) h.record(nanoseconds(1000 + (i % 997) * 1000));
    done.store(true, std::memory_order_release);
  });
  HistogramSnapshot previous;
  int snapshots = 0;
  bool monotonic = true;
  while (!done.load(std::memory_order_acquire) || snapshots == 0) {
    HistogramSnapshot s = h.snapshot();
    for (size_t i = 0; i < lb::kCount; ++i) {
      if (s.buckets()[i] < previous.buckets()[i]) monotonic = false;
    }
    if (s.count() < previous.count() || s.count() > static_cast<uint64_t>(kRecords)) {
      monotonic = false;
    }
    previous = std::move(s);
    ++snapshots;
  }
  writer.join();
  EXPECT_TRUE(monotonic);
  const HistogramSnapshot last = h.snapshot();
  EXPECT_EQ(last.count(), static_cast<uint64_t>(kRecords));
  EXPECT_EQ(h.count(), static_cast<uint64_t>(kRecords));
  int64_t expected_sum = 0;
  for (int i = 0; i < kRecords; ++i) expected_sum += 1000 + (i % 997) * 1000;
  EXPECT_EQ(last.sum().count(), expected_sum);
}

// ---------------------------------------------------------------- registry --

TEST(MetricsRegistry, PrometheusTextGolden) {
  MetricsRegistry registry;
  CounterFamily& events =
      registry.add_counter("sentinel_events", "Events read, per source.", {"source"});
  GaugeFamily& depth =
      registry.add_gauge("sentinel_queue_depth", "Batches waiting; a \\ and a\nnewline.");
  LatencyFamily& stages = registry.add_latency("sentinel_stage_latency_seconds",
                                               "Processing time per stage.", {"stage", "shard"});

  // Two shards count the same source: one series, summed.
  events.add({"cad"}).inc(3);
  events.add({"sensor"}).inc();
  events.add({"cad"}).inc(4);
  events.add({"a\"b\\c\n"});
  depth.add({}).set(2.5);
  // Two instances with equal labels merge: 1..100 us in all.
  LatencyHistogram& first = stages.add({"enrich", "0"});
  LatencyHistogram& second = stages.add({"enrich", "0"});
  for (int us = 1; us <= 100; ++us)
    (us <= 50 ? first : second).record(std::chrono::microseconds(us));
  stages.add({"detect", "1"});

  // Quantiles are bucket upper bounds: 50 us lies in [49920, 50175] ns,
  // 95 us in [94720, 95231], 99 us in [98816, 99327].
  EXPECT_EQ(registry.render_prometheus(),
            "# HELP sentinel_events_total Events read, per source.\n"
            "# TYPE sentinel_events_total counter\n"
            "sentinel_events_total{source=\"cad\"} 7\n"
            "sentinel_events_total{source=\"sensor\"} 1\n"
            "sentinel_events_total{source=\"a\\\"b\\\\c\\n\"} 0\n"
            "# HELP sentinel_queue_depth Batches waiting; a \\\\ and a\\nnewline.\n"
            "# TYPE sentinel_queue_depth gauge\n"
            "sentinel_queue_depth 2.5\n"
            "# HELP sentinel_stage_latency_seconds Processing time per stage.\n"
            "# TYPE sentinel_stage_latency_seconds summary\n"
            "sentinel_stage_latency_seconds{stage=\"enrich\",shard=\"0\",quantile=\"0.5\"} "
            "5.0175e-05\n"
            "sentinel_stage_latency_seconds{stage=\"enrich\",shard=\"0\",quantile=\"0.95\"} "
            "9.5231e-05\n"
            "sentinel_stage_latency_seconds{stage=\"enrich\",shard=\"0\",quantile=\"0.99\"} "
            "9.9327e-05\n"
            "sentinel_stage_latency_seconds_sum{stage=\"enrich\",shard=\"0\"} 0.00505\n"
            "sentinel_stage_latency_seconds_count{stage=\"enrich\",shard=\"0\"} 100\n"
            "sentinel_stage_latency_seconds{stage=\"detect\",shard=\"1\",quantile=\"0.5\"} NaN\n"
            "sentinel_stage_latency_seconds{stage=\"detect\",shard=\"1\",quantile=\"0.95\"} NaN\n"
            "sentinel_stage_latency_seconds{stage=\"detect\",shard=\"1\",quantile=\"0.99\"} NaN\n"
            "sentinel_stage_latency_seconds_sum{stage=\"detect\",shard=\"1\"} 0\n"
            "sentinel_stage_latency_seconds_count{stage=\"detect\",shard=\"1\"} 0\n");
}

TEST(MetricsRegistry, RejectsBadRegistrations) {
  MetricsRegistry registry;
  registry.add_counter("sentinel_events", "help", {"source"});
  EXPECT_THROW(registry.add_counter("sentinel_events", "again"), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("sentinel_events_total", "clash"), std::invalid_argument);
  EXPECT_THROW(registry.add_counter("sentinel_late_total", "suffix"), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("9lives", "name"), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("a-b", "name"), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("ok_name", "label", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("ok_name", "label", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.add_gauge("ok_name", "label", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.add_latency("x_seconds", "label", {"quantile"}), std::invalid_argument);
  GaugeFamily& g = registry.add_gauge("ok_name", "fine", {"a", "b"});
  EXPECT_THROW(g.add({"only one"}), std::invalid_argument);
  EXPECT_NO_THROW(g.add({"1", "2"}));
}

// Per-shard counters written by several threads while another renders.
TEST(MetricsRegistry, ConcurrentCountersAndRendering) {
  MetricsRegistry registry;
  CounterFamily& family = registry.add_counter("sentinel_events", "Events.", {"source"});
  LatencyFamily& latency =
      registry.add_latency("sentinel_stage_latency_seconds", "Stage.", {"shard"});
  constexpr int kThreads = 3;
  constexpr int kIncrements = 50'000;
  std::vector<Counter*> counters;
  std::vector<LatencyHistogram*> histograms;
  for (int t = 0; t < kThreads; ++t) {
    counters.push_back(&family.add({"cad"}));
    histograms.push_back(&latency.add({std::to_string(t)}));
  }
  std::atomic<int> running{kThreads};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        counters[static_cast<size_t>(t)]->inc();
        histograms[static_cast<size_t>(t)]->record(std::chrono::microseconds(i % 100));
      }
      running.fetch_sub(1, std::memory_order_release);
    });
  }
  int renders = 0;
  while (running.load(std::memory_order_acquire) > 0 || renders == 0) {
    const std::string text = registry.render_prometheus();
    ASSERT_NE(text.find("sentinel_events_total{source=\"cad\"} "), std::string::npos);
    ++renders;
  }
  for (std::thread& w : writers) w.join();
  const std::string text = registry.render_prometheus();
  EXPECT_THAT(text, testing::HasSubstr("sentinel_events_total{source=\"cad\"} 150000\n"));
  EXPECT_THAT(text,
              testing::HasSubstr("sentinel_stage_latency_seconds_count{shard=\"2\"} 50000\n"));
}

// ------------------------------------------------------------ RollingQuantile --

TEST(RollingQuantile, ForgetsWhatLeftTheWindow) {
  RollingQuantile r(seconds(10));
  for (int i = 0; i < 1000; ++i) r.record(milliseconds(1), at(milliseconds(0)));
  for (int i = 0; i < 100; ++i) r.record(seconds(5), at(milliseconds(5000)));
  EXPECT_EQ(r.count(at(milliseconds(5000))), 1100u);
  // Rank 1045 of 1100 is one of the 5 s values.
  EXPECT_NEAR(static_cast<double>(r.p95(at(milliseconds(5000))).count()), 5e9, 5e9 / 128);
  // At 10.5 s the ring holds seconds 1..10: the 1 ms values are gone.
  EXPECT_EQ(r.count(at(milliseconds(10'500))), 100u);
  EXPECT_NEAR(static_cast<double>(r.quantile(0.01, at(milliseconds(10'500))).count()), 5e9,
              5e9 / 128);
  // At 15.5 s everything has left.
  EXPECT_EQ(r.count(at(milliseconds(15'500))), 0u);
  EXPECT_EQ(r.p95(at(milliseconds(15'500))).count(), 0);
}

TEST(RollingQuantile, JumpsAndLateRecords) {
  RollingQuantile r(seconds(3), milliseconds(500));  // 6 slots
  r.record(milliseconds(7), at(milliseconds(1000)));
  r.record(milliseconds(9), at(milliseconds(100'000)));  // a jump far past the window
  EXPECT_EQ(r.count(at(milliseconds(100'000))), 1u);
  EXPECT_EQ(r.p95(at(milliseconds(100'000))),
            nanoseconds(lb::upper_bound_ns(lb::index_of(9'000'000))));
  // Within the window but in an older slot: kept. Older than the window: dropped.
  r.record(milliseconds(1), at(milliseconds(98'000)));
  EXPECT_EQ(r.count(at(milliseconds(100'000))), 2u);
  r.record(milliseconds(1), at(milliseconds(90'000)));
  EXPECT_EQ(r.count(at(milliseconds(100'000))), 2u);
  // The 98 s slot leaves first.
  EXPECT_EQ(r.count(at(milliseconds(101'000))), 1u);
  EXPECT_THROW(RollingQuantile(seconds(1), seconds(2)), std::invalid_argument);
  EXPECT_THROW(RollingQuantile(seconds(1), milliseconds(0)), std::invalid_argument);
}

// -------------------------------------------------------------- LatencyGuard --

using State = LatencyGuard::State;
using Transition = LatencyGuard::Transition;

void record_n(LatencyGuard& g, int n, nanoseconds latency, ProcTime now) {
  for (int i = 0; i < n; ++i) g.record(latency, now);
}

TEST(LatencyGuard, DrivesThroughEveryTransition) {
  LatencyConfig config;  // warn 4 s, breaker 8 s, window 10 s
  LatencyGuard g(config);
  EXPECT_EQ(g.state(), State::kNormal);

  record_n(g, 100, milliseconds(100), at(seconds(0)));
  EXPECT_EQ(g.evaluate(at(seconds(0))), Transition::kNone);

  // p95 5 s: a warning, reported once.
  record_n(g, 100, seconds(5), at(seconds(1)));
  EXPECT_EQ(g.evaluate(at(seconds(1))), Transition::kWarningRaised);
  EXPECT_EQ(g.state(), State::kWarning);
  EXPECT_FALSE(g.bypass_enrichment());
  EXPECT_EQ(g.evaluate(at(seconds(1))), Transition::kNone);

  // p95 9 s: the breaker opens.
  record_n(g, 1000, seconds(9), at(seconds(2)));
  EXPECT_EQ(g.evaluate(at(seconds(2))), Transition::kBreakerOpened);
  EXPECT_EQ(g.state(), State::kBreakerOpen);
  EXPECT_TRUE(g.bypass_enrichment());
  EXPECT_EQ(g.evaluate(at(seconds(3))), Transition::kNone);

  // Hysteresis: at 12.5 s the slow samples have left; p95 6 s is under the
  // breaker threshold but over warn, so the breaker stays open.
  record_n(g, 100, seconds(6), at(milliseconds(12'500)));
  EXPECT_EQ(g.evaluate(at(milliseconds(12'500))), Transition::kNone);
  EXPECT_EQ(g.state(), State::kBreakerOpen);
  EXPECT_NEAR(static_cast<double>(g.last_p95().count()), 6e9, 6e9 / 128);

  // Back under warn_p95: the breaker closes straight to normal.
  record_n(g, 100, milliseconds(1), at(seconds(23)));
  EXPECT_EQ(g.evaluate(at(seconds(23))), Transition::kBreakerClosed);
  EXPECT_EQ(g.state(), State::kNormal);
  EXPECT_FALSE(g.bypass_enrichment());

  // Warning raised, then cleared.
  record_n(g, 100, seconds(5), at(seconds(40)));
  EXPECT_EQ(g.evaluate(at(seconds(40))), Transition::kWarningRaised);
  record_n(g, 100, milliseconds(1), at(seconds(55)));
  EXPECT_EQ(g.evaluate(at(seconds(55))), Transition::kWarningCleared);
  EXPECT_EQ(g.state(), State::kNormal);

  // Normal straight to open.
  record_n(g, 100, seconds(9), at(seconds(70)));
  EXPECT_EQ(g.evaluate(at(seconds(70))), Transition::kBreakerOpened);

  // An idle window has p95 0: the breaker closes.
  EXPECT_EQ(g.evaluate(at(seconds(90))), Transition::kBreakerClosed);
  EXPECT_EQ(g.last_p95().count(), 0);
}

TEST(LatencyGuard, ComparesTheBucketUpperBound) {
  LatencyConfig config;
  config.warn_p95 = milliseconds(100);
  config.breaker_p95 = milliseconds(200);
  config.window = seconds(5);
  LatencyGuard g(config);
  // 99 ms reads as at most 99.8 ms: not above warn.
  record_n(g, 10, milliseconds(99), at(seconds(0)));
  EXPECT_EQ(g.evaluate(at(seconds(0))), Transition::kNone);
  EXPECT_LE(g.last_p95(), milliseconds(100));
  // Exactly 100 ms reads as its bucket's upper bound, 100.139 ms: above warn
  // (the guard errs towards warning, by at most 0.79%).
  g.record(milliseconds(100), at(seconds(0)));
  record_n(g, 1000, milliseconds(100), at(seconds(1)));
  EXPECT_EQ(g.evaluate(at(seconds(1))), Transition::kWarningRaised);
  EXPECT_EQ(g.last_p95().count(), 100'139'007);
  record_n(g, 10000, milliseconds(201), at(seconds(2)));
  EXPECT_EQ(g.evaluate(at(seconds(2))), Transition::kBreakerOpened);
}

TEST(LatencyGuard, Names) {
  EXPECT_STREQ(to_string(State::kBreakerOpen), "breaker_open");
  EXPECT_STREQ(to_string(Transition::kBreakerClosed), "breaker_closed");
  EXPECT_STREQ(to_string(Transition::kWarningRaised), "warning_raised");
}

}  // namespace metrics_test
}  // namespace sentinel
