// The audit log (DESIGN.md section 5): one JSON Lines record per decision,
// hash-chained and signed with Ed25519 so `sentinel audit verify` finds any
// change, removal, insertion or reordering.
//
// Record (keys in this order, no spaces):
//   {"seq":N,"ts":"<event time, RFC 3339>","decision":"alert|update|suppressed|
//    trend_watch|duplicate|late|dead_letter","ref":"<alert or event id>",
//    "reasons":{...},"prev":"<hex>","hash":"<hex>"[,"sig":"<hex>"]}
//  - seq starts at 1 and rises by one per record.
//  - canonical form: the line with its "hash" and "sig" members removed, i.e.
//    {"seq":..,...,"prev":"<hex>"}; exactly the bytes before ,"hash" plus '}'.
//  - hash = BLAKE2b-256 (crypto_generichash, 32 bytes) of the canonical form,
//    64 hex characters. It covers prev, so it covers every earlier record.
//  - prev = the previous record's hash (its canonical line's hash); 64 zeros
//    for seq 1.
//  - sig = Ed25519 (crypto_sign_ed25519_detached) over "sentinel.audit.v1\n"
//    followed by the 32 raw hash bytes, 128 hex characters.
//
// What is signed (AuditOptions::sign_every = N):
//  - N = 1: every record carries a sig.
//  - N > 1: a sig on every record whose seq is a multiple of N, and on the last
//    record when flush() is called. Each sig covers its record's hash and so,
//    transitively, every record before it. Records after the last sig are not
//    authenticated; the verifier reports them.
// To sign the last record at flush the writer holds the newest record back
// (unwritten) until the next append or flush decides whether it gets a sig.
//
// Checkpoints: save() records seq, the chain head and the held-back record;
// the caller flushes the FileSink and records its committed_length() at the
// same point. Restoring (FileSink cut back to that length + load()) continues
// the exact same bytes as an uninterrupted run, wherever the checkpoint fell.
//
// Limits: deleting whole records from the end down to an earlier signed record,
// or the whole file, leaves a valid shorter log; compare the verified record
// count against an external anchor (e.g. the checkpoint) to catch that.
//
// Threading: an AuditWriter is used by one thread at a time (it owns no lock);
// verify_audit_log is a free function safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/keys.h"
#include "core/result.h"
#include "core/time.h"
#include "stream/bytes.h"
#include "stream/file_sink.h"

namespace sentinel {

/// The kind of decision an audit record documents.
enum class AuditDecision : uint8_t {
  kAlert,
  kUpdate,
  kSuppressed,
  kTrendWatch,
  kDuplicate,
  kLate,
  kDeadLetter,
  kBiasReview,  ///< a district's ML-derived alerts flagged for bias review, or released
  // Operator and access decisions (the live service's access log):
  kAck,           ///< an operator acknowledged an alert
  kFeedback,      ///< an operator marked an alert a true or false positive
  kAccessDenied,  ///< a call without a valid token (401) or with the wrong role (403)
  kTokenCreated,  ///< an admin created an API token (its hash, never the token)
  kCuration,      ///< a curator approved, rejected or corrected a curation item, or changed an incident
  kSettingsChange,  ///< an admin changed run-time settings (the triage thresholds)
};

/// "alert", "update", "suppressed", "trend_watch", "duplicate", "late", "dead_letter", "bias_review",
/// "ack", "feedback", "access_denied", "token_created", "curation", "settings_change".
std::string_view to_string(AuditDecision d);
std::optional<AuditDecision> parse_audit_decision(std::string_view s);

struct AuditOptions {
  /// 1: sign every record; N > 1: sign every Nth record and the last at flush().
  uint32_t sign_every = 1;
};

/// One audit record's content, as appended (for live consumers of the log).
struct AuditEntry {
  uint64_t seq = 0;
  EventTime ts{};
  AuditDecision decision = AuditDecision::kAlert;
  std::string_view ref;
  std::string_view reasons_json;
};

class AuditWriter {
 public:
  /// Writes to `sink` (which must outlive the writer), signing with `key`.
  /// Throws std::invalid_argument when options.sign_every is 0.
  AuditWriter(FileSink& sink, SecretKey key, AuditOptions options);
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;
  /// Does not flush: a writer destroyed without flush() leaves the log as a
  /// crash would (the held-back record unwritten), to be resumed by load().
  ~AuditWriter();

  /// Appends one record. `reasons_json` must be one JSON object made by
  /// JsonWriter (it is inserted as is; only its outer braces are checked, an
  /// empty view means {}). Returns an error and writes nothing when it is not
  /// an object. FileSink write failures propagate as its exceptions.
  Status append(EventTime ts, AuditDecision decision, std::string_view ref,
                std::string_view reasons_json);

  /// Writes the held-back record with a sig (when there is one) and flushes
  /// the sink, so the file verifies on its own. Call at the end of a run, not
  /// at checkpoints (an extra sig mid-run would change the bytes of a resumed
  /// run). Appending may continue afterwards.
  void flush();

  /// Chain state for a checkpoint: seq, chain head, held-back record and the
  /// public key it was signed with.
  void save(ByteWriter& out) const;
  /// Restores save()d state. Fails (state unchanged) on a malformed buffer or
  /// when the checkpoint was signed with a different key.
  Status load(ByteReader& in);

  /// Records appended so far (the seq of the newest one).
  uint64_t records() const { return seq_; }
  /// Records signed so far in this writer's lifetime (for metrics).
  uint64_t signatures() const { return signatures_; }

 private:
  void emit_pending(bool sign);

  FileSink& sink_;
  SecretKey key_;
  PublicKey public_key_;
  AuditOptions options_;
  uint64_t seq_ = 0;
  std::array<uint8_t, 32> head_{};  // hash of record seq_ (zeros before the first)
  std::string head_hex_ = std::string(64, '0');  // head_ in hex: the next record's "prev"
  // The newest record, written up to and including its "hash" member but
  // without the closing brace, when it has not been written yet.
  std::string pending_;
  uint64_t signatures_ = 0;
  std::string line_;  // reused per record so appends do not allocate once warm
};

/// Outcome of verify_audit_log.
struct VerifyResult {
  bool ok = false;
  /// Records that verified (on failure: those before the first bad one).
  uint64_t records = 0;
  /// On failure, the 1-based line and the seq it should hold (0 when unknown).
  uint64_t first_bad_line = 0;
  uint64_t first_bad_seq = 0;
  /// One line saying what is wrong, empty when ok.
  std::string reason;

  /// "ok: N records" or "line L (seq S): reason".
  std::string to_string() const;
};

struct VerifyOptions {
  /// When non-zero, every record whose seq is a multiple of this must carry a
  /// sig (catches unsigned records inserted into a sign-every-N log).
  uint32_t sign_every = 0;
};

/// Checks `path` line by line: JSON shape, seq continuity, prev link, hash and
/// every sig present, and that the last record is signed. Stops at the first
/// bad record. An empty file verifies with 0 records. A missing or unreadable
/// file is reported as not ok with the reason.
VerifyResult verify_audit_log(const std::string& path, const PublicKey& key,
                              VerifyOptions options = {});

}  // namespace sentinel
