// JobQueue: the fetch, enrich and extract queues of DESIGN.md section 7 over
// the incident store's job rows, so jobs survive a restart and several
// processes can share the queues of one database.
//
// Lifecycle of a job: enqueue -> queued; claim -> running (attempts + 1,
// lease until now + lease); then complete -> done, or fail -> queued again
// after a backoff, or dead when the attempts of its failure kind are used up.
// A running job whose lease expired (its worker crashed or hung) goes back to
// the queue through recover_stale(), or to dead when it had its last attempt
// - so a job that crashes its worker every time does not loop forever.
//
// Retry policy. Each queue has one RetryPolicy per failure kind: the delay
// after the n-th attempt is base * factor^(n-1), capped at max, then scaled
// by a uniform factor in [1 - jitter, 1 + jitter] (seeded RNG: the same seed
// gives the same delays) and capped at max again. A transient failure (a
// timeout, a 503) is retried until max_attempts; a permanent one (a 404, an
// unparsable answer) by default not at all.
//
// Concurrency. claim() refuses when `concurrency` jobs of the queue are
// running, counted in the database, so the limit holds across processes.
// Fencing: complete/fail/extend_lease name the claimed Job; they succeed only
// while the job is still running under that claim (same attempt), so a worker
// whose lease was recovered cannot overwrite the job's new state.
//
// Threading: every method is safe from any thread. The listener is called on
// the thread that made the change, after the change is committed, with no
// lock held; it must be quick (it may call back into the queue).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "intel/store.h"

namespace sentinel::intel {

/// The three queues; a job's kind is its queue.
enum class JobKind : uint8_t { kFetch, kEnrich, kExtract };
inline constexpr size_t kJobKinds = 3;
/// "fetch", "enrich", "extract" (the queue names stored with each job).
std::string_view job_kind_name(JobKind k);
std::optional<JobKind> parse_job_kind(std::string_view s);

struct RetryPolicy {
  Millis base{30'000};
  double factor = 2.0;        ///< >= 1
  Millis max{3'600'000};      ///< cap of any single delay
  double jitter = 0.2;        ///< in [0, 1)
  uint32_t max_attempts = 6;  ///< a failure at this many attempts makes the job dead (>= 1)
};

struct QueuePolicy {
  uint32_t concurrency = 2;  ///< running jobs of the queue at most (>= 1)
  Millis lease{5 * 60'000};  ///< a claim's default lease
  RetryPolicy transient;
  RetryPolicy permanent{Millis(3'600'000), 2.0, Millis(24 * 3'600'000), 0.2, 1};
};

struct JobQueueOptions {
  /// Indexed by JobKind. Fetches talk to many hosts and are cheap; extraction
  /// may call an LLM (long lease, few at once).
  /// (The permanent policies keep QueuePolicy's default: dead at the first.)
  std::array<QueuePolicy, kJobKinds> queues = {
      QueuePolicy{4, Millis(2 * 60'000),
                  RetryPolicy{Millis(60'000), 2.0, Millis(3'600'000), 0.2, 5}},
      QueuePolicy{4, Millis(2 * 60'000),
                  RetryPolicy{Millis(30'000), 2.0, Millis(30 * 60'000), 0.2, 4}},
      QueuePolicy{2, Millis(10 * 60'000),
                  RetryPolicy{Millis(10'000), 3.0, Millis(10 * 60'000), 0.2, 5}},
  };
  uint64_t seed = 0x5e471e1;  ///< of the jitter RNG

  const QueuePolicy& policy(JobKind k) const { return queues[static_cast<size_t>(k)]; }
};

/// The delay before the next attempt after `attempts` attempts (>= 1) with a
/// jitter draw `unit` in [0, 1): base * factor^(attempts-1) capped at max,
/// times 1 + jitter * (2 * unit - 1), capped at max, rounded to milliseconds.
Millis retry_delay(const RetryPolicy& policy, uint32_t attempts, double unit);

/// What happened to a job, for the WebSocket and the logs.
enum class JobChange : uint8_t { kEnqueued, kClaimed, kCompleted, kRetrying, kDead, kRecovered };
/// "enqueued", "claimed", "completed", "retrying", "dead", "recovered".
std::string_view job_change_name(JobChange c);

struct JobEvent {
  JobChange change = JobChange::kEnqueued;
  Job job;  ///< as it is after the change
};

/// One JSON object for the job-status WebSocket: {"type":"job","change":..,
/// "id":..,"queue":..,"state":..,"attempts":..,"run_at":..,"lease_until":..
/// (null unless running),"worker":..,"error":..,"failure":.. (null or
/// "transient"/"permanent"),"dedup_key":..,"updated":..}. Times RFC 3339 UTC.
/// The payload is left out (it may be large).
std::string render_job_event(const JobEvent& e);

/// Counts of one queue: jobs per state now (from the database, all
/// processes) and transitions made by this JobQueue since it was created.
struct QueueMetrics {
  JobKind kind = JobKind::kFetch;
  std::array<int64_t, 4> by_state{};  ///< indexed by JobState
  uint64_t enqueued = 0;
  uint64_t deduplicated = 0;  ///< enqueue calls answered with an existing job
  uint64_t claimed = 0;
  uint64_t completed = 0;
  uint64_t retried = 0;
  uint64_t dead = 0;
  uint64_t recovered = 0;    ///< expired leases returned to the queue (or to dead)
  uint64_t lost_leases = 0;  ///< complete/fail/extend refused by the fence
};

/// How fail() ended: queued again at retry_at, or dead.
struct FailOutcome {
  JobState state = JobState::kQueued;
  std::optional<WallTime> retry_at;
};

class JobQueue {
 public:
  using Clock = std::function<WallTime()>;
  using Listener = std::function<void(const JobEvent&)>;

  /// Throws std::invalid_argument naming the option (e.g.
  /// "jobs.fetch.transient.factor: must be >= 1") when a policy is out of
  /// range. `store` must outlive the queue.
  JobQueue(IncidentStore& store, JobQueueOptions options = {}, Clock clock = wall_now);

  /// Set before use (not synchronised with concurrent calls); empty = none.
  void set_listener(Listener listener);

  /// Adds a job, runnable from `run_at` (default: now). With a non-empty
  /// dedup_key, a queued or running job of the queue with that key is
  /// returned instead (created = false) and nothing changes.
  Result<JobEnqueue> enqueue(JobKind kind, std::string payload, std::string dedup_key = {},
                             std::optional<WallTime> run_at = std::nullopt);

  /// The next runnable job of the queue for `worker`, leased for `lease`
  /// (default: the queue's), or nullopt when none is due or the queue's
  /// concurrency is used up.
  Result<std::optional<Job>> claim(JobKind kind, std::string_view worker,
                                   std::optional<Millis> lease = std::nullopt);

  /// Marks the claimed job done. "store.conflict" when the claim was lost.
  Status complete(const Job& job);

  /// Records the failure: queued again after the backoff, or dead when the
  /// policy's attempts are used up. "store.conflict" when the claim was lost.
  Result<FailOutcome> fail(const Job& job, FailureKind kind, std::string_view reason);

  /// Renews the claim's lease to now + lease (default: the queue's); returns
  /// the new expiry. "store.conflict" when the claim was lost.
  Result<WallTime> extend_lease(const Job& job, std::optional<Millis> lease = std::nullopt);

  /// Returns running jobs whose lease expired by `now` to their queue (run at
  /// once, last_error says the lease expired), or to dead when that was their
  /// last transient attempt. Call at start-up (after a crash) and
  /// periodically. Returns the jobs as they are now.
  Result<std::vector<Job>> recover_stale(WallTime now);
  Result<std::vector<Job>> recover_stale() { return recover_stale(clock_()); }

  /// When the queue's earliest queued job becomes runnable (nullopt: none
  /// queued), so a worker knows how long it may sleep.
  Result<std::optional<WallTime>> next_due(JobKind kind);

  /// Deletes done and dead jobs last updated before `before`; returns how many.
  Result<int64_t> purge_finished(WallTime before);

  /// Per queue, in JobKind order.
  Result<std::vector<QueueMetrics>> metrics();

  /// The next backoff of a job of `kind` failing with `failure` after
  /// `attempts` attempts (draws from the jitter RNG).
  Millis backoff(JobKind kind, FailureKind failure, uint32_t attempts);

  const JobQueueOptions& options() const { return options_; }

 private:
  struct Counters {
    uint64_t enqueued = 0, deduplicated = 0, claimed = 0, completed = 0, retried = 0, dead = 0,
             recovered = 0, lost_leases = 0;
  };
  const QueuePolicy& policy_of(std::string_view queue) const;
  Counters& counters(std::string_view queue);
  void notify(JobChange change, JobId id);
  void notify(JobChange change, const Job& job);
  Error lost(const Job& job);

  IncidentStore& store_;
  const JobQueueOptions options_;
  const Clock clock_;
  Listener listener_;
  std::mutex mu_;  // guards rng_ and counters_
  std::mt19937_64 rng_;
  std::array<Counters, kJobKinds + 1>
      counters_{};  // the last one: queues this binary does not know
};

}  // namespace sentinel::intel
