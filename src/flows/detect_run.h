// `sentinel flows detect`: flow files in, verdicts, anomalies, evidence and
// network events out (DESIGN.md section 6), optionally published to Kafka.
//
// Work is split so that more cores make it faster without changing any
// result: W workers parse the inputs (a CSV file in chunks split at line
// starts, other sources whole) and run the stateless ML engine on their
// batches; one thread then takes the batches in input order and runs the
// stateful engines (rules with aggregations, math baselines), the vote and
// the outputs. Batches in flight are bounded, so memory stays flat however
// large the input.
//
// Outputs in DIR (each written to "<name>.partial" and renamed at the end):
//   verdicts.csv        one row per flow: origin, label, each engine's score
//                       and vote ("" when it abstained or was skipped), the
//                       ensemble score, anomaly, contributing engines
//   anomalies.jsonl     one object per anomaly (id, flow identity, score,
//                       engines, kind)
//   evidence.jsonl      the evidence of each anomaly (evidence.h)
//   network-events.jsonl  each anomaly as a CloudEvents `network` event of
//                       type network.anomaly.<kind>: `sentinel replay` (or
//                       POST /v1/events) puts them through the alert pipeline
//   dead-letter.jsonl   every skipped row, record or file: origin and reason
//   summary.json        counts, per-engine outcomes, stage timings
//                       (p50/p95/p99), and with labelled input the confusion
//                       counts and per-label detection rates
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"

namespace sentinel::flows {

struct DetectRunOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  int workers = 0;             ///< parse + ML threads; 0 = one per core
  bool write_outputs = true;   ///< false: detection only (benchmarks)
  /// Called about once a second from the ordered stage with flows done so far.
  std::function<void(uint64_t flows, uint64_t anomalies)> on_progress;
};

struct LabelCounts {
  uint64_t flows = 0;
  uint64_t anomalies = 0;
};

struct DetectRunSummary {
  double seconds = 0;
  uint64_t flows = 0;
  uint64_t anomalies = 0;
  uint64_t rejected = 0;  ///< rows/records/files skipped (dead letters)
  uint64_t published = 0;
  uint64_t publish_held_back = 0;  ///< anomalies not published (rate limit/queue) by the end
  std::map<std::string, LabelCounts> per_label;  ///< labelled input only
  /// Binary confusion against the labels (BENIGN = negative).
  uint64_t true_positive = 0, false_positive = 0, true_negative = 0, false_negative = 0;
  std::string summary_json;  ///< what summary.json holds
};

/// Runs detection over every input. Start-up problems (config, model, rules,
/// an input that does not exist or a CSV header that is refused, an output
/// directory that cannot be written, Kafka without a signing key) throw with
/// one line naming the place; bad rows are dead letters, never fatal.
DetectRunSummary run_flow_detection(const Config& config, const DetectRunOptions& options);

}  // namespace sentinel::flows
