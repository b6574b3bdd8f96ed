// Watermarks (DESIGN.md section 3.2), decided at the sources so that results
// never depend on the number of shards.
//
// Each input (a file, the HTTP endpoint, a Kafka partition) is one source.
// A source's watermark is the latest event time it has read minus
// `max_out_of_orderness`; an event older than the source's watermark minus
// `allowed_lateness` when read is late. The combined watermark handed to the
// shards is the minimum over live sources: a finished source no longer holds
// it back, nor does one idle for `idle_timeout` of processing time (live
// mode only; replay never goes idle, so replays stay deterministic).
// Threading: single-threaded (the ingest thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace sentinel {

class ByteWriter;
class ByteReader;

class WatermarkTracker {
 public:
  WatermarkTracker(Millis max_out_of_orderness, Millis allowed_lateness, Millis idle_timeout);

  /// Registers a source; returns its index.
  size_t add_source(std::string name);
  size_t source_count() const { return sources_.size(); }

  /// True when `t`, read now from `source`, is late (and must not reach the windows).
  bool is_late(size_t source, EventTime t) const;
  /// Records an on-time event time read from `source` at processing time `now`.
  void observe(size_t source, EventTime t, ProcTime now);
  /// Marks a source as finished (end of file): it stops holding the watermark.
  void finish(size_t source);

  /// Watermark of one source (kMinEventTime before its first event).
  EventTime source_watermark(size_t source) const;
  /// Minimum over live sources; kMaxEventTime when every source has finished.
  /// With `now`, sources idle longer than idle_timeout are skipped (live mode),
  /// and so are sources that have sent nothing yet (kMinEventTime when no
  /// source has);
  /// when every unfinished source is idle, the watermark holds at the highest
  /// of their watermarks, so windows still close on a quiet stream.
  EventTime combined(ProcTime now) const;
  EventTime combined() const;  ///< replay: no idleness
  bool all_finished() const;
  /// The latest event time read from any source (kMinEventTime before any).
  EventTime max_event_time() const;

  void save(ByteWriter& out) const;
  bool load(ByteReader& in);

 private:
  struct Source {
    std::string name;
    int64_t max_time_ms;
    bool seen = false;
    bool finished = false;
    ProcTime last_event;
  };
  int64_t watermark_of(const Source& s) const;
  Millis ooo_, lateness_, idle_;
  std::vector<Source> sources_;
};

}  // namespace sentinel
