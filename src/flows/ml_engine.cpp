#include "flows/ml_engine.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sentinel::flows {

namespace {

/// Flows per chunk: the deadline is checked between chunks, and a chunk's
/// rows (256 x 79 doubles, 160 KB) stay in L2.
constexpr size_t kChunk = 256;
constexpr size_t kTopFeatures = 5;

std::optional<Feature> find_model_feature(std::string_view name) {
  if (auto f = find_feature(name)) return f;
  // LightGBM's Python package writes names with spaces as underscores.
  const auto& names = feature_names();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string_view canonical = names[i];
    if (canonical.size() != name.size()) continue;
    bool same = true;
    for (size_t c = 0; c < name.size() && same; ++c) {
      same = canonical[c] == name[c] || (canonical[c] == ' ' && name[c] == '_');
    }
    if (same) return static_cast<Feature>(i);
  }
  return std::nullopt;
}

}  // namespace

MlEngine::MlEngine(TreeModel model, double threshold) : model_(std::move(model)), threshold_(threshold) {
  if (!(threshold_ >= 0.0 && threshold_ <= 1.0)) {
    throw std::invalid_argument(fmt::format("detection.ml_threshold: {} is not in [0, 1]", threshold_));
  }
  if (model_.kind() != TreeModel::Kind::binary) {
    throw ModelError(fmt::format("the ML engine needs a binary attack-vs-benign model; objective '{}' is not one",
                                 model_.objective()));
  }
  const std::vector<std::string>& names = model_.feature_names();
  flow_feature_.resize(names.size());
  for (size_t j = 0; j < names.size(); ++j) {
    const std::optional<Feature> f = find_model_feature(names[j]);
    if (!f) throw ModelError(fmt::format("model feature '{}' (feature {}) is not a flow feature", names[j], j));
    flow_feature_[j] = static_cast<uint8_t>(*f);
  }
  rows_.resize(kChunk * names.size());
  raw_.resize(kChunk);
}

std::unique_ptr<MlEngine> MlEngine::from_config(const DetectionConfig& config) {
  return std::make_unique<MlEngine>(TreeModel::load(config.model), config.ml_threshold);
}

void MlEngine::fill_row(const FlowRecord& flow, double* row) const {
  for (size_t j = 0; j < flow_feature_.size(); ++j) row[j] = flow.features[flow_feature_[j]];
}

Status MlEngine::evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                          std::chrono::steady_clock::time_point deadline) {
  if (out.size() != flows.size()) {
    return make_error("ml", fmt::format("{} verdict slots for {} flows", out.size(), flows.size()));
  }
  const size_t n_features = flow_feature_.size();
  for (size_t first = 0; first < flows.size(); first += kChunk) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error("ml", fmt::format("deadline passed after {} of {} flows", first, flows.size()));
    }
    const size_t n = std::min(kChunk, flows.size() - first);
    for (size_t i = 0; i < n; ++i) fill_row(flows[first + i], rows_.data() + i * n_features);
    model_.predict_raw_batch(rows_.data(), n, n_features, raw_.data());
    for (size_t i = 0; i < n; ++i) {
      double p = 0;
      model_.transform(&raw_[i], &p);
      out[first + i] = EngineVerdict{true, p >= threshold_, p};
    }
  }
  return Ok{};
}

double MlEngine::score(const FlowRecord& flow) const {
  std::vector<double> row(flow_feature_.size());
  fill_row(flow, row.data());
  double raw = 0;
  model_.predict_raw(row.data(), &raw);
  double p = 0;
  model_.transform(&raw, &p);
  return p;
}

nlohmann::json MlEngine::explain(const FlowRecord& flow, size_t /*index_in_last_batch*/) const {
  std::vector<double> row(flow_feature_.size());
  fill_row(flow, row.data());
  double raw = 0;
  model_.predict_raw(row.data(), &raw);
  double p = 0;
  model_.transform(&raw, &p);

  std::vector<std::pair<size_t, double>> contributions = model_.contributions(row.data());
  std::stable_sort(contributions.begin(), contributions.end(),
                   [](const auto& a, const auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
  if (contributions.size() > kTopFeatures) contributions.resize(kTopFeatures);

  nlohmann::json top = nlohmann::json::array();
  for (const auto& [j, c] : contributions) {
    const size_t f = flow_feature_[j];
    const double value = flow.features[f];
    top.push_back({{"feature", feature_keys()[f]},
                   {"name", feature_names()[f]},
                   {"value", std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value)},
                   {"contribution", c}});
  }
  return {{"engine", "ml"},
          {"model", model_.format() == TreeModel::Format::xgboost ? "xgboost" : "lightgbm"},
          {"objective", model_.objective()},
          {"score", p},
          {"raw_score", raw},
          {"threshold", threshold_},
          {"attack", p >= threshold_},
          {"bias", model_.contribution_bias()},
          {"top_features", std::move(top)}};
}

}  // namespace sentinel::flows
