// AlertBook: the dedup stage of DESIGN.md section 4. It keeps the live alerts
// by dedup key (type, fine cell, category) and decides, per candidate, whether
// it is a new alert, an update of a live one, or a re-delivery that changes
// nothing.
//
// Matching. A candidate matches a live alert with the same dedup key when its
// event time is within dedup.window of the alert's span [first_seen,
// last_seen] (for a candidate at or after last_seen that is
// |event_time - last_seen| <= window; one that falls inside the span of a
// burst, out of order, matches too). When several alerts of one key match,
// the nearest wins (then the later last_seen, then the smaller id).
// One exception keeps ids unique: a candidate whose first event id, with the
// key, names an alert the book still holds updates that alert even outside
// the window (same key and first event = the same alert, by the id rule).
//
// Ids. alert_id = "a-" + 16 lowercase hex digits of XXH3-64 over
// dedup_key + '\n' + first event id: content-derived, so a replay after a
// crash (or another book fed the same candidates) gives the same ids. Were
// two different keys ever to hash alike (~2^-64 per pair), the later alert's
// hash is taken over the same bytes with seed 1, 2, ... until free: still a
// function of the calls made, so still deterministic.
//
// Re-delivery. Each alert remembers the XXH3-64 of every event id it absorbed
// (not only the max_event_ids it lists), so a candidate bringing no event id
// the alert has not seen is kUnchanged, however many it already absorbed.
// (Two different event ids with the same 64-bit hash, ~2^-64 a pair, would
// count once.) A candidate without any event id stands for one occurrence
// named "@<event time in ms>": counted and remembered, not listed.
//
// Retention. An alert is kept after its last update for `window` (it can
// still absorb) plus `retention`: candidates reach the book late by up to the
// windows' allowed lateness (their event time trails the caller's "now"), and
// such a late candidate must still find its alert. expire(now) drops alerts
// with last_seen < now - window - retention, which no candidate at or after
// now - retention can match. An alert outside the window but not yet expired
// stays findable by id; a matching-key candidate past the window starts a new
// alert beside it (different first event, different id).
//
// Determinism and checkpoints: results depend only on the calls made; save()
// writes alerts sorted by (dedup key, alert id), and a loaded book behaves
// exactly as the saved one (matching ties never depend on storage order).
//
// Threading: single-threaded (the engine's merger thread). Pointers handed
// out by offer() and find() stay valid until the next offer(), expire() or
// load() call.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "core/config.h"
#include "core/time.h"

namespace sentinel {

class ByteWriter;
class ByteReader;

class AlertBook {
 public:
  /// Default retention: the default windows.allowed_lateness (5 min).
  static constexpr Millis kDefaultRetention = Millis(5 * 60'000);

  /// Throws std::invalid_argument naming the key when dedup.window or
  /// `retention` is negative, or dedup.max_event_ids is 0.
  explicit AlertBook(const DedupConfig& dedup, Millis retention = kDefaultRetention);
  ~AlertBook();
  AlertBook(const AlertBook&) = delete;
  AlertBook& operator=(const AlertBook&) = delete;

  enum class Offer : uint8_t {
    kNew,        ///< a new alert (revision 0): push it
    kUpdated,    ///< a live alert absorbed new event ids (revision + 1): push the update
    kUnchanged,  ///< every event id was already in the matching alert: nothing changed
  };

  /// Deduplicates one candidate; `now` (event-time "now": the watermark in
  /// replay) becomes emitted_at of a new or updated alert. `out` is set to the
  /// new, updated or matching (unchanged) alert.
  ///
  /// On update: event ids not yet absorbed are appended while the list is
  /// shorter than max_event_ids, count rises by the number of new distinct
  /// ids, first_seen/last_seen widen, sources become the sorted union,
  /// verified and bias_review are OR-ed, status becomes kAlert if either is
  /// (a trend_watch that grows into an alert), and score, confidence and
  /// event_time are replaced when the candidate's score is strictly higher.
  /// A new alert's count is its number of distinct event ids; without a
  /// location its cell token is "-" and cell, lat and lon are 0.
  Offer offer(AlertCandidate&& candidate, EventTime now, const Alert*& out);

  /// Drops alerts whose last_seen < now - window - retention. A `now` of
  /// kMinEventTime or kMaxEventTime (no watermark yet / end of input) drops nothing.
  void expire(EventTime now);

  /// Live alerts (including those past the window awaiting expiry).
  size_t size() const;

  /// The alert with this id, or nullptr.
  const Alert* find(std::string_view alert_id) const;

  /// Every live alert, sorted by (dedup key, alert id): for snapshots and tests.
  std::vector<const Alert*> alerts() const;

  /// Deterministic: the same state always gives the same bytes.
  void save(ByteWriter& out) const;
  /// Restores save()d state. Returns false (and leaves the book unchanged) on
  /// a malformed or truncated buffer.
  bool load(ByteReader& in);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sentinel
