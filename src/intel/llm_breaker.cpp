#include "intel/llm_breaker.h"

#include <algorithm>
#include <stdexcept>

namespace sentinel::intel {

std::string_view breaker_state_name(BreakerState s) {
  switch (s) {
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
    case BreakerState::kClosed: break;
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.failure_threshold < 1) {
    throw std::invalid_argument("circuit breaker: failure_threshold must be >= 1");
  }
  if (options_.cool_down.count() < 0) {
    throw std::invalid_argument("circuit breaker: cool_down must not be negative");
  }
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      if (clock_() - opened_at_ < options_.cool_down) return false;
      state_ = BreakerState::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case BreakerState::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mu_);
  state_ = BreakerState::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mu_);
  ++failures_;
  if (state_ == BreakerState::kHalfOpen ||
      (state_ == BreakerState::kClosed && failures_ >= options_.failure_threshold)) {
    state_ = BreakerState::kOpen;
    opened_at_ = clock_();
  }
  probe_in_flight_ = false;
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::chrono::milliseconds CircuitBreaker::retry_in() const {
  std::lock_guard lock(mu_);
  if (state_ != BreakerState::kOpen) return std::chrono::milliseconds(0);
  auto left = options_.cool_down - std::chrono::duration_cast<std::chrono::milliseconds>(clock_() - opened_at_);
  return std::max(left, std::chrono::milliseconds(0));
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

}  // namespace sentinel::intel
