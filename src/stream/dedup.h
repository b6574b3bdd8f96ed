// DedupSet: remembers (source, id) keys for `horizon` of event time, so a
// re-delivered event is processed once (DESIGN.md section 2).
// Expiry runs only when the caller says (at watermark boundaries), so which
// duplicates are caught is deterministic and checkpoints capture it exactly.
// Threading: single-threaded (the ingest thread).
#pragma once

#include <memory>

#include "core/event.h"

namespace sentinel {

class ByteWriter;
class ByteReader;

class DedupSet {
 public:
  explicit DedupSet(Millis horizon);
  ~DedupSet();
  /// True when the key is new (and remembers it with its event time).
  bool insert(const EventKey& key, EventTime t);
  /// Forgets keys whose event time is older than `watermark - horizon`.
  void expire(EventTime watermark);
  size_t size() const;
  void save(ByteWriter& out) const;
  bool load(ByteReader& in);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sentinel
