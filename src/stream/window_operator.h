// WindowOperator: event-time windows over (fine cell, category) keys, for one shard.
//
// Consumes: events that already passed the source-side lateness check, each
// with a fine cell (events without a location never reach it), in stream
// order; and watermarks, in non-decreasing order.
// Emits: WindowRecords when the watermark passes a window's end (revision 0),
// and again with revision + 1 at the next watermark after a later event
// changed a window already emitted. Windows stay updatable for
// `allowed_lateness` after their end, then their state is dropped.
//   tumbling  size `tumbling_size`, aligned to the Unix epoch; its records
//             also carry the window's features for the anomaly model
//             (severity counts, confidence sum, source bitmask: see
//             WindowRecord), updated by every event a revision adds;
//   sliding   size `sliding_size` every `sliding_slide`, kept as panes of one
//             slide so an event touches one counter, not size/slide of them;
//   session   a run of events for a key with gaps under `session_gap`;
//   global    hourly roll-ups per (district, category), summed on request.
// State: everything above, serialisable with save()/load() at a watermark
// boundary (when no revision is pending), so a checkpoint restores it exactly
// (features included; the format is versioned and load() rejects other
// versions).
// Threading: single-threaded; one instance per shard.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event.h"
#include "stream/window_record.h"

namespace sentinel {

class ByteWriter;
class ByteReader;

class WindowOperator {
 public:
  explicit WindowOperator(const WindowsConfig& config);
  ~WindowOperator();
  WindowOperator(WindowOperator&&) noexcept;
  WindowOperator& operator=(WindowOperator&&) noexcept;

  /// Adds events to every window they belong to. Events without a fine cell
  /// count only in the global summary.
  void add(std::span<const Event> events);

  /// Advances the watermark to `watermark` (ignored if not later), appending
  /// every result it causes to `out`: revisions of updated windows first,
  /// then windows whose end it passed. kMaxEventTime flushes everything.
  void advance(EventTime watermark, std::vector<WindowRecord>& out);

  /// Sums the hourly roll-ups of the `global_size` hours ending with the hour
  /// that holds `reference` (the latest event time the caller has seen), one
  /// record per (district, category).
  void global_summary(EventTime reference, std::vector<WindowRecord>& out) const;

  EventTime watermark() const;
  /// Live keys per window kind, and an estimate of the bytes they hold.
  struct Stats {
    uint64_t tumbling_windows = 0, sliding_panes = 0, session_keys = 0, global_cells = 0;
    uint64_t state_bytes = 0;
  };
  Stats stats() const;

  void save(ByteWriter& out) const;
  /// Adds state written by save() to this operator; keys for which
  /// `keep(cell)` is false are skipped (cell 0 stands for the global
  /// roll-ups), so the snapshots of N shards can be re-partitioned over M.
  /// Returns false on malformed data; the operator must then be discarded.
  bool load(ByteReader& in, const std::function<bool(uint64_t cell)>& keep);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sentinel
