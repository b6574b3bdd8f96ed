// HTTP ingest end to end: `sentinel run`'s service on an ephemeral port.
#include "server/live_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <sstream>
#include <thread>

#include "core/config.h"
#include "net/http_client.h"
#include "server/auth.h"

namespace sentinel {
namespace live_service_test {

namespace fs = std::filesystem;

std::string event(const std::string& id, const std::string& time = "2026-03-01T22:14:05Z") {
  return R"({"specversion":"1.0","id":")" + id + R"(","source":"cad","type":"cad.call.weapon","time":")" + time +
         R"(","lat":41.8781,"lon":-87.6298,"severity":"violent","confidence":0.9})";
}

class LiveServiceTest : public ::testing::Test {
 protected:
  void start(Config config) {
    dir_ = fs::temp_directory_path() / ("sentinel-live-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    LiveService::Options o;
    o.out_dir = dir_.string();
    o.listen = "127.0.0.1:0";
    o.extra_admin_tokens = {{"test-admin", token_}};
    service_ = std::make_unique<LiveService>(config, o);
    service_->start();
  }
  void TearDown() override {
    if (service_) service_->stop();
    fs::remove_all(dir_);
  }
  net::HttpResponse get(const std::string& target) {
    return net::http_request("127.0.0.1", service_->port(), "GET", target, {}, auth());
  }
  net::HttpHeaders auth() const { return {{"Authorization", "Bearer " + token_}}; }
  net::HttpResponse post(const std::string& body) {
    return net::http_request("127.0.0.1", service_->port(), "POST", "/v1/events", body, auth());
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
  std::string token_ = TokenStore::generate();
  std::unique_ptr<LiveService> service_;
};

TEST_F(LiveServiceTest, AcceptsObjectArrayAndNdjson) {
  start(Config{});
  EXPECT_EQ(post(event("a1")).status, 200);
  auto r = post("[" + event("a2") + "," + event("a3") + "]");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("accepted":2)"), std::string::npos) << r.body;
  r = post(event("a4") + "\n" + event("a5") + "\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("accepted":2)"), std::string::npos) << r.body;
  // A re-delivered event is accepted by HTTP but processed once.
  EXPECT_EQ(post(event("a1")).status, 200);
  service_->stop();
  // Every event reached the windows: one tumbling window holds all five.
  EXPECT_NE(read("windows.jsonl").find(R"("kind":"tumbling")"), std::string::npos);
  EXPECT_NE(read("windows.jsonl").find(R"("count":5)"), std::string::npos) << read("windows.jsonl");
}

TEST_F(LiveServiceTest, MalformedEventIs400NamingFieldAndReason) {
  start(Config{});
  auto r = post(R"({"id":"b1","source":"cad","type":"cad.call.weapon","time":"2026-03-01T22:14:05Z","confidence":1.7})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"confidence")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("[0, 1]"), std::string::npos) << r.body;
  // In a batch, the good element is processed and the bad one named by its line.
  r = post(event("b2") + "\n" + R"({"id":"b3","source":"cad","type":"cad.call.weapon"})" + "\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("accepted":1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("line":2)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("field":"time")"), std::string::npos) << r.body;
  EXPECT_EQ(post("this is not json").status, 400);
  service_->stop();
  const std::string dead = read("dead-letter.jsonl");
  EXPECT_NE(dead.find(R"("input":"http")"), std::string::npos) << dead;
  EXPECT_NE(dead.find("confidence"), std::string::npos) << dead;
}

TEST_F(LiveServiceTest, AnswerCountsDuplicatesAndLateEvents) {
  start(Config{});
  EXPECT_EQ(post(event("d1", "2026-03-01T22:14:05Z")).status, 200);
  auto r = post(event("d1", "2026-03-01T22:14:05Z") + "\n" + event("d2", "2026-03-01T21:00:00Z") + "\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"accepted":0,"duplicates":1,"late":1,"rejected":0})");
  service_->stop();
  EXPECT_NE(read("late.jsonl").find(R"("id":"d2")"), std::string::npos) << read("late.jsonl");
}

TEST_F(LiveServiceTest, OperationalEndpoints) {
  start(Config{});
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(post(event("m1")).status, 200);
  EXPECT_EQ(post("nope").status, 400);
  const auto metrics = get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.content_type.find("text/plain"), std::string::npos);
  for (const char* series : {"sentinel_events_total 1", "sentinel_dead_letters_total 1",
                             "sentinel_stage_latency_seconds{stage=\"windows\",shard=\"0\",quantile=\"0.99\"}",
                             "sentinel_degraded_mode 0", "sentinel_backlog_events"}) {
    EXPECT_NE(metrics.body.find(series), std::string::npos) << series << "\n" << metrics.body;
  }
  const auto global = get("/v1/windows/global");
  EXPECT_EQ(global.status, 200);
  EXPECT_NE(global.body.find(R"("category":"cad.call.weapon","count":1)"), std::string::npos) << global.body;
}

TEST_F(LiveServiceTest, EventFarInTheFutureIs400ClockSkew) {
  start(Config{});
  auto r = post(event("future", "2099-01-01T00:00:00Z"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"time")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ingest.max_clock_skew"), std::string::npos) << r.body;
  EXPECT_EQ(post(event("now-ish")).status, 200);
}

TEST_F(LiveServiceTest, OversizedBodyIs413) {
  Config c;
  c.server.max_body_bytes = 4096;
  start(c);
  std::string big = "[";
  for (int i = 0; i < 100; ++i) big += (i ? "," : "") + event("c" + std::to_string(i));
  big += "]";
  auto r = post(big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("4096"), std::string::npos) << r.body;
  EXPECT_EQ(post(event("small")).status, 200);  // the service goes on
}

TEST_F(LiveServiceTest, FullPipelineAnswers503WithRetryAfter) {
  Config c;
  c.pipeline.shards = 1;
  c.pipeline.queue_batches = 2;
  c.server.threads = 4;
  start(c);
  // Each body carries its own ids so accepted events are never duplicates.
  auto body = [](int client, int round) {
    std::string out;
    const std::string prefix = std::to_string(client) + "-" + std::to_string(round) + "-x";
    for (int i = 0; i < 4000; ++i) out += event(prefix + std::to_string(i), "2026-03-01T22:14:05Z") + "\n";
    return out;
  };
  std::atomic<int> busy{0}, ok{0};
  std::atomic<bool> retry_after_seen{false};
  std::vector<std::thread> clients;
  // Bounded in time too: under the sanitizers one body takes seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int k = 0; k < 40 && busy.load() == 0 && std::chrono::steady_clock::now() < deadline; ++k) {
        auto r = post(body(t, k));
        if (r.status == 503) {
          ++busy;
          if (!r.header("retry-after").empty()) retry_after_seen = true;
        } else if (r.status == 200) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : clients) th.join();
  if (busy.load() == 0) GTEST_SKIP() << "the shard kept up with 4 clients on this machine; no 503 to check";
  EXPECT_TRUE(retry_after_seen.load());
  service_->stop();
}


TEST_F(LiveServiceTest, PostedSensorEventRaisesAVerifiedAlert) {
  start(Config{});
  const std::string gunshot =
      R"({"specversion":"1.0","id":"g1","source":"sensor","type":"sensor.gunshot","time":"2026-03-01T22:15:00Z",)"
      R"("lat":41.8790,"lon":-87.6298,"severity":"violent","confidence":0.9})";
  EXPECT_EQ(post(event("c1")).status, 200);  // a CAD weapon call 100 m away corroborates it
  EXPECT_EQ(post(gunshot).status, 200);
  // The alert stage decides on the merger thread, after the answer: wait for it.
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    seen = get("/metrics").body.find("\nsentinel_alerts_total 1\n") != std::string::npos;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen) << get("/metrics").body;
  service_->stop();
  const std::string alerts = read("alerts.jsonl");
  EXPECT_NE(alerts.find(R"("type":"sensor","status":"alert")"), std::string::npos) << alerts;
  EXPECT_NE(alerts.find(R"("verified":true)"), std::string::npos) << alerts;
  EXPECT_NE(alerts.find(R"("sources":["cad","sensor"],"event_ids":["g1","c1"])"), std::string::npos) << alerts;
}


TEST_F(LiveServiceTest, ModelPastItsBudgetLetsWindowsThroughUnscored) {
  Config config;
  config.ml.budget = Millis(0);  // every window finds the budget spent
  start(config);
  EXPECT_EQ(post(event("w1", "2026-03-01T22:01:00Z")).status, 200);
  // Ten minutes later by event time: the watermark passes the first window's end.
  EXPECT_EQ(post(event("w2", "2026-03-01T22:11:00Z")).status, 200);
  bool seen = false;
  std::string metrics;
  for (int i = 0; i < 500 && !seen; ++i) {
    metrics = get("/metrics").body;
    seen = metrics.find("\nsentinel_unscored_windows_total 0\n") == std::string::npos &&
           metrics.find("\nsentinel_unscored_windows_total ") != std::string::npos;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen) << metrics;
  EXPECT_NE(metrics.find("\nsentinel_windows_scored_total 0\n"), std::string::npos) << metrics;
  service_->stop();
  // The window itself was still counted and written: unscored, not dropped.
  EXPECT_NE(read("windows.jsonl").find(R"("kind":"tumbling","start":"2026-03-01T22:00:00Z")"), std::string::npos)
      << read("windows.jsonl");
}

}  // namespace live_service_test
}  // namespace sentinel
