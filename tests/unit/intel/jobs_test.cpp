// JobQueue: the shared cases (job_test_cases.h) on SQLite, plus the retry
// arithmetic and option checks that need no database.
#include "intel/jobs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "job_test_cases.h"

namespace sentinel::intel::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, JobQueueTest, SqliteBackend);

namespace jobs_test {

TEST(RetryDelay, GrowsByTheFactorUpToTheCap) {
  const RetryPolicy p{Millis(500), 3.0, Millis(10'000), 0.0, 10};
  EXPECT_EQ(retry_delay(p, 1, 0.5), Millis(500));
  EXPECT_EQ(retry_delay(p, 2, 0.5), Millis(1'500));
  EXPECT_EQ(retry_delay(p, 3, 0.5), Millis(4'500));
  EXPECT_EQ(retry_delay(p, 4, 0.5), Millis(10'000));
  EXPECT_EQ(retry_delay(p, 4000, 0.5), Millis(10'000));  // no overflow
  EXPECT_EQ(retry_delay(p, 0, 0.5), Millis(500));        // treated as the first
}

TEST(RetryDelay, JitterScalesWithinItsBandAndNeverPassesTheCap) {
  const RetryPolicy p{Millis(1'000), 2.0, Millis(3'000), 0.25, 10};
  EXPECT_EQ(retry_delay(p, 1, 0.0), Millis(750));
  EXPECT_EQ(retry_delay(p, 1, 0.5), Millis(1'000));
  EXPECT_EQ(retry_delay(p, 1, 1.0), Millis(1'250));
  EXPECT_EQ(retry_delay(p, 2, 0.0), Millis(1'500));
  EXPECT_EQ(retry_delay(p, 5, 0.0), Millis(2'250));
  EXPECT_EQ(retry_delay(p, 5, 0.99), Millis(3'000));  // capped after the jitter too
}

TEST(JobQueueBackoff, SeededJitterRepeatsAndStaysInBand) {
  SqliteBackend backend;
  backend.SetUp();
  auto store = backend.open();
  JobQueueOptions options;
  options.seed = 42;
  JobQueue a(*store, options), b(*store, options);
  options.seed = 43;
  JobQueue c(*store, options);
  const RetryPolicy& p = options.policy(JobKind::kFetch).transient;
  bool differs = false;
  for (uint32_t attempt = 1; attempt <= 20; ++attempt) {
    const Millis da = a.backoff(JobKind::kFetch, FailureKind::kTransient, attempt);
    EXPECT_EQ(da, b.backoff(JobKind::kFetch, FailureKind::kTransient, attempt));
    differs = differs || da != c.backoff(JobKind::kFetch, FailureKind::kTransient, attempt);
    const double nominal = std::min(static_cast<double>(p.max.count()),
                                    p.base.count() * std::pow(p.factor, attempt - 1.0));
    EXPECT_GE(da.count(), std::floor(nominal * (1 - p.jitter)));
    EXPECT_LE(da.count(),
              std::min(static_cast<double>(p.max.count()), std::ceil(nominal * (1 + p.jitter))));
  }
  EXPECT_TRUE(differs);
  store.reset();
  backend.TearDown();
}

TEST(JobQueueOptions, BadPoliciesNameTheKey) {
  SqliteBackend backend;
  backend.SetUp();
  auto store = backend.open();
  const auto message = [&](JobQueueOptions o) -> std::string {
    try {
      JobQueue q(*store, o);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  JobQueueOptions o;
  o.queues[0].transient.factor = 0.5;
  EXPECT_EQ(message(o), "jobs.fetch.transient.factor: must be >= 1");
  o = JobQueueOptions{};
  o.queues[1].concurrency = 0;
  EXPECT_EQ(message(o), "jobs.enrich.concurrency: must be >= 1");
  o = JobQueueOptions{};
  o.queues[2].permanent.jitter = 1.0;
  EXPECT_EQ(message(o), "jobs.extract.permanent.jitter: must be in [0, 1)");
  o = JobQueueOptions{};
  o.queues[2].transient.max = Millis(1);
  EXPECT_EQ(message(o), "jobs.extract.transient.max: must be >= base");
  o = JobQueueOptions{};
  o.queues[0].transient.max_attempts = 0;
  EXPECT_EQ(message(o), "jobs.fetch.transient.max_attempts: must be >= 1");
  o = JobQueueOptions{};
  o.queues[0].lease = Millis(0);
  EXPECT_EQ(message(o), "jobs.fetch.lease: must be positive");
  EXPECT_EQ(message(JobQueueOptions{}), "");
  store.reset();
  backend.TearDown();
}

TEST(JobNames, RoundTrip) {
  for (JobKind k : {JobKind::kFetch, JobKind::kEnrich, JobKind::kExtract}) {
    EXPECT_EQ(parse_job_kind(job_kind_name(k)), k);
  }
  EXPECT_EQ(parse_job_kind("index"), std::nullopt);
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
    EXPECT_EQ(parse_job_state(job_state_name(s)), s);
  }
  EXPECT_EQ(job_change_name(JobChange::kRecovered), "recovered");
  EXPECT_EQ(parse_failure_kind("permanent"), FailureKind::kPermanent);
}

}  // namespace jobs_test
}  // namespace sentinel::intel::testing
