// JSON schemas of what Sentinel asks a language model for, and the check of
// a model's answer against them.
//
//  - extraction_schema(): the single-stage answer, one incident (or type
//    "none") with its time, place, actors, perpetrator organisation, targets
//    and confidence;
//  - stage1_schema(): the two-stage intermediate representation (entities,
//    events, legal data, quotes, classification);
//  - domain_schema(name): a stage-2 domain result ("crime",
//    "political_violence", "enforcement"): incidents whose types are the
//    domain's.
//
// The schemas are ordinary JSON Schema documents (draft 2020-12 keywords),
// sent to the model in the prompt and checked here by validate_json(), which
// implements the subset they use. Hand-written because Debian 12 packages no
// C++ JSON Schema validator (apt has only Go, Perl and JavaScript ones; the
// nlohmann json-schema-validator is not packaged), and the subset is small.
//
// Thread-safety: the schemas are built once (function-local statics) and
// read-only after; every function here may be called from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace sentinel::intel {

/// Checks `value` against `schema`. Returns "" when it conforms, else the
/// first violation as "<path>: <reason>" ("$.actors[1].role: not one of
/// victim, suspect, officer, witness, agency"). Supported keywords: type
/// (one name or a list), enum, const, properties, required,
/// additionalProperties (false or a schema), items, minItems, maxItems,
/// minimum, maximum, minLength, maxLength (code points), anyOf, format
/// ("date": YYYY-MM-DD; "local-date-time": YYYY-MM-DDTHH:MM[:SS[.f]] with an
/// optional Z or +HH:MM), and the annotations title, description, $schema.
/// A schema using any other keyword fails closed ("unsupported keyword"), so
/// a schema can never silently check less than it says.
std::string validate_json(const nlohmann::json& schema, const nlohmann::json& value);

/// The single-stage answer's schema (see the file comment).
const nlohmann::json& extraction_schema();
/// The stage-1 intermediate representation's schema.
const nlohmann::json& stage1_schema();
/// The schema of a stage-2 domain result, or nullptr for an unknown domain.
const nlohmann::json* domain_schema(std::string_view domain);
/// The known stage-2 domains, in their default priority (highest first):
/// "political_violence", "crime", "enforcement" (an arrest story is usually
/// the sequel of a crime, and the crime is the incident).
std::span<const std::string_view> domain_names();
/// True when incident type `type_name` belongs to domain `domain`.
bool domain_has_type(std::string_view domain, std::string_view type_name);

/// The answer value that means "the article reports no incident".
inline constexpr std::string_view kNoIncidentType = "none";

}  // namespace sentinel::intel
