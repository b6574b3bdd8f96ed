// ShardedEngine: the shards, their bounded queues, and the merge of their
// results back into one deterministic stream (DESIGN.md section 3).
//
// The ingest thread routes events to shards (push) and, every batch, sends
// every shard a marker carrying the combined watermark (emit_marker). A shard
// runs its stages to completion on each batch, adds the events to its
// windows, advances its windows to the marker's watermark, and hands the
// results of that epoch to the merger. The merger waits until every shard has
// delivered an epoch and then gives the epoch's results to the sink handler
// in one call, so output order is by epoch and never by thread timing: the
// same input gives the same output for any number of shards.
//
// A marker may ask for a checkpoint: each shard then serialises its state
// right after that epoch, and the handler receives every shard's snapshot
// with the epoch, when the epoch's results have been handed over.
//
// Work on an epoch's results that can be done per shard (sorting and
// rendering them) runs on the shard's thread in a ShardEpochHook, so the
// single merger thread only combines it. A shard delivers at most
// queue_batches epochs ahead of the merger, then waits (backpressure both ways).
//
// Threading: push/hold_text/emit_marker from one ingest thread (or under the
// caller's lock); one thread per shard (stages and the hook); one merger
// thread calling the handler. Shards share nothing mutable with each other.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event.h"
#include "stream/window_record.h"

namespace sentinel {

class WindowOperator;

/// What a stage hands on to the merger for one batch (say, the events that
/// may become alerts). The engine only carries it; whoever made the stage
/// knows the concrete type.
struct StageOutput {
  virtual ~StageOutput() = default;
};

/// A stage that runs on a shard over a whole batch (one virtual call per batch).
class BatchStage {
 public:
  virtual ~BatchStage() = default;
  /// Stage name for metrics ("enrich", ...).
  virtual std::string_view name() const = 0;
  /// Transforms the batch's events in place. Called only from the shard's thread.
  virtual void process(std::span<Event> events) = 0;
  /// What this batch left for the merger, if anything; called on the shard's
  /// thread after process() and before the events reach the windows.
  virtual std::unique_ptr<StageOutput> take_output() { return nullptr; }
};

/// Builds the stages of shard `index` (called once per shard at start).
using StageFactory = std::function<std::vector<std::unique_ptr<BatchStage>>(int index)>;

struct Marker {
  uint64_t epoch = 0;
  EventTime watermark = kMinEventTime;
  bool checkpoint = false;
};

/// What the merger hands over per epoch.
struct EpochOutput {
  uint64_t epoch = 0;
  EventTime watermark;
  /// Every shard's results, shard 0's first; each shard's in the order its
  /// ShardEpochHook left them (the window operator's order without one).
  std::vector<WindowRecord> records;
  /// records[shard_ends[i-1], shard_ends[i]) are shard i's (shard_ends[-1] = 0).
  std::vector<size_t> shard_ends;
  /// Per shard: what its ShardEpochHook returned for this epoch (null without one).
  std::vector<std::unique_ptr<StageOutput>> shard_results;
  bool checkpoint = false;
  std::vector<std::string> shard_states;  ///< one per shard when checkpoint
  uint64_t events = 0;                    ///< events the shards processed in this epoch
  /// Every output stages left in this epoch, from all shards, in no
  /// particular order (the handler orders what it needs ordered).
  std::vector<std::unique_ptr<StageOutput>> stage_outputs;
};
using EpochHandler = std::function<void(EpochOutput&)>;

/// Called on shard `shard`'s thread once per epoch with its window results
/// of the epoch, which it may reorder (sort). What it returns reaches the
/// handler in EpochOutput::shard_results: work on the results that can run
/// per shard, in parallel (rendering them), instead of on the merger thread.
using ShardEpochHook =
    std::function<std::unique_ptr<StageOutput>(int shard, std::vector<WindowRecord>& records)>;

/// Per-stage latency observer, called once per batch and stage with the time
/// the stage finished; latency is measured from each event's ingest_time.
/// Stage indices: 0..n-1 for the BatchStages, n for the windows (end to end).
using LatencyObserver =
    std::function<void(int shard, size_t stage, ProcTime now, std::span<const Event> events)>;

class ShardedEngine {
 public:
  struct Options {
    int shards = 1;
    uint32_t queue_batches = 64;
    WindowsConfig windows;
  };

  ShardedEngine(Options options, StageFactory stages, EpochHandler on_epoch,
                LatencyObserver on_latency = {}, ShardEpochHook on_shard_epoch = {});
  ~ShardedEngine();

  int shard_count() const;
  /// Restores shard state from a checkpoint's snapshots (before start()).
  /// `route(cell)` gives the shard that owns a fine cell now, so snapshots
  /// taken with another shard count are re-partitioned. Returns false on
  /// malformed state.
  bool restore(const std::vector<std::string>& shard_states,
               const std::function<int(uint64_t cell)>& route);
  void start();

  /// Appends an event to the open batch of `shard`.
  void push(int shard, const Event& event);
  /// Keeps `text` alive until every batch opened so far is processed (the
  /// text events point into).
  void hold_text(std::shared_ptr<const std::string> text);
  /// Closes every shard's open batch with `marker` and queues it, waiting for
  /// queue space (backpressure).
  void emit_marker(const Marker& marker);
  /// True when every shard queue has room for one more batch now.
  bool has_capacity() const;
  /// Events pushed but not yet processed by the shards.
  uint64_t backlog() const;

  /// Asks every shard for its part of the global summary at the current
  /// watermark; blocks until all have answered.
  std::vector<WindowRecord> global_summary(EventTime reference);
  /// Processes everything queued, then stops the shard and merger threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
