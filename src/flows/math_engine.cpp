#include "flows/math_engine.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/int_math.h"
#include "core/string_hash.h"
#include "flows/normaliser.h"

namespace sentinel::flows {

namespace {

constexpr size_t kZCount = kMathFeatures.size();
constexpr double kMadToSigma = 1.4826;  // MAD of a normal distribution is 0.6745 sigma
constexpr double kQuartileZ = 0.6745;
constexpr uint64_t kOtherValue = ~0ull;  // the shared slot past max_values_per_key
constexpr int64_t kIdleWindows = 10;     // a key idle this many windows is dropped
constexpr float kNotComputed = std::numeric_limits<float>::quiet_NaN();

// c * log2(c) for counts, from a table for the small ones (every flow
// updates three entropies; log2 costs more than the rest of the update).
double xlog2x(uint32_t c) {
  constexpr uint32_t kTable = 4096;
  static const std::vector<double> table = [] {
    std::vector<double> t(kTable);
    for (uint32_t i = 1; i < kTable; ++i) t[i] = i * std::log2(static_cast<double>(i));
    return t;
  }();
  return c < kTable ? table[c] : c * std::log2(static_cast<double>(c));
}

// Counts of values over the current and the previous half-window, with the
// entropy kept incrementally: H = log2(N) - S / N where S = sum c*log2(c).
// Hand-written open addressing (linear probing, power-of-two capacity, load
// <= 1/2) because std::unordered_map allocates a node per value and chases
// pointers on every lookup, and this runs three times per flow.
class WindowedCounts {
 public:
  // Moves to half-window `bucket`: one step shifts current into previous
  // (dropping values with nothing left), more clears. Returns the change in
  // the number of stored values.
  ptrdiff_t advance(int64_t bucket) {
    if (bucket <= bucket_) return 0;
    const ptrdiff_t before = static_cast<ptrdiff_t>(size_);
    if (bucket == bucket_ + 1 && size_ > 0) {
      std::vector<Slot> old_slots;
      old_slots.swap(slots_);
      size_t capacity = kMinCapacity;
      while (capacity < 2 * size_) capacity *= 2;
      slots_.assign(capacity, Slot{});
      size_ = 0;
      total_ = 0;
      sum_ = 0;
      for (const Slot& old : old_slots) {
        if (old.key == kEmpty || old.current == 0) continue;
        Slot& slot = *probe(old.key);
        slot = Slot{old.key, 0, old.current};
        ++size_;
        total_ += old.current;
        sum_ += xlog2x(old.current);
      }
    } else {
      clear();
    }
    bucket_ = bucket;
    return static_cast<ptrdiff_t>(size_) - before;
  }

  // Adds one occurrence; a value not yet stored gets its own entry only when
  // `may_grow`, else it shares the "other" slot. Returns the values added.
  ptrdiff_t add(uint64_t value, bool may_grow) {
    if (value == kEmpty) value ^= 1;  // keep the empty marker free (a 2^-64 chance)
    if (slots_.empty()) slots_.assign(kMinCapacity, Slot{});
    Slot* slot = probe(value);
    ptrdiff_t added = 0;
    if (slot->key == kEmpty) {
      if (!may_grow) {
        value = kOtherValue;
        slot = probe(value);
      }
      if (slot->key == kEmpty) {
        if (2 * (size_ + 1) > slots_.size()) {
          grow();
          slot = probe(value);
        }
        slot->key = value;
        ++size_;
        added = 1;
      }
    }
    const uint32_t old = slot->current + slot->previous;
    ++slot->current;
    sum_ += xlog2x(old + 1) - xlog2x(old);
    ++total_;
    return added;
  }

  // Whether half-window `bucket` is still inside the sliding window.
  bool covers(int64_t bucket) const {
    return bucket_ == std::numeric_limits<int64_t>::min() || bucket >= bucket_ - 1;
  }

  double entropy_bits() const {
    if (total_ == 0) return 0;
    const double n = static_cast<double>(total_);
    return std::max(0.0, std::log2(n) - sum_ / n);
  }
  uint64_t total() const { return total_; }
  size_t distinct() const { return size_; }
  size_t clear() {
    const size_t n = size_;
    std::vector<Slot>().swap(slots_);
    size_ = 0;
    total_ = 0;
    sum_ = 0;
    return n;
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull - 1;
  static constexpr size_t kMinCapacity = 8;
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t current = 0;
    uint32_t previous = 0;
  };

  // The slot holding `key`, or the empty slot where it would go.
  Slot* probe(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (slots_[i].key != key && slots_[i].key != kEmpty) i = (i + 1) & mask;
    return &slots_[i];
  }

  void grow() {
    std::vector<Slot> old_slots;
    old_slots.swap(slots_);
    slots_.assign(old_slots.size() * 2, Slot{});
    for (const Slot& old : old_slots) {
      if (old.key != kEmpty) *probe(old.key) = old;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  int64_t bucket_ = std::numeric_limits<int64_t>::min();
  uint64_t total_ = 0;
  double sum_ = 0;
};

struct SourceState {
  int64_t last_ms = 0;
  uint64_t last_seq = 0;
  WindowedCounts ports;
  WindowedCounts peers;
  // Rate: flows in the current half-window, EWMA of completed ones.
  int64_t rate_bucket = std::numeric_limits<int64_t>::min();
  uint32_t rate_count = 0;
  double rate_ewma = 0;
  uint32_t rate_history = 0;
};

struct DestinationState {
  int64_t last_ms = 0;
  uint64_t last_seq = 0;
  WindowedCounts sources;
};

uint64_t hash_text(std::string_view s) { return std::hash<std::string_view>{}(s); }

// What evaluate() learnt about one flow, kept for explain() (one per flow of
// the last batch; the vector keeps its capacity across batches).
struct FlowStats {
  std::array<float, kZCount> z;
  float port_bits = kNotComputed, peer_bits = kNotComputed, fanin_bits = kNotComputed;
  uint32_t src_flows = 0, src_ports = 0, src_peers = 0, dst_flows = 0, dst_sources = 0;
  float rate_ratio = kNotComputed, rate_baseline = 0;
  uint32_t rate_flows = 0;
  float strongest = kNotComputed;
  uint8_t strongest_signal = 0;  // index into signal_name()
  bool warming = false;
};

// Signals: 0..kZCount-1 = z of kMathFeatures[i], then these.
enum : uint8_t { kPortEntropy = kZCount, kPeerEntropy, kFaninEntropy, kRateChange };

std::string signal_name(uint8_t signal) {
  if (signal < kZCount) return fmt::format("z:{}", feature_keys()[static_cast<size_t>(kMathFeatures[signal])]);
  switch (signal) {
    case kPortEntropy: return "entropy:src_dst_ports";
    case kPeerEntropy: return "entropy:src_peers";
    case kFaninEntropy: return "entropy:dst_sources";
    default: return "rate:src_flows";
  }
}

double median_of(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(mid))) / 2;
  }
  return m;
}

}  // namespace

struct MathEngine::Impl {
  Options options;
  bool from_normaliser = false;
  bool ready = false;
  uint64_t seen = 0;
  // Baseline per kMathFeatures entry, log1p scale; `usable` false when the
  // feature had no values to learn from.
  std::array<double, kZCount> median{};
  std::array<double, kZCount> mad{};  // scale / 1.4826
  std::array<bool, kZCount> usable{};
  std::array<std::vector<double>, kZCount> warmup_values;

  std::unordered_map<std::string, SourceState, TransparentStringHash, std::equal_to<>> sources;
  std::unordered_map<std::string, DestinationState, TransparentStringHash, std::equal_to<>> destinations;
  int64_t watermark_ms = std::numeric_limits<int64_t>::min();
  uint64_t seq = 0;
  int64_t next_sweep_ms = std::numeric_limits<int64_t>::min();
  uint64_t evicted = 0;
  ptrdiff_t entries = 0;  ///< stored value counts over every key (bounded by max_values_total)

  std::vector<FlowStats> stats;

  int64_t half_ms() const { return std::max<int64_t>(1, options.window.count() / 2); }
  double scale(size_t k) const { return std::max(options.min_scale, kMadToSigma * mad[k]); }

  void seed(const Normaliser& n) {
    for (size_t k = 0; k < kZCount; ++k) {
      const Feature f = kMathFeatures[k];
      usable[k] = n.count(f) > 0;
      if (!usable[k]) continue;
      const double c = std::max(0.0, n.centre(f)), s = n.scale(f);
      median[k] = std::log1p(c);
      const double hi = std::log1p(std::max(0.0, c + kQuartileZ * s));
      const double lo = std::log1p(std::max(0.0, c - kQuartileZ * s));
      mad[k] = ((hi - lo) / kIqrToSigma) / kMadToSigma;
    }
    from_normaliser = true;
    ready = true;
  }

  void finish_warmup() {
    for (size_t k = 0; k < kZCount; ++k) {
      std::vector<double>& v = warmup_values[k];
      usable[k] = !v.empty();
      if (v.empty()) continue;
      median[k] = median_of(v);
      for (double& x : v) x = std::fabs(x - median[k]);
      mad[k] = median_of(v);
      std::vector<double>().swap(v);
    }
    ready = true;
  }

  template <typename Map>
  void evict_oldest(Map& map) {
    // Cold path (only under key pressure): drop the least recently seen tenth.
    std::vector<std::pair<std::pair<int64_t, uint64_t>, std::string>> ages;
    ages.reserve(map.size());
    for (const auto& [key, state] : map) ages.push_back({{state.last_ms, state.last_seq}, key});
    const size_t drop = std::max<size_t>(1, map.size() - (options.max_keys - options.max_keys / 10));
    std::nth_element(ages.begin(), ages.begin() + static_cast<ptrdiff_t>(std::min(drop, ages.size()) - 1),
                     ages.end());
    for (size_t i = 0; i < drop && i < ages.size(); ++i) {
      auto it = map.find(ages[i].second);
      entries -= static_cast<ptrdiff_t>(entries_of(it->second));
      map.erase(it);
    }
    evicted += drop;
  }

  // Once per half-window of event time: forget value counts of keys idle for
  // a window, and keys idle for kIdleWindows windows.
  void sweep(int64_t now) {
    const int64_t window = options.window.count();
    const int64_t forget = now - window, drop = now - kIdleWindows * window;
    for (auto it = sources.begin(); it != sources.end();) {
      if (it->second.last_ms <= drop) {
        entries -= static_cast<ptrdiff_t>(entries_of(it->second));
        it = sources.erase(it);
        continue;
      }
      if (it->second.last_ms <= forget) {
        entries -= static_cast<ptrdiff_t>(it->second.ports.clear() + it->second.peers.clear());
      }
      ++it;
    }
    for (auto it = destinations.begin(); it != destinations.end();) {
      if (it->second.last_ms <= forget) {
        entries -= static_cast<ptrdiff_t>(entries_of(it->second));
        it = destinations.erase(it);
      } else {
        ++it;
      }
    }
    next_sweep_ms = now + half_ms();
  }

  template <typename Map>
  typename Map::mapped_type& state_for(Map& map, std::string_view key, int64_t time_ms) {
    auto it = map.find(key);
    if (it == map.end()) {
      if (map.size() >= options.max_keys) evict_oldest(map);
      it = map.try_emplace(std::string(key)).first;
      it->second.last_ms = time_ms;
    }
    it->second.last_ms = std::max(it->second.last_ms, time_ms);
    it->second.last_seq = seq;
    return it->second;
  }

  // Z at rate_alert_ratio times the usual rate, 0 at the usual rate.
  double rate_signal(double ratio) const {
    return options.z_threshold * std::log(ratio) / std::log(options.rate_alert_ratio);
  }

  bool may_grow(const WindowedCounts& c) const {
    return c.distinct() < options.max_values_per_key && entries < static_cast<ptrdiff_t>(options.max_values_total);
  }

  static size_t entries_of(const SourceState& s) { return s.ports.distinct() + s.peers.distinct(); }
  static size_t entries_of(const DestinationState& d) { return d.sources.distinct(); }

  // The windowed signals of one flow (entropies, rate), updating the state.
  // A late flow counts towards the entropies while its half-window is still
  // in the sliding window, and towards the rate only in the current one.
  void windowed(const FlowRecord& flow, int64_t time_ms, FlowStats& st) {
    const int64_t bucket = floor_div(time_ms, half_ms());
    if (!flow.src_ip.empty()) {
      SourceState& s = state_for(sources, flow.src_ip, time_ms);
      entries += s.ports.advance(bucket) + s.peers.advance(bucket);
      if (bucket > s.rate_bucket) {
        if (s.rate_bucket != std::numeric_limits<int64_t>::min()) {
          // Close the finished half-window, then decay over empty ones between.
          s.rate_ewma = options.rate_alpha * s.rate_count + (1 - options.rate_alpha) * s.rate_ewma;
          const int64_t gap = bucket - s.rate_bucket - 1;
          s.rate_ewma *= std::pow(1 - options.rate_alpha, static_cast<double>(std::min<int64_t>(gap, 1'000)));
          s.rate_history += static_cast<uint32_t>(std::min<int64_t>(gap + 1, 1'000'000));
        }
        s.rate_bucket = bucket;
        s.rate_count = 0;
      }
      if (s.ports.covers(bucket)) {
        const double port = flow[Feature::destination_port];
        if (!std::isnan(port)) {
          entries += s.ports.add(std::bit_cast<uint64_t>(port == 0 ? 0.0 : port), may_grow(s.ports));
        }
        if (!flow.dst_ip.empty()) entries += s.peers.add(hash_text(flow.dst_ip), may_grow(s.peers));
        if (s.ports.total() >= options.min_entropy_flows) {
          st.port_bits = static_cast<float>(s.ports.entropy_bits());
          st.src_flows = static_cast<uint32_t>(s.ports.total());
          st.src_ports = static_cast<uint32_t>(s.ports.distinct());
        }
        if (s.peers.total() >= options.min_entropy_flows) {
          st.peer_bits = static_cast<float>(s.peers.entropy_bits());
          st.src_flows = static_cast<uint32_t>(std::max<uint64_t>(st.src_flows, s.peers.total()));
          st.src_peers = static_cast<uint32_t>(s.peers.distinct());
        }
      }
      if (bucket == s.rate_bucket) {
        ++s.rate_count;
        if (s.rate_history >= options.rate_history && s.rate_count >= options.rate_min_flows) {
          const double lambda = std::max(options.rate_floor, s.rate_ewma);
          st.rate_ratio = static_cast<float>(s.rate_count / lambda);
          st.rate_baseline = static_cast<float>(lambda);
          st.rate_flows = s.rate_count;
        }
      }
    }
    if (!flow.dst_ip.empty() && !flow.src_ip.empty()) {
      DestinationState& d = state_for(destinations, flow.dst_ip, time_ms);
      entries += d.sources.advance(bucket);
      if (d.sources.covers(bucket)) {
        entries += d.sources.add(hash_text(flow.src_ip), may_grow(d.sources));
        if (d.sources.total() >= options.min_entropy_flows) {
          st.fanin_bits = static_cast<float>(d.sources.entropy_bits());
          st.dst_flows = static_cast<uint32_t>(d.sources.total());
          st.dst_sources = static_cast<uint32_t>(d.sources.distinct());
        }
      }
    }
  }

  void judge(const FlowRecord& flow, int64_t time_ms, FlowStats& st, EngineVerdict& out) {
    st = FlowStats{};
    st.z.fill(kNotComputed);
    std::array<double, kZCount> y;
    y.fill(std::numeric_limits<double>::quiet_NaN());
    for (size_t k = 0; k < kZCount; ++k) {
      const double x = flow[kMathFeatures[k]];
      if (std::isfinite(x) && x >= 0) y[k] = std::log1p(x);
    }
    windowed(flow, time_ms, st);
    ++seen;
    if (!ready) {
      for (size_t k = 0; k < kZCount; ++k) {
        if (!std::isnan(y[k])) warmup_values[k].push_back(y[k]);
      }
      if (seen >= options.warmup) finish_warmup();
      st.warming = true;
      out = EngineVerdict{};
      return;
    }
    double strongest = -std::numeric_limits<double>::infinity();
    uint8_t which = 0;
    auto consider = [&](double signal, uint8_t id) {
      if (!std::isnan(signal) && signal > strongest) {
        strongest = signal;
        which = id;
      }
    };
    for (size_t k = 0; k < kZCount; ++k) {
      if (!usable[k] || std::isnan(y[k])) continue;
      const double z = (y[k] - median[k]) / scale(k);
      st.z[k] = static_cast<float>(z);
      consider(z, static_cast<uint8_t>(k));
    }
    const double zt = options.z_threshold;
    if (!std::isnan(st.port_bits)) consider(zt * st.port_bits / options.port_entropy_bits, kPortEntropy);
    if (!std::isnan(st.peer_bits)) consider(zt * st.peer_bits / options.peer_entropy_bits, kPeerEntropy);
    if (!std::isnan(st.fanin_bits)) consider(zt * st.fanin_bits / options.fanin_entropy_bits, kFaninEntropy);
    if (!std::isnan(st.rate_ratio)) consider(rate_signal(st.rate_ratio), kRateChange);
    if (strongest == -std::numeric_limits<double>::infinity()) {
      out = EngineVerdict{};  // nothing to judge this flow on
      return;
    }
    st.strongest = static_cast<float>(strongest);
    st.strongest_signal = which;
    const double s = std::max(0.0, strongest);
    out.decided = true;
    out.score = s * s / (s * s + zt * zt);
    out.attack = s >= zt;
    adapt(y, out.attack ? options.anomalous_weight : 1.0);
  }

  // Frugal streaming: median and MAD each step towards the flow by
  // adapt_rate scales (times `weight`); their fixed points are the median
  // and the MAD.
  void adapt(const std::array<double, kZCount>& y, double weight) {
    for (size_t k = 0; k < kZCount; ++k) {
      if (!usable[k] || std::isnan(y[k])) continue;
      const double step = weight * options.adapt_rate * scale(k);
      median[k] += y[k] > median[k] ? step : (y[k] < median[k] ? -step : 0);
      const double deviation = std::fabs(y[k] - median[k]);
      mad[k] += deviation > mad[k] ? step / kMadToSigma : -step / kMadToSigma;
      mad[k] = std::max(mad[k], 0.0);
    }
  }
};

MathEngine::Options MathEngine::options_from(const DetectionConfig& config) {
  Options o;
  o.z_threshold = config.math_z;
  o.warmup = config.math_warmup;
  return o;
}

MathEngine::MathEngine(Options options, const Normaliser* normaliser) : impl_(std::make_unique<Impl>()) {
  if (!(options.z_threshold > 0) || options.window.count() < 2 || options.max_keys < 10 ||
      options.max_values_per_key < 1 || options.port_entropy_bits <= 0 || options.peer_entropy_bits <= 0 ||
      options.fanin_entropy_bits <= 0 || options.rate_floor <= 0 || !(options.rate_alert_ratio > 1) ||
      !(options.rate_alpha > 0 && options.rate_alpha <= 1) || !(options.min_scale > 0)) {
    throw ConfigError("math engine: invalid options (z_threshold, entropy levels, rate_floor and min_scale must be "
                      "> 0, rate_alert_ratio > 1, window >= 2 ms, rate_alpha in (0, 1], max_keys >= 10)");
  }
  impl_->options = options;
  if (normaliser != nullptr) {
    impl_->seed(*normaliser);
  } else if (options.warmup == 0) {
    impl_->finish_warmup();  // nothing to learn from: z-scores stay off, windows still count
  }
}

MathEngine::~MathEngine() = default;

Status MathEngine::evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                            std::chrono::steady_clock::time_point deadline) {
  if (out.size() != flows.size()) {
    return make_error("math", fmt::format("{} verdict slots for {} flows", out.size(), flows.size()));
  }
  Impl& m = *impl_;
  m.stats.resize(flows.size());
  constexpr size_t kDeadlineEvery = 256;
  for (size_t i = 0; i < flows.size(); ++i) {
    if (i % kDeadlineEvery == 0 && i > 0 && std::chrono::steady_clock::now() > deadline) {
      return make_error("math", fmt::format("time budget passed after {} of {} flows", i, flows.size()));
    }
    const FlowRecord& flow = flows[i];
    ++m.seq;
    if (flow.timestamp_ms != 0) m.watermark_ms = std::max(m.watermark_ms, flow.timestamp_ms);
    if (m.watermark_ms == std::numeric_limits<int64_t>::min()) m.watermark_ms = 0;
    const int64_t time_ms = flow.timestamp_ms != 0 ? flow.timestamp_ms : m.watermark_ms;
    if (m.watermark_ms >= m.next_sweep_ms) m.sweep(m.watermark_ms);
    m.judge(flow, time_ms, m.stats[i], out[i]);
  }
  return Ok{};
}

nlohmann::json MathEngine::explain(const FlowRecord& /*flow*/, size_t index_in_last_batch) const {
  const Impl& m = *impl_;
  nlohmann::json out;
  out["z_threshold"] = m.options.z_threshold;
  if (index_in_last_batch >= m.stats.size()) {
    out["baseline"] = m.ready ? (m.from_normaliser ? "normaliser" : "online") : "warming_up";
    return out;
  }
  const FlowStats& st = m.stats[index_in_last_batch];
  out["baseline"] = st.warming ? "warming_up" : (m.from_normaliser ? "normaliser" : "online");
  if (!std::isnan(st.strongest)) {
    out["strongest"] = {{"signal", signal_name(st.strongest_signal)}, {"value", st.strongest}};
  }
  nlohmann::json above = nlohmann::json::object();
  int best = -1;
  for (size_t k = 0; k < kZCount; ++k) {
    if (std::isnan(st.z[k])) continue;
    if (best < 0 || st.z[k] > st.z[static_cast<size_t>(best)]) best = static_cast<int>(k);
    if (st.z[k] >= m.options.z_threshold) {
      above[std::string(feature_keys()[static_cast<size_t>(kMathFeatures[k])])] = st.z[k];
    }
  }
  out["z_scores"] = std::move(above);
  if (best >= 0) {
    out["max_z"] = {{"feature", feature_keys()[static_cast<size_t>(kMathFeatures[static_cast<size_t>(best)])]},
                    {"z", st.z[static_cast<size_t>(best)]}};
  }
  nlohmann::json entropy = nlohmann::json::object();
  if (!std::isnan(st.port_bits)) {
    entropy["src_dst_ports"] = {{"bits", st.port_bits}, {"flows", st.src_flows}, {"distinct", st.src_ports},
                                {"alert_bits", m.options.port_entropy_bits}};
  }
  if (!std::isnan(st.peer_bits)) {
    entropy["src_peers"] = {{"bits", st.peer_bits}, {"flows", st.src_flows}, {"distinct", st.src_peers},
                            {"alert_bits", m.options.peer_entropy_bits}};
  }
  if (!std::isnan(st.fanin_bits)) {
    entropy["dst_sources"] = {{"bits", st.fanin_bits}, {"flows", st.dst_flows}, {"distinct", st.dst_sources},
                              {"alert_bits", m.options.fanin_entropy_bits}};
  }
  out["entropy"] = std::move(entropy);
  if (!std::isnan(st.rate_ratio)) {
    out["rate"] = {{"flows", st.rate_flows},
                   {"baseline", st.rate_baseline},
                   {"ratio", st.rate_ratio},
                   {"alert_ratio", m.options.rate_alert_ratio}};
  }
  return out;
}

bool MathEngine::ready() const { return impl_->ready; }
uint64_t MathEngine::flows_seen() const { return impl_->seen; }

std::optional<MathEngine::Baseline> MathEngine::baseline(Feature feature) const {
  const Impl& m = *impl_;
  auto it = std::find(kMathFeatures.begin(), kMathFeatures.end(), feature);
  if (it == kMathFeatures.end() || !m.ready) return std::nullopt;
  const auto k = static_cast<size_t>(it - kMathFeatures.begin());
  if (!m.usable[k]) return std::nullopt;
  return Baseline{m.median[k], m.scale(k)};
}

size_t MathEngine::live_keys() const { return impl_->sources.size() + impl_->destinations.size(); }
size_t MathEngine::live_values() const { return static_cast<size_t>(impl_->entries); }
uint64_t MathEngine::evicted_keys() const { return impl_->evicted; }

}  // namespace sentinel::flows
