// Time in Sentinel has two clocks that must never mix:
//  - event time: when the thing happened, as the event says (EventTime);
//  - processing time: when Sentinel handled it, from the wall clock (ProcTime).
// Both are millisecond time points; distinct clock types make mixing them a
// compile error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sentinel {

/// Tag clock for event time (milliseconds since the Unix epoch, UTC).
struct EventClock {
  using duration = std::chrono::milliseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<EventClock, duration>;
  static constexpr bool is_steady = false;
};

using EventTime = EventClock::time_point;
using ProcTime = std::chrono::time_point<std::chrono::steady_clock>;
using Millis = std::chrono::milliseconds;

constexpr EventTime kMinEventTime = EventTime(Millis(INT64_MIN / 2));
constexpr EventTime kMaxEventTime = EventTime(Millis(INT64_MAX / 2));

inline EventTime event_time_from_ms(int64_t ms) { return EventTime(Millis(ms)); }
inline int64_t to_ms(EventTime t) { return t.time_since_epoch().count(); }

/// Parses an RFC 3339 timestamp ("2026-03-01T22:14:05Z", fractional seconds
/// and numeric offsets allowed). Hand-written because it runs once per event
/// and cctz's general parser costs ~20x more; returns nullopt on any deviation.
std::optional<EventTime> parse_rfc3339(std::string_view text);

/// Formats as RFC 3339 in UTC: "2026-03-01T22:14:05Z", or with ".123" when the
/// milliseconds are not zero.
std::string format_rfc3339(EventTime t);
void append_rfc3339(std::string& out, EventTime t);

/// Parses a duration such as "250ms", "30s", "5m", "24h", "7d".
std::optional<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis d);

/// Floor of t to a multiple of `size` since the Unix epoch (negative-safe).
inline EventTime align_down(EventTime t, Millis size) {
  int64_t ms = to_ms(t), s = size.count();
  int64_t q = ms / s;
  if (ms % s < 0) --q;
  return event_time_from_ms(q * s);
}

}  // namespace sentinel
