// AlertStream on its own, with a connection that records what it is sent.
#include "server/alert_stream.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sentinel {
namespace alert_stream_test {

using nlohmann::json;

class RecordingConnection : public net::WebSocketConnection {
 public:
  bool send(std::shared_ptr<const std::string> text) override {
    messages.push_back(json::parse(*text));
    return true;
  }
  void close(uint16_t, std::string) override {}
  uint64_t id() const override { return 7; }
  size_t queued_bytes() const override { return 0; }
  bool is_open() const override { return true; }
  std::vector<json> messages;
};

void fill(AlertStore& store, int n) {
  for (int i = 0; i < n; ++i) {
    Alert a;
    a.alert_id = fmt::format("a-{:016x}", i + 1);
    a.dedup_key = fmt::format("sensor/{}/sensor.gunshot", i);
    a.category = "sensor.gunshot";
    a.cell_token = "-";
    a.event_ids = {fmt::format("e{}", i)};
    a.sources = {"sensor"};
    a.score.priority = Priority::kP1;
    a.score.score = 0.7;
    a.count = 1;
    std::string record;
    render_alert(a, record);
    const Alert* p = &a;
    const std::string_view v = record;
    (void)store.upsert(std::span<const Alert* const>(&p, 1), std::span<const std::string_view>(&v, 1), 1000 + i);
  }
}

std::vector<json> open(AlertStream& s, std::optional<uint64_t> since, std::string stream = "") {
  auto conn = std::make_shared<RecordingConnection>();
  net::WebSocketSession session = s.open_session(Principal{"t", Role::kAnalyst}, since, std::move(stream));
  session.on_open(conn);
  session.on_close(*conn, 1000, "");
  return conn->messages;
}

TEST(AlertStream, ASnapshotStopsAtItsByteBudgetAndSaysSo) {
  QueueConfig qc;
  AlertStore store(qc);
  fill(store, 50);
  AlertStream small(store, 1000, nullptr, nullptr, 8000);
  const auto m = open(small, std::nullopt);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["type"], "snapshot");
  EXPECT_GT(m[0]["alerts"].size(), 0u);
  EXPECT_LT(m[0]["alerts"].size(), 50u);
  EXPECT_EQ(m[0]["truncated"], true);
  AlertStream roomy(store, 1000, nullptr, nullptr);
  const auto all = open(roomy, std::nullopt);
  EXPECT_EQ(all[0]["alerts"].size(), 50u);
  EXPECT_FALSE(all[0].contains("truncated"));
  AlertStream limited(store, 10, nullptr, nullptr);
  EXPECT_EQ(open(limited, std::nullopt)[0]["alerts"].size(), 10u);
}

TEST(AlertStream, AShortGapIsResumedAndALongOneGetsASnapshot) {
  QueueConfig qc;
  AlertStore store(qc);
  fill(store, 2500);
  AlertStream s(store, 100, nullptr, nullptr);
  const auto near = open(s, 2400, s.stream_id());
  ASSERT_EQ(near.size(), 1u);
  EXPECT_EQ(near[0]["type"], "changes");
  EXPECT_EQ(near[0]["changes"].size(), 100u);
  EXPECT_EQ(near[0]["changes"][0]["seq"], 2401);
  const auto far = open(s, 10, s.stream_id());
  ASSERT_EQ(far.size(), 1u);
  EXPECT_EQ(far[0]["type"], "snapshot");
  EXPECT_EQ(far[0]["reset"], true);
  EXPECT_EQ(far[0]["seq"], 2500);
}

}  // namespace alert_stream_test
}  // namespace sentinel
