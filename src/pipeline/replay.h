// Replay: reads JSON Lines files as fast as possible (or paced by event time)
// through the pipeline, deterministically: inputs are merged by event time
// (ties by input order), markers fall every `pipeline.batch_size` lines, so
// the same inputs give byte-identical outputs for any number of shards.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "pipeline/pipeline.h"

namespace sentinel {

struct ReplayOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  std::optional<std::string> checkpoint_dir;
  int shards = -1;        ///< -1: from config
  double speed = 0;       ///< 0: as fast as possible; N: N seconds of event time per second
  bool global_summary = false;  ///< append the 24 h global summary to windows.jsonl at the end
  /// Called about once a second from the replay thread while it runs.
  std::function<void(const Pipeline&)> on_progress;
};

struct ReplaySummary {
  uint64_t lines = 0, events = 0, dead_letters = 0, late = 0, duplicates = 0, windows = 0;
  uint64_t alerts = 0, updates = 0, suppressed = 0, trend_watch = 0;
  double seconds = 0;
  int shards = 0;
};

/// Runs a replay to the end. Throws ConfigError / std::runtime_error for
/// start-up problems (unreadable input, bad checkpoint directory).
ReplaySummary run_replay(const Config& config, const ReplayOptions& options);

}  // namespace sentinel
