// Debian's libs2 is built without sanitizers, and absl's btree (inside S2's
// shape index) changes its node layout when it sees ASan, so S2 code compiled
// here under ASan would disagree with the library and corrupt its index (a
// hang or a crash). Only that layout switch is turned off; ASan still
// instruments this file. g++ only: clang detects ASan via __has_feature.
#ifdef __SANITIZE_ADDRESS__
#undef __SANITIZE_ADDRESS__
#endif

#include "detect/enrichment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <s2/s2cell_id.h>
#include <s2/s2earth.h>
#include <s2/s2latlng.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#pragma GCC diagnostic pop

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "detect/geojson.h"

namespace sentinel {
namespace enrichment_test {

bool same_point(const S2Point& a, const S2Point& b) {
  return a.x() == b.x() && a.y() == b.y() && a.z() == b.z();
}

using ::testing::HasSubstr;

std::string geo_file(const std::string& name) {
  return SENTINEL_SOURCE_DIR "/tests/data/geo/" + name;
}
std::string chicago_file(const std::string& name) {
  return SENTINEL_SOURCE_DIR "/examples/data/chicago/" + name;
}
constexpr double kInf = std::numeric_limits<double>::infinity();

CityConfig fixture_city() {
  CityConfig city;
  city.districts = geo_file("districts.geojson");
  city.sensitive_sites = {geo_file("schools.geojson"), geo_file("hospitals.geojson")};
  return city;
}

CityConfig chicago_city() {
  CityConfig city;
  city.time_zone = "America/Chicago";
  city.districts = chicago_file("chicago_community_areas.geojson");
  city.district_name_property = "area_numbe";
  city.sensitive_sites = {chicago_file("chicago_public_schools_2011.geojson")};
  return city;
}

const Enricher& chicago() {
  static const std::unique_ptr<Enricher> enricher = Enricher::build(chicago_city(), CellsConfig{});
  return *enricher;
}

/// The ConfigError message of building with `city`, or "" when it builds.
std::string build_error(const CityConfig& city, const CellsConfig& cells = CellsConfig{}) {
  try {
    Enricher::build(city, cells);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  const double rad = M_PI / 180.0;
  const double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * S2Earth::RadiusMeters() * std::asin(std::min(1.0, std::sqrt(a)));
}

EventTime at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(EventTime{});
}

// ---------------------------------------------------------------- districts

TEST(EnricherDistricts, HandMadePolygons) {
  const auto e = Enricher::build(fixture_city(), CellsConfig{});
  ASSERT_EQ(e->district_names(), (std::vector<std::string>{"Holed", "WEST", "Multi", "3"}));
  // Square with a hole (RFC 7946 winding), and an island inside the hole.
  EXPECT_EQ(e->district_of(0.2, 0.2), 0);
  EXPECT_EQ(e->district_of(0.8, 0.7), 0);
  EXPECT_EQ(e->district_of(0.42, 0.42), -1);  // in the hole, outside the island
  EXPECT_EQ(e->district_of(0.58, 0.5), -1);
  EXPECT_EQ(e->district_of(0.5, 0.5), 3);  // the island (ring written without closing position)
  // Adjacent square written clockwise.
  EXPECT_EQ(e->district_of(0.5, -0.5), 1);
  EXPECT_EQ(e->district_of(0.01, -0.99), 1);
  // MultiPolygon: a clockwise member, and a counter-clockwise member whose hole is also
  // counter-clockwise.
  EXPECT_EQ(e->district_of(0.5, 2.5), 2);
  EXPECT_EQ(e->district_of(0.2, 4.2), 2);
  EXPECT_EQ(e->district_of(0.5, 4.5), -1);  // hole of the second member
  EXPECT_EQ(e->district_of(0.5, 3.5), -1);  // between the members
  // Far from everything.
  EXPECT_EQ(e->district_of(-45.0, 170.0), -1);
  EXPECT_EQ(e->district_of(89.9, -179.9), -1);
  // Invalid coordinates are never inside.
  EXPECT_EQ(e->district_of(200.0, 0.5), -1);
  EXPECT_EQ(e->district_of(std::nan(""), 0.5), -1);
}

TEST(EnricherDistricts, SharedBorderBelongsToExactlyOne) {
  const auto e = Enricher::build(fixture_city(), CellsConfig{});
  // lon 0 is the edge shared by "Holed" and "WEST": S2's semi-open model gives each point to one
  // side.
  for (double lat : {0.1, 0.25, 0.5, 0.77, 0.9}) {
    const int32_t d = e->district_of(lat, 0.0);
    EXPECT_TRUE(d == 0 || d == 1) << lat << " -> " << d;
  }
}

TEST(EnricherDistricts, NameProperty) {
  CityConfig city = fixture_city();
  city.district_name_property = "code";
  EXPECT_EQ(Enricher::build(city, CellsConfig{})->district_names(),
            (std::vector<std::string>{"A", "B", "C", "D"}));
  city.district_name_property = "nope";
  EXPECT_THAT(build_error(city),
              HasSubstr(geo_file("districts.geojson: features[0]: no property \"nope\"")));
}

TEST(EnricherDistricts, NoDistrictsConfigured) {
  CityConfig city;
  const auto e = Enricher::build(city, CellsConfig{});
  EXPECT_TRUE(e->district_names().empty());
  EXPECT_EQ(e->district_of(41.88, -87.63), -1);
  EXPECT_EQ(e->nearest_site(41.88, -87.63).site, -1);
  EXPECT_EQ(e->nearest_site(41.88, -87.63).distance_m, kInf);
}

/// Oracle for the Chicago districts: one S2Polygon per feature (all valid in this file), in feature
/// order.
const std::vector<std::unique_ptr<S2Polygon>>& chicago_polygons() {
  static const auto polygons = [] {
    std::vector<std::unique_ptr<S2Polygon>> polygons;
    for (const auto& f : geojson::read_features(chicago_file("chicago_community_areas.geojson"))) {
      std::vector<std::unique_ptr<S2Loop>> loops;
      for (const auto& poly : f.geometry.polygons) {
        for (const auto& ring : poly.rings) {
          std::vector<S2Point> pts;
          for (const auto& pos : ring) {
            S2Point p = S2LatLng::FromDegrees(pos.lat, pos.lon).ToPoint();
            if (pts.empty() || !same_point(pts.back(), p)) pts.push_back(p);
          }
          while (pts.size() > 1 && same_point(pts.front(), pts.back())) pts.pop_back();
          auto loop = std::make_unique<S2Loop>(pts, S2Debug::DISABLE);
          loop->Normalize();
          loops.push_back(std::move(loop));
        }
      }
      auto polygon = std::make_unique<S2Polygon>();
      polygon->InitNested(std::move(loops));
      polygons.push_back(std::move(polygon));
    }
    return polygons;
  }();
  return polygons;
}

TEST(EnricherDistricts, ChicagoMatchesS2PolygonContains) {
  const auto& polygons = chicago_polygons();
  for (const auto& polygon : polygons) ASSERT_TRUE(polygon->IsValid());
  ASSERT_EQ(polygons.size(), 77u);

  std::mt19937_64 rng(20190101);
  std::uniform_real_distribution<double> lat(41.60, 42.05), lon(-87.96, -87.50);
  int inside = 0;
  for (int i = 0; i < 2000; ++i) {
    const double la = lat(rng), lo = lon(rng);
    const S2Point p = S2LatLng::FromDegrees(la, lo).ToPoint();
    int32_t expected = -1;
    for (size_t k = 0; k < polygons.size() && expected < 0; ++k) {
      if (polygons[k]->Contains(p)) expected = static_cast<int32_t>(k);
    }
    ASSERT_EQ(chicago().district_of(la, lo), expected) << la << "," << lo;
    inside += expected >= 0;
  }
  EXPECT_GT(inside, 500);  // the box holds city, lake and suburbs: both answers are exercised
}

TEST(EnricherDistricts, ChicagoAgreesWithCsvCommunityArea) {
  std::ifstream in(chicago_file("chicago_crimes_2019H1.csv"));
  ASSERT_TRUE(in) << "missing " << chicago_file("chicago_crimes_2019H1.csv");
  std::string line;
  std::getline(in, line);
  const auto& names = chicago().district_names();
  std::map<std::string, size_t> by_name;
  for (size_t k = 0; k < names.size(); ++k) by_name[names[k]] = k;
  size_t rows = 0, agree = 0, outside = 0, near_border = 0;
  while (std::getline(in, line)) {
    // ...,Community Area,Latitude,Longitude (earlier columns may hold quoted commas).
    const size_t c3 = line.rfind(',');
    const size_t c2 = line.rfind(',', c3 - 1);
    const size_t c1 = line.rfind(',', c2 - 1);
    ASSERT_NE(c1, std::string::npos);
    if (c3 == c2 + 1) continue;  // no coordinates
    const std::string area = line.substr(c1 + 1, c2 - c1 - 1);
    if (area == "0") continue;  // unknown in the source
    const double la = std::stod(line.substr(c2 + 1, c3 - c2 - 1));
    const double lo = std::stod(line.substr(c3 + 1));
    const int32_t d = chicago().district_of(la, lo);
    ++rows;
    if (d >= 0 && names[static_cast<size_t>(d)] == area) {
      ++agree;
      continue;
    }
    outside += d < 0;
    // The portal moves points to their block, which can land on or just across a border street.
    const auto it = by_name.find(area);
    ASSERT_NE(it, by_name.end()) << area;
    const S2Point p = S2LatLng::FromDegrees(la, lo).ToPoint();
    near_border += S2Earth::ToMeters(chicago_polygons()[it->second]->GetDistance(p)) <= 25.0;
  }
  const double rate = static_cast<double>(agree) / static_cast<double>(rows);
  const double rate_25m = static_cast<double>(agree + near_border) / static_cast<double>(rows);
  std::cout << "[ figures  ] Chicago CSV rows with coordinates: " << rows
            << "; district_of agrees with "
            << "Community Area for " << agree << " (" << rate * 100 << "%); " << near_border
            << " more lie within 25 m of their area (" << rate_25m * 100
            << "% in all); in no polygon: " << outside << "\n";
  RecordProperty("csv_agreement_percent", std::to_string(rate * 100));
  EXPECT_GT(rows, 120'000u);
  EXPECT_GE(rate, 0.97);
  EXPECT_GE(rate_25m, 0.995);
}

// ---------------------------------------------------------------- sites

TEST(EnricherSites, KindsNamesAndFallbacks) {
  const auto e = Enricher::build(fixture_city(), CellsConfig{});
  const auto& sites = e->sites();
  ASSERT_EQ(sites.size(), 5u);  // Point, MultiPoint (2), Point, and the hospital
  EXPECT_EQ(sites[0].kind, "school");
  EXPECT_EQ(sites[0].name, "North School");
  EXPECT_DOUBLE_EQ(sites[0].lat, 0.9);
  EXPECT_DOUBLE_EQ(sites[0].lon, 0.5);
  EXPECT_EQ(sites[1].name, "Twin Campus");
  EXPECT_EQ(sites[2].name, "Twin Campus");
  EXPECT_DOUBLE_EQ(sites[2].lon, 4.5);
  EXPECT_EQ(sites[4].kind, "hospitals");  // no "kind": the file's stem
  EXPECT_EQ(sites[4].name, "hospitals#0");

  // Two sites at one point: the lower index answers.
  const auto at_school = e->nearest_site(0.9, 0.5);
  EXPECT_EQ(at_school.site, 0);
  EXPECT_NEAR(at_school.distance_m, 0.0, 1e-6);
  EXPECT_EQ(e->nearest_site(0.5, 4.4).site, 2);
  EXPECT_EQ(e->nearest_site(0.5, -0.4).site, 4);
  const auto far =
      e->nearest_site(-45.0, 170.0);  // far outside the site table: lon 4.5 is nearer than 2.5
  EXPECT_EQ(far.site, 2);
  EXPECT_NEAR(far.distance_m, haversine_m(-45.0, 170.0, 0.5, 4.5), 0.5);
}

/// Nearest site against brute-force haversine over `sites`, at `n` points drawn in the box.
void expect_nearest_matches(const Enricher& e, std::mt19937_64& rng, int n, double lat0,
                            double lat1, double lon0, double lon1) {
  const auto& sites = e.sites();
  std::uniform_real_distribution<double> lat(lat0, lat1), lon(lon0, lon1);
  for (int i = 0; i < n; ++i) {
    const double la = lat(rng), lo = lon(rng);
    double best = kInf;
    for (const auto& s : sites) best = std::min(best, haversine_m(la, lo, s.lat, s.lon));
    const Enricher::Nearest got = e.nearest_site(la, lo);
    ASSERT_GE(got.site, 0);
    ASSERT_NEAR(got.distance_m, best, 0.5) << la << "," << lo;
    const auto& s = sites[static_cast<size_t>(got.site)];
    ASSERT_NEAR(haversine_m(la, lo, s.lat, s.lon), best, 0.5) << la << "," << lo;
  }
}

TEST(EnricherSites, ChicagoNearestMatchesBruteForce) {
  ASSERT_EQ(chicago().sites().size(), 566u);
  std::mt19937_64 rng(566);
  expect_nearest_matches(chicago(), rng, 3000, 41.60, 42.05, -87.96, -87.50);  // the city
  expect_nearest_matches(chicago(), rng, 300, 40.5, 43.0, -89.0, -86.5);       // around it
  expect_nearest_matches(chicago(), rng, 100, -90.0, 90.0, -180.0, 180.0);     // anywhere
}

TEST(EnricherSites, ClusteredSitesMatchBruteForce) {
  // Many sites close together, some repeated: stresses the candidate pruning.
  const std::string path = testing::TempDir() + "clustered_sites.geojson";
  {
    std::ofstream out(path);
    std::mt19937_64 rng(7);
    std::normal_distribution<double> d(0.0, 0.01);
    out << R"({"type":"FeatureCollection","features":[)";
    for (int i = 0; i < 400; ++i) {
      const double lat = 48.85 + d(rng) * (i % 3 == 0 ? 0.01 : 1.0), lon = 2.35 + d(rng);
      out << (i ? "," : "")
          << R"({"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[)"
          << lon << "," << lat << "]}}";
      if (i % 50 == 0) {
        out << R"(,{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[)"
            << lon << "," << lat << "]}}";
      }
    }
    out << "]}";
  }
  CityConfig city;
  city.sensitive_sites = {path};
  const auto e = Enricher::build(city, CellsConfig{});
  std::mt19937_64 rng(8);
  expect_nearest_matches(*e, rng, 3000, 48.80, 48.90, 2.30, 2.40);
  expect_nearest_matches(*e, rng, 200, 47.0, 50.0, 0.0, 5.0);
}

TEST(EnricherSites, BoundsExtendTheTable) {
  CityConfig city = chicago_city();
  city.bounds = {41.0, -89.0, 43.0, -86.0};
  const auto e = Enricher::build(city, CellsConfig{});
  EXPECT_GT(e->stats().site_cells, chicago().stats().site_cells);
  std::mt19937_64 rng(9);
  expect_nearest_matches(*e, rng, 300, 41.0, 43.0, -89.0, -86.0);
}

// ---------------------------------------------------------------- errors

TEST(EnricherErrors, NameTheFile) {
  CityConfig city;
  city.districts = geo_file("missing.geojson");
  EXPECT_EQ(build_error(city), geo_file("missing.geojson: no such file"));

  city.districts = geo_file("not_json.geojson");
  EXPECT_THAT(build_error(city), HasSubstr(geo_file("not_json.geojson: not valid JSON")));

  city.districts = geo_file("line_district.geojson");
  EXPECT_EQ(build_error(city),
            geo_file("line_district.geojson: features[1]: geometry is LineString, "
                     "expected Polygon or MultiPolygon"));

  city.districts = "";
  city.sensitive_sites = {geo_file("schools.geojson"), geo_file("bad_latitude.geojson")};
  EXPECT_EQ(build_error(city), geo_file("bad_latitude.geojson: features[0].geometry.coordinates: "
                                        "latitude 200 is outside [-90, 90]"));

  city.sensitive_sites = {geo_file("districts.geojson")};
  EXPECT_EQ(
      build_error(city),
      geo_file(
          "districts.geojson: features[0]: geometry is Polygon, expected Point or MultiPoint"));

  city.sensitive_sites = {geo_file("nowhere.geojson")};
  EXPECT_EQ(build_error(city), geo_file("nowhere.geojson: no such file"));
}

TEST(EnricherErrors, DegeneratePolygon) {
  const std::string path = testing::TempDir() + "degenerate.geojson";
  std::ofstream(path) << R"({"type":"Polygon","coordinates":[[[1,1],[1,1],[2,2],[1,1]]]})";
  CityConfig city;
  city.districts = path;
  EXPECT_EQ(build_error(city),
            path + ": features[0]: polygon has no area (fewer than 3 distinct vertices)");
}

TEST(EnricherErrors, InvalidPolygons) {
  CityConfig city;
  city.districts = geo_file("bowtie.geojson");
  EXPECT_THAT(build_error(city),
              HasSubstr(geo_file("bowtie.geojson: features[1]: geometry.coordinates[1][0]: "
                                 "invalid ring: Edge 0 crosses edge 2")));
  city.districts = geo_file("shared_edge_rings.geojson");
  EXPECT_THAT(build_error(city),
              HasSubstr(geo_file("shared_edge_rings.geojson: features[0]: invalid polygon: ")));
  // Found by fuzz/geojson_fuzz.cpp: rings that cross and share edges made libs2 abort.
  city.districts = geo_file("fuzz_crossing_rings.geojson");
  EXPECT_THAT(build_error(city),
              HasSubstr("fuzz_crossing_rings.geojson: features[0]: geometry.coordinates[1]: "
                        "invalid ring: "));
}

TEST(EnricherErrors, UnknownTimeZoneAndBadLevels) {
  CityConfig city;
  city.time_zone = "Mars/Olympus_Mons";
  EXPECT_EQ(build_error(city), "city.time_zone: unknown time zone \"Mars/Olympus_Mons\"");
  EXPECT_THAT(build_error(CityConfig{}, CellsConfig{31, 10}), HasSubstr("cells.fine_level: 31"));
  EXPECT_THAT(build_error(CityConfig{}, CellsConfig{14, -1}), HasSubstr("cells.coarse_level: -1"));
}

// ---------------------------------------------------------------- local time

TEST(EnricherTime, ChicagoDstTransitions) {
  CityConfig city;
  city.time_zone = "America/Chicago";
  const auto e = Enricher::build(city, CellsConfig{});
  struct Case {
    const char* utc;
    int hour, weekday;
  };
  const Case cases[] = {
      // Spring forward, Sunday 2019-03-10: 02:00 CST becomes 03:00 CDT (08:00 UTC).
      {"2019-03-10T05:59:59Z", 23, 5},  // Saturday 23:59:59 CST
      {"2019-03-10T06:00:00Z", 0, 6},
      {"2019-03-10T07:59:59Z", 1, 6},
      {"2019-03-10T08:00:00Z", 3, 6},
      {"2019-03-10T09:30:00Z", 4, 6},
      // Fall back, Sunday 2019-11-03: 02:00 CDT becomes 01:00 CST (07:00 UTC); 01:xx happens twice.
      {"2019-11-03T04:59:59Z", 23, 5},
      {"2019-11-03T05:00:00Z", 0, 6},
      {"2019-11-03T06:59:59Z", 1, 6},
      {"2019-11-03T07:00:00Z", 1, 6},
      {"2019-11-03T07:59:59Z", 1, 6},
      {"2019-11-03T08:00:00Z", 2, 6},
      {"2019-11-04T06:00:00Z", 0, 0},  // Monday midnight CST
      {"1969-12-31T12:00:00Z", 6, 2},  // before the epoch: Wednesday
  };
  for (const Case& c : cases) {
    const auto lt = e->local_time(at(c.utc));
    EXPECT_EQ(lt.hour, c.hour) << c.utc;
    EXPECT_EQ(lt.weekday, c.weekday) << c.utc;
  }
}

TEST(EnricherTime, ExtremeTimesStayInRange) {
  CityConfig city;
  city.time_zone = "America/Chicago";
  const auto e = Enricher::build(city, CellsConfig{});
  for (EventTime t : {kMinEventTime, kMaxEventTime, event_time_from_ms(INT64_MIN),
                      event_time_from_ms(INT64_MAX)}) {
    const auto lt = e->local_time(t);
    EXPECT_LT(lt.hour, 24);
    EXPECT_LT(lt.weekday, 7);
  }
}

TEST(EnricherTime, MatchesCctzEverywhere) {
  for (const char* zone :
       {"UTC", "America/Chicago", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
        "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham"}) {
    CityConfig city;
    city.time_zone = zone;
    const auto e = Enricher::build(city, CellsConfig{});
    cctz::time_zone tz;
    ASSERT_TRUE(cctz::load_time_zone(zone, &tz));
    std::mt19937_64 rng(42);
    // 1700..2400: inside and outside the offset table, negative times included.
    std::uniform_int_distribution<int64_t> ms(-8'520'000'000'000, 13'569'000'000'000);
    for (int i = 0; i < 20'000; ++i) {
      const int64_t t = ms(rng);
      const auto cs = cctz::convert(
          cctz::time_point<cctz::seconds>(cctz::seconds(t >= 0 ? t / 1000 : -((-t + 999) / 1000))),
          tz);
      const auto lt = e->local_time(event_time_from_ms(t));
      ASSERT_EQ(lt.hour, cs.hour()) << zone << " " << t;
      ASSERT_EQ(lt.weekday, static_cast<int>(cctz::get_weekday(cctz::civil_day(cs))))
          << zone << " " << t;
    }
  }
}

// ---------------------------------------------------------------- enrich

TEST(EnricherEnrich, CellsMatchS2) {
  const auto e = Enricher::build(CityConfig{}, CellsConfig{});
  const S2CellId leaf(S2LatLng::FromDegrees(41.8781, -87.6298));
  EXPECT_EQ(e->fine_cell(41.8781, -87.6298), leaf.parent(14).id());
  EXPECT_EQ(e->coarse_cell(41.8781, -87.6298), leaf.parent(10).id());
  EXPECT_EQ(Enricher::cell_token(leaf.parent(14).id()), leaf.parent(14).ToToken());
  EXPECT_EQ(Enricher::cell_token(0), "X");

  const auto custom = Enricher::build(CityConfig{}, CellsConfig{16, 8});
  EXPECT_EQ(custom->fine_cell(41.8781, -87.6298), leaf.parent(16).id());
  EXPECT_EQ(custom->coarse_cell(41.8781, -87.6298), leaf.parent(8).id());
  EXPECT_EQ(custom->fine_cell(91.0, 0.0), 0u);
}

Event located(double lat, double lon, const char* time) {
  Event ev;
  ev.lat = lat;
  ev.lon = lon;
  ev.has_location = true;
  ev.time = at(time);
  return ev;
}

TEST(EnricherEnrich, FillsEveryField) {
  Event ev = located(41.8781, -87.6298, "2019-03-10T08:00:00Z");
  chicago().enrich(ev, false);
  const Enrichment& r = ev.enrich;
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.degraded);
  EXPECT_EQ(r.fine_cell, chicago().fine_cell(41.8781, -87.6298));
  EXPECT_EQ(r.coarse_cell, chicago().coarse_cell(41.8781, -87.6298));
  ASSERT_GE(r.district, 0);
  EXPECT_EQ(chicago().district_names()[static_cast<size_t>(r.district)], "32");  // the Loop
  EXPECT_FLOAT_EQ(r.site_distance_m,
                  static_cast<float>(chicago().nearest_site(41.8781, -87.6298).distance_m));
  EXPECT_LT(r.site_distance_m, 2000.0f);
  EXPECT_EQ(r.local_hour, 3);
  EXPECT_EQ(r.local_weekday, 6);
}

TEST(EnricherEnrich, WithoutLocationOnlyTime) {
  Event ev;
  ev.time = at("2019-11-03T07:30:00Z");
  ev.enrich.district = 5;  // stale values are overwritten
  ev.enrich.fine_cell = 99;
  chicago().enrich(ev, false);
  EXPECT_TRUE(ev.enrich.done);
  EXPECT_EQ(ev.enrich.fine_cell, 0u);
  EXPECT_EQ(ev.enrich.coarse_cell, 0u);
  EXPECT_EQ(ev.enrich.district, Enrichment::kNoDistrict);
  EXPECT_EQ(ev.enrich.site_distance_m, std::numeric_limits<float>::infinity());
  EXPECT_EQ(ev.enrich.local_hour, 1);
  EXPECT_EQ(ev.enrich.local_weekday, 6);

  Event bad = located(std::nan(""), 1e300, "2019-11-03T07:30:00Z");  // never crashes on garbage
  chicago().enrich(bad, false);
  EXPECT_EQ(bad.enrich.fine_cell, 0u);
  EXPECT_EQ(bad.enrich.district, Enrichment::kNoDistrict);
}

TEST(EnricherEnrich, CheapOnlySkipsCostlyLookups) {
  Event ev = located(41.8781, -87.6298, "2019-03-10T08:00:00Z");
  chicago().enrich(ev, true);
  EXPECT_TRUE(ev.enrich.done);
  EXPECT_TRUE(ev.enrich.degraded);
  EXPECT_EQ(ev.enrich.fine_cell, chicago().fine_cell(41.8781, -87.6298));
  EXPECT_EQ(ev.enrich.coarse_cell, chicago().coarse_cell(41.8781, -87.6298));
  EXPECT_EQ(ev.enrich.district, Enrichment::kNoDistrict);
  EXPECT_EQ(ev.enrich.site_distance_m, std::numeric_limits<float>::infinity());
  EXPECT_EQ(ev.enrich.local_hour, 3);
  chicago().enrich(ev, false);  // breaker closed again
  EXPECT_FALSE(ev.enrich.degraded);
  EXPECT_GE(ev.enrich.district, 0);
}

std::vector<Event> random_events(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(41.60, 42.05), lon(-87.96, -87.50);
  std::uniform_int_distribution<int64_t> ms(1'546'300'800'000, 1'577'836'800'000);
  std::vector<Event> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].lat = lat(rng);
    out[i].lon = lon(rng);
    out[i].has_location = i % 7 != 0;
    out[i].time = event_time_from_ms(ms(rng));
  }
  return out;
}

void expect_same(const Enrichment& a, const Enrichment& b) {
  EXPECT_EQ(a.fine_cell, b.fine_cell);
  EXPECT_EQ(a.coarse_cell, b.coarse_cell);
  EXPECT_EQ(a.district, b.district);
  EXPECT_EQ(a.site_distance_m, b.site_distance_m);
  EXPECT_EQ(a.local_hour, b.local_hour);
  EXPECT_EQ(a.local_weekday, b.local_weekday);
  EXPECT_EQ(a.degraded, b.degraded);
  EXPECT_EQ(a.done, b.done);
}

TEST(EnricherEnrich, BatchEqualsSingle) {
  std::vector<Event> batch = random_events(500, 1);
  std::vector<Event> single = batch;
  chicago().enrich_batch(batch, false);
  for (size_t i = 0; i < single.size(); ++i) {
    chicago().enrich(single[i], false);
    expect_same(batch[i].enrich, single[i].enrich);
    const int32_t district =
        batch[i].has_location ? chicago().district_of(batch[i].lat, batch[i].lon) : -1;
    EXPECT_EQ(batch[i].enrich.district, district);
  }
}

TEST(EnricherEnrich, ConcurrentCallersAgree) {
  const std::vector<Event> input = random_events(4000, 2);
  std::vector<Event> expected = input;
  chicago().enrich_batch(expected, false);
  std::vector<std::vector<Event>> outputs(4, input);
  std::vector<std::thread> threads;
  threads.reserve(outputs.size());
  for (auto& out : outputs) {
    threads.emplace_back([&out] {
      for (size_t i = 0; i < out.size(); i += 64) {
        chicago().enrich_batch(
            std::span<Event>(out).subspan(i, std::min<size_t>(64, out.size() - i)), false);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : outputs) {
    for (size_t i = 0; i < out.size(); ++i) expect_same(out[i].enrich, expected[i].enrich);
  }
}

}  // namespace enrichment_test
}  // namespace sentinel
