#include "detect/geofence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "detect/enrichment.h"

namespace sentinel::detect {
namespace geofence_test {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// S2Earth's mean radius: the radius the index measures with.
constexpr double kEarthRadiusM = 6'371'010.0;
constexpr double kDeg = std::numbers::pi / 180.0;

std::string data(const std::string& name) {
  return SENTINEL_SOURCE_DIR "/tests/data/geofence/" + name;
}
std::string chicago(const std::string& name) {
  return SENTINEL_SOURCE_DIR "/examples/data/chicago/" + name;
}

GeofenceRuleConfig polygon_rule(std::string name, const std::string& file,
                                std::vector<std::string> types = {}) {
  GeofenceRuleConfig r;
  r.name = std::move(name);
  r.polygons = file;
  r.types = std::move(types);
  return r;
}

GeofenceRuleConfig sites_rule(std::string name, const std::string& file, double radius_m,
                              std::vector<std::string> types = {}) {
  GeofenceRuleConfig r;
  r.name = std::move(name);
  r.sites = file;
  r.radius_m = radius_m;
  r.types = std::move(types);
  return r;
}

/// Great-circle distance by the haversine formula: independent of S2's chord arithmetic.
double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = (lat2 - lat1) * kDeg;
  const double dlon = (lon2 - lon1) * kDeg;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::sqrt(a));
}

struct LatLon {
  double lat, lon;
};

/// The point `distance_m` from (lat, lon) along `bearing_deg` (0 = north), on the sphere.
LatLon destination(double lat, double lon, double bearing_deg, double distance_m) {
  const double d = distance_m / kEarthRadiusM;
  const double phi1 = lat * kDeg, lambda1 = lon * kDeg, theta = bearing_deg * kDeg;
  const double phi2 =
      std::asin(std::sin(phi1) * std::cos(d) + std::cos(phi1) * std::sin(d) * std::cos(theta));
  const double lambda2 =
      lambda1 + std::atan2(std::sin(theta) * std::sin(d) * std::cos(phi1),
                           std::cos(d) - std::sin(phi1) * std::sin(phi2));
  return LatLon{phi2 / kDeg, lambda2 / kDeg};
}

/// Degrees of longitude spanning `m` metres east-west at latitude `lat`.
double lon_degrees(double m, double lat) {
  return m / (kEarthRadiusM * std::cos(lat * kDeg)) / kDeg;
}

// Rule order (bit i = rule i) of the fixture index.
enum : size_t { kLoop, kParks, kWest, kEast, kSchools, kWeapons, kFixtureRules };
constexpr uint64_t kAll = ~uint64_t{0};
constexpr uint64_t bit(size_t rule) {
  return uint64_t{1} << rule;
}

const GeofenceIndex& fixture() {
  static const std::unique_ptr<GeofenceIndex> index = GeofenceIndex::build({
      polygon_rule("loop", data("ring_with_hole.geojson")),
      polygon_rule("parks", data("multi.geojson"), {"cctv.crowd"}),
      polygon_rule("west", data("adjacent_west.geojson"), {"sensor."}),
      polygon_rule("east", data("adjacent_east.geojson"), {"sensor.*"}),
      sites_rule("schools", data("sites.geojson"), 200, {"sensor.gunshot", "cad.call.weapon"}),
      sites_rule("weapons", data("sites.geojson"), 50, {"cad.call.weapon", "platform.fir"}),
  });
  return *index;
}

TEST(Geofence, KeepsRulesInOrder) {
  const GeofenceIndex& g = fixture();
  ASSERT_EQ(g.size(), kFixtureRules);
  ASSERT_EQ(g.rules().size(), kFixtureRules);
  EXPECT_EQ(g.rules()[kLoop].name, "loop");
  EXPECT_EQ(g.rules()[kSchools].name, "schools");
  EXPECT_EQ(g.rules()[kSchools].radius_m, 200);
  EXPECT_EQ(g.rules()[kWeapons].types, (std::vector<std::string>{"cad.call.weapon", "platform.fir"}));
}

TEST(Geofence, PolygonWithHole) {
  const GeofenceIndex& g = fixture();
  EXPECT_EQ(g.match(41.82, -87.68, kAll), bit(kLoop));  // in the ring
  EXPECT_EQ(g.match(41.85, -87.65, kAll), 0u);          // in the hole
  EXPECT_EQ(g.match(41.95, -87.90, kAll), 0u);          // outside
  EXPECT_EQ(g.match(41.82, -87.68, bit(kLoop)), bit(kLoop));
  EXPECT_EQ(g.match(41.82, -87.68, kAll & ~bit(kLoop)), 0u);  // not a candidate

  // The hole's west edge is the meridian -87.66 (an exact great circle).
  const double cm = lon_degrees(0.01, 41.85);
  EXPECT_EQ(g.match(41.85, -87.66 - cm, kAll), bit(kLoop));
  EXPECT_EQ(g.match(41.85, -87.66 + cm, kAll), 0u);

  const GeofenceIndex::Hit ring = g.describe(kLoop, 41.82, -87.68);
  EXPECT_EQ(ring.place, "Loop");
  EXPECT_EQ(ring.distance_m, 0.0);
  const GeofenceIndex::Hit hole = g.describe(kLoop, 41.85, -87.65);
  EXPECT_EQ(hole.place, "");
  EXPECT_TRUE(std::isinf(hole.distance_m));
}

TEST(Geofence, MultiPolygonAndWinding) {
  const GeofenceIndex& g = fixture();
  EXPECT_EQ(g.match(42.005, -87.795, kAll), bit(kParks));  // first member
  EXPECT_EQ(g.match(42.005, -87.765, kAll), bit(kParks));  // second member
  EXPECT_EQ(g.match(42.005, -87.780, kAll), 0u);           // between them
  EXPECT_EQ(g.describe(kParks, 42.005, -87.795).place, "Twin parks");
  EXPECT_EQ(g.describe(kParks, 42.005, -87.765).place, "Twin parks");
  EXPECT_EQ(g.describe(kParks, 42.005, -87.780).place, "");

  // Feature 1 is wound clockwise and has no name: it still means the small square.
  EXPECT_EQ(g.match(42.005, -87.735, kAll), bit(kParks));
  EXPECT_EQ(g.describe(kParks, 42.005, -87.735).place, "feature 1");
  EXPECT_EQ(g.match(-42.0, 92.0, kAll), 0u);  // the antipode is not inside
}

TEST(Geofence, PointNearAnEdge) {
  const GeofenceIndex& g = fixture();
  // The loop's west edge is the meridian -87.70, from 41.80 to 41.90.
  for (double metres : {1.0, 0.01}) {
    const double d = lon_degrees(metres, 41.85);
    EXPECT_EQ(g.match(41.85, -87.70 + d, kAll), bit(kLoop)) << metres << " m inside";
    EXPECT_EQ(g.match(41.85, -87.70 - d, kAll), 0u) << metres << " m outside";
  }
  // The south edge is a great-circle arc, not the parallel: 5 m clears its bulge (~1 cm here).
  const double five_m = 5.0 / kEarthRadiusM / kDeg;
  EXPECT_EQ(g.match(41.80 + five_m, -87.65, kAll), bit(kLoop));
  EXPECT_EQ(g.match(41.80 - five_m, -87.65, kAll), 0u);
}

TEST(Geofence, PointOnASharedEdgeBelongsToOneArea) {
  const GeofenceIndex& g = fixture();
  const uint64_t both = bit(kWest) | bit(kEast);
  // West and east blocks share the meridian -87.50 between 41.70 and 41.75.
  int west = 0, east = 0;
  for (int k = 1; k < 50; ++k) {
    const double lat = 41.70 + 0.001 * k;
    const uint64_t m = g.match(lat, -87.50, both);
    EXPECT_EQ(std::popcount(m), 1) << "lat " << lat;
    west += (m == bit(kWest));
    east += (m == bit(kEast));
    // describe agrees with match on the edge too.
    EXPECT_EQ(g.describe(kWest, lat, -87.50).place.empty(), m != bit(kWest));
    EXPECT_EQ(g.describe(kEast, lat, -87.50).place.empty(), m != bit(kEast));
  }
  EXPECT_EQ(west + east, 49);
  // Shared vertices: never claimed twice.
  EXPECT_LE(std::popcount(g.match(41.70, -87.50, both)), 1);
  EXPECT_LE(std::popcount(g.match(41.75, -87.50, both)), 1);
  // Off the edge, each side is its own.
  const double cm = lon_degrees(0.01, 41.72);
  EXPECT_EQ(g.match(41.72, -87.50 - cm, both), bit(kWest));
  EXPECT_EQ(g.match(41.72, -87.50 + cm, both), bit(kEast));
  EXPECT_EQ(g.describe(kWest, 41.72, -87.51).place, "West block");
}

TEST(Geofence, RadiusJustInsideAndOutside) {
  const GeofenceIndex& g = fixture();
  const LatLon school{41.95, -87.65};
  for (double bearing = 0; bearing < 360; bearing += 15) {
    // 1 cm either side of each radius; northward points also come near the
    // unnamed site 333 m north, which the expectation accounts for.
    for (double d : {199.99, 200.01, 49.99, 50.01}) {
      const LatLon p = destination(school.lat, school.lon, bearing, d);
      const double expected = haversine_m(school.lat, school.lon, p.lat, p.lon);
      ASSERT_NEAR(expected, d, 1e-6);  // the two formulas agree
      const double other = haversine_m(41.953, -87.65, p.lat, p.lon);
      const uint64_t m = g.match(p.lat, p.lon, bit(kSchools) | bit(kWeapons));
      EXPECT_EQ((m & bit(kSchools)) != 0, expected <= 200 || other <= 200)
          << "bearing " << bearing << " distance " << d;
      EXPECT_EQ((m & bit(kWeapons)) != 0, expected <= 50 || other <= 50)
          << "bearing " << bearing << " distance " << d;
      const GeofenceIndex::Hit hit = g.describe(kSchools, p.lat, p.lon);
      if (expected <= 200 && expected < other) {
        EXPECT_EQ(hit.place, "North school");
        EXPECT_NEAR(hit.distance_m, expected, 1e-6);
      }
    }
  }
}

TEST(Geofence, RadiusNamesTheNearestSite) {
  const GeofenceIndex& g = fixture();
  // 41.9513 is 144.6 m from the North school (41.95) and 189.0 m from the unnamed site (41.953).
  GeofenceIndex::Hit hit = g.describe(kSchools, 41.9513, -87.65);
  EXPECT_EQ(hit.place, "North school");
  EXPECT_NEAR(hit.distance_m, haversine_m(41.95, -87.65, 41.9513, -87.65), 1e-6);
  hit = g.describe(kSchools, 41.9518, -87.65);
  EXPECT_EQ(hit.place, "feature 1");  // unnamed: its index in the file
  EXPECT_NEAR(hit.distance_m, haversine_m(41.953, -87.65, 41.9518, -87.65), 1e-6);

  // Both points of the MultiPoint "Twin clinics" are sites.
  EXPECT_EQ(g.match(41.95, -87.5401, kAll), bit(kSchools) | bit(kWeapons));
  hit = g.describe(kSchools, 41.95, -87.5401);
  EXPECT_EQ(hit.place, "Twin clinics");
  EXPECT_NEAR(hit.distance_m, haversine_m(41.95, -87.54, 41.95, -87.5401), 1e-6);
  EXPECT_EQ(g.match(41.95, -87.545, kAll), 0u);  // 415 m from each

  hit = g.describe(kSchools, 41.97, -87.65);  // out of range
  EXPECT_EQ(hit.place, "");
  EXPECT_TRUE(std::isinf(hit.distance_m));
}

TEST(Geofence, RadiusTiesGoToTheFirstFeature) {
  // Features 1 and 2 stand at the same point; feature 0 is 1.4 km away.
  const auto g = GeofenceIndex::build({sites_rule("s", data("same_place.geojson"), 2000)});
  for (double bearing = 0; bearing < 360; bearing += 45) {
    const LatLon p = destination(41.81, -87.61, bearing, 300);
    EXPECT_EQ(g->match(p.lat, p.lon, kAll), 1u);
    const GeofenceIndex::Hit hit = g->describe(0, p.lat, p.lon);
    EXPECT_EQ(hit.place, "First") << bearing;
    EXPECT_NEAR(hit.distance_m, 300, 1e-6);
  }
  EXPECT_EQ(g->describe(0, 41.80, -87.60).place, "Far");
}

TEST(Geofence, TypePrefixes) {
  const GeofenceIndex& g = fixture();
  const uint64_t every = bit(kLoop);
  EXPECT_EQ(g.rules_for_type("sensor.gunshot"), every | bit(kWest) | bit(kEast) | bit(kSchools));
  EXPECT_EQ(g.rules_for_type("sensor.panic"), every | bit(kWest) | bit(kEast));
  EXPECT_EQ(g.rules_for_type("sensor.gunshot.confirmed"),
            every | bit(kWest) | bit(kEast) | bit(kSchools));
  EXPECT_EQ(g.rules_for_type("sensor"), every);  // "sensor." and "sensor.*" need a subtype
  EXPECT_EQ(g.rules_for_type("sensors.x"), every);
  EXPECT_EQ(g.rules_for_type("cad.call.weapon"), every | bit(kSchools) | bit(kWeapons));
  EXPECT_EQ(g.rules_for_type("cad.call.weapon.x"), every | bit(kSchools) | bit(kWeapons));
  EXPECT_EQ(g.rules_for_type("cad.call.weaponry"), every);
  EXPECT_EQ(g.rules_for_type("cad.call"), every);
  EXPECT_EQ(g.rules_for_type("cctv.crowd"), every | bit(kParks));
  EXPECT_EQ(g.rules_for_type("cctv.crowding"), every);
  EXPECT_EQ(g.rules_for_type("platform.fir.filed"), every | bit(kWeapons));
  EXPECT_EQ(g.rules_for_type(""), every);
}

TEST(Geofence, CandidateMaskAndBadInput) {
  const GeofenceIndex& g = fixture();
  EXPECT_EQ(g.match(41.82, -87.68, 0), 0u);
  EXPECT_EQ(g.match(41.82, -87.68, ~(bit(kFixtureRules) - 1)), 0u);  // bits past size()
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(g.match(nan, -87.68, kAll), 0u);
  EXPECT_EQ(g.match(41.82, nan, kAll), 0u);
  EXPECT_EQ(g.match(200, -87.68, kAll), 0u);
  EXPECT_EQ(g.match(41.82, 181, kAll), 0u);
  EXPECT_EQ(g.describe(kFixtureRules, 41.82, -87.68).place, "");
  EXPECT_EQ(g.describe(kLoop, nan, -87.68).place, "");
}

TEST(Geofence, SixtyFourRules) {
  std::vector<GeofenceRuleConfig> rules;
  for (int i = 0; i < 64; ++i) {
    rules.push_back(sites_rule("r" + std::to_string(i), data("sites.geojson"), 10.0 * (i + 1)));
  }
  const auto g = GeofenceIndex::build(rules);
  ASSERT_EQ(g->size(), 64u);
  EXPECT_EQ(g->rules_for_type("x"), kAll);
  // 105 m north of the North school and 228 m from the unnamed site: rules with radius >= 110 m.
  const LatLon p = destination(41.95, -87.65, 0, 105);
  EXPECT_EQ(g->match(p.lat, p.lon, kAll), kAll << 10);
  EXPECT_EQ(g->describe(63, p.lat, p.lon).place, "North school");
  EXPECT_EQ(g->describe(9, p.lat, p.lon).place, "");
}

TEST(Geofence, EmptyIndex) {
  const auto g = GeofenceIndex::build({});
  EXPECT_EQ(g->size(), 0u);
  EXPECT_EQ(g->rules_for_type("sensor.gunshot"), 0u);
  EXPECT_EQ(g->match(41.82, -87.68, kAll), 0u);
}

std::string build_error(const std::vector<GeofenceRuleConfig>& rules) {
  try {
    GeofenceIndex::build(rules);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Geofence, BuildErrors) {
  const std::string missing = data("missing.geojson");
  EXPECT_EQ(build_error({polygon_rule("a", missing)}),
            "geofences[0] (a): " + missing + ": no such file");
  EXPECT_EQ(build_error({polygon_rule("a", data("multi.geojson")), sites_rule("b", missing, 10)}),
            "geofences[1] (b): " + missing + ": no such file");
  EXPECT_THAT(build_error({polygon_rule("a", data("not_json.geojson"))}),
              StartsWith("geofences[0] (a): " + data("not_json.geojson") + ": not valid JSON: "));
  EXPECT_EQ(build_error({polygon_rule("a", data("empty.geojson"))}),
            "geofences[0] (a): " + data("empty.geojson") + ": no features");
  EXPECT_EQ(build_error({sites_rule("a", data("empty.geojson"), 10)}),
            "geofences[0] (a): " + data("empty.geojson") + ": no features");
  EXPECT_EQ(build_error({polygon_rule("a", data("sites.geojson"))}),
            "geofences[0] (a): " + data("sites.geojson") +
                ": features[0]: geometry is Point, expected Polygon or MultiPolygon");
  EXPECT_EQ(build_error({polygon_rule("a", data("null_geometry.geojson"))}),
            "geofences[0] (a): " + data("null_geometry.geojson") +
                ": features[0]: geometry is null, expected Polygon or MultiPolygon");
  EXPECT_EQ(build_error({sites_rule("a", data("multi.geojson"), 10)}),
            "geofences[0] (a): " + data("multi.geojson") +
                ": features[0]: geometry is MultiPolygon, expected Point or MultiPoint");
  EXPECT_THAT(build_error({polygon_rule("a", data("bowtie.geojson"))}),
              StartsWith("geofences[0] (a): " + data("bowtie.geojson") +
                         ": features[1]: geometry.coordinates[0]: invalid ring: "));

  GeofenceRuleConfig both = polygon_rule("b", data("multi.geojson"));
  both.sites = data("sites.geojson");
  both.radius_m = 10;
  EXPECT_EQ(build_error({both}), "geofences[0] (b): has both polygons and sites; give one");
  GeofenceRuleConfig neither;
  neither.name = "n";
  EXPECT_EQ(build_error({neither}), "geofences[0] (n): needs one of polygons or sites");
  EXPECT_EQ(build_error({sites_rule("r", data("sites.geojson"), 0)}),
            "geofences[0] (r): radius_m must be > 0 with sites (got 0)");
  EXPECT_EQ(build_error({sites_rule("r", data("sites.geojson"), -5)}),
            "geofences[0] (r): radius_m must be > 0 with sites (got -5)");
  EXPECT_EQ(build_error({sites_rule("r", data("sites.geojson"),
                                    std::numeric_limits<double>::quiet_NaN())}),
            "geofences[0] (r): radius_m must be > 0 with sites (got nan)");
  GeofenceRuleConfig radius_polygons = polygon_rule("p", data("multi.geojson"));
  radius_polygons.radius_m = 100;
  EXPECT_EQ(build_error({radius_polygons}),
            "geofences[0] (p): radius_m applies to sites only, not to polygons");
  EXPECT_EQ(build_error({polygon_rule("", data("multi.geojson"))}),
            "geofences[0] (): name is empty");
  EXPECT_EQ(build_error({polygon_rule("t", data("multi.geojson"), {"sensor.", ""})}),
            "geofences[0] (t): types[1] is empty");
  EXPECT_EQ(build_error({polygon_rule("x", data("multi.geojson")),
                         polygon_rule("y", data("multi.geojson")),
                         sites_rule("x", data("sites.geojson"), 10)}),
            "geofences[2] (x): duplicate name (also geofences[0])");

  std::vector<GeofenceRuleConfig> many;
  for (int i = 0; i < 65; ++i) many.push_back(sites_rule("r" + std::to_string(i), missing, 10));
  EXPECT_EQ(build_error(many), "geofences: 65 rules, at most 64");
}

/// A realistic index: the 77 Chicago community areas as one polygon rule,
/// the 566 schools with 200 m and 1 km, and a hand-made rule.
std::unique_ptr<GeofenceIndex> chicago_index() {
  return GeofenceIndex::build({
      polygon_rule("areas", chicago("chicago_community_areas.geojson")),
      sites_rule("schools", chicago("chicago_public_schools_2011.geojson"), 200),
      sites_rule("school_zone", chicago("chicago_public_schools_2011.geojson"), 1000),
      polygon_rule("loop", data("ring_with_hole.geojson")),
  });
}

std::vector<LatLon> random_points(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(41.60, 42.05), lon(-87.95, -87.50);
  std::vector<LatLon> out(n);
  for (LatLon& p : out) p = LatLon{lat(rng), lon(rng)};
  return out;
}

TEST(Geofence, AgreesWithTheEnricherOnChicago) {
  const auto g = chicago_index();
  CityConfig city;
  city.districts = chicago("chicago_community_areas.geojson");
  city.sensitive_sites = {chicago("chicago_public_schools_2011.geojson")};
  const auto enricher = Enricher::build(city, CellsConfig{});
  int inside = 0, near = 0;
  for (const LatLon& p : random_points(20'000, 7)) {
    const uint64_t m = g->match(p.lat, p.lon, kAll);
    const int32_t district = enricher->district_of(p.lat, p.lon);
    ASSERT_EQ((m & 1) != 0, district >= 0) << p.lat << "," << p.lon;
    if (district >= 0) {
      ++inside;
      EXPECT_EQ(g->describe(0, p.lat, p.lon).place, "feature " + std::to_string(district));
    }
    const Enricher::Nearest nearest = enricher->nearest_site(p.lat, p.lon);
    ASSERT_EQ((m & 2) != 0, nearest.distance_m <= 200) << p.lat << "," << p.lon;
    ASSERT_EQ((m & 4) != 0, nearest.distance_m <= 1000) << p.lat << "," << p.lon;
    if (m & 2) {
      ++near;
      const GeofenceIndex::Hit hit = g->describe(1, p.lat, p.lon);
      EXPECT_EQ(hit.place, enricher->sites()[static_cast<size_t>(nearest.site)].name);
      EXPECT_NEAR(hit.distance_m, nearest.distance_m, 1e-6);
    }
  }
  // The sample must exercise both sides of every rule.
  EXPECT_GT(inside, 5'000);
  EXPECT_LT(inside, 20'000);
  EXPECT_GT(near, 100);
}

TEST(Geofence, ConcurrentMatchesEqualSerial) {
  const auto g = chicago_index();
  const std::vector<LatLon> points = random_points(20'000, 11);
  std::vector<uint64_t> serial(points.size());
  for (size_t i = 0; i < points.size(); ++i) serial[i] = g->match(points[i].lat, points[i].lon, kAll);

  std::vector<uint64_t> a(points.size()), b(points.size());
  // Opposite orders, so the threads hit the same index cells at different times.
  std::thread ta([&] {
    for (size_t i = 0; i < points.size(); ++i) a[i] = g->match(points[i].lat, points[i].lon, kAll);
  });
  std::thread tb([&] {
    for (size_t i = points.size(); i-- > 0;) b[i] = g->match(points[i].lat, points[i].lon, kAll);
  });
  ta.join();
  tb.join();
  EXPECT_EQ(a, serial);
  EXPECT_EQ(b, serial);
  size_t matched = 0;
  for (uint64_t m : serial) matched += m != 0;
  EXPECT_GT(matched, points.size() / 4);
}

}  // namespace geofence_test
}  // namespace sentinel::detect
