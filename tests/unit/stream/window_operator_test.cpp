#include "stream/window_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "stream/bytes.h"

namespace sentinel {
namespace {

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
  using Step = std::vector<std::tuple<int, int64_t, int64_t, uint64_t, uint32_t, uint64_t, bool>>;
  auto step_of = [](std::vector<WindowRecord>& recs) {
    Step s;
    for (const auto& r : recs) {
      s.emplace_back(static_cast<int>(r.kind), to_ms(r.start), to_ms(r.end), r.key.cell, r.revision, r.count, r.retracted);
    }
    std::sort(s.begin(), s.end());
    recs.clear();
    return s;
  };
  auto feed = [&](WindowOperator& op, int from, int to, std::vector<Step>& out) {
    std::vector<WindowRecord> recs;
    for (int m = from; m < to; ++m) {
      std::vector<Event> ev = {at(m * 3, kCell + (m % 3) * 8, 1 + m % 2), at(m * 3 - 4, kCell, 1)};
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

}  // namespace
}  // namespace sentinel
