// Date parsing for feeds: the formats real feeds use, tried in the order
// Python's feedparser tries them (W3C-DTF, RFC 822, ISO 8601 compact forms,
// asctime, Perforce), each tolerant of the variants the feed test corpus
// has (two-digit years, swapped day/month, named time zones, "GMT-05:00",
// a missing time or zone, MSSQL-style spaces, fractional seconds).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sentinel::intel {

/// A UTC instant broken down like Python's time.struct_time: year, month
/// (1-12), day, hour, minute, second, weekday (Monday = 0), day of the year
/// (1-366), DST flag (always 0).
using FeedTime = std::array<int, 9>;

/// Parses a feed date into UTC; nullopt when no format matches or the date
/// does not exist (30 February, hour 25). Dates without a zone are UTC.
/// ISO 8601 forms that omit the year or month take them from the current
/// date, as the ISO parser does. Pure function, thread-safe.
std::optional<FeedTime> parse_feed_date(std::string_view text);

/// Seconds since the Unix epoch for a FeedTime (its weekday/yday are ignored).
int64_t feed_time_to_unix(const FeedTime& t);

/// The FeedTime of `unix_seconds` (UTC).
FeedTime feed_time_from_unix(int64_t unix_seconds);

/// RFC 1123 form for HTTP headers, e.g. "Thu, 01 Jan 2004 19:48:21 GMT".
std::string format_http_date(int64_t unix_seconds);

}  // namespace sentinel::intel
