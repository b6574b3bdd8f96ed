// The detection service (flow_service.h): batch mode over a watch directory
// and streaming mode against librdkafka's in-process mock cluster. Intervals
// are short (50 ms); waits poll with deadlines and never sleep for timing;
// the "file still growing" case is driven from the iteration callback, so it
// does not depend on how fast anything runs.
#include "flows/flow_service.h"
#include "flows/kafka_consumer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/keys.h"
#include "flows/csv_telemetry.h"
#include "flows/detect_run.h"
#include "flows/flow_json.h"
#include "flows/rules.h"

namespace sentinel::flows {
namespace flow_service_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

// Generous for ASan builds on a loaded machine; tests finish as soon as the
// condition holds.
constexpr auto kDeadline = 60s;

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kDeadline) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);  // a polling interval, not a guess at how long anything takes
  }
  return true;
}

const fs::path kSource = fs::path(SENTINEL_SOURCE_DIR) / "tests/data/netflows/cicids2017_machinelearningcve" /
                         "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv";

// Header plus data rows [first, first + count) of the fixture (1-based data rows).
std::string fixture_lines(size_t first, size_t count, bool with_header) {
  std::ifstream in(kSource);
  std::string line, out;
  std::getline(in, line);
  if (with_header) out += line + "\n";
  for (size_t row = 1; row < first + count && std::getline(in, line); ++row) {
    if (row >= first) out += line + "\n";
  }
  return out;
}

// Of the first 200 rows, 4 go to port 22.
constexpr size_t kRows = 200;
constexpr size_t kSshRows = 4;

const char* kSshRule =
    "title: SSH flow\nid: test-ssh\nlevel: high\ndetection:\n  ssh:\n    destination_port: 22\n  condition: ssh\n";

class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = fs::path(::testing::TempDir()) / ("sentinel_flow_service_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, const std::string& text, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(p, std::ios::binary | mode);
  out << text;
}

// Drops a finished file into the watch directory (written aside, renamed in),
// so a scan never sees half of it: the growing-file test covers that case.
void drop_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const fs::path staging = dir.path() / ("staging-" + name);
  write_file(staging, text);
  fs::rename(staging, dir.path() / "watch" / name);
}

Config batch_config(const TempDir& dir) {
  Config c;
  fs::create_directories(dir.path() / "watch");
  write_file(dir.path() / "ssh.yml", kSshRule);
  c.telemetry.watch_dir = (dir.path() / "watch").string();
  c.telemetry.batch_size = 64;
  c.detection.interval = Millis(50);
  c.detection.rules = (dir.path() / "ssh.yml").string();
  return c;
}

/// What the callbacks saw, guarded: they run on the service thread.
struct Seen {
  std::mutex mu;
  std::vector<std::string> events;
  std::vector<nlohmann::json> anomalies;
  std::vector<TelemetryIssue> dead;
  std::vector<IterationReport> iterations;

  FlowServiceCallbacks callbacks() {
    FlowServiceCallbacks cb;
    cb.on_network_event = [this](std::string_view e) {
      std::lock_guard lock(mu);
      events.emplace_back(e);
    };
    cb.on_anomaly = [this](const nlohmann::json& a) {
      std::lock_guard lock(mu);
      anomalies.push_back(a);
    };
    cb.on_dead_letter = [this](const TelemetryIssue& i) {
      std::lock_guard lock(mu);
      dead.push_back(i);
    };
    cb.on_iteration = [this](const IterationReport& r) {
      std::lock_guard lock(mu);
      iterations.push_back(r);
    };
    return cb;
  }
  size_t event_count() {
    std::lock_guard lock(mu);
    return events.size();
  }
  size_t iteration_count() {
    std::lock_guard lock(mu);
    return iterations.size();
  }
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FlowServiceBatch, DroppedCsvIsReadOnceAndItsAnomaliesBecomeNetworkEvents) {
  TempDir dir("drop");
  const Config config = batch_config(dir);
  Seen seen;
  FlowService service(config, seen.callbacks());
  EXPECT_EQ(service.mode(), FlowService::Mode::kBatch);
  service.start();
  drop_file(dir, "friday.csv", fixture_lines(1, kRows, true));

  ASSERT_TRUE(wait_until([&] { return service.stats().files == 1; }));
  FlowServiceStats s = service.stats();
  EXPECT_EQ(s.flows, kRows);
  EXPECT_EQ(s.anomalies, kSshRows);
  EXPECT_EQ(s.dead_letters, 0u);
  EXPECT_TRUE(s.engines[static_cast<size_t>(EngineId::kRules)].present);
  EXPECT_GE(s.engines[static_cast<size_t>(EngineId::kRules)].batches, 4u);  // 200 rows in batches of 64
  EXPECT_FALSE(s.engines[static_cast<size_t>(EngineId::kMl)].present);

  // A file is read once: later iterations find nothing new.
  const size_t after = seen.iteration_count();
  ASSERT_TRUE(wait_until([&] { return seen.iteration_count() >= after + 3; }));
  service.stop();
  s = service.stats();
  EXPECT_EQ(s.flows, kRows);
  EXPECT_EQ(s.files, 1u);
  EXPECT_GE(s.iterations, after + 3);

  std::vector<std::string> events;
  std::vector<nlohmann::json> anomalies;
  {
    std::lock_guard lock(seen.mu);
    events = seen.events;
    anomalies = seen.anomalies;
  }
  ASSERT_EQ(events.size(), kSshRows);
  for (const std::string& e : events) {
    const nlohmann::json j = nlohmann::json::parse(e);
    EXPECT_EQ(j["type"], "network.anomaly.test_ssh");
    EXPECT_EQ(j["source"], "network");
    EXPECT_EQ(j["specversion"], "1.0");
    EXPECT_EQ(j["data"]["dst_port"], 22.0);
    EXPECT_THAT(j["id"].get<std::string>(), ::testing::StartsWith("fa-"));
  }

  // The same records as `flows detect` writes for the same file (event
  // times of flows without a timestamp are the run's clock: left out).
  Config offline = config;
  DetectRunOptions opts;
  opts.inputs = {(dir.path() / "watch" / "friday.csv").string()};
  opts.out_dir = (dir.path() / "out").string();
  opts.workers = 1;
  run_flow_detection(offline, opts);
  const std::vector<std::string> want_events = read_lines(dir.path() / "out" / "network-events.jsonl");
  const std::vector<std::string> want_anomalies = read_lines(dir.path() / "out" / "anomalies.jsonl");
  ASSERT_EQ(want_events.size(), events.size());
  ASSERT_EQ(want_anomalies.size(), anomalies.size());
  for (size_t i = 0; i < events.size(); ++i) {
    nlohmann::json got = nlohmann::json::parse(events[i]);
    nlohmann::json want = nlohmann::json::parse(want_events[i]);
    got.erase("time");
    want.erase("time");
    EXPECT_EQ(got, want);
    EXPECT_EQ(anomalies[i], nlohmann::json::parse(want_anomalies[i]));
  }

  const std::string text = service.prometheus_text();
  EXPECT_THAT(text, HasSubstr("# TYPE sentinel_flows_flows_total counter\nsentinel_flows_flows_total 200\n"));
  EXPECT_THAT(text, HasSubstr("sentinel_flows_anomalies_total 4\n"));
  EXPECT_THAT(text, HasSubstr("sentinel_flows_engine_batches_total{engine=\"rules\"} "));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("{engine=\"ml\"}")));
  EXPECT_THAT(text, HasSubstr("# TYPE sentinel_flows_stage_seconds summary\n"));
  EXPECT_THAT(text, HasSubstr("sentinel_flows_stage_seconds_count{stage=\"features\"} "));
  EXPECT_THAT(text, HasSubstr("sentinel_flows_stage_seconds{stage=\"publish\",quantile=\"0.5\"} NaN\n"));
}

TEST(FlowServiceBatch, MaxFlowsPerIterationCapsAnIterationAndTheRestComesNext) {
  TempDir dir("cap");
  Config config = batch_config(dir);
  config.detection.max_flows_per_iteration = 50;
  config.telemetry.batch_size = 20;
  drop_file(dir, "friday.csv", fixture_lines(1, kRows, true));
  Seen seen;
  FlowService service(config, seen.callbacks());
  service.start();
  ASSERT_TRUE(wait_until([&] { return service.stats().files == 1; }));
  service.stop();

  std::vector<IterationReport> reports;
  {
    std::lock_guard lock(seen.mu);
    reports = seen.iterations;
  }
  std::vector<uint64_t> with_flows;
  uint64_t capped = 0;
  for (const IterationReport& r : reports) {
    EXPECT_LE(r.flows, 50u);
    if (r.flows > 0) with_flows.push_back(r.flows);
    if (r.capped) ++capped;
  }
  EXPECT_EQ(with_flows, (std::vector<uint64_t>{50, 50, 50, 50}));
  EXPECT_GE(capped, 3u);
  EXPECT_EQ(service.stats().capped, capped);
  EXPECT_EQ(service.stats().flows, kRows);
  EXPECT_EQ(seen.event_count(), kSshRows);
}

TEST(FlowServiceBatch, AGrowingFileWaitsUntilItsSizeIsStable) {
  TempDir dir("grow");
  const Config config = batch_config(dir);
  const fs::path file = dir.path() / "watch" / "growing.csv";
  write_file(file, fixture_lines(1, 50, true));
  constexpr uint64_t kAppends = 5;
  Seen seen;
  FlowServiceCallbacks cb = seen.callbacks();
  auto record = cb.on_iteration;
  // The writer: 10 more rows after each of the first iterations, on the
  // service's own thread between iterations, so every scan sees a new size.
  cb.on_iteration = [&, record](const IterationReport& r) {
    record(r);
    if (r.number <= kAppends) write_file(file, fixture_lines(51 + (r.number - 1) * 10, 10, false), std::ios::app);
  };
  FlowService service(config, cb);
  service.start();
  ASSERT_TRUE(wait_until([&] { return service.stats().files == 1; }));
  ASSERT_TRUE(wait_until([&] { return seen.iteration_count() >= kAppends + 4; }));
  service.stop();

  std::lock_guard lock(seen.mu);
  uint64_t total = 0;
  for (const IterationReport& r : seen.iterations) {
    // Iteration kAppends + 1 still saw the size of the last append: only the
    // one after it finds the file stable.
    if (r.number <= kAppends + 1) {
      EXPECT_EQ(r.flows, 0u) << "iteration " << r.number << " read a growing file";
    }
    total += r.flows;
  }
  EXPECT_EQ(total, 100u);
  EXPECT_EQ(service.stats().flows, 100u);
  EXPECT_EQ(service.stats().dead_letters, 0u);
}

TEST(FlowServiceBatch, BadRowsAndRefusedFilesAreDeadLetters) {
  TempDir dir("bad");
  const Config config = batch_config(dir);
  std::string text = fixture_lines(1, 10, true);
  text += "22,not-a-number\n";
  write_file(dir.path() / "watch" / "a.csv", text);
  write_file(dir.path() / "watch" / "b.csv", "Foo,Bar\n1,2\n");
  Seen seen;
  FlowService service(config, seen.callbacks());
  service.start();
  ASSERT_TRUE(wait_until([&] { return service.stats().files == 1 && service.stats().dead_letters == 2; }));
  service.stop();
  std::lock_guard lock(seen.mu);
  ASSERT_EQ(seen.dead.size(), 2u);
  EXPECT_EQ(seen.dead[0].origin, (dir.path() / "watch" / "a.csv").string() + ":12");
  EXPECT_EQ(seen.dead[1].origin, (dir.path() / "watch" / "b.csv").string());
  EXPECT_EQ(service.stats().flows, 10u);
}

// An engine that always throws: skipped for every batch, the others decide.
class ThrowingEngine final : public DetectionEngine {
 public:
  std::string_view name() const override { return "ml"; }
  Status evaluate(std::span<const FlowRecord>, std::span<EngineVerdict>, std::chrono::steady_clock::time_point) override {
    ++calls;
    throw std::runtime_error("model exploded");
  }
  nlohmann::json explain(const FlowRecord&, size_t) const override { throw std::runtime_error("no"); }
  std::atomic<int> calls{0};
};

TEST(FlowServiceBatch, AnEngineThatThrowsIsSkippedAndTheOthersStillDecide) {
  TempDir dir("throw");
  const Config config = batch_config(dir);
  EngineSet engines;
  engines.rules = RulesEngine::load(config.detection.rules);
  auto throwing = std::make_unique<ThrowingEngine>();
  ThrowingEngine* probe = throwing.get();
  engines.ml = std::move(throwing);
  Seen seen;
  FlowService service(config, std::move(engines), seen.callbacks());
  service.start();
  drop_file(dir, "friday.csv", fixture_lines(1, kRows, true));
  ASSERT_TRUE(wait_until([&] { return service.stats().files == 1; }));
  service.stop();
  const FlowServiceStats s = service.stats();
  const FlowEngineStats& ml = s.engines[static_cast<size_t>(EngineId::kMl)];
  const FlowEngineStats& rules = s.engines[static_cast<size_t>(EngineId::kRules)];
  EXPECT_TRUE(ml.present);
  EXPECT_EQ(ml.batches, 0u);
  EXPECT_EQ(ml.failed, 4u);  // 200 rows in batches of 64
  EXPECT_EQ(probe->calls.load(), 4);
  EXPECT_EQ(rules.batches, 4u);
  EXPECT_EQ(rules.failed, 0u);
  EXPECT_EQ(s.anomalies, kSshRows);
  EXPECT_EQ(seen.event_count(), kSshRows);
  EXPECT_THAT(service.prometheus_text(), HasSubstr("sentinel_flows_engine_failed_total{engine=\"ml\"} 4\n"));
}

TEST(FlowServiceConfig, StartUpErrorsNameTheKey) {
  TempDir dir("config");
  Config config = batch_config(dir);
  config.telemetry.watch_dir = (dir.path() / "missing").string();
  EXPECT_THROW(
      {
        try {
          FlowService s(config, {});
        } catch (const ConfigError& e) {
          EXPECT_THAT(e.what(), HasSubstr("telemetry.watch_dir"));
          throw;
        }
      },
      ConfigError);
  config.telemetry.watch_dir.clear();
  EXPECT_THROW(FlowService(config, {}), ConfigError);  // neither batch nor streaming
  config = batch_config(dir);
  config.kafka.brokers = "127.0.0.1:1";
  try {
    FlowService s(config, {});
    ADD_FAILURE() << "Kafka without a signing key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kafka.signing_key"));
  }
}

// ---------------------------------------------------------------------------
// Streaming against the mock cluster (see kafka_test.cpp).

class MockCluster {
 public:
  MockCluster() {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof errstr);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk_ == nullptr) throw std::runtime_error(errstr);
    cluster_ = rd_kafka_handle_mock_cluster(rk_);
    if (cluster_ == nullptr) throw std::runtime_error("mock cluster");
  }
  ~MockCluster() { rd_kafka_destroy(rk_); }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& name) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, name.c_str(), 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

std::vector<std::pair<std::string, std::string>> fast_properties() {
  return {{"retry.backoff.ms", "20"},      {"reconnect.backoff.ms", "20"}, {"reconnect.backoff.max.ms", "200"},
          {"topic.metadata.refresh.interval.ms", "500"}, {"log_level", "2"}};
}

/// Produces `values` in order to partition 0 of `topic` and waits for delivery.
void produce_all(const MockCluster& cluster, const std::string& topic, const std::vector<std::string>& values) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstraps().c_str(), errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  ASSERT_NE(rk, nullptr) << errstr;
  for (const std::string& v : values) {
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 30'000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

TEST(FlowServiceStreaming, TelemetryFromKafkaBecomesSignedAnomaliesAndBadPayloadsDeadLetters) {
  MockCluster cluster;
  const std::string telemetry = "flows.telemetry";
  for (const std::string& t : {telemetry, std::string("ai.anomalies.v1"), std::string("ai.evidence.v1"),
                              std::string("ai.policy.v1")}) {
    cluster.create_topic(t);
  }
  TempDir dir("stream");
  Config config;
  write_file(dir.path() / "ssh.yml", kSshRule);
  const KeyPairPaths keys = generate_keypair((dir.path() / "keys").string());
  config.detection.rules = (dir.path() / "ssh.yml").string();
  config.telemetry.kafka_topic = telemetry;
  config.telemetry.batch_size = 64;
  config.kafka.brokers = cluster.bootstraps();
  config.kafka.signing_key = keys.secret_path;
  config.kafka.verify_key = keys.public_path;
  config.kafka.group_id = "flow-service-test";

  // The fixture's rows as JSON records, then one payload that is not one.
  auto reader = CsvReader::open(kSource.string());
  ASSERT_TRUE(reader.ok());
  std::vector<FlowRecord> flows;
  ASSERT_TRUE(reader.value()->next_batch(flows, kRows).ok());
  ASSERT_EQ(flows.size(), kRows);
  std::vector<std::string> values;
  for (const FlowRecord& f : flows) values.push_back(flow_to_json(f));
  values.push_back(R"({"destination_port": "twenty-two"})");
  produce_all(cluster, telemetry, values);

  FlowServiceOptions options;
  options.kafka_properties = fast_properties();
  options.kafka_properties.push_back({"fetch.wait.max.ms", "20"});
  options.assign_all_partitions = true;
  Seen seen;
  FlowService service(config, seen.callbacks(), options);
  EXPECT_EQ(service.mode(), FlowService::Mode::kStreaming);
  service.start();
  ASSERT_TRUE(wait_until([&] { return service.stats().flows == kRows && service.stats().dead_letters == 1; }));
  {
    std::lock_guard lock(seen.mu);
    ASSERT_EQ(seen.dead.size(), 1u);
    EXPECT_EQ(seen.dead[0].origin, telemetry + "/0@200");
    EXPECT_THAT(seen.dead[0].reason, HasSubstr("destination_port"));
    ASSERT_EQ(seen.anomalies.size(), kSshRows);
  }
  ASSERT_TRUE(wait_until([&] { return service.stats().delivered == 2 * kSshRows + 1; }));

  ConsumerOptions co;
  co.client.brokers = cluster.bootstraps();
  co.client.properties = fast_properties();
  co.client.properties.push_back({"fetch.wait.max.ms", "20"});
  co.group_id = "verify";
  co.membership = Membership::kAssignAll;
  VerifyingConsumer consumer(co, StreamTopics::from_config(config.kafka), Verifier(load_trusted_keys(config.kafka)));
  std::vector<VerifiedMessage> got;
  const auto deadline = Clock::now() + kDeadline;
  while (got.size() < 2 * kSshRows + 1 && Clock::now() < deadline) {
    for (VerifiedMessage& m : consumer.poll(100, 100ms)) got.push_back(std::move(m));
  }
  service.stop();
  ASSERT_EQ(got.size(), 2 * kSshRows + 1);
  EXPECT_EQ(consumer.stats().verify.rejected_total(), 0u);
  std::set<std::string> anomaly_ids, evidence_ids, expected_ids;
  size_t policies = 0;
  {
    std::lock_guard lock(seen.mu);
    for (const nlohmann::json& a : seen.anomalies) expected_ids.insert(a["anomaly_id"].get<std::string>());
  }
  for (const VerifiedMessage& m : got) {
    const nlohmann::json j = nlohmann::json::parse(m.payload);
    if (m.stream == Stream::kAnomalies) {
      anomaly_ids.insert(j["anomaly_id"].get<std::string>());
      EXPECT_EQ(j["kind"], "test-ssh");
      EXPECT_THAT(j["origin"].get<std::string>(), ::testing::StartsWith(telemetry + "/0@"));
    } else if (m.stream == Stream::kEvidence) {
      evidence_ids.insert(j["anomaly_id"].get<std::string>());
    } else {
      ++policies;
      EXPECT_TRUE(j.contains("engines"));
    }
  }
  EXPECT_EQ(anomaly_ids, expected_ids);
  EXPECT_EQ(evidence_ids, expected_ids);
  EXPECT_EQ(policies, 1u);
  const FlowServiceStats s = service.stats();
  EXPECT_EQ(s.published, 2 * kSshRows);  // plus the policy, published at start
  EXPECT_EQ(s.held_back, 0u);
  EXPECT_EQ(s.publish_failed, 0u);
  EXPECT_EQ(seen.event_count(), kSshRows);
}

}  // namespace flow_service_test
}  // namespace sentinel::flows
