// BiasMonitor: the bias check of DESIGN.md section 4. Over a sliding window
// (bias.window, 24 h), each district's share of ML-derived alerts is compared
// with its share of events; a ratio outside [min_ratio, max_ratio] (the
// four-fifths rule, [0.8, 1.25]) flags the district, and the caller marks that
// district's ML-derived alerts `bias_review: true`. Sensor and geofence alerts
// are never fed here and never held back by it.
//
// Granularity: one hour. Counts are bucketed by the hour of their event time
// (floor(t / 1 h), UTC, aligned to the Unix epoch). evaluate(now) counts the
// W = window / 1 h buckets ending with the hour that holds `now`, i.e. event
// times in [H + 1 h - window, H + 1 h) with H = now aligned down to the hour:
// the exact window (now - window, now] rounded out to whole hours. An event
// therefore leaves the window between window - 1 h and window after its time.
// bias.window must be a whole number of hours.
//
// Judging (at evaluate):
//  - totals A (ML alerts) and E (events) are over districts >= 0 in the window;
//    a district index < 0 (Enrichment::kNoDistrict) is ignored by add_*, so
//    alerts and events without a district count in neither share.
//  - nothing is judged while A < max(min_alerts, 1): every flag is released.
//  - otherwise each district d with alerts a or events e in the window gets
//    ratio = (a / A) / (e / E), computed as one division (a·E) / (A·e) of
//    integer products, which are exact below 2^53, so a ratio of exactly 4/5
//    equals the double 0.8 and counts as inside.
//    flagged = ratio < min_ratio || ratio > max_ratio.
//    A district with alerts but no events has ratio +inf and is flagged
//    (alerts attributed to a district where nothing was counted are the
//    strongest over-representation there is); one with events but no alerts
//    has ratio 0 and is flagged as under-represented when A is large enough.
//  - a district with neither in the window is not flagged.
//
// Memory: O(districts x hours) for the hours between now - window and the
// newest event time added. evaluate() drops buckets that fell out of the
// window, and adds whose hour is already out of the window of the latest
// evaluate() are ignored (they could never count again). `now` is expected
// not to go backwards; when it does, the dropped hours stay dropped.
// District indices are dense (index into the district table) and must be below
// kMaxDistricts; larger ones are ignored (counted in ignored()).
//
// Determinism and checkpoints: iteration is by hour and district index, never
// by hash order; save() writes the buckets, flags and horizon, load() restores
// them so the monitor continues exactly as the saved one would.
//
// Threading: single-threaded (the merger thread).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"

namespace sentinel {

class ByteWriter;
class ByteReader;

/// A district whose flag changed at evaluate(), with the figures that decided it.
struct BiasChange {
  int32_t district = 0;
  bool flagged = false;     ///< the new state: true = raised, false = released
  double ratio = 0;         ///< alert_share / event_share (+inf: alerts, no events)
  double alert_share = 0;   ///< alerts / total_alerts
  double event_share = 0;   ///< events / total_events
  uint64_t alerts = 0, events = 0, total_alerts = 0, total_events = 0;
};

/// Checks bias.* : window a positive whole number of hours;
/// 0 <= min_ratio <= 1 <= max_ratio (finite). The error's field names the key.
Status validate_bias_config(const BiasConfig& config);

class BiasMonitor {
 public:
  /// Bucket width (the check's time granularity).
  static constexpr Millis kBucket = Millis(3600'000);
  /// District indices at or above this are ignored (bounds memory on a bad index).
  static constexpr int32_t kMaxDistricts = 1 << 16;

  /// Throws ConfigError("<bias.key>: <reason>") when validate_bias_config fails.
  explicit BiasMonitor(const BiasConfig& config);

  /// Counts `n` events of `district` at event time `t` (every event that has a
  /// district, ML-scored or not). O(log hours held); allocates only for
  /// a new hour or a district index beyond those seen in that hour.
  void add_events(int32_t district, EventTime t, uint64_t n = 1);
  /// Counts one ML-derived alert (ml_anomaly, spike) of `district` at `t`.
  void add_ml_alert(int32_t district, EventTime t);

  /// Judges every district over the window ending at `now` (see the header
  /// comment), drops buckets that left the window, and appends to `changes`
  /// (which is not cleared) the districts whose flag was raised or released,
  /// ordered by district. Raised and released flags are logged (logger "alerts").
  void evaluate(EventTime now, std::vector<BiasChange>& changes);

  /// The flag as of the last evaluate(); false for unknown districts.
  bool flagged(int32_t district) const;

  /// Hour buckets held (memory bound checks).
  size_t bucket_count() const { return buckets_.size(); }
  /// Adds ignored: district index >= kMaxDistricts, or hour already out of the
  /// window (a negative index, "no district", is not counted here).
  uint64_t ignored() const { return ignored_; }

  void save(ByteWriter& out) const;
  /// Reads what save() wrote (and nothing after it, so the state can sit inside
  /// a larger checkpoint). False on malformed input; the monitor is then unchanged.
  bool load(ByteReader& in);

 private:
  struct Counts {
    uint64_t events = 0;
    uint64_t alerts = 0;
  };
  /// Per-district counts of one hour, indexed by district.
  using Bucket = std::vector<Counts>;

  Counts* slot(int32_t district, EventTime t);

  BiasConfig config_;
  int64_t window_hours_;
  /// Hour index -> bucket. Ordered so expiry, evaluation and save walk hours in order.
  std::map<int64_t, Bucket> buckets_;
  /// Hours <= horizon_ are out of the window of the latest evaluate().
  int64_t horizon_ = INT64_MIN;
  /// Flag per district index (1 = flagged); grows to the largest index judged.
  std::vector<uint8_t> flags_;
  uint64_t ignored_ = 0;
  /// evaluate()'s per-district sums, kept to reuse the allocation.
  std::vector<Counts> scratch_;
};

}  // namespace sentinel
