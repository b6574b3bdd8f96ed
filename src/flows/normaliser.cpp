#include "flows/normaliser.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sentinel::flows {
namespace {

// Quantile q of sorted values with linear interpolation between the two
// nearest ranks (numpy's default, so the training script's numbers agree).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

}  // namespace

Normaliser::Normaliser() {
  centre_.fill(0.0);
  scale_.fill(1.0);
  count_.fill(0);
}

void Normaliser::transform(const FlowRecord& flow, std::span<double, kFeatureCount> out) const {
  for (size_t i = 0; i < kFeatureCount; ++i) out[i] = (flow.features[i] - centre_[i]) / scale_[i];
}

std::string Normaliser::to_json() const {
  nlohmann::ordered_json names = nlohmann::ordered_json::array(), centre = nlohmann::ordered_json::array(),
                        scale = nlohmann::ordered_json::array(), count = nlohmann::ordered_json::array();
  for (size_t i = 0; i < kFeatureCount; ++i) {
    names.push_back(feature_names()[i]);
    centre.push_back(centre_[i]);
    scale.push_back(scale_[i]);
    count.push_back(count_[i]);
  }
  nlohmann::ordered_json doc;
  doc["version"] = kVersion;
  doc["features"] = std::move(names);
  doc["centre"] = std::move(centre);
  doc["scale"] = std::move(scale);
  doc["count"] = std::move(count);
  return doc.dump(1) + "\n";
}

Result<Normaliser> Normaliser::from_json(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error("", "not valid JSON");
  if (!doc.is_object()) return make_error("", "expected a JSON object");
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) return make_error("", "missing integer \"version\"");
  if (version->get<int64_t>() != kVersion) {
    return make_error("", fmt::format("unsupported version {} (this build reads version {})",
                                      version->get<int64_t>(), kVersion));
  }
  for (const char* key : {"features", "centre", "scale", "count"}) {
    const auto it = doc.find(key);
    if (it == doc.end() || !it->is_array()) return make_error("", fmt::format("missing array \"{}\"", key));
  }
  const auto& names = doc["features"];
  const auto& centre = doc["centre"];
  const auto& scale = doc["scale"];
  const auto& count = doc["count"];
  if (centre.size() != names.size() || scale.size() != names.size() || count.size() != names.size()) {
    return make_error("", fmt::format("arrays of different lengths: features {}, centre {}, scale {}, count {}",
                                      names.size(), centre.size(), scale.size(), count.size()));
  }
  Normaliser n;
  std::bitset<kFeatureCount> seen;
  for (size_t k = 0; k < names.size(); ++k) {
    if (!names[k].is_string()) return make_error("", fmt::format("features[{}] is not a string", k));
    const auto name = names[k].get<std::string>();
    const auto feature = find_feature(name);
    if (!feature) return make_error("", fmt::format("features[{}]: unknown feature '{}'", k, name));
    const auto i = static_cast<size_t>(*feature);
    if (seen.test(i)) return make_error("", fmt::format("features[{}]: feature '{}' appears twice", k, name));
    seen.set(i);
    if (!centre[k].is_number() || !std::isfinite(centre[k].get<double>())) {
      return make_error("", fmt::format("centre[{}] ('{}') is not a finite number", k, name));
    }
    if (!scale[k].is_number() || !std::isfinite(scale[k].get<double>()) || scale[k].get<double>() <= 0) {
      return make_error("", fmt::format("scale[{}] ('{}') is not a positive finite number", k, name));
    }
    if (!count[k].is_number_unsigned() && !(count[k].is_number_integer() && count[k].get<int64_t>() >= 0)) {
      return make_error("", fmt::format("count[{}] ('{}') is not a non-negative integer", k, name));
    }
    n.centre_[i] = centre[k].get<double>();
    n.scale_[i] = scale[k].get<double>();
    n.count_[i] = count[k].get<uint64_t>();
  }
  if (!seen.all()) {
    for (size_t i = 0; i < kFeatureCount; ++i) {
      if (!seen.test(i)) {
        return make_error("", fmt::format("feature '{}' is missing ({} of {} features given)", feature_names()[i],
                                          seen.count(), kFeatureCount));
      }
    }
  }
  return n;
}

Status Normaliser::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(path, fmt::format("cannot write {}", tmp));
    out << to_json();
    out.flush();
    if (!out) return make_error(path, fmt::format("cannot write {}", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_error(path, "cannot rename the temporary file over it");
  }
  return Ok{};
}

Result<Normaliser> Normaliser::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, "cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto n = from_json(buffer.str());
  if (!n.ok()) return make_error(path, n.error().reason);
  return n;
}

std::string Normaliser::path_for_model(std::string_view model_path) {
  return std::string(model_path) + ".norm.json";
}

void NormaliserFitter::add(const FlowRecord& flow) {
  ++flows_;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const double v = flow.features[i];
    if (std::isfinite(v)) values_[i].push_back(v);
  }
}

void NormaliserFitter::add(std::span<const FlowRecord> flows) {
  for (const FlowRecord& flow : flows) add(flow);
}

Normaliser NormaliserFitter::fit() const {
  Normaliser n;
  std::vector<double> sorted;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const auto& values = values_[i];
    n.count_[i] = values.size();
    if (values.empty()) continue;
    sorted.assign(values.begin(), values.end());
    std::sort(sorted.begin(), sorted.end());
    const double iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
    if (iqr > 0) {
      n.centre_[i] = quantile(sorted, 0.5);
      n.scale_[i] = iqr / kIqrToSigma;
      continue;
    }
    // Summed in sorted order and centred on the mean (two passes), so large
    // counts and offsets lose no precision that matters here.
    double sum = 0;
    for (double v : sorted) sum += v;
    const double mean = sum / static_cast<double>(sorted.size());
    double squares = 0;
    for (double v : sorted) squares += (v - mean) * (v - mean);
    const double sd = std::sqrt(squares / static_cast<double>(sorted.size()));
    n.centre_[i] = std::isfinite(mean) ? mean : quantile(sorted, 0.5);
    n.scale_[i] = std::isfinite(sd) && sd > 0 ? sd : 1.0;
  }
  return n;
}

Normaliser fit_normaliser(std::span<const FlowRecord> flows) {
  NormaliserFitter fitter;
  fitter.add(flows);
  return fitter.fit();
}

}  // namespace sentinel::flows
