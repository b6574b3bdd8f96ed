// The fitted feature normaliser: per feature a robust centre and scale, so
// that z = (value - centre) / scale puts every feature on one scale for the
// math engine and for evidence (DESIGN.md section 6, docs/FLOWS.md).
//
// Fitting, per feature over its finite values (missing and infinite values
// are skipped): centre = median and scale = IQR / 1.349 (the IQR of a normal
// distribution is 1.349 sigma, so the scale estimates sigma robustly); where
// the IQR is 0 (a feature that is mostly one value) centre = mean and scale =
// standard deviation instead; where that is 0 too, or there are no values,
// scale = 1 (and centre = the constant, or 0).
//
// File "<model>.norm.json" (nlohmann, cold path):
//   {"version": 1, "features": [79 canonical names], "centre": [79 numbers],
//    "scale": [79 numbers > 0], "count": [79 integers: finite values fitted]}
// Features are matched by name on load, so their order in the file is free.
//
// Threading: a fitted Normaliser is immutable and may be read by any number
// of threads; a NormaliserFitter is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "flows/flow.h"

namespace sentinel::flows {

/// The interquartile range of a normal distribution, in standard deviations.
inline constexpr double kIqrToSigma = 1.349;

class Normaliser {
 public:
  static constexpr int kVersion = 1;

  /// The identity (centre 0, scale 1, count 0 for every feature).
  Normaliser();

  double centre(Feature f) const { return centre_[static_cast<size_t>(f)]; }
  double scale(Feature f) const { return scale_[static_cast<size_t>(f)]; }
  uint64_t count(Feature f) const { return count_[static_cast<size_t>(f)]; }

  /// (value - centre) / scale. Missing (NaN) stays NaN, +-inf stays +-inf.
  double z(Feature f, double value) const {
    const auto i = static_cast<size_t>(f);
    return (value - centre_[i]) / scale_[i];
  }

  /// The 79 z-values of a flow, in feature order.
  void transform(const FlowRecord& flow, std::span<double, kFeatureCount> out) const;

  /// The JSON document described above (pretty-printed, ends with a newline).
  std::string to_json() const;

  /// Parses a document written by to_json(). Errors (field "") say what is
  /// wrong: not JSON, wrong version, an unknown, repeated or missing feature,
  /// arrays of different lengths, a scale that is not a positive finite number.
  static Result<Normaliser> from_json(std::string_view json);

  /// Writes to_json() to `path` (through a temporary file renamed over it).
  /// Errors name the path.
  Status save(const std::string& path) const;

  /// Reads a file written by save(). Errors: field = the path, reason as from_json.
  static Result<Normaliser> load(const std::string& path);

  /// The normaliser file that goes with a model file: "<model>.norm.json"
  /// ("m/flows.json" -> "m/flows.json.norm.json").
  static std::string path_for_model(std::string_view model_path);

 private:
  friend class NormaliserFitter;

  std::array<double, kFeatureCount> centre_;
  std::array<double, kFeatureCount> scale_;
  std::array<uint64_t, kFeatureCount> count_;
};

/// Collects the finite values of each feature and fits a Normaliser from
/// them. Keeps every value (8 bytes each) because the median and quartiles
/// are exact.
class NormaliserFitter {
 public:
  void add(const FlowRecord& flow);
  void add(std::span<const FlowRecord> flows);
  uint64_t flows() const { return flows_; }
  Normaliser fit() const;

 private:
  std::array<std::vector<double>, kFeatureCount> values_;
  uint64_t flows_ = 0;
};

/// NormaliserFitter over one span of flows.
Normaliser fit_normaliser(std::span<const FlowRecord> flows);

}  // namespace sentinel::flows
