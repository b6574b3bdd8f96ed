#include "alerts/bias.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "stream/bytes.h"

namespace sentinel {
namespace bias_test {

using ::testing::HasSubstr;

constexpr int64_t kHourMs = 3600'000;
/// 2026-03-01T00:00:00Z, an hour boundary.
constexpr int64_t kBaseMs = 1'772'323'200'000;

EventTime at_hour(int64_t h, int64_t plus_ms = 0) { return event_time_from_ms(kBaseMs + h * kHourMs + plus_ms); }

BiasConfig config(uint32_t min_alerts = 10) {
  BiasConfig c;
  c.window = Millis(24 * kHourMs);
  c.min_ratio = 0.8;
  c.max_ratio = 1.25;
  c.min_alerts = min_alerts;
  return c;
}

void add_alerts(BiasMonitor& m, int32_t district, EventTime t, int n) {
  for (int i = 0; i < n; ++i) m.add_ml_alert(district, t);
}

std::vector<BiasChange> evaluate(BiasMonitor& m, EventTime now) {
  std::vector<BiasChange> changes;
  m.evaluate(now, changes);
  return changes;
}

std::string saved(const BiasMonitor& m) {
  ByteWriter w;
  m.save(w);
  return w.take();
}

TEST(Bias, RaisedByExcessAlertsAndReleasedWhenTheWindowSlidesPast) {
  BiasMonitor m(config());
  struct Seen {
    int64_t hour;
    BiasChange change;
  };
  std::vector<Seen> seen;
  for (int64_t h = 0; h <= 40; ++h) {
    // Two districts with the same events and, normally, the same ML alerts...
    m.add_events(0, at_hour(h, 10), 10);
    m.add_events(1, at_hour(h, 20), 10);
    m.add_ml_alert(0, at_hour(h, 30));
    m.add_ml_alert(1, at_hour(h, 40));
    // ...except one hour in which district 0 gets 100 extra.
    if (h == 2) add_alerts(m, 0, at_hour(h, 50), 100);
    for (const BiasChange& c : evaluate(m, at_hour(h, kHourMs - 1))) seen.push_back({h, c});
    EXPECT_LE(m.bucket_count(), 24u);
    if (h >= 2 && h <= 25) {
      EXPECT_TRUE(m.flagged(0)) << h;
    } else {
      EXPECT_FALSE(m.flagged(0)) << h;
    }
  }
  ASSERT_EQ(seen.size(), 4u);
  // Raised at hour 2: 103 of 106 alerts against half the events.
  EXPECT_EQ(seen[0].hour, 2);
  EXPECT_EQ(seen[0].change.district, 0);
  EXPECT_TRUE(seen[0].change.flagged);
  EXPECT_EQ(seen[0].change.alerts, 103u);
  EXPECT_EQ(seen[0].change.total_alerts, 106u);
  EXPECT_EQ(seen[0].change.events, 30u);
  EXPECT_EQ(seen[0].change.total_events, 60u);
  EXPECT_DOUBLE_EQ(seen[0].change.alert_share, 103.0 / 106.0);
  EXPECT_DOUBLE_EQ(seen[0].change.event_share, 0.5);
  EXPECT_DOUBLE_EQ(seen[0].change.ratio, 206.0 / 106.0);
  EXPECT_EQ(seen[1].hour, 2);  // under-represented district 1, in district order
  EXPECT_EQ(seen[1].change.district, 1);
  EXPECT_TRUE(seen[1].change.flagged);
  EXPECT_DOUBLE_EQ(seen[1].change.ratio, 6.0 / 106.0);
  // Released at hour 26, the first evaluation whose 24 hours (3..26) miss hour 2.
  EXPECT_EQ(seen[2].hour, 26);
  EXPECT_EQ(seen[2].change.district, 0);
  EXPECT_FALSE(seen[2].change.flagged);
  EXPECT_DOUBLE_EQ(seen[2].change.ratio, 1.0);
  EXPECT_EQ(seen[2].change.alerts, 24u);
  EXPECT_EQ(seen[2].change.total_alerts, 48u);
  EXPECT_EQ(seen[3].hour, 26);
  EXPECT_EQ(seen[3].change.district, 1);
  EXPECT_FALSE(seen[3].change.flagged);
}

TEST(Bias, WindowEdgeIsTheHourHoldingNow) {
  BiasMonitor m(config(1));
  m.add_events(0, at_hour(0), 10);
  m.add_events(1, at_hour(0), 10);
  m.add_ml_alert(0, at_hour(0, kHourMs - 1));  // last millisecond of hour 0
  // Hours 0..23 are in the window until `now` reaches hour 24.
  EXPECT_EQ(evaluate(m, at_hour(0)).size(), 2u);  // d0 ratio 2, d1 ratio 0
  EXPECT_TRUE(m.flagged(0));
  EXPECT_TRUE(evaluate(m, at_hour(24, -1)).empty());
  EXPECT_TRUE(m.flagged(0));
  const auto released = evaluate(m, at_hour(24));
  ASSERT_EQ(released.size(), 2u);
  EXPECT_FALSE(m.flagged(0));
  EXPECT_FALSE(m.flagged(1));
  EXPECT_EQ(released[0].total_alerts, 0u);
  EXPECT_EQ(m.bucket_count(), 0u);
}

TEST(Bias, FutureHoursCountOnlyOnceNowReachesThem) {
  BiasMonitor m(config(1));
  m.add_events(0, at_hour(0), 10);
  m.add_events(1, at_hour(0), 10);
  m.add_ml_alert(0, at_hour(0));
  m.add_ml_alert(1, at_hour(0));
  add_alerts(m, 0, at_hour(3), 5);  // ahead of now
  EXPECT_TRUE(evaluate(m, at_hour(0, 5)).empty());
  EXPECT_EQ(m.bucket_count(), 2u);
  EXPECT_EQ(evaluate(m, at_hour(3)).size(), 2u);
  EXPECT_TRUE(m.flagged(0));
}

TEST(Bias, ExactlyAtTheFourFifthsEdgesIsInside) {
  // Event shares 0.25, 0.25, 0.5; alert shares 0.2, 0.3125, 0.4875:
  // ratios exactly 0.8, 1.25 and 0.975.
  BiasMonitor m(config());
  m.add_events(0, at_hour(0), 25);
  m.add_events(1, at_hour(0), 25);
  m.add_events(2, at_hour(0), 50);
  add_alerts(m, 0, at_hour(0), 16);
  add_alerts(m, 1, at_hour(0), 25);
  add_alerts(m, 2, at_hour(0), 39);
  EXPECT_TRUE(evaluate(m, at_hour(0)).empty());
  EXPECT_FALSE(m.flagged(0));
  EXPECT_FALSE(m.flagged(1));
  EXPECT_FALSE(m.flagged(2));
}

TEST(Bias, JustOutsideTheEdgesIsFlagged) {
  // Ten times the alerts, one moved from district 0 to district 1:
  // ratios 0.795 and 1.255.
  BiasMonitor m(config());
  m.add_events(0, at_hour(0), 25);
  m.add_events(1, at_hour(0), 25);
  m.add_events(2, at_hour(0), 50);
  add_alerts(m, 0, at_hour(0), 159);
  add_alerts(m, 1, at_hour(0), 251);
  add_alerts(m, 2, at_hour(0), 390);
  const auto changes = evaluate(m, at_hour(0));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].district, 0);
  EXPECT_DOUBLE_EQ(changes[0].ratio, 0.795);
  EXPECT_EQ(changes[1].district, 1);
  EXPECT_DOUBLE_EQ(changes[1].ratio, 1.255);
  EXPECT_FALSE(m.flagged(2));
}

TEST(Bias, BelowMinAlertsNeverFlags) {
  BiasMonitor m(config(20));
  m.add_events(0, at_hour(0), 1);
  m.add_events(1, at_hour(0), 1000);
  add_alerts(m, 0, at_hour(0), 19);  // all alerts where almost nothing happens
  for (int64_t h = 0; h < 24; ++h) {
    EXPECT_TRUE(evaluate(m, at_hour(h)).empty()) << h;
    EXPECT_FALSE(m.flagged(0));
    EXPECT_FALSE(m.flagged(1));
  }
  // The twentieth alert makes the check judge (so the above was the threshold).
  m.add_ml_alert(0, at_hour(23));
  const auto raised = evaluate(m, at_hour(23));
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_TRUE(m.flagged(0));
  EXPECT_TRUE(m.flagged(1));
  // Hour 0 leaves: 1 alert left, below min_alerts again: every flag is released.
  const auto released = evaluate(m, at_hour(24));
  ASSERT_EQ(released.size(), 2u);
  EXPECT_FALSE(released[0].flagged);
  EXPECT_FALSE(released[1].flagged);
  EXPECT_EQ(released[0].total_alerts, 1u);
}

TEST(Bias, AlertsWithoutEventsAreInfinitelyOverAndEventsWithoutAlertsAreUnder) {
  BiasMonitor m(config(1));
  m.add_events(3, at_hour(0), 50);
  m.add_ml_alert(7, at_hour(0));
  const auto changes = evaluate(m, at_hour(0));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].district, 3);
  EXPECT_EQ(changes[0].ratio, 0.0);
  EXPECT_EQ(changes[0].event_share, 1.0);
  EXPECT_EQ(changes[1].district, 7);
  EXPECT_TRUE(std::isinf(changes[1].ratio));
  EXPECT_EQ(changes[1].alert_share, 1.0);
  EXPECT_EQ(changes[1].event_share, 0.0);
  EXPECT_FALSE(m.flagged(0));  // neither events nor alerts
  EXPECT_FALSE(m.flagged(-1));
  EXPECT_FALSE(m.flagged(1'000'000));
}

TEST(Bias, ChangesAreOrderedByDistrictWhateverTheAddOrder) {
  BiasMonitor m(config(1));
  for (int32_t d = 9; d >= 0; --d) m.add_events(d, at_hour(0), 10);
  m.add_ml_alert(8, at_hour(0));
  m.add_ml_alert(2, at_hour(0));
  const auto changes = evaluate(m, at_hour(0));
  ASSERT_EQ(changes.size(), 10u);  // 2 and 8 over (5x), the rest under (0)
  for (size_t i = 0; i < changes.size(); ++i) EXPECT_EQ(changes[i].district, static_cast<int32_t>(i));
}

TEST(Bias, IgnoresNoDistrictHugeIndicesAndExpiredHours) {
  BiasMonitor m(config(1));
  m.add_events(-1, at_hour(0), 10);
  m.add_ml_alert(-1, at_hour(0));
  EXPECT_EQ(m.ignored(), 0u);
  EXPECT_EQ(m.bucket_count(), 0u);
  m.add_events(BiasMonitor::kMaxDistricts, at_hour(0), 10);
  m.add_ml_alert(INT32_MAX, at_hour(0));
  EXPECT_EQ(m.ignored(), 2u);
  EXPECT_EQ(m.bucket_count(), 0u);
  EXPECT_TRUE(evaluate(m, at_hour(30)).empty());
  m.add_events(0, at_hour(6), 10);  // hours <= 30 - 24 are out of the window
  m.add_ml_alert(0, at_hour(6));
  EXPECT_EQ(m.ignored(), 4u);
  EXPECT_EQ(m.bucket_count(), 0u);
  m.add_events(0, at_hour(7), 0);  // nothing to count
  EXPECT_EQ(m.bucket_count(), 0u);
  m.add_events(0, at_hour(7), 10);
  EXPECT_EQ(m.bucket_count(), 1u);
}

TEST(Bias, NegativeEventTimesBucketByFlooredHour) {
  BiasConfig c = config(1);
  c.window = Millis(kHourMs);  // one hour: only the hour holding now
  BiasMonitor m(c);
  m.add_events(0, event_time_from_ms(-1), 1);  // hour -1
  m.add_ml_alert(1, event_time_from_ms(-kHourMs));  // hour -1
  EXPECT_EQ(evaluate(m, event_time_from_ms(-kHourMs + 5)).size(), 2u);
  EXPECT_EQ(evaluate(m, event_time_from_ms(0)).size(), 2u);  // hour -1 left
}

TEST(Bias, ConfigIsValidated) {
  struct Case {
    void (*edit)(BiasConfig&);
    std::string key;
  };
  const std::vector<Case> cases = {
      {[](BiasConfig& c) { c.window = Millis(0); }, "bias.window"},
      {[](BiasConfig& c) { c.window = Millis(90 * 60'000); }, "bias.window"},
      {[](BiasConfig& c) { c.min_ratio = 1.2; }, "bias.min_ratio"},
      {[](BiasConfig& c) { c.min_ratio = -0.1; }, "bias.min_ratio"},
      {[](BiasConfig& c) { c.min_ratio = std::numeric_limits<double>::quiet_NaN(); }, "bias.min_ratio"},
      {[](BiasConfig& c) { c.max_ratio = 0.9; }, "bias.max_ratio"},
      {[](BiasConfig& c) { c.max_ratio = std::numeric_limits<double>::infinity(); }, "bias.max_ratio"},
  };
  for (const Case& k : cases) {
    BiasConfig c = config();
    k.edit(c);
    const Status s = validate_bias_config(c);
    ASSERT_FALSE(s.ok()) << k.key;
    EXPECT_EQ(s.error().field, k.key);
    try {
      BiasMonitor m(c);
      ADD_FAILURE() << "no ConfigError for " << k.key;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(k.key + ": "));
    }
  }
  EXPECT_TRUE(validate_bias_config(BiasConfig{}).ok());
  EXPECT_NO_THROW(BiasMonitor{BiasConfig{}});
}

/// Hour h of a scripted run: uneven events and alerts over five districts.
void feed_hour(BiasMonitor& m, int64_t h) {
  for (int32_t d = 0; d < 5; ++d) {
    m.add_events(d, at_hour(h, d * 1000), static_cast<uint64_t>(10 + (h * 7 + d * 3) % 11));
    add_alerts(m, d, at_hour(h, d * 1000 + 1), static_cast<int>((h + d) % 4 == 0 ? 6 : (h * d) % 3));
  }
}

TEST(Bias, SaveLoadContinuesExactlyAsTheOriginal) {
  BiasMonitor original(config());
  std::vector<BiasChange> unused;
  for (int64_t h = 0; h < 30; ++h) {
    feed_hour(original, h);
    original.evaluate(at_hour(h, 123), unused);
  }
  original.add_events(BiasMonitor::kMaxDistricts, at_hour(30), 1);  // ignored count is state too
  feed_hour(original, 30);  // added but not yet evaluated
  feed_hour(original, 31);  // a future hour
  ASSERT_FALSE(unused.empty());

  ByteWriter w;
  original.save(w);
  w.u64(0xfeedface);  // the state sits inside a larger checkpoint
  const std::string bytes = w.take();
  BiasMonitor restored(config());
  ByteReader r(bytes);
  ASSERT_TRUE(restored.load(r));
  EXPECT_EQ(r.u64(), 0xfeedfaceu);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(saved(restored), saved(original));
  EXPECT_EQ(restored.bucket_count(), original.bucket_count());
  EXPECT_EQ(restored.ignored(), original.ignored());
  for (int32_t d = 0; d < 5; ++d) EXPECT_EQ(restored.flagged(d), original.flagged(d)) << d;

  size_t total_changes = 0;
  for (int64_t h = 30; h < 80; ++h) {
    if (h > 31) {
      feed_hour(original, h);
      feed_hour(restored, h);
    }
    if (h == 45) {  // a burst that raises flags, released 24 hours later
      add_alerts(original, 4, at_hour(h), 200);
      add_alerts(restored, 4, at_hour(h), 200);
    }
    const auto a = evaluate(original, at_hour(h, 456));
    const auto b = evaluate(restored, at_hour(h, 456));
    ASSERT_EQ(a.size(), b.size()) << h;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].district, b[i].district);
      EXPECT_EQ(a[i].flagged, b[i].flagged);
      EXPECT_EQ(a[i].ratio, b[i].ratio);
      EXPECT_EQ(a[i].alerts, b[i].alerts);
      EXPECT_EQ(a[i].total_events, b[i].total_events);
    }
    total_changes += a.size();
    ASSERT_EQ(saved(original), saved(restored)) << h;
  }
  EXPECT_GT(total_changes, 0u);  // the script exercised raising and releasing
}

TEST(Bias, CorruptedLoadFailsAndLeavesTheMonitorUnchanged) {
  BiasMonitor source(config(1));
  for (int64_t h = 0; h < 5; ++h) feed_hour(source, h);
  std::vector<BiasChange> unused;
  source.evaluate(at_hour(4), unused);
  const std::string good = saved(source);
  bool any_flag = false;
  for (int32_t d = 0; d < 5; ++d) any_flag = any_flag || source.flagged(d);
  ASSERT_TRUE(any_flag);  // so the flag section of the state is exercised too

  BiasMonitor target(config(1));
  feed_hour(target, 100);
  target.evaluate(at_hour(100), unused);
  const std::string before = saved(target);

  // Every truncation is malformed.
  for (size_t n = 0; n < good.size(); ++n) {
    ByteReader r(std::string_view(good).substr(0, n));
    EXPECT_FALSE(target.load(r)) << "truncated to " << n;
    ASSERT_EQ(saved(target), before);
  }
  // Flipped bytes: refused (and nothing changed), or accepted as a state that
  // still works and saves back to exactly the bytes read.
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      BiasMonitor probe(config(1));
      feed_hour(probe, 100);
      probe.evaluate(at_hour(100), unused);
      ByteReader r(bad);
      if (probe.load(r)) {
        EXPECT_EQ(saved(probe), bad.substr(0, saved(probe).size()));
        probe.evaluate(at_hour(200), unused);
      } else {
        ASSERT_EQ(saved(probe), before) << "byte " << i;
      }
    }
  }
  // Specific corruptions are refused.
  {
    std::string bad = good;
    bad[0] ^= 0x20;  // magic
    ByteReader r(bad);
    EXPECT_FALSE(target.load(r));
  }
  {
    ByteWriter w;
    w.u32(0x53414942);
    w.u32(2);  // unknown version
    ByteReader r(w.buffer());
    EXPECT_FALSE(target.load(r));
  }
  {
    std::string garbage(4096, '\xff');
    ByteReader r(garbage);
    EXPECT_FALSE(target.load(r));
  }
  EXPECT_EQ(saved(target), before);
  ByteReader r(good);
  EXPECT_TRUE(target.load(r));
  EXPECT_EQ(saved(target), good);
}

}  // namespace bias_test
}  // namespace sentinel
