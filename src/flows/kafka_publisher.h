// Signed detection messages out to Kafka (DESIGN.md section 6, docs/KAFKA.md).
//
// KafkaPublisher wraps one idempotent librdkafka producer (C API; acks=all,
// enable.idempotence=true) behind a token-bucket rate limiter. publish() signs
// the payload (signing.h), hands it to librdkafka's bounded queue and returns
// at once: a full queue or an empty bucket is an error Result, counted, never
// a wait. Delivery reports are served by the publisher's own poll thread and
// counted (delivered, failed by reason). shutdown() flushes with a time limit
// and counts what it had to abandon.
//
// Also here: the stream -> topic table and the librdkafka plumbing (client
// properties, logging into spdlog) shared with kafka_consumer.cpp.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "flows/signing.h"

namespace sentinel::flows {

/// The configured topic of each stream.
class StreamTopics {
 public:
  StreamTopics() = default;
  StreamTopics(std::string anomalies, std::string evidence, std::string policy);
  static StreamTopics from_config(const KafkaConfig& config);

  const std::string& topic(Stream stream) const { return names_[static_cast<size_t>(stream)]; }
  /// The stream whose topic is `topic`; nullopt for any other topic.
  std::optional<Stream> stream_of(std::string_view topic) const;
  /// Start-up check: every topic named and no two streams sharing one (a
  /// consumer could not tell their messages apart). Throws std::runtime_error
  /// naming the configuration keys.
  void validate() const;

 private:
  std::array<std::string, kStreamCount> names_;
};

/// A token bucket: `rate` tokens per second, at most `burst` banked; starts
/// full. Not thread-safe (the publisher guards it). Hand-written because it is
/// a dozen lines; src/server/auth.h has a per-principal variant with debt that
/// flows must not depend on.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  /// Throws std::invalid_argument unless rate > 0 and burst >= 1.
  TokenBucket(double rate_per_second, double burst);
  /// Takes one token when available at `now`.
  bool try_take(Clock::time_point now);
  double level() const { return level_; }

 private:
  double rate_;
  double burst_;
  double level_;
  std::optional<Clock::time_point> at_;
};

/// librdkafka client properties: the bootstrap list plus any `key=value` the
/// caller adds (tests set timeouts; operators may set security.protocol...).
struct KafkaClientOptions {
  std::string brokers;
  std::vector<std::pair<std::string, std::string>> properties;
};

struct PublisherOptions {
  KafkaClientOptions client;
  StreamTopics topics;
  double publish_rate = 1000;  ///< messages per second (token bucket)
  double publish_burst = 5000;
  /// librdkafka's queue bound (queue.buffering.max.messages): past it publish() fails.
  uint32_t max_queued_messages = 100'000;
  /// How long librdkafka keeps retrying one message before reporting it failed.
  std::chrono::milliseconds delivery_timeout = std::chrono::seconds(60);
  /// What the destructor gives shutdown() to flush.
  std::chrono::milliseconds flush_timeout = std::chrono::seconds(10);
  /// Injectable for tests of the rate limiter.
  std::function<TokenBucket::Clock::time_point()> clock;

  /// From the service configuration: brokers and topics from `kafka`, rate
  /// and burst from `detection`.
  static PublisherOptions from_config(const KafkaConfig& kafka, const DetectionConfig& detection);
};

/// Counts since the publisher started. `failure_reasons` maps librdkafka's
/// error name (e.g. "_MSG_TIMED_OUT", "_PURGE_QUEUE") to how many messages failed with it.
struct PublisherStats {
  uint64_t enqueued = 0;      ///< accepted by publish()
  uint64_t delivered = 0;     ///< acknowledged by all in-sync replicas
  uint64_t failed = 0;        ///< delivery report with an error (incl. abandoned at shutdown)
  uint64_t rate_limited = 0;  ///< refused by the token bucket
  uint64_t queue_full = 0;    ///< refused because librdkafka's queue was full
  uint64_t refused = 0;       ///< refused for another reason (fatal producer error, unknown topic...)
  uint64_t client_errors = 0; ///< errors librdkafka reported about the cluster (broker unreachable...); it retries
  std::array<uint64_t, kStreamCount> delivered_per_stream{};
  std::map<std::string, uint64_t> failure_reasons;
  uint64_t in_flight = 0;  ///< queued or awaiting acknowledgement now
};

/// Lifecycle: construct (throws std::runtime_error naming the key or property
/// on bad options: brokers, topics, rate, librdkafka properties),
/// publish() from any number of threads, shutdown() once (or let the
/// destructor do it). `signer` is borrowed and must outlive the publisher.
/// Threading: every method is thread-safe; delivery reports are counted on
/// the publisher's poll thread; a publish() racing shutdown() either gets in
/// before it or is refused.
class KafkaPublisher {
 public:
  KafkaPublisher(PublisherOptions options, Signer& signer);
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  /// Signs `payload` for `stream` and queues it with `key` (a stable id, e.g.
  /// the flow or anomaly id, so one id's messages share a partition). Never
  /// blocks on the network. Errors (field "kafka.publish"): rate limited,
  /// queue full, producer failed fatally (a new publisher is needed), or
  /// called after shutdown().
  Status publish(Stream stream, std::string_view key, std::string_view payload);

  /// Waits up to `timeout` for every queued message's delivery report; then
  /// abandons the rest (counted as failed, reason "_PURGE_QUEUE" or
  /// "_PURGE_INFLIGHT") and stops. Error when anything was abandoned. Later
  /// calls return Ok and do nothing.
  Status shutdown(std::chrono::milliseconds timeout);

  PublisherStats stats() const;
  /// True once librdkafka raised a fatal error (the idempotence guarantee can
  /// no longer hold); every publish() then fails.
  bool fatal() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace kafka_detail {
/// Builds a librdkafka configuration (rd_kafka_conf_t*, returned as void* to
/// keep librdkafka out of this header) with bootstrap.servers, the caller's
/// properties, `defaults` applied first, and logging routed into the spdlog
/// logger "kafka". Throws std::runtime_error naming the property it rejects.
void* make_conf(const KafkaClientOptions& options,
                const std::vector<std::pair<std::string, std::string>>& defaults);
/// The "kafka" spdlog logger (created on first use).
void log_warn(const std::string& message);
void log_info(const std::string& message);
void log_error(const std::string& message);
/// True for the counts worth a log line: the first ten, then every thousandth,
/// so a storm of one failure cannot flood the log.
inline bool should_log(uint64_t count) { return count <= 10 || count % 1000 == 0; }
}  // namespace kafka_detail

}  // namespace sentinel::flows
