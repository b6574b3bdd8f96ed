#include "alerts/alert_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "alerts/alert.h"
#include "alerts/score.h"
#include "core/time.h"

namespace sentinel {
namespace alert_store_test {

using ::testing::ElementsAre;

constexpr int64_t kMinute = 60'000;
const int64_t kT0 = to_ms(*parse_rfc3339("2026-03-01T22:00:00Z"));

QueueConfig config(uint64_t max_alerts = 100'000, uint64_t resume_changes = 100'000) {
  QueueConfig c;
  c.max_alerts = max_alerts;
  c.resume_changes = resume_changes;
  return c;  // ack_p0 1 min, p1 5 min, p2 30 min, p3 none
}

Priority band(double score) {
  return score >= 0.85 ? Priority::kP0 : score >= 0.65 ? Priority::kP1 : score >= 0.40 ? Priority::kP2 : Priority::kP3;
}

Alert make_alert(std::string id, double score, int64_t event_ms = 0, std::string district = "Loop",
                 AlertType type = AlertType::kSensor, AlertStatus status = AlertStatus::kAlert,
                 uint32_t revision = 0) {
  Alert a;
  a.alert_id = std::move(id);
  a.dedup_key = "sensor/89c2a4b/sensor.panic";
  a.type = type;
  a.status = status;
  a.category = "sensor.panic";
  a.cell_token = "89c2a4b";
  a.score.score = score;
  a.score.priority = band(score);
  a.score.terms.threat_severity = 1.0;
  a.score.terms.model_confidence = score;
  a.confidence = score;
  a.has_confidence = true;
  a.sources = {"sensor"};
  a.event_ids = {a.alert_id + "-e1"};
  a.has_location = true;
  a.lat = 41.8781;
  a.lon = -87.6298;
  a.district = std::move(district);
  a.event_time = event_time_from_ms(kT0 + event_ms);
  a.first_seen = a.last_seen = a.emitted_at = a.event_time;
  a.count = 1;
  a.revision = revision;
  return a;
}

std::string render(const Alert& a) {
  std::string out;
  render_alert(a, out);
  return out;
}

std::vector<AlertChange> put(AlertStore& store, const std::vector<Alert>& alerts, WallMs now) {
  std::vector<const Alert*> ptrs;
  std::vector<std::string> records;
  for (const Alert& a : alerts) {
    ptrs.push_back(&a);
    records.push_back(render(a));
  }
  std::vector<std::string_view> views(records.begin(), records.end());
  return store.upsert(ptrs, views, now);
}

std::vector<AlertChange> put1(AlertStore& store, const Alert& a, WallMs now) {
  return put(store, std::vector<Alert>{a}, now);
}

std::string rendered(const StoredAlert& a) {
  std::string out;
  render_stored_alert(a, out);
  return out;
}

auto fields(const StoredAlert& a) {
  return std::tie(a.alert_id, a.record, a.priority, a.score, a.type, a.status, a.district, a.event_time,
                  a.revision, a.received_at, a.updated_at, a.ack_due, a.acked_at, a.acked_by, a.verdict,
                  a.verdict_at, a.verdict_by, a.verdict_note, a.origin);
}

std::vector<std::string> ids(const std::vector<StoredAlert>& alerts) {
  std::vector<std::string> out;
  for (const StoredAlert& a : alerts) out.push_back(a.alert_id);
  return out;
}

std::vector<std::string> ids(const std::vector<AlertChange>& changes) {
  std::vector<std::string> out;
  for (const AlertChange& c : changes) out.push_back(std::string(change_kind_name(c.kind)) + ":" + c.alert.alert_id);
  return out;
}

std::vector<StoredAlert> all(const AlertStore& store) {
  return store.snapshot(std::numeric_limits<size_t>::max()).first;
}

// Follows next_cursor to the end.
std::vector<std::string> list_all(const AlertStore& store, AlertQuery q) {
  std::vector<std::string> out;
  for (int pages = 0; pages < 100'000; ++pages) {
    auto page = store.list(q);
    EXPECT_TRUE(page.ok()) << page.error().to_string();
    if (!page.ok()) break;
    for (const StoredAlert& a : page->alerts) out.push_back(a.alert_id);
    EXPECT_LE(page->alerts.size(), q.limit);
    if (page->next_cursor.empty()) break;
    EXPECT_EQ(page->alerts.size(), q.limit);
    q.cursor = page->next_cursor;
  }
  return out;
}

std::string base64url(const std::string& bin) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()), bin.size(),
                    kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// ------------------------------------------------------------- upsert -----

TEST(AlertStore, UpsertKeepsTheRecordAndTheIndexedFields) {
  AlertStore store(config(), "proc-a");
  Alert a = make_alert("a-1", 0.912345, 5 * kMinute, "Near West Side", AlertType::kCorrelation);
  const auto changes = put1(store, a, kT0 + 1000);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].seq, 1u);
  EXPECT_EQ(changes[0].kind, ChangeKind::kNew);
  const StoredAlert& s = changes[0].alert;
  EXPECT_EQ(s.alert_id, "a-1");
  EXPECT_EQ(s.record, render(a));
  EXPECT_EQ(s.priority, Priority::kP0);
  EXPECT_EQ(s.score, 0.9123);  // as the record shows it
  EXPECT_EQ(s.type, AlertType::kCorrelation);
  EXPECT_EQ(s.status, AlertStatus::kAlert);
  EXPECT_EQ(s.district, "Near West Side");
  EXPECT_EQ(s.event_time, a.event_time);
  EXPECT_EQ(s.revision, 0u);
  EXPECT_EQ(s.received_at, kT0 + 1000);
  EXPECT_EQ(s.updated_at, kT0 + 1000);
  EXPECT_EQ(s.ack_due, kT0 + 1000 + kMinute);
  EXPECT_EQ(s.acked_at, 0);
  EXPECT_EQ(s.origin, "proc-a");
  EXPECT_EQ(fields(*store.get("a-1")), fields(s));
  EXPECT_FALSE(store.get("a-2").has_value());

  // Revision 1 updates; the same or an older revision changes nothing.
  a.revision = 1;
  a.count = 2;
  const auto update = put1(store, a, kT0 + 5000);
  ASSERT_EQ(update.size(), 1u);
  EXPECT_EQ(update[0].kind, ChangeKind::kUpdate);
  EXPECT_EQ(update[0].seq, 2u);
  EXPECT_EQ(update[0].alert.received_at, kT0 + 1000);
  EXPECT_EQ(update[0].alert.updated_at, kT0 + 5000);
  EXPECT_EQ(update[0].alert.record, render(a));
  EXPECT_TRUE(put1(store, a, kT0 + 6000).empty());
  a.revision = 0;
  EXPECT_TRUE(put1(store, a, kT0 + 7000).empty());
  EXPECT_EQ(store.last_seq(), 2u);
  EXPECT_EQ(store.get("a-1")->revision, 1u);
}

// ------------------------------------------------------------ ordering ----

TEST(AlertStore, ListsInQueueOrder) {
  AlertStore store(config());
  // Same score and received_at: the smaller id first. Newer received_at
  // before older at equal score. Priority before score.
  put(store, {make_alert("a-c", 0.5), make_alert("a-b", 0.5)}, kT0);
  put(store, {make_alert("a-d", 0.5)}, kT0 + 10);
  put(store, {make_alert("a-e", 0.6), make_alert("a-p3", 0.39), make_alert("a-p0", 0.85),
              make_alert("a-p1", 0.7)},
      kT0);
  auto page = store.list(AlertQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(ids(page->alerts), ElementsAre("a-p0", "a-p1", "a-e", "a-d", "a-b", "a-c", "a-p3"));
  EXPECT_TRUE(page->next_cursor.empty());
  EXPECT_THAT(ids(all(store)), ElementsAre("a-p0", "a-p1", "a-e", "a-d", "a-b", "a-c", "a-p3"));
}

// ------------------------------------------------------------- filters ----

TEST(AlertStore, EveryFilter) {
  AlertStore store(config());
  put(store,
      {make_alert("a-1", 0.9, 0, "Loop", AlertType::kSensor),
       make_alert("a-2", 0.7, kMinute, "Uptown", AlertType::kCorrelation),
       make_alert("a-3", 0.5, 2 * kMinute, "Loop", AlertType::kGeofence),
       make_alert("a-4", 0.3, 3 * kMinute, "Uptown", AlertType::kSpike, AlertStatus::kTrendWatch),
       make_alert("a-5", 0.95, 4 * kMinute, "", AlertType::kMlAnomaly)},
      kT0);
  ASSERT_TRUE(store.ack("a-2", "analyst", kT0 + 1).ok());
  auto q = [&](auto&& set) {
    AlertQuery query;
    set(query);
    auto page = store.list(query);
    EXPECT_TRUE(page.ok());
    return ids(page->alerts);
  };
  EXPECT_THAT(q([](AlertQuery& x) { x.priorities = {Priority::kP1, Priority::kP0}; }),
              ElementsAre("a-5", "a-1", "a-2"));
  EXPECT_THAT(q([](AlertQuery& x) { x.priorities = {Priority::kP3}; }), ElementsAre("a-4"));
  EXPECT_THAT(q([](AlertQuery& x) { x.status = AlertStatus::kTrendWatch; }), ElementsAre("a-4"));
  EXPECT_THAT(q([](AlertQuery& x) { x.status = AlertStatus::kAlert; }), ElementsAre("a-5", "a-1", "a-2", "a-3"));
  EXPECT_THAT(q([](AlertQuery& x) { x.type = AlertType::kGeofence; }), ElementsAre("a-3"));
  EXPECT_THAT(q([](AlertQuery& x) { x.district = "Loop"; }), ElementsAre("a-1", "a-3"));
  EXPECT_THAT(q([](AlertQuery& x) { x.district = "Nowhere"; }), ElementsAre());
  EXPECT_THAT(q([](AlertQuery& x) { x.acked = true; }), ElementsAre("a-2"));
  EXPECT_THAT(q([](AlertQuery& x) { x.acked = false; }), ElementsAre("a-5", "a-1", "a-3", "a-4"));
  // [from, to): the lower bound is inclusive, the upper exclusive.
  EXPECT_THAT(q([](AlertQuery& x) {
                x.from = event_time_from_ms(kT0 + kMinute);
                x.to = event_time_from_ms(kT0 + 3 * kMinute);
              }),
              ElementsAre("a-2", "a-3"));
  EXPECT_THAT(q([](AlertQuery& x) { x.from = event_time_from_ms(kT0 + 4 * kMinute); }), ElementsAre("a-5"));
  EXPECT_THAT(q([](AlertQuery& x) { x.to = event_time_from_ms(kT0 + 1); }), ElementsAre("a-1"));
  EXPECT_THAT(q([](AlertQuery& x) { x.from = x.to = event_time_from_ms(kT0); }), ElementsAre());
  EXPECT_THAT(q([](AlertQuery& x) { x.from = event_time_from_ms(kT0 + 86'400'000); }), ElementsAre());
  EXPECT_THAT(q([](AlertQuery& x) {
                x.district = "Uptown";
                x.acked = false;
              }),
              ElementsAre("a-4"));
  EXPECT_THAT(q([](AlertQuery& x) {
                x.district = "Loop";
                x.priorities = {Priority::kP2};
                x.type = AlertType::kGeofence;
                x.status = AlertStatus::kAlert;
              }),
              ElementsAre("a-3"));
  AlertQuery zero;
  zero.limit = 0;
  auto bad = store.list(zero);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "limit");
}

// A reference engine (filter + sort + page by position) against the store on
// random data and random queries, paging through every page.
TEST(AlertStore, RandomQueriesMatchAReference) {
  std::mt19937_64 rng(20260301);
  AlertStore store(config());
  const std::vector<std::string> districts = {"Loop", "Uptown", "Austin", "Hyde Park", "Edgewater"};
  const double scores[] = {0.2, 0.45, 0.5, 0.66, 0.7, 0.86, 0.9, 0.5123, 0.41};
  const int64_t span = 3 * 86'400'000;
  int next = 0;
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<Alert> alerts;
    for (int i = 0; i < 50; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "a-%04d", next++);
      const auto type = static_cast<AlertType>(rng() % 5);
      const auto status = rng() % 10 == 0 ? AlertStatus::kTrendWatch : AlertStatus::kAlert;
      alerts.push_back(make_alert(id, scores[rng() % std::size(scores)], static_cast<int64_t>(rng() % span),
                                  districts[rng() % districts.size()], type, status));
    }
    put(store, alerts, kT0 + batch % 20);  // equal received_at across batches: ties on the id
  }
  for (int i = 0; i < 1000; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "a-%04d", i);
    if (rng() % 2) {
      ASSERT_TRUE(store.ack(id, "x", kT0).ok());
    }
  }
  std::vector<StoredAlert> everything = all(store);
  ASSERT_EQ(everything.size(), 3000u);
  const std::vector<std::string> snapshot_order = ids(everything);
  std::sort(everything.begin(), everything.end(), [](const StoredAlert& a, const StoredAlert& b) {
    return std::make_tuple(a.priority, -a.score, -a.received_at, a.alert_id) <
           std::make_tuple(b.priority, -b.score, -b.received_at, b.alert_id);
  });
  ASSERT_EQ(ids(everything), snapshot_order);

  for (int round = 0; round < 300; ++round) {
    AlertQuery q;
    q.limit = 1 + static_cast<uint32_t>(rng() % 120);
    if (rng() % 3 == 0) {
      for (int p = 0; p < 4; ++p) {
        if (rng() % 2) q.priorities.push_back(static_cast<Priority>(p));
      }
    }
    if (rng() % 4 == 0) q.status = rng() % 2 ? AlertStatus::kAlert : AlertStatus::kTrendWatch;
    if (rng() % 4 == 0) q.type = static_cast<AlertType>(rng() % 5);
    if (rng() % 3 == 0) q.district = districts[rng() % districts.size()];
    if (rng() % 4 == 0) q.acked = rng() % 2 == 0;
    if (rng() % 2 == 0) {
      // From an hour to the whole span, sometimes open-ended.
      const int64_t from = static_cast<int64_t>(rng() % span) - 3'600'000;
      const int64_t len = rng() % 2 ? 3'600'000 : static_cast<int64_t>(rng() % span);
      if (rng() % 5) q.from = event_time_from_ms(kT0 + from);
      if (rng() % 5) q.to = event_time_from_ms(kT0 + from + len);
    }
    std::vector<std::string> expected;
    for (const StoredAlert& a : everything) {
      const bool pri = q.priorities.empty() ||
                       std::find(q.priorities.begin(), q.priorities.end(), a.priority) != q.priorities.end();
      if (pri && (!q.status || a.status == *q.status) && (!q.type || a.type == *q.type) &&
          (!q.district || a.district == *q.district) && (!q.acked || a.acked() == *q.acked) &&
          (!q.from || a.event_time >= *q.from) && (!q.to || a.event_time < *q.to)) {
        expected.push_back(a.alert_id);
      }
    }
    ASSERT_EQ(list_all(store, q), expected) << "round " << round;
  }
}

// ------------------------------------------------------------- paging -----

TEST(AlertStore, PagingAcrossChangesStartsStrictlyAfterTheCursor) {
  AlertStore store(config());
  std::vector<Alert> alerts;
  const char* names[] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"};
  for (int i = 0; i < 10; ++i) alerts.push_back(make_alert(names[i], 0.60 - 0.01 * i));
  put(store, alerts, kT0);
  AlertQuery q;
  q.limit = 3;
  auto p1 = store.list(q);
  ASSERT_TRUE(p1.ok());
  EXPECT_THAT(ids(p1->alerts), ElementsAre("A", "B", "C"));
  ASSERT_FALSE(p1->next_cursor.empty());

  // Changes between pages: X before the cursor, Y after it, D raised to P0
  // (in front of the cursor: not shown again), B lowered behind J (shown
  // again, later), J acked (stays listed).
  Alert x = make_alert("X", 0.61), y = make_alert("Y", 0.555);
  Alert d = alerts[3], b = alerts[1];
  d.score.score = 0.9;
  d.score.priority = Priority::kP0;
  d.revision = 1;
  b.score.score = 0.45;
  b.revision = 1;
  put(store, {x, y, d, b}, kT0 + 1);
  ASSERT_TRUE(store.ack("J", "analyst", kT0 + 2).ok());

  q.cursor = p1->next_cursor;
  auto p2 = store.list(q);
  ASSERT_TRUE(p2.ok());
  EXPECT_THAT(ids(p2->alerts), ElementsAre("E", "Y", "F"));
  q.cursor = p2->next_cursor;
  auto p3 = store.list(q);
  EXPECT_THAT(ids(p3->alerts), ElementsAre("G", "H", "I"));
  q.cursor = p3->next_cursor;
  auto p4 = store.list(q);
  EXPECT_THAT(ids(p4->alerts), ElementsAre("J", "B"));
  EXPECT_TRUE(p4->next_cursor.empty());

  // The cursor of an alert that is gone still places the page.
  AlertStore small(config(2));
  put(small, {make_alert("K", 0.5), make_alert("L", 0.49)}, kT0);
  AlertQuery one;
  one.limit = 1;
  auto first = small.list(one);
  ASSERT_EQ(ids(first->alerts), std::vector<std::string>{"K"});
  put(small, {make_alert("M", 0.3)}, kT0 + 1);  // evicts K (oldest, by id)
  ASSERT_FALSE(small.get("K").has_value());
  one.cursor = first->next_cursor;
  EXPECT_THAT(ids(small.list(one)->alerts), ElementsAre("L"));
}

TEST(AlertStore, MalformedCursorIsAnErrorOnCursor) {
  AlertStore store(config());
  put(store, {make_alert("a-1", 0.5)}, kT0);
  auto bin = [](uint8_t version, uint8_t priority, double score, const std::string& id) {
    std::string b;
    b.push_back(static_cast<char>(version));
    b.push_back(static_cast<char>(priority));
    uint64_t bits;
    std::memcpy(&bits, &score, 8);
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>(bits >> (8 * i)));
    for (int i = 0; i < 8; ++i) b.push_back('\0');
    return b + id;
  };
  const std::vector<std::string> bad = {
      "!!!",
      "a b",
      "AAAA=",  // padding is not in this alphabet's variant
      base64url("\x01"),
      base64url(bin(2, 0, 0.5, "a-1")),                                       // unknown version
      base64url(bin(1, 4, 0.5, "a-1")),                                       // no such priority
      base64url(bin(1, 0, std::numeric_limits<double>::quiet_NaN(), "a-1")),  // not a score
      base64url(bin(1, 0, 0.5, "")),                                          // no id
      std::string(5000, 'A'),
  };
  for (const std::string& c : bad) {
    AlertQuery q;
    q.cursor = c;
    auto page = store.list(q);
    ASSERT_FALSE(page.ok()) << c;
    EXPECT_EQ(page.error().field, "cursor");
  }
  AlertQuery good;
  good.cursor = base64url(bin(1, 0, 0.5, "a-0"));
  EXPECT_TRUE(store.list(good).ok());
}

// --------------------------------------------------------- ack, feedback --

TEST(AlertStore, FirstAckWinsAndLateAcksAreFlagged) {
  AlertStore store(config());
  put(store, {make_alert("a-p0", 0.9), make_alert("a-p1", 0.7), make_alert("a-p3", 0.1)}, kT0);
  auto first = store.ack("a-p0", "alice", kT0 + kMinute + 1);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  const AlertChange& c = **first;
  EXPECT_EQ(c.kind, ChangeKind::kAck);
  EXPECT_EQ(c.alert.acked_at, kT0 + kMinute + 1);
  EXPECT_EQ(c.alert.acked_by, "alice");
  EXPECT_TRUE(c.alert.ack_late());
  EXPECT_NE(rendered(c.alert).find(R"("ack_late":true)"), std::string::npos);

  const uint64_t seq = store.last_seq();
  auto second = store.ack("a-p0", "bob", kT0 + 2 * kMinute);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(store.last_seq(), seq);
  EXPECT_EQ(store.get("a-p0")->acked_by, "alice");

  auto in_time = store.ack("a-p1", "bob", kT0 + 5 * kMinute);  // exactly at the due time
  ASSERT_TRUE(in_time.ok());
  EXPECT_FALSE((*in_time)->alert.ack_late());
  auto no_sla = store.ack("a-p3", "bob", kT0 + 1000 * kMinute);
  EXPECT_FALSE((*no_sla)->alert.ack_late());

  auto unknown = store.ack("a-none", "bob", kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "alert_id");
}

TEST(AlertStore, FeedbackReplacesAndNamesItsErrors) {
  AlertStore store(config());
  put(store, {make_alert("a-1", 0.9)}, kT0);
  auto none = store.feedback("a-1", Verdict::kNone, "alice", "", kT0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "verdict");
  auto long_note = store.feedback("a-1", Verdict::kTruePositive, "alice", std::string(1001, 'x'), kT0);
  ASSERT_FALSE(long_note.ok());
  EXPECT_EQ(long_note.error().field, "note");
  auto unknown = store.feedback("a-2", Verdict::kTruePositive, "alice", "", kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "alert_id");
  EXPECT_EQ(store.last_seq(), 1u);

  auto tp = store.feedback("a-1", Verdict::kTruePositive, "alice", std::string(1000, 'n'), kT0 + 5);
  ASSERT_TRUE(tp.ok());
  EXPECT_EQ(tp->kind, ChangeKind::kFeedback);
  EXPECT_EQ(tp->alert.verdict, Verdict::kTruePositive);
  auto fp = store.feedback("a-1", Verdict::kFalsePositive, "bob", "sensor test", kT0 + 9);
  ASSERT_TRUE(fp.ok());
  const StoredAlert s = *store.get("a-1");
  EXPECT_EQ(s.verdict, Verdict::kFalsePositive);
  EXPECT_EQ(s.verdict_at, kT0 + 9);
  EXPECT_EQ(s.verdict_by, "bob");
  EXPECT_EQ(s.verdict_note, "sensor test");
  EXPECT_EQ(fp->seq, 3u);
}

// ------------------------------------------------------------------ SLA ---

TEST(AlertStore, AckDueTimesPerBandAndOnARaise) {
  AlertStore store(config());
  put(store,
      {make_alert("p0", 0.9), make_alert("p1", 0.7), make_alert("p2", 0.5), make_alert("p3", 0.2),
       make_alert("tw", 0.5, 0, "Loop", AlertType::kSpike, AlertStatus::kTrendWatch)},
      kT0);
  EXPECT_EQ(store.get("p0")->ack_due, kT0 + kMinute);
  EXPECT_EQ(store.get("p1")->ack_due, kT0 + 5 * kMinute);
  EXPECT_EQ(store.get("p2")->ack_due, kT0 + 30 * kMinute);
  EXPECT_EQ(store.get("p3")->ack_due, 0);
  EXPECT_EQ(store.get("tw")->ack_due, 0);

  auto raise = [&](const char* id, double score, int64_t at, AlertStatus status = AlertStatus::kAlert) {
    Alert a = make_alert(id, score, 0, "Loop", status == AlertStatus::kAlert ? AlertType::kSensor : AlertType::kSpike,
                         status, store.get(id)->revision + 1);
    put1(store, a, kT0 + at);
    return *store.get(id);
  };
  // P2 -> P0 after 2 min: now + 1 min is earlier than the old 30 min.
  EXPECT_EQ(raise("p2", 0.9, 2 * kMinute).ack_due, kT0 + 3 * kMinute);
  // P1 -> P0 after 4.5 min: the old due (5 min) is earlier than 5.5 min.
  EXPECT_EQ(raise("p1", 0.95, 4 * kMinute + 30'000).ack_due, kT0 + 5 * kMinute);
  // A lower band keeps the due time.
  EXPECT_EQ(raise("p0", 0.5, 10 * kMinute).ack_due, kT0 + kMinute);
  // No SLA before: P3 -> P1 starts one.
  EXPECT_EQ(raise("p3", 0.7, 7 * kMinute).ack_due, kT0 + 12 * kMinute);
  // A trend-watch item that becomes an alert starts its SLA then.
  EXPECT_EQ(raise("tw", 0.5, 8 * kMinute).ack_due, kT0 + 38 * kMinute);
}

TEST(AlertStore, StatsCountAndOverdueFollowNowBothWays) {
  AlertStore store(config());
  put(store,
      {make_alert("p0", 0.9), make_alert("p0b", 0.88), make_alert("p1", 0.7), make_alert("p2", 0.5),
       make_alert("p3", 0.2), make_alert("tw", 0.5, 0, "Loop", AlertType::kSpike, AlertStatus::kTrendWatch)},
      kT0);
  ASSERT_TRUE(store.ack("p0b", "a", kT0 + 1).ok());
  AlertStoreStats s = store.stats(kT0);
  EXPECT_EQ(s.alerts, 5u);
  EXPECT_EQ(s.trend_watch, 1u);
  EXPECT_EQ(s.unacked, 4u);
  EXPECT_EQ(s.overdue, 0u);
  EXPECT_EQ(s.by_priority[0], 2u);
  EXPECT_EQ(s.by_priority[1], 1u);
  EXPECT_EQ(s.by_priority[2], 1u);
  EXPECT_EQ(s.by_priority[3], 1u);
  EXPECT_EQ(s.last_seq, 7u);
  EXPECT_EQ(store.stats(kT0 + kMinute).overdue, 0u);  // due == now is not past it
  EXPECT_EQ(store.stats(kT0 + kMinute + 1).overdue, 1u);
  EXPECT_EQ(store.stats(kT0 + 31 * kMinute).overdue, 3u);
  EXPECT_EQ(store.stats(kT0 + 2 * kMinute).overdue, 1u);  // the clock stepped back
  ASSERT_TRUE(store.ack("p0", "a", kT0 + 3 * kMinute).ok());
  EXPECT_EQ(store.stats(kT0 + 2 * kMinute).overdue, 0u);
  EXPECT_EQ(store.stats(kT0 + 600 * kMinute).overdue, 2u);
  EXPECT_EQ(store.stats(kT0).unacked, 3u);
}

// ------------------------------------------------------------ retention ---

TEST(AlertStore, EvictsClosedOldestFirstThenOldest) {
  AlertStore store(config(3));
  put1(store, make_alert("a1", 0.5), kT0 + 1);
  put1(store, make_alert("a2", 0.5), kT0 + 2);
  put1(store, make_alert("a3", 0.5), kT0 + 3);
  ASSERT_TRUE(store.ack("a2", "x", kT0 + 4).ok());
  // Full: a2 is the oldest closed one, though a1 is older.
  EXPECT_THAT(ids(put1(store, make_alert("a4", 0.5), kT0 + 5)), ElementsAre("new:a4", "evict:a2"));
  // A trend-watch item is closed: with only open alerts besides, it goes first.
  EXPECT_THAT(ids(put1(store, make_alert("t5", 0.5, 0, "Loop", AlertType::kSpike, AlertStatus::kTrendWatch),
                       kT0 + 6)),
              ElementsAre("new:t5", "evict:t5"));
  // No closed alert: the oldest of any kind.
  EXPECT_THAT(ids(put1(store, make_alert("a6", 0.5), kT0 + 7)), ElementsAre("new:a6", "evict:a1"));
  EXPECT_THAT(ids(all(store)), ElementsAre("a6", "a4", "a3"));
  EXPECT_EQ(store.stats(kT0).evicted, 3u);
  // The evict change carries the last state.
  auto changes = store.changes_since(0, 100);
  ASSERT_TRUE(changes.has_value());
  auto it = std::find_if(changes->begin(), changes->end(),
                         [](const AlertChange& c) { return c.kind == ChangeKind::kEvict; });
  ASSERT_NE(it, changes->end());
  EXPECT_EQ(it->alert.alert_id, "a2");
  EXPECT_EQ(it->alert.acked_by, "x");
}

// -------------------------------------------------------------- changes ---

TEST(AlertStore, ChangesSinceAndGaps) {
  AlertStore store(config(100, 4));
  for (int i = 0; i < 6; ++i) put1(store, make_alert("a" + std::to_string(i), 0.5), kT0 + i);
  auto from2 = store.changes_since(2, 100);
  ASSERT_TRUE(from2.has_value());
  std::vector<uint64_t> seqs;
  for (const AlertChange& c : *from2) seqs.push_back(c.seq);
  EXPECT_THAT(seqs, ElementsAre(3, 4, 5, 6));
  EXPECT_EQ((*from2)[0].alert.alert_id, "a2");
  EXPECT_FALSE(store.changes_since(1, 100).has_value());  // seq 2 is gone
  EXPECT_FALSE(store.changes_since(0, 100).has_value());
  EXPECT_TRUE(store.changes_since(6, 100)->empty());
  EXPECT_FALSE(store.changes_since(7, 100).has_value());  // not ours
  EXPECT_EQ(store.changes_since(3, 2)->size(), 2u);
  EXPECT_EQ(store.changes_since(3, 2)->back().seq, 5u);
}

TEST(AlertStore, WaitForChangeWakesOnAChange) {
  AlertStore store(config());
  EXPECT_EQ(store.wait_for_change(0, std::chrono::milliseconds(1)), 0u);  // times out
  std::thread writer([&] { put1(store, make_alert("a-1", 0.5), kT0); });
  EXPECT_EQ(store.wait_for_change(0, std::chrono::hours(1)), 1u);
  writer.join();
  EXPECT_EQ(store.wait_for_change(0, std::chrono::hours(1)), 1u);  // already past
}

TEST(AlertStore, SnapshotPlusChangesRebuildsTheStore) {
  std::mt19937_64 rng(7);
  AlertStore store(config(40, 10'000));
  auto random_ops = [&](int n, int64_t t) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "a" + std::to_string(rng() % 60);
      switch (rng() % 4) {
        case 0:
        case 1: {
          auto cur = store.get(id);
          put1(store, make_alert(id, static_cast<double>(rng() % 100) / 100, 0, "Loop", AlertType::kSensor,
                                 AlertStatus::kAlert, cur ? cur->revision + 1 : 0),
               t + i);
          break;
        }
        case 2:
          (void)store.ack(id, "a", t + i);
          break;
        default:
          (void)store.feedback(id, Verdict::kTruePositive, "b", "n" + std::to_string(i), t + i);
      }
    }
  };
  random_ops(200, kT0);
  auto [snap, seq] = store.snapshot(std::numeric_limits<size_t>::max());
  std::map<std::string, std::string> client;
  for (const StoredAlert& a : snap) client[a.alert_id] = rendered(a);
  random_ops(300, kT0 + 1000);
  auto changes = store.changes_since(seq, std::numeric_limits<size_t>::max());
  ASSERT_TRUE(changes.has_value());
  uint64_t expect = seq;
  for (const AlertChange& c : *changes) {
    EXPECT_EQ(c.seq, ++expect);
    if (c.kind == ChangeKind::kEvict) {
      client.erase(c.alert.alert_id);
    } else {
      client[c.alert.alert_id] = rendered(c.alert);
    }
  }
  EXPECT_EQ(expect, store.last_seq());
  std::map<std::string, std::string> now;
  for (const StoredAlert& a : all(store)) now[a.alert_id] = rendered(a);
  EXPECT_EQ(client, now);
}

// ---------------------------------------------------------------- merge ---

StoredAlert view(const std::string& id, uint32_t revision, WallMs received, double score,
                 const std::string& origin) {
  Alert a = make_alert(id, score, 0, "Loop", AlertType::kSensor, AlertStatus::kAlert, revision);
  StoredAlert s;
  s.alert_id = id;
  s.record = render(a);
  s.priority = a.score.priority;
  s.score = round_term(score);
  s.type = a.type;
  s.status = a.status;
  s.district = a.district;
  s.event_time = a.event_time;
  s.revision = revision;
  s.received_at = received;
  s.updated_at = received + revision;
  s.origin = origin;
  return s;
}

TEST(AlertStore, MergeIsOrderIndependent) {
  std::vector<StoredAlert> views;
  views.push_back(view("m", 0, kT0, 0.5, "p1"));
  views.push_back(view("m", 1, kT0 + 5, 0.7, "p2"));
  views.push_back(view("m", 1, kT0 + 5, 0.71, "p3"));  // same revision and time: greater bytes win
  views.back().ack_due = kT0 + 100;
  views.push_back(view("m", 0, kT0 + 1, 0.5, "p4"));
  views.back().acked_at = kT0 + 50;
  views.back().acked_by = "zed";
  views.back().ack_due = kT0 + 60;
  views.push_back(view("m", 0, kT0 + 2, 0.5, "p5"));
  views.back().acked_at = kT0 + 50;
  views.back().acked_by = "amy";  // same ack time: the smaller actor
  views.back().verdict = Verdict::kTruePositive;
  views.back().verdict_at = kT0 + 70;
  views.back().verdict_by = "amy";
  views.push_back(view("m", 0, kT0 + 3, 0.5, "p6"));
  views.back().verdict = Verdict::kFalsePositive;
  views.back().verdict_at = kT0 + 70;
  views.back().verdict_by = "bob";  // same time: the greater actor
  views.back().verdict_note = "test";
  views.push_back(view("n", 2, kT0, 0.9, "p1"));  // another alert in the mix

  std::vector<int> order(views.size());
  std::iota(order.begin(), order.end(), 0);
  std::string reference;
  int runs = 0;
  do {
    AlertStore store(config());
    for (int i : order) (void)store.apply_remote(views[static_cast<size_t>(i)]);
    for (int i : order) EXPECT_FALSE(store.apply_remote(views[static_cast<size_t>(i)]).has_value());  // idempotent
    std::string state;
    for (const StoredAlert& a : all(store)) state += rendered(a) + "\n";
    if (reference.empty()) reference = state;
    ASSERT_EQ(state, reference) << "run " << runs;
    ++runs;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(runs, 5040);

  AlertStore store(config());
  for (const StoredAlert& v : views) (void)store.apply_remote(v);
  const StoredAlert m = *store.get("m");
  EXPECT_EQ(m.revision, 1u);
  EXPECT_EQ(m.origin, views[2].record > views[1].record ? "p3" : "p2");
  EXPECT_EQ(m.record, std::max(views[1].record, views[2].record));
  EXPECT_EQ(m.received_at, kT0 + 5);
  EXPECT_EQ(m.ack_due, kT0 + 60);
  EXPECT_EQ(m.acked_at, kT0 + 50);
  EXPECT_EQ(m.acked_by, "amy");
  EXPECT_EQ(m.verdict, Verdict::kFalsePositive);
  EXPECT_EQ(m.verdict_by, "bob");
  EXPECT_EQ(m.verdict_note, "test");
}

TEST(AlertStore, MergeReportsWhatChanged) {
  AlertStore store(config(), "here");
  put1(store, make_alert("a-1", 0.5), kT0);
  StoredAlert local = *store.get("a-1");
  EXPECT_FALSE(store.apply_remote(local).has_value());  // the same view
  StoredAlert acked = local;
  acked.acked_at = kT0 + 10;
  acked.acked_by = "remote-analyst";
  auto c1 = store.apply_remote(acked);
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->kind, ChangeKind::kAck);
  StoredAlert later_ack = acked;
  later_ack.acked_at = kT0 + 20;
  later_ack.acked_by = "other";
  EXPECT_FALSE(store.apply_remote(later_ack).has_value());  // the earliest ack stays
  StoredAlert feedback = local;
  feedback.verdict = Verdict::kTruePositive;
  feedback.verdict_at = kT0 + 30;
  feedback.verdict_by = "remote";
  EXPECT_EQ(store.apply_remote(feedback)->kind, ChangeKind::kFeedback);
  StoredAlert newer = view("a-1", 3, kT0 + 40, 0.9, "there");
  auto c3 = store.apply_remote(newer);
  ASSERT_TRUE(c3.has_value());
  EXPECT_EQ(c3->kind, ChangeKind::kUpdate);
  EXPECT_EQ(c3->alert.priority, Priority::kP0);
  EXPECT_EQ(c3->alert.acked_by, "remote-analyst");
  EXPECT_EQ(c3->alert.verdict_by, "remote");
  auto listed = store.list(AlertQuery{});
  EXPECT_EQ(listed->alerts[0].priority, Priority::kP0);  // reindexed
  auto fresh = store.apply_remote(view("b-1", 0, kT0, 0.5, "there"));
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->kind, ChangeKind::kNew);
  EXPECT_EQ(fresh->alert.origin, "there");
  EXPECT_FALSE(store.apply_remote(StoredAlert{}).has_value());
}

// ----------------------------------------------------------------- JSON ---

TEST(AlertStore, RenderParseRoundTripsEveryField) {
  AlertStore store(config(), "proc-a");
  Alert a = make_alert("a-0123456789abcdef", 0.87654, 1234, "Back of the \"Yards\"", AlertType::kGeofence,
                       AlertStatus::kAlert, 4);
  put1(store, a, kT0 + 1);
  ASSERT_TRUE(store.ack(a.alert_id, "tok\u00e9n", kT0 + 2 * kMinute + 7).ok());
  ASSERT_TRUE(store.feedback(a.alert_id, Verdict::kFalsePositive, "rev", "line1\nline2 \"q\" \\ \x01", kT0 + 99).ok());
  std::vector<StoredAlert> cases = {*store.get(a.alert_id)};
  // No district, no place, trend watch, nothing done, times on whole seconds.
  Alert b = make_alert("a-2", 0.3, 0, "", AlertType::kSpike, AlertStatus::kTrendWatch);
  b.has_location = false;
  b.has_confidence = false;
  StoredAlert sb;
  sb.alert_id = b.alert_id;
  sb.record = render(b);
  sb.priority = Priority::kP3;
  sb.score = 0.3;
  sb.type = b.type;
  sb.status = b.status;
  sb.event_time = b.event_time;
  sb.received_at = kT0;
  sb.updated_at = kT0 + 1000;
  cases.push_back(sb);
  for (const StoredAlert& s : cases) {
    const std::string json = rendered(s);
    auto parsed = parse_stored_alert(json);
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string() << "\n" << json;
    EXPECT_EQ(fields(*parsed), fields(s)) << json;
    EXPECT_EQ(rendered(*parsed), json);
  }
  const std::string json = rendered(cases[0]);
  EXPECT_NE(json.find(R"("acked_at":"2026-03-01T22:02:00.007Z")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("received_at":"2026-03-01T22:00:00.001Z","updated_at")"), std::string::npos);
  EXPECT_NE(json.find(R"("ack_late":true,"verdict":"false_positive")"), std::string::npos);
  EXPECT_NE(rendered(sb).find(R"("ack_due":null,"acked_at":null,"acked_by":"")"), std::string::npos);
  EXPECT_NE(rendered(sb).find(R"("received_at":"2026-03-01T22:00:00.000Z")"), std::string::npos);
}

TEST(AlertStore, ParseNamesWhatIsWrong) {
  StoredAlert s = view("a-1", 0, kT0, 0.5, "");
  const std::string good = rendered(s);
  auto field_of = [](const std::string& json) {
    auto r = parse_stored_alert(json);
    return r.ok() ? std::string("ok") : r.error().field;
  };
  EXPECT_EQ(field_of(good), "ok");
  EXPECT_EQ(field_of("[1]"), "");
  EXPECT_EQ(field_of("{"), "");
  EXPECT_EQ(field_of(s.record), "received_at");  // the bare record
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string j = good;
    const size_t at = j.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return j.replace(at, from.size(), to);
  };
  EXPECT_EQ(field_of(replaced(R"("priority":"P2")", R"("priority":"P9")")), "priority");
  EXPECT_EQ(field_of(replaced(R"("type":"sensor")", R"("type":"other")")), "type");
  EXPECT_EQ(field_of(replaced(R"("revision":0)", R"("revision":-1)")), "revision");
  EXPECT_EQ(field_of(replaced(R"("verdict":"none")", R"("verdict":"maybe")")), "verdict");
  EXPECT_EQ(field_of(replaced(R"("updated_at":")", R"("updated_at":"x)")), "updated_at");
  EXPECT_EQ(field_of(replaced(R"("alert_id":"a-1",)", "")), "alert_id");
}

// ------------------------------------------------------------- threads ----

// Writers, ackers, readers and a stream follower at once (run under ASan;
// the single mutex leaves TSan nothing to find by construction).
TEST(AlertStore, ConcurrentSmoke) {
  AlertStore store(config(500, 2000));
  std::atomic<bool> done{false};
  std::atomic<int> listed{0};
  std::thread writer([&] {
    for (int batch = 0; batch < 200; ++batch) {
      std::vector<Alert> alerts;
      for (int i = 0; i < 10; ++i) {
        const int n = (batch * 10 + i) % 1500;
        auto cur = store.get("a" + std::to_string(n));
        alerts.push_back(make_alert("a" + std::to_string(n), static_cast<double>((n * 37) % 100) / 100, n * 1000,
                                    n % 2 ? "Loop" : "Uptown", static_cast<AlertType>(n % 5), AlertStatus::kAlert,
                                    cur ? cur->revision + 1 : 0));
      }
      put(store, alerts, kT0 + batch);
    }
    done = true;
  });
  std::thread acker([&] {
    for (int i = 0; !done; ++i) {
      (void)store.ack("a" + std::to_string(i % 1500), "x", kT0 + i);
      (void)store.feedback("a" + std::to_string((i * 7) % 1500), Verdict::kTruePositive, "y", "", kT0 + i);
    }
  });
  std::thread reader([&] {
    while (!done) {
      AlertQuery q;
      q.limit = 20;
      q.district = "Loop";
      q.acked = false;
      auto page = store.list(q);
      ASSERT_TRUE(page.ok());
      if (!page->next_cursor.empty()) {
        q.cursor = page->next_cursor;
        ASSERT_TRUE(store.list(q).ok());
      }
      (void)store.stats(kT0 + 10 * kMinute);
      ++listed;
    }
  });
  std::thread follower([&] {
    auto [snap, seq] = store.snapshot(100);
    while (!done || seq < store.last_seq()) {
      seq = std::max(seq, store.wait_for_change(seq, std::chrono::milliseconds(20)));
      auto changes = store.changes_since(seq - std::min<uint64_t>(seq, 50), 1000);
      if (!changes) {
        seq = store.snapshot(100).second;  // fell behind the ring: resnapshot
        continue;
      }
      for (size_t i = 1; i < changes->size(); ++i) ASSERT_EQ((*changes)[i].seq, (*changes)[i - 1].seq + 1);
    }
  });
  writer.join();
  acker.join();
  reader.join();
  follower.join();
  EXPECT_GT(listed.load(), 0);
  const auto everything = all(store);
  const AlertStoreStats s = store.stats(kT0);
  EXPECT_LE(everything.size(), 500u);
  EXPECT_EQ(s.alerts + s.trend_watch, everything.size());
  uint64_t unacked = 0;
  for (const StoredAlert& a : everything) unacked += !a.acked();
  EXPECT_EQ(s.unacked, unacked);
}

}  // namespace alert_store_test
}  // namespace sentinel
