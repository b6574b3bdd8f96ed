// Flow telemetry in: the common interface of every flow source (CSV files,
// JSON telemetry files and directories), opening inputs by path, and the
// feature export the training script reads (DESIGN.md section 6,
// docs/FLOWS.md).
//
// Threading: a FlowSource is used by one thread at a time. Several sources
// (e.g. the chunk readers of one CSV file, csv_telemetry.h) may run on
// different threads; each then needs its own IssueSink or a sink that locks.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "flows/flow.h"

namespace sentinel::flows {

/// A row, record or file that was skipped, and why. `origin` is "file:line"
/// for CSV rows and JSON lines, "file[index]" for an element of a JSON array,
/// and the file path for a problem with a whole file.
struct TelemetryIssue {
  std::string origin;
  std::string reason;
};

/// Receives every skipped row/record/file. May be empty (issues are then only counted).
using IssueSink = std::function<void(const TelemetryIssue&)>;

/// Counts of one source so far.
struct TelemetryStats {
  uint64_t records = 0;   ///< flows returned
  uint64_t rejected = 0;  ///< rows/records reported to the IssueSink and skipped
  uint64_t files = 0;     ///< files read (JSON directories: files opened)
};

/// A stream of flows read in batches.
class FlowSource {
 public:
  virtual ~FlowSource() = default;

  /// What is read (a file or directory path), for logs and reports.
  virtual const std::string& name() const = 0;

  /// layout_id() of the records last returned: "machine_learning_cve", ...,
  /// "other" for CSV; "json" for JSON telemetry.
  virtual std::string_view layout() const = 0;

  /// Human-readable description of the layout, e.g.
  /// "CIC-IDS2017 MachineLearningCVE (79 columns)".
  virtual std::string_view layout_name() const = 0;

  /// Reads up to `max` next flows into `out`, reusing its elements (their
  /// strings keep their capacity): on return out.size() is the count
  /// returned; 0 means the source is exhausted. Bad rows are reported to
  /// the IssueSink and skipped, never returned. An error result only for a
  /// failure that ends the source (I/O); the source is then exhausted.
  virtual Result<size_t> next_batch(std::vector<FlowRecord>& out, size_t max) = 0;

  virtual TelemetryStats stats() const = 0;
};

/// Opens each input path: a CSV file (layout detected from its header), a
/// JSON file (.json, .jsonl, .ndjson), or a directory, walked recursively in
/// path order: its CSV files each become a source, its JSON files one JSON
/// telemetry source (labels from benign/ and ddos/ folders, json_telemetry.h).
/// Errors (Error::field = the path): a path that does not exist, a file of
/// another type given directly, a CSV file given directly that cannot be read
/// or whose header is refused (the reason names the unmapped columns).
/// Problems found while reading (bad rows and records, JSON files over
/// telemetry.max_file_bytes, a refused CSV file inside a directory) go to
/// `issues` instead and are skipped.
Result<std::vector<std::unique_ptr<FlowSource>>> open_telemetry(std::span<const std::string> paths,
                                                                const TelemetryConfig& config, IssueSink issues);

/// What write_features_csv wrote.
struct FeatureExportStats {
  uint64_t rows = 0;
  uint64_t rejected = 0;                       ///< rows/records skipped (reported to the sink)
  std::map<std::string, uint64_t> per_label;   ///< rows per label ("" = unlabelled)
  std::map<std::string, uint64_t> per_layout;  ///< rows per layout id
};

/// Writes the feature table used for training: a header of the 79 canonical
/// feature names (feature_names(), in order), then `label`, `layout`,
/// `source`; one row per flow. Missing features are empty cells, infinities
/// `inf` / `-inf`, other values the shortest text that reads back to the
/// same double. `source` is the file the flow came from (without its line).
/// Fields are quoted only when they contain a comma, quote or newline.
/// Returns an error when the stream fails or a source fails.
Result<FeatureExportStats> write_features_csv(std::span<const std::unique_ptr<FlowSource>> sources,
                                              std::ostream& out, size_t batch_size = 4096);

/// Formats a feature value as write_features_csv does ("" for missing).
void append_feature_value(std::string& out, double value);

/// Appends `text` to `out` as one CSV field (RFC 4180): quoted, with quotes
/// doubled, when it holds a comma, a quote or a line break.
void append_csv_field(std::string& out, std::string_view text);

}  // namespace sentinel::flows
