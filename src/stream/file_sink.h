// FileSink: an append-only output file (windows.jsonl, dead-letter.jsonl, ...)
// whose length at a checkpoint is recorded, so a restore can cut it back to
// exactly that point and the rerun appends the same bytes again.
// Threading: one writer thread per sink.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sentinel {

class FileSink {
 public:
  /// Opens (creating) `path`, cut to `length` bytes (0: start afresh). Throws
  /// std::runtime_error naming the path when it cannot, or when the file is
  /// shorter than `length` (the output was removed or changed since the checkpoint).
  FileSink(std::string path, uint64_t length);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  /// Buffers a line (a newline is added).
  void write_line(std::string_view line);
  /// Buffers bytes as they are.
  void write(std::string_view bytes);
  /// Hands buffered bytes to the OS; returns the committed length.
  uint64_t flush();
  /// fsync: durable up to the last flush.
  void sync();
  uint64_t committed_length() const { return committed_; }
  uint64_t lines() const { return lines_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t committed_ = 0;
  uint64_t lines_ = 0;
};

}  // namespace sentinel
