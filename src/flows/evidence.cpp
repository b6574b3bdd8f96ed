#include "flows/evidence.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "flows/normaliser.h"

namespace sentinel::flows {

namespace {

nlohmann::json number(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

nlohmann::json text(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json flow_identity(const FlowRecord& flow) {
  nlohmann::json f;
  f["flow_id"] = text(flow.flow_id);
  f["src_ip"] = text(flow.src_ip);
  f["dst_ip"] = text(flow.dst_ip);
  f["src_port"] = flow.src_port < 0 ? nlohmann::json(nullptr) : nlohmann::json(flow.src_port);
  f["dst_port"] = number(flow[Feature::destination_port]);
  f["protocol"] = number(flow[Feature::protocol]);
  f["timestamp_ms"] = flow.timestamp_ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(flow.timestamp_ms);
  f["time"] = flow.timestamp_ms == 0 ? nlohmann::json(nullptr)
                                     : nlohmann::json(format_rfc3339(event_time_from_ms(flow.timestamp_ms)));
  f["origin"] = text(flow.origin);
  f["label"] = text(flow.label);
  return f;
}

nlohmann::json names(uint32_t mask, std::span<const EvidenceEngine> engines) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t e = 0; e < engines.size() && e < kMaxEnsembleEngines; ++e) {
    if ((mask >> e) & 1u) out.push_back(std::string(engines[e].column.name));
  }
  return out;
}

nlohmann::json top_features(const FlowRecord& flow, const Normaliser* normaliser, size_t k) {
  nlohmann::json out = nlohmann::json::array();
  if (normaliser == nullptr || k == 0) return out;
  std::vector<std::pair<double, size_t>> ranked;  // (|z|, feature)
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const double z = normaliser->z(static_cast<Feature>(i), flow.features[i]);
    if (std::isfinite(z)) ranked.emplace_back(std::fabs(z), i);
  }
  const size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(n), ranked.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  for (size_t j = 0; j < n; ++j) {
    const size_t i = ranked[j].second;
    nlohmann::json entry;
    entry["feature"] = std::string(feature_keys()[i]);
    entry["name"] = std::string(feature_names()[i]);
    entry["value"] = number(flow.features[i]);
    entry["z"] = normaliser->z(static_cast<Feature>(i), flow.features[i]);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

nlohmann::json build_evidence(const FlowRecord& flow, size_t index, const EnsembleDecision& decision,
                              double threshold, std::span<const EvidenceEngine> engines,
                              const Normaliser* normaliser, const EvidenceOptions& options) {
  nlohmann::json evidence;
  evidence["flow"] = flow_identity(flow);

  nlohmann::json ensemble;
  ensemble["score"] = decision.score;
  ensemble["threshold"] = threshold;
  ensemble["anomaly"] = decision.anomaly;
  ensemble["contributing"] = names(decision.contributing, engines);
  ensemble["deciding"] = names(decision.deciding, engines);
  evidence["ensemble"] = std::move(ensemble);

  nlohmann::json per_engine = nlohmann::json::object();
  for (const EvidenceEngine& e : engines) {
    nlohmann::json entry;
    entry["weight"] = e.column.weight;
    const bool skipped = e.column.verdicts.empty() || index >= e.column.verdicts.size();
    if (skipped) {
      entry["status"] = "skipped";
      entry["attack"] = false;
      entry["score"] = nullptr;
    } else {
      const EngineVerdict& v = e.column.verdicts[index];
      entry["status"] = v.decided ? "decided" : "undecided";
      entry["attack"] = v.decided && v.attack;
      entry["score"] = v.decided ? nlohmann::json(v.score) : nlohmann::json(nullptr);
      if (e.engine != nullptr) {
        // Cold path and best-effort: a failing explanation must not lose the evidence.
        try {
          entry["explain"] = e.engine->explain(flow, index);
        } catch (const std::exception& ex) {
          entry["explain_error"] = ex.what();
        }
      }
    }
    per_engine[std::string(e.column.name)] = std::move(entry);
  }
  evidence["engines"] = std::move(per_engine);
  evidence["top_features"] = top_features(flow, normaliser, options.top_features);
  return evidence;
}

}  // namespace sentinel::flows
