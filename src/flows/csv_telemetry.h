// CICFlowMeter CSV files in, as FlowRecords (DESIGN.md section 6).
//
// A CsvFile is the file mapped into memory (read-only mmap; or a buffer given
// by the caller) with its header mapped onto the 79 features (layouts.h). A
// CsvReader reads the data rows of the whole file or of one chunk of it;
// chunks come from CsvFile::split and always start at a line start, so one
// file can be parsed on several threads, each reader reporting true line
// numbers.
//
// Row rules (docs/FLOWS.md): fields are split at commas (a field may be
// double-quoted, not across lines); numbers are read as by std::from_chars
// (surrounding spaces allowed); "Infinity"/"inf" (any case) is +inf,
// "-Infinity"/"-inf" is -inf, "NaN" or an empty field is missing. A row with
// the wrong number of columns, a bad number, port or timestamp, a row longer
// than CsvOptions::max_line_bytes, or a last line cut short (no newline and
// too few columns) is reported as {"file:line", reason} and skipped; the
// rows after it are read as usual. Blank lines are skipped silently.
//
// Threading: a CsvFile is immutable after open and may be shared by readers
// on any number of threads; a CsvReader belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "flows/flow.h"
#include "flows/layouts.h"
#include "flows/telemetry.h"

namespace sentinel::flows {

struct CsvOptions {
  /// Longer rows are reported and skipped (CIC rows are under 1 KiB).
  size_t max_line_bytes = 64 * 1024;
  /// Label given to rows of a file without a Label column (or an empty one).
  std::string default_label;
  /// Fill FlowRecord::origin ("file:line"). Off only for benchmarks and bulk
  /// jobs that never report single flows.
  bool set_origin = true;
  /// Receives every skipped row; may be empty.
  IssueSink issues;
};

/// Byte range [begin, end) of data rows in a CsvFile; `first_line` is the
/// 1-based line number of the row at `begin`.
struct CsvChunk {
  size_t begin = 0;
  size_t end = 0;
  uint64_t first_line = 0;
};

/// A CSV flow file in memory with its mapped header.
class CsvFile {
 public:
  /// Maps `path` and maps its header (first line). Errors name the path:
  /// cannot open/read, empty file, a header refused by map_header_line.
  static Result<std::shared_ptr<const CsvFile>> open(const std::string& path);

  /// The same over bytes already in memory (tests, benchmarks); `name` is
  /// used in origins and messages.
  static Result<std::shared_ptr<const CsvFile>> from_buffer(std::string name, std::string data);

  ~CsvFile();
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;

  const std::string& path() const { return path_; }
  const Layout& layout() const { return layout_; }
  std::string_view data() const { return {data_, size_}; }
  size_t size_bytes() const { return size_; }

  /// All data rows as one chunk.
  CsvChunk whole() const;

  /// Splits the data rows into at most `n` chunks of about equal size, each
  /// starting at a line start, with their first line numbers (counting the
  /// newlines before each boundary: one memchr pass over the file).
  std::vector<CsvChunk> split(size_t n) const;

 private:
  CsvFile() = default;
  static Result<std::shared_ptr<const CsvFile>> finish(std::shared_ptr<CsvFile> file);

  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // munmap'ed in the destructor when set
  std::string owned_;        // from_buffer's bytes
  Layout layout_;
  size_t body_begin_ = 0;    // first byte after the header line
};

/// Reads the data rows of one chunk of a CsvFile in batches.
class CsvReader final : public FlowSource {
 public:
  CsvReader(std::shared_ptr<const CsvFile> file, CsvChunk chunk, CsvOptions options = {});

  /// Opens `path` and reads all of it.
  static Result<std::unique_ptr<CsvReader>> open(const std::string& path, CsvOptions options = {});

  const std::string& name() const override { return file_->path(); }
  std::string_view layout() const override { return file_->layout().id(); }
  std::string_view layout_name() const override { return file_->layout().name; }
  Result<size_t> next_batch(std::vector<FlowRecord>& out, size_t max) override;
  TelemetryStats stats() const override { return stats_; }

 private:
  // Parses one line (without its newline) into `flow`; false with `reason` set
  // when the row is bad.
  bool parse_row(const char* begin, const char* end, bool last_unterminated, FlowRecord& flow);
  // The field loop of parse_row; on a bad value sets reason_, on a column
  // count mismatch returns false leaving the reason to parse_row.
  bool parse_fields(const char* begin, const char* end, FlowRecord& flow);
  // A number field the fast path does not take; false with reason_ set.
  [[gnu::noinline]] bool slow_number(const char* begin, const char* end, size_t column, double& out);
  void reject(uint64_t line);
  void set_origin(FlowRecord& flow, uint64_t line) const;

  std::shared_ptr<const CsvFile> file_;
  CsvOptions options_;
  const char* pos_;
  const char* end_;
  uint64_t line_;
  std::string origin_prefix_;  // "path:"
  std::string reason_;         // of the last bad row
  std::string tail_;           // copy of a last line without newline, terminated
  TelemetryStats stats_;
};

/// Parses a CSV number field as the reader does: true with `out` set
/// (NaN for empty/NaN) or false for text that is not a number.
bool parse_csv_number(std::string_view field, double& out);

/// Parses a flow timestamp of the CIC layouts to Unix ms, taking the wall
/// clock as UTC: "7/7/2017 3:30" and "03/07/2017 08:55:58" (day/month/year,
/// optional seconds and fraction, optional AM/PM), "2017-07-07 19:02:39.182486"
/// (also with 'T', and an optional "Z" or "+hh:mm" offset), or integer Unix ms.
std::optional<int64_t> parse_flow_timestamp(std::string_view text);

}  // namespace sentinel::flows
