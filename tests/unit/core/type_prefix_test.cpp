#include "core/type_prefix.h"

#include <gtest/gtest.h>

namespace sentinel {
namespace type_prefix_test {

TEST(TypePrefix, DotMeansEveryTypeBelow) {
  const TypePrefix p("sensor.");
  EXPECT_TRUE(p.matches("sensor.gunshot"));
  EXPECT_TRUE(p.matches("sensor.panic.silent"));
  EXPECT_FALSE(p.matches("sensor"));
  EXPECT_FALSE(p.matches("sensors.x"));
  EXPECT_TRUE(TypePrefix("cad.call.*").matches("cad.call.weapon"));
  EXPECT_FALSE(TypePrefix("cad.call.*").matches("cad.call"));
}

TEST(TypePrefix, NameMeansThatTypeAndItsSubtypes) {
  const TypePrefix p("cctv.crowd");
  EXPECT_TRUE(p.matches("cctv.crowd"));
  EXPECT_TRUE(p.matches("cctv.crowd.large"));
  EXPECT_FALSE(p.matches("cctv.crowdy"));
  EXPECT_FALSE(p.matches("cctv"));
}

TEST(TypePrefix, EmptyMatchesNothing) {
  EXPECT_TRUE(TypePrefix("").empty());
  EXPECT_FALSE(TypePrefix("").matches("sensor.gunshot"));
  EXPECT_FALSE(matches_any("sensor.gunshot", {}));
  EXPECT_TRUE(matches_any("sensor.gunshot", type_prefixes({"cad.call.", "sensor."})));
}

}  // namespace type_prefix_test
}  // namespace sentinel
