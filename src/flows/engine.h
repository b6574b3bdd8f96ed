// The detection engine interface (DESIGN.md section 6): the rules, math and
// ML engines each judge every flow of a batch; the ensemble voter combines
// their verdicts. Engines are best-effort: one that fails or passes its
// deadline is skipped for that batch and the others still decide.
//
// Lifecycle and threading: an engine is built once at start-up (configuration
// errors throw there), then `evaluate` is called by one thread at a time, once
// per batch; `explain` is called by the same thread after `evaluate`, only for
// the flows the ensemble found anomalous, and refers to that last batch.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"
#include "flows/flow.h"

namespace sentinel::flows {

/// One engine's judgement of one flow. `decided` = false means the engine
/// abstains for this flow (e.g. still warming up, or a feature it needs is
/// missing); the ensemble then ignores it. `score` is in [0,1]; `attack` is the
/// engine's own vote (its score against its own threshold).
struct EngineVerdict {
  bool decided = false;
  bool attack = false;
  double score = 0;
};

/// A detection engine. Implementations: RulesEngine (rules.h), MathEngine
/// (math_engine.h), MlEngine (ml_engine.h).
class DetectionEngine {
 public:
  virtual ~DetectionEngine() = default;

  /// Stable short name used in verdicts and evidence: "rules", "math", "ml".
  virtual std::string_view name() const = 0;

  /// Judges a batch. One call per batch (never per flow); writes out[i] for
  /// flows[i] (out.size() == flows.size()). Must check `deadline` between
  /// chunks of flows and return an error Status when it has passed; the batch
  /// is then skipped for this engine and `out` is ignored. Stateful engines
  /// (aggregations, baselines) update their state from the batch.
  virtual Status evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                          std::chrono::steady_clock::time_point deadline) = 0;

  /// Cold path, only for anomalies: the engine's reasons for flow
  /// `index_in_last_batch` of the last evaluated batch, as a JSON object.
  virtual nlohmann::json explain(const FlowRecord& flow, size_t index_in_last_batch) const = 0;
};

}  // namespace sentinel::flows
