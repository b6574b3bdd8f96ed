// Alerting: from events and window results to alerts (DESIGN.md sections 3-5).
//
// Two halves:
// - SignalStage runs on every shard after enrichment. It is cheap per event:
//   it counts events per (district, hour) for the bias check, and copies out
//   the few events that can become alerts (sensor types, correlation types,
//   geofence hits, found here in parallel) with what the alert side needs.
// - AlertStage runs on the merger thread once per epoch. It takes every
//   shard's signals sorted by ingest sequence, then the epoch's tumbling
//   window results in output order, so its decisions never depend on the
//   number of shards or on thread timing. Per event: correlation (another
//   source within correlation.radius_m and correlation.window), the sensor
//   rule, the geofence rules. Per tumbling window: spike detection and the
//   online isolation forest. Every candidate then passes its gate
//   (thresholds.*), is scored (priority.*), bias-checked when ML-derived,
//   and offered to the dedup book; what comes out is written to alerts.jsonl
//   and every decision to the audit log.
//
// In a replay the isolation forest's part (scoring the epoch's windows in
// order, rebuilding when due) runs on a helper thread while the merger
// handles the epoch's events: the scores depend only on the windows in
// order, so they are the same bits as on one thread.
//
// Correlation runs here rather than on the shards because a 500 m
// neighbourhood crosses the coarse cells that route events to shards; doing
// it on the merged, ordered stream keeps results exact for any shard count.
// The shards still do the per-event work that parallelises (enrichment,
// geofence point-in-polygon, windows).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "alerts/audit_log.h"
#include "core/config.h"
#include "core/event.h"
#include "core/type_prefix.h"
#include "stream/engine.h"
#include "stream/window_record.h"

namespace sentinel {

class Enricher;
class Interner;
class FileSink;
class ByteWriter;
class ByteReader;
class LatencyHistogram;
namespace detect {
class GeofenceIndex;
}

/// An event that may become an alert, copied out of its batch (whose text is
/// released once the shard is done with it).
struct SignalEvent {
  enum Role : uint8_t { kSensor = 1, kCorrelate = 2, kModel = 4 };
  uint64_t seq = 0;
  std::string id;
  EventTime time;
  EventTime read_watermark;  ///< replay's "now" for its score
  ProcTime ingest_time;
  double lat = 0, lon = 0;
  double confidence = 0;
  float site_distance_m = 0;
  uint64_t fine_cell = 0;
  uint64_t geofences = 0;  ///< bit i: geofence rule i matched
  int32_t district = -1;
  SourceId source = 0;
  TypeId type = 0;
  Severity severity = Severity::kOther;
  uint8_t roles = 0;
  bool has_confidence = false;
  bool has_location = false;
};

/// Events per (district, hour of event time) seen by one shard in one batch.
struct DistrictHourCount {
  int64_t hour = 0;  ///< event time in whole hours since the epoch
  int32_t district = -1;
  uint32_t events = 0;
};

/// What a SignalStage hands to the merger per batch.
struct ShardSignals final : StageOutput {
  std::vector<SignalEvent> events;
  std::vector<DistrictHourCount> districts;
};

/// Which alert roles an event type has: the type-prefix rules of the config.
class AlertRules {
 public:
  AlertRules(const Config& config, const detect::GeofenceIndex* geofences);
  uint8_t roles(std::string_view type) const;
  uint64_t geofence_candidates(std::string_view type) const;

 private:
  std::vector<TypePrefix> sensor_, correlate_, model_;
  const detect::GeofenceIndex* geofences_;
};

/// The shard half (one per shard; process() on the shard's thread only).
class SignalStage final : public BatchStage {
 public:
  SignalStage(const AlertRules& rules, const detect::GeofenceIndex* geofences, const Interner& types);
  std::string_view name() const override { return "signals"; }
  void process(std::span<Event> events) override;
  std::unique_ptr<StageOutput> take_output() override;

 private:
  struct TypeRoles {
    bool known = false;
    uint8_t roles = 0;
    uint64_t geofences = 0;
  };
  const TypeRoles& roles_of(TypeId type);

  const AlertRules& rules_;
  const detect::GeofenceIndex* geofences_;
  const Interner& types_;
  std::vector<TypeRoles> type_roles_;  // by TypeId, filled on first sight
  std::unique_ptr<ShardSignals> out_;
};

/// Counters the alert side keeps (read by /metrics and the progress line).
struct AlertCounters {
  std::atomic<uint64_t> alerts{0}, updates{0}, suppressed{0}, trend_watch{0}, unscored{0};
  std::atomic<uint64_t> signals{0}, windows_scored{0}, bias_flagged{0};
  std::atomic<uint64_t> open_alerts{0};
};

/// The merger half.
class AlertStage {
 public:
  /// Where decisions go: the audit log (ts, decision, ref, reasons JSON).
  using AuditFn = std::function<void(EventTime, AuditDecision, std::string_view, std::string_view)>;

  /// Throws ConfigError / std::invalid_argument on bad options. `live`:
  /// ml.budget is enforced (wall time; a replay stays deterministic instead).
  AlertStage(const Config& config, const Enricher& enricher, const detect::GeofenceIndex* geofences,
             const Interner& sources, const Interner& types, FileSink& alerts_out, AuditFn audit,
             AlertCounters& counters, LatencyHistogram* event_to_alert, bool live);
  ~AlertStage();

  /// One epoch: `signals` are the ShardSignals of the epoch (any order),
  /// `records` its window results in output order, `now` the time scores are
  /// taken at (the watermark in replay, the wall clock live), `watermark` the
  /// epoch's event-time watermark (what state expires by, live).
  void process(std::span<const std::unique_ptr<StageOutput>> signals, std::span<const WindowRecord> records,
               EventTime now, EventTime watermark);

  void save(ByteWriter& out) const;
  bool load(ByteReader& in);

  /// Receives, at the end of each process() call that emitted anything, a
  /// copy of every alert created or updated in it (in emission order) with
  /// its alerts.jsonl record. Live consumers (the API's alert store) use it;
  /// without a listener nothing is copied. Set before the first process().
  using EmitFn = std::function<void(std::span<const Alert>, std::span<const std::string>)>;
  void set_listener(EmitFn listener);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
