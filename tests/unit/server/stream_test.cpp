// WebSocket /v1/alerts/stream end to end: auth by subprotocol, snapshot, live
// changes, acknowledgement over the socket, resume by sequence number.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/config.h"
#include "net/http_client.h"
#include "net/ws_client.h"
#include "server/auth.h"
#include "server/live_service.h"

namespace sentinel {
namespace stream_test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string gunshot(const std::string& id, double lat) {
  return R"({"specversion":"1.0","id":")" + id +
         R"(","source":"sensor","type":"sensor.gunshot","time":"2026-03-01T22:15:00Z","lat":)" +
         std::to_string(lat) + R"(,"lon":-87.6298,"severity":"violent","confidence":0.9})";
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sentinel-stream-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    LiveService::Options o;
    o.out_dir = dir_.string();
    o.listen = "127.0.0.1:0";
    o.extra_admin_tokens = {{"test-admin", token_}};
    service_ = std::make_unique<LiveService>(Config{}, o);
    service_->start();
  }
  void TearDown() override {
    service_->stop();
    fs::remove_all(dir_);
  }
  std::unique_ptr<net::WsClient> connect(const std::string& target = "/v1/alerts/stream") {
    net::WsClientOptions o;
    o.subprotocols = {"sentinel.v1", "bearer." + token_};
    auto c = net::WsClient::connect("127.0.0.1", service_->port(), target, o);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    return c.ok() ? std::move(*c) : nullptr;
  }
  /// The next message of `type`, skipping others (status).
  json next(net::WsClient& c, const std::string& type) {
    for (int i = 0; i < 20; ++i) {
      auto m = c.receive(std::chrono::seconds(5));
      if (!m.ok()) {
        ADD_FAILURE() << "no '" << type << "' message: " << m.error().to_string();
        return json();
      }
      json j = json::parse(*m);
      if (j["type"] == type) return j;
    }
    ADD_FAILURE() << "no '" << type << "' message among 20";
    return json();
  }
  void post(const std::string& body) {
    auto r = net::http_request("127.0.0.1", service_->port(), "POST", "/v1/events", body,
                               {{"Authorization", "Bearer " + token_}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  fs::path dir_;
  std::string token_ = TokenStore::generate();
  std::unique_ptr<LiveService> service_;
};

TEST_F(StreamTest, RefusesAnUpgradeWithoutAValidToken) {
  net::WsClientOptions o;
  o.subprotocols = {"sentinel.v1", "bearer." + TokenStore::generate()};
  EXPECT_FALSE(net::WsClient::connect("127.0.0.1", service_->port(), "/v1/alerts/stream", o).ok());
  EXPECT_FALSE(net::WsClient::connect("127.0.0.1", service_->port(), "/v1/alerts/stream", {}).ok());
}

TEST_F(StreamTest, SnapshotThenLiveChangesThenResumeWithoutGaps) {
  post(gunshot("s1", 41.8790));
  // Wait until the first alert is in the queue so the snapshot holds it.
  for (int i = 0; i < 500; ++i) {
    auto r = net::http_request("127.0.0.1", service_->port(), "GET", "/v1/stats", {},
                               {{"Authorization", "Bearer " + token_}});
    if (json::parse(r.body)["alerts"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->subprotocol(), "sentinel.v1");
  const json snap = next(*c, "snapshot");
  ASSERT_EQ(snap["alerts"].size(), 1u);
  const uint64_t seq0 = snap["seq"];

  // A second alert 3 km away arrives live, within a second.
  const auto posted = std::chrono::steady_clock::now();
  post(gunshot("s2", 41.9100));
  const json ch = next(*c, "changes");
  EXPECT_LT(std::chrono::steady_clock::now() - posted, std::chrono::seconds(1));
  ASSERT_EQ(ch["changes"].size(), 1u);
  EXPECT_EQ(ch["changes"][0]["kind"], "new");
  EXPECT_EQ(ch["changes"][0]["seq"], seq0 + 1);
  const std::string id2 = ch["changes"][0]["alert"]["alert_id"];

  // Acknowledge over the socket: the answer, then the change for everyone.
  ASSERT_TRUE(c->send(R"({"op":"ack","alert_id":")" + id2 + "\"}").ok());
  // The reply and the broadcast change race each other: take both in any order.
  json ack, ch2;
  for (int i = 0; i < 10 && (ack.is_null() || ch2.is_null()); ++i) {
    auto m = c->receive(std::chrono::seconds(5));
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    json j = json::parse(*m);
    if (j["type"] == "ack") ack = j;
    if (j["type"] == "changes") ch2 = j;
  }
  EXPECT_EQ(ack["ok"], true) << ack.dump();
  ASSERT_FALSE(ch2.is_null());
  EXPECT_EQ(ch2["changes"][0]["kind"], "ack");
  EXPECT_EQ(ch2["changes"][0]["alert"]["acked_by"], "test-admin");
  const std::string metrics = net::http_request("127.0.0.1", service_->port(), "GET", "/metrics", {},
                                                {{"Authorization", "Bearer " + token_}}).body;
  EXPECT_NE(metrics.find("\nsentinel_ws_accepted_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nsentinel_ws_closed_slow_total 0\n"), std::string::npos);
  ASSERT_TRUE(c->send(R"({"op":"ping"})").ok());
  EXPECT_EQ(next(*c, "pong")["type"], "pong");
  ASSERT_TRUE(c->send(R"({"op":"dance"})").ok());
  EXPECT_NE(next(*c, "error")["error"].get<std::string>().find("dance"), std::string::npos);
  (void)c->close();

  // While disconnected: a third alert. Resuming from seq0 + 1 gets exactly the
  // changes after it (the ack and the new alert), no snapshot.
  post(gunshot("s3", 41.9500));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = connect("/v1/alerts/stream?since=" + std::to_string(seq0 + 1));
  ASSERT_TRUE(r);
  const json resumed = next(*r, "changes");
  ASSERT_GE(resumed["changes"].size(), 2u) << resumed.dump();
  EXPECT_EQ(resumed["changes"][0]["seq"], seq0 + 2);
  EXPECT_EQ(resumed["changes"][0]["kind"], "ack");
  EXPECT_EQ(resumed["changes"][1]["kind"], "new");
}

TEST_F(StreamTest, ResumingWithAnotherRunsPositionGetsAResetSnapshot) {
  post(gunshot("t1", 41.8790));
  auto first = connect();
  ASSERT_TRUE(first);
  const json snap = next(*first, "snapshot");
  const std::string stream = snap["stream"];
  EXPECT_FALSE(stream.empty());
  EXPECT_FALSE(snap.contains("reset"));
  // A position beyond this queue's (the server restarted, or the client
  // resumes against another process): a fresh snapshot, marked reset.
  auto ahead = connect("/v1/alerts/stream?since=999999");
  ASSERT_TRUE(ahead);
  EXPECT_EQ(next(*ahead, "snapshot")["reset"], true);
  // A position of another stream: the same.
  auto other = connect("/v1/alerts/stream?since=0&stream=not-this-one");
  ASSERT_TRUE(other);
  EXPECT_EQ(next(*other, "snapshot")["reset"], true);
  // This stream's own position: changes only.
  auto same = connect("/v1/alerts/stream?since=0&stream=" + stream);
  ASSERT_TRUE(same);
  const json changes = next(*same, "changes");
  EXPECT_EQ(changes["changes"][0]["seq"], 1);
}

}  // namespace stream_test
}  // namespace sentinel
