// AlertStore: the alert queue of DESIGN.md section 5 as the API and the
// WebSocket stream see it. It keeps the latest revision of every alert the
// pipeline emitted (or another process published, see redis_queue.h) with
// what operators did to it (acknowledgement, true/false-positive feedback),
// ordered by priority, then score, then time.
//
// Order. P0 before P1 before P2 before P3; within a band the higher score
// first; then the newer emission (received_at) first; then the smaller
// alert_id. Trend-watch items are kept and listed with status=trend_watch.
// The score kept (and ordered on) is the record's: round_term() of the
// pipeline score, so every process that parses the record orders alike.
//
// Paging. A cursor is the base64url of the sort key of a page's last alert;
// the next page starts strictly after that key, so a cursor stays valid while
// alerts come, change and go (an alert that moved behind the cursor since the
// previous page is not shown again, one that moved in front of it is not
// shown on later pages).
//
// Changes. Every mutation that changes what a client sees (a new alert, an
// update, an ack, feedback, an eviction) gets the next sequence number and is
// kept in a ring of queue.resume_changes entries, so a WebSocket client that
// reconnects with its last seen sequence number gets exactly the changes it
// missed, or, when they are gone from the ring, a fresh snapshot.
//
// Acknowledgement SLA. An alert's ack is due queue.ack_pN after it was first
// received (wall clock); when an update raises its priority, the due time
// becomes the earlier of the old one and now + the new band's SLA. An ack
// after the due time is recorded as late (visible in the API), never refused.
// Trend-watch items have no SLA (ack_due 0); one that becomes an alert starts
// its SLA then. Overdue = an unacknowledged status-alert item past ack_due.
//
// Retention. At most queue.max_alerts alerts are kept; past it the oldest
// (by received_at) acknowledged or trend-watch ones are evicted first, then
// the oldest of any kind. Evictions are changes too.
//
// Merge (several processes, see redis_queue.h). apply_remote() takes another
// process's view of an alert and merges it field-wise, so the result does not
// depend on the order in which views arrive: the record with the higher
// revision wins (equal: the later received_at, then the greater JSON bytes);
// an acknowledgement, once made, stays (the earliest ack wins); feedback with
// the later time wins (equal: the greater actor). A merge that changes
// nothing is not a change. Precisely: received_at, updated_at and origin
// travel with the winning record (ties past the bytes: the later updated_at,
// then the greater origin); ack_due is the earliest non-zero one; ties of
// equal ack times go to the smaller actor; feedback compares (verdict_at,
// verdict_by, verdict, note). Each is a maximum over a total order, hence
// commutative, associative and idempotent.
//
// Threading: every method is safe from any thread (one internal mutex; the
// pipeline's merger thread, HTTP handlers and the stream broadcaster share
// it). No method calls back into the caller. list() over 1M alerts holds the
// mutex for well under a millisecond typically (indexes, see alert_store.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "core/config.h"
#include "core/result.h"
#include "core/time.h"

namespace sentinel {

/// Wall-clock instants of the operator side, in milliseconds since the epoch.
using WallMs = int64_t;

/// The wall clock now, as WallMs.
inline WallMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class Verdict : uint8_t { kNone, kTruePositive, kFalsePositive };
/// "none", "true_positive", "false_positive".
std::string_view verdict_name(Verdict v);
std::optional<Verdict> parse_verdict(std::string_view s);

/// One alert as the API serves it.
struct StoredAlert {
  std::string alert_id;
  /// The pipeline's record of the latest revision (render_alert(), one JSON object).
  std::string record;
  // Fields of `record` the store indexes and filters on.
  Priority priority = Priority::kP3;
  double score = 0;
  AlertType type = AlertType::kSensor;
  AlertStatus status = AlertStatus::kAlert;
  std::string district;
  EventTime event_time{};
  uint32_t revision = 0;
  // Operator side.
  WallMs received_at = 0;     ///< when this store (or the origin process) first received it
  WallMs updated_at = 0;      ///< latest record update received
  WallMs ack_due = 0;         ///< 0 when the band has no SLA
  WallMs acked_at = 0;        ///< 0 while not acknowledged
  std::string acked_by;       ///< token name (never a person's name from the data)
  Verdict verdict = Verdict::kNone;
  WallMs verdict_at = 0;
  std::string verdict_by;
  std::string verdict_note;   ///< free text from the analyst, at most 1,000 bytes
  std::string origin;         ///< id of the process that first received it ("" = this one)

  bool acked() const { return acked_at != 0; }
  bool ack_late() const { return acked_at != 0 && ack_due != 0 && acked_at > ack_due; }
};

/// Appends the API object of `a`: the pipeline record's members followed by
/// "received_at", "updated_at", "ack_due" (RFC 3339 UTC with milliseconds, or
/// null), "acked_at", "acked_by", "ack_late", "verdict", "verdict_at",
/// "verdict_by", "verdict_note", "origin". One flat JSON object.
/// Every time is "2026-03-01T22:14:05.120Z" (always 3 decimals) or null when
/// 0; acked_by, verdict_by, verdict_note and origin are always strings (""
/// when none). A record that is not a JSON object is replaced by
/// {"alert_id":..} so the output stays valid JSON.
void render_stored_alert(const StoredAlert& a, std::string& out);

/// Parses an object made by render_stored_alert() back (the Redis wire form):
/// `record` is the text before the "received_at" member, closed with '}', so
/// render -> parse -> render gives the same bytes and every field back.
/// Required: alert_id, priority, type, status, event_time, revision,
/// received_at, updated_at; the error names the first missing or bad member.
Result<StoredAlert> parse_stored_alert(std::string_view json);

/// Filters and page of a list query (GET /v1/alerts). Empty means "any".
struct AlertQuery {
  std::vector<Priority> priorities;
  std::optional<AlertStatus> status;
  std::optional<AlertType> type;
  std::optional<std::string> district;
  std::optional<EventTime> from, to;   ///< event_time in [from, to)
  std::optional<bool> acked;
  /// Opaque position from a previous page's next_cursor ("" = from the start).
  std::string cursor;
  /// At least 1 (0 is an Error with field "limit"); the caller caps it.
  uint32_t limit = 50;
};

struct AlertPage {
  std::vector<StoredAlert> alerts;  ///< in queue order
  std::string next_cursor;          ///< "" when this was the last page
};

enum class ChangeKind : uint8_t { kNew, kUpdate, kAck, kFeedback, kEvict };
/// "new", "update", "ack", "feedback", "evict".
std::string_view change_kind_name(ChangeKind k);

struct AlertChange {
  uint64_t seq = 0;
  ChangeKind kind = ChangeKind::kNew;
  StoredAlert alert;  ///< the state after the change (for kEvict: the last state)
};

/// Counts for /v1/stats and the page.
struct AlertStoreStats {
  uint64_t alerts = 0, trend_watch = 0, unacked = 0, overdue = 0;  ///< overdue: unacked past ack_due now
  uint64_t by_priority[4] = {0, 0, 0, 0};                          ///< status alert only
  uint64_t last_seq = 0, evicted = 0;
};

class AlertStore {
 public:
  /// Longest verdict note feedback() accepts, in bytes.
  static constexpr size_t kMaxNoteBytes = 1000;

  /// Reads queue.max_alerts, queue.resume_changes and queue.ack_p0..p3.
  /// `origin` names this process in StoredAlert::origin of what it receives.
  explicit AlertStore(const QueueConfig& config, std::string origin = "");
  ~AlertStore();
  AlertStore(const AlertStore&) = delete;
  AlertStore& operator=(const AlertStore&) = delete;

  /// A new alert or an update from the pipeline (called once per epoch with
  /// every alert that changed in it, in order). `records[i]` is render_alert()
  /// of `alerts[i]`. Returns the changes made (sequence numbers assigned),
  /// evictions it caused included.
  std::vector<AlertChange> upsert(std::span<const Alert* const> alerts,
                                  std::span<const std::string_view> records, WallMs now);

  /// Acknowledges; an already acknowledged alert keeps its first ack (the
  /// returned change is then nullopt and the alert unchanged). Error: unknown id.
  Result<std::optional<AlertChange>> ack(std::string_view alert_id, std::string_view actor, WallMs now);

  /// Records the analyst's verdict (a later one replaces an earlier one).
  /// Errors: unknown id; kNone; a note over 1,000 bytes.
  Result<AlertChange> feedback(std::string_view alert_id, Verdict verdict, std::string_view actor,
                               std::string_view note, WallMs now);

  /// Merges another process's view (see the header comment); nullopt when
  /// nothing changed. An eviction the merge causes is in the change ring
  /// (changes_since) but not in the returned change.
  std::optional<AlertChange> apply_remote(const StoredAlert& incoming);

  std::optional<StoredAlert> get(std::string_view alert_id) const;
  /// Error when the cursor is malformed (field "cursor").
  Result<AlertPage> list(const AlertQuery& query) const;

  /// Changes with seq > `after`, at most `limit`, oldest first. nullopt when
  /// some of them are no longer kept (the client needs a snapshot), and when
  /// `after` > last_seq() (a sequence number of another process or run).
  std::optional<std::vector<AlertChange>> changes_since(uint64_t after, size_t limit) const;
  /// The first `limit` alerts in queue order and the seq they are current at:
  /// a client applying changes_since(seq) afterwards misses nothing.
  std::pair<std::vector<StoredAlert>, uint64_t> snapshot(size_t limit) const;
  /// Blocks until last_seq() > `after` or `timeout` passes; returns last_seq().
  /// Every waiter must have returned before the store is destroyed.
  uint64_t wait_for_change(uint64_t after, std::chrono::milliseconds timeout) const;
  uint64_t last_seq() const;

  AlertStoreStats stats(WallMs now) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
