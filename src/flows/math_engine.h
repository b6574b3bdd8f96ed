// The math engine (DESIGN.md section 6): statistics a rules file cannot
// express, each turned into a "signal" in z-score units; the strongest signal
// of a flow decides its score.
//
// Signals:
//  1. Robust z-scores of the rate/size features in kMathFeatures against a
//     baseline, on the log1p scale (these features span many orders of
//     magnitude; on the raw scale every large download would be an outlier).
//     z = (log1p(x) - median) / scale, where scale = 1.4826 * MAD floored at
//     Options::min_scale (1.5: z = 4 is then at least e^6 ~ 400 times the
//     median; benign traffic is heavy-tailed even on the log scale, and counts
//     such as packets have a MAD near 0). Only the upper tail counts (signal = max(0, z)):
//     unusually small flows are common and not an attack signature. Infinite
//     rates (zero-duration flows) and missing values are skipped.
//     The baseline comes from a fitted Normaliser when one is given (no
//     warm-up; its linear centre/scale are mapped to the log1p scale:
//     median = log1p(centre), scale = (log1p(centre + 0.6745 s) -
//     log1p(centre - 0.6745 s)) / 1.349, i.e. through its quartiles). Without
//     one, the first Options::warmup flows are collected and the exact median
//     and MAD of each feature computed from them. After that the baseline
//     follows the traffic slowly (frugal streaming: median and MAD each move
//     by adapt_rate * scale towards every flow), and 20 times more slowly
//     (anomalous_weight) towards flows the engine finds anomalous: an attack
//     does not soon teach the baseline that it is normal, yet a lasting change
//     of the traffic is learnt rather than flagged for ever.
//  2. Shannon entropy, over a sliding window of event time (the current and
//     the previous half of Options::window), of the destination ports and of
//     the peers (destination addresses) of each source, and of the sources of
//     each destination (fan-in). Signal = z_threshold * H / H_alert, so it
//     reaches the threshold at the alert level (e.g. port entropy of 5 bits =
//     32 equally used ports: a scan). Computed once the window holds
//     min_entropy_flows flows of that key.
//  3. Rate change of flows per source: the flows n of the source in the
//     current half-window against an EWMA of its past half-windows (lambda,
//     floored at rate_floor): signal = Z * ln(n / lambda) / ln(rate_alert_ratio),
//     reaching the threshold at rate_alert_ratio times the usual rate (a ratio
//     rather than a Poisson z, because client traffic is bursty: a page load
//     is not a flood). Counted once the source has rate_history completed
//     half-windows and n >= rate_min_flows.
//
// Score = s^2 / (s^2 + Z^2) for the strongest signal s (0 when s <= 0), Z =
// Options::z_threshold: 0.5 exactly at the threshold, towards 1 above. The
// engine votes attack when s >= Z. decided = false during warm-up, and for a
// flow on which no signal could be computed (every feature missing, no
// addresses).
//
// Event time: timestamp_ms; a flow without one takes the latest time seen
// (arrival order). Memory is bounded: per key at most max_values_per_key
// distinct values and over all keys max_values_total (past either, new values
// share the key's one "other" slot, which only lowers the entropy); at most max_keys
// sources and destinations each (idle sources expire after 10 windows, their
// value counts and idle destinations after one; past the cap the least
// recently seen are evicted).
//
// Threading: one thread calls evaluate()/explain() at a time (engine.h).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/config.h"
#include "flows/engine.h"

namespace sentinel::flows {

class Normaliser;

/// The rate and size features the math engine z-scores.
inline constexpr std::array<Feature, 10> kMathFeatures = {
    Feature::flow_bytes_per_s,         Feature::flow_packets_per_s,     Feature::fwd_packets_per_s,
    Feature::bwd_packets_per_s,        Feature::total_fwd_packets,      Feature::total_backward_packets,
    Feature::total_length_fwd_packets, Feature::total_length_bwd_packets, Feature::average_packet_size,
    Feature::max_packet_length,
};

class MathEngine final : public DetectionEngine {
 public:
  struct Options {
    double z_threshold = 4.0;  ///< DetectionConfig::math_z: signal at which the engine votes attack
    uint32_t warmup = 1000;    ///< DetectionConfig::math_warmup: flows before voting (no normaliser;
                               ///< 0 = vote at once on the windowed signals only, no z-scores)
    std::chrono::milliseconds window = std::chrono::milliseconds(60'000);  ///< entropy/rate window
    double port_entropy_bits = 5.0;   ///< destination-port entropy per source that reaches Z
    double peer_entropy_bits = 6.0;   ///< destination-address entropy per source that reaches Z
    double fanin_entropy_bits = 8.0;  ///< source-address entropy per destination that reaches Z
    uint32_t min_entropy_flows = 20;  ///< flows of a key in the window before its entropy counts
    double rate_floor = 10.0;         ///< minimum lambda (flows per half-window) for the rate ratio
    double rate_alert_ratio = 10.0;   ///< n / lambda that reaches Z
    uint32_t rate_min_flows = 50;     ///< flows in the current half-window before the rate counts
    uint32_t rate_history = 3;        ///< completed half-windows before the rate counts
    double rate_alpha = 0.3;          ///< EWMA weight of each completed half-window
    double adapt_rate = 0.002;        ///< baseline step per flow, in scales
    double anomalous_weight = 0.05;   ///< step factor for flows the engine finds anomalous
    double min_scale = 1.5;           ///< floor of every log1p-scale scale
    size_t max_keys = 20'000;         ///< sources and destinations each
    size_t max_values_per_key = 1024;       ///< distinct ports/peers/sources kept per key and window
    size_t max_values_total = 2'000'000;    ///< over all keys (at most 32 bytes each); past it new values share "other"
  };

  /// Options with z_threshold and warmup from the configuration.
  static Options options_from(const DetectionConfig& config);

  /// `normaliser` (optional) seeds the baseline; it is copied, not kept.
  explicit MathEngine(Options options, const Normaliser* normaliser = nullptr);
  ~MathEngine() override;
  MathEngine(const MathEngine&) = delete;
  MathEngine& operator=(const MathEngine&) = delete;

  std::string_view name() const override { return "math"; }
  Status evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                  std::chrono::steady_clock::time_point deadline) override;
  /// {"baseline": "normaliser"|"online"|"warming_up", "z_threshold", "strongest": {"signal",
  ///  "value"}, "z_scores": {feature: z >= threshold}, "max_z": {"feature", "z"},
  ///  "entropy": {"src_dst_ports"|"src_peers"|"dst_sources": {"bits", "flows", "distinct",
  ///  "alert_bits"}}, "rate": {"flows", "baseline", "ratio", "alert_ratio"}}; keys whose signal was not computed
  /// are absent.
  nlohmann::json explain(const FlowRecord& flow, size_t index_in_last_batch) const override;

  /// True once the baseline exists (normaliser given, or warm-up done).
  bool ready() const;
  /// Flows seen since start.
  uint64_t flows_seen() const;
  /// The current log1p-scale baseline of a kMathFeatures entry (nullopt before it exists
  /// or when the feature had no values).
  struct Baseline {
    double median = 0;
    double scale = 1;
  };
  std::optional<Baseline> baseline(Feature feature) const;
  /// Live sources + destinations tracked, and keys evicted by max_keys (memory checks).
  size_t live_keys() const;
  /// Distinct values stored over all keys (<= max_values_total).
  size_t live_values() const;
  uint64_t evicted_keys() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::flows
