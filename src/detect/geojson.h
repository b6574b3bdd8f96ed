// A small GeoJSON (RFC 7946) reader for configuration files: district
// polygons, sensitive sites, geofences. Cold path (start-up only), so it uses
// nlohmann/json and returns plain vectors.
//
// What it checks: the text is JSON; the top level is a FeatureCollection, a
// Feature or a bare geometry; every geometry type is a known GeoJSON type;
// every position is an array of at least two finite numbers with longitude in
// [-180, 180] and latitude in [-90, 90]; every polygon ring has at least
// three positions. Which geometry types a caller accepts is the caller's
// business (see Geometry::kind). Errors are ConfigError with one line:
// "<origin>: features[<i>]...: <reason>".
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::geojson {

/// One position, WGS84 degrees (GeoJSON order is lon, lat; any altitude is dropped).
struct Position {
  double lon = 0;
  double lat = 0;
  bool operator==(const Position&) const = default;
};

/// rings[0] is the exterior ring, the rest are holes, as in GeoJSON. Rings
/// are kept as written (closing position included, any orientation).
struct Polygon {
  std::vector<std::vector<Position>> rings;
};

enum class GeometryKind {
  kNone,  ///< "geometry": null (an unlocated feature)
  kPoint,
  kMultiPoint,
  kLineString,
  kMultiLineString,
  kPolygon,
  kMultiPolygon,
  kGeometryCollection,  ///< recognised but its members are not read
};

/// The GeoJSON spelling of a kind ("MultiPolygon"; "null" for kNone).
std::string_view geometry_kind_name(GeometryKind kind);

struct Geometry {
  GeometryKind kind = GeometryKind::kNone;
  /// Point, MultiPoint: the points; LineString, MultiLineString: every vertex.
  std::vector<Position> points;
  /// Polygon: one entry; MultiPolygon: one per member polygon.
  std::vector<Polygon> polygons;
};

struct Feature {
  Geometry geometry;
  /// Properties as text: strings as they are, numbers and booleans as JSON
  /// text ("35", "true"), objects and arrays as compact JSON; nulls omitted.
  std::map<std::string, std::string, std::less<>> properties;

  /// The property's text, or nullptr when absent.
  const std::string* property(std::string_view key) const;
};

/// Parses GeoJSON text. `origin` names the text in errors (usually the file
/// path). Throws ConfigError.
std::vector<Feature> parse_features(std::string_view text, const std::string& origin);

/// Reads and parses a file. Throws ConfigError naming the file when it
/// cannot be read or is not valid GeoJSON.
std::vector<Feature> read_features(const std::string& path);

}  // namespace sentinel::geojson
