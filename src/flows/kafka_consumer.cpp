#include "flows/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace sentinel::flows {

namespace {

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

void append_origin(std::string& out, std::string_view topic, int32_t partition, int64_t offset) {
  out.append(topic);
  out.push_back('/');
  out.append(std::to_string(partition));
  out.push_back('@');
  out.append(std::to_string(offset));
}

std::string message_origin(const rd_kafka_message_t& m) {
  std::string out;
  append_origin(out, rd_kafka_topic_name(m.rkt), m.partition, m.offset);
  return out;
}

// A message key is attacker-controlled bytes; in a log line it is an id, so
// it is cut short and anything unprintable is replaced.
std::string loggable_key(const rd_kafka_message_t& m) {
  const size_t n = std::min<size_t>(m.key_len, 64);
  std::string out(static_cast<const char*>(m.key), n);
  for (char& c : out)
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  if (m.key_len > n) out += "...";
  return out;
}

// The client shared by both consumers: configuration, membership, polling and close.
class ConsumerClient {
 public:
  using CommitCallback = void (*)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*);

  ConsumerClient(const ConsumerOptions& options, const std::vector<std::string>& topics, const char* client_id,
                 CommitCallback commit_cb, void* opaque) {
    auto* conf = static_cast<rd_kafka_conf_t*>(kafka_detail::make_conf(
        options.client, {{"client.id", client_id},
                         {"group.id", options.group_id},
                         // Commits only when the application says a batch is done.
                         // The offset store still follows what poll handed out,
                         // which is what VerifyingConsumer::commit() commits.
                         {"enable.auto.commit", "false"},
                         {"auto.offset.reset", options.offset_reset},
                         {"session.timeout.ms", std::to_string(options.session_timeout.count())}}));
    if (commit_cb != nullptr) rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("kafka consumer: ") + errstr);
    }
    // Serve logs, errors and commit results from rd_kafka_consumer_poll.
    rd_kafka_poll_set_consumer(rk_);
    try {
      if (options.membership == Membership::kGroup)
        subscribe(topics);
      else
        assign_all(topics, options.metadata_timeout);
    } catch (...) {
      rd_kafka_destroy(rk_);
      throw;
    }
  }

  ~ConsumerClient() {
    // Leaves the group (group mode) so the others rebalance at once rather
    // than after the session timeout.
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }

  ConsumerClient(const ConsumerClient&) = delete;
  ConsumerClient& operator=(const ConsumerClient&) = delete;

  rd_kafka_t* rk() const { return rk_; }

  /// Up to `max` messages: waits `wait` for the first, then takes only what
  /// is already fetched. Error events are counted and logged, not returned.
  std::vector<MessagePtr> take(size_t max, std::chrono::milliseconds wait, std::atomic<uint64_t>& errors) {
    std::vector<MessagePtr> out;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    bool polled = false;
    while (out.size() < max) {
      int timeout_ms = 0;
      if (out.empty()) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 && polled) break;
        timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk_, timeout_ms);
      polled = true;
      if (raw == nullptr) {
        if (!out.empty()) break;
        continue;  // nothing yet: the deadline check above decides
      }
      MessagePtr m(raw);
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        const uint64_t n = errors.fetch_add(1, std::memory_order_relaxed) + 1;
        if (kafka_detail::should_log(n)) {
          std::string where = m->rkt ? std::string(rd_kafka_topic_name(m->rkt)) : std::string("-");
          kafka_detail::log_warn("consumer: " + where + ": " + rd_kafka_err2name(m->err) + ": " +
                                 rd_kafka_message_errstr(m.get()));
        }
        continue;
      }
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  void subscribe(const std::vector<std::string>& topics) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const std::string& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("kafka consumer: cannot subscribe: ") + rd_kafka_err2str(err));
  }

  void assign_all(const std::vector<std::string>& topics, std::chrono::milliseconds timeout) {
    PartitionList list(rd_kafka_topic_partition_list_new(0));
    for (const std::string& t : topics) {
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, t.c_str(), nullptr);
      const rd_kafka_metadata_t* md = nullptr;
      const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, static_cast<int>(timeout.count()));
      rd_kafka_topic_destroy(rkt);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw std::runtime_error("kafka topic " + t + ": no metadata: " + rd_kafka_err2str(err));
      std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard(md, rd_kafka_metadata_destroy);
      if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt == 0)
        throw std::runtime_error("kafka topic " + t + ": " +
                                 (md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not in metadata"));
      for (int p = 0; p < md->topics[0].partition_cnt; ++p)
        rd_kafka_topic_partition_list_add(list.get(), t.c_str(), md->topics[0].partitions[p].id)->offset =
            RD_KAFKA_OFFSET_STORED;
    }
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("kafka consumer: cannot assign partitions: ") + rd_kafka_err2str(err));
  }

  rd_kafka_t* rk_ = nullptr;
};

std::optional<std::string_view> header_value(rd_kafka_headers_t* headers, std::string_view name) {
  if (headers == nullptr) return std::nullopt;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name.data(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return std::nullopt;
  return std::string_view(static_cast<const char*>(value), value == nullptr ? 0 : size);
}

}  // namespace

ConsumerOptions consumer_options_from_config(const KafkaConfig& kafka) {
  ConsumerOptions options;
  options.client.brokers = kafka.brokers;
  options.group_id = kafka.group_id;
  return options;
}

// ---------------------------------------------------------------------------
// VerifyingConsumer

struct VerifyingConsumer::Impl {
  StreamTopics topics;
  mutable std::mutex verifier_mutex;  // stats() may read while poll() verifies
  Verifier verifier;                  // guarded by verifier_mutex
  std::atomic<uint64_t> consume_errors{0}, foreign_topic{0}, commits{0}, commit_failures{0};
  std::unique_ptr<ConsumerClient> client;

  Impl(StreamTopics t, Verifier v) : topics(std::move(t)), verifier(std::move(v)) {}

  void log_rejection(const rd_kafka_message_t& m, const SignatureCheck& check, const SignatureHeaderValues& h,
                     uint64_t count) {
    std::string line = "rejected " + message_origin(m) + " key " + loggable_key(m) + ": " +
                       std::string(rejection_name(*check.rejection));
    if (!check.missing.empty() && (*check.rejection == Rejection::kMissingHeader ||
                                   *check.rejection == Rejection::kMalformedHeader))
      line += " (header " + std::string(check.missing) + ")";
    if (h.key_id && h.key_id->size() == kKeyIdBytes) {
      KeyId id{};
      std::copy_n(h.key_id->data(), id.size(), id.begin());
      line += ", key-id " + key_id_hex(id);
    }
    if (h.nonce) {
      if (auto parts = decode_nonce(*h.nonce))
        line += ", instance " + std::to_string(parts->instance_id) + " counter " + std::to_string(parts->counter) +
                " ts " + std::to_string(parts->timestamp_ms);
    }
    line += " (" + std::to_string(count) + " for this reason)";
    kafka_detail::log_warn(line);
  }
};

VerifyingConsumer::VerifyingConsumer(ConsumerOptions options, StreamTopics topics, Verifier verifier)
    : impl_(std::make_unique<Impl>(std::move(topics), std::move(verifier))) {
  impl_->topics.validate();
  std::vector<std::string> names;
  for (Stream s : kAllStreams) names.push_back(impl_->topics.topic(s));
  impl_->client = std::make_unique<ConsumerClient>(options, names, "sentinel-flows-verifier", nullptr, impl_.get());
}

VerifyingConsumer::~VerifyingConsumer() = default;

std::vector<VerifiedMessage> VerifyingConsumer::poll(size_t max_messages, std::chrono::milliseconds wait) {
  Impl& im = *impl_;
  std::vector<VerifiedMessage> out;
  for (MessagePtr& m : im.client->take(max_messages, wait, im.consume_errors)) {
    const std::optional<Stream> stream = im.topics.stream_of(rd_kafka_topic_name(m->rkt));
    if (!stream) {
      im.foreign_topic.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m.get(), &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) headers = nullptr;
    SignatureHeaderValues h;
    h.version = header_value(headers, kHeaderVersion);
    h.domain = header_value(headers, kHeaderDomain);
    h.nonce = header_value(headers, kHeaderNonce);
    h.signature = header_value(headers, kHeaderSignature);
    h.key_id = header_value(headers, kHeaderKeyId);
    const std::string_view payload(static_cast<const char*>(m->payload), m->payload ? m->len : 0);

    SignatureCheck check;
    uint64_t reason_count = 0;
    {
      std::lock_guard lock(im.verifier_mutex);
      check = im.verifier.verify(*stream, h, payload);
      if (check.rejection) reason_count = im.verifier.stats().rejected_for(*check.rejection);
    }
    if (check.rejection) {
      if (kafka_detail::should_log(reason_count)) im.log_rejection(*m, check, h, reason_count);
      continue;
    }
    VerifiedMessage v;
    v.stream = *stream;
    v.key.assign(static_cast<const char*>(m->key), m->key ? m->key_len : 0);
    v.payload.assign(payload);
    v.nonce = check.nonce;
    v.origin = message_origin(*m);
    out.push_back(std::move(v));
  }
  return out;
}

Status VerifyingConsumer::commit() {
  // NULL = the current position of every assigned partition, i.e. just past
  // the last message poll() returned.
  const rd_kafka_resp_err_t err = rd_kafka_commit(impl_->client->rk(), nullptr, 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) impl_->commits.fetch_add(1, std::memory_order_relaxed);
    return Ok{};
  }
  impl_->commit_failures.fetch_add(1, std::memory_order_relaxed);
  return make_error("kafka.commit", rd_kafka_err2str(err));
}

ConsumerStats VerifyingConsumer::stats() const {
  const Impl& im = *impl_;
  ConsumerStats s;
  {
    std::lock_guard lock(im.verifier_mutex);
    s.verify = im.verifier.stats();
  }
  s.consume_errors = im.consume_errors.load(std::memory_order_relaxed);
  s.foreign_topic = im.foreign_topic.load(std::memory_order_relaxed);
  s.commits = im.commits.load(std::memory_order_relaxed);
  s.commit_failures = im.commit_failures.load(std::memory_order_relaxed);
  return s;
}

// ---------------------------------------------------------------------------
// TelemetryConsumer

void TelemetryMessage::append_origin(std::string& out) const {
  sentinel::flows::append_origin(out, topic, partition, offset);
}

std::string TelemetryMessage::origin() const {
  std::string out;
  append_origin(out);
  return out;
}

struct TelemetryConsumer::Impl {
  std::string topic;
  uint32_t batch_size;
  std::atomic<uint64_t> batches{0}, messages{0}, handler_failures{0}, consume_errors{0}, commits{0},
      commit_failures{0};
  std::unique_ptr<ConsumerClient> client;
  std::vector<TelemetryMessage> views;  // reused per batch

  // Served by rd_kafka_consumer_poll on the consumer's thread.
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; ok && offsets != nullptr && i < offsets->cnt; ++i)
      ok = offsets->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ok) {
      self->commits.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    const uint64_t n = self->commit_failures.fetch_add(1, std::memory_order_relaxed) + 1;
    if (kafka_detail::should_log(n))
      kafka_detail::log_warn(std::string("telemetry: offset commit failed (the batch will be read again after a "
                                         "restart): ") +
                             rd_kafka_err2str(err));
  }
};

TelemetryConsumer::TelemetryConsumer(ConsumerOptions options, std::string topic, uint32_t batch_size)
    : impl_(std::make_unique<Impl>()) {
  if (batch_size == 0) throw std::runtime_error("telemetry.batch_size: must be at least 1");
  if (topic.empty()) throw std::runtime_error("telemetry.kafka_topic: empty");
  impl_->topic = std::move(topic);
  impl_->batch_size = batch_size;
  impl_->client = std::make_unique<ConsumerClient>(options, std::vector<std::string>{impl_->topic},
                                                   "sentinel-flows-telemetry", &Impl::on_commit, impl_.get());
}

TelemetryConsumer::~TelemetryConsumer() = default;

Result<size_t> TelemetryConsumer::poll_batch(const TelemetryBatchHandler& handler, std::chrono::milliseconds wait) {
  Impl& im = *impl_;
  std::vector<MessagePtr> batch = im.client->take(im.batch_size, wait, im.consume_errors);
  if (batch.empty()) return size_t{0};

  im.views.clear();
  // Per partition: first offset (to rewind to) and last offset (to commit past).
  std::map<std::pair<std::string_view, int32_t>, std::pair<int64_t, int64_t>> span;
  for (const MessagePtr& m : batch) {
    TelemetryMessage v;
    v.topic = rd_kafka_topic_name(m->rkt);
    v.partition = m->partition;
    v.offset = m->offset;
    v.key = std::string_view(static_cast<const char*>(m->key), m->key ? m->key_len : 0);
    v.payload = std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    im.views.push_back(v);
    auto [it, fresh] = span.try_emplace({v.topic, v.partition}, v.offset, v.offset);
    if (!fresh) {
      it->second.first = std::min(it->second.first, v.offset);
      it->second.second = std::max(it->second.second, v.offset);
    }
  }

  Status handled = Ok{};
  try {
    handled = handler(std::span<const TelemetryMessage>(im.views));
  } catch (const std::exception& e) {
    handled = make_error("telemetry", std::string("batch handler threw: ") + e.what());
  }

  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(span.size())));
  for (const auto& [tp, offsets] : span) {
    const std::string topic(tp.first);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), tp.second)->offset =
        handled.ok() ? offsets.second + 1 : offsets.first;
  }
  if (!handled.ok()) {
    im.handler_failures.fetch_add(1, std::memory_order_relaxed);
    // Back to the batch's start: the next poll reads it again.
    rd_kafka_error_t* error = rd_kafka_seek_partitions(im.client->rk(), list.get(), 5000);
    if (error != nullptr) {
      kafka_detail::log_warn(std::string("telemetry: cannot rewind after a failed batch: ") +
                             rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    return handled.error();
  }
  im.batches.fetch_add(1, std::memory_order_relaxed);
  im.messages.fetch_add(batch.size(), std::memory_order_relaxed);
  // Asynchronous: the outcome arrives at a later poll and is counted; commits
  // are ordered, so a later success supersedes an earlier failure.
  const rd_kafka_resp_err_t err = rd_kafka_commit(im.client->rk(), list.get(), 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    im.commit_failures.fetch_add(1, std::memory_order_relaxed);
    kafka_detail::log_warn(std::string("telemetry: offset commit not sent: ") + rd_kafka_err2str(err));
  }
  return batch.size();
}

TelemetryConsumerStats TelemetryConsumer::stats() const {
  const Impl& im = *impl_;
  TelemetryConsumerStats s;
  s.batches = im.batches.load(std::memory_order_relaxed);
  s.messages = im.messages.load(std::memory_order_relaxed);
  s.handler_failures = im.handler_failures.load(std::memory_order_relaxed);
  s.consume_errors = im.consume_errors.load(std::memory_order_relaxed);
  s.commits = im.commits.load(std::memory_order_relaxed);
  s.commit_failures = im.commit_failures.load(std::memory_order_relaxed);
  return s;
}

}  // namespace sentinel::flows
