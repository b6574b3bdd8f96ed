#include "stream/window_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>

#include "stream/bytes.h"

namespace sentinel {
namespace window_operator_test {

constexpr int64_t kMin = 60'000;
constexpr uint64_t kCell = 0x880e2cbd00000000ull;

Event at(int64_t minute, uint64_t cell = kCell, uint32_t category = 1, int64_t extra_ms = 0) {
  Event e;
  e.time = event_time_from_ms(minute * kMin + extra_ms);
  e.type = category;
  e.enrich.fine_cell = cell;
  e.has_location = true;
  return e;
}

/// An event at `minute` from `source`, with a severity and a confidence if given.
Event featured(int64_t minute, SourceId source, std::optional<Severity> severity,
               std::optional<float> confidence) {
  Event e = at(minute);
  e.source = source;
  if (severity) {
    e.severity = *severity;
    e.has_severity = true;
  }
  if (confidence) {
    e.confidence = *confidence;
    e.has_confidence = true;
  }
  return e;
}

/// A record's features, for comparing them in one expectation.
using FeatureTuple = std::tuple<uint64_t, uint32_t, uint32_t, uint32_t, uint32_t, double>;
FeatureTuple features_of(const WindowRecord& r) {
  return {r.count, r.violent, r.property, r.confident, r.sources, r.confidence_sum};
}

std::vector<WindowRecord> advance(WindowOperator& op, int64_t minute) {
  std::vector<WindowRecord> out;
  op.advance(event_time_from_ms(minute * kMin), out);
  return out;
}

std::vector<WindowRecord> of_kind(const std::vector<WindowRecord>& in, WindowKind k) {
  std::vector<WindowRecord> out;
  std::copy_if(in.begin(), in.end(), std::back_inserter(out), [k](const WindowRecord& r) { return r.kind == k; });
  std::sort(out.begin(), out.end(), [](const WindowRecord& a, const WindowRecord& b) {
    return std::tie(a.start, a.revision) < std::tie(b.start, b.revision);
  });
  return out;
}

WindowsConfig only(WindowKind k) {
  WindowsConfig c;
  c.tumbling = k == WindowKind::kTumbling;
  c.sliding = k == WindowKind::kSliding;
  c.session = k == WindowKind::kSession;
  return c;
}

TEST(Tumbling, FiresWhenWatermarkPassesEnd) {
  WindowOperator op(only(WindowKind::kTumbling));
  std::vector<Event> ev = {at(1), at(2), at(4, kCell, 1, 59'999), at(5)};
  op.add(ev);
  EXPECT_TRUE(advance(op, 4).empty());
  auto out = of_kind(advance(op, 5), WindowKind::kTumbling);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(to_ms(out[0].start), 0);
  EXPECT_EQ(to_ms(out[0].end), 5 * kMin);
  EXPECT_EQ(out[0].count, 3u);
  EXPECT_EQ(out[0].revision, 0u);
  out = of_kind(advance(op, 10), WindowKind::kTumbling);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].count, 1u);
}

TEST(Tumbling, LateButAllowedEventRevisesTheWindow) {
  WindowOperator op(only(WindowKind::kTumbling));
  std::vector<Event> ev = {at(1)};
  op.add(ev);
  ASSERT_EQ(advance(op, 6).size(), 1u);
  std::vector<Event> late = {at(3), at(4)};
  op.add(late);
  auto out = advance(op, 7);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].count, 3u);
  EXPECT_EQ(out[0].revision, 1u);
  // Nothing changed since: no further revision.
  EXPECT_TRUE(advance(op, 8).empty());
  // Past end + allowed lateness (5 + 5 min) the state is dropped.
  advance(op, 10);
  EXPECT_EQ(op.stats().tumbling_windows, 0u);
}

TEST(Tumbling, KeysAreSeparate) {
  WindowOperator op(only(WindowKind::kTumbling));
  std::vector<Event> ev = {at(1, kCell, 1), at(1, kCell, 2), at(1, kCell + 8, 1)};
  op.add(ev);
  EXPECT_EQ(advance(op, 5).size(), 3u);
}

TEST(Sliding, EachEventCountsInFourWindows) {
  WindowOperator op(only(WindowKind::kSliding));
  std::vector<Event> ev = {at(20), at(50)};
  op.add(ev);
  auto out = of_kind(advance(op, 24 * 60), WindowKind::kSliding);
  // Windows of 1 h every 15 min containing minute 20 start at -30, -15, 0, 15;
  // minute 50: 0, 15, 30, 45.
  ASSERT_EQ(out.size(), 6u);
  std::vector<std::pair<int64_t, uint64_t>> got;
  for (const auto& r : out) got.emplace_back(to_ms(r.start) / kMin, r.count);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, uint64_t>>{{-30, 1}, {-15, 1}, {0, 2}, {15, 2}, {30, 1}, {45, 1}}));
  for (const auto& r : out) EXPECT_EQ(to_ms(r.end) - to_ms(r.start), 60 * kMin);
}

TEST(Sliding, RevisionOnAllowedLateEvent) {
  WindowOperator op(only(WindowKind::kSliding));
  std::vector<Event> ev = {at(50)};
  op.add(ev);
  auto first = advance(op, 61);  // window [0, 60) fires (and [-15,45) had nothing)
  ASSERT_EQ(of_kind(first, WindowKind::kSliding).size(), 1u);
  std::vector<Event> late = {at(58)};
  op.add(late);
  auto out = of_kind(advance(op, 62), WindowKind::kSliding);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(to_ms(out[0].start), 0);
  EXPECT_EQ(out[0].count, 2u);
  EXPECT_EQ(out[0].revision, 1u);
}

TEST(Session, GroupsEventsWithinTheGap) {
  WindowOperator op(only(WindowKind::kSession));
  std::vector<Event> ev = {at(0), at(10), at(35), at(100)};
  op.add(ev);
  auto out = of_kind(advance(op, 24 * 60), WindowKind::kSession);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].count, 3u);
  EXPECT_EQ(to_ms(out[0].start), 0);
  EXPECT_EQ(to_ms(out[0].end), 65 * kMin);  // last event + gap
  EXPECT_EQ(out[1].count, 1u);
}

TEST(Session, BridgingEventMergesAndRetracts) {
  WindowOperator op(only(WindowKind::kSession));
  std::vector<Event> ev = {at(0), at(50)};
  op.add(ev);
  advance(op, 30);   // session [0] fires at 30
  std::vector<Event> bridge = {at(26)};  // within allowed lateness of watermark 30
  op.add(bridge);
  auto out = advance(op, 31);
  // The merged session [0..50] is a revision of the first; no retraction since the
  // second had not fired.
  auto sessions = of_kind(out, WindowKind::kSession);
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].revision, 1u);
  EXPECT_EQ(sessions[0].count, 3u);
  EXPECT_EQ(to_ms(sessions[0].end), 80 * kMin);
}

TEST(Global, SummarisesLast24Hours) {
  WindowsConfig c;
  WindowOperator op(c);
  std::vector<Event> ev = {at(10), at(20), at(30, 0)};  // the last has no location
  ev[0].enrich.district = 3;
  ev[1].enrich.district = 3;
  op.add(ev);
  advance(op, 60);
  std::vector<WindowRecord> g;
  op.global_summary(event_time_from_ms(60 * kMin), g);
  uint64_t total = 0;
  for (const auto& r : g) total += r.count;
  EXPECT_EQ(total, 3u);
}

TEST(Snapshot, RestoreContinuesExactlyAsWithout) {
  WindowsConfig c;
  // Results are compared per watermark step, as sets: the order within one
  // step is not part of the contract (the pipeline sorts each epoch).
  using Step = std::vector<std::tuple<int, int64_t, int64_t, uint64_t, uint32_t, bool, FeatureTuple>>;
  auto step_of = [](std::vector<WindowRecord>& recs) {
    Step s;
    for (const auto& r : recs) {
      s.emplace_back(static_cast<int>(r.kind), to_ms(r.start), to_ms(r.end), r.key.cell, r.revision, r.retracted,
                     features_of(r));
    }
    std::sort(s.begin(), s.end());
    recs.clear();
    return s;
  };
  auto feed = [&](WindowOperator& op, int from, int to, std::vector<Step>& out) {
    std::vector<WindowRecord> recs;
    for (int m = from; m < to; ++m) {
      std::vector<Event> ev = {at(m * 3, kCell + (m % 3) * 8, 1 + m % 2), at(m * 3 - 4, kCell, 1)};
      for (size_t i = 0; i < ev.size(); ++i) {
        ev[i].source = static_cast<SourceId>((m + i) % 5);
        ev[i].has_severity = (m % 4) != 3;
        ev[i].severity = static_cast<Severity>((m + i) % 3);
        ev[i].has_confidence = (m % 3) != 1;
        ev[i].confidence = static_cast<float>(m % 7) / 6.0f;
      }
      op.add(ev);
      op.advance(event_time_from_ms((m * 3 - 1) * kMin), recs);
      out.push_back(step_of(recs));
    }
  };
  WindowOperator straight(c);
  std::vector<Step> a;
  std::vector<WindowRecord> tail;
  feed(straight, 0, 100, a);
  straight.advance(kMaxEventTime, tail);
  a.push_back(step_of(tail));

  WindowOperator first(c);
  std::vector<Step> b;
  feed(first, 0, 40, b);
  ByteWriter w;
  first.save(w);
  WindowOperator second(c);
  ByteReader r(w.buffer());
  ASSERT_TRUE(second.load(r, [](uint64_t) { return true; }));
  feed(second, 40, 100, b);
  second.advance(kMaxEventTime, tail);
  b.push_back(step_of(tail));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i;
}

TEST(Snapshot, RejectsCorruptState) {
  WindowsConfig c;
  WindowOperator op(c);
  std::vector<Event> ev = {at(1), at(2)};
  op.add(ev);
  ByteWriter w;
  op.save(w);
  std::string bytes = w.take();
  for (size_t cut : {size_t{0}, size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    WindowOperator other(c);
    ByteReader r(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(other.load(r, [](uint64_t) { return true; })) << cut;
  }
}

TEST(Snapshot, RejectsTheVersionWithoutFeatures) {
  WindowsConfig c;
  WindowOperator op(c);
  std::vector<Event> ev = {featured(1, 2, Severity::kViolent, 0.5f)};
  op.add(ev);
  ByteWriter w;
  op.save(w);
  std::string bytes = w.take();
  ASSERT_GE(bytes.size(), 4u);
  bytes[0] = 1;  // the little-endian version field: 1 is the format before features
  bytes[1] = bytes[2] = bytes[3] = 0;
  WindowOperator other(c);
  ByteReader r(bytes);
  EXPECT_FALSE(other.load(r, [](uint64_t) { return true; }));
}

TEST(Snapshot, RejectsFeaturesThatExceedTheCount) {
  // A tumbling slot as save() writes it (see WindowOperator::State::save_slots),
  // valid but for one field at a time.
  struct Case {
    uint32_t violent, property, confident;
    uint64_t confidence;
    bool ok;
  };
  for (const Case k : {Case{1, 1, 2, 2 * 65536, true}, Case{2, 1, 2, 0, false}, Case{0, 0, 3, 0, false},
                       Case{0, 0, 1, 65537, false}}) {
    ByteWriter w;
    w.u32(2);   // version
    w.i64(0);   // watermark
    w.u64(1);   // tumbling slots
    w.u64(kCell);
    w.u32(1);
    w.i64(0);   // window index
    w.u32(2);   // count
    w.u16(0);
    w.u8(0);
    w.u32(k.violent);
    w.u32(k.property);
    w.u32(k.confident);
    w.u32(1);   // sources
    w.u64(k.confidence);
    w.u64(0);   // panes
    w.u64(0);   // session keys
    w.u64(0);   // global roll-ups
    w.i64(INT64_MIN);
    w.i64(0);
    WindowOperator op(only(WindowKind::kTumbling));
    ByteReader r(w.buffer());
    EXPECT_EQ(op.load(r, [](uint64_t) { return true; }), k.ok) << k.violent << " " << k.confident;
  }
}

TEST(Snapshot, FlippedBytesNeverCrash) {
  WindowsConfig c;
  WindowOperator op(c);
  std::vector<Event> ev;
  for (int m = 0; m < 12; ++m) {
    ev.push_back(featured(m * 4, static_cast<SourceId>(m), static_cast<Severity>(m % 3), 0.25f * (m % 5)));
  }
  ev.push_back(featured(9, 40, Severity::kViolent, std::nullopt));  // overflow slot: window 1 is open
  op.add(ev);
  std::vector<WindowRecord> sink;
  op.advance(event_time_from_ms(20 * kMin), sink);
  ByteWriter w;
  op.save(w);
  const std::string bytes = w.take();
  {
    WindowOperator same(c);
    ByteReader r(bytes);
    ASSERT_TRUE(same.load(r, [](uint64_t) { return true; }));
  }
  // Every byte, each with one of two bit flips: load() may accept or refuse,
  // but must not crash, and an accepted state must run to the end.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ ((i % 2) != 0 ? 0x01 : 0x80));
    WindowOperator other(c);
    ByteReader r(bad);
    if (other.load(r, [](uint64_t) { return true; })) {
      std::vector<WindowRecord> out;
      other.advance(event_time_from_ms(25 * kMin), out);
    }
  }
}

TEST(Memory, StateStaysUnder256BytesPerKey) {
  WindowsConfig c;
  WindowOperator op(c);
  constexpr uint64_t kKeys = 200'000;
  std::vector<Event> ev;
  for (uint64_t k = 0; k < kKeys; ++k) ev.push_back(at(10, kCell + k * 16, 1));
  op.add(ev);
  const auto st = op.stats();
  EXPECT_LT(static_cast<double>(st.state_bytes) / kKeys, 256.0) << st.state_bytes;
}

TEST(Features, TumblingWindowCountsSeveritiesConfidencesAndSources) {
  WindowOperator op(WindowsConfig{});  // every kind on: only tumbling records carry features
  std::vector<Event> ev = {
      featured(1, 0, Severity::kViolent, 0.5f),
      featured(2, 3, Severity::kProperty, 0.25f),
      featured(3, 3, Severity::kOther, std::nullopt),
      featured(4, 40, std::nullopt, 1.0f),                // sources >= 31 share bit 31
      featured(4, 31, Severity::kViolent, 0.125f),
      featured(4, 5, std::nullopt, std::nullopt),
  };
  ev.back().severity = Severity::kViolent;  // a severity not marked present does not count
  ev.push_back(featured(7, 6, Severity::kViolent, 0.75f));  // the next window
  op.add(ev);
  const auto out = advance(op, 24 * 60);
  const auto tumbling = of_kind(out, WindowKind::kTumbling);
  ASSERT_EQ(tumbling.size(), 2u);
  EXPECT_EQ(features_of(tumbling[0]),
            FeatureTuple(6, 2, 1, 4, (1u << 0) | (1u << 3) | (1u << 5) | (1u << 31), 1.875));
  EXPECT_EQ(features_of(tumbling[1]), FeatureTuple(1, 1, 0, 1, 1u << 6, 0.75));
  size_t others = 0;
  for (const WindowRecord& r : out) {
    if (r.kind == WindowKind::kTumbling) continue;
    ++others;
    EXPECT_EQ(features_of(r), FeatureTuple(r.count, 0, 0, 0, 0, 0.0)) << window_kind_name(r.kind);
  }
  EXPECT_GT(others, 0u);
}

TEST(Features, SourceBitsAndConfidenceRounding) {
  EXPECT_EQ(window_source_bit(0), 1u);
  EXPECT_EQ(window_source_bit(30), 1u << 30);
  EXPECT_EQ(window_source_bit(31), 1u << 31);
  EXPECT_EQ(window_source_bit(65535), 1u << 31);
  WindowOperator op(only(WindowKind::kTumbling));
  std::vector<Event> ev;
  for (int i = 0; i < 10; ++i) ev.push_back(featured(1, 0, std::nullopt, 0.1f));
  ev.push_back(featured(1, 0, std::nullopt, 0.0f));  // present, zero: counted in `confident`
  op.add(ev);
  const auto out = advance(op, 5);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].confident, 11u);
  // Each confidence is rounded to a multiple of 2^-16.
  EXPECT_NEAR(out[0].confidence_sum, 1.0, 10 * 0.5 / 65536);
  EXPECT_EQ(out[0].confidence_sum, 10 * 6554 / 65536.0);  // round(0.1 * 65536) = 6554
}

TEST(Features, RevisionCarriesTheUpdatedFeatures) {
  WindowOperator op(only(WindowKind::kTumbling));
  std::vector<Event> ev = {featured(1, 2, Severity::kViolent, 0.5f)};
  op.add(ev);
  auto out = advance(op, 6);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(1, 1, 0, 1, 1u << 2, 0.5));
  std::vector<Event> late = {featured(3, 4, Severity::kProperty, 0.25f), featured(4, 2, std::nullopt, std::nullopt)};
  op.add(late);
  out = advance(op, 7);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].revision, 1u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(3, 1, 1, 2, (1u << 2) | (1u << 4), 0.75));
}

TEST(Features, OverflowWindowsKeepTheirOwn) {
  WindowOperator op(only(WindowKind::kTumbling));
  // One key with three open windows: the first inline, two in overflow.
  std::vector<Event> ev = {
      featured(1, 1, Severity::kViolent, 1.0f),
      featured(6, 2, Severity::kProperty, 0.5f), featured(8, 3, Severity::kProperty, std::nullopt),
      featured(11, 4, std::nullopt, 0.25f),
  };
  op.add(ev);
  EXPECT_EQ(op.stats().tumbling_windows, 3u);
  auto out = of_kind(advance(op, 12), WindowKind::kTumbling);  // fires [0,5) and [5,10); drops [0,5)
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(1, 1, 0, 1, 1u << 1, 1.0));
  EXPECT_EQ(features_of(out[1]), FeatureTuple(2, 0, 2, 1, (1u << 2) | (1u << 3), 0.5));
  // A late event revises the overflow window [5,10); a new window takes the freed inline slot.
  std::vector<Event> more = {featured(7, 5, Severity::kViolent, 0.5f), featured(16, 6, Severity::kOther, 0.75f)};
  op.add(more);
  out = of_kind(advance(op, 13), WindowKind::kTumbling);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(to_ms(out[0].start), 5 * kMin);
  EXPECT_EQ(out[0].revision, 1u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(3, 1, 2, 2, (1u << 2) | (1u << 3) | (1u << 5), 1.0));
  out = of_kind(advance(op, 24 * 60), WindowKind::kTumbling);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(1, 0, 0, 1, 1u << 4, 0.25));
  EXPECT_EQ(features_of(out[1]), FeatureTuple(1, 0, 0, 1, 1u << 6, 0.75));
}

TEST(Features, SaveLoadKeepsThemInlineAndInOverflow) {
  WindowsConfig c;
  WindowOperator a(c);
  std::vector<Event> ev = {
      featured(1, 1, Severity::kViolent, 1.0f), featured(2, 33, Severity::kProperty, 0.5f),
      featured(6, 2, Severity::kProperty, 0.5f), featured(11, 4, std::nullopt, 0.25f),
  };
  a.add(ev);
  std::vector<WindowRecord> sink;
  a.advance(event_time_from_ms(6 * kMin), sink);  // [0,5) fired: a later event makes a revision
  ByteWriter w;
  a.save(w);
  WindowOperator b(c);
  ByteReader r(w.buffer());
  ASSERT_TRUE(b.load(r, [](uint64_t) { return true; }));
  std::vector<Event> more = {featured(3, 7, Severity::kViolent, 0.75f), featured(9, 8, Severity::kOther, 0.25f)};
  a.add(more);
  b.add(more);
  auto out_a = of_kind(advance(a, 24 * 60), WindowKind::kTumbling);
  auto out_b = of_kind(advance(b, 24 * 60), WindowKind::kTumbling);
  ASSERT_EQ(out_a.size(), 3u);
  ASSERT_EQ(out_b.size(), out_a.size());
  for (size_t i = 0; i < out_a.size(); ++i) {
    EXPECT_EQ(out_b[i].start, out_a[i].start);
    EXPECT_EQ(out_b[i].revision, out_a[i].revision);
    EXPECT_EQ(features_of(out_b[i]), features_of(out_a[i])) << i;
  }
  EXPECT_EQ(features_of(out_b[0]), FeatureTuple(3, 2, 1, 3, (1u << 1) | (1u << 31) | (1u << 7), 2.25));
  EXPECT_EQ(out_b[0].revision, 1u);
}

TEST(Features, WindowsBeyondTheNarrowCountersStayExact) {
  WindowOperator op(only(WindowKind::kTumbling));
  constexpr uint32_t kEvents = 70'000;  // past the 65535 events a window keeps in 16-bit counters
  std::vector<Event> ev;
  ev.reserve(kEvents);
  for (uint32_t i = 0; i < kEvents; ++i) {
    ev.push_back(featured(1, static_cast<SourceId>(i % 40), i % 2 == 0 ? std::optional(Severity::kViolent) : std::nullopt,
                          i % 3 == 0 ? std::optional(1.0f) : std::nullopt));
  }
  op.add(ev);
  auto out = advance(op, 6);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(kEvents, 35'000, 0, 23'334, 0xFFFFFFFFu, 23'334.0));
  // The wide features survive a checkpoint, and a revision adds to them.
  ByteWriter w;
  op.save(w);
  WindowOperator other(only(WindowKind::kTumbling));
  ByteReader r(w.buffer());
  ASSERT_TRUE(other.load(r, [](uint64_t) { return true; }));
  std::vector<Event> late = {featured(2, 1, Severity::kProperty, 0.5f)};
  other.add(late);
  out = advance(other, 7);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].revision, 1u);
  EXPECT_EQ(features_of(out[0]), FeatureTuple(kEvents + 1, 35'000, 1, 23'335, 0xFFFFFFFFu, 23'334.5));
  // Past its lateness the window and its wide features are dropped.
  advance(other, 10);
  EXPECT_EQ(other.stats().tumbling_windows, 0u);
}

}  // namespace window_operator_test
}  // namespace sentinel
