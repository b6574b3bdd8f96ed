#include "core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace sentinel {
namespace {

bool is_metric_name(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool is_label_name(const std::string& s) {
  return is_metric_name(s) && s.find(':') == std::string::npos && s.rfind("__", 0) != 0;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// HELP text: backslash and line feed escaped (format 0.0.4).
std::string escape_help(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// Label values: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, const std::string& s) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

/// `{a="x",b="y"}` plus an optional extra pair (the summary's quantile);
/// nothing when there are no labels at all.
std::string label_set(const std::vector<std::string>& names, const LabelValues& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += fmt::format("{}=\"{}\"", extra_name, extra_value);
  }
  return out + "}";
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

double seconds(std::chrono::nanoseconds ns) {
  return static_cast<double>(ns.count()) / 1e9;
}

/// Instances of one family grouped by label values, in first-seen order.
template <typename Value>
class Series {
 public:
  Value& at(const LabelValues& labels) {
    const auto [it, inserted] = index_.try_emplace(labels, rows_.size());
    if (inserted) rows_.emplace_back(&labels, Value{});
    return rows_[it->second].second;
  }
  const std::vector<std::pair<const LabelValues*, Value>>& rows() const { return rows_; }

 private:
  std::map<LabelValues, size_t> index_;
  std::vector<std::pair<const LabelValues*, Value>> rows_;
};

constexpr std::pair<double, std::string_view> kSummaryQuantiles[] = {
    {0.5, "0.5"}, {0.95, "0.95"}, {0.99, "0.99"}};

}  // namespace

// ---------------------------------------------------------- HistogramSnapshot --

HistogramSnapshot::HistogramSnapshot() : buckets_(latency_buckets::kCount, 0) {}

void HistogramSnapshot::record(std::chrono::nanoseconds value) {
  const uint64_t ns = value.count() > 0 ? static_cast<uint64_t>(value.count()) : 0;
  ++buckets_[latency_buckets::index_of(ns)];
  ++count_;
  sum_ns_ += ns;
}

void HistogramSnapshot::merge(const HistogramSnapshot& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
}

void HistogramSnapshot::subtract(const HistogramSnapshot& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] -= other.buckets_[i];
  count_ -= other.count_;
  sum_ns_ -= other.sum_ns_;
}

void HistogramSnapshot::clear() {
  if (count_ == 0) return;
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  sum_ns_ = 0;
}

std::chrono::nanoseconds HistogramSnapshot::quantile(double q) const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  if (!(q >= 0.0)) q = 0.0;  // also NaN
  if (q > 1.0) q = 1.0;
  // Nearest rank: the smallest value with at least ceil(q * n) values at or
  // below it. The epsilon keeps 0.95 * 100 from rounding up to rank 96.
  const double exact = q * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact - 1e-9 * exact));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::chrono::nanoseconds(static_cast<int64_t>(latency_buckets::upper_bound_ns(i)));
    }
  }
  return std::chrono::nanoseconds(
      static_cast<int64_t>(latency_buckets::upper_bound_ns(buckets_.size() - 1)));
}

// ----------------------------------------------------------- LatencyHistogram --

LatencyHistogram::LatencyHistogram()
    : buckets_(std::make_unique<std::atomic<uint64_t>[]>(latency_buckets::kCount)) {}

HistogramSnapshot LatencyHistogram::snapshot() const {
  HistogramSnapshot s;
  for (size_t i = 0; i < latency_buckets::kCount; ++i) {
    const uint64_t n = buckets_[i].load(std::memory_order_relaxed);
    s.buckets_[i] = n;
    s.count_ += n;
  }
  s.sum_ns_ = sum_ns_.load(std::memory_order_relaxed);
  return s;
}

// ------------------------------------------------------------ MetricsRegistry --

struct MetricsRegistry::Entry {
  std::string exposed;  // the name on the HELP and TYPE lines
  std::unique_ptr<CounterFamily> counter;
  std::unique_ptr<GaugeFamily> gauge;
  std::unique_ptr<LatencyFamily> latency;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::check_new(const std::string& exposed_name, const std::string& name,
                                const std::vector<std::string>& label_names, bool summary) const {
  if (!is_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!is_label_name(label)) {
      throw std::invalid_argument(name + ": invalid label name '" + label + "'");
    }
    if (summary && label == "quantile") {
      throw std::invalid_argument(name + ": 'quantile' is reserved in a summary");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<ptrdiff_t>(i), label) !=
        label_names.begin() + static_cast<ptrdiff_t>(i)) {
      throw std::invalid_argument(name + ": label '" + label + "' given twice");
    }
  }
  for (const auto& entry : entries_) {
    if (entry->exposed == exposed_name) {
      throw std::invalid_argument("metric '" + exposed_name + "' is already registered");
    }
  }
}

CounterFamily& MetricsRegistry::add_counter(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  if (ends_with(name, "_total")) {
    throw std::invalid_argument("counter '" + name + "': give the name without _total");
  }
  std::lock_guard lock(mutex_);
  const std::string exposed = name + "_total";
  check_new(exposed, name, label_names, false);
  auto entry = std::make_unique<Entry>();
  entry->exposed = exposed;
  entry->counter.reset(new CounterFamily(std::move(name), std::move(help), std::move(label_names)));
  entries_.push_back(std::move(entry));
  return *entries_.back()->counter;
}

GaugeFamily& MetricsRegistry::add_gauge(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  check_new(name, name, label_names, false);
  auto entry = std::make_unique<Entry>();
  entry->exposed = name;
  entry->gauge.reset(new GaugeFamily(std::move(name), std::move(help), std::move(label_names)));
  entries_.push_back(std::move(entry));
  return *entries_.back()->gauge;
}

LatencyFamily& MetricsRegistry::add_latency(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  check_new(name, name, label_names, true);
  auto entry = std::make_unique<Entry>();
  entry->exposed = name;
  entry->latency.reset(new LatencyFamily(std::move(name), std::move(help), std::move(label_names)));
  entries_.push_back(std::move(entry));
  return *entries_.back()->latency;
}

std::string MetricsRegistry::render_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& entry : entries_) {
    const std::string& name = entry->exposed;
    if (entry->counter) {
      const CounterFamily& family = *entry->counter;
      out +=
          fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, escape_help(family.help()), name);
      Series<uint64_t> series;
      for (const auto& [labels, counter] : family.instances())
        series.at(*labels) += counter->value();
      for (const auto& [labels, value] : series.rows()) {
        out += fmt::format("{}{} {}\n", name, label_set(family.label_names(), *labels), value);
      }
    } else if (entry->gauge) {
      const GaugeFamily& family = *entry->gauge;
      out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, escape_help(family.help()), name);
      Series<double> series;
      for (const auto& [labels, gauge] : family.instances()) series.at(*labels) += gauge->value();
      for (const auto& [labels, value] : series.rows()) {
        out += fmt::format("{}{} {}\n", name, label_set(family.label_names(), *labels),
                           format_value(value));
      }
    } else {
      const LatencyFamily& family = *entry->latency;
      out +=
          fmt::format("# HELP {} {}\n# TYPE {} summary\n", name, escape_help(family.help()), name);
      Series<HistogramSnapshot> series;
      for (const auto& [labels, histogram] : family.instances()) {
        series.at(*labels).merge(histogram->snapshot());
      }
      const std::vector<std::string>& names = family.label_names();
      for (const auto& [labels, snapshot] : series.rows()) {
        for (const auto& [q, text] : kSummaryQuantiles) {
          const double value = snapshot.count() == 0 ? std::nan("") : seconds(snapshot.quantile(q));
          out += fmt::format("{}{} {}\n", name, label_set(names, *labels, "quantile", text),
                             format_value(value));
        }
        out += fmt::format("{}_sum{} {}\n", name, label_set(names, *labels),
                           format_value(seconds(snapshot.sum())));
        out += fmt::format("{}_count{} {}\n", name, label_set(names, *labels), snapshot.count());
      }
    }
  }
  return out;
}

// ------------------------------------------------------------ RollingQuantile --

RollingQuantile::RollingQuantile(std::chrono::milliseconds window, std::chrono::milliseconds slot)
    : slot_(slot) {
  if (slot <= std::chrono::milliseconds(0) || slot > window) {
    throw std::invalid_argument("RollingQuantile: need 0 < slot <= window");
  }
  ring_.resize(static_cast<size_t>((window + slot - std::chrono::milliseconds(1)) / slot));
}

int64_t RollingQuantile::slot_of(ProcTime now) const {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const int64_t width = slot_.count();
  int64_t n = ns / width;
  if (ns % width < 0) --n;
  return n;
}

void RollingQuantile::advance(int64_t slot_number) {
  const auto size = static_cast<int64_t>(ring_.size());
  const auto at = [&](int64_t k) -> Slot& {
    return ring_[static_cast<size_t>(((k % size) + size) % size)];
  };
  if (!started_ || slot_number - head_ >= size) {
    for (int64_t k = slot_number - size + 1; k <= slot_number; ++k) {
      at(k).histogram.clear();
      at(k).number = k;
    }
    total_.clear();
    head_ = slot_number;
    started_ = true;
    return;
  }
  for (int64_t k = head_ + 1; k <= slot_number; ++k) {
    Slot& slot = at(k);
    total_.subtract(slot.histogram);
    slot.histogram.clear();
    slot.number = k;
  }
  head_ = std::max(head_, slot_number);
}

void RollingQuantile::record(std::chrono::nanoseconds latency, ProcTime now) {
  const int64_t n = slot_of(now);
  advance(n);
  const auto size = static_cast<int64_t>(ring_.size());
  Slot& slot = ring_[static_cast<size_t>(((n % size) + size) % size)];
  if (slot.number != n) return;  // older than the window
  slot.histogram.record(latency);
  total_.record(latency);
}

std::chrono::nanoseconds RollingQuantile::quantile(double q, ProcTime now) {
  advance(slot_of(now));
  return total_.quantile(q);
}

uint64_t RollingQuantile::count(ProcTime now) {
  advance(slot_of(now));
  return total_.count();
}

// --------------------------------------------------------------- LatencyGuard --

namespace {
std::chrono::milliseconds guard_slot(std::chrono::milliseconds window) {
  // About 30 slots: the window is honoured to within 1/30, at ~1 MiB per guard.
  const std::chrono::milliseconds one_second(1000);
  return std::max(window / 30, std::min(one_second, window));
}
}  // namespace

LatencyGuard::LatencyGuard(const LatencyConfig& config)
    : warn_(config.warn_p95),
      breaker_(config.breaker_p95),
      rolling_(config.window, guard_slot(config.window)) {}

LatencyGuard::Transition LatencyGuard::evaluate(ProcTime now) {
  const std::chrono::nanoseconds p95 = rolling_.p95(now);
  last_p95_ = p95;
  switch (state_) {
    case State::kNormal:
      if (p95 > breaker_) {
        state_ = State::kBreakerOpen;
        return Transition::kBreakerOpened;
      }
      if (p95 > warn_) {
        state_ = State::kWarning;
        return Transition::kWarningRaised;
      }
      return Transition::kNone;
    case State::kWarning:
      if (p95 > breaker_) {
        state_ = State::kBreakerOpen;
        return Transition::kBreakerOpened;
      }
      if (p95 <= warn_) {
        state_ = State::kNormal;
        return Transition::kWarningCleared;
      }
      return Transition::kNone;
    case State::kBreakerOpen:
      if (p95 <= warn_) {
        state_ = State::kNormal;
        return Transition::kBreakerClosed;
      }
      return Transition::kNone;
  }
  return Transition::kNone;
}

const char* to_string(LatencyGuard::State state) {
  switch (state) {
    case LatencyGuard::State::kNormal:
      return "normal";
    case LatencyGuard::State::kWarning:
      return "warning";
    case LatencyGuard::State::kBreakerOpen:
      return "breaker_open";
  }
  return "?";
}

const char* to_string(LatencyGuard::Transition transition) {
  switch (transition) {
    case LatencyGuard::Transition::kNone:
      return "none";
    case LatencyGuard::Transition::kWarningRaised:
      return "warning_raised";
    case LatencyGuard::Transition::kWarningCleared:
      return "warning_cleared";
    case LatencyGuard::Transition::kBreakerOpened:
      return "breaker_opened";
    case LatencyGuard::Transition::kBreakerClosed:
      return "breaker_closed";
  }
  return "?";
}

}  // namespace sentinel
