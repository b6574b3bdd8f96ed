#include "intel/jobs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

namespace sentinel::intel {
namespace {

constexpr std::array<std::string_view, kJobKinds> kKindNames = {"fetch", "enrich", "extract"};
constexpr std::array<std::string_view, 6> kChangeNames = {"enqueued", "claimed", "completed",
                                                          "retrying", "dead",    "recovered"};
constexpr size_t kRecoverBatch = 500;

std::string time_text(WallTime t) {
  return format_rfc3339(event_time_from_ms(t.time_since_epoch().count()));
}

void check_policy(const RetryPolicy& p, const std::string& key) {
  const auto fail = [&](const std::string& field, const char* why) {
    throw std::invalid_argument(key + "." + field + ": " + why);
  };
  if (p.base < Millis(0)) fail("base", "must not be negative");
  if (!(p.factor >= 1.0) || !std::isfinite(p.factor)) fail("factor", "must be >= 1");
  if (p.max < p.base) fail("max", "must be >= base");
  if (!(p.jitter >= 0.0 && p.jitter < 1.0)) fail("jitter", "must be in [0, 1)");
  if (p.max_attempts < 1) fail("max_attempts", "must be >= 1");
}

}  // namespace

std::string_view job_kind_name(JobKind k) {
  return kKindNames[static_cast<size_t>(k)];
}

std::optional<JobKind> parse_job_kind(std::string_view s) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == s) return static_cast<JobKind>(i);
  }
  return std::nullopt;
}

std::string_view job_change_name(JobChange c) {
  return kChangeNames[static_cast<size_t>(c)];
}

Millis retry_delay(const RetryPolicy& policy, uint32_t attempts, double unit) {
  const double cap = static_cast<double>(policy.max.count());
  const double exponent = static_cast<double>(std::max<uint32_t>(attempts, 1) - 1);
  // pow overflows to inf for large exponents; min() then yields the cap.
  double delay =
      std::min(cap, static_cast<double>(policy.base.count()) * std::pow(policy.factor, exponent));
  delay *= 1.0 + policy.jitter * (2.0 * unit - 1.0);
  delay = std::clamp(delay, 0.0, cap);
  return Millis(std::llround(delay));
}

std::string render_job_event(const JobEvent& e) {
  const Job& j = e.job;
  nlohmann::json out = {
      {"type", "job"},
      {"change", job_change_name(e.change)},
      {"id", j.id.value},
      {"queue", j.queue},
      {"state", job_state_name(j.state)},
      {"attempts", j.attempts},
      {"run_at", time_text(j.run_at)},
      {"lease_until",
       j.state == JobState::kRunning ? nlohmann::json(time_text(j.lease_until)) : nlohmann::json()},
      {"worker", j.worker},
      {"error", j.last_error},
      {"failure",
       j.last_failure ? nlohmann::json(failure_kind_name(*j.last_failure)) : nlohmann::json()},
      {"dedup_key", j.dedup_key},
      {"updated", time_text(j.updated)},
  };
  // Replace: a job's error text comes from remote servers and may hold invalid UTF-8.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

JobQueue::JobQueue(IncidentStore& store, JobQueueOptions options, Clock clock)
    : store_(store), options_(std::move(options)), clock_(std::move(clock)), rng_(options_.seed) {
  for (size_t i = 0; i < kJobKinds; ++i) {
    const std::string key = "jobs." + std::string(kKindNames[i]);
    const QueuePolicy& q = options_.queues[i];
    if (q.concurrency < 1) throw std::invalid_argument(key + ".concurrency: must be >= 1");
    if (q.lease <= Millis(0)) throw std::invalid_argument(key + ".lease: must be positive");
    check_policy(q.transient, key + ".transient");
    check_policy(q.permanent, key + ".permanent");
  }
  if (!clock_) throw std::invalid_argument("jobs: clock is empty");
}

void JobQueue::set_listener(Listener listener) {
  listener_ = std::move(listener);
}

const QueuePolicy& JobQueue::policy_of(std::string_view queue) const {
  static const QueuePolicy kUnknown{};
  const auto kind = parse_job_kind(queue);
  return kind ? options_.policy(*kind) : kUnknown;
}

JobQueue::Counters& JobQueue::counters(std::string_view queue) {
  const auto kind = parse_job_kind(queue);
  return counters_[kind ? static_cast<size_t>(*kind) : kJobKinds];
}

void JobQueue::notify(JobChange change, const Job& job) {
  if (listener_) listener_(JobEvent{change, job});
}

void JobQueue::notify(JobChange change, JobId id) {
  if (!listener_) return;
  auto job = store_.get_job(id);
  if (job.ok() && job->has_value()) listener_(JobEvent{change, **job});
}

Error JobQueue::lost(const Job& job) {
  {
    std::lock_guard lock(mu_);
    ++counters(job.queue).lost_leases;
  }
  return make_error(std::string(kStoreConflict), "job " + std::to_string(job.id.value) + " (" +
                                                     job.queue + "): the claim of attempt " +
                                                     std::to_string(job.attempts) +
                                                     " was lost (lease expired and recovered)");
}

Result<JobEnqueue> JobQueue::enqueue(JobKind kind, std::string payload, std::string dedup_key,
                                     std::optional<WallTime> run_at) {
  const WallTime now = clock_();
  NewJob job{std::string(job_kind_name(kind)), std::move(payload), std::move(dedup_key),
             run_at.value_or(now), now};
  auto result = store_.enqueue_job(job);
  if (!result.ok()) return result;
  {
    std::lock_guard lock(mu_);
    Counters& c = counters_[static_cast<size_t>(kind)];
    ++(result->created ? c.enqueued : c.deduplicated);
  }
  if (result->created) notify(JobChange::kEnqueued, result->id);
  return result;
}

Result<std::optional<Job>> JobQueue::claim(JobKind kind, std::string_view worker,
                                           std::optional<Millis> lease) {
  const QueuePolicy& policy = options_.policy(kind);
  const WallTime now = clock_();
  const Millis length = lease.value_or(policy.lease);
  if (length <= Millis(0)) return make_error(std::string(kStoreInvalid), "lease must be positive");
  auto result =
      store_.claim_job(job_kind_name(kind), worker, now, now + length, policy.concurrency);
  if (!result.ok() || !result->has_value()) return result;
  {
    std::lock_guard lock(mu_);
    ++counters_[static_cast<size_t>(kind)].claimed;
  }
  notify(JobChange::kClaimed, **result);
  return result;
}

Status JobQueue::complete(const Job& job) {
  const WallTime now = clock_();
  auto moved = store_.transition_job(
      job.id, JobState::kRunning, job.attempts,
      JobTransition{JobState::kDone, job.run_at, WallTime{}, "", std::nullopt, now});
  if (!moved.ok()) return moved.error();
  if (!*moved) return lost(job);
  {
    std::lock_guard lock(mu_);
    ++counters(job.queue).completed;
  }
  notify(JobChange::kCompleted, job.id);
  return Ok{};
}

Result<FailOutcome> JobQueue::fail(const Job& job, FailureKind kind, std::string_view reason) {
  const WallTime now = clock_();
  const QueuePolicy& queue = policy_of(job.queue);
  const RetryPolicy& policy = kind == FailureKind::kTransient ? queue.transient : queue.permanent;
  FailOutcome outcome;
  JobTransition to{JobState::kDead, job.run_at, WallTime{}, std::string(reason), kind, now};
  if (job.attempts < policy.max_attempts) {
    double unit = 0;
    {
      std::lock_guard lock(mu_);
      unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    }
    to.state = JobState::kQueued;
    to.run_at = now + retry_delay(policy, job.attempts, unit);
    outcome.retry_at = to.run_at;
  }
  outcome.state = to.state;
  auto moved = store_.transition_job(job.id, JobState::kRunning, job.attempts, to);
  if (!moved.ok()) return moved.error();
  if (!*moved) return lost(job);
  {
    std::lock_guard lock(mu_);
    Counters& c = counters(job.queue);
    ++(outcome.state == JobState::kDead ? c.dead : c.retried);
  }
  notify(outcome.state == JobState::kDead ? JobChange::kDead : JobChange::kRetrying, job.id);
  return outcome;
}

Result<WallTime> JobQueue::extend_lease(const Job& job, std::optional<Millis> lease) {
  const Millis length = lease.value_or(policy_of(job.queue).lease);
  if (length <= Millis(0)) return make_error(std::string(kStoreInvalid), "lease must be positive");
  const WallTime until = clock_() + length;
  auto moved = store_.extend_job_lease(job.id, job.attempts, until);
  if (!moved.ok()) return moved.error();
  if (!*moved) return lost(job);
  return until;
}

Result<std::vector<Job>> JobQueue::recover_stale(WallTime now) {
  std::vector<Job> recovered;
  for (;;) {
    auto expired = store_.expired_jobs(now, kRecoverBatch);
    if (!expired.ok()) return expired.error();
    size_t moved_now = 0;
    for (Job& job : *expired) {
      const RetryPolicy& policy = policy_of(job.queue).transient;
      const bool dead = job.attempts >= policy.max_attempts;
      JobTransition to{
          dead ? JobState::kDead : JobState::kQueued,
          dead ? job.run_at : now,
          WallTime{},
          "lease expired (worker " + job.worker + ", attempt " + std::to_string(job.attempts) + ")",
          FailureKind::kTransient,
          now};
      auto moved = store_.transition_job(job.id, JobState::kRunning, job.attempts, to);
      if (!moved.ok()) return moved.error();
      if (!*moved) continue;  // completed or recovered by someone else meanwhile
      ++moved_now;
      job.state = to.state;
      job.run_at = to.run_at;
      job.lease_until = to.lease_until;
      job.last_error = to.last_error;
      job.last_failure = to.last_failure;
      job.updated = now;
      {
        std::lock_guard lock(mu_);
        Counters& c = counters(job.queue);
        ++c.recovered;
        if (dead) ++c.dead;
      }
      notify(dead ? JobChange::kDead : JobChange::kRecovered, job);
      recovered.push_back(std::move(job));
    }
    // A full batch may hide more; a batch where nothing moved means others
    // are recovering the same rows - stop rather than spin.
    if (expired->size() < kRecoverBatch || moved_now == 0) break;
  }
  return recovered;
}

Result<std::optional<WallTime>> JobQueue::next_due(JobKind kind) {
  return store_.next_job_due(job_kind_name(kind));
}

Result<int64_t> JobQueue::purge_finished(WallTime before) {
  auto done = store_.purge_jobs(JobState::kDone, before);
  if (!done.ok()) return done;
  auto dead = store_.purge_jobs(JobState::kDead, before);
  if (!dead.ok()) return dead;
  return *done + *dead;
}

Result<std::vector<QueueMetrics>> JobQueue::metrics() {
  auto counts = store_.job_counts();
  if (!counts.ok()) return counts.error();
  std::vector<QueueMetrics> out(kJobKinds);
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kJobKinds; ++i) {
    QueueMetrics& m = out[i];
    const Counters& c = counters_[i];
    m.kind = static_cast<JobKind>(i);
    m.enqueued = c.enqueued;
    m.deduplicated = c.deduplicated;
    m.claimed = c.claimed;
    m.completed = c.completed;
    m.retried = c.retried;
    m.dead = c.dead;
    m.recovered = c.recovered;
    m.lost_leases = c.lost_leases;
  }
  for (const JobCount& count : *counts) {
    if (const auto kind = parse_job_kind(count.queue)) {
      out[static_cast<size_t>(*kind)].by_state[static_cast<size_t>(count.state)] = count.count;
    }
  }
  return out;
}

Millis JobQueue::backoff(JobKind kind, FailureKind failure, uint32_t attempts) {
  const QueuePolicy& q = options_.policy(kind);
  double unit = 0;
  {
    std::lock_guard lock(mu_);
    unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  return retry_delay(failure == FailureKind::kTransient ? q.transient : q.permanent, attempts,
                     unit);
}

}  // namespace sentinel::intel
