// JSON flow telemetry files and directories in, as FlowRecords (DESIGN.md
// section 6; record format in flow_json.h and docs/FLOWS.md).
//
// A file holds one record object, an array of them, or JSON lines (one object
// per line; chosen when the file is named .jsonl/.ndjson, or when its first
// line is a complete object and more follows). A directory is walked
// recursively in path order for *.json, *.jsonl and *.ndjson, so the usual
// trees `flows/benign/*.json`, `flows/ddos/*.json`, `flows/*.json` and
// `files/...` all read the same way. A record without a label takes it from
// the nearest enclosing folder named `benign` (-> BENIGN) or `ddos` (-> DDoS),
// case-insensitively.
//
// A file larger than TelemetryConfig::max_file_bytes is refused (reported
// with its size and the limit, nothing read from it). Malformed JSON, wrong
// types and unknown keys are reported per record ("file:line" for JSON lines,
// "file[index]" for array elements, "file" for a single object or a file that
// does not parse) and the record is skipped; the others are read.
//
// Threading: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "flows/flow.h"
#include "flows/flow_json.h"
#include "flows/telemetry.h"

namespace sentinel::flows {

/// One JSON telemetry file to read and the label its records default to.
struct JsonTelemetryFile {
  std::string path;
  std::string default_label;  ///< from a benign/ or ddos/ folder; "" = none
};

/// Label implied by a folder name: "benign" -> "BENIGN", "ddos" -> "DDoS"
/// (any case); "" otherwise.
std::string_view label_for_folder(std::string_view folder);

/// The label of the nearest folder named benign/ddos that holds `file`,
/// looking no higher than `root` (inclusive); "" when there is none.
std::string folder_label(const std::string& file, const std::string& root);

/// True for the file names JSON telemetry reads: *.json, *.jsonl, *.ndjson.
bool is_json_telemetry_name(std::string_view filename);

/// The JSON telemetry files under `root` (a directory, walked recursively in
/// path order, or one file), each with the label of its nearest benign/ddos
/// folder at or below `root`'s parent. Unreadable directories are reported
/// to `issues` and skipped.
std::vector<JsonTelemetryFile> list_json_telemetry(const std::string& root, const IssueSink& issues);

/// Reads a list of JSON telemetry files one after the other.
class JsonTelemetrySource final : public FlowSource {
 public:
  /// `name` is what name() reports (the path given by the user).
  JsonTelemetrySource(std::string name, std::vector<JsonTelemetryFile> files, const TelemetryConfig& config,
                      IssueSink issues);
  ~JsonTelemetrySource() override;

  /// Lists `root` with list_json_telemetry and reads every file found.
  static std::unique_ptr<JsonTelemetrySource> open(const std::string& root, const TelemetryConfig& config,
                                                   IssueSink issues);

  const std::string& name() const override { return name_; }
  std::string_view layout() const override { return "json"; }
  std::string_view layout_name() const override { return "JSON flow records"; }
  Result<size_t> next_batch(std::vector<FlowRecord>& out, size_t max) override;
  TelemetryStats stats() const override { return stats_; }

 private:
  enum class Mode { none, document, lines };

  // Loads the next file into memory; false when there is none left.
  bool open_next_file();
  // Decodes the next record of the current file into `flow`; false when the
  // file is exhausted. A bad record is reported and `ok` set false.
  bool next_record(FlowRecord& flow, bool& ok);
  void report(std::string origin, std::string reason);

  std::string name_;
  std::vector<JsonTelemetryFile> files_;
  size_t next_file_ = 0;
  uint64_t max_file_bytes_;
  IssueSink issues_;
  FlowJsonDecoder decoder_;
  TelemetryStats stats_;

  // The current file.
  const JsonTelemetryFile* file_ = nullptr;
  std::string text_;
  Mode mode_ = Mode::none;
  bool single_object_ = false;  // document mode: the file is one object (origin = the path)
  size_t index_ = 0;     // document mode: next record
  size_t count_ = 0;     // document mode: records in the file
  size_t offset_ = 0;    // lines mode: byte offset of the next line
  uint64_t line_ = 0;    // lines mode: number of the next line
};

}  // namespace sentinel::flows
