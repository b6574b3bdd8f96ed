// Kafka in for the flow service (DESIGN.md section 6, docs/KAFKA.md).
//
// VerifyingConsumer reads the three signed topics (anomalies, evidence,
// policy) and hands out only messages whose signature, domain, key and nonce
// pass the Verifier (signing.h); rejections are counted by reason and logged
// with ids (topic/partition@offset, key id, instance id, counter), never with
// payload content.
//
// TelemetryConsumer reads flow-record JSON from TelemetryConfig::kafka_topic
// in batches and hands the raw payload bytes and their origin to a callback;
// offsets are committed only after the callback accepted the batch, so every
// record is processed at least once (a crash re-reads the uncommitted tail).
//
// Both use librdkafka's high-level consumer (C API) with automatic commits
// off. Membership is either the consumer group (subscribe; partitions are
// balanced across members) or a fixed assignment of every partition of the
// topics (no group join; committed offsets of the group are still used and
// written), for single readers and tests.
//
// Threading: each consumer is used by one thread; stats() may be read from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "flows/kafka_publisher.h"
#include "flows/signing.h"

namespace sentinel::flows {

enum class Membership : uint8_t {
  kGroup,      ///< subscribe() with group.id: partitions balanced across the group's members
  kAssignAll,  ///< assign() every partition of the topics, starting at the group's committed offsets
};

struct ConsumerOptions {
  KafkaClientOptions client;
  std::string group_id = "sentinel-flows";
  Membership membership = Membership::kGroup;
  /// Where a partition without a committed offset starts: "earliest" or "latest".
  std::string offset_reset = "earliest";
  /// Group session timeout (librdkafka session.timeout.ms).
  std::chrono::milliseconds session_timeout = std::chrono::seconds(10);
  /// kAssignAll: how long to wait for the topics' metadata at start-up.
  std::chrono::milliseconds metadata_timeout = std::chrono::seconds(10);
};

/// One message that passed verification.
struct VerifiedMessage {
  Stream stream = Stream::kAnomalies;
  std::string key;
  std::string payload;
  NonceParts nonce;
  std::string origin;  ///< "topic/partition@offset"
};

/// Counts of a VerifyingConsumer (the verifier's decisions plus transport).
struct ConsumerStats {
  VerifyStats verify;
  uint64_t consume_errors = 0;   ///< errors librdkafka reported while consuming
  uint64_t foreign_topic = 0;    ///< messages from a topic that is none of the three (ignored)
  uint64_t commits = 0;          ///< commits that succeeded
  uint64_t commit_failures = 0;
};

class VerifyingConsumer {
 public:
  /// Subscribes to (or assigns) the three topics of `topics`. Throws
  /// std::runtime_error naming the property or topic at start-up.
  VerifyingConsumer(ConsumerOptions options, StreamTopics topics, Verifier verifier);
  ~VerifyingConsumer();
  VerifyingConsumer(const VerifyingConsumer&) = delete;
  VerifyingConsumer& operator=(const VerifyingConsumer&) = delete;

  /// Waits up to `wait` for the first message, then takes what is already
  /// fetched, up to `max_messages` in all (verified or not). Returns the
  /// verified ones in arrival order.
  std::vector<VerifiedMessage> poll(size_t max_messages, std::chrono::milliseconds wait);

  /// Commits the position after everything poll() returned so far (call it
  /// once those messages are processed: at-least-once). Synchronous.
  Status commit();

  ConsumerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One raw telemetry record as read (views valid only during the callback).
struct TelemetryMessage {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;
  std::string_view payload;

  /// Appends "topic/partition@offset" (reusing `out`'s capacity).
  void append_origin(std::string& out) const;
  std::string origin() const;
};

/// Processes one batch. Ok = done, its offsets may be committed; an error =
/// not processed: the batch is read again by the next poll_batch().
using TelemetryBatchHandler = std::function<Status(std::span<const TelemetryMessage>)>;

struct TelemetryConsumerStats {
  uint64_t batches = 0;          ///< batches the handler accepted
  uint64_t messages = 0;         ///< messages in those batches
  uint64_t handler_failures = 0; ///< batches the handler refused (re-read)
  uint64_t consume_errors = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
};

class TelemetryConsumer {
 public:
  /// Reads `topic` (TelemetryConfig::kafka_topic) in batches of at most
  /// `batch_size` (TelemetryConfig::batch_size). Throws std::runtime_error
  /// naming the property or topic at start-up.
  TelemetryConsumer(ConsumerOptions options, std::string topic, uint32_t batch_size);
  ~TelemetryConsumer();
  TelemetryConsumer(const TelemetryConsumer&) = delete;
  TelemetryConsumer& operator=(const TelemetryConsumer&) = delete;

  /// Waits up to `wait` for the first message, takes what is already fetched
  /// up to the batch size, calls `handler` once with the batch and, when it
  /// returns Ok, commits the batch's offsets (asynchronously; the outcome is
  /// counted). When the handler fails, each partition is rewound to its first
  /// offset in the batch and the handler's error returned. Returns the number
  /// of messages handled (0 when nothing arrived; the handler is then not called).
  Result<size_t> poll_batch(const TelemetryBatchHandler& handler, std::chrono::milliseconds wait);

  TelemetryConsumerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Start-up helpers from the service configuration.
ConsumerOptions consumer_options_from_config(const KafkaConfig& kafka);

}  // namespace sentinel::flows
