// The network-flow detection service (DESIGN.md section 6, "Loop
// semantics"): telemetry in, the Detector (three engines and the vote) over
// batches, each anomaly out as evidence, signed Kafka messages (through the
// publish rate limiter) and a CloudEvents `network` event for the alert
// pipeline.
//
// Two modes, chosen by the configuration:
//  - Batch (telemetry.watch_dir set): one iteration every detection.interval,
//    measured start to start; an iteration that runs past the interval is
//    counted as an overrun and the next starts at once. Each iteration scans
//    the directory (recursively, *.csv, *.json, *.jsonl, *.ndjson) and reads
//    the files that are new by (path, size, mtime) and whose size and mtime
//    have been stable since the previous iteration (a file still being written
//    waits), at most detection.max_flows_per_iteration flows (0 = no cap) in
//    batches of telemetry.batch_size, and stops early when detection.timeout
//    has passed. A file not finished keeps its open reader and position: the
//    next iteration continues where this one stopped. A file whose size or
//    mtime changes after it was read is new again and read from its start
//    (drop files in whole, e.g. write then rename).
//  - Streaming (no watch_dir; kafka.brokers and telemetry.kafka_topic set):
//    TelemetryConsumer batches of flow JSON (flow_json.h), no cap; a payload
//    that does not decode is a dead letter "topic/partition@offset".
// Kafka publishing (anomalies, evidence, policy at start) whenever
// kafka.brokers is set; kafka.signing_key is then required.
//
// Lifecycle: construct (builds engines, Detector, Kafka clients; throws
// ConfigError / std::runtime_error naming the key or file), start() once,
// stop() (or the destructor): stops the loop, drains the publish backlog and
// flushes the producer within FlowServiceOptions::stop_flush_timeout.
//
// Threading: the loop runs on the service's own thread, which also calls
// every callback (they must be thread-safe against the caller's other
// threads and should not block for long). stats() and prometheus_text() may
// be called from any thread; their counters are refreshed after every
// iteration (streaming: every 100 ms and whenever the topic is idle).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/config.h"
#include "core/metrics.h"
#include "flows/detector.h"
#include "flows/telemetry.h"

namespace sentinel::flows {

/// What one batch-mode iteration did (FlowServiceCallbacks::on_iteration).
struct IterationReport {
  uint64_t number = 0;       ///< 1-based
  uint64_t flows = 0;        ///< flows judged in this iteration
  uint64_t anomalies = 0;
  uint64_t files_opened = 0; ///< files taken up (stable and new)
  uint64_t files_done = 0;   ///< files read to their end
  bool capped = false;       ///< stopped at max_flows_per_iteration with input left
  bool timed_out = false;    ///< stopped at detection.timeout with input left
  std::chrono::nanoseconds elapsed{0};
};

struct FlowServiceCallbacks {
  /// Each anomaly as a CloudEvents `network` event of type
  /// network.anomaly.<kind> (the lines of `flows detect`'s network-events.jsonl).
  std::function<void(std::string_view cloudevent_json)> on_network_event;
  /// Optional: each anomaly object (as published to the anomalies topic).
  std::function<void(const nlohmann::json& anomaly)> on_anomaly;
  /// Optional: each skipped row, record, payload or file (also counted and logged).
  std::function<void(const TelemetryIssue& issue)> on_dead_letter;
  /// Optional: after each batch-mode iteration.
  std::function<void(const IterationReport& report)> on_iteration;
};

/// Settings that are not part of the service configuration.
struct FlowServiceOptions {
  /// Extra librdkafka properties for every client (tests: fast retries).
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  /// Streaming: assign every partition of the telemetry topic instead of
  /// joining the consumer group (single readers, tests).
  bool assign_all_partitions = false;
  /// Streaming: how long one poll waits for telemetry (bounds stop()'s latency).
  std::chrono::milliseconds poll_wait{100};
  /// stop(): the limit for draining the publish backlog and flushing the producer.
  std::chrono::milliseconds stop_flush_timeout{10'000};
};

struct FlowEngineStats {
  bool present = false;
  uint64_t batches = 0;      ///< batches it decided
  uint64_t over_budget = 0;  ///< batches skipped: past detection.engine_budget
  uint64_t failed = 0;       ///< batches skipped: error or exception
  HistogramSnapshot time;    ///< per batch
};

/// A snapshot of the service's counters (for /metrics).
struct FlowServiceStats {
  uint64_t iterations = 0;   ///< batch iterations, or streaming batches handled
  uint64_t overruns = 0;     ///< iterations that ran past detection.interval
  uint64_t capped = 0;       ///< iterations stopped by max_flows_per_iteration
  uint64_t timed_out = 0;    ///< iterations stopped by detection.timeout
  uint64_t files = 0;        ///< files read to their end
  uint64_t flows = 0;
  uint64_t anomalies = 0;
  uint64_t dead_letters = 0; ///< rows, records, payloads and files skipped
  std::array<FlowEngineStats, kEngineCount> engines;  ///< indexed by EngineId
  uint64_t published = 0;    ///< messages handed to the producer
  uint64_t held_back = 0;    ///< messages waiting for the rate limit, plus those dropped from a full backlog
  uint64_t publish_dropped = 0;
  uint64_t delivered = 0;    ///< acknowledged by the cluster
  uint64_t publish_failed = 0;  ///< delivery failed (incl. abandoned at stop)
  HistogramSnapshot load;      ///< batch mode: per directory scan and per file opened
  HistogramSnapshot features;  ///< per batch: read + parse (CSV/JSON) or decode (Kafka)
  HistogramSnapshot vote;      ///< per batch
  HistogramSnapshot evidence;  ///< per anomaly
  HistogramSnapshot publish;   ///< per anomaly: queue + pump
};

class FlowService {
 public:
  using Callbacks = FlowServiceCallbacks;
  enum class Mode : uint8_t { kBatch, kStreaming };

  /// Builds the engines of `config` (build_engines).
  FlowService(const Config& config, Callbacks callbacks, FlowServiceOptions options = {});
  /// With given engines (tests inject their own).
  FlowService(const Config& config, EngineSet engines, Callbacks callbacks, FlowServiceOptions options = {});
  ~FlowService();
  FlowService(const FlowService&) = delete;
  FlowService& operator=(const FlowService&) = delete;

  /// Publishes the policy message (with Kafka) and starts the loop thread.
  /// Once; throws std::logic_error when called again.
  void start();
  /// Stops and joins the loop, then drains and flushes the publisher within
  /// stop_flush_timeout. Idempotent.
  void stop();

  Mode mode() const;
  FlowServiceStats stats() const;
  /// The stats as Prometheus text format 0.0.4 (sentinel_flows_* families).
  std::string prometheus_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::flows
