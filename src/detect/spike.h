// SpikeDetector: spike detection on tumbling-window counts (DESIGN.md section
// 3.3) against a per-key baseline learned online. A key is a tumbling window's
// (fine cell, category); its baseline is an exponentially weighted mean and
// variance of the counts of ALL its windows, the empty ones included.
//
// Contract (the caller is the alerting orchestration on the merger thread):
//  - observe() is called for every tumbling result with revision 0, in
//    window-end order per key. Windows with no events are never reported; the
//    detector accounts for the k windows skipped since the key's previous one
//    as k zero counts, in closed form (no loop, exact):
//      mean' = b^k * mean
//      var'  = b^k * (var + mean^2 * (1 - b^k))        with b = 1 - alpha,
//    which is what k explicit EWMA steps with a count of 0 give (the second
//    moment var + mean^2 decays by b^k). A window of count x then updates
//      d = x - mean; mean += alpha * d; var = b * (var + alpha * d^2).
//    A key's first window sets mean = count, var = 0.
//  - The verdict for a window is computed against the baseline BEFORE it (the
//    skipped zeros included), then the baseline learns the window.
//  - No verdict while the key warms up: the window must start at least
//    `warmup` of event time after the start of the key's first window, and the
//    first window itself never has one (there is no baseline before it).
//  - No verdict for a count below `min_count` or not above the baseline mean.
//    Otherwise a verdict is returned whatever its confidence: the gate
//    (thresholds.spike, alert vs trend_watch) is the caller's decision.
//  - "poisson": lambda = max(mean, min_rate); statistic = P(X >= count | lambda)
//    (the upper tail); confidence = P(X < count | lambda) = 1 - statistic.
//    "ewma": statistic = z = (count - mean) / sqrt(max(var, min_rate));
//    confidence = Phi(z), the standard normal CDF.
//  - revise() handles a re-emitted window (revision > 0, a late event raised
//    its count). For the key's most recent window it re-evaluates against the
//    baseline before that window and replaces the window's contribution to the
//    baseline (the pre-window baseline is kept per key, so this is exact); for
//    an older window it evaluates against the current baseline and learns
//    nothing. Same warm-up and min_count rules.
//  - Calls outside the contract never throw and keep the state consistent:
//    observe() of a window older than the key's latest is evaluated like an
//    older revise(); observe() of the latest window again is a revise() of it;
//    revise() of a window newer than the key's latest is an observe(); revise()
//    of an unknown key returns nullopt and changes nothing.
//  - SpikeConfig::enabled is not read here: the caller decides whether to call.
//
// State: per key 48 bytes (first and last window start, the baseline, and the
// baseline before the last window). expire() drops idle keys; save()/load()
// checkpoint everything, keys in sorted order so equal states give equal bytes.
// Deterministic: the same calls in the same order give the same verdicts.
// Threading: single-threaded; one detector per merger.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "core/config.h"
#include "core/time.h"
#include "stream/window_record.h"

namespace sentinel {
class ByteWriter;
class ByteReader;
}  // namespace sentinel

namespace sentinel::detect {

/// Why a window is a spike, for the alert's audit reasons.
struct SpikeVerdict {
  double confidence = 0;     ///< 0..1; poisson P(X < count), ewma Phi(z)
  double baseline_mean = 0;  ///< EWMA mean of the key's counts before this window
  double statistic = 0;      ///< poisson: upper tail P(X >= count); ewma: z
  uint64_t count = 0;        ///< the window's count
  EventTime window_start;
  std::string_view method;   ///< "poisson" or "ewma" (static storage)
};

class SpikeDetector {
 public:
  /// Throws std::invalid_argument naming the config key on an unknown
  /// method, alpha outside (0, 1], a negative warmup, a min_rate that is not a
  /// positive finite number, or a tumbling_size that is not positive.
  SpikeDetector(const SpikeConfig& config, Millis tumbling_size);
  ~SpikeDetector();
  SpikeDetector(SpikeDetector&&) noexcept;
  SpikeDetector& operator=(SpikeDetector&&) noexcept;

  /// A tumbling window's first result (revision 0). Evaluates it against the
  /// key's baseline, then learns it. See the file comment for the rules.
  std::optional<SpikeVerdict> observe(const WindowKey& key, EventTime window_start, uint64_t count);

  /// A re-emitted window (revision > 0) with its new count. The latest window
  /// of the key is re-evaluated and re-learned exactly; an older one is only
  /// evaluated against the current baseline.
  std::optional<SpikeVerdict> revise(const WindowKey& key, EventTime window_start, uint64_t new_count);

  /// Drops keys whose last window started before `before`; such a key warms up
  /// again when it comes back. Costs a pass over all keys: call it rarely.
  void expire(EventTime before);

  /// Number of keys with a baseline.
  size_t keys() const;

  /// Writes every key's state, sorted by (cell, category).
  void save(ByteWriter& out) const;
  /// Replaces the state with one written by save(). On malformed input
  /// returns false and leaves the detector as it was.
  bool load(ByteReader& in);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sentinel::detect
