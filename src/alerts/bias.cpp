#include "alerts/alerts_log.h"
#include "alerts/bias.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "stream/bytes.h"

namespace sentinel {
namespace {

constexpr uint32_t kBiasMagic = 0x53414942;  // "BIAS" little-endian
constexpr uint32_t kBiasVersion = 1;
/// Bytes of one saved bucket entry: district u32, events u64, alerts u64.
constexpr size_t kEntryBytes = 4 + 8 + 8;

/// floor(ms / bucket), correct for negative times.
int64_t hour_of(EventTime t) {
  const int64_t ms = to_ms(t), size = BiasMonitor::kBucket.count();
  int64_t q = ms / size;
  if (ms % size < 0) --q;
  return q;
}

/// (a / A) / (e / E) as one division of exact (below 2^53) products.
double share_ratio(uint64_t a, uint64_t total_a, uint64_t e, uint64_t total_e) {
  if (e == 0) return a == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  if (total_a == 0) return 0.0;
  return (static_cast<double>(a) * static_cast<double>(total_e)) /
         (static_cast<double>(total_a) * static_cast<double>(e));
}

double share(uint64_t part, uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(total);
}

}  // namespace

Status validate_bias_config(const BiasConfig& c) {
  if (c.window.count() <= 0 || c.window.count() % BiasMonitor::kBucket.count() != 0) {
    return make_error("bias.window", fmt::format("must be a positive whole number of hours (the check "
                                                 "counts hourly buckets), got {}ms",
                                                 c.window.count()));
  }
  if (!(c.min_ratio >= 0 && c.min_ratio <= 1)) {
    return make_error("bias.min_ratio", fmt::format("must be in [0, 1], got {}", c.min_ratio));
  }
  if (!(c.max_ratio >= 1 && std::isfinite(c.max_ratio))) {
    return make_error("bias.max_ratio", fmt::format("must be finite and >= 1, got {}", c.max_ratio));
  }
  return Ok{};
}

BiasMonitor::BiasMonitor(const BiasConfig& config) : config_(config) {
  if (auto s = validate_bias_config(config); !s) throw ConfigError(s.error().to_string());
  window_hours_ = config.window.count() / kBucket.count();
}

BiasMonitor::Counts* BiasMonitor::slot(int32_t district, EventTime t) {
  if (district < 0) return nullptr;
  const int64_t hour = hour_of(t);
  if (district >= kMaxDistricts || hour <= horizon_) {
    ++ignored_;
    return nullptr;
  }
  Bucket& bucket = buckets_[hour];
  const auto index = static_cast<size_t>(district);
  if (bucket.size() <= index) bucket.resize(index + 1);
  return &bucket[index];
}

void BiasMonitor::add_events(int32_t district, EventTime t, uint64_t n) {
  if (n == 0) return;
  if (Counts* c = slot(district, t)) c->events += n;
}

void BiasMonitor::add_ml_alert(int32_t district, EventTime t) {
  if (Counts* c = slot(district, t)) ++c->alerts;
}

void BiasMonitor::evaluate(EventTime now, std::vector<BiasChange>& changes) {
  const int64_t newest = hour_of(now);
  const int64_t oldest_out = newest - window_hours_;  // hours <= this are out
  horizon_ = std::max(horizon_, oldest_out);
  buckets_.erase(buckets_.begin(), buckets_.upper_bound(horizon_));

  scratch_.clear();
  uint64_t total_alerts = 0, total_events = 0;
  for (auto it = buckets_.begin(); it != buckets_.end() && it->first <= newest; ++it) {
    const Bucket& bucket = it->second;
    if (scratch_.size() < bucket.size()) scratch_.resize(bucket.size());
    for (size_t d = 0; d < bucket.size(); ++d) {
      scratch_[d].events += bucket[d].events;
      scratch_[d].alerts += bucket[d].alerts;
      total_events += bucket[d].events;
      total_alerts += bucket[d].alerts;
    }
  }

  const bool judged = total_alerts >= std::max<uint64_t>(config_.min_alerts, 1);
  if (flags_.size() < scratch_.size()) flags_.resize(scratch_.size(), 0);
  for (size_t d = 0; d < flags_.size(); ++d) {
    const Counts c = d < scratch_.size() ? scratch_[d] : Counts{};
    const double ratio = share_ratio(c.alerts, total_alerts, c.events, total_events);
    const bool flag = judged && (c.alerts != 0 || c.events != 0) &&
                      (ratio < config_.min_ratio || ratio > config_.max_ratio);
    if (flag == (flags_[d] != 0)) continue;
    flags_[d] = flag ? 1 : 0;

    BiasChange ch;
    ch.district = static_cast<int32_t>(d);
    ch.flagged = flag;
    ch.ratio = ratio;
    ch.alert_share = share(c.alerts, total_alerts);
    ch.event_share = share(c.events, total_events);
    ch.alerts = c.alerts;
    ch.events = c.events;
    ch.total_alerts = total_alerts;
    ch.total_events = total_events;
    changes.push_back(ch);

    if (flag) {
      alerts_log()->warn(
          "bias check: district {} flagged for review: ML alert share {:.4f} ({} of {}) vs event share "
          "{:.4f} ({} of {}), ratio {:.4f} outside [{}, {}]",
          d, ch.alert_share, ch.alerts, total_alerts, ch.event_share, ch.events, total_events, ratio,
          config_.min_ratio, config_.max_ratio);
    } else {
      alerts_log()->info(
          "bias check: district {} released: ML alert share {:.4f} ({} of {}) vs event share {:.4f} "
          "({} of {}), ratio {:.4f}{}",
          d, ch.alert_share, ch.alerts, total_alerts, ch.event_share, ch.events, total_events, ratio,
          judged ? "" : fmt::format(" (fewer than {} ML alerts in the window)", config_.min_alerts));
    }
  }
}

bool BiasMonitor::flagged(int32_t district) const {
  return district >= 0 && static_cast<size_t>(district) < flags_.size() &&
         flags_[static_cast<size_t>(district)] != 0;
}

void BiasMonitor::save(ByteWriter& out) const {
  out.u32(kBiasMagic);
  out.u32(kBiasVersion);
  out.i64(kBucket.count());
  out.i64(horizon_);
  out.u64(ignored_);
  out.u64(buckets_.size());
  for (const auto& [hour, bucket] : buckets_) {
    out.i64(hour);
    uint64_t entries = 0;
    for (const Counts& c : bucket) entries += (c.events != 0 || c.alerts != 0) ? 1 : 0;
    out.u64(entries);
    for (size_t d = 0; d < bucket.size(); ++d) {
      if (bucket[d].events == 0 && bucket[d].alerts == 0) continue;
      out.u32(static_cast<uint32_t>(d));
      out.u64(bucket[d].events);
      out.u64(bucket[d].alerts);
    }
  }
  uint64_t flagged_count = 0;
  for (uint8_t f : flags_) flagged_count += f;
  out.u64(flagged_count);
  for (size_t d = 0; d < flags_.size(); ++d) {
    if (flags_[d] != 0) out.u32(static_cast<uint32_t>(d));
  }
}

bool BiasMonitor::load(ByteReader& in) {
  if (in.u32() != kBiasMagic || in.u32() != kBiasVersion || in.i64() != kBucket.count()) return false;
  const int64_t horizon = in.i64();
  const uint64_t ignored = in.u64();
  std::map<int64_t, Bucket> buckets;
  // Grand totals must not wrap, or a restored monitor would judge on garbage.
  uint64_t sum_events = 0, sum_alerts = 0;
  const uint64_t bucket_count = in.count(8 + 8);
  int64_t previous_hour = horizon;
  for (uint64_t b = 0; b < bucket_count && !in.fail(); ++b) {
    const int64_t hour = in.i64();
    if (hour <= previous_hour) return false;  // out of order, repeated, or already expired
    previous_hour = hour;
    const uint64_t entries = in.count(kEntryBytes);
    if (in.fail() || entries == 0) return false;
    Bucket& bucket = buckets[hour];
    int64_t previous_district = -1;
    for (uint64_t i = 0; i < entries; ++i) {
      const uint32_t district = in.u32();
      const uint64_t events = in.u64();
      const uint64_t alerts = in.u64();
      if (in.fail() || district >= static_cast<uint32_t>(kMaxDistricts) ||
          static_cast<int64_t>(district) <= previous_district || (events == 0 && alerts == 0) ||
          __builtin_add_overflow(sum_events, events, &sum_events) ||
          __builtin_add_overflow(sum_alerts, alerts, &sum_alerts)) {
        return false;
      }
      previous_district = district;
      bucket.resize(district + 1);
      bucket[district] = Counts{events, alerts};
    }
  }
  std::vector<uint8_t> flags;
  const uint64_t flagged_count = in.count(4);
  int64_t previous_flag = -1;
  for (uint64_t i = 0; i < flagged_count && !in.fail(); ++i) {
    const uint32_t district = in.u32();
    if (in.fail() || district >= static_cast<uint32_t>(kMaxDistricts) ||
        static_cast<int64_t>(district) <= previous_flag) {
      return false;
    }
    previous_flag = district;
    flags.resize(district + 1, 0);
    flags[district] = 1;
  }
  if (in.fail()) return false;

  horizon_ = horizon;
  ignored_ = ignored;
  buckets_ = std::move(buckets);
  flags_ = std::move(flags);
  return true;
}

}  // namespace sentinel
