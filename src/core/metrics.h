// Metrics: latency histograms, counters and gauges that shard threads write
// without shared locks; a registry that renders them for GET /metrics in the
// Prometheus text format 0.0.4; and the rolling p95 with the state machine
// behind the latency circuit breaker (DESIGN.md section 8).
//
// Threading, in one place:
//  - LatencyHistogram: ONE writer thread (the shard that owns it) and any
//    number of reader threads taking snapshots, all without locks (relaxed
//    atomics; a snapshot may miss records in flight, never invents any).
//  - Counter, Gauge: any number of writers and readers (relaxed atomics).
//    Give each shard its own instance and let the registry sum them, so that
//    writers never share a cache line.
//  - MetricsRegistry: families and instances are added at start-up under a
//    mutex; rendering takes the same mutexes only to list the instances, then
//    reads the atomics, so writers are never blocked.
//  - HistogramSnapshot, RollingQuantile, LatencyGuard: plain values, used by
//    one thread at a time.
//
// prometheus-cpp (Debian) is not used: its Summary takes a mutex on every
// observation and its registry owns instance lifetimes, which the shard hot
// path cannot afford; the text format is a few lines of code.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/time.h"

namespace sentinel {

/// The bucket layout shared by every histogram here: log-linear, as in
/// HdrHistogram with 2 significant digits, over nanoseconds. Values below
/// 256 ns have a bucket each (exact); above, every power of two is split into
/// 128 equal buckets, so a bucket is at most 1/128 (0.79%) of its lower bound
/// wide. Values above 1 h are counted in the top bucket. 4562 buckets in all.
/// Hand-written rather than HdrHistogram_c: it is not packaged for Debian,
/// and this layout is what the single-writer atomic recording needs.
namespace latency_buckets {

inline constexpr int kSubBits = 7;                              ///< 2^7 buckets per power of two
inline constexpr uint64_t kMaxTrackableNs = 3'600'000'000'000;  ///< 1 h

/// The bucket holding `ns` (clamped to kMaxTrackableNs).
constexpr size_t index_of(uint64_t ns) {
  if (ns > kMaxTrackableNs) ns = kMaxTrackableNs;
  if (ns < (uint64_t{2} << kSubBits)) return static_cast<size_t>(ns);
  const int shift = std::bit_width(ns) - 1 - kSubBits;
  return (static_cast<size_t>(shift) << kSubBits) + static_cast<size_t>(ns >> shift);
}

/// The smallest value counted in bucket `index`.
constexpr uint64_t lower_bound_ns(size_t index) {
  if (index < (size_t{2} << kSubBits)) return index;
  const int shift = static_cast<int>(index >> kSubBits) - 1;
  return (uint64_t{index & ((size_t{1} << kSubBits) - 1)} + (uint64_t{1} << kSubBits)) << shift;
}

/// The largest value counted in bucket `index` (what quantiles report).
constexpr uint64_t upper_bound_ns(size_t index) {
  if (index < (size_t{2} << kSubBits)) return index;
  const int shift = static_cast<int>(index >> kSubBits) - 1;
  return lower_bound_ns(index) + (uint64_t{1} << shift) - 1;
}

inline constexpr size_t kCount = index_of(kMaxTrackableNs) + 1;

}  // namespace latency_buckets

/// A histogram as a plain value: what a reader gets from LatencyHistogram,
/// what merges across shards, and the slots of RollingQuantile.
class HistogramSnapshot {
 public:
  HistogramSnapshot();

  /// Adds one value (negative values count as 0).
  void record(std::chrono::nanoseconds value);
  /// Adds every count of `other`.
  void merge(const HistogramSnapshot& other);
  void clear();

  uint64_t count() const { return count_; }
  /// Sum of the recorded values (exact, not bucketed).
  std::chrono::nanoseconds sum() const { return std::chrono::nanoseconds(sum_ns_); }

  /// The nearest-rank q-quantile (q in [0, 1], clamped), reported as the upper
  /// bound of its bucket: never below the exact nearest-rank value of the
  /// recorded samples, and at most 0.79% above it (exact below 256 ns;
  /// clamped at ~1 h). 0 when empty.
  std::chrono::nanoseconds quantile(double q) const;

  /// What was recorded after `earlier`, a snapshot of the same histogram
  /// taken before this one (e.g. the last 10 s of a cumulative histogram).
  HistogramSnapshot since(const HistogramSnapshot& earlier) const {
    HistogramSnapshot d = *this;
    d.subtract(earlier);
    return d;
  }

  /// Counts per bucket, indexed as in latency_buckets.
  const std::vector<uint64_t>& buckets() const { return buckets_; }

 private:
  friend class LatencyHistogram;
  friend class RollingQuantile;
  void subtract(const HistogramSnapshot& other);  // other must be a part of *this

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ns_ = 0;
};

/// A latency histogram written by one thread and read by any.
///
/// record() is a few relaxed loads and stores, no read-modify-write and no
/// lock: correct only with a single writer (the owning shard). snapshot()
/// may run concurrently on any thread. 36 KiB per instance.
class LatencyHistogram {
 public:
  LatencyHistogram();
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  /// Writer thread only.
  void record(std::chrono::nanoseconds latency) {
    const uint64_t ns = latency.count() > 0 ? static_cast<uint64_t>(latency.count()) : 0;
    bump(buckets_[latency_buckets::index_of(ns)], 1);
    bump(sum_ns_, ns);
    bump(count_, 1);
  }

  /// Any thread. The snapshot's count is the sum of its buckets, so its
  /// quantiles are consistent; its sum may include a record whose bucket it
  /// missed, or the reverse, while the writer is running.
  HistogramSnapshot snapshot() const;
  /// Any thread.
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::chrono::nanoseconds sum() const {
    return std::chrono::nanoseconds(sum_ns_.load(std::memory_order_relaxed));
  }

 private:
  // Single writer: a plain add published with a relaxed store is enough, and
  // avoids the locked instruction of fetch_add on every record.
  static void bump(std::atomic<uint64_t>& a, uint64_t n) {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

/// A monotonic count. Any thread may add; aligned to a cache line so that
/// per-shard instances never share one.
class alignas(64) Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down (queue depth, lag, breaker state).
class alignas(64) Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Label values of one instance, in the order of its family's label names.
using LabelValues = std::vector<std::string>;

/// A named metric with help text and label names, owning its instances.
/// Made by MetricsRegistry; lives as long as the registry.
template <typename Metric>
class MetricFamily {
 public:
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  /// A new instance for one writer (typically one per shard). Instances with
  /// equal label values are one series when rendered: counters and gauges
  /// summed, histograms merged. The reference stays valid for the registry's
  /// lifetime. Throws std::invalid_argument when the number of values differs
  /// from the number of label names.
  Metric& add(LabelValues values) {
    if (values.size() != label_names_.size()) {
      throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                  " label value(s), got " + std::to_string(values.size()));
    }
    std::lock_guard lock(mutex_);
    instances_.emplace_back(std::move(values), std::make_unique<Metric>());
    return *instances_.back().second;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  /// The instances as (labels, metric) pairs, copied under the lock so the
  /// caller can read the metrics without it.
  std::vector<std::pair<const LabelValues*, const Metric*>> instances() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<const LabelValues*, const Metric*>> out;
    out.reserve(instances_.size());
    for (const auto& [labels, metric] : instances_) out.emplace_back(&labels, metric.get());
    return out;
  }

 private:
  friend class MetricsRegistry;
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mutex_;  // guards instances_ (the vector, not the metrics)
  std::vector<std::pair<LabelValues, std::unique_ptr<Metric>>> instances_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using LatencyFamily = MetricFamily<LatencyHistogram>;

/// The metrics of one process, registered explicitly at start-up (no static
/// registration) and rendered for GET /metrics.
///
/// Lock order: the registry's mutex, then a family's.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// A counter family. `name` is given without the `_total` suffix, which
  /// rendering appends ("sentinel_events" → sentinel_events_total).
  /// All add_* throw std::invalid_argument on an invalid metric or label
  /// name, or a name already registered.
  CounterFamily& add_counter(std::string name, std::string help,
                             std::vector<std::string> label_names = {});
  GaugeFamily& add_gauge(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  /// A latency family, rendered as a Prometheus summary in seconds: the
  /// quantiles 0.5, 0.95 and 0.99 (NaN while empty), `_sum` and `_count`.
  /// The name should end in `_seconds`; "quantile" is not a valid label.
  LatencyFamily& add_latency(std::string name, std::string help,
                             std::vector<std::string> label_names = {});

  /// The text exposition format 0.0.4: families in registration order,
  /// series in the order their label values were first added.
  std::string render_prometheus() const;

 private:
  struct Entry;
  void check_new(const std::string& exposed_name, const std::string& name,
                 const std::vector<std::string>& label_names, bool summary) const;

  mutable std::mutex mutex_;  // guards entries_
  std::vector<std::unique_ptr<Entry>> entries_;
};

/// A quantile of latencies over the last `window` of processing time, to
/// within one slot: a ring of per-slot histograms plus their running total.
/// `now` is passed in (injected clock) and must not go backwards by more
/// than the window; records older than the window are dropped.
/// Not thread-safe: one per shard, or serialised by the caller.
class RollingQuantile {
 public:
  /// Covers `window` with ceil(window / slot) slots of `slot` each (36 KiB
  /// per slot). Throws std::invalid_argument unless 0 < slot <= window.
  explicit RollingQuantile(std::chrono::milliseconds window,
                           std::chrono::milliseconds slot = std::chrono::seconds(1));

  void record(std::chrono::nanoseconds latency, ProcTime now);
  /// Scans the running total (a few microseconds): call it per batch or per
  /// tick, not per event.
  std::chrono::nanoseconds quantile(double q, ProcTime now);
  std::chrono::nanoseconds p95(ProcTime now) { return quantile(0.95, now); }
  uint64_t count(ProcTime now);

 private:
  void advance(int64_t slot_number);
  int64_t slot_of(ProcTime now) const;

  struct Slot {
    int64_t number = 0;
    HistogramSnapshot histogram;
  };
  std::chrono::nanoseconds slot_;
  std::vector<Slot> ring_;
  HistogramSnapshot total_;  // the sum of the live slots
  int64_t head_ = 0;         // newest slot number seen
  bool started_ = false;
};

/// The latency circuit breaker's state machine over the rolling end-to-end
/// p95 (DESIGN.md section 8), with thresholds from LatencyConfig:
///
///   kNormal      --p95 > warn_p95-->     kWarning      (kWarningRaised)
///   kNormal      --p95 > breaker_p95-->  kBreakerOpen  (kBreakerOpened)
///   kWarning     --p95 > breaker_p95-->  kBreakerOpen  (kBreakerOpened)
///   kWarning     --p95 <= warn_p95-->    kNormal       (kWarningCleared)
///   kBreakerOpen --p95 <= warn_p95-->    kNormal       (kBreakerClosed)
///
/// Hysteresis: the breaker opens above breaker_p95 (8 s) but closes only at
/// or below warn_p95 (4 s); between the two it stays as it is. Bypassing
/// enrichment lowers the latency it measures, so closing at the opening
/// threshold would flap. A window with no samples has p95 0, so an idle
/// pipeline closes the breaker. The p95 compared is the bucket upper bound
/// (HistogramSnapshot::quantile), up to 0.79% above the true value, so the
/// guard errs towards acting early.
///
/// Pure logic: the caller records latencies, calls evaluate() per batch or
/// tick, and logs the returned transition (kNone almost always), so a change
/// is logged once, not per event. Not thread-safe.
class LatencyGuard {
 public:
  enum class State : uint8_t { kNormal, kWarning, kBreakerOpen };
  enum class Transition : uint8_t {
    kNone,
    kWarningRaised,
    kWarningCleared,
    kBreakerOpened,
    kBreakerClosed
  };

  /// The rolling window is config.window, in at most ~30 slots of >= 1 s.
  explicit LatencyGuard(const LatencyConfig& config);

  /// One event's end-to-end latency, finished at `now`.
  void record(std::chrono::nanoseconds latency, ProcTime now) { rolling_.record(latency, now); }
  /// Takes the rolling p95 at `now` and moves the state machine.
  Transition evaluate(ProcTime now);

  State state() const { return state_; }
  /// True while the breaker is open: skip costly enrichment.
  bool bypass_enrichment() const { return state_ == State::kBreakerOpen; }
  /// The p95 seen by the last evaluate().
  std::chrono::nanoseconds last_p95() const { return last_p95_; }

 private:
  std::chrono::nanoseconds warn_;
  std::chrono::nanoseconds breaker_;
  RollingQuantile rolling_;
  State state_ = State::kNormal;
  std::chrono::nanoseconds last_p95_{0};
};

const char* to_string(LatencyGuard::State state);
const char* to_string(LatencyGuard::Transition transition);

}  // namespace sentinel
