// CircuitBreaker: stops calling a remote service that keeps failing, and
// probes it again after a cool-down.
//
//   closed    --(failure_threshold consecutive transient failures)--> open
//   open      --(cool_down elapsed; the next allow() is the probe)--> half-open
//   half-open --(probe succeeded)--> closed
//   half-open --(probe failed)-----> open (the cool-down starts again)
//
// While open, and while the half-open probe is in flight, allow() refuses.
// Only transient failures count (a timeout, a 5xx): a permanent one (a 400,
// a malformed answer) shows the service is up, and callers report it with
// record_success().
//
// Thread-safe: every member may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

#include "core/time.h"

namespace sentinel::intel {

struct CircuitBreakerOptions {
  int failure_threshold = 5;  ///< consecutive transient failures that open the breaker (>= 1)
  std::chrono::milliseconds cool_down{60'000};  ///< open -> half-open after this long
};

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };
/// "closed", "open", "half_open".
std::string_view breaker_state_name(BreakerState s);

class CircuitBreaker {
 public:
  /// The time source; tests inject a fake one. Default: steady_clock::now.
  using Clock = std::function<ProcTime()>;

  /// Throws std::invalid_argument when failure_threshold < 1 or cool_down < 0.
  explicit CircuitBreaker(CircuitBreakerOptions options = {}, Clock clock = {});

  /// May the caller make a call now? True when closed, or when the cool-down
  /// has passed and no probe is in flight (this call becomes the probe). A
  /// caller that got true must report the outcome with record_success() or
  /// record_failure().
  bool allow();
  /// The call got an answer (or a permanent error): closes the breaker.
  void record_success();
  /// The call failed transiently: counts towards opening; reopens a half-open one.
  void record_failure();

  BreakerState state() const;
  /// How long until an open breaker lets a probe through (0 when not open).
  std::chrono::milliseconds retry_in() const;
  /// Consecutive transient failures recorded since the last success.
  int consecutive_failures() const;

 private:
  CircuitBreakerOptions options_;
  Clock clock_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int failures_ = 0;
  ProcTime opened_at_{};
  bool probe_in_flight_ = false;
};

}  // namespace sentinel::intel
