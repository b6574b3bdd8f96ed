// CheckpointStore: checkpoints on local disk, written atomically and checked
// on load (DESIGN.md section 8).
//
// A checkpoint file is "SNTLCKP1", the payload length (u64), the XXH3-64 of
// the payload (u64), then the payload. It is written to a temporary name,
// fsynced, renamed into place and the directory fsynced, so a crash leaves
// either the old set of checkpoints or the old set plus the new one. On load
// the newest file that passes the checks wins; a corrupt or truncated one is
// reported (with its name and why) and the previous one is tried.
// Threading: one writer at a time (the merger thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sentinel {

class CheckpointStore {
 public:
  /// Creates the directory if needed; throws std::runtime_error naming it on failure.
  CheckpointStore(std::string dir, uint32_t keep);

  /// Writes checkpoint number `sequence`; throws std::runtime_error naming the file on I/O errors.
  void write(uint64_t sequence, const std::string& payload);

  struct Loaded {
    uint64_t sequence = 0;
    std::string payload;
    std::string file;
  };
  /// The newest good checkpoint, if any. Every rejected file is described in
  /// `problems` ("checkpoint-000000000012.ckpt: checksum mismatch ...").
  std::optional<Loaded> load_latest(std::vector<std::string>& problems) const;
  const std::string& dir() const { return dir_; }

  /// Checks one file; returns the payload or sets `why`.
  static std::optional<std::string> read_file(const std::string& path, std::string& why);

 private:
  std::string dir_;
  uint32_t keep_;
};

}  // namespace sentinel
