#include "detect/geojson.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/config.h"

namespace sentinel::geojson {
namespace geojson_test {

using ::testing::HasSubstr;

std::string geo_file(const std::string& name) {
  return SENTINEL_SOURCE_DIR "/tests/data/geo/" + name;
}

/// The ConfigError message thrown by parse_features, or "" when it parses.
std::string parse_error(const std::string& text) {
  try {
    parse_features(text, "mem.geojson");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(GeoJson, ReadsFeatureCollection) {
  const std::vector<Feature> fs = read_features(geo_file("districts.geojson"));
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(fs[0].geometry.kind, GeometryKind::kPolygon);
  ASSERT_EQ(fs[0].geometry.polygons.size(), 1u);
  ASSERT_EQ(fs[0].geometry.polygons[0].rings.size(), 2u);
  EXPECT_EQ(fs[0].geometry.polygons[0].rings[0].size(), 5u);  // closing position kept
  EXPECT_EQ(fs[0].geometry.polygons[0].rings[1][1], (Position{0.4, 0.6}));
  EXPECT_EQ(fs[2].geometry.kind, GeometryKind::kMultiPolygon);
  EXPECT_EQ(fs[2].geometry.polygons.size(), 2u);
  EXPECT_EQ(fs[2].geometry.polygons[1].rings.size(), 2u);
  ASSERT_NE(fs[0].property("name"), nullptr);
  EXPECT_EQ(*fs[0].property("name"), "Holed");
  EXPECT_EQ(fs[0].property("community"), nullptr);
  EXPECT_EQ(*fs[3].property("area"), "12.5");  // numbers become their JSON text
}

TEST(GeoJson, ReadsPointsAndOtherTopLevels) {
  const auto fs = parse_features(
      R"({"type":"Feature","properties":{"n":3,"ok":true,"none":null,"tags":["a"]},
          "geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4,100]]}})",
      "mem");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].geometry.kind, GeometryKind::kMultiPoint);
  ASSERT_EQ(fs[0].geometry.points.size(), 2u);
  EXPECT_EQ(fs[0].geometry.points[1], (Position{3, 4}));  // altitude dropped
  EXPECT_EQ(*fs[0].property("n"), "3");
  EXPECT_EQ(*fs[0].property("ok"), "true");
  EXPECT_EQ(*fs[0].property("tags"), R"(["a"])");
  EXPECT_EQ(fs[0].property("none"), nullptr);

  const auto bare = parse_features(R"({"type":"Point","coordinates":[-87.6,41.8]})", "mem");
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].geometry.points[0], (Position{-87.6, 41.8}));

  const auto unlocated =
      parse_features(R"({"type":"Feature","geometry":null,"properties":null})", "mem");
  EXPECT_EQ(unlocated[0].geometry.kind, GeometryKind::kNone);

  const auto lines = parse_features(
      R"({"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3],[4,4]]]})", "mem");
  EXPECT_EQ(lines[0].geometry.kind, GeometryKind::kMultiLineString);
  EXPECT_EQ(lines[0].geometry.points.size(), 5u);
  EXPECT_EQ(geometry_kind_name(lines[0].geometry.kind), "MultiLineString");
}

TEST(GeoJson, ErrorsNameTheFileAndThePlace) {
  EXPECT_THAT(parse_error("{ not json"), HasSubstr("mem.geojson: not valid JSON: "));
  EXPECT_THAT(
      parse_error(R"({"type":"Point","coordinates":[1e999, 0]})"),
      HasSubstr("mem.geojson: not valid JSON: number overflow"));  // found by fuzz/geojson_fuzz.cpp
  EXPECT_THAT(parse_error("[1, 2]"), HasSubstr("mem.geojson: GeoJSON must be an object"));
  EXPECT_THAT(parse_error(R"({"type":"FeatureCollection"})"),
              HasSubstr("needs a \"features\" array"));
  EXPECT_THAT(parse_error(R"({"type":"FeatureCollection","features":[{"type":"Feature",
      "geometry":{"type":"Circle","coordinates":[0,0]}}]})"),
              HasSubstr("mem.geojson: features[0].geometry: unknown geometry type \"Circle\""));
  EXPECT_THAT(
      parse_error(R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":null},
      {"type":"Feature","geometry":{"type":"Point","coordinates":[10, 95]}}]})"),
      HasSubstr("mem.geojson: features[1].geometry.coordinates: latitude 95 is outside [-90, 90]"));
  EXPECT_THAT(parse_error(R"({"type":"Point","coordinates":[181, 0]})"),
              HasSubstr("longitude 181 is outside [-180, 180]"));
  EXPECT_THAT(parse_error(R"({"type":"Point","coordinates":["1", 0]})"),
              HasSubstr("must be numbers"));
  EXPECT_THAT(parse_error(R"({"type":"Point","coordinates":[1]})"), HasSubstr("array [lon, lat]"));
  EXPECT_THAT(parse_error(R"({"type":"Polygon","coordinates":[[[0,0],[1,1]]]})"),
              HasSubstr("geometry.coordinates[0]: a ring needs at least 3 positions"));
  EXPECT_THAT(parse_error(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],
      [[[0,0],[1,0],[1,1],[0,-91]]]]})"),
              HasSubstr("geometry.coordinates[1][0][3]: latitude -91"));
  EXPECT_THAT(parse_error(R"({"type":"Polygon"})"), HasSubstr("Polygon needs \"coordinates\""));
  EXPECT_THAT(parse_error(R"({"type":"FeatureCollection","features":[{"type":"Thing"}]})"),
              HasSubstr("features[0]: \"type\" must be \"Feature\""));
  EXPECT_THAT(parse_error(R"({"type":"Feature","properties":[1],"geometry":null})"),
              HasSubstr("feature.properties: must be an object or null"));
}

TEST(GeoJson, FileErrors) {
  try {
    read_features(geo_file("no_such_file.geojson"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), geo_file("no_such_file.geojson: no such file"));
  }
  try {
    read_features(geo_file("not_json.geojson"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(geo_file("not_json.geojson: not valid JSON: ")));
  }
  try {
    read_features(geo_file(""));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory"));
  }
}

}  // namespace geojson_test
}  // namespace sentinel::geojson
