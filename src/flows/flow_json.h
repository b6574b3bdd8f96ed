// FlowRecord <-> JSON: the record format of JSON telemetry files and of the
// Kafka telemetry payloads (docs/FLOWS.md, "JSON record").
//
// A record is one flat object. Keys: the identity keys flow_id, src_ip,
// dst_ip (strings), src_port (integer 0-65535), timestamp (RFC 3339 string,
// or integer Unix ms), label (string); and features by snake_case key
// (feature_keys(), e.g. "syn_flag_count") or canonical CIC name
// (feature_names(), e.g. "SYN Flag Count"), each a number, null (missing),
// or one of the strings "Infinity", "-Infinity", "NaN" (JSON has no
// infinities). Any other key, a value of the wrong type, or a feature given
// twice is an error naming the key.
//
// Threading: FlowJsonDecoder holds a parser and is used by one thread at a
// time; the writer functions are free and reentrant.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "flows/flow.h"

namespace sentinel::flows {

/// Appends `flow` as one JSON object: the identity keys that are set, then
/// every present feature by snake_case key in feature order (missing ones
/// omitted; infinities as "Infinity"/"-Infinity"; others as the shortest text
/// that reads back to the same double). `origin` is not written.
void append_flow_json(std::string& out, const FlowRecord& flow);

/// append_flow_json into a new string.
std::string flow_to_json(const FlowRecord& flow);

/// Parses JSON flow records with simdjson; reuses its buffers across calls.
class FlowJsonDecoder {
 public:
  FlowJsonDecoder();
  ~FlowJsonDecoder();
  FlowJsonDecoder(FlowJsonDecoder&&) noexcept;
  FlowJsonDecoder& operator=(FlowJsonDecoder&&) noexcept;

  /// Decodes one JSON object into `flow` (cleared first; `origin` left
  /// empty). Errors: malformed JSON (field ""), not an object, or a bad key
  /// or value (field = the key).
  Status decode(std::string_view json, FlowRecord& flow);

  /// Parses a document holding one object or an array of values; returns how
  /// many records it holds (1 for an object). Error: malformed JSON or a
  /// top-level value that is neither. The records are then read with record().
  Result<size_t> load(std::string_view json);

  /// Decodes record `index` (< the count load() returned) of the loaded document.
  Status record(size_t index, FlowRecord& flow);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::flows
