#include "flows/ensemble.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace sentinel::flows {

Status ensemble_vote(std::span<const EngineColumn> columns, double threshold, std::span<EnsembleDecision> out) {
  if (columns.size() > kMaxEnsembleEngines) {
    return make_error("ensemble", fmt::format("{} engines (at most {})", columns.size(), kMaxEnsembleEngines));
  }
  for (const EngineColumn& c : columns) {
    if (!c.verdicts.empty() && c.verdicts.size() != out.size()) {
      return make_error("ensemble", fmt::format("engine '{}' has {} verdicts for {} flows", c.name,
                                                c.verdicts.size(), out.size()));
    }
    if (!std::isfinite(c.weight) || c.weight < 0) {
      return make_error("ensemble", fmt::format("engine '{}' has weight {}", c.name, c.weight));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    double weighted = 0, total = 0;
    uint32_t deciding = 0, contributing = 0;
    for (size_t e = 0; e < columns.size(); ++e) {
      const EngineColumn& c = columns[e];
      if (c.verdicts.empty() || c.weight <= 0) continue;
      const EngineVerdict& v = c.verdicts[i];
      if (!v.decided) continue;
      weighted += c.weight * v.score;
      total += c.weight;
      deciding |= 1u << e;
      if (v.attack) contributing |= 1u << e;
    }
    EnsembleDecision& d = out[i];
    d.decided = deciding != 0;
    d.score = d.decided ? weighted / total : 0.0;
    d.anomaly = d.decided && d.score >= threshold;
    d.deciding = deciding;
    d.contributing = contributing;
  }
  return Ok{};
}

std::vector<std::string_view> engine_names(uint32_t mask, std::span<const EngineColumn> columns) {
  std::vector<std::string_view> names;
  for (size_t e = 0; e < columns.size() && e < kMaxEnsembleEngines; ++e) {
    if ((mask >> e) & 1u) names.push_back(columns[e].name);
  }
  return names;
}

EnsembleVoter::EnsembleVoter(const EnsembleConfig& config) : config_(config) {
  const std::pair<const char*, double> weights[] = {
      {"ensemble.weight_rules", config.weight_rules},
      {"ensemble.weight_math", config.weight_math},
      {"ensemble.weight_ml", config.weight_ml},
  };
  double sum = 0;
  for (const auto& [key, w] : weights) {
    if (!std::isfinite(w) || w < 0) throw ConfigError(fmt::format("{}: {} is not a weight >= 0", key, w));
    sum += w;
  }
  if (sum <= 0) throw ConfigError("ensemble.weight_rules: every engine weight is 0; nothing could vote");
  if (!(config.threshold >= 0 && config.threshold <= 1)) {
    throw ConfigError(fmt::format("ensemble.threshold: {} is outside [0, 1]", config.threshold));
  }
}

double EnsembleVoter::weight(std::string_view engine) const {
  if (engine == "rules") return config_.weight_rules;
  if (engine == "math") return config_.weight_math;
  if (engine == "ml") return config_.weight_ml;
  throw std::invalid_argument(fmt::format("no ensemble weight for engine '{}' (rules, math, ml)", engine));
}

}  // namespace sentinel::flows
