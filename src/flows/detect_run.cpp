#include "flows/detect_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/json_writer.h"
#include "core/keys.h"
#include "core/time.h"
#include "flows/anomaly_record.h"
#include "flows/csv_telemetry.h"
#include "flows/detector.h"
#include "flows/kafka_publisher.h"
#include "flows/signing.h"
#include "flows/telemetry.h"

namespace sentinel::flows {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBatchesPerTask = 4;       // in flight per input task
constexpr size_t kCsvChunkBytes = 4u << 20;    // a CSV file is parsed in chunks of about this

std::chrono::nanoseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
}

/// Skipped rows reach the batch being read on this thread, so they are
/// written in input order with the flows around them.
thread_local std::vector<TelemetryIssue>* t_issue_target = nullptr;

struct Batch {
  std::vector<FlowRecord> flows;
  std::vector<EngineVerdict> ml;
  EngineOutcome ml_outcome = EngineOutcome::kAbsent;
  std::chrono::nanoseconds parse{0};
  std::chrono::nanoseconds ml_time{0};
  std::vector<TelemetryIssue> issues;
  bool last = false;  ///< the task's final batch (may hold no flows)
};

/// One input stream of batches (a CSV chunk, a file, a JSON directory), read
/// by one worker and drained in order by the ordered stage.
struct Task {
  std::unique_ptr<FlowSource> source;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::unique_ptr<Batch>> ready;
};

class BatchPool {
 public:
  std::unique_ptr<Batch> get() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::make_unique<Batch>();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void put(std::unique_ptr<Batch> b) {
    b->issues.clear();
    b->last = false;
    b->ml_outcome = EngineOutcome::kAbsent;
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Batch>> free_;
};

/// Buffered output file written to "<path>.partial", renamed by finish().
class OutFile {
 public:
  OutFile() = default;
  void open(const fs::path& path) {
    path_ = path;
    partial_ = path.string() + ".partial";
    f_ = std::fopen(partial_.c_str(), "wb");
    if (f_ == nullptr) throw std::runtime_error(partial_ + ": cannot write: " + std::strerror(errno));
    buf_.reserve(kFlushBytes * 2);
  }
  ~OutFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  std::string& buf() { return buf_; }
  void line(std::string_view s) {
    buf_.append(s);
    buf_.push_back('\n');
    maybe_flush();
  }
  void maybe_flush() {
    if (buf_.size() >= kFlushBytes) flush();
  }
  void flush() {
    if (f_ == nullptr || buf_.empty()) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      throw std::runtime_error(partial_ + ": write failed: " + std::strerror(errno));
    }
    buf_.clear();
  }
  void finish() {
    if (f_ == nullptr) return;
    flush();
    const bool ok = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok) throw std::runtime_error(partial_ + ": write failed");
    fs::rename(partial_, path_);
  }
  bool is_open() const { return f_ != nullptr; }

 private:
  static constexpr size_t kFlushBytes = 1u << 20;
  fs::path path_;
  std::string partial_;
  FILE* f_ = nullptr;
  std::string buf_;
};

nlohmann::json percentiles(const HistogramSnapshot& h) {
  auto ms = [&](double q) { return static_cast<double>(h.quantile(q).count()) / 1e6; };
  return {{"count", h.count()}, {"p50_ms", ms(0.50)}, {"p95_ms", ms(0.95)}, {"p99_ms", ms(0.99)},
          {"total_ms", static_cast<double>(h.sum().count()) / 1e6}};
}

void append_score(std::string& out, const EngineVerdict* v) {
  if (v == nullptr || !v->decided) {
    out.append(",,");
    return;
  }
  fmt::format_to(std::back_inserter(out), ",{:.4f},{}", v->score, v->attack ? 1 : 0);
}

bool is_csv_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".csv";
}

}  // namespace

DetectRunSummary run_flow_detection(const Config& config, const DetectRunOptions& options) {
  const auto run_start = Clock::now();
  const int64_t run_wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const size_t workers = options.workers > 0 ? static_cast<size_t>(options.workers)
                                             : std::max(1u, std::thread::hardware_concurrency());

  // Start-up: engines, outputs, Kafka; every failure here is one line.
  EngineSet engines = build_engines(config);
  const bool parallel_ml = engines.ml != nullptr;
  std::vector<std::unique_ptr<DetectionEngine>> worker_ml(workers);
  if (parallel_ml) {
    worker_ml[0] = std::move(engines.ml);
    for (size_t w = 1; w < workers; ++w) worker_ml[w] = build_ml_engine(config);
  }
  // The ML engine runs on the workers; the detector holds one more instance
  // only for the vote's column and for explain() (which recomputes from the
  // flow), and takes the workers' verdicts through judge().
  EngineSet ordered_engines{std::move(engines.rules), std::move(engines.math),
                            parallel_ml ? build_ml_engine(config) : nullptr, std::move(engines.normaliser)};
  Detector detector(std::move(ordered_engines), config.ensemble,
                    std::chrono::milliseconds(config.detection.engine_budget.count()));

  std::unique_ptr<Signer> signer;
  std::unique_ptr<KafkaPublisher> publisher;
  std::unique_ptr<PublishQueue> publish_queue;
  if (!config.kafka.brokers.empty()) {
    if (config.kafka.signing_key.empty()) {
      throw ConfigError("kafka.signing_key: required with kafka.brokers (every published message is signed)");
    }
    signer = std::make_unique<Signer>(load_secret_key(config.kafka.signing_key),
                                      resolve_instance_id(config.kafka.instance_id));
    publisher = std::make_unique<KafkaPublisher>(PublisherOptions::from_config(config.kafka, config.detection), *signer);
    publish_queue = std::make_unique<PublishQueue>(*publisher);
  }

  OutFile verdicts, anomalies, evidence, events, dead;
  if (options.write_outputs) {
    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec) throw std::runtime_error(options.out_dir + ": cannot create: " + ec.message());
    const fs::path dir(options.out_dir);
    verdicts.open(dir / "verdicts.csv");
    anomalies.open(dir / "anomalies.jsonl");
    evidence.open(dir / "evidence.jsonl");
    events.open(dir / "network-events.jsonl");
    dead.open(dir / "dead-letter.jsonl");
    verdicts.line("origin,label,rules_score,rules_attack,math_score,math_attack,ml_score,ml_attack,score,anomaly,engines");
  }

  // Inputs -> tasks in input order. A CSV file named directly is parsed in
  // chunks on several workers; directories and JSON telemetry go whole.
  std::vector<TelemetryIssue> open_issues;
  std::mutex open_issues_mu;
  IssueSink sink = [&](const TelemetryIssue& issue) {
    if (t_issue_target != nullptr) {
      t_issue_target->push_back(issue);
      return;
    }
    std::lock_guard lock(open_issues_mu);
    open_issues.push_back(issue);
  };
  std::vector<std::unique_ptr<Task>> tasks;
  HistogramSnapshot load_time;
  for (const std::string& path : options.inputs) {
    const auto load_start = Clock::now();
    if (is_csv_file(path)) {
      Result<std::shared_ptr<const CsvFile>> file = CsvFile::open(path);
      if (!file.ok()) throw std::runtime_error(file.error().to_string());
      const size_t chunks = std::clamp<size_t>(file.value()->size_bytes() / kCsvChunkBytes, 1, workers * 16);
      for (const CsvChunk& chunk : file.value()->split(chunks)) {
        CsvOptions opts;
        opts.issues = sink;
        auto task = std::make_unique<Task>();
        task->source = std::make_unique<CsvReader>(file.value(), chunk, opts);
        tasks.push_back(std::move(task));
      }
    } else {
      const std::string one[] = {path};
      auto sources = open_telemetry(one, config.telemetry, sink);
      if (!sources.ok()) throw std::runtime_error(sources.error().to_string());
      for (auto& src : sources.value()) {
        auto task = std::make_unique<Task>();
        task->source = std::move(src);
        tasks.push_back(std::move(task));
      }
    }
    load_time.record(since(load_start));
  }

  // Workers: parse and run the ML engine, one task at a time, in task order.
  BatchPool pool;
  std::atomic<size_t> next_task{0};
  std::atomic<bool> abort{false};
  const size_t batch_size = config.telemetry.batch_size;
  const auto ml_budget = std::chrono::milliseconds(config.detection.engine_budget.count());
  auto worker = [&](size_t w) {
    DetectionEngine* ml = parallel_ml ? worker_ml[w].get() : nullptr;
    for (;;) {
      const size_t t = next_task.fetch_add(1);
      if (t >= tasks.size() || abort) return;
      Task& task = *tasks[t];
      for (;;) {
        std::unique_ptr<Batch> b = pool.get();
        t_issue_target = &b->issues;
        const auto parse_start = Clock::now();
        Result<size_t> n = task.source->next_batch(b->flows, batch_size);
        b->parse = since(parse_start);
        t_issue_target = nullptr;
        if (!n.ok()) {
          b->issues.push_back({task.source->name(), n.error().to_string()});
          b->flows.clear();
        }
        b->last = !n.ok() || n.value() == 0;
        if (!b->last && ml != nullptr) {
          b->ml.assign(b->flows.size(), EngineVerdict{});
          const auto ml_start = Clock::now();
          try {
            const Status st = ml->evaluate(b->flows, b->ml, ml_start + ml_budget);
            b->ml_outcome = st.ok() ? EngineOutcome::kDecided
                                    : (Clock::now() >= ml_start + ml_budget ? EngineOutcome::kOverBudget
                                                                            : EngineOutcome::kFailed);
            if (!st.ok()) spdlog::warn("flows: engine ml skipped for a batch from {}: {}", b->flows.front().origin,
                                       st.error().to_string());
          } catch (const std::exception& e) {
            b->ml_outcome = EngineOutcome::kFailed;
            spdlog::warn("flows: engine ml skipped for a batch from {}: threw: {}", b->flows.front().origin, e.what());
          }
          b->ml_time = since(ml_start);
        }
        const bool last = b->last;
        {
          std::unique_lock lock(task.mu);
          task.changed.wait(lock, [&] { return task.ready.size() < kMaxBatchesPerTask || abort; });
          task.ready.push_back(std::move(b));
        }
        task.changed.notify_all();
        if (last) break;
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w) threads.emplace_back(worker, w);

  DetectRunSummary summary;
  HistogramSnapshot features_time, publish_time;
  auto write_issue = [&](const TelemetryIssue& issue) {
    ++summary.rejected;
    if (!dead.is_open()) return;
    std::string text;
    JsonWriter w(text);
    w.begin_object().member("origin", issue.origin).member("reason", issue.reason).end_object();
    dead.line(text);
  };

  if (publish_queue) {
    Status st = publisher->publish(Stream::kPolicy, "policy", detector.policy().dump());
    if (!st.ok()) spdlog::warn("flows: policy message not published: {}", st.error().to_string());
  }

  std::string line;
  auto last_progress = Clock::now();
  try {
    for (const TelemetryIssue& issue : open_issues) write_issue(issue);
    for (auto& task_ptr : tasks) {
      Task& task = *task_ptr;
      for (;;) {
        std::unique_ptr<Batch> b;
        {
          std::unique_lock lock(task.mu);
          task.changed.wait(lock, [&] { return !task.ready.empty(); });
          b = std::move(task.ready.front());
          task.ready.pop_front();
        }
        task.changed.notify_all();
        for (const TelemetryIssue& issue : b->issues) write_issue(issue);
        features_time.record(b->parse);
        const bool last = b->last;
        if (!b->flows.empty()) {
          PrecomputedVerdicts pre[1];
          size_t n_pre = 0;
          if (parallel_ml) pre[n_pre++] = PrecomputedVerdicts{EngineId::kMl, b->ml, b->ml_outcome, b->ml_time};
          detector.judge(b->flows, std::span<const PrecomputedVerdicts>(pre, n_pre));
          const auto decisions = detector.decisions();
          const auto rules_v = detector.verdicts(EngineId::kRules);
          const auto math_v = detector.verdicts(EngineId::kMath);
          const auto ml_v = detector.verdicts(EngineId::kMl);
          for (size_t i = 0; i < b->flows.size(); ++i) {
            const FlowRecord& f = b->flows[i];
            const EnsembleDecision& d = decisions[i];
            if (!f.label.empty()) {
              LabelCounts& lc = summary.per_label[f.label];
              ++lc.flows;
              lc.anomalies += d.anomaly ? 1 : 0;
              const bool attack = !is_benign_label(f.label);
              if (attack) {
                ++(d.anomaly ? summary.true_positive : summary.false_negative);
              } else {
                ++(d.anomaly ? summary.false_positive : summary.true_negative);
              }
            }
            if (!options.write_outputs) continue;
            std::string& out = verdicts.buf();
            append_csv_field(out, f.origin);
            out.push_back(',');
            append_csv_field(out, f.label);
            append_score(out, rules_v.empty() ? nullptr : &rules_v[i]);
            append_score(out, math_v.empty() ? nullptr : &math_v[i]);
            append_score(out, ml_v.empty() ? nullptr : &ml_v[i]);
            if (d.decided) {
              fmt::format_to(std::back_inserter(out), ",{:.4f},{},", d.score, d.anomaly ? 1 : 0);
            } else {
              out.append(",,0,");
            }
            const std::vector<std::string_view> contributing = detector.contributing(d);
            for (size_t k = 0; k < contributing.size(); ++k) {
              if (k > 0) out.push_back(' ');
              out.append(contributing[k]);
            }
            out.push_back('\n');
            verdicts.maybe_flush();
            if (!d.anomaly) continue;

            const AnomalyRecord rec =
                build_anomaly_record(f, d, detector.threshold(), contributing, detector.evidence(f, i), run_wall_ms);
            anomalies.line(rec.anomaly_text);
            evidence.line(rec.evidence_text);
            events.line(rec.network_event);
            if (publish_queue) {
              const auto pub_start = Clock::now();
              publish_queue->add(Stream::kAnomalies, rec.id, rec.anomaly_text);
              publish_queue->add(Stream::kEvidence, rec.id, rec.evidence_text);
              publish_queue->pump();
              publish_time.record(since(pub_start));
            }
          }
          summary.flows += b->flows.size();
        }
        pool.put(std::move(b));
        if (options.on_progress && Clock::now() - last_progress >= std::chrono::seconds(1)) {
          last_progress = Clock::now();
          options.on_progress(summary.flows, detector.stats().anomalies);
        }
        if (last) break;
      }
    }
  } catch (...) {
    abort = true;
    for (auto& t : tasks) t->changed.notify_all();
    for (auto& th : threads) th.join();
    throw;
  }
  for (auto& th : threads) th.join();

  if (publish_queue) {
    // Drain what the rate limit held back, within one iteration's limit.
    const auto drain_end = Clock::now() + std::chrono::milliseconds(config.detection.timeout.count());
    while (publish_queue->backlog() > 0 && Clock::now() < drain_end) {
      publish_queue->pump();
      if (publish_queue->backlog() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    summary.published = publish_queue->published();
    summary.publish_held_back = publish_queue->backlog() + publish_queue->dropped();
    if (summary.publish_held_back > 0) {
      spdlog::warn("flows: {} message(s) not published: past detection.publish_rate within detection.timeout "
                   "(they are in the output files)", summary.publish_held_back);
    }
    const Status st = publisher->shutdown(std::chrono::milliseconds(config.detection.timeout.count()));
    if (!st.ok()) spdlog::warn("flows: kafka: {}", st.error().to_string());
  }

  summary.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  const DetectorStats& ds = detector.stats();
  summary.anomalies = ds.anomalies;

  nlohmann::json s;
  s["flows"] = summary.flows;
  s["anomalies"] = summary.anomalies;
  s["undecided"] = ds.undecided;
  s["rejected"] = summary.rejected;
  s["seconds"] = summary.seconds;
  s["flows_per_second"] = summary.seconds > 0 ? static_cast<double>(summary.flows) / summary.seconds : 0.0;
  s["workers"] = workers;
  s["threshold"] = detector.threshold();
  nlohmann::json eng = nlohmann::json::object();
  for (size_t i = 0; i < kEngineCount; ++i) {
    const auto id = static_cast<EngineId>(i);
    const EngineStats& es = ds.engines[i];
    const bool present = detector.has_engine(id);
    eng[std::string(engine_id_name(id))] = {{"present", present},        {"batches", es.batches},
                                             {"over_budget", es.over_budget}, {"failed", es.failed},
                                             {"decided", es.flows},           {"attack_votes", es.attack_votes},
                                             {"time", percentiles(es.time)}};
  }
  s["engines"] = std::move(eng);
  s["stages"] = {{"load", percentiles(load_time)},   {"features", percentiles(features_time)},
                 {"rules", percentiles(ds.engines[0].time)}, {"math", percentiles(ds.engines[1].time)},
                 {"ml", percentiles(ds.engines[2].time)},     {"vote", percentiles(ds.vote_time)},
                 {"evidence", percentiles(ds.evidence_time)}, {"publish", percentiles(publish_time)}};
  if (publish_queue) {
    s["kafka"] = {{"published", summary.published}, {"held_back", summary.publish_held_back}};
  }
  if (!summary.per_label.empty()) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [label, c] : summary.per_label) {
      labels[label] = {{"flows", c.flows}, {"anomalies", c.anomalies},
                       {"anomaly_rate", c.flows > 0 ? static_cast<double>(c.anomalies) / c.flows : 0.0}};
    }
    s["labels"] = std::move(labels);
    const double tp = summary.true_positive, fp = summary.false_positive, fn = summary.false_negative;
    const double precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    const double recall = tp + fn > 0 ? tp / (tp + fn) : 0;
    s["confusion"] = {{"true_positive", summary.true_positive},   {"false_positive", summary.false_positive},
                      {"true_negative", summary.true_negative},   {"false_negative", summary.false_negative},
                      {"precision", precision},                   {"recall", recall},
                      {"f1", precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0}};
  }
  summary.summary_json = s.dump(1) + "\n";
  if (options.write_outputs) {
    verdicts.finish();
    anomalies.finish();
    evidence.finish();
    events.finish();
    dead.finish();
    OutFile sum;
    sum.open(fs::path(options.out_dir) / "summary.json");
    sum.buf() = summary.summary_json;
    sum.finish();
  }
  return summary;
}

}  // namespace sentinel::flows
