// The ML detection engine (DESIGN.md section 6): a binary attack-vs-benign
// gradient-boosted tree model (LightGBM text or XGBoost JSON, gbdt.h) scored
// natively over each batch of flows.
//
// The model's feature names must be flow features: each is looked up once,
// at construction, by its canonical CIC name ("Flow Duration"), its
// snake_case key ("flow_duration"), or the canonical name with spaces as
// underscores ("Flow_Duration", as LightGBM's Python package writes names).
// Features the model does not use are ignored; a feature missing from the
// flow (NaN) is routed by the model's own missing-value rules.
//
// Verdicts: every flow is decided; score = the model's probability of attack;
// attack = score >= threshold (detection.ml_threshold).
//
// Threading: as DetectionEngine (one caller at a time); the row buffers are
// reused across batches, so steady-state evaluation allocates nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "flows/engine.h"
#include "flows/gbdt.h"

namespace sentinel::flows {

class MlEngine final : public DetectionEngine {
 public:
  /// Throws ModelError when the model is not a binary classifier or names
  /// a feature that is not a flow feature (naming it), and
  /// std::invalid_argument for a threshold outside [0, 1].
  MlEngine(TreeModel model, double threshold);
  /// Loads config.model and uses config.ml_threshold. Throws ModelError.
  static std::unique_ptr<MlEngine> from_config(const DetectionConfig& config);

  std::string_view name() const override { return "ml"; }
  Status evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                  std::chrono::steady_clock::time_point deadline) override;
  /// {"engine":"ml","model":...,"objective":...,"score":p,"threshold":t,
  ///  "attack":bool,"top_features":[{"feature":key,"name":canonical,
  ///  "value":x|null,"contribution":c},...]}: the five largest Saabas
  /// contributions (gbdt.h contributions()) to the raw score by |c|, with
  /// "bias" the part no feature explains. Recomputed from `flow`.
  nlohmann::json explain(const FlowRecord& flow, size_t index_in_last_batch) const override;

  const TreeModel& model() const { return model_; }
  double threshold() const { return threshold_; }
  /// Attack probability of one flow (the score evaluate() gives it).
  double score(const FlowRecord& flow) const;

 private:
  void fill_row(const FlowRecord& flow, double* row) const;

  TreeModel model_;
  double threshold_;
  std::vector<uint8_t> flow_feature_;  ///< model feature j reads flow feature flow_feature_[j]
  std::vector<double> rows_;           ///< reused row buffer, one chunk
  std::vector<double> raw_;
};

}  // namespace sentinel::flows
