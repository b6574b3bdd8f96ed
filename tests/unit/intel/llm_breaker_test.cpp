// CircuitBreaker on an injected clock: closed -> open after N consecutive
// transient failures, open -> half-open after the cool-down with one probe,
// probe success closes, probe failure reopens.
#include "intel/llm_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace sentinel::intel {
namespace llm_breaker_test {

using namespace std::chrono_literals;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreaker make(int threshold, std::chrono::milliseconds cool_down) {
    return CircuitBreaker(CircuitBreakerOptions{threshold, cool_down}, [this] { return now_; });
  }
  ProcTime now_ = ProcTime{} + std::chrono::hours(10);
};

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailures) {
  CircuitBreaker b = make(3, 60s);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow());
    b.record_failure();
  }
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 2);
  ASSERT_TRUE(b.allow());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(b.allow());
  EXPECT_EQ(b.retry_in(), 60s);
  now_ += 59s;
  EXPECT_FALSE(b.allow());
  EXPECT_EQ(b.retry_in(), 1s);
}

TEST_F(CircuitBreakerTest, SuccessResetsTheCount) {
  CircuitBreaker b = make(2, 10s);
  ASSERT_TRUE(b.allow());
  b.record_failure();
  ASSERT_TRUE(b.allow());
  b.record_success();
  ASSERT_TRUE(b.allow());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::kClosed);  // not two in a row
}

TEST_F(CircuitBreakerTest, HalfOpenLetsOneProbeThroughAndItsSuccessCloses) {
  CircuitBreaker b = make(1, 10s);
  ASSERT_TRUE(b.allow());
  b.record_failure();
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  now_ += 10s;
  EXPECT_TRUE(b.allow());  // the probe
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(b.allow());  // only one probe at a time
  EXPECT_EQ(b.retry_in(), 0ms);
  b.record_success();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.allow());
  EXPECT_TRUE(b.allow());
}

TEST_F(CircuitBreakerTest, FailedProbeReopensForAnotherCoolDown) {
  CircuitBreaker b = make(2, 10s);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow());
    b.record_failure();
  }
  now_ += 10s;
  ASSERT_TRUE(b.allow());
  b.record_failure();  // one failure is enough in half-open
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(b.allow());
  now_ += 9s;
  EXPECT_FALSE(b.allow());
  now_ += 1s;
  EXPECT_TRUE(b.allow());
}

TEST_F(CircuitBreakerTest, ConcurrentCallersGetOneProbe) {
  CircuitBreaker b = make(1, 1s);
  ASSERT_TRUE(b.allow());
  b.record_failure();
  now_ += 1s;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 100; ++k) {
        if (b.allow()) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1);
}

TEST_F(CircuitBreakerTest, RefusesBadOptions) {
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{0, 1s}), std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{1, -1s}), std::invalid_argument);
  EXPECT_EQ(breaker_state_name(BreakerState::kHalfOpen), "half_open");
}

}  // namespace llm_breaker_test
}  // namespace sentinel::intel
