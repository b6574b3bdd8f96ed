// The event model: what every source produces and every stage consumes.
//
// An Event is a small value that points into the text of the batch it was
// parsed from (id, data): the batch owns that text, so parsing allocates
// nothing per event. Enrichment fields are filled by the enrichment stage.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "core/time.h"

namespace sentinel {

enum class Severity : uint8_t { kViolent = 0, kProperty = 1, kOther = 2 };

/// "violent", "property", "other"; nullptr-safe lookups for the codec.
std::string_view severity_name(Severity s);
bool parse_severity(std::string_view text, Severity& out);

/// Interned ids: small integers standing for source and type names, so the
/// hot path compares and hashes integers. Names live in the Interner.
using SourceId = uint16_t;
using TypeId = uint32_t;
using InputId = uint16_t;

/// 128-bit identity of (source, id), used to process each event once.
struct EventKey {
  uint64_t lo = 0, hi = 0;
  bool operator==(const EventKey&) const = default;
};

/// Where an event came from, for dead letters and audit.
struct Provenance {
  InputId input = 0;        ///< index into the run's list of inputs
  uint64_t line = 0;        ///< 1-based line number (0 for HTTP bodies that are one object)
  uint64_t byte_offset = 0; ///< offset of the line's first byte
};

/// Results of the enrichment stage (DESIGN.md section 3.1).
struct Enrichment {
  static constexpr int32_t kNoDistrict = -1;
  uint64_t fine_cell = 0;    ///< S2 cell id at `cells.fine_level` (0: no location)
  uint64_t coarse_cell = 0;  ///< S2 cell id at `cells.coarse_level` (0: no location)
  int32_t district = kNoDistrict;  ///< index into the district table
  float site_distance_m = std::numeric_limits<float>::infinity();  ///< nearest sensitive site
  uint8_t local_hour = 0;    ///< 0..23 in `city.time_zone`
  uint8_t local_weekday = 0; ///< 0 = Monday .. 6 = Sunday
  bool degraded = false;     ///< costly lookups bypassed by the latency circuit breaker
  bool done = false;
};

struct Event {
  std::string_view id;    ///< points into the batch text
  std::string_view data;  ///< raw JSON of `data`, or empty
  EventKey key;           ///< hash of (source, id)
  EventTime time;
  ProcTime ingest_time;   ///< when the source read it (latency is measured from here)
  double lat = 0, lon = 0;
  double confidence = 0;  // double: a gate at 0.65 must see 0.65, not 0.6499999762
  SourceId source = 0;
  TypeId type = 0;
  Severity severity = Severity::kOther;
  bool has_location = false;
  bool has_confidence = false;
  bool has_severity = false;
  Provenance where;
  /// Order of acceptance over the whole run (kept across checkpoints): what
  /// the alert stages sort by, so their decisions never depend on shard timing.
  uint64_t seq = 0;
  /// Its source's watermark when it was read: "now" for the priority score
  /// of the alerts it raises in replay (DESIGN.md section 4), per event so
  /// it does not depend on how lines fall into batches.
  EventTime read_watermark = kMinEventTime;
  Enrichment enrich;
};

}  // namespace sentinel
