// The parts of the Redis queue that need no server: names, framing, the queue
// score, the wire view and its merge, and the status of a queue that cannot
// reach Redis. tests/integration/redis_queue_test.cpp runs it against one.
#include "alerts/redis_queue.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "alerts/alert.h"

namespace sentinel {
namespace redis_queue_test {

using redis_wire::WireView;

constexpr WallMs kT0 = 1'772'000'000'000;  // 2026-02-25, a plausible wall clock

Alert make_alert(const std::string& id, Priority band, double score, uint32_t revision) {
  Alert a;
  a.alert_id = id;
  a.dedup_key = "sensor/89c25/gunshot";
  a.category = "gunshot";
  a.cell = 0x89c2500000000000ull;
  a.cell_token = "89c25";
  a.score.score = score;
  a.score.priority = band;
  a.score.terms.threat_severity = 0.9;
  a.sources = {"acoustic"};
  a.event_ids = {"e-1"};
  a.has_location = true;
  a.lat = 40.7;
  a.lon = -73.9;
  a.district = "Midtown";
  a.event_time = event_time_from_ms(kT0 - 5'000);
  a.first_seen = a.last_seen = a.event_time;
  a.emitted_at = event_time_from_ms(kT0);
  a.count = 1 + revision;
  a.revision = revision;
  return a;
}

StoredAlert stored_of(const Alert& a, WallMs received_at) {
  StoredAlert s;
  s.alert_id = a.alert_id;
  render_alert(a, s.record);
  s.priority = a.score.priority;
  s.score = round_term(a.score.score);
  s.type = a.type;
  s.status = a.status;
  s.district = a.district;
  s.event_time = a.event_time;
  s.revision = a.revision;
  s.received_at = received_at;
  s.updated_at = received_at;
  s.ack_due = received_at + 60'000;
  return s;
}

WireView wire(const StoredAlert& s, std::string_view origin = "proc-a") {
  Result<WireView> v = redis_wire::make_wire_view(s, origin);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
  return v.ok() ? *v : WireView{};
}

TEST(RedisWire, KeyNamesUseThePrefix) {
  const redis_wire::Keys k = redis_wire::keys_for("city-a");
  EXPECT_EQ(k.alerts, "city-a:alerts");
  EXPECT_EQ(k.meta, "city-a:meta");
  EXPECT_EQ(k.queue, "city-a:queue");
  EXPECT_EQ(k.age, "city-a:age");
  EXPECT_EQ(k.epoch, "city-a:epoch");
  EXPECT_EQ(k.channel, "city-a:changes");
}

TEST(RedisWire, ParsesEndpoints) {
  auto ok = redis_wire::parse_endpoint("127.0.0.1:6379");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "127.0.0.1");
  EXPECT_EQ(ok->port, 6379);
  auto v6 = redis_wire::parse_endpoint("[::1]:6380");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6380);
  auto named = redis_wire::parse_endpoint("redis.internal:1");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->host, "redis.internal");
  for (const char* bad : {"", "6379", ":6379", "host:", "host:0", "host:65536", "a:b:1", "[::1:1",
                          "[]:1", "host:12x", "host:-1"}) {
    auto r = redis_wire::parse_endpoint(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().field, "queue.redis") << bad;
    }
  }
}

TEST(RedisWire, QueueScoreOrdersBandThenScoreThenNewer) {
  using redis_wire::queue_score;
  // A P0 with a low score still outranks a P1 with a high one (the band comes
  // from the unrounded score and is what operators sort by).
  EXPECT_GT(queue_score(Priority::kP0, 0.0, kT0), queue_score(Priority::kP1, 1.0, kT0 + 999'999));
  EXPECT_GT(queue_score(Priority::kP2, 0.5001, kT0),
            queue_score(Priority::kP2, 0.5, kT0 + 999'999));
  EXPECT_GT(queue_score(Priority::kP3, 0.2, kT0 + 100), queue_score(Priority::kP3, 0.2, kT0));
  // Time is kept to a tenth of a second.
  EXPECT_EQ(queue_score(Priority::kP3, 0.2, kT0 + 99), queue_score(Priority::kP3, 0.2, kT0));
  // NaN scores count as 0, out-of-range ones are clipped.
  EXPECT_EQ(queue_score(Priority::kP1, std::nan(""), kT0), queue_score(Priority::kP1, 0.0, kT0));
  EXPECT_EQ(queue_score(Priority::kP1, 7.0, kT0), queue_score(Priority::kP1, 1.0, kT0));
  // Every score is an integer Redis's double holds exactly.
  const int64_t top = queue_score(Priority::kP0, 1.0, std::numeric_limits<int64_t>::max() / 2);
  EXPECT_LT(top, int64_t{1} << 53);
  EXPECT_EQ(static_cast<int64_t>(static_cast<double>(top)), top);
  EXPECT_GE(queue_score(Priority::kP3, 0.0, -5), 0);
}

TEST(RedisWire, ParsesFrames) {
  auto f = redis_wire::parse_frame("host:1:ab\n{\"a\":1}\n{\"b\":2}");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->sender, "host:1:ab");
  ASSERT_EQ(f->views.size(), 2u);
  EXPECT_EQ(f->views[0], "{\"a\":1}");
  EXPECT_EQ(f->views[1], "{\"b\":2}");
  auto skips = redis_wire::parse_frame("p\n\n{}\n");
  ASSERT_TRUE(skips.has_value());
  ASSERT_EQ(skips->views.size(), 1u);
  EXPECT_EQ(skips->views[0], "{}");
  auto none = redis_wire::parse_frame("p\n");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->views.empty());
  EXPECT_FALSE(redis_wire::parse_frame("no newline").has_value());
  EXPECT_FALSE(redis_wire::parse_frame("\n{}").has_value());
}

TEST(RedisWire, WireViewLocatesItsPieces) {
  const StoredAlert s = stored_of(make_alert("a-0000000000000001", Priority::kP1, 0.7, 2), kT0);
  const WireView v = wire(s);
  EXPECT_EQ(v.alert_id, s.alert_id);
  std::string rendered;
  StoredAlert with_origin = s;
  with_origin.origin = "proc-a";
  render_stored_alert(with_origin, rendered);
  EXPECT_EQ(v.json, rendered);  // an empty origin is filled with the process id
  EXPECT_EQ(v.json.substr(0, v.record_prefix), s.record.substr(0, s.record.size() - 1));
  EXPECT_TRUE(v.json.substr(v.off_ack).starts_with(R"(,"acked_at":)"));
  EXPECT_TRUE(v.json.substr(v.off_late).starts_with(R"(,"ack_late":)"));
  EXPECT_TRUE(v.json.substr(v.off_verdict).starts_with(R"(,"verdict":)"));
  EXPECT_TRUE(v.json.substr(v.off_origin).starts_with(R"(,"origin":"proc-a")"));
  EXPECT_EQ(v.revision, 2u);
  EXPECT_EQ(v.received_at, kT0);
  EXPECT_EQ(v.queue_score, redis_wire::queue_score(Priority::kP1, s.score, kT0));
  EXPECT_FALSE(v.trend_watch);

  StoredAlert foreign = s;
  foreign.origin = "proc-b";
  EXPECT_TRUE(
      wire(foreign).json.substr(wire(foreign).off_origin).starts_with(R"(,"origin":"proc-b")"));
}

TEST(RedisWire, WireViewRejectsWhatTheScriptCannotSplice) {
  StoredAlert s = stored_of(make_alert("a-0000000000000001", Priority::kP1, 0.7, 0), kT0);
  StoredAlert no_id = s;
  no_id.alert_id.clear();
  EXPECT_FALSE(redis_wire::make_wire_view(no_id, "p").ok());
  StoredAlert no_record = s;
  no_record.record.clear();
  EXPECT_FALSE(redis_wire::make_wire_view(no_record, "p").ok());
}

TEST(RedisWire, ViewArgsMatchTheScript) {
  const WireView v = wire(stored_of(make_alert("a-0000000000000001", Priority::kP0, 0.9, 1), kT0));
  std::vector<std::string> args;
  redis_wire::append_view_args(v, args);
  ASSERT_EQ(args.size(), redis_wire::kArgsPerView);
  EXPECT_EQ(args[0], v.alert_id);
  EXPECT_EQ(args[1], v.json);
  EXPECT_EQ(args[2], std::to_string(v.queue_score));
  EXPECT_EQ(args[6], "proc-a");
  EXPECT_EQ(args[20], std::to_string(v.off_origin));
  // The script walks ARGV in steps of kArgsPerView from the 4th argument and
  // reads every offset 0 .. kArgsPerView - 1 of a view (as ARGV[i + k], or
  // n(k) for numbers), and none past it.
  const std::string script(redis_wire::merge_script());
  const std::string loop = "for i = 4, #ARGV, ";
  const size_t at = script.find(loop);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(std::stoul(script.substr(at + loop.size())), redis_wire::kArgsPerView);
  std::set<unsigned long> read = {0};  // ARGV[i]
  for (const std::string prefix : {"ARGV[i + ", " n("}) {
    for (size_t p = script.find(prefix); p != std::string::npos; p = script.find(prefix, p + 1)) {
      const std::string rest = script.substr(p + prefix.size());
      if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])))
        read.insert(std::stoul(rest));
    }
  }
  std::set<unsigned long> all;
  for (unsigned long k = 0; k < redis_wire::kArgsPerView; ++k) all.insert(k);
  EXPECT_EQ(read, all);
}

// Three views of one alert as three processes may hold it: a newer revision,
// an acknowledgement of the old one, and feedback on the old one.
struct ThreeViews {
  StoredAlert old_rev, newer, acked, judged;
};

ThreeViews three_views() {
  ThreeViews t;
  t.old_rev = stored_of(make_alert("a-00000000000000aa", Priority::kP1, 0.70, 0), kT0);
  t.newer = stored_of(make_alert("a-00000000000000aa", Priority::kP0, 0.91, 1), kT0);
  t.newer.updated_at = kT0 + 3'000;
  t.newer.ack_due = kT0 + 30'000;  // the raise to P0 brought the due time forward
  t.acked = t.old_rev;
  t.acked.acked_at = kT0 + 40'000;  // late against the P0 due time, in time for the P1 one
  t.acked.acked_by = "analyst-2";
  t.judged = t.old_rev;
  t.judged.verdict = Verdict::kTruePositive;
  t.judged.verdict_at = kT0 + 50'000;
  t.judged.verdict_by = "analyst-3";
  t.judged.verdict_note = "confirmed by patrol";
  return t;
}

TEST(RedisWire, MergeIsTheRenderingOfTheMergedAlert) {
  const ThreeViews t = three_views();
  StoredAlert expected = t.newer;
  expected.acked_at = t.acked.acked_at;
  expected.acked_by = t.acked.acked_by;
  expected.verdict = t.judged.verdict;
  expected.verdict_at = t.judged.verdict_at;
  expected.verdict_by = t.judged.verdict_by;
  expected.verdict_note = t.judged.verdict_note;
  ASSERT_TRUE(expected.ack_late());
  const WireView want = wire(expected);

  const std::array<WireView, 3> views = {wire(t.newer), wire(t.acked), wire(t.judged)};
  std::array<int, 3> perm = {0, 1, 2};
  do {
    const WireView m =
        redis_wire::merge(redis_wire::merge(views[perm[0]], views[perm[1]]), views[perm[2]]);
    EXPECT_EQ(m.json, want.json) << perm[0] << perm[1] << perm[2];
    EXPECT_EQ(m.off_ack, want.off_ack);
    EXPECT_EQ(m.off_late, want.off_late);
    EXPECT_EQ(m.off_verdict, want.off_verdict);
    EXPECT_EQ(m.off_origin, want.off_origin);
    EXPECT_EQ(m.record_prefix, want.record_prefix);
    EXPECT_EQ(m.revision, 1u);
    EXPECT_EQ(m.acked_at, t.acked.acked_at);
    EXPECT_EQ(m.verdict_by, "analyst-3");
    EXPECT_EQ(m.queue_score, want.queue_score);
  } while (std::next_permutation(perm.begin(), perm.end()));
  // Associative as well: grouping the other way gives the same bytes.
  EXPECT_EQ(redis_wire::merge(views[0], redis_wire::merge(views[1], views[2])).json, want.json);
}

TEST(RedisWire, MergeKeepsNewerStateAgainstStaleDuplicates) {
  const ThreeViews t = three_views();
  const WireView newer = wire(t.newer), old = wire(t.old_rev);
  EXPECT_EQ(redis_wire::merge(newer, old).json, newer.json);
  EXPECT_EQ(redis_wire::merge(old, newer).json, newer.json);
  EXPECT_EQ(redis_wire::merge(newer, newer).json, newer.json);

  // The due time is its own component: the earliest non-zero one stays even
  // when it came with the older record.
  StoredAlert relaxed = t.newer;
  relaxed.ack_due = kT0 + 90'000;
  const WireView mixed = redis_wire::merge(wire(relaxed), old);
  EXPECT_EQ(mixed.revision, 1u);
  EXPECT_EQ(mixed.ack_due, t.old_rev.ack_due);
  StoredAlert expected = relaxed;
  expected.ack_due = t.old_rev.ack_due;
  EXPECT_EQ(mixed.json, wire(expected).json);
  EXPECT_EQ(redis_wire::merge(old, wire(relaxed)).json, mixed.json);

  // The earliest acknowledgement stays; at the same instant the smaller actor.
  StoredAlert later_ack = t.acked;
  later_ack.acked_at += 1;
  later_ack.acked_by = "aaa";
  EXPECT_EQ(redis_wire::merge(wire(later_ack), wire(t.acked)).acked_by, "analyst-2");
  StoredAlert same_time = t.acked;
  same_time.acked_by = "analyst-1";
  EXPECT_EQ(redis_wire::merge(wire(t.acked), wire(same_time)).acked_by, "analyst-1");
  EXPECT_EQ(redis_wire::merge(wire(same_time), wire(t.acked)).acked_by, "analyst-1");

  // The later verdict wins, even a "false positive" after a "true positive".
  StoredAlert revised = t.judged;
  revised.verdict = Verdict::kFalsePositive;
  revised.verdict_at += 10;
  revised.verdict_by = "analyst-0";
  const WireView m = redis_wire::merge(wire(revised), wire(t.judged));
  EXPECT_EQ(m.verdict_by, "analyst-0");
  EXPECT_NE(m.json.find(R"("verdict":"false_positive")"), std::string::npos);
  EXPECT_EQ(redis_wire::merge(wire(t.judged), wire(revised)).json, m.json);
}

TEST(RedisWire, MergeRecomputesAckLateFromTheWinningDueTime) {
  const ThreeViews t = three_views();
  // Acked at +40 s: in time for the P1 due time (+60 s) of its own view...
  const WireView acked = wire(t.acked);
  EXPECT_NE(acked.json.find(R"("ack_late":false)"), std::string::npos);
  // ...late against the P0 due time (+30 s) the newer revision brings.
  const WireView m = redis_wire::merge(acked, wire(t.newer));
  EXPECT_NE(m.json.find(R"("ack_late":true)"), std::string::npos);
}

// ------------------------------------------------- queue without a server --

QueueConfig unreachable_config(int port) {
  QueueConfig c;
  c.backend = "redis";
  c.redis = "127.0.0.1:" + std::to_string(port);
  c.redis_prefix = "unit";
  c.redis_retry = Millis(20);
  return c;
}

/// A loopback port bound but not listening: connecting to it is refused, and
/// no other process can take it while the socket lives.
struct RefusingPort {
  int fd = -1;
  int port = 0;
  RefusingPort() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd); }
};

TEST(RedisAlertQueue, RejectsBadConfiguration) {
  QueueConfig config;
  AlertStore store(config);
  config.redis = "no-port";
  try {
    RedisAlertQueue q(config, store, "p");
    FAIL() << "accepted queue.redis = no-port";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("queue.redis"), std::string::npos) << e.what();
  }
  config.redis = "127.0.0.1:6379";
  config.redis_prefix = "";
  EXPECT_THROW(RedisAlertQueue(config, store, "p"), std::invalid_argument);
  config.redis_prefix = "sentinel";
  EXPECT_THROW(RedisAlertQueue(config, store, "two\nlines"), std::invalid_argument);
  EXPECT_THROW(RedisAlertQueue(config, store, ""), std::invalid_argument);
  EXPECT_NO_THROW(RedisAlertQueue(config, store, "host:1:ab"));
}

TEST(RedisAlertQueue, KeepsOneUnconfirmedViewPerAlertUntilConnected) {
  RefusingPort closed;
  const QueueConfig config = unreachable_config(closed.port);
  AlertStore store(config, "proc-a");
  RedisAlertQueue queue(config, store, "proc-a");
  EXPECT_EQ(queue.process_id(), "proc-a");

  const RedisAlertQueue::Status before = queue.status();
  EXPECT_FALSE(before.connected);
  EXPECT_EQ(before.down_since, 0);  // not started: no outage yet
  EXPECT_EQ(before.unconfirmed, 0u);

  const ThreeViews t = three_views();
  const StoredAlert other = stored_of(make_alert("a-00000000000000bb", Priority::kP2, 0.4, 0), kT0);
  std::vector<AlertChange> changes = {{1, ChangeKind::kNew, t.old_rev},
                                      {2, ChangeKind::kNew, other},
                                      {3, ChangeKind::kUpdate, t.newer},
                                      {4, ChangeKind::kAck, t.acked},
                                      {5, ChangeKind::kEvict, other}};
  queue.publish(changes);
  EXPECT_EQ(queue.status().unconfirmed, 2u);  // two alerts; the eviction is not shared
  StoredAlert bad = other;
  bad.record.clear();
  const std::vector<AlertChange> unrenderable = {{6, ChangeKind::kUpdate, bad}};
  queue.publish(unrenderable);
  EXPECT_EQ(queue.status().invalid, 1u);
  EXPECT_EQ(queue.status().unconfirmed, 2u);

  const WallMs started =
      std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  queue.start();
  queue.start();  // a second start while running does nothing
  // Wait (bounded) for the first refused connection attempt to be reported.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (queue.status().last_error.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(2));
  }
  const RedisAlertQueue::Status down = queue.status();
  EXPECT_FALSE(down.connected);
  EXPECT_GE(down.down_since, started);
  EXPECT_NE(down.last_error.find("127.0.0.1:" + std::to_string(closed.port)), std::string::npos)
      << down.last_error;
  EXPECT_EQ(down.unconfirmed, 2u);
  EXPECT_EQ(down.published, 0u);
  EXPECT_EQ(down.reconnects, 0u);
  EXPECT_EQ(down.transitions, 0u);  // never up, so never flipped
  queue.stop();
  queue.stop();
  EXPECT_EQ(queue.status().unconfirmed, 2u);
}

}  // namespace redis_queue_test
}  // namespace sentinel
