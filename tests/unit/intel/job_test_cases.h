// JobQueue test cases shared by both backends (see store_test_cases.h for
// what a backend is). The clock is a counter the tests move by hand.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "intel/jobs.h"
#include "store_test_cases.h"

namespace sentinel::intel::testing {

template <typename Backend>
class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.SetUp();
    if (IsSkipped()) return;
    store_ = backend_.open();
  }
  void TearDown() override {
    queue_.reset();
    store_.reset();
    backend_.TearDown();
  }

  /// Retries after 1 s, 2 s, 4 s (capped at 5 s), no jitter; dead at 4 attempts.
  static JobQueueOptions exact_options() {
    JobQueueOptions o;
    for (auto& q : o.queues) {
      q.concurrency = 2;
      q.lease = Millis(30'000);
      q.transient = RetryPolicy{Millis(1'000), 2.0, Millis(5'000), 0.0, 4};
    }
    return o;
  }
  JobQueue& make_queue(JobQueueOptions options = exact_options()) {
    queue_ = std::make_unique<JobQueue>(*store_, std::move(options), [this] { return now(); });
    queue_->set_listener([this](const JobEvent& e) { events_.push_back(e); });
    return *queue_;
  }
  WallTime now() const { return kT0 + Millis(clock_ms_.load()); }
  void advance(Millis d) { clock_ms_ += d.count(); }
  std::vector<std::string> changes() const {
    std::vector<std::string> out;
    for (const auto& e : events_) out.emplace_back(job_change_name(e.change));
    return out;
  }

  Backend backend_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<JobQueue> queue_;
  std::atomic<int64_t> clock_ms_{0};
  std::vector<JobEvent> events_;
};

TYPED_TEST_SUITE_P(JobQueueTest);

TYPED_TEST_P(JobQueueTest, TransientFailuresBackOffExponentiallyThenDie) {
  JobQueue& q = this->make_queue();
  const JobEnqueue e = must(q.enqueue(JobKind::kFetch, R"({"feed":3})", "feed:3"));
  ASSERT_TRUE(e.created);
  const std::vector<Millis> expected = {Millis(1'000), Millis(2'000), Millis(4'000)};
  for (uint32_t attempt = 1; attempt <= 4; ++attempt) {
    auto job = must(q.claim(JobKind::kFetch, "worker-a"));
    ASSERT_TRUE(job.has_value()) << "attempt " << attempt;
    EXPECT_EQ(job->attempts, attempt);
    EXPECT_EQ(job->lease_until, this->now() + Millis(30'000));
    const FailOutcome out = must(q.fail(*job, FailureKind::kTransient, "HTTP 503"));
    if (attempt < 4) {
      EXPECT_EQ(out.state, JobState::kQueued);
      ASSERT_TRUE(out.retry_at.has_value());
      EXPECT_EQ(*out.retry_at, this->now() + expected[attempt - 1]);
      EXPECT_EQ(must(q.next_due(JobKind::kFetch)), *out.retry_at);
      // Not runnable before its time, runnable at it.
      this->advance(expected[attempt - 1] - Millis(1));
      EXPECT_FALSE(must(q.claim(JobKind::kFetch, "worker-a")).has_value());
      this->advance(Millis(1));
    } else {
      EXPECT_EQ(out.state, JobState::kDead);
      EXPECT_FALSE(out.retry_at.has_value());
    }
  }
  auto job = must(this->store_->get_job(e.id));
  EXPECT_EQ(job->state, JobState::kDead);
  EXPECT_EQ(job->last_error, "HTTP 503");
  EXPECT_EQ(job->last_failure, FailureKind::kTransient);
  EXPECT_FALSE(must(q.claim(JobKind::kFetch, "worker-a")).has_value());
  EXPECT_THAT(this->changes(),
              ::testing::ElementsAre("enqueued", "claimed", "retrying", "claimed", "retrying",
                                     "claimed", "retrying", "claimed", "dead"));
  // The dead job no longer holds its dedup key.
  EXPECT_TRUE(must(q.enqueue(JobKind::kFetch, "{}", "feed:3")).created);
  auto metrics = must(q.metrics());
  ASSERT_EQ(metrics.size(), 3u);
  const QueueMetrics& fetch = metrics[0];
  EXPECT_EQ(fetch.kind, JobKind::kFetch);
  EXPECT_EQ(fetch.enqueued, 2u);
  EXPECT_EQ(fetch.claimed, 4u);
  EXPECT_EQ(fetch.retried, 3u);
  EXPECT_EQ(fetch.dead, 1u);
  EXPECT_EQ(fetch.by_state[static_cast<size_t>(JobState::kDead)], 1);
  EXPECT_EQ(fetch.by_state[static_cast<size_t>(JobState::kQueued)], 1);
  EXPECT_EQ(metrics[1].claimed, 0u);
}

TYPED_TEST_P(JobQueueTest, PermanentFailureIsDeadAtOnceAndSuccessIsDone) {
  JobQueue& q = this->make_queue();
  ASSERT_TRUE(q.enqueue(JobKind::kEnrich, R"({"article":1})").ok());
  ASSERT_TRUE(q.enqueue(JobKind::kEnrich, R"({"article":2})").ok());
  auto first = must(q.claim(JobKind::kEnrich, "w"));
  auto second = must(q.claim(JobKind::kEnrich, "w"));
  ASSERT_TRUE(first.has_value() && second.has_value());
  const FailOutcome out = must(q.fail(*first, FailureKind::kPermanent, "HTTP 404"));
  EXPECT_EQ(out.state, JobState::kDead);
  ASSERT_TRUE(q.complete(*second).ok());
  EXPECT_EQ(must(this->store_->get_job(first->id))->state, JobState::kDead);
  EXPECT_EQ(must(this->store_->get_job(first->id))->last_failure, FailureKind::kPermanent);
  EXPECT_EQ(must(this->store_->get_job(second->id))->state, JobState::kDone);
  // Completing or failing again: the claim is gone.
  EXPECT_EQ(q.complete(*second).error().field, kStoreConflict);
  EXPECT_EQ(q.fail(*first, FailureKind::kTransient, "x").error().field, kStoreConflict);
  auto metrics = must(q.metrics());
  EXPECT_EQ(metrics[1].completed, 1u);
  EXPECT_EQ(metrics[1].dead, 1u);
  EXPECT_EQ(metrics[1].lost_leases, 2u);
}

TYPED_TEST_P(JobQueueTest, StaleJobsReturnAfterACrash) {
  JobQueueOptions options = this->exact_options();
  options.queues[static_cast<size_t>(JobKind::kExtract)].transient.max_attempts = 2;
  JobQueue& q = this->make_queue(options);
  const JobId a = must(q.enqueue(JobKind::kExtract, R"({"article":1})")).id;
  const JobId b = must(q.enqueue(JobKind::kExtract, R"({"article":2})")).id;
  auto ja = must(q.claim(JobKind::kExtract, "host1:111"));
  ASSERT_TRUE(ja.has_value());
  ASSERT_EQ(ja->id, a);
  ASSERT_TRUE(q.fail(*ja, FailureKind::kTransient, "timeout").ok());  // a retries at +1 s
  this->advance(Millis(1'000));
  auto jb = must(q.claim(JobKind::kExtract, "host1:111"));  // b was due first
  ja = must(q.claim(JobKind::kExtract, "host1:111"));
  ASSERT_TRUE(ja.has_value() && jb.has_value());
  ASSERT_EQ(jb->id, b);
  ASSERT_EQ(ja->id, a);
  ASSERT_EQ(ja->attempts, 2u);
  const WallTime lease_end = jb->lease_until;

  // The process dies: its queue and store handle are gone, the rows stay running.
  this->queue_.reset();
  this->store_.reset();
  this->store_ = this->backend_.open();
  this->events_.clear();
  JobQueue& restarted = this->make_queue(options);
  EXPECT_FALSE(
      must(restarted.claim(JobKind::kExtract, "host2:222")).has_value());  // both slots still held
  EXPECT_TRUE(must(restarted.recover_stale(lease_end - Millis(1))).empty());

  auto recovered = must(restarted.recover_stale(lease_end));
  ASSERT_EQ(recovered.size(), 2u);
  std::sort(recovered.begin(), recovered.end(),
            [](const Job& x, const Job& y) { return x.id < y.id; });
  EXPECT_EQ(recovered[0].id, a);
  EXPECT_EQ(recovered[0].state, JobState::kDead);  // that was its second and last attempt
  EXPECT_EQ(recovered[1].id, b);
  EXPECT_EQ(recovered[1].state, JobState::kQueued);
  EXPECT_EQ(recovered[1].run_at, lease_end);
  EXPECT_THAT(recovered[1].last_error,
              ::testing::HasSubstr("lease expired (worker host1:111, attempt 1)"));
  auto stored = must(this->store_->get_job(b));
  EXPECT_EQ(stored->state, JobState::kQueued);
  EXPECT_EQ(stored->last_error, recovered[1].last_error);
  EXPECT_TRUE(must(restarted.recover_stale(lease_end + Millis(1))).empty());

  // The old worker's claim is fenced off; the job runs again under a new claim.
  EXPECT_EQ(restarted.complete(*jb).error().field, kStoreConflict);
  this->clock_ms_ = (lease_end - kT0).count();
  auto again = must(restarted.claim(JobKind::kExtract, "host2:222"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, b);
  EXPECT_EQ(again->attempts, 2u);
  EXPECT_EQ(restarted.complete(*jb).error().field, kStoreConflict);
  ASSERT_TRUE(restarted.complete(*again).ok());
  EXPECT_THAT(this->changes(),
              ::testing::UnorderedElementsAre("dead", "recovered", "claimed", "completed"));
  auto metrics = must(restarted.metrics());
  EXPECT_EQ(metrics[2].recovered, 2u);
  EXPECT_EQ(metrics[2].dead, 1u);
  EXPECT_EQ(metrics[2].lost_leases, 2u);
}

TYPED_TEST_P(JobQueueTest, ExtendedLeaseIsNotRecovered) {
  JobQueue& q = this->make_queue();
  ASSERT_TRUE(q.enqueue(JobKind::kExtract, "{}").ok());
  auto job = must(q.claim(JobKind::kExtract, "w", Millis(10'000)));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->lease_until, kT0 + Millis(10'000));
  this->advance(Millis(8'000));
  EXPECT_EQ(must(q.extend_lease(*job, Millis(10'000))), kT0 + Millis(18'000));
  EXPECT_TRUE(must(q.recover_stale(kT0 + Millis(10'000))).empty());
  EXPECT_EQ(must(q.recover_stale(kT0 + Millis(18'000))).size(), 1u);
  EXPECT_EQ(q.extend_lease(*job).error().field, kStoreConflict);
  EXPECT_EQ(q.claim(JobKind::kExtract, "w", Millis(0)).error().field, kStoreInvalid);
}

TYPED_TEST_P(JobQueueTest, ConcurrencyIsPerQueue) {
  JobQueueOptions options = this->exact_options();
  options.queues[static_cast<size_t>(JobKind::kFetch)].concurrency = 1;
  JobQueue& q = this->make_queue(options);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.enqueue(JobKind::kFetch, std::to_string(i)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.enqueue(JobKind::kEnrich, std::to_string(i)).ok());
  auto f1 = must(q.claim(JobKind::kFetch, "w"));
  ASSERT_TRUE(f1.has_value());
  EXPECT_FALSE(must(q.claim(JobKind::kFetch, "w")).has_value());
  EXPECT_TRUE(must(q.claim(JobKind::kEnrich, "w")).has_value());
  EXPECT_TRUE(must(q.claim(JobKind::kEnrich, "w")).has_value());
  EXPECT_FALSE(must(q.claim(JobKind::kEnrich, "w")).has_value());
  ASSERT_TRUE(q.complete(*f1).ok());
  auto f2 = must(q.claim(JobKind::kFetch, "w"));
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ(f2->payload, "1");
}

TYPED_TEST_P(JobQueueTest, DedupEventsAndPurge) {
  JobQueue& q = this->make_queue();
  const JobEnqueue first =
      must(q.enqueue(JobKind::kFetch, R"({"feed":9})", "feed:9", kT0 + Millis(5'000)));
  const JobEnqueue dup = must(q.enqueue(JobKind::kFetch, R"({"feed":9})", "feed:9"));
  EXPECT_FALSE(dup.created);
  EXPECT_EQ(dup.id, first.id);
  ASSERT_EQ(this->events_.size(), 1u);  // the duplicate changed nothing
  const auto json = nlohmann::json::parse(render_job_event(this->events_[0]));
  EXPECT_EQ(json["type"], "job");
  EXPECT_EQ(json["change"], "enqueued");
  EXPECT_EQ(json["id"], first.id.value);
  EXPECT_EQ(json["queue"], "fetch");
  EXPECT_EQ(json["state"], "queued");
  EXPECT_EQ(json["attempts"], 0);
  EXPECT_EQ(json["run_at"], "2026-02-25T06:13:25Z");
  EXPECT_TRUE(json["lease_until"].is_null());
  EXPECT_TRUE(json["failure"].is_null());
  EXPECT_EQ(json["dedup_key"], "feed:9");
  EXPECT_FALSE(json.contains("payload"));
  EXPECT_EQ(must(q.metrics())[0].deduplicated, 1u);

  this->advance(Millis(5'000));
  auto job = must(q.claim(JobKind::kFetch, "w"));
  ASSERT_TRUE(job.has_value());
  const auto running = nlohmann::json::parse(render_job_event(this->events_.back()));
  EXPECT_EQ(running["lease_until"], "2026-02-25T06:13:55Z");
  EXPECT_EQ(running["worker"], "w");
  ASSERT_TRUE(q.complete(*job).ok());
  this->advance(Millis(60'000));
  ASSERT_TRUE(q.enqueue(JobKind::kFetch, "{}").ok());
  EXPECT_EQ(must(q.purge_finished(this->now() - Millis(60'000))), 0);
  EXPECT_EQ(must(q.purge_finished(this->now())), 1);
  EXPECT_FALSE(must(this->store_->get_job(first.id)).has_value());
  EXPECT_EQ(must(q.metrics())[0].by_state[static_cast<size_t>(JobState::kQueued)], 1);
}

REGISTER_TYPED_TEST_SUITE_P(JobQueueTest, TransientFailuresBackOffExponentiallyThenDie,
                            PermanentFailureIsDeadAtOnceAndSuccessIsDone,
                            StaleJobsReturnAfterACrash, ExtendedLeaseIsNotRecovered,
                            ConcurrencyIsPerQueue, DedupEventsAndPurge);

}  // namespace sentinel::intel::testing
