#include "core/time.h"

#include <gtest/gtest.h>

namespace sentinel {
namespace time_test {

TEST(Rfc3339, ParsesUtcAndOffsets) {
  EXPECT_EQ(to_ms(*parse_rfc3339("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(to_ms(*parse_rfc3339("2026-03-01T22:14:05Z")), 1772403245000);
  EXPECT_EQ(to_ms(*parse_rfc3339("2026-03-01T23:14:05.250+01:00")), 1772403245250);
  EXPECT_EQ(to_ms(*parse_rfc3339("1969-12-31T23:59:59Z")), -1000);
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* bad : {"", "2026-03-01", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-03-01T24:00:00Z", "2026-03-01T22:14:05", "2026-03-01T22:14:05Zx",
                          "2026-03-01T22:14:05.Z", "2026-03-01T22:14:05+1:00", "abcd-03-01T22:14:05Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339, FormatRoundTrips) {
  EXPECT_EQ(format_rfc3339(event_time_from_ms(1772403245000)), "2026-03-01T22:14:05Z");
  EXPECT_EQ(format_rfc3339(event_time_from_ms(1772403245250)), "2026-03-01T22:14:05.250Z");
  EXPECT_EQ(format_rfc3339(event_time_from_ms(-1000)), "1969-12-31T23:59:59Z");
}

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("30s")->count(), 30'000);
  EXPECT_EQ(parse_duration("5m")->count(), 300'000);
  EXPECT_EQ(parse_duration("24h")->count(), 86'400'000);
  EXPECT_FALSE(parse_duration("5").has_value());
  EXPECT_FALSE(parse_duration("m").has_value());
  EXPECT_FALSE(parse_duration("-5s").has_value());
  EXPECT_EQ(format_duration(Millis(300'000)), "5m");
}

TEST(AlignDown, HandlesNegativeTimes) {
  EXPECT_EQ(to_ms(align_down(event_time_from_ms(299'999), Millis(300'000))), 0);
  EXPECT_EQ(to_ms(align_down(event_time_from_ms(-1), Millis(300'000))), -300'000);
}

}  // namespace time_test
}  // namespace sentinel
