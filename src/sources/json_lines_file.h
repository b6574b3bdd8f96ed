// JsonLinesFile: reads a JSON Lines file in large chunks and hands out one
// line at a time, with its 1-based line number and byte offset.
//
// Lines point into a shared, padded chunk (the JSON parser may read
// kJsonPadding bytes past a line's end), so nothing is copied per line; the
// caller keeps the chunk alive (current_text()) while it uses the lines.
// A line longer than `max_line_bytes` is not buffered: it is skipped up to
// its newline and returned with too_long set, so a huge line cannot exhaust
// memory. A last line without a newline is returned as it is (a truncated
// file's last line then fails to parse and becomes a dead letter).
// Threading: single-threaded.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace sentinel {

class JsonLinesFile {
 public:
  struct Line {
    std::string_view text;
    uint64_t number = 0;  ///< 1-based
    uint64_t offset = 0;  ///< byte offset of the line's first byte
    uint64_t length = 0;  ///< bytes of the line without its newline (also when too_long)
    bool too_long = false;
  };

  /// Opens `path` and positions at `offset` (which must be a line start),
  /// numbering the next line `line_number`. Throws std::runtime_error naming
  /// the path when it cannot be opened or is shorter than `offset`.
  JsonLinesFile(std::string path, uint64_t offset, uint64_t line_number, uint64_t max_line_bytes,
                size_t chunk_bytes = 4 << 20);
  ~JsonLinesFile();
  JsonLinesFile(const JsonLinesFile&) = delete;
  JsonLinesFile& operator=(const JsonLinesFile&) = delete;

  /// The next line; false at end of file.
  bool next(Line& line);
  /// The chunk the last returned line points into.
  const std::shared_ptr<const std::string>& current_text() const { return text_; }
  /// Offset and number of the line after the last one returned (where a resume starts).
  uint64_t next_offset() const { return next_offset_; }
  uint64_t next_line_number() const { return next_line_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  bool refill();

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  uint64_t max_line_;
  size_t chunk_bytes_;
  std::shared_ptr<const std::string> text_;
  std::string_view data_;  // unread part of the current chunk (without padding)
  uint64_t data_offset_ = 0;  // file offset of data_.data()
  uint64_t next_offset_, next_line_;
  bool eof_ = false;
};

}  // namespace sentinel
