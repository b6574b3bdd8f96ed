// AccessLog: the live service's signed record of operator and access
// decisions (acknowledgements, feedback, refused calls, tokens created), in
// the audit log's format (hash chain + Ed25519, `sentinel audit verify`).
// One file per process start, DIR/access-<UTC start>.jsonl, so a restart
// never has to resume a chain it did not checkpoint. Records name tokens,
// never the tokens themselves or people.
//
// AlertTrail: per alert, what the audit logs say about it (the pipeline's
// alert/update/trend_watch records and the operator's ack/feedback), kept in
// memory for GET /v1/alerts/{id}/audit. Bounded: at most kMaxPerAlert records
// per alert and `max_alerts` alerts (the oldest alert's trail goes first).
//
// Threading: both are safe from any thread (one mutex each).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerts/audit_log.h"
#include "core/keys.h"
#include "core/time.h"

namespace sentinel {

class AlertTrail;

class AccessLog {
 public:
  /// Without a key (audit.key unset) records only go to the process log.
  AccessLog(const std::string& out_dir, std::optional<SecretKey> key, AlertTrail* trail);
  ~AccessLog();
  /// Appends one record; `reasons_json` is a JSON object. Alert-related
  /// records (ref "a-...") are also added to the trail.
  void record(EventTime ts, AuditDecision decision, std::string_view ref, std::string_view reasons_json);
  /// The file written ("" without a key).
  const std::string& path() const { return path_; }
  uint64_t records() const;

 private:
  mutable std::mutex mutex_;
  std::string path_;
  std::unique_ptr<FileSink> sink_;
  std::unique_ptr<AuditWriter> writer_;
  AlertTrail* trail_;
  uint64_t unsigned_records_ = 0;
};

class AlertTrail {
 public:
  static constexpr size_t kMaxPerAlert = 64;
  explicit AlertTrail(size_t max_alerts);
  /// `log` names the file the record is in ("audit" or "access").
  void add(std::string_view log, const AuditEntry& entry);
  /// The records of `alert_id` as a JSON array, oldest first ("[]" when none).
  std::string json(std::string_view alert_id) const;

 private:
  mutable std::mutex mutex_;
  size_t max_alerts_;
  std::unordered_map<std::string, std::vector<std::string>> records_;
  std::deque<std::string> order_;  // alert ids in order of first record, for eviction
};

}  // namespace sentinel
