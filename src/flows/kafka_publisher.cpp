#include "flows/kafka_publisher.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>

namespace sentinel::flows {

StreamTopics::StreamTopics(std::string anomalies, std::string evidence, std::string policy)
    : names_{std::move(anomalies), std::move(evidence), std::move(policy)} {}

StreamTopics StreamTopics::from_config(const KafkaConfig& config) {
  return StreamTopics(config.topic_anomalies, config.topic_evidence, config.topic_policy);
}

std::optional<Stream> StreamTopics::stream_of(std::string_view topic) const {
  for (Stream s : kAllStreams)
    if (this->topic(s) == topic) return s;
  return std::nullopt;
}

void StreamTopics::validate() const {
  auto key = [](Stream s) { return "kafka.topic_" + std::string(stream_name(s)); };
  for (Stream s : kAllStreams) {
    if (topic(s).empty()) throw std::runtime_error(key(s) + ": empty topic name");
    for (Stream t : kAllStreams)
      if (static_cast<int>(t) > static_cast<int>(s) && topic(t) == topic(s))
        throw std::runtime_error(key(t) + ": same topic as " + key(s) + " (" + topic(s) +
                                 "); each stream needs its own topic");
  }
}

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst), level_(burst) {
  if (!(rate_per_second > 0) || !(burst >= 1))
    throw std::invalid_argument("token bucket: rate must be > 0 and burst >= 1");
}

bool TokenBucket::try_take(Clock::time_point now) {
  if (at_ && now > *at_)
    level_ = std::min(burst_, level_ + rate_ * std::chrono::duration<double>(now - *at_).count());
  if (!at_ || now > *at_) at_ = now;
  if (level_ < 1) return false;
  level_ -= 1;
  return true;
}

PublisherOptions PublisherOptions::from_config(const KafkaConfig& kafka, const DetectionConfig& detection) {
  PublisherOptions options;
  options.client.brokers = kafka.brokers;
  options.topics = StreamTopics::from_config(kafka);
  options.publish_rate = detection.publish_rate;
  options.publish_burst = detection.publish_burst;
  return options;
}

namespace kafka_detail {

namespace {

std::shared_ptr<spdlog::logger> kafka_logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("kafka")) return existing;
    auto created = spdlog::default_logger()->clone("kafka");
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Registered by another thread in between: use that one.
      if (auto existing = spdlog::get("kafka")) return existing;
    }
    return created;
  }();
  return logger;
}

// librdkafka logs with syslog levels from its own threads; spdlog is thread-safe.
void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  const spdlog::level::level_enum lvl = level <= 3   ? spdlog::level::err
                                        : level == 4 ? spdlog::level::warn
                                        : level <= 6 ? spdlog::level::info
                                                     : spdlog::level::debug;
  kafka_logger()->log(lvl, "{} {}: {}", rk ? rd_kafka_name(rk) : "rdkafka", facility, text);
}

void set_or_throw(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error("kafka property '" + key + "': " + errstr);
  }
}

}  // namespace

void* make_conf(const KafkaClientOptions& options,
                const std::vector<std::pair<std::string, std::string>>& defaults) {
  if (options.brokers.empty()) throw std::runtime_error("kafka.brokers: no bootstrap brokers configured");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // An idle broker closing its connection is routine, not worth an error line.
  set_or_throw(conf, "log.connection.close", "false");
  for (const auto& [key, value] : defaults) set_or_throw(conf, key, value);
  set_or_throw(conf, "bootstrap.servers", options.brokers);
  for (const auto& [key, value] : options.properties) set_or_throw(conf, key, value);
  rd_kafka_conf_set_log_cb(conf, log_callback);
  return conf;
}

void log_warn(const std::string& message) { kafka_logger()->warn("{}", message); }
void log_info(const std::string& message) { kafka_logger()->info("{}", message); }
void log_error(const std::string& message) { kafka_logger()->error("{}", message); }

}  // namespace kafka_detail

struct KafkaPublisher::Impl {
  PublisherOptions options;
  Signer& signer;
  rd_kafka_t* rk = nullptr;

  std::mutex bucket_mutex;
  TokenBucket bucket;

  std::atomic<uint64_t> enqueued{0}, delivered{0}, failed{0}, rate_limited{0}, queue_full{0}, refused{0};
  std::array<std::atomic<uint64_t>, kStreamCount> delivered_per_stream{};
  mutable std::mutex reasons_mutex;
  std::map<std::string, uint64_t> failure_reasons;  // guarded by reasons_mutex

  std::atomic<bool> fatal{false};
  std::atomic<uint64_t> client_errors{0};
  std::atomic<bool> stopping{false};
  // Lock order: shutdown_mutex, then handle_mutex. publish() holds
  // handle_mutex shared while it uses `rk`; shutdown() takes it exclusively
  // only to flip `shut_down` and to destroy `rk`, never while flushing, so a
  // publish() racing shutdown() waits at most for another publish().
  std::mutex shutdown_mutex;
  mutable std::shared_mutex handle_mutex;
  bool shut_down = false;  // guarded by handle_mutex
  std::thread poller;

  Impl(PublisherOptions opts, Signer& s)
      : options(std::move(opts)), signer(s), bucket(checked_rate(options), options.publish_burst) {}

  static double checked_rate(const PublisherOptions& o) {
    if (!(o.publish_rate > 0)) throw std::runtime_error("detection.publish_rate: must be greater than 0");
    if (!(o.publish_burst >= 1)) throw std::runtime_error("detection.publish_burst: must be at least 1");
    return o.publish_rate;
  }

  TokenBucket::Clock::time_point now() const {
    return options.clock ? options.clock() : TokenBucket::Clock::now();
  }

  // Runs on whichever thread serves rd_kafka_poll / rd_kafka_flush.
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    const auto stream_index = reinterpret_cast<uintptr_t>(msg->_private);
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->delivered.fetch_add(1, std::memory_order_relaxed);
      if (stream_index < kStreamCount)
        self->delivered_per_stream[stream_index].fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const uint64_t n = self->failed.fetch_add(1, std::memory_order_relaxed) + 1;
    {
      std::lock_guard lock(self->reasons_mutex);
      ++self->failure_reasons[rd_kafka_err2name(msg->err)];
    }
    if (kafka_detail::should_log(n)) {
      // Ids only: the key is the flow/anomaly id; the payload never goes to logs.
      const std::string key(static_cast<const char*>(msg->key), msg->key_len);
      kafka_detail::log_warn("delivery failed (" + std::to_string(n) + " so far): topic " +
                             rd_kafka_topic_name(msg->rkt) + " key " + key + ": " + rd_kafka_err2str(msg->err));
    }
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char detail[512];
      const rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, detail, sizeof detail);
      self->fatal.store(true);
      kafka_detail::log_error(std::string("publisher: fatal producer error ") + rd_kafka_err2name(code) + ": " +
                              detail + "; a new publisher is needed");
      return;
    }
    // Transport errors (brokers down) repeat while the condition lasts;
    // librdkafka retries on its own, so these are warnings.
    const uint64_t n = self->client_errors.fetch_add(1, std::memory_order_relaxed) + 1;
    if (kafka_detail::should_log(n))
      kafka_detail::log_warn(std::string("publisher: ") + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) +
                             ": " + reason);
  }

  void poll_loop() {
    while (!stopping.load(std::memory_order_acquire)) rd_kafka_poll(rk, 100);
  }
};

KafkaPublisher::KafkaPublisher(PublisherOptions options, Signer& signer)
    : impl_(std::make_unique<Impl>(std::move(options), signer)) {
  Impl& im = *impl_;
  im.options.topics.validate();
  auto* conf = static_cast<rd_kafka_conf_t*>(kafka_detail::make_conf(
      im.options.client, {{"client.id", "sentinel-flows-publisher"},
                          {"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"queue.buffering.max.messages", std::to_string(im.options.max_queued_messages)},
                          {"message.timeout.ms", std::to_string(im.options.delivery_timeout.count())}}));
  rd_kafka_conf_set_opaque(conf, &im);
  rd_kafka_conf_set_dr_msg_cb(conf, &Impl::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &Impl::on_error);
  char errstr[512];
  im.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (im.rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new only takes ownership on success
    throw std::runtime_error(std::string("kafka publisher: ") + errstr);
  }
  im.poller = std::thread([&im] { im.poll_loop(); });
}

KafkaPublisher::~KafkaPublisher() {
  (void)shutdown(impl_->options.flush_timeout);
}

Status KafkaPublisher::publish(Stream stream, std::string_view key, std::string_view payload) {
  Impl& im = *impl_;
  std::shared_lock handle_lock(im.handle_mutex);
  if (im.shut_down) return make_error("kafka.publish", "publisher is shut down");
  if (im.fatal.load(std::memory_order_relaxed)) {
    im.refused.fetch_add(1, std::memory_order_relaxed);
    return make_error("kafka.publish", "producer failed fatally; a new publisher is needed");
  }
  {
    std::lock_guard lock(im.bucket_mutex);
    if (!im.bucket.try_take(im.now())) {
      im.rate_limited.fetch_add(1, std::memory_order_relaxed);
      return make_error("kafka.publish", "rate limited (detection.publish_rate)");
    }
  }
  const SignedHeaders signed_headers = im.signer.sign(stream, payload);
  const std::string& topic = im.options.topics.topic(stream);

  rd_kafka_vu_t vus[10];
  size_t n = 0;
  auto header = [&](std::string_view name, const void* value, size_t size) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vus[n].u.header.name = name.data();  // the kHeader* constants are NUL-terminated literals
    vus[n].u.header.val = value;
    vus[n].u.header.size = static_cast<ssize_t>(size);
    ++n;
  };
  vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[n++].u.cstr = topic.c_str();
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = const_cast<char*>(key.data());
  vus[n++].u.mem.size = key.size();
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<char*>(payload.data());
  vus[n++].u.mem.size = payload.size();
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;  // the caller's buffers are not ours to keep
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(stream));
  const std::string_view domain = stream_domain(stream);
  header(kHeaderVersion, kSignatureVersion.data(), kSignatureVersion.size());
  header(kHeaderDomain, domain.data(), domain.size());
  header(kHeaderNonce, signed_headers.nonce.data(), signed_headers.nonce.size());
  header(kHeaderSignature, signed_headers.signature.data(), signed_headers.signature.size());
  header(kHeaderKeyId, signed_headers.key_id.data(), signed_headers.key_id.size());

  // Counted before the call so that delivered + failed never exceeds it, even
  // when the delivery report wins the race against this thread.
  im.enqueued.fetch_add(1);
  rd_kafka_error_t* error = rd_kafka_produceva(im.rk, vus, n);
  if (error == nullptr) return Ok{};
  im.enqueued.fetch_sub(1);
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  std::string reason = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    im.queue_full.fetch_add(1, std::memory_order_relaxed);
    return make_error("kafka.publish", "queue full (" + std::to_string(im.options.max_queued_messages) +
                                           " messages awaiting delivery)");
  }
  im.refused.fetch_add(1, std::memory_order_relaxed);
  return make_error("kafka.publish", "topic " + topic + ": " + reason);
}

Status KafkaPublisher::shutdown(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  std::lock_guard lock(im.shutdown_mutex);
  {
    std::unique_lock handle_lock(im.handle_mutex);
    if (im.shut_down) return Ok{};
    im.shut_down = true;
  }
  im.stopping.store(true, std::memory_order_release);
  rd_kafka_yield(im.rk);
  if (im.poller.joinable()) im.poller.join();

  // rd_kafka_flush serves the delivery reports on this thread. Progress is
  // judged by this publisher's own message counts: rd_kafka_outq_len also
  // counts librdkafka's internal requests, which never drain while the
  // brokers are unreachable.
  auto undelivered = [&im] {
    return im.enqueued.load() - im.delivered.load() - im.failed.load();
  };
  rd_kafka_flush(im.rk, static_cast<int>(std::max<int64_t>(0, timeout.count())));
  const uint64_t left = undelivered();
  if (left > 0) {
    // Purged messages get a delivery report with a _PURGE_* error at the next
    // poll, which counts them as failed.
    rd_kafka_purge(im.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (undelivered() > 0 && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(im.rk, 20);
  }
  const PublisherStats s = stats();
  {
    std::unique_lock handle_lock(im.handle_mutex);
    rd_kafka_destroy(im.rk);
    im.rk = nullptr;
  }
  if (left > 0) {
    kafka_detail::log_warn("publisher: shut down with " + std::to_string(left) + " messages undelivered after " +
                           std::to_string(timeout.count()) + " ms (" + std::to_string(s.delivered) +
                           " delivered, " + std::to_string(s.failed) + " failed in total)");
    return make_error("kafka.publish", std::to_string(left) + " messages abandoned at shutdown");
  }
  return Ok{};
}

PublisherStats KafkaPublisher::stats() const {
  const Impl& im = *impl_;
  PublisherStats s;
  s.enqueued = im.enqueued.load(std::memory_order_relaxed);
  s.delivered = im.delivered.load(std::memory_order_relaxed);
  s.failed = im.failed.load(std::memory_order_relaxed);
  s.rate_limited = im.rate_limited.load(std::memory_order_relaxed);
  s.queue_full = im.queue_full.load(std::memory_order_relaxed);
  s.refused = im.refused.load(std::memory_order_relaxed);
  s.client_errors = im.client_errors.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kStreamCount; ++i)
    s.delivered_per_stream[i] = im.delivered_per_stream[i].load(std::memory_order_relaxed);
  {
    std::lock_guard lock(im.reasons_mutex);
    s.failure_reasons = im.failure_reasons;
  }
  // Read in this order (delivery counts first), in_flight can only overstate.
  s.in_flight = im.enqueued.load() - std::min(im.enqueued.load(), s.delivered + s.failed);
  return s;
}

bool KafkaPublisher::fatal() const { return impl_->fatal.load(); }

}  // namespace sentinel::flows
