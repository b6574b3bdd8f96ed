#include "alerts/alert_book.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/score.h"
#include "core/time.h"
#include "stream/bytes.h"

namespace sentinel {
namespace alert_book_test {

using ::testing::ElementsAre;
using Offer = AlertBook::Offer;

constexpr int64_t kMinute = 60'000;

EventTime t0() { return *parse_rfc3339("2026-03-01T22:00:00Z"); }
EventTime at(int64_t ms) { return t0() + Millis(ms); }

AlertCandidate candidate(std::vector<std::string> ids, int64_t offset_ms, double score = 0.5,
                         std::vector<std::string> sources = {"sensor"}) {
  AlertCandidate c;
  c.type = AlertType::kSensor;
  c.status = AlertStatus::kAlert;
  c.category = "sensor.panic";
  c.cell = 0x89c2a4b000000000ull;
  c.cell_token = "89c2a4b";
  c.score.score = score;
  c.score.terms.threat_severity = 1.0;
  c.score.terms.model_confidence = score;
  c.score.priority = score >= 0.85 ? Priority::kP0 : score >= 0.65 ? Priority::kP1 : Priority::kP2;
  c.confidence = score;
  c.has_confidence = true;
  c.sources = std::move(sources);
  c.event_ids = std::move(ids);
  c.has_location = true;
  c.lat = 41.8781;
  c.lon = -87.6298;
  c.district = "Loop";
  c.event_time = at(offset_ms);
  return c;
}

// The id contract, computed independently of the book.
std::string expected_id(std::string_view dedup_key, std::string_view first_event) {
  const std::string text = std::string(dedup_key) + "\n" + std::string(first_event);
  return fmt::format("a-{:016x}", XXH3_64bits(text.data(), text.size()));
}

std::string render(const Alert& a) {
  std::string out;
  render_alert(a, out);
  return out;
}

std::string render_all(const AlertBook& book) {
  std::string out;
  for (const Alert* a : book.alerts()) {
    render_alert(*a, out);
    out += '\n';
  }
  return out;
}

std::string saved(const AlertBook& book) {
  ByteWriter w;
  book.save(w);
  return w.take();
}

TEST(AlertBook, BurstOfOneKeyIsOneAlertWithRisingCount) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  ASSERT_EQ(book.offer(candidate({"p-1"}, 0), at(1000), out), Offer::kNew);
  const std::string id = out->alert_id;
  EXPECT_EQ(id, expected_id("sensor/89c2a4b/sensor.panic", "p-1"));
  EXPECT_EQ(out->dedup_key, "sensor/89c2a4b/sensor.panic");
  EXPECT_EQ(out->count, 1u);
  EXPECT_EQ(out->revision, 0u);
  EXPECT_EQ(out->emitted_at, at(1000));
  // 10 min apart each: every press is within the window of the last update,
  // so the sliding window keeps one alert for 30 min.
  for (int i = 1; i <= 3; ++i) {
    const int64_t t = i * 10 * kMinute;
    ASSERT_EQ(book.offer(candidate({"p-" + std::to_string(i + 1)}, t), at(t + 500), out), Offer::kUpdated);
    EXPECT_EQ(out->alert_id, id);
    EXPECT_EQ(out->count, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(out->revision, static_cast<uint32_t>(i));
    EXPECT_EQ(out->last_seen, at(t));
    EXPECT_EQ(out->first_seen, at(0));
    EXPECT_EQ(out->emitted_at, at(t + 500));
  }
  EXPECT_EQ(book.size(), 1u);
  EXPECT_THAT(out->event_ids, ElementsAre("p-1", "p-2", "p-3", "p-4"));
  EXPECT_EQ(book.find(id), out);
}

TEST(AlertBook, WindowEdgeIsInclusive) {
  DedupConfig dedup;
  AlertBook book(dedup);
  const Alert* out = nullptr;
  book.offer(candidate({"e1"}, 0), at(0), out);
  const int64_t w = dedup.window.count();
  EXPECT_EQ(book.offer(candidate({"e2"}, w), at(w), out), Offer::kUpdated);
  EXPECT_EQ(book.offer(candidate({"e3"}, 2 * w + 1), at(2 * w + 1), out), Offer::kNew);
  EXPECT_EQ(book.size(), 2u);
}

TEST(AlertBook, OutsideWindowIsANewAlertWithANewId) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  ASSERT_EQ(book.offer(candidate({"e1"}, 0), at(0), out), Offer::kNew);
  const std::string first = out->alert_id;
  ASSERT_EQ(book.offer(candidate({"e2"}, 16 * kMinute), at(16 * kMinute), out), Offer::kNew);
  const std::string second = out->alert_id;
  EXPECT_NE(first, second);
  EXPECT_EQ(second, expected_id("sensor/89c2a4b/sensor.panic", "e2"));
  EXPECT_EQ(out->revision, 0u);
  EXPECT_EQ(out->count, 1u);
  // The old alert is past its window but kept (findable) until expiry.
  EXPECT_EQ(book.size(), 2u);
  ASSERT_NE(book.find(first), nullptr);
  // A later burst press joins the newer alert, not the old one.
  ASSERT_EQ(book.offer(candidate({"e3"}, 17 * kMinute), at(17 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->alert_id, second);
  EXPECT_EQ(book.find(first)->count, 1u);
}

TEST(AlertBook, ExpireKeepsAlertsForWindowPlusRetention) {
  AlertBook book(DedupConfig{}, Millis(5 * kMinute));
  const Alert* out = nullptr;
  book.offer(candidate({"e1"}, 0), at(0), out);
  const std::string first = out->alert_id;
  book.offer(candidate({"e2"}, 30 * kMinute), at(30 * kMinute), out);
  book.expire(kMinEventTime);
  book.expire(kMaxEventTime);
  EXPECT_EQ(book.size(), 2u);
  book.expire(at(20 * kMinute));  // cutoff = t0: last_seen t0 is not older than it
  EXPECT_EQ(book.size(), 2u);
  book.expire(at(20 * kMinute + 1));
  EXPECT_EQ(book.size(), 1u);
  EXPECT_EQ(book.find(first), nullptr);
  // A late candidate within retention still finds the surviving alert.
  EXPECT_EQ(book.offer(candidate({"e3"}, 20 * kMinute), at(50 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->first_seen, at(20 * kMinute));
}

TEST(AlertBook, OutOfOrderCandidateInsideTheSpanUpdates) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  for (int i = 0; i <= 4; ++i) {
    book.offer(candidate({"e" + std::to_string(i)}, i * 10 * kMinute), at(i * 10 * kMinute), out);
  }
  ASSERT_EQ(book.size(), 1u);
  // 40 min before last_seen, but inside [first_seen, last_seen].
  EXPECT_EQ(book.offer(candidate({"late"}, 5 * kMinute), at(41 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(book.size(), 1u);
  EXPECT_EQ(out->last_seen, at(40 * kMinute));
  // Before first_seen by more than the window: its own alert.
  EXPECT_EQ(book.offer(candidate({"older"}, -16 * kMinute), at(41 * kMinute), out), Offer::kNew);
  EXPECT_EQ(book.size(), 2u);
}

TEST(AlertBook, RedeliveryChangesNothing) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  ASSERT_EQ(book.offer(candidate({"e1", "e2"}, 0, 0.5), at(0), out), Offer::kNew);
  const std::string before = render(*out);
  const std::string state = saved(book);
  // Same ids (and a subset with a higher score and a new source): nothing changes.
  EXPECT_EQ(book.offer(candidate({"e1", "e2"}, 0, 0.5), at(5000), out), Offer::kUnchanged);
  EXPECT_EQ(book.offer(candidate({"e2"}, kMinute, 0.95, {"cad"}), at(6000), out), Offer::kUnchanged);
  EXPECT_EQ(render(*out), before);
  EXPECT_EQ(saved(book), state);
  // Duplicates inside one candidate count once.
  EXPECT_EQ(book.offer(candidate({"e3", "e3", "e1", "e4"}, kMinute), at(7000), out), Offer::kUpdated);
  EXPECT_EQ(out->count, 4u);
  EXPECT_THAT(out->event_ids, ElementsAre("e1", "e2", "e3", "e4"));
}

TEST(AlertBook, SameKeyAndFirstEventPastTheWindowIsTheSameAlert) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  book.offer(candidate({"e1"}, 0), at(0), out);
  const std::string id = out->alert_id;
  // Its id would be the live alert's: it updates that alert instead of
  // creating a second one with the same id.
  EXPECT_EQ(book.offer(candidate({"e1", "e9"}, 20 * kMinute), at(20 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->alert_id, id);
  EXPECT_EQ(out->count, 2u);
  EXPECT_EQ(book.size(), 1u);
}

TEST(AlertBook, IdsAreStableAcrossBooks) {
  auto feed = [](AlertBook& book) {
    std::string log;
    const Alert* out = nullptr;
    const std::vector<std::pair<std::vector<std::string>, int64_t>> plan = {
        {{"a"}, 0}, {{"b"}, kMinute}, {{"c"}, 40 * kMinute}, {{"a"}, 41 * kMinute}, {{"d", "e"}, 42 * kMinute}};
    for (const auto& [ids, t] : plan) {
      const Offer r = book.offer(candidate(ids, t), at(t), out);
      log += std::to_string(static_cast<int>(r)) + " ";
      render_alert(*out, log);
      log += '\n';
    }
    AlertCandidate other = candidate({"x"}, 0);
    other.category = "sensor.gunshot";
    book.offer(std::move(other), at(0), out);
    log += out->alert_id;
    return log;
  };
  AlertBook a(DedupConfig{}), b(DedupConfig{});
  const std::string log_a = feed(a);
  EXPECT_EQ(log_a, feed(b));
  EXPECT_EQ(render_all(a), render_all(b));
  EXPECT_EQ(saved(a), saved(b));
  EXPECT_NE(a.find(expected_id("sensor/89c2a4b/sensor.gunshot", "x")), nullptr);
  EXPECT_NE(a.find(expected_id("sensor/89c2a4b/sensor.panic", "c")), nullptr);
}

TEST(AlertBook, TrendWatchGrowsIntoAnAlert) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  AlertCandidate watch = candidate({"w-1"}, 0, 0.3);
  watch.type = AlertType::kSpike;
  watch.status = AlertStatus::kTrendWatch;
  ASSERT_EQ(book.offer(std::move(watch), at(0), out), Offer::kNew);
  EXPECT_EQ(out->status, AlertStatus::kTrendWatch);
  EXPECT_EQ(out->dedup_key, "spike/89c2a4b/sensor.panic");
  AlertCandidate grown = candidate({"w-2"}, 5 * kMinute, 0.7);
  grown.type = AlertType::kSpike;
  ASSERT_EQ(book.offer(std::move(grown), at(5 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->status, AlertStatus::kAlert);
  // A weaker trend_watch afterwards does not demote it.
  AlertCandidate weaker = candidate({"w-3"}, 10 * kMinute, 0.2);
  weaker.type = AlertType::kSpike;
  weaker.status = AlertStatus::kTrendWatch;
  ASSERT_EQ(book.offer(std::move(weaker), at(10 * kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->status, AlertStatus::kAlert);
}

TEST(AlertBook, ScoreIsKeptWhenLowerAndReplacedWhenHigher) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  book.offer(candidate({"e1"}, 0, 0.8, {"sensor"}), at(0), out);
  AlertCandidate lower = candidate({"e2"}, kMinute, 0.5, {"cad"});
  lower.verified = true;
  lower.bias_review = true;
  ASSERT_EQ(book.offer(std::move(lower), at(kMinute), out), Offer::kUpdated);
  EXPECT_DOUBLE_EQ(out->score.score, 0.8);
  EXPECT_DOUBLE_EQ(out->confidence, 0.8);
  EXPECT_EQ(out->score.priority, Priority::kP1);
  EXPECT_EQ(out->event_time, at(0));
  EXPECT_TRUE(out->verified);
  EXPECT_TRUE(out->bias_review);
  EXPECT_THAT(out->sources, ElementsAre("cad", "sensor"));
  AlertCandidate higher = candidate({"e3"}, 2 * kMinute, 0.9, {"cctv", "cad"});
  higher.has_confidence = false;
  ASSERT_EQ(book.offer(std::move(higher), at(2 * kMinute), out), Offer::kUpdated);
  EXPECT_DOUBLE_EQ(out->score.score, 0.9);
  EXPECT_DOUBLE_EQ(out->score.terms.model_confidence, 0.9);
  EXPECT_EQ(out->score.priority, Priority::kP0);
  EXPECT_FALSE(out->has_confidence);
  EXPECT_EQ(out->event_time, at(2 * kMinute));
  EXPECT_TRUE(out->verified);
  EXPECT_THAT(out->sources, ElementsAre("cad", "cctv", "sensor"));
}

TEST(AlertBook, EventIdsAreCappedWhileCountGoesOn) {
  DedupConfig dedup;
  dedup.max_event_ids = 3;
  AlertBook book(dedup);
  const Alert* out = nullptr;
  for (int i = 1; i <= 5; ++i) {
    book.offer(candidate({"e" + std::to_string(i)}, i * 1000), at(i * 1000), out);
  }
  EXPECT_EQ(out->count, 5u);
  EXPECT_EQ(out->revision, 4u);
  EXPECT_THAT(out->event_ids, ElementsAre("e1", "e2", "e3"));
  // An id absorbed past the cap is still known: its re-delivery changes nothing.
  EXPECT_EQ(book.offer(candidate({"e5"}, 6000), at(6000), out), Offer::kUnchanged);
  EXPECT_EQ(book.offer(candidate({"e5", "e6", "e7"}, 7000), at(7000), out), Offer::kUpdated);
  EXPECT_EQ(out->count, 7u);
  EXPECT_EQ(out->event_ids.size(), 3u);
}

TEST(AlertBook, CandidateWithoutLocationOrEventIds) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  AlertCandidate c = candidate({}, 0);
  c.has_location = false;
  c.cell_token = "ignored";
  c.district.clear();
  ASSERT_EQ(book.offer(AlertCandidate(c), at(0), out), Offer::kNew);
  EXPECT_EQ(out->dedup_key, "sensor/-/sensor.panic");
  EXPECT_EQ(out->cell_token, "-");
  EXPECT_EQ(out->cell, 0u);
  EXPECT_EQ(out->count, 1u);
  EXPECT_TRUE(out->event_ids.empty());
  // Named by its event time: the same one again is a re-delivery, another time is new.
  EXPECT_EQ(book.offer(AlertCandidate(c), at(1000), out), Offer::kUnchanged);
  c.event_time = at(kMinute);
  EXPECT_EQ(book.offer(AlertCandidate(c), at(kMinute), out), Offer::kUpdated);
  EXPECT_EQ(out->count, 2u);
  const nlohmann::json j = nlohmann::json::parse(render(*out));
  EXPECT_TRUE(j["lat"].is_null());
  EXPECT_TRUE(j["lon"].is_null());
  EXPECT_TRUE(j["cell"].is_null());
  EXPECT_TRUE(j["district"].is_null());
}

TEST(AlertBook, FindRejectsMalformedIds) {
  AlertBook book(DedupConfig{});
  const Alert* out = nullptr;
  book.offer(candidate({"e1"}, 0), at(0), out);
  std::string upper = out->alert_id;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(book.find(out->alert_id), out);
  EXPECT_EQ(book.find(""), nullptr);
  EXPECT_EQ(book.find(upper), nullptr);
  EXPECT_EQ(book.find(out->alert_id.substr(0, 17)), nullptr);
  EXPECT_EQ(book.find("a-zzzzzzzzzzzzzzzz"), nullptr);
}

TEST(AlertBook, RejectsBadOptions) {
  DedupConfig negative;
  negative.window = Millis(-1);
  EXPECT_THROW(AlertBook{negative}, std::invalid_argument);
  DedupConfig no_ids;
  no_ids.max_event_ids = 0;
  EXPECT_THROW(AlertBook{no_ids}, std::invalid_argument);
  EXPECT_THROW(AlertBook(DedupConfig{}, Millis(-1)), std::invalid_argument);
}

Alert golden_alert() {
  Alert a;
  a.alert_id = "a-0123456789abcdef";
  a.dedup_key = "correlation/89c2a4b/cad.call.weapon";
  a.type = AlertType::kCorrelation;
  a.status = AlertStatus::kAlert;
  a.category = "cad.call.weapon";
  a.cell = 0x89c2a4b000000000ull;
  a.cell_token = "89c2a4b";
  a.score.score = 0.780004;
  a.score.priority = Priority::kP1;
  a.score.terms = {1.0, 0.83, 0.5, 0.97003, 0.12344999, 0.15};
  a.confidence = 0.8300000131130219;  // 0.83f widened
  a.has_confidence = true;
  a.verified = true;
  a.sources = {"cad", "cctv"};
  a.event_ids = {"cad-000123", "cctv-\"88\""};
  a.has_location = true;
  a.lat = 41.8781;
  a.lon = -87.6298;
  a.district = "Near North Side";
  a.event_time = *parse_rfc3339("2026-03-01T22:14:05Z");
  a.emitted_at = *parse_rfc3339("2026-03-01T22:14:30.250Z");
  a.first_seen = *parse_rfc3339("2026-03-01T22:10:00Z");
  a.last_seen = a.event_time;
  a.count = 2;
  a.revision = 1;
  return a;
}

TEST(AlertBook, RenderGolden) {
  std::string out = "prefix|";
  render_alert(golden_alert(), out);
  EXPECT_EQ(out,
            R"(prefix|{"alert_id":"a-0123456789abcdef","dedup_key":"correlation/89c2a4b/cad.call.weapon",)"
            R"("type":"correlation","status":"alert","priority":"P1","score":0.78,"confidence":0.83,"verified":true,)"
            R"("terms":{"threat_severity":1,"model_confidence":0.83,"corroboration":0.5,"temporal_urgency":0.97,)"
            R"("spatial_sensitivity":0.1234,"boost":0.15},"sources":["cad","cctv"],)"
            R"("event_ids":["cad-000123","cctv-\"88\""],"lat":41.8781,"lon":-87.6298,"cell":"89c2a4b",)"
            R"("district":"Near North Side","event_time":"2026-03-01T22:14:05Z",)"
            R"("emitted_at":"2026-03-01T22:14:30.250Z","count":2,"bias_review":false,)"
            R"("category":"cad.call.weapon","revision":1,"first_seen":"2026-03-01T22:10:00Z",)"
            R"("last_seen":"2026-03-01T22:14:05Z"})");
}

TEST(AlertBook, RenderWithoutConfidenceLocationOrDistrict) {
  Alert a = golden_alert();
  a.has_confidence = false;
  a.has_location = false;
  a.cell_token = "-";
  a.district.clear();
  a.type = AlertType::kMlAnomaly;
  a.status = AlertStatus::kTrendWatch;
  a.score.terms.boost = -1e-9;
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(render(a));
  EXPECT_TRUE(j["confidence"].is_null());
  EXPECT_TRUE(j["lat"].is_null());
  EXPECT_TRUE(j["lon"].is_null());
  EXPECT_TRUE(j["cell"].is_null());
  EXPECT_TRUE(j["district"].is_null());
  EXPECT_EQ(j["type"], "ml_anomaly");
  EXPECT_EQ(j["status"], "trend_watch");
  EXPECT_THAT(render(a), ::testing::HasSubstr(R"("boost":0})"));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("alert_id", "dedup_key", "type", "status", "priority", "score", "confidence",
                                "verified", "terms", "sources", "event_ids", "lat", "lon", "cell", "district",
                                "event_time", "emitted_at", "count", "bias_review", "category", "revision",
                                "first_seen", "last_seen"));
}

// A book with a bit of everything: several keys, an alert past its cap, a
// trend_watch, one without location, one past its window.
void fill(AlertBook& book) {
  const Alert* out = nullptr;
  for (int i = 0; i < 6; ++i) book.offer(candidate({"burst-" + std::to_string(i)}, i * 1000), at(i * 1000), out);
  book.offer(candidate({"late"}, 40 * kMinute, 0.9, {"cctv", "cad"}), at(40 * kMinute), out);
  AlertCandidate spike = candidate({"w-1"}, 2 * kMinute, 0.3);
  spike.type = AlertType::kSpike;
  spike.status = AlertStatus::kTrendWatch;
  book.offer(std::move(spike), at(2 * kMinute), out);
  AlertCandidate nowhere = candidate({"case-1"}, 3 * kMinute);
  nowhere.has_location = false;
  nowhere.has_confidence = false;
  nowhere.district.clear();
  nowhere.bias_review = true;
  book.offer(std::move(nowhere), at(3 * kMinute), out);
  AlertCandidate no_ids = candidate({}, 4 * kMinute);
  no_ids.category = "sensor.gunshot";
  book.offer(std::move(no_ids), at(4 * kMinute), out);
}

TEST(AlertBook, SaveLoadRoundTrip) {
  DedupConfig dedup;
  dedup.max_event_ids = 4;
  AlertBook original(dedup);
  fill(original);
  ASSERT_EQ(original.size(), 5u);
  const std::string bytes = saved(original);

  AlertBook restored(dedup);
  ByteReader in(bytes);
  ASSERT_TRUE(restored.load(in));
  EXPECT_TRUE(in.done());
  EXPECT_EQ(restored.size(), original.size());
  EXPECT_EQ(render_all(restored), render_all(original));
  EXPECT_EQ(saved(restored), bytes);
  for (const Alert* a : original.alerts()) {
    const Alert* b = restored.find(a->alert_id);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(render(*a), render(*b));
  }

  // Both go on alike: re-delivery past the cap, updates, new alerts, expiry.
  auto go_on = [](AlertBook& book) {
    std::string log;
    const Alert* out = nullptr;
    auto step = [&](AlertCandidate c, EventTime now) {
      log += std::to_string(static_cast<int>(book.offer(std::move(c), now, out))) + " ";
      render_alert(*out, log);
      log += '\n';
    };
    step(candidate({"burst-5"}, 7000), at(10 * kMinute));
    step(candidate({"burst-6"}, 8000), at(10 * kMinute));
    step(candidate({}, 4 * kMinute), at(10 * kMinute));
    step(candidate({"fresh"}, 70 * kMinute), at(70 * kMinute));
    book.expire(at(70 * kMinute));
    log += std::to_string(book.size());
    return log;
  };
  EXPECT_EQ(go_on(restored), go_on(original));
  EXPECT_EQ(saved(restored), saved(original));
}

TEST(AlertBook, CorruptedLoadIsRefusedAndLeavesTheBookAlone) {
  AlertBook source(DedupConfig{});
  fill(source);
  const std::string bytes = saved(source);

  AlertBook target(DedupConfig{});
  const Alert* out = nullptr;
  target.offer(candidate({"keep-me"}, 0), at(0), out);
  const std::string before = saved(target);

  // Every truncation fails.
  for (size_t n = 0; n < bytes.size(); ++n) {
    ByteReader in(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(target.load(in)) << "truncated to " << n;
  }
  EXPECT_EQ(saved(target), before);

  // Flipped bytes never crash. An accepted one (a changed score, time or
  // district: the checkpoint file's checksum is what catches those) gives a
  // book that saves to exactly the bytes it read, a prefix of the buffer when
  // the flip lowered the alert count; a refused one changes nothing.
  size_t refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      AlertBook book(DedupConfig{});
      book.offer(candidate({"keep-me"}, 0), at(0), out);
      ByteReader in(bad);
      if (book.load(in)) {
        const std::string again = saved(book);
        EXPECT_EQ(again, bad.substr(0, again.size())) << "byte " << i;
      } else {
        ++refused;
        EXPECT_EQ(saved(book), before) << "byte " << i;
      }
    }
  }
  EXPECT_GT(refused, bytes.size());

  ByteReader wrong_magic(std::string_view("ALBX\x01", 5));
  EXPECT_FALSE(target.load(wrong_magic));
  EXPECT_EQ(saved(target), before);
}

}  // namespace alert_book_test
}  // namespace sentinel
