#include "detect/spike.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "stream/bytes.h"

namespace sentinel::detect {
namespace spike_test {

constexpr Millis kSize = Millis(5 * 60'000);  // tumbling window

SpikeConfig config(const std::string& method, double alpha, Millis warmup, uint32_t min_count, double min_rate) {
  SpikeConfig c;
  c.method = method;
  c.alpha = alpha;
  c.warmup = warmup;
  c.min_count = min_count;
  c.min_rate = min_rate;
  return c;
}

// Start of the i-th tumbling window after an arbitrary aligned origin.
EventTime win(int64_t i) { return event_time_from_ms(1'772'400'000'000 + i * kSize.count()); }

std::string saved(const SpikeDetector& d) {
  ByteWriter out;
  d.save(out);
  return out.take();
}

const WindowKey kKey{0x89c2'5a31'0000'0000ull, 7};

TEST(SpikeDetector, RejectsBadConfiguration) {
  EXPECT_THROW(SpikeDetector(config("cusum", 0.05, Millis(0), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("poisson", 0.0, Millis(0), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", 1.5, Millis(0), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", -0.1, Millis(0), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", std::nan(""), Millis(0), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", 0.5, Millis(-1), 0, 0.1), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", 0.5, Millis(0), 0, 0.0), kSize), std::invalid_argument);
  EXPECT_THROW(SpikeDetector(config("ewma", 0.5, Millis(0), 0, 0.1), Millis(0)), std::invalid_argument);
  try {
    SpikeDetector(config("cusum", 0.05, Millis(0), 0, 0.1), kSize);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("spike.method"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(SpikeDetector(config("ewma", 1.0, Millis(0), 0, 0.1), kSize));
  EXPECT_NO_THROW(SpikeDetector(config("poisson", 0.05, Millis(0), 0, 0.1), kSize));
}

TEST(SpikeDetector, FirstWindowNeverHasAVerdict) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  EXPECT_FALSE(d.observe(kKey, win(0), 1000));
  EXPECT_EQ(d.keys(), 1u);
  // With warmup 0 the second window may report.
  auto v = d.observe(kKey, win(1), 5000);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 1000.0);
}

TEST(SpikeDetector, WarmupSuppressesVerdictsWhileTheBaselineLearns) {
  // 30 min warm-up, 5 min windows: windows 1..5 start < 30 min after window 0.
  SpikeDetector d(config("poisson", 0.5, Millis(30 * 60'000), 0, 0.1), kSize);
  SpikeDetector reference(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  const uint64_t counts[] = {2, 2, 40, 2, 2, 2, 40, 40};
  for (int i = 0; i < 8; ++i) {
    auto v = d.observe(kKey, win(i), counts[i]);
    auto r = reference.observe(kKey, win(i), counts[i]);
    if (i < 6) {
      EXPECT_FALSE(v) << "window " << i << " is inside the warm-up";
    } else {
      // Learning went on during the warm-up: the verdict is the same as for a
      // detector without warm-up.
      ASSERT_TRUE(v) << "window " << i;
      ASSERT_TRUE(r);
      EXPECT_EQ(v->baseline_mean, r->baseline_mean);
      EXPECT_EQ(v->confidence, r->confidence);
    }
    if (i == 2) {
      EXPECT_TRUE(r) << "the spike at window 2 would report without warm-up";
    }
  }
  EXPECT_EQ(saved(d), saved(reference));
}

TEST(SpikeDetector, WarmupCountsEventTimeNotWindows) {
  // A key seen once, then again after a long silence: it has been watched for
  // the whole gap, so it reports on its second window.
  SpikeDetector d(config("ewma", 0.05, Millis(2 * 3600'000), 0, 0.1), kSize);
  EXPECT_FALSE(d.observe(kKey, win(0), 1));
  EXPECT_FALSE(d.observe(kKey, win(23), 9)) << "23 windows = 1h55m < 2h";
  EXPECT_TRUE(d.observe(kKey, win(24), 9)) << "24 windows = 2h";
}

// Brute-force EWMA over every window, the empty ones as explicit zeros.
struct BruteEwma {
  double alpha;
  double mean = 0, var = 0;
  bool started = false;
  void step(double x) {
    if (!started) {
      mean = x;
      var = 0;
      started = true;
      return;
    }
    const double d = x - mean;
    mean += alpha * d;
    var = (1 - alpha) * (var + alpha * d * d);
  }
};

TEST(SpikeDetector, SkippedWindowsDecayExactlyAsExplicitZeros) {
  for (double alpha : {0.05, 0.3, 1.0}) {
    SCOPED_TRACE("alpha " + std::to_string(alpha));
    // Floor far below any variance here (but above the subnormals that a gap
    // of 2000 windows reaches at alpha 0.3): z exposes the variance.
    const double min_rate = 1e-200;
    SpikeDetector d(config("ewma", alpha, Millis(0), 0, min_rate), kSize);
    BruteEwma ref{alpha};
    std::mt19937_64 rng(7);
    int64_t w = 0;
    uint64_t count = 3;
    d.observe(kKey, win(w), count);
    ref.step(static_cast<double>(count));
    const int64_t gaps[] = {1, 2, 5, 17, 1, 300, 3, 1, 2000, 40};
    for (int64_t gap : gaps) {
      for (int64_t z = 1; z < gap; ++z) ref.step(0);
      w += gap;
      count += 1 + rng() % 7;  // rising, so every count is above the mean
      auto v = d.observe(kKey, win(w), count);
      ASSERT_TRUE(v) << "gap " << gap;
      const double x = static_cast<double>(count);
      EXPECT_NEAR(v->baseline_mean, ref.mean, 1e-12 * std::max(1.0, ref.mean)) << "gap " << gap;
      const double z = (x - ref.mean) / std::sqrt(std::max(ref.var, min_rate));
      EXPECT_NEAR(v->statistic, z, 1e-9 * std::abs(z)) << "gap " << gap;
      ref.step(x);
    }
  }
}

TEST(SpikeDetector, PoissonTailMatchesKnownValues) {
  struct Case {
    uint64_t baseline, count;
    double tail;  // P(X >= count | lambda = baseline), 60-digit arithmetic
  };
  const Case cases[] = {
      {1, 5, 0.003659846827343712345},   {1, 2, 0.264241117657115356809},
      {2, 10, 4.6498075017263808251e-5}, {10, 30, 2.5099512015279078234e-7},
      {50, 100, 3.2000653245851252938e-10},
  };
  for (const Case& c : cases) {
    SpikeDetector d(config("poisson", 0.05, Millis(0), 0, 0.1), kSize);
    d.observe(kKey, win(0), c.baseline);
    auto v = d.observe(kKey, win(1), c.count);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->method, "poisson");
    EXPECT_EQ(v->count, c.count);
    EXPECT_EQ(v->window_start, win(1));
    EXPECT_DOUBLE_EQ(v->baseline_mean, static_cast<double>(c.baseline));
    EXPECT_NEAR(v->statistic, c.tail, 1e-13 * c.tail) << c.count << " vs " << c.baseline;
    EXPECT_NEAR(v->confidence, 1 - c.tail, 1e-15);
  }
}

TEST(SpikeDetector, PoissonRateIsFlooredAtMinRate) {
  // alpha 0.5, baseline 1 then one empty window: mean 0.5 exactly.
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  d.observe(kKey, win(0), 1);
  auto v = d.observe(kKey, win(2), 3);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 0.5);
  EXPECT_NEAR(v->statistic, 0.014387677966970686644, 1e-16);
  // Fifty more empty windows: mean 2^-51 * 1.25, far below the floor of 0.1.
  v = d.observe(kKey, win(53), 3);
  ASSERT_TRUE(v);
  EXPECT_LT(v->baseline_mean, 1e-10);
  EXPECT_NEAR(v->statistic, 1.54653070264671653505e-4, 1e-17);
}

TEST(SpikeDetector, PoissonExtremeCountsStayFinite) {
  SpikeDetector d(config("poisson", 0.05, Millis(0), 0, 0.1), kSize);
  d.observe(kKey, win(0), 1);
  auto v = d.observe(kKey, win(1), 1'000'000'000'000ull);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->confidence, 1.0);
  EXPECT_GE(v->statistic, 0.0);
  EXPECT_LT(v->statistic, 1e-300);
  // A count barely above a large baseline: a modest confidence, no NaN.
  SpikeDetector e(config("poisson", 0.05, Millis(0), 0, 0.1), kSize);
  e.observe(kKey, win(0), 1'000'000);
  v = e.observe(kKey, win(1), 1'000'001);
  ASSERT_TRUE(v);
  EXPECT_GT(v->confidence, 0.4);
  EXPECT_LT(v->confidence, 0.6);
  EXPECT_NEAR(v->confidence + v->statistic, 1.0, 1e-12);
}

TEST(SpikeDetector, EwmaZValues) {
  SpikeDetector d(config("ewma", 0.5, Millis(0), 0, 0.1), kSize);
  EXPECT_FALSE(d.observe(kKey, win(0), 10));  // mean 10, var 0
  auto v = d.observe(kKey, win(1), 20);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->method, "ewma");
  EXPECT_DOUBLE_EQ(v->baseline_mean, 10.0);
  EXPECT_DOUBLE_EQ(v->statistic, 10.0 / std::sqrt(0.1));  // variance floored at min_rate
  EXPECT_DOUBLE_EQ(v->confidence, 1.0);
  // Learned: mean 15, var 0.5 * (0 + 0.5 * 100) = 25.
  v = d.observe(kKey, win(2), 30);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 15.0);
  EXPECT_DOUBLE_EQ(v->statistic, 3.0);
  EXPECT_NEAR(v->confidence, 0.9986501019683699, 1e-15);
  // Learned: mean 22.5, var 0.5 * (25 + 0.5 * 225) = 68.75; 23 is barely above.
  v = d.observe(kKey, win(3), 23);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 22.5);
  EXPECT_DOUBLE_EQ(v->statistic, 0.5 / std::sqrt(68.75));
  EXPECT_NEAR(v->confidence, 0.5 * std::erfc(-0.5 / std::sqrt(68.75) / std::sqrt(2.0)), 1e-15);
  EXPECT_GT(v->confidence, 0.5);
  EXPECT_LT(v->confidence, 0.53);
}

TEST(SpikeDetector, CountsNotAboveTheMeanOrBelowMinCountNeverReport) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 5, 0.1), kSize);
  d.observe(kKey, win(0), 1);
  EXPECT_FALSE(d.observe(kKey, win(1), 4)) << "below min_count, however unlikely";
  auto v = d.observe(kKey, win(2), 5);  // mean now 2.5
  ASSERT_TRUE(v) << "min_count itself reports";
  EXPECT_DOUBLE_EQ(v->baseline_mean, 2.5);
  SpikeDetector e(config("ewma", 0.5, Millis(0), 0, 0.1), kSize);
  e.observe(kKey, win(0), 8);
  EXPECT_FALSE(e.observe(kKey, win(1), 8)) << "equal to the mean";
  EXPECT_FALSE(e.observe(kKey, win(2), 3)) << "below the mean";
}

TEST(SpikeDetector, RevisingTheLatestWindowReplacesItsContributionExactly) {
  for (const char* method : {"poisson", "ewma"}) {
    SCOPED_TRACE(method);
    const SpikeConfig c = config(method, 0.2, Millis(0), 3, 0.1);
    const uint64_t history[] = {4, 6, 3, 5};
    SpikeDetector revised(c, kSize), direct(c, kSize);
    for (int i = 0; i < 4; ++i) {
      revised.observe(kKey, win(i * 2), history[i]);
      direct.observe(kKey, win(i * 2), history[i]);
    }
    // Window 9 first reported with 2 (no verdict: below min_count), then a
    // late event raises it to 3, then more late events to 20.
    EXPECT_FALSE(revised.observe(kKey, win(9), 2));
    auto first = revised.revise(kKey, win(9), 3);
    auto v = revised.revise(kKey, win(9), 20);
    auto r = direct.observe(kKey, win(9), 20);
    ASSERT_TRUE(first && v && r);
    // Both revisions are judged by the baseline before window 9, which has
    // not learned any of its counts.
    EXPECT_EQ(first->baseline_mean, r->baseline_mean);
    EXPECT_EQ(v->baseline_mean, r->baseline_mean);
    EXPECT_EQ(v->statistic, r->statistic);
    EXPECT_EQ(v->confidence, r->confidence);
    EXPECT_EQ(saved(revised), saved(direct)) << "the baseline holds the window once, with its new count";
    // And the following windows agree.
    v = revised.observe(kKey, win(12), 25);
    r = direct.observe(kKey, win(12), 25);
    ASSERT_TRUE(v && r);
    EXPECT_EQ(v->confidence, r->confidence);
  }
}

TEST(SpikeDetector, RevisingTheFirstWindowRestartsTheBaseline) {
  const SpikeConfig c = config("ewma", 0.2, Millis(0), 0, 0.1);
  SpikeDetector revised(c, kSize), direct(c, kSize);
  revised.observe(kKey, win(0), 2);
  EXPECT_FALSE(revised.revise(kKey, win(0), 7));
  direct.observe(kKey, win(0), 7);
  EXPECT_EQ(saved(revised), saved(direct));
}

TEST(SpikeDetector, RevisingAnOlderWindowJudgesItWithoutLearning) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  d.observe(kKey, win(0), 4);
  d.observe(kKey, win(1), 2);  // mean 3
  d.observe(kKey, win(3), 6);  // one empty window: 1.5, then (1.5 + 6) / 2 = 3.75
  const std::string before = saved(d);
  auto v = d.revise(kKey, win(1), 9);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 3.75) << "the current baseline, not the one before window 1";
  EXPECT_EQ(v->window_start, win(1));
  EXPECT_EQ(saved(d), before) << "an older window changes nothing";
  EXPECT_FALSE(d.revise(kKey, win(1), 3)) << "not above the current mean";
  EXPECT_FALSE(d.revise(kKey, win(0), 50)) << "the key's first window has no baseline before it";
  // observe() of an older window (out of contract) behaves the same way.
  v = d.observe(kKey, win(2), 9);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 3.75);
  EXPECT_EQ(saved(d), before);
}

TEST(SpikeDetector, RevisingOlderWindowsRespectsWarmup) {
  SpikeDetector d(config("poisson", 0.5, Millis(3 * kSize.count()), 0, 0.1), kSize);
  for (int i = 0; i < 6; ++i) d.observe(kKey, win(i), 1);
  EXPECT_FALSE(d.revise(kKey, win(2), 40)) << "window 2 started inside the warm-up";
  EXPECT_TRUE(d.revise(kKey, win(3), 40));
}

TEST(SpikeDetector, UnknownKeysAndNewerRevisions) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  EXPECT_FALSE(d.revise(kKey, win(3), 10));
  EXPECT_EQ(d.keys(), 0u) << "a revision of an unknown key creates nothing";
  // A revision newer than the key's latest window is its first result here.
  const SpikeConfig c = config("poisson", 0.5, Millis(0), 0, 0.1);
  SpikeDetector a(c, kSize), b(c, kSize);
  a.observe(kKey, win(0), 2);
  b.observe(kKey, win(0), 2);
  auto va = a.revise(kKey, win(4), 9);
  auto vb = b.observe(kKey, win(4), 9);
  ASSERT_TRUE(va && vb);
  EXPECT_EQ(va->confidence, vb->confidence);
  EXPECT_EQ(saved(a), saved(b));
}

TEST(SpikeDetector, KeysAreIndependent) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  const WindowKey other_cell{kKey.cell + 1, kKey.category};
  const WindowKey other_category{kKey.cell, kKey.category + 1};
  d.observe(kKey, win(0), 100);
  d.observe(other_cell, win(0), 1);
  d.observe(other_category, win(0), 1);
  EXPECT_EQ(d.keys(), 3u);
  EXPECT_FALSE(d.observe(kKey, win(1), 50));
  auto v = d.observe(other_cell, win(1), 50);
  ASSERT_TRUE(v);
  EXPECT_DOUBLE_EQ(v->baseline_mean, 1.0);
}

TEST(SpikeDetector, ExpireDropsIdleKeysWhichThenWarmUpAgain) {
  SpikeDetector d(config("poisson", 0.5, Millis(2 * kSize.count()), 0, 0.1), kSize);
  const WindowKey busy{1, 1}, idle{2, 1};
  for (int i = 0; i < 4; ++i) d.observe(busy, win(i), 1);
  d.observe(idle, win(0), 1);
  d.observe(idle, win(1), 1);
  d.expire(win(1));
  EXPECT_EQ(d.keys(), 2u) << "last window at exactly the limit stays";
  d.expire(win(2));
  EXPECT_EQ(d.keys(), 1u);
  EXPECT_FALSE(d.observe(idle, win(5), 30)) << "relearning: first window again";
  EXPECT_FALSE(d.observe(idle, win(6), 30)) << "inside the new warm-up";
  EXPECT_TRUE(d.observe(busy, win(5), 30));
}

// A pseudo-random stream of window results over a few keys, in window order,
// with occasional revisions of the latest or an older window. Uses only the
// engine's raw output, whose sequence the standard fixes.
struct Call {
  bool revision;
  WindowKey key;
  EventTime start;
  uint64_t count;
};

std::vector<Call> make_stream(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Call> calls;
  std::vector<int64_t> last(6, -1);
  int64_t w = 0;
  for (int i = 0; i < n; ++i) {
    w += static_cast<int64_t>(rng() % 2);
    const uint64_t k = rng() % last.size();
    const WindowKey key{1000 + k / 2, static_cast<uint32_t>(k % 2)};
    const uint64_t burst = rng() % 23 == 0 ? 25 : 0;
    if (last[k] >= 0 && rng() % 5 == 0) {
      const int64_t back = static_cast<int64_t>(rng() % 3);
      calls.push_back({true, key, win(std::max<int64_t>(0, last[k] - back)), 1 + rng() % 9 + burst});
    } else if (w > last[k]) {
      calls.push_back({false, key, win(w), 1 + rng() % 6 + burst});
      last[k] = w;
    }
  }
  return calls;
}

std::optional<SpikeVerdict> apply(SpikeDetector& d, const Call& c) {
  return c.revision ? d.revise(c.key, c.start, c.count) : d.observe(c.key, c.start, c.count);
}

void expect_same(const std::optional<SpikeVerdict>& a, const std::optional<SpikeVerdict>& b, size_t i) {
  ASSERT_EQ(a.has_value(), b.has_value()) << "call " << i;
  if (!a) return;
  EXPECT_EQ(a->confidence, b->confidence) << "call " << i;
  EXPECT_EQ(a->statistic, b->statistic) << "call " << i;
  EXPECT_EQ(a->baseline_mean, b->baseline_mean) << "call " << i;
  EXPECT_EQ(a->count, b->count) << "call " << i;
  EXPECT_EQ(a->window_start, b->window_start) << "call " << i;
  EXPECT_EQ(a->method, b->method) << "call " << i;
}

TEST(SpikeDetector, DeterministicAndSaveLoadRoundTripMidStream) {
  for (const char* method : {"poisson", "ewma"}) {
    SCOPED_TRACE(method);
    const SpikeConfig c = config(method, 0.1, Millis(6 * kSize.count()), 3, 0.1);
    const std::vector<Call> calls = make_stream(42, 3000);
    SpikeDetector a(c, kSize), b(c, kSize);
    size_t verdicts = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
      auto va = apply(a, calls[i]);
      expect_same(va, apply(b, calls[i]), i);
      verdicts += va.has_value();
    }
    EXPECT_GT(verdicts, 20u) << "the stream exercises verdicts";
    EXPECT_EQ(saved(a), saved(b));

    // Stop mid-stream, checkpoint, resume in a fresh detector.
    const size_t half = calls.size() / 2;
    SpikeDetector first(c, kSize);
    for (size_t i = 0; i < half; ++i) apply(first, calls[i]);
    const std::string bytes = saved(first);
    SpikeDetector resumed(c, kSize);
    ByteReader in(bytes);
    ASSERT_TRUE(resumed.load(in));
    EXPECT_TRUE(in.done());
    EXPECT_EQ(resumed.keys(), first.keys());
    EXPECT_EQ(saved(resumed), bytes);
    SpikeDetector uninterrupted(c, kSize);
    for (size_t i = 0; i < half; ++i) apply(uninterrupted, calls[i]);
    for (size_t i = half; i < calls.size(); ++i) expect_same(apply(resumed, calls[i]), apply(uninterrupted, calls[i]), i);
    EXPECT_EQ(saved(resumed), saved(uninterrupted));
  }
}

TEST(SpikeDetector, SavedBytesDoNotDependOnInsertionOrder) {
  const SpikeConfig c = config("poisson", 0.1, Millis(0), 0, 0.1);
  SpikeDetector forward(c, kSize), backward(c, kSize);
  for (uint64_t i = 0; i < 200; ++i) forward.observe({i * 7919 % 1000, static_cast<uint32_t>(i % 3)}, win(0), i + 1);
  for (uint64_t i = 200; i-- > 0;) backward.observe({i * 7919 % 1000, static_cast<uint32_t>(i % 3)}, win(0), i + 1);
  EXPECT_EQ(saved(forward), saved(backward));
}

TEST(SpikeDetector, LoadRejectsTruncatedAndCorruptedBytes) {
  const SpikeConfig c = config("ewma", 0.1, Millis(0), 0, 0.1);
  SpikeDetector source(c, kSize);
  for (const Call& call : make_stream(9, 400)) apply(source, call);
  const std::string bytes = saved(source);
  ASSERT_GT(source.keys(), 3u);

  // A detector with state of its own, which a failed load must not touch.
  SpikeDetector target(c, kSize);
  target.observe(kKey, win(0), 5);
  target.observe(kKey, win(1), 6);
  const std::string target_bytes = saved(target);

  for (size_t n = 0; n < bytes.size(); ++n) {
    ByteReader in(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(target.load(in)) << "truncated at " << n;
  }
  EXPECT_EQ(saved(target), target_bytes);

  // Every single-byte corruption either fails or yields a usable detector.
  size_t rejected = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      std::string bad = bytes;
      bad[pos] = static_cast<char>(bad[pos] ^ flip);
      SpikeDetector d(c, kSize);
      ByteReader in(bad);
      if (!d.load(in)) {
        ++rejected;
        EXPECT_EQ(d.keys(), 0u);
        continue;
      }
      for (const Call& call : make_stream(10, 50)) {
        auto v = apply(d, call);
        if (v) {
          EXPECT_TRUE(v->confidence >= 0 && v->confidence <= 1) << pos;
          EXPECT_FALSE(std::isnan(v->statistic)) << pos;
        }
      }
      // Whatever loaded saves and reloads.
      const std::string again = saved(d);
      SpikeDetector e(c, kSize);
      ByteReader in2(again);
      EXPECT_TRUE(e.load(in2)) << pos;
    }
  }
  EXPECT_GT(rejected, 0u);

  // Wrong format tag, an absurd key count, keys out of order.
  std::string bad = bytes;
  bad[0] = 'X';
  ByteReader tag(bad);
  EXPECT_FALSE(target.load(tag));
  ByteWriter huge;
  huge.u32(0x314B5053);
  huge.u64(uint64_t{1} << 60);
  ByteReader count(huge.buffer());
  EXPECT_FALSE(target.load(count));
  ByteWriter swapped;
  swapped.u32(0x314B5053);
  swapped.u64(2);
  for (uint64_t cell : {5u, 4u}) {
    swapped.u64(cell);
    swapped.u32(0);
    swapped.i64(0);
    swapped.i64(0);
    for (int i = 0; i < 4; ++i) swapped.f64(1.0);
  }
  ByteReader order(swapped.buffer());
  EXPECT_FALSE(target.load(order));
  EXPECT_EQ(saved(target), target_bytes);
}

TEST(SpikeDetector, MoveKeepsState) {
  SpikeDetector d(config("poisson", 0.5, Millis(0), 0, 0.1), kSize);
  d.observe(kKey, win(0), 1);
  SpikeDetector moved = std::move(d);
  EXPECT_EQ(moved.keys(), 1u);
  EXPECT_TRUE(moved.observe(kKey, win(1), 9));
}

}  // namespace spike_test
}  // namespace sentinel::detect
