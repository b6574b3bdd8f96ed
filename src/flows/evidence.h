// Evidence for an anomalous flow (DESIGN.md section 6): one JSON object that
// says what the flow was and why the ensemble called it an anomaly. Built on
// the cold path only (anomalies), after the batch was voted, so that each
// engine's explain() still refers to that batch.
//
// Shape (object keys sorted, so the serialised form is deterministic):
//   {"flow": {"flow_id", "src_ip", "dst_ip", "src_port", "dst_port", "protocol",
//             "timestamp_ms", "time" (RFC 3339, null when unknown), "origin", "label"},
//    "ensemble": {"score", "threshold", "anomaly", "contributing": [engine names],
//                 "deciding": [engine names]},
//    "engines": {"<name>": {"status": "decided" | "undecided" | "skipped", "attack",
//                           "score", "weight", "explain": engine.explain()}},
//    "top_features": [{"feature", "name", "value", "z"}, ...]}
// Missing values are null and infinite ones the strings "inf"/"-inf" (JSON
// has neither). "explain" is absent for a skipped engine; if an engine's
// explain() throws, "explain_error" holds the message instead. top_features
// are the features with the largest |z| through the fitted normaliser
// (finite values only, ties by feature order), empty without a normaliser.
//
// Threading: as the engines' explain() (the detection thread).
#pragma once

#include <cstddef>
#include <span>

#include <nlohmann/json_fwd.hpp>

#include "flows/engine.h"
#include "flows/ensemble.h"
#include "flows/flow.h"

namespace sentinel::flows {

class Normaliser;

/// One engine as the evidence sees it: the engine (for explain(); may be
/// null when it only has verdicts) and its column of the vote.
struct EvidenceEngine {
  const DetectionEngine* engine = nullptr;
  EngineColumn column;  ///< name, weight and verdicts; empty verdicts = skipped for the batch
};

struct EvidenceOptions {
  size_t top_features = 5;
};

/// The evidence object for flow `index` of the last batch (`flow` is that
/// flow), voted as `decision` with `threshold`. `engines` in the order of the
/// vote's columns (so the decision's masks name them). `normaliser` may be null.
nlohmann::json build_evidence(const FlowRecord& flow, size_t index, const EnsembleDecision& decision,
                              double threshold, std::span<const EvidenceEngine> engines,
                              const Normaliser* normaliser, const EvidenceOptions& options = {});

}  // namespace sentinel::flows
