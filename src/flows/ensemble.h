// The ensemble voter (DESIGN.md section 6): combines the verdicts of the
// detection engines into one decision per flow.
//
//   score = sum(w_e * score_e) / sum(w_e)
//
// over the engines e that decided for that flow and have a weight above 0;
// an engine skipped for the batch (timed out, failed: an empty column) or
// undecided for the flow (warming up, abstaining) does not count, so the
// others still decide. anomaly = at least one engine counted and score >=
// threshold. The contributing engines are those that counted and voted
// attack. Weights and threshold come from EnsembleConfig (ensemble.*).
//
// Pure functions over spans: nothing is allocated per flow; safe to call
// from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "flows/engine.h"

namespace sentinel::flows {

/// One engine's verdicts for a batch.
struct EngineColumn {
  std::string_view name;                    ///< "rules", "math", "ml"
  double weight = 0;                        ///< >= 0
  std::span<const EngineVerdict> verdicts;  ///< one per flow; empty = engine skipped for this batch
};

/// The ensemble's decision for one flow. Bit e of the masks refers to
/// columns[e] of the vote.
struct EnsembleDecision {
  bool decided = false;       ///< at least one engine counted
  bool anomaly = false;       ///< decided and score >= threshold
  double score = 0;           ///< weighted score in [0, 1]
  uint32_t deciding = 0;      ///< engines that counted
  uint32_t contributing = 0;  ///< engines that counted and voted attack
};

inline constexpr size_t kMaxEnsembleEngines = 32;

/// Votes every flow of a batch: out[i] from the columns' verdicts[i]. Errors
/// (nothing written): more than kMaxEnsembleEngines columns, a non-empty
/// column whose size differs from out.size(), a negative or non-finite weight.
Status ensemble_vote(std::span<const EngineColumn> columns, double threshold, std::span<EnsembleDecision> out);

/// The names of the columns whose bit is set in `mask`, in column order (cold path).
std::vector<std::string_view> engine_names(uint32_t mask, std::span<const EngineColumn> columns);

/// The configured weights and threshold, checked once at start-up.
class EnsembleVoter {
 public:
  /// Throws ConfigError ("ensemble.weight_rules: ...") for a negative or
  /// non-finite weight, all weights 0, or a threshold outside [0, 1].
  explicit EnsembleVoter(const EnsembleConfig& config);

  /// The weight of an engine by name ("rules", "math", "ml"); throws
  /// std::invalid_argument for any other name (a wiring error).
  double weight(std::string_view engine) const;
  double threshold() const { return config_.threshold; }

  /// The column for an engine's verdicts (empty span = skipped this batch).
  EngineColumn column(std::string_view engine, std::span<const EngineVerdict> verdicts) const {
    return EngineColumn{engine, weight(engine), verdicts};
  }

  Status vote(std::span<const EngineColumn> columns, std::span<EnsembleDecision> out) const {
    return ensemble_vote(columns, config_.threshold, out);
  }

 private:
  EnsembleConfig config_;
};

}  // namespace sentinel::flows
