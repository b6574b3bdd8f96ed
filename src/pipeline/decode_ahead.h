// DecodeAhead: reads and decodes one input file on its own thread, in blocks
// of lines, so the ingest thread only dedups, checks lateness and routes.
//
// Blocks come out in file order through a bounded queue (backpressure: at
// most kMaxBlocks decoded blocks wait). Each line keeps its number, byte
// offset and the position of the line after it, so the ingest thread can
// record exactly where a resume starts. Bad lines are not written here: the
// ingest thread writes their dead letters in input order.
// Threading: one producer thread (owned), one consumer (the caller of next()).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "pipeline/pipeline.h"

namespace sentinel {

struct DecodedLine {
  Event event;
  bool ok = false;
  bool too_long = false;
  uint64_t number = 0, offset = 0, length = 0;
  ResumePoint next;        ///< where the line after this one starts
  std::string_view raw;    ///< the line (or its first bytes when too long)
  std::string reason;      ///< why it was rejected (only for bad lines)
};

struct DecodedBlock {
  std::vector<DecodedLine> lines;
  /// Texts the lines point into; kept alive while the block's events are in flight.
  std::vector<std::shared_ptr<const std::string>> texts;
  bool last = false;  ///< no block follows
};

class DecodeAhead {
 public:
  /// Opens `path` at `from` (throws std::runtime_error naming it) and starts decoding.
  /// `prepare` runs on the decode thread for every good event (routing work
  /// moved off the ingest thread).
  DecodeAhead(const std::string& path, ResumePoint from, uint64_t max_line_bytes,
              std::unique_ptr<EventDecoder> decoder, std::function<void(Event&)> prepare);
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  /// The next block in file order (blocks until it is decoded). After the
  /// block marked `last`, returns nullptr. Rethrows a read error of the thread.
  std::unique_ptr<DecodedBlock> next();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
