// GeoJSON to S2, shared by the stages that read polygon and point files
// (districts and sites in enrichment, geofences), so both read the same file
// the same way. Internal to src/detect: it exposes S2 types, so include it
// only from .cpp files.
#pragma once

#include <s2/s2point.h>
#include <s2/s2polygon.h>

#include <string>
#include <vector>

#include "detect/geojson.h"

namespace sentinel::s2shapes {

/// True for a latitude in [-90, 90] and a longitude in [-180, 180] (NaN fails).
bool valid_lat_lon(double lat, double lon);
S2Point to_point(double lat, double lon);
/// Exact equality (S2's Vector3::operator== is ambiguous under C++20's
/// reversed-operator rules).
bool same_point(const S2Point& a, const S2Point& b);
/// S2 points of a GeoJSON ring without the closing position or repeated
/// vertices (S2 loops are implicitly closed and must not repeat a vertex).
std::vector<S2Point> ring_points(const std::vector<geojson::Position>& ring);
/// One (Multi)Polygon geometry as an S2Polygon. Each ring becomes a loop
/// around its smaller side whatever its winding (GeoJSON files use both), and
/// InitNested tells shells from holes by containment. Rings and the polygon
/// are checked first: S2 assumes valid input, and Debian's libs2 aborts on
/// some invalid shapes (a ring sharing an edge with another). Returns "" or
/// why the geometry is unusable.
std::string build_polygon(const geojson::Geometry& g, S2Polygon& out);

}  // namespace sentinel::s2shapes
