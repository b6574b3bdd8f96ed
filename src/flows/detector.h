// The detection core (DESIGN.md section 6): the three engines over a batch
// of flows, each within its time budget, then the ensemble vote; evidence
// for the anomalies.
//
// Engines are best-effort. An engine that returns an error, throws, or runs
// past detection.engine_budget is skipped for that batch (counted and
// logged, with the batch's first origin) and the others still decide; the
// vote only weighs the engines that decided.
//
// The ML engine is stateless, so callers that parse on several threads may
// run it there (one MlEngine per thread) and hand its verdicts in with
// judge(): the stateful engines (rules with aggregations, math baselines)
// then still see every flow in input order on one thread, which keeps the
// results independent of the number of threads.
//
// Threading: one thread calls judge() and reads its results; stats() may be
// read by the same thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/config.h"
#include "core/metrics.h"
#include "flows/engine.h"
#include "flows/ensemble.h"
#include "flows/normaliser.h"

namespace sentinel::flows {

/// The engines in their fixed order (verdict columns, stats, evidence).
enum class EngineId : uint8_t { kRules = 0, kMath = 1, kMl = 2 };
inline constexpr size_t kEngineCount = 3;
std::string_view engine_id_name(EngineId id);

/// What happened to one engine over one batch.
enum class EngineOutcome : uint8_t { kAbsent, kDecided, kOverBudget, kFailed };

/// Verdicts computed elsewhere for one batch (the ML engine on a parse
/// thread): `verdicts` empty = that engine was skipped for the batch.
struct PrecomputedVerdicts {
  EngineId engine = EngineId::kMl;
  std::span<const EngineVerdict> verdicts;
  EngineOutcome outcome = EngineOutcome::kDecided;
  std::chrono::nanoseconds elapsed{0};
};

struct EngineStats {
  uint64_t batches = 0;       ///< batches the engine decided
  uint64_t over_budget = 0;   ///< batches skipped: past detection.engine_budget
  uint64_t failed = 0;        ///< batches skipped: error or exception
  uint64_t flows = 0;         ///< flows it decided (verdict.decided)
  uint64_t attack_votes = 0;  ///< flows it voted attack
  HistogramSnapshot time;     ///< per batch
};

struct DetectorStats {
  uint64_t batches = 0;
  uint64_t flows = 0;
  uint64_t undecided = 0;  ///< flows no engine decided
  uint64_t anomalies = 0;
  std::array<EngineStats, kEngineCount> engines;
  HistogramSnapshot vote_time;      ///< per batch
  HistogramSnapshot evidence_time;  ///< per anomaly
};

/// The engines a configuration asks for, built at start-up (throws
/// ConfigError / ModelError naming the file): rules when detection.rules is
/// set, ML when detection.model is set, math always (seeded from the model's
/// normaliser "<model>.norm.json" when present, else learning online).
struct EngineSet {
  std::unique_ptr<DetectionEngine> rules;
  std::unique_ptr<DetectionEngine> math;
  std::unique_ptr<DetectionEngine> ml;
  std::optional<Normaliser> normaliser;
};
EngineSet build_engines(const Config& config);
/// Just the ML engine of a configuration (one per parse thread); null when
/// detection.model is empty.
std::unique_ptr<DetectionEngine> build_ml_engine(const Config& config);

class Detector {
 public:
  /// Takes the engines (any may be null: absent) and the vote settings.
  /// Throws ConfigError for invalid ensemble weights or threshold.
  Detector(EngineSet engines, const EnsembleConfig& ensemble, std::chrono::milliseconds engine_budget);
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  /// Judges one batch: runs every present engine not given in `precomputed`
  /// (each with its own deadline), then votes. Results stay valid until the
  /// next call.
  void judge(std::span<const FlowRecord> flows, std::span<const PrecomputedVerdicts> precomputed = {});

  std::span<const EnsembleDecision> decisions() const { return decisions_; }
  /// One engine's verdicts for the last batch; empty when it was absent or skipped.
  std::span<const EngineVerdict> verdicts(EngineId id) const;
  EngineOutcome outcome(EngineId id) const { return outcome_[static_cast<size_t>(id)]; }
  bool has_engine(EngineId id) const;
  /// Names of the engines that voted attack for a decision ("rules", "ml").
  std::vector<std::string_view> contributing(const EnsembleDecision& decision) const;

  /// Cold path, for an anomaly of the last batch: the evidence object
  /// (evidence.h) of flows[index].
  nlohmann::json evidence(const FlowRecord& flow, size_t index);

  const DetectorStats& stats() const { return stats_; }
  double threshold() const;
  const Normaliser* normaliser() const { return normaliser_ ? &*normaliser_ : nullptr; }
  /// The settings in force as JSON (the policy message): engines present,
  /// weights, threshold, budgets, rule ids, model file.
  nlohmann::json policy() const;

 private:
  void run_engine(size_t slot, std::span<const FlowRecord> flows);
  std::vector<EngineColumn> columns() const;

  std::array<std::unique_ptr<DetectionEngine>, kEngineCount> engines_;
  std::optional<Normaliser> normaliser_;
  EnsembleVoter voter_;
  std::chrono::milliseconds budget_;
  std::array<std::vector<EngineVerdict>, kEngineCount> own_verdicts_;
  std::array<std::span<const EngineVerdict>, kEngineCount> verdicts_;
  std::array<EngineOutcome, kEngineCount> outcome_{};
  std::vector<EnsembleDecision> decisions_;
  DetectorStats stats_;
  std::array<uint64_t, kEngineCount> skipped_logged_{};
};

}  // namespace sentinel::flows
