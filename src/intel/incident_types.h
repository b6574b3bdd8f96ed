// The incident taxonomy: one set of types for city crime news and for the
// MUC-3/4 terrorism domain, with the words that are evidence for each type
// and the mapping to the MUC-4 INCIDENT: TYPE set fill.
//
// The evidence table is data the extractors read (the built-in extractor
// compiles it into its phrase matcher); it lives here so that the taxonomy,
// its words and its MUC mapping change together.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/event.h"

namespace sentinel::intel {

enum class IncidentType : uint8_t {
  kUnknown = 0,
  // Violent.
  kShooting,
  kHomicide,
  kAssault,
  kSexualAssault,
  kAttack,  ///< a violent attack that fits no narrower type (MUC's ATTACK)
  kBombing,
  kKidnapping,
  kHijacking,
  kRobbery,
  kCarjacking,
  // Property.
  kBurglary,
  kTheft,
  kArson,
  kVandalism,
  // Other.
  kForcedWorkStoppage,  ///< an "armed strike" enforced by threat (MUC)
  kWeapons,             ///< weapons violation, guns recovered
  kDrugs,
  kArrest,              ///< enforcement: an arrest or raid
  kCount,
};

/// "shooting", "forced_work_stoppage", ...; "unknown" for kUnknown.
std::string_view incident_type_name(IncidentType t);
/// Inverse of incident_type_name (exact, lower case).
std::optional<IncidentType> parse_incident_type(std::string_view name);

/// The MUC-4 INCIDENT: TYPE fill for a type ("ATTACK", "BOMBING", ...), or
/// an empty view for types that have no MUC counterpart (weapons, drugs,
/// arrest, vandalism, unknown). MUC-4 folded MURDER into ATTACK, so
/// homicide, shooting and assault map to ATTACK; theft, burglary and
/// carjacking to ROBBERY.
std::string_view muc_type_name(IncidentType t);
/// The taxonomy type a MUC fill stands for (ATTACK -> kAttack, ...).
std::optional<IncidentType> from_muc_type(std::string_view fill);

/// Severity class for the alert pipeline (core/event.h).
Severity incident_severity(IncidentType t);

/// Triage category ("crime", "enforcement", "unrest"); per-category
/// thresholds key on it.
std::string_view incident_category(IncidentType t);

/// How a phrase speaks for a type.
enum class EvidenceKind : uint8_t {
  kTrigger,  ///< names the act itself ("bomb exploded", "kidnapped")
  kOutcome,  ///< an effect that implies some act (killed, wounded): weaker,
             ///< and yields to a trigger of another type in the same sentence
};

/// One phrase that is evidence for a type. Phrases are lower case and are
/// matched on normalised tokens (tokenizer in gazetteer.h); `weight` in (0,1]
/// is how strongly the phrase alone establishes the type.
struct TypeEvidence {
  std::string_view phrase;
  IncidentType type;
  float weight;
  EvidenceKind kind;
};

/// The whole evidence table, for every type.
std::span<const TypeEvidence> type_evidence();

/// When a sentence holds evidence for several types, the one with the
/// higher precedence names the incident (a bomb that killed is a bombing;
/// a robbery with a shooting is a robbery... in MUC terms). Higher wins.
int type_precedence(IncidentType t);

}  // namespace sentinel::intel
