// FileSink: an append-only output file (windows.jsonl, dead-letter.jsonl, ...)
// whose length at a checkpoint is recorded, so a restore can cut it back to
// exactly that point and the rerun appends the same bytes again.
//
// SinkWriter: one thread that makes the write() calls of any number of
// sinks, so the threads that produce output only copy bytes into memory.
// A sink given a SinkWriter double-buffers: when its buffer fills, the buffer
// is handed to the writer thread and the sink goes on filling a second one;
// it waits only if the first is still being written (and writes it itself
// if the writer thread has not picked it up yet; flush() does the same). A
// sink has at most one buffer in flight, so its bytes reach the file in the
// order they were written.
//
// Threading: one producing thread per sink (different sinks may be fed from
// different threads); the SinkWriter is shared and must outlive its sinks.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace sentinel {

class FileSink;

class SinkWriter {
 public:
  /// Starts the writer thread.
  SinkWriter();
  /// Writes what is still queued, then joins the thread.
  ~SinkWriter();
  SinkWriter(const SinkWriter&) = delete;
  SinkWriter& operator=(const SinkWriter&) = delete;

 private:
  friend class FileSink;
  /// Queues `sink`'s in-flight buffer (the caller set it under mutex_).
  void submit(FileSink& sink);
  void run();

  std::mutex mutex_;
  std::condition_variable work_;  // a buffer was queued, or stop_
  std::condition_variable done_;  // a buffer was written
  std::deque<FileSink*> queue_;   // guarded by mutex_
  bool stop_ = false;             // guarded by mutex_
  std::thread thread_;
};

class FileSink {
 public:
  /// Opens (creating) `path`, cut to `length` bytes (0: start afresh). Throws
  /// std::runtime_error naming the path when it cannot, or when the file is
  /// shorter than `length` (the output was removed or changed since the checkpoint).
  /// With `writer`, full buffers are written on its thread (see above).
  FileSink(std::string path, uint64_t length, SinkWriter* writer = nullptr);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  /// Buffers a line (a newline is added).
  void write_line(std::string_view line);
  /// Buffers bytes as they are; `lines` is how many lines they hold (for lines()).
  void write(std::string_view bytes, uint64_t lines = 0);
  /// Hands every buffered byte to the OS and returns the committed length.
  /// With a writer, waits until the writer thread has written them, so the
  /// length returned is always one the file really has (what a checkpoint records).
  uint64_t flush();
  /// fsync: durable up to the last flush.
  void sync();
  uint64_t committed_length() const { return committed_; }
  uint64_t lines() const { return lines_; }
  const std::string& path() const { return path_; }

 private:
  friend class SinkWriter;
  /// Full buffer: written here without a writer, handed over with one.
  void spill();
  /// With writer_->mutex_ held: returns once no buffer of this sink is in
  /// flight (writing a queued one here), and rethrows a failed write.
  void settle(std::unique_lock<std::mutex>& lock);
  /// write(2) of all of `bytes`; the error text when it fails, else empty.
  std::string write_all(std::string_view bytes);

  std::string path_;
  int fd_ = -1;
  SinkWriter* writer_ = nullptr;
  std::string buffer_;            // the producing thread's
  uint64_t committed_ = 0;        // bytes written to the file (producing thread)
  uint64_t handed_ = 0;           // bytes written or in flight (producing thread)
  uint64_t lines_ = 0;
  // Owned by the writer thread while in_flight_, else by the producing thread.
  std::string flight_;
  bool in_flight_ = false;        // guarded by writer_->mutex_
  bool queued_ = false;           // guarded by writer_->mutex_: in flight, not yet picked up
  std::string error_;             // guarded by writer_->mutex_: a failed write
};

}  // namespace sentinel
