// The rules engine: Sigma-style YAML rules over the semantic flow fields
// (DESIGN.md section 6), loaded and validated at start-up, compiled once, and
// evaluated per batch without allocation per flow.
//
// A rule file holds one or several YAML documents, each a rule:
//
//   title: TCP SYN flood
//   id: flows-syn-flood                # UUID or slug, unique across all files
//   level: high                        # informational | low | medium | high | critical
//   description: ...
//   detection:
//     selection:                       # a map = AND of its keys; a list of maps = OR
//       protocol: 6
//       syn_flag_count|gte: 1
//       ack_flag_count: 0
//     filter_dns:
//       destination_port: [53, 853]    # a list = any of the values
//     condition: selection and not filter_dns
//     timeframe: 60s                   # only with an aggregation
//   falsepositives: [...]
//   tags: [...]
//
// Fields: every key of flows::feature_keys() (numeric; `protocol` included),
// plus src_port (numeric) and src_ip, dst_ip (strings). A missing value
// (NaN feature, empty IP, src_port -1) matches nothing except `field: null`.
// Modifiers (`field|modifier`): eq (default), ne, gt, gte, lt, lte, in (a list
// of values; the same as eq with a list), and for the IP fields startswith,
// endswith, contains (case-insensitive) and cidr. A list means any of the
// values; `|all` (e.g. `src_ip|contains|all`) requires every value; `ne` with
// a list means none of the values. `field: null` matches a missing value and
// `field|ne: null` a present one.
//
// Condition: see rule_condition.h (and/or/not, parentheses, `1 of sel_*`,
// `all of them`, and `| count([distinct] field) [by field, ...] > N` with
// `timeframe`). Aggregations are stateful over event time (timestamp_ms; a
// flow without one takes the latest event time seen, i.e. arrival order):
//  - count(): matching flows per group in a sliding window of 16 buckets of
//    timeframe/16 each, so the window spans between 15/16 and 16/16 of the
//    timeframe (fixed memory per group);
//  - count(distinct f): distinct values of f per group seen within the
//    timeframe, kept exactly up to threshold+1 values (enough to decide; the
//    most recent values are kept), so memory per group is bounded;
//  - groups whose last flow is older than the timeframe expire; past
//    Options::max_groups the least recently seen groups are evicted (counted).
// A flow whose group-by field is missing is not aggregated and does not match.
//
// Score: the level score of the strongest matching rule (kLevelScores below);
// every flow is decided (no match = score 0). The engine votes attack when
// that score is >= kAttackScore, so an informational rule is reported in
// explain() but does not by itself vote attack.
//
// Threading: one thread calls evaluate()/explain() at a time (engine.h).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flows/engine.h"

namespace sentinel::flows {

enum class RuleLevel : uint8_t { informational, low, medium, high, critical };

/// Score of a matched rule by level, indexed by RuleLevel:
/// informational 0.2, low 0.5, medium 0.7, high 0.9, critical 1.0.
inline constexpr std::array<double, 5> kLevelScores = {0.2, 0.5, 0.7, 0.9, 1.0};
/// Rules-engine score at which it votes attack (low and above).
inline constexpr double kAttackScore = 0.5;

inline double level_score(RuleLevel level) { return kLevelScores[static_cast<size_t>(level)]; }
std::string_view level_name(RuleLevel level);

/// What a loaded rule says about itself (for listings, evidence and metrics).
struct RuleInfo {
  std::string id;
  std::string title;
  RuleLevel level = RuleLevel::medium;
  std::string description;
  std::vector<std::string> falsepositives;
  std::vector<std::string> tags;
  std::string condition;  ///< as written
  std::string file;       ///< where it was loaded from
};

class RulesEngine final : public DetectionEngine {
 public:
  struct Options {
    size_t max_groups = 100'000;  ///< per aggregating rule (>= 10); past it the oldest groups are evicted
  };

  /// Loads a rule file, or every *.yml / *.yaml file of a directory (sorted by
  /// name). Throws ConfigError ("<file>: rule '<id>' (<title>): <key>: <reason>")
  /// on any invalid rule, duplicate id, or when no rule is found.
  static std::unique_ptr<RulesEngine> load(const std::string& path, Options options);
  static std::unique_ptr<RulesEngine> load(const std::string& path) { return load(path, Options{}); }
  /// Loads rules from YAML text; `origin` names it in errors.
  static std::unique_ptr<RulesEngine> from_text(std::string_view yaml, std::string_view origin,
                                                Options options);
  static std::unique_ptr<RulesEngine> from_text(std::string_view yaml, std::string_view origin) {
    return from_text(yaml, origin, Options{});
  }

  ~RulesEngine() override;
  RulesEngine(const RulesEngine&) = delete;
  RulesEngine& operator=(const RulesEngine&) = delete;

  std::string_view name() const override { return "rules"; }
  Status evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                  std::chrono::steady_clock::time_point deadline) override;
  /// {"matched": [{"id", "title", "level", "score", "selections": {name: {"matched",
  /// "values": {"field|modifier": flow value}}}, "aggregation": {...}}]}; empty list when
  /// no rule matched the flow.
  nlohmann::json explain(const FlowRecord& flow, size_t index_in_last_batch) const override;

  const std::vector<RuleInfo>& rules() const;
  /// Flows matched per rule since start (index = position in rules()).
  const std::vector<uint64_t>& match_counts() const;
  /// Aggregation groups evicted because of Options::max_groups, since start.
  uint64_t evicted_groups() const;
  /// Live aggregation groups over all rules (memory check).
  size_t live_groups() const;

  struct Impl;

 private:
  explicit RulesEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::flows
