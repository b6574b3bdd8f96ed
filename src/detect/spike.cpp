#include "detect/spike.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "stream/bytes.h"

namespace sentinel::detect {

namespace {

constexpr std::string_view kPoisson = "poisson";
constexpr std::string_view kEwma = "ewma";
constexpr uint32_t kFormatTag = 0x314B5053;  // "SPK1"
// Bytes of one saved key: cell, category, two starts, four doubles.
constexpr size_t kSavedKeyBytes = 8 + 4 + 2 * 8 + 4 * 8;

// Boost.Math throws on domain/overflow/evaluation errors by default; this runs
// per window on the merger thread, where nothing may throw. The arguments are
// in range by construction (count >= 1, lambda >= min_rate > 0), so the policy
// only guards against surprises. No promotion to long double: x87 arithmetic
// is slower and buys nothing at the precision a confidence needs.
using NoThrowPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_double<false>>;

// 48 bytes per key. prev_* is the baseline just before the window at
// last_start (skipped zeros applied), kept so that a revision of that window
// can replace its contribution exactly.
struct KeyState {
  int64_t first_start = 0;  // ms, start of the key's first window
  int64_t last_start = 0;   // ms, start of its latest window
  double mean = 0, var = 0;
  double prev_mean = 0, prev_var = 0;
};

// b - a for b >= a without signed overflow (event times are arbitrary int64).
uint64_t span_ms(int64_t a, int64_t b) { return static_cast<uint64_t>(b) - static_cast<uint64_t>(a); }

bool key_less(const WindowKey& a, const WindowKey& b) {
  return a.cell != b.cell ? a.cell < b.cell : a.category < b.category;
}

// Counts are uint64, so a mean never exceeds 2^64 and a variance never exceeds
// 2^128 (both bounds are kept by skip() and learn()); a loaded value past them
// is corruption and could overflow mean^2.
constexpr double kMaxMean = 0x1p64;
constexpr double kMaxVar = 0x1p128;
bool valid_mean(double m) { return m >= 0 && m <= kMaxMean; }  // false for NaN
bool valid_var(double v) { return v >= 0 && v <= kMaxVar; }

}  // namespace

struct SpikeDetector::State {
  bool poisson = true;
  double alpha = 0;
  double keep = 0;  // 1 - alpha: weight of the old baseline per window
  uint64_t warmup_ms = 0;
  uint64_t min_count = 0;
  double min_rate = 0;
  uint64_t size_ms = 0;
  absl::flat_hash_map<WindowKey, KeyState> keys;

  // k windows of count 0, in closed form (see spike.h).
  void skip(double& mean, double& var, uint64_t k) const {
    if (k == 0) return;
    const double bk = std::pow(keep, static_cast<double>(k));
    var = bk * (var + mean * mean * (1 - bk));
    mean = bk * mean;
  }

  void learn(double& mean, double& var, uint64_t count) const {
    const double d = static_cast<double>(count) - mean;
    mean += alpha * d;
    var = keep * (var + alpha * d * d);
  }

  bool warm(const KeyState& s, int64_t window_start) const {
    return window_start > s.first_start && span_ms(s.first_start, window_start) >= warmup_ms;
  }

  std::optional<SpikeVerdict> evaluate(double mean, double var, uint64_t count, int64_t window_start) const {
    const double x = static_cast<double>(count);
    if (count < min_count || !(x > mean)) return std::nullopt;
    SpikeVerdict v;
    v.baseline_mean = mean;
    v.count = count;
    v.window_start = event_time_from_ms(window_start);
    if (poisson) {
      const double lambda = std::max(mean, min_rate);
      // P(X >= n | lambda) for Poisson X is the regularised lower incomplete
      // gamma P(n, lambda); its complement Q(n, lambda) is computed directly
      // when it is the small one, so neither side loses digits to 1 - p.
      v.statistic = boost::math::gamma_p(x, lambda, NoThrowPolicy());
      v.confidence = v.statistic < 0.5 ? 1 - v.statistic : boost::math::gamma_q(x, lambda, NoThrowPolicy());
      v.method = kPoisson;
    } else {
      v.statistic = (x - mean) / std::sqrt(std::max(var, min_rate));
      v.confidence = 0.5 * std::erfc(-v.statistic / std::sqrt(2.0));
      v.method = kEwma;
    }
    return v;
  }

  // A window after the key's latest: skipped zeros, verdict, then learn.
  std::optional<SpikeVerdict> advance(KeyState& s, int64_t window_start, uint64_t count) const {
    // Windows are aligned, so the gap is a whole number of windows; a
    // misaligned start (outside the contract) rounds down.
    const uint64_t gap = span_ms(s.last_start, window_start) / size_ms;
    double mean = s.mean, var = s.var;
    skip(mean, var, gap > 0 ? gap - 1 : 0);
    std::optional<SpikeVerdict> verdict;
    if (warm(s, window_start)) verdict = evaluate(mean, var, count, window_start);
    s.prev_mean = mean;
    s.prev_var = var;
    learn(mean, var, count);
    s.mean = mean;
    s.var = var;
    s.last_start = window_start;
    return verdict;
  }

  // The key's latest window again, with a new count.
  std::optional<SpikeVerdict> relearn(KeyState& s, int64_t window_start, uint64_t count) const {
    if (window_start == s.first_start) {  // no baseline before the first window
      s.mean = static_cast<double>(count);
      s.var = 0;
      return std::nullopt;
    }
    std::optional<SpikeVerdict> verdict;
    if (warm(s, window_start)) verdict = evaluate(s.prev_mean, s.prev_var, count, window_start);
    s.mean = s.prev_mean;
    s.var = s.prev_var;
    learn(s.mean, s.var, count);
    return verdict;
  }

  // A window before the key's latest: judged by the current baseline, not learned.
  std::optional<SpikeVerdict> judge_old(const KeyState& s, int64_t window_start, uint64_t count) const {
    if (!warm(s, window_start)) return std::nullopt;
    return evaluate(s.mean, s.var, count, window_start);
  }
};

SpikeDetector::SpikeDetector(const SpikeConfig& config, Millis tumbling_size) : state_(std::make_unique<State>()) {
  if (config.method == kPoisson) {
    state_->poisson = true;
  } else if (config.method == kEwma) {
    state_->poisson = false;
  } else {
    throw std::invalid_argument("spike.method: unknown method \"" + config.method + "\" (expected poisson or ewma)");
  }
  if (!(config.alpha > 0 && config.alpha <= 1)) {
    throw std::invalid_argument("spike.alpha: " + std::to_string(config.alpha) + " is outside (0, 1]");
  }
  if (config.warmup.count() < 0) throw std::invalid_argument("spike.warmup: must not be negative");
  if (!(std::isfinite(config.min_rate) && config.min_rate > 0)) {
    throw std::invalid_argument("spike.min_rate: " + std::to_string(config.min_rate) + " is not a positive number");
  }
  if (tumbling_size.count() <= 0) throw std::invalid_argument("windows.tumbling_size: must be positive");
  state_->alpha = config.alpha;
  state_->keep = 1 - config.alpha;
  state_->warmup_ms = static_cast<uint64_t>(config.warmup.count());
  state_->min_count = config.min_count;
  state_->min_rate = config.min_rate;
  state_->size_ms = static_cast<uint64_t>(tumbling_size.count());
}

SpikeDetector::~SpikeDetector() = default;
SpikeDetector::SpikeDetector(SpikeDetector&&) noexcept = default;
SpikeDetector& SpikeDetector::operator=(SpikeDetector&&) noexcept = default;

std::optional<SpikeVerdict> SpikeDetector::observe(const WindowKey& key, EventTime window_start, uint64_t count) {
  const int64_t start = to_ms(window_start);
  auto [it, inserted] = state_->keys.try_emplace(key);
  KeyState& s = it->second;
  if (inserted) {
    s.first_start = s.last_start = start;
    s.mean = static_cast<double>(count);
    return std::nullopt;
  }
  if (start > s.last_start) return state_->advance(s, start, count);
  if (start == s.last_start) return state_->relearn(s, start, count);
  return state_->judge_old(s, start, count);
}

std::optional<SpikeVerdict> SpikeDetector::revise(const WindowKey& key, EventTime window_start, uint64_t new_count) {
  auto it = state_->keys.find(key);
  if (it == state_->keys.end()) return std::nullopt;
  KeyState& s = it->second;
  const int64_t start = to_ms(window_start);
  if (start > s.last_start) return state_->advance(s, start, new_count);
  if (start == s.last_start) return state_->relearn(s, start, new_count);
  return state_->judge_old(s, start, new_count);
}

void SpikeDetector::expire(EventTime before) {
  const int64_t limit = to_ms(before);
  absl::erase_if(state_->keys, [limit](const auto& kv) { return kv.second.last_start < limit; });
}

size_t SpikeDetector::keys() const { return state_->keys.size(); }

void SpikeDetector::save(ByteWriter& out) const {
  std::vector<std::pair<WindowKey, KeyState>> items(state_->keys.begin(), state_->keys.end());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return key_less(a.first, b.first); });
  out.u32(kFormatTag);
  out.u64(items.size());
  for (const auto& [k, s] : items) {
    out.u64(k.cell);
    out.u32(k.category);
    out.i64(s.first_start);
    out.i64(s.last_start);
    out.f64(s.mean);
    out.f64(s.var);
    out.f64(s.prev_mean);
    out.f64(s.prev_var);
  }
}

bool SpikeDetector::load(ByteReader& in) {
  if (in.u32() != kFormatTag) {
    in.set_fail();
    return false;
  }
  const uint64_t n = in.count(kSavedKeyBytes);
  absl::flat_hash_map<WindowKey, KeyState> keys;
  keys.reserve(n);
  WindowKey previous;
  for (uint64_t i = 0; i < n && !in.fail(); ++i) {
    WindowKey k;
    k.cell = in.u64();
    k.category = in.u32();
    KeyState s;
    s.first_start = in.i64();
    s.last_start = in.i64();
    s.mean = in.f64();
    s.var = in.f64();
    s.prev_mean = in.f64();
    s.prev_var = in.f64();
    // save() writes keys strictly ascending and moments in range: anything
    // else is corruption, and NaN or negative moments would leak into verdicts.
    const bool ordered = i == 0 || key_less(previous, k);
    if (!ordered || s.first_start > s.last_start || !valid_mean(s.mean) || !valid_var(s.var) ||
        !valid_mean(s.prev_mean) || !valid_var(s.prev_var)) {
      in.set_fail();
      break;
    }
    keys.emplace(k, s);
    previous = k;
  }
  if (in.fail()) return false;
  state_->keys = std::move(keys);
  return true;
}

}  // namespace sentinel::detect
