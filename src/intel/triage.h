// Triage: what happens to an extraction that is not a duplicate
// (DESIGN.md section 7). Its confidence decides, against thresholds an admin
// may change at run time:
//
//   confidence >= approve            -> auto_approve (becomes an incident)
//   reject <= confidence < approve   -> review (the curation queue)
//   confidence < reject              -> auto_reject
//
// Defaults: approve 0.85, reject 0.50; category overrides enforcement 0.90
// and crime 0.85; incident types shooting, homicide and bombing require a
// place and a date. Thresholds resolve most-specific-first, each on its own:
// the incident type's value if it sets one, else the category's, else the
// default. A required field the extraction did not fill sends an article
// that would be approved to review instead, never to approval; an article
// below the reject threshold is rejected whatever it is missing. A
// confidence that is not a number in [0, 1] goes to review.
//
// Threading: decide() runs on any thread without locking; replace_rules()
// validates a new TriageRules and swaps it in atomically, so every decision
// sees either the old rules or the new ones, whole. The lead wires the admin
// API and the audit record around replace_rules(); version() numbers each
// set of rules so a decision can say which one it used.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sentinel::intel {

enum class TriageOutcome : uint8_t { kAutoApprove, kReview, kAutoReject };

/// "auto_approve", "review", "auto_reject".
std::string_view to_string(TriageOutcome outcome);

/// The field names an incident type may require; the extraction reports
/// which of them it filled (TriageInput::present_fields).
std::span<const std::string_view> triage_field_names();

/// Thresholds that replace the defaults where set.
struct ThresholdOverride {
  std::optional<double> approve;
  std::optional<double> reject;
};

struct IncidentTypeRule {
  ThresholdOverride thresholds;
  std::vector<std::string> required_fields;  ///< names from triage_field_names()
};

/// Everything an admin can edit. Category and incident-type names are lower
/// case ("enforcement", "shooting"); lookups fold the input to lower case.
struct TriageRules {
  double approve = 0.85;
  double reject = 0.50;
  std::map<std::string, ThresholdOverride> categories;
  std::map<std::string, IncidentTypeRule> incident_types;
};

/// The rules Sentinel starts with (header comment).
TriageRules default_triage_rules();

/// Checks ranges (0..1), reject <= approve for every category x incident
/// type combination, names, and required field names. The error's field is
/// the path of the offending value ("categories.crime.approve").
Status validate(const TriageRules& rules);

/// JSON for the admin API and the audit record:
/// {"approve":0.85,"reject":0.5,"categories":{"enforcement":{"approve":0.9}},
///  "incident_types":{"shooting":{"required_fields":["place","date"]}}}
/// Parsing rejects unknown keys and wrong types, then runs validate().
Result<TriageRules> triage_rules_from_json(std::string_view json);
std::string triage_rules_to_json(const TriageRules& rules);

/// What triage needs to know about one extraction.
struct TriageInput {
  double confidence = 0.0;
  std::string category;                     ///< e.g. "crime", "enforcement"; may be empty
  std::string incident_type;                ///< e.g. "shooting"; may be empty
  std::vector<std::string> present_fields;  ///< fields the extraction filled
};

struct TriageDecision {
  TriageOutcome outcome = TriageOutcome::kReview;
  double approve_threshold = 0.0;  ///< as resolved for this input
  double reject_threshold = 0.0;
  std::vector<std::string> missing_fields;
  /// One line each, for the curator: which thresholds applied and where they
  /// came from, what was missing, why the outcome is what it is.
  std::vector<std::string> reasons;
  uint64_t rules_version = 0;
};

class Triage {
 public:
  /// Throws std::invalid_argument (naming the field) for invalid rules: the
  /// rules given at start-up come from configuration.
  explicit Triage(TriageRules rules = default_triage_rules());

  TriageDecision decide(const TriageInput& input) const;

  /// Validates and swaps in new rules; on error nothing changes.
  Status replace_rules(TriageRules rules);

  /// The rules in force now (a snapshot that stays valid while held).
  std::shared_ptr<const TriageRules> rules() const;
  /// 1 for the rules given to the constructor, +1 per successful replace.
  uint64_t version() const;

 private:
  struct Snapshot;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace sentinel::intel
