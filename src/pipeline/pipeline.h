// Pipeline: composes the configured stages into the shards and owns the
// ingest side (decode, dedup, lateness, routing), the outputs and the
// checkpoints. It is the one place that knows every stage by name.
//
// Ingest contract: one thread at a time calls the ingest methods (replay:
// the replay loop; live: the HTTP handlers under the caller's lock). Output
// files (DIR/windows.jsonl, dead-letter.jsonl, late.jsonl, alerts.jsonl,
// audit.jsonl) are written in a deterministic order: dead letters and late
// events in input order, window results per watermark epoch sorted by (end,
// kind, start, key, revision), alerts and audit records per epoch (ingest
// decisions in input order, then the alert stage's; see alerting.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "alerts/audit_log.h"
#include "core/config.h"
#include "core/event.h"
#include "core/metrics.h"

namespace sentinel {

class MetricsRegistry;
struct AlertCounters;
class EventDecoder;

struct PipelineOptions {
  std::string out_dir;                       ///< where the .jsonl outputs go
  std::optional<std::string> checkpoint_dir; ///< checkpoints and resume when set
  std::vector<std::string> inputs;           ///< one name per source (file path, "http")
  int shards = -1;                           ///< -1: from config (0 = one per core)
  bool live = false;                         ///< wall-clock idleness and checkpoints of state only
  /// Live only: score alerts against event time (the newest event read), as a
  /// replay does, instead of the wall clock: the demo replays history live.
  bool event_time_scores = false;
  /// Live consumers, called on the merger thread once per epoch: the alerts
  /// created or updated in it with their alerts.jsonl records...
  std::function<void(std::span<const Alert>, std::span<const std::string>)> on_alerts;
  /// ... and every audit record about an alert (ref "a-..."), as appended.
  std::function<void(const AuditEntry&)> on_alert_audit;
};

/// Latency of one stage over every shard, for /v1/stats.
struct StageLatency {
  /// Time from ingest to the end of: "enrich", "signals", "windows" (the
  /// shard's last stage), and "end_to_end" (the alert or update the event caused).
  std::string stage;
  HistogramSnapshot histogram;  ///< cumulative since start
};

/// Counters a progress display or /metrics reads while the pipeline runs.
struct PipelineCounters {
  std::atomic<uint64_t> lines{0}, events{0}, dead_letters{0}, late{0}, duplicates{0};
  std::atomic<uint64_t> windows{0}, epochs{0}, checkpoints{0}, degraded{0};
  std::atomic<int64_t> watermark_ms{INT64_MIN};
};

/// Where a source resumes: the first line not yet fully handled.
struct ResumePoint {
  uint64_t offset = 0;
  uint64_t line = 1;
};

class Pipeline {
 public:
  /// Loads districts, sites and the time zone (ConfigError on bad files) and
  /// builds the shards. Nothing runs until start().
  Pipeline(const Config& config, PipelineOptions options);
  ~Pipeline();

  /// Restores the newest good checkpoint when checkpoint_dir is set (cutting
  /// the outputs back to its lengths), opens the outputs and starts the shards.
  /// Returns where each input resumes. Throws std::runtime_error when a
  /// checkpoint does not match this run (other inputs) or outputs were changed.
  std::vector<ResumePoint> start();

  /// A decoder bound to this pipeline's interners and rules, for a thread
  /// that decodes ahead of the ingest thread (one per thread).
  std::unique_ptr<EventDecoder> make_decoder() const;
  /// Work on a decoded event that may run on a decode-ahead thread, off the
  /// ingest thread: computes its routing cell. Thread-safe.
  void prepare(Event& event) const;
  /// Records a line that failed to decode elsewhere (a decode-ahead thread) as
  /// a dead letter, in input order, and counts it.
  void reject_line(size_t input, uint64_t line, uint64_t offset, const std::string& reason,
                   std::string_view raw);
  /// Counts a line decoded elsewhere that is about to be accepted.
  void count_line();
  /// Records a line over ingest.max_line_bytes as a dead letter.
  void reject_too_long(size_t input, uint64_t line, uint64_t offset, uint64_t length,
                       std::string_view head);
  /// Takes a decoded event: drops duplicates, sends late ones to late.jsonl,
  /// updates watermarks and routes the rest to their shard.
  enum class Outcome : uint8_t { kRouted, kDuplicate, kLate };
  Outcome accept(size_t input, Event& event, std::string_view raw);
  /// One rejected element of a request body.
  struct Rejection {
    uint64_t line = 0;
    uint64_t offset = 0;
    std::string field, reason;
  };
  /// Live ingest of a request body (one object, an array, or NDJSON) from
  /// `input`: every good element is accepted, every bad one recorded as a
  /// dead letter and returned. `body` must end in kJsonPadding spare bytes
  /// beyond `length`. Emits a marker afterwards so the events are processed now.
  struct BodyResult {
    uint64_t accepted = 0, duplicates = 0, late = 0;
    std::vector<Rejection> rejected;
  };
  BodyResult ingest_body(size_t input, const std::shared_ptr<const std::string>& body, size_t length);
  /// The texts `input`'s next events point into (its new block or request
  /// body), replacing what it held: kept alive until every event pushed from
  /// them is processed.
  void hold_texts(size_t input, std::span<const std::shared_ptr<const std::string>> texts);
  /// Counts a handled line and emits a watermark marker every `batch_size` lines.
  void line_done();
  /// Emits a marker now (live mode: after each request, and on a timer).
  void flush_marker();
  void finish_input(size_t input);
  /// The replay loop's current resume points, read when a checkpoint is taken.
  void set_position_provider(std::function<std::vector<ResumePoint>()> provider);

  /// True when every shard queue has room (live ingest answers 503 otherwise).
  bool has_capacity() const;
  uint64_t backlog() const;
  /// Global 24 h summary at the current watermark, as JSON Lines records.
  std::vector<std::string> global_summary();
  /// Sends the final watermark (every window closes) without stopping, so a
  /// global summary taken afterwards covers every event.
  void drain();
  /// Ends the run: flushes all windows (final watermark), writes the last
  /// checkpoint, closes the outputs.
  void finish();

  const PipelineCounters& counters() const;
  /// Alerts, updates, suppressed, trend_watch, unscored (the alert stage's counters).
  const AlertCounters& alert_counters() const;
  /// Cumulative latency histograms per stage, merged over the shards.
  std::vector<StageLatency> stage_latencies() const;
  /// The rolling end-to-end p95 the breaker watches (worst shard), whether
  /// it is over latency.warn_p95, and whether the breaker is open (degraded).
  struct LatencyState {
    std::chrono::nanoseconds p95{0};
    bool warning = false, degraded = false;
  };
  LatencyState latency_state() const;
  /// Prometheus text of every metric (stage latencies, counters).
  std::string metrics_text() const;
  /// The resolved number of shards.
  int shard_count() const;
  /// One-line description of the most recent notable window result (demo progress).
  std::string latest_highlight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
