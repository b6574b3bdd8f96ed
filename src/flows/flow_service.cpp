#include "flows/flow_service.h"
#include "flows/kafka_consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "flows/anomaly_record.h"
#include "flows/flow_json.h"
#include "flows/kafka_publisher.h"
#include "flows/signing.h"

namespace sentinel::flows {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Stats are copied out for readers at most this often while work goes on
// (a snapshot copies a few 36 KiB histograms), and always at the end of an
// iteration or when the topic goes idle.
constexpr auto kStatsRefresh = std::chrono::milliseconds(100);
// While messages wait for the rate limiter, the loop wakes this often to
// publish them between iterations.
constexpr auto kPumpInterval = std::chrono::milliseconds(20);

std::chrono::nanoseconds elapsed_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_telemetry_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".csv" || ext == ".json" || ext == ".jsonl" || ext == ".ndjson";
}

/// One file of the watch directory and where reading it stands.
struct WatchedFile {
  enum class State : uint8_t { kSeen, kQueued, kReading, kDone };
  uintmax_t size = 0;
  fs::file_time_type mtime{};
  State state = State::kSeen;
  std::vector<std::unique_ptr<FlowSource>> sources;  // open while kReading
  size_t current = 0;
};

}  // namespace

struct FlowService::Impl {
  Impl(const Config& cfg, EngineSet engines, Callbacks cb, FlowServiceOptions opts);

  void run();
  void run_batch_mode();
  void run_streaming_mode();
  IterationReport run_iteration(uint64_t number);
  void scan();
  bool open_file(const std::string& path, WatchedFile& w);
  Status handle_telemetry(std::span<const TelemetryMessage> batch);
  uint64_t judge(std::span<const FlowRecord> flows);
  void emit(AnomalyRecord& rec);
  void dead_letter(const TelemetryIssue& issue);
  void refresh_stats(bool force);
  void drain_and_flush();
  bool stop_requested() const { return stopping_.load(std::memory_order_acquire); }

  Config config_;
  Callbacks callbacks_;
  FlowServiceOptions options_;
  Mode mode_ = Mode::kBatch;
  std::unique_ptr<Detector> detector_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::unique_ptr<PublishQueue> queue_;
  std::unique_ptr<TelemetryConsumer> consumer_;
  TelemetryBatchHandler telemetry_handler_;
  FlowJsonDecoder decoder_;
  IssueSink issue_sink_;

  // Loop-thread state.
  std::map<std::string, WatchedFile> files_;
  std::deque<std::string> ready_;  // paths kQueued or kReading, in the order they became stable
  std::vector<FlowRecord> flows_;
  FlowServiceStats local_;         // the loop's own counters and stage histograms
  Clock::time_point last_refresh_{};
  uint64_t callback_errors_ = 0;
  bool dir_missing_logged_ = false;

  // Lifecycle. Lock order: mu_ before stats_mu_ (never held together today).
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool stopped_ = false;

  mutable std::mutex stats_mu_;
  FlowServiceStats shared_;  // guarded by stats_mu_
};

FlowService::Impl::Impl(const Config& cfg, EngineSet engines, Callbacks cb, FlowServiceOptions opts)
    : config_(cfg), callbacks_(std::move(cb)), options_(std::move(opts)) {
  const TelemetryConfig& tc = config_.telemetry;
  const DetectionConfig& dc = config_.detection;
  if (dc.interval.count() <= 0) throw ConfigError("detection.interval: must be positive");
  if (dc.timeout.count() <= 0) throw ConfigError("detection.timeout: must be positive");
  if (tc.batch_size == 0) throw ConfigError("telemetry.batch_size: must be positive");
  if (!tc.watch_dir.empty()) {
    mode_ = Mode::kBatch;
    std::error_code ec;
    if (!fs::is_directory(tc.watch_dir, ec)) {
      throw ConfigError("telemetry.watch_dir: " + tc.watch_dir + ": not a directory");
    }
  } else if (!config_.kafka.brokers.empty() && !tc.kafka_topic.empty()) {
    mode_ = Mode::kStreaming;
  } else {
    throw ConfigError(
        "telemetry.watch_dir: the flow service needs telemetry.watch_dir (batch mode) or kafka.brokers with "
        "telemetry.kafka_topic (streaming mode)");
  }

  detector_ = std::make_unique<Detector>(std::move(engines), config_.ensemble, dc.engine_budget);
  for (size_t i = 0; i < kEngineCount; ++i) local_.engines[i].present = detector_->has_engine(static_cast<EngineId>(i));

  if (!config_.kafka.brokers.empty()) {
    if (config_.kafka.signing_key.empty()) {
      throw ConfigError("kafka.signing_key: required with kafka.brokers (every published message is signed)");
    }
    signer_ = std::make_unique<Signer>(load_secret_key(config_.kafka.signing_key),
                                       resolve_instance_id(config_.kafka.instance_id));
    PublisherOptions po = PublisherOptions::from_config(config_.kafka, dc);
    po.client.properties.insert(po.client.properties.end(), options_.kafka_properties.begin(),
                                options_.kafka_properties.end());
    publisher_ = std::make_unique<KafkaPublisher>(std::move(po), *signer_);
    queue_ = std::make_unique<PublishQueue>(*publisher_);
  }
  if (mode_ == Mode::kStreaming) {
    ConsumerOptions co = consumer_options_from_config(config_.kafka);
    co.client.properties.insert(co.client.properties.end(), options_.kafka_properties.begin(),
                                options_.kafka_properties.end());
    if (options_.assign_all_partitions) co.membership = Membership::kAssignAll;
    consumer_ = std::make_unique<TelemetryConsumer>(std::move(co), tc.kafka_topic, tc.batch_size);
    telemetry_handler_ = [this](std::span<const TelemetryMessage> batch) { return handle_telemetry(batch); };
  }
  issue_sink_ = [this](const TelemetryIssue& issue) { dead_letter(issue); };
  refresh_stats(true);
}

void FlowService::Impl::run() {
  // Engines and callbacks are guarded where they run; what reaches here is a
  // bug (the Detector's wiring check) or resource exhaustion: logged, and the
  // loop ends rather than taking the process down from a background thread.
  try {
    if (mode_ == Mode::kBatch) {
      run_batch_mode();
    } else {
      run_streaming_mode();
    }
  } catch (const std::exception& e) {
    spdlog::error("flows: detection loop stopped: {}", e.what());
  }
  refresh_stats(true);
}

void FlowService::Impl::run_batch_mode() {
  const auto interval = std::chrono::duration_cast<Clock::duration>(config_.detection.interval);
  for (uint64_t number = 1; !stop_requested(); ++number) {
    const auto start = Clock::now();
    IterationReport report = run_iteration(number);
    report.elapsed = elapsed_since(start);
    const auto next = start + interval;
    if (Clock::now() >= next && !stop_requested()) {
      ++local_.overruns;
      spdlog::warn("flows: iteration {} took {} ms, past detection.interval {} ms; the next starts now", number,
                   std::chrono::duration_cast<std::chrono::milliseconds>(report.elapsed).count(),
                   config_.detection.interval.count());
    }
    refresh_stats(true);
    if (callbacks_.on_iteration) {
      try {
        callbacks_.on_iteration(report);
      } catch (const std::exception& e) {
        spdlog::warn("flows: on_iteration callback threw: {}", e.what());
      }
    }
    // Between iterations: publish what the rate limiter held back.
    while (!stop_requested()) {
      if (queue_) queue_->pump();
      const auto now = Clock::now();
      if (now >= next) break;
      const bool backlog = queue_ && queue_->backlog() > 0;
      const auto until = backlog ? std::min(next, now + kPumpInterval) : next;
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, until, [&] { return stop_requested(); });
    }
  }
}

void FlowService::Impl::run_streaming_mode() {
  uint64_t errors = 0;
  while (!stop_requested()) {
    Result<size_t> n = consumer_->poll_batch(telemetry_handler_, options_.poll_wait);
    if (!n.ok() && kafka_detail::should_log(++errors)) {
      spdlog::warn("flows: telemetry batch not handled (it is read again): {}", n.error().to_string());
    }
    if (queue_) queue_->pump();
    refresh_stats(n.ok() && n.value() == 0);
  }
}

IterationReport FlowService::Impl::run_iteration(uint64_t number) {
  IterationReport report;
  report.number = number;
  ++local_.iterations;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(config_.detection.timeout);
  scan();
  local_.load.record(elapsed_since(start));

  const uint64_t cap = config_.detection.max_flows_per_iteration;
  uint64_t remaining = cap == 0 ? std::numeric_limits<uint64_t>::max() : cap;
  while (!ready_.empty() && remaining > 0 && !stop_requested()) {
    if (Clock::now() >= deadline) {
      report.timed_out = true;
      break;
    }
    const std::string path = ready_.front();
    auto it = files_.find(path);
    if (it == files_.end()) {
      ready_.pop_front();
      continue;
    }
    WatchedFile& w = it->second;
    if (w.state == WatchedFile::State::kQueued) {
      const auto open_start = Clock::now();
      const bool opened = open_file(path, w);
      local_.load.record(elapsed_since(open_start));
      if (!opened) {
        ready_.pop_front();
        continue;
      }
      ++report.files_opened;
    }
    if (w.current >= w.sources.size()) {
      w.sources.clear();
      w.state = WatchedFile::State::kDone;
      ++local_.files;
      ++report.files_done;
      ready_.pop_front();
      continue;
    }
    FlowSource& source = *w.sources[w.current];
    const size_t want = static_cast<size_t>(std::min<uint64_t>(config_.telemetry.batch_size, remaining));
    const auto read_start = Clock::now();
    Result<size_t> n = source.next_batch(flows_, want);
    local_.features.record(elapsed_since(read_start));
    if (!n.ok()) {
      dead_letter({source.name(), n.error().to_string()});
      ++w.current;
      continue;
    }
    if (n.value() == 0) {
      ++w.current;
      continue;
    }
    report.anomalies += judge(std::span<const FlowRecord>(flows_.data(), n.value()));
    report.flows += n.value();
    remaining -= n.value();
    refresh_stats(false);
  }
  if (!ready_.empty() && !report.timed_out && remaining == 0) report.capped = true;
  if (report.capped) ++local_.capped;
  if (report.timed_out) {
    ++local_.timed_out;
    spdlog::warn("flows: iteration {} stopped at detection.timeout {} ms after {} flow(s); the rest waits", number,
                 config_.detection.timeout.count(), report.flows);
  }
  return report;
}

void FlowService::Impl::scan() {
  const std::string& dir = config_.telemetry.watch_dir;
  struct Entry {
    std::string path;
    uintmax_t size;
    fs::file_time_type mtime;
  };
  std::vector<Entry> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    if (!dir_missing_logged_) spdlog::warn("flows: telemetry.watch_dir {}: cannot list: {}", dir, ec.message());
    dir_missing_logged_ = true;
    return;
  }
  dir_missing_logged_ = false;
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;  // a directory vanished while listed: the next scan sees the rest
    std::error_code fec;
    if (!it->is_regular_file(fec) || !is_telemetry_file(it->path())) continue;
    const uintmax_t size = it->file_size(fec);
    if (fec) continue;
    const fs::file_time_type mtime = it->last_write_time(fec);
    if (fec) continue;
    found.push_back({it->path().string(), size, mtime});
  }
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });

  std::set<std::string> present;
  for (Entry& e : found) {
    present.insert(e.path);
    auto [pos, inserted] = files_.try_emplace(e.path);
    WatchedFile& w = pos->second;
    if (inserted) {
      w.size = e.size;
      w.mtime = e.mtime;
      continue;  // first sight: wait one iteration for it to be stable
    }
    if (w.state == WatchedFile::State::kQueued || w.state == WatchedFile::State::kReading) continue;
    if (w.size == e.size && w.mtime == e.mtime) {
      if (w.state == WatchedFile::State::kSeen) {
        w.state = WatchedFile::State::kQueued;
        ready_.push_back(e.path);
      }
      continue;
    }
    // New by (size, mtime): written since it was seen or read.
    w.size = e.size;
    w.mtime = e.mtime;
    w.state = WatchedFile::State::kSeen;
  }
  for (auto f = files_.begin(); f != files_.end();) {
    const bool busy = f->second.state == WatchedFile::State::kQueued || f->second.state == WatchedFile::State::kReading;
    f = !busy && present.count(f->first) == 0 ? files_.erase(f) : std::next(f);
  }
}

bool FlowService::Impl::open_file(const std::string& path, WatchedFile& w) {
  // The file may have changed since the scan that found it stable: then it
  // is not stable, and waits for another look.
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  const fs::file_time_type mtime = ec ? fs::file_time_type{} : fs::last_write_time(path, ec);
  if (ec) {
    files_.erase(path);  // gone
    return false;
  }
  if (size != w.size || mtime != w.mtime) {
    w.size = size;
    w.mtime = mtime;
    w.state = WatchedFile::State::kSeen;
    return false;
  }
  const std::string one[] = {path};
  auto sources = open_telemetry(one, config_.telemetry, issue_sink_);
  if (!sources.ok()) {
    dead_letter({path, sources.error().reason});
    w.state = WatchedFile::State::kDone;
    return false;
  }
  w.sources = std::move(sources.value());
  w.current = 0;
  w.state = WatchedFile::State::kReading;
  return true;
}

Status FlowService::Impl::handle_telemetry(std::span<const TelemetryMessage> batch) {
  const auto start = Clock::now();
  if (flows_.size() < batch.size()) flows_.resize(batch.size());
  size_t n = 0;
  for (const TelemetryMessage& m : batch) {
    FlowRecord& f = flows_[n];
    const Status st = decoder_.decode(m.payload, f);
    if (!st.ok()) {
      dead_letter({m.origin(), "not a flow record: " + st.error().to_string()});
      continue;
    }
    f.origin.clear();
    m.append_origin(f.origin);
    ++n;
  }
  local_.features.record(elapsed_since(start));
  ++local_.iterations;
  if (n > 0) judge(std::span<const FlowRecord>(flows_.data(), n));
  return Ok{};
}

uint64_t FlowService::Impl::judge(std::span<const FlowRecord> flows) {
  detector_->judge(flows);
  const auto decisions = detector_->decisions();
  const int64_t now_ms = wall_ms();
  uint64_t anomalies = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    const EnsembleDecision& d = decisions[i];
    if (!d.anomaly) continue;
    ++anomalies;
    const FlowRecord& f = flows[i];
    const std::vector<std::string_view> contributing = detector_->contributing(d);
    AnomalyRecord rec = build_anomaly_record(f, d, detector_->threshold(), contributing, detector_->evidence(f, i), now_ms);
    emit(rec);
  }
  local_.flows += flows.size();
  local_.anomalies += anomalies;
  return anomalies;
}

void FlowService::Impl::emit(AnomalyRecord& rec) {
  // A throwing callback loses that output for this anomaly only.
  auto guarded = [&](const char* what, const auto& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      if (kafka_detail::should_log(++callback_errors_)) {
        spdlog::warn("flows: {} callback threw for anomaly {}: {}", what, rec.id, e.what());
      }
    }
  };
  if (callbacks_.on_anomaly) guarded("on_anomaly", [&] { callbacks_.on_anomaly(rec.anomaly); });
  if (callbacks_.on_network_event) guarded("on_network_event", [&] { callbacks_.on_network_event(rec.network_event); });
  if (queue_) {
    const auto start = Clock::now();
    queue_->add(Stream::kAnomalies, rec.id, std::move(rec.anomaly_text));
    queue_->add(Stream::kEvidence, rec.id, std::move(rec.evidence_text));
    queue_->pump();
    local_.publish.record(elapsed_since(start));
  }
}

void FlowService::Impl::dead_letter(const TelemetryIssue& issue) {
  ++local_.dead_letters;
  // Origins are ids (file:line, topic/partition@offset); reasons never quote data.
  if (kafka_detail::should_log(local_.dead_letters)) {
    spdlog::warn("flows: dead letter {}: {}", issue.origin, issue.reason);
  }
  if (callbacks_.on_dead_letter) {
    try {
      callbacks_.on_dead_letter(issue);
    } catch (const std::exception& e) {
      spdlog::warn("flows: on_dead_letter callback threw: {}", e.what());
    }
  }
}

void FlowService::Impl::refresh_stats(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_refresh_ < kStatsRefresh) return;
  last_refresh_ = now;
  const DetectorStats& ds = detector_->stats();
  for (size_t i = 0; i < kEngineCount; ++i) {
    FlowEngineStats& es = local_.engines[i];
    es.batches = ds.engines[i].batches;
    es.over_budget = ds.engines[i].over_budget;
    es.failed = ds.engines[i].failed;
    es.time = ds.engines[i].time;
  }
  local_.vote = ds.vote_time;
  local_.evidence = ds.evidence_time;
  if (queue_) {
    local_.published = queue_->published();
    local_.publish_dropped = queue_->dropped();
    local_.held_back = queue_->backlog() + queue_->dropped();
  }
  std::lock_guard lock(stats_mu_);
  shared_ = local_;
}

void FlowService::Impl::drain_and_flush() {
  if (!queue_) return;
  const auto deadline = Clock::now() + options_.stop_flush_timeout;
  queue_->pump();
  while (queue_->backlog() > 0 && Clock::now() < deadline) {
    // The token bucket refills with time; nothing to wait on but the clock.
    std::this_thread::sleep_for(std::min<Clock::duration>(kPumpInterval, deadline - Clock::now()));
    queue_->pump();
  }
  if (queue_->backlog() > 0) {
    spdlog::warn("flows: {} message(s) not published at stop: past detection.publish_rate within {} ms",
                 queue_->backlog(), options_.stop_flush_timeout.count());
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  const Status st = publisher_->shutdown(std::max(left, std::chrono::milliseconds(0)));
  if (!st.ok()) spdlog::warn("flows: kafka: {}", st.error().to_string());
  refresh_stats(true);
}

FlowService::FlowService(const Config& config, Callbacks callbacks, FlowServiceOptions options)
    : FlowService(config, build_engines(config), std::move(callbacks), std::move(options)) {}

FlowService::FlowService(const Config& config, EngineSet engines, Callbacks callbacks, FlowServiceOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(engines), std::move(callbacks), std::move(options))) {}

FlowService::~FlowService() { stop(); }

void FlowService::start() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu_);
    if (im.started_) throw std::logic_error("FlowService::start: already started");
    im.started_ = true;
  }
  if (im.publisher_) {
    const Status st = im.publisher_->publish(Stream::kPolicy, "policy", im.detector_->policy().dump());
    if (!st.ok()) spdlog::warn("flows: policy message not published: {}", st.error().to_string());
  }
  spdlog::info("flows: detection service started ({} mode{})", im.mode_ == Mode::kBatch ? "batch" : "streaming",
               im.mode_ == Mode::kBatch ? ", watching " + im.config_.telemetry.watch_dir
                                        : ", topic " + im.config_.telemetry.kafka_topic);
  im.thread_ = std::thread([&im] { im.run(); });
}

void FlowService::stop() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu_);
    if (im.stopped_) return;
    im.stopped_ = true;
    im.stopping_.store(true, std::memory_order_release);
  }
  im.wake_.notify_all();
  if (im.thread_.joinable()) im.thread_.join();
  im.drain_and_flush();
}

FlowService::Mode FlowService::mode() const { return impl_->mode_; }

FlowServiceStats FlowService::stats() const {
  FlowServiceStats s;
  {
    std::lock_guard lock(impl_->stats_mu_);
    s = impl_->shared_;
  }
  if (impl_->publisher_) {
    const PublisherStats ps = impl_->publisher_->stats();
    s.delivered = ps.delivered;
    s.publish_failed = ps.failed;
  }
  return s;
}

std::string FlowService::prometheus_text() const {
  const FlowServiceStats s = stats();
  std::string out;
  auto counter = [&out](std::string_view name, std::string_view help, uint64_t v) {
    fmt::format_to(std::back_inserter(out), "# HELP {0}_total {1}\n# TYPE {0}_total counter\n{0}_total {2}\n", name,
                   help, v);
  };
  auto gauge = [&out](std::string_view name, std::string_view help, uint64_t v) {
    fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
  };
  counter("sentinel_flows_iterations", "Detection iterations run (streaming: telemetry batches handled).",
          s.iterations);
  counter("sentinel_flows_overruns", "Iterations that ran past detection.interval (the next started at once).",
          s.overruns);
  counter("sentinel_flows_iterations_capped", "Iterations stopped at detection.max_flows_per_iteration.", s.capped);
  counter("sentinel_flows_iterations_timed_out", "Iterations stopped at detection.timeout.", s.timed_out);
  counter("sentinel_flows_files", "Telemetry files read to their end.", s.files);
  counter("sentinel_flows_flows", "Flows judged.", s.flows);
  counter("sentinel_flows_anomalies", "Flows the ensemble judged anomalous.", s.anomalies);
  counter("sentinel_flows_dead_letters", "Rows, records, payloads and files skipped as unreadable.",
          s.dead_letters);

  auto engine_family = [&](std::string_view name, std::string_view help, uint64_t FlowEngineStats::*field) {
    fmt::format_to(std::back_inserter(out), "# HELP {0}_total {1}\n# TYPE {0}_total counter\n", name, help);
    for (size_t i = 0; i < kEngineCount; ++i) {
      if (!s.engines[i].present) continue;
      fmt::format_to(std::back_inserter(out), "{}_total{{engine=\"{}\"}} {}\n", name,
                     engine_id_name(static_cast<EngineId>(i)), s.engines[i].*field);
    }
  };
  engine_family("sentinel_flows_engine_batches", "Batches each engine decided.", &FlowEngineStats::batches);
  engine_family("sentinel_flows_engine_over_budget", "Batches an engine was skipped for: past detection.engine_budget.",
                &FlowEngineStats::over_budget);
  engine_family("sentinel_flows_engine_failed", "Batches an engine was skipped for: error or exception.",
                &FlowEngineStats::failed);

  counter("sentinel_flows_published", "Signed messages handed to the Kafka producer.", s.published);
  counter("sentinel_flows_delivered", "Signed messages acknowledged by Kafka.", s.delivered);
  counter("sentinel_flows_publish_failed", "Signed messages whose delivery failed.", s.publish_failed);
  counter("sentinel_flows_publish_dropped", "Messages dropped because the publish backlog was full.",
          s.publish_dropped);
  gauge("sentinel_flows_publish_held_back", "Messages waiting for the publish rate limit, plus those dropped.",
        s.held_back);

  out +=
      "# HELP sentinel_flows_stage_seconds Time per stage: load per scan and file, features and each engine and the "
      "vote per batch, evidence and publish per anomaly.\n# TYPE sentinel_flows_stage_seconds summary\n";
  auto stage = [&out](std::string_view name, const HistogramSnapshot& h) {
    for (const double q : {0.5, 0.95, 0.99}) {
      const double v = h.count() == 0 ? std::numeric_limits<double>::quiet_NaN()
                                      : static_cast<double>(h.quantile(q).count()) / 1e9;
      fmt::format_to(std::back_inserter(out), "sentinel_flows_stage_seconds{{stage=\"{}\",quantile=\"{}\"}} {}\n",
                     name, q, std::isnan(v) ? std::string("NaN") : fmt::format("{}", v));
    }
    fmt::format_to(std::back_inserter(out), "sentinel_flows_stage_seconds_sum{{stage=\"{}\"}} {}\n", name,
                   static_cast<double>(h.sum().count()) / 1e9);
    fmt::format_to(std::back_inserter(out), "sentinel_flows_stage_seconds_count{{stage=\"{}\"}} {}\n", name,
                   h.count());
  };
  stage("load", s.load);
  stage("features", s.features);
  for (size_t i = 0; i < kEngineCount; ++i) {
    if (s.engines[i].present) stage(engine_id_name(static_cast<EngineId>(i)), s.engines[i].time);
  }
  stage("vote", s.vote);
  stage("evidence", s.evidence);
  stage("publish", s.publish);
  return out;
}

}  // namespace sentinel::flows
