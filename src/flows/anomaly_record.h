// One anomaly as the flow detectors emit it (DESIGN.md section 6), shared by
// `sentinel flows detect` (detect_run.cpp) and the detection service
// (flow_service.cpp) so that both write the same records:
//   - the anomaly object (anomalies.jsonl, topic ai.anomalies.v1),
//   - its evidence (evidence.jsonl, topic ai.evidence.v1),
//   - the CloudEvents `network` event of type network.anomaly.<kind> that
//     puts it through the alert pipeline (network-events.jsonl, ingest);
// and the bounded backlog in front of the publisher's rate limiter.
//
// Threading: the functions are reentrant; a PublishQueue belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/ensemble.h"
#include "flows/flow.h"
#include "flows/kafka_publisher.h"

namespace sentinel::flows {

/// "fa-<16 hex>": XXH3-64 of the flow's origin, so a flow read again (a
/// re-read Kafka batch, a file read twice) gets the same id.
std::string anomaly_id(std::string_view origin);

/// "syn-flood"-style kind: the id of the first rule matched in `evidence`,
/// else "model" when the ML engine contributed, else "statistical".
std::string anomaly_kind(const nlohmann::json& evidence, const std::vector<std::string_view>& engines);

/// Event types are dotted lower-case words; a rule id may hold other
/// characters: keeps letters and digits (lower-cased), maps '-' and '_' to
/// '_', drops the rest; "flow" when nothing is left.
std::string type_word(std::string_view kind);

/// Everything emitted for one anomaly.
struct AnomalyRecord {
  std::string id;
  std::string kind;
  nlohmann::json anomaly;       ///< the anomaly object (anomaly_id, time, origin, identity, score, engines, kind)
  std::string anomaly_text;     ///< anomaly.dump()
  std::string evidence_text;    ///< the evidence with "anomaly_id" added, dumped
  std::string network_event;    ///< the CloudEvents `network` event, dumped
};

/// Builds the record of flows[i] judged anomalous: `evidence` from
/// Detector::evidence(), `contributing` from Detector::contributing().
/// `fallback_time_ms` (Unix ms) stands for the event time of a flow without
/// a timestamp (the anomaly's "time" is then null).
AnomalyRecord build_anomaly_record(const FlowRecord& flow, const EnsembleDecision& decision, double threshold,
                                   const std::vector<std::string_view>& contributing, nlohmann::json evidence,
                                   int64_t fallback_time_ms);

/// Anomalies waiting for the publish rate limit, bounded.
inline constexpr size_t kMaxPublishBacklog = 100'000;

/// Messages waiting for the publisher's token bucket, published oldest
/// first. Past `max_backlog` waiting messages new ones are dropped (counted):
/// the files and network events still carry them. One thread.
class PublishQueue {
 public:
  explicit PublishQueue(KafkaPublisher& publisher, size_t max_backlog = kMaxPublishBacklog)
      : publisher_(publisher), max_backlog_(max_backlog) {}
  void add(Stream stream, std::string key, std::string payload);
  /// Publishes what the rate limit (and librdkafka's queue) allows now.
  void pump();
  size_t backlog() const { return backlog_.size(); }
  uint64_t published() const { return published_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    Stream stream;
    std::string key;
    std::string payload;
  };
  KafkaPublisher& publisher_;
  size_t max_backlog_;
  std::deque<Item> backlog_;
  uint64_t published_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace sentinel::flows
