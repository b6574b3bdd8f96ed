// How extraction providers say whether a failure can go away by itself: the
// Error's field names the kind (the convention store.h uses for the store).
//
//   "extract.transient"     a timeout, a refused connection, HTTP 429, 5xx,
//                           529 (overloaded): retrying later, or another
//                           provider now, can help;
//   "extract.circuit_open"  the provider's circuit breaker is open: it was
//                           not called (transient too);
//   "extract.permanent"     HTTP 400/401/403/404, an answer that is not JSON,
//                           breaks the schema or names an unknown type: the
//                           same request will fail again.
// Any other field (the built-in extractor's "text") is permanent.
#pragma once

#include <string_view>

#include "core/result.h"

namespace sentinel::intel {

inline constexpr std::string_view kExtractTransient = "extract.transient";
inline constexpr std::string_view kExtractCircuitOpen = "extract.circuit_open";
inline constexpr std::string_view kExtractPermanent = "extract.permanent";

/// Whether trying again later (or another provider now) can help.
inline bool extract_error_is_transient(const Error& e) {
  return e.field == kExtractTransient || e.field == kExtractCircuitOpen;
}

}  // namespace sentinel::intel
