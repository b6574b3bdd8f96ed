// Correlation (DESIGN.md section 3.4): "another source within 500 m and
// 15 min corroborates an event; a third source multi-corroborates it".
// CorrelationIndex is the spatial-temporal index behind that sentence: it holds
// the recent candidate events and answers "which events of other sources are
// within radius_m and window of this one".
//
// Threading: one thread (the engine's merger) owns an index; no method is safe
// to call concurrently with another, const ones included (queries reuse
// internal scratch space). Determinism: results depend only on the sequence of
// calls, never on hash-table iteration order, and save() writes the same bytes
// for the same state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event.h"
#include "core/time.h"

namespace sentinel {
class ByteWriter;
class ByteReader;
}  // namespace sentinel

namespace sentinel::detect {

/// One candidate event as the index keeps it. The caller copies what it needs
/// from the Event (whose strings point into a batch that will be freed).
struct CorrelationEntry {
  uint64_t seq = 0;  ///< global ingest sequence number: unique, orders results
  EventTime time;
  double lat = 0, lon = 0;  ///< degrees; lat in [-90, 90], lon in [-180, 180]
  double confidence = 0;
  bool has_confidence = false;
  SourceId source = 0;
  TypeId type = 0;
  Severity severity = Severity::kOther;
  std::string id;  ///< the event's id within its source
};

/// Spatial-temporal index of candidate events for correlation.
///
/// Lifecycle, per epoch on the merger thread, in the engine's deterministic
/// order: for each candidate event, neighbours() then insert(); then expire()
/// with the epoch's horizon. Pointers handed out by neighbours() stay valid
/// until the entry they point to is expired, or load() replaces the state.
class CorrelationIndex {
 public:
  /// Throws std::invalid_argument naming the key when radius_m is not a
  /// positive distance below the width of an S2 face (about 6,000 km) or the
  /// window is negative.
  explicit CorrelationIndex(const CorrelationConfig& config);
  ~CorrelationIndex();
  CorrelationIndex(CorrelationIndex&&) noexcept;
  CorrelationIndex& operator=(CorrelationIndex&&) noexcept;
  CorrelationIndex(const CorrelationIndex&) = delete;
  CorrelationIndex& operator=(const CorrelationIndex&) = delete;

  /// Clears `out`, then fills it with the stored entries of a source other than
  /// e.source whose great-circle distance to e (on S2Earth's radius) is at most
  /// radius_m and whose |time - e.time| is at most window, by seq ascending.
  /// `e` itself need not be stored. An `e` without a valid location gets none.
  void neighbours(const CorrelationEntry& e, std::vector<const CorrelationEntry*>& out) const;

  /// The last `max_results` of what neighbours(e, out) gives (the most
  /// recent by seq), still by seq ascending. Cheaper when e has many more
  /// neighbours than that: each cell is scanned newest first and left as
  /// soon as nothing older can make the cut.
  void neighbours(const CorrelationEntry& e, size_t max_results, std::vector<const CorrelationEntry*>& out) const;

  /// Stores `e`. Returns false, changing nothing, when an entry with the same
  /// (source, id) is already stored (re-delivery) or e's location is invalid.
  bool insert(CorrelationEntry e);

  /// Drops every entry with time < horizon. The caller passes
  /// watermark - allowed_lateness - window: no event still to come can be
  /// within `window` of a dropped one. Cost: proportional to what is dropped
  /// plus the sizes of the cells it is dropped from.
  void expire(EventTime horizon);

  /// Number of stored entries.
  size_t size() const;

  /// Appends the state (every entry, by seq) to `out`; same state, same bytes.
  void save(ByteWriter& out) const;
  /// Replaces the state with one written by save(). Returns false on malformed
  /// input (truncated, corrupt counts, invalid fields, duplicate (source, id))
  /// and then leaves the index unchanged.
  bool load(ByteReader& in);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::detect
