#include "detect/s2_shapes.h"

#include <s2/s2error.h>
#include <s2/s2latlng.h>
#include <s2/s2loop.h>

#include <memory>

namespace sentinel::s2shapes {

bool valid_lat_lon(double lat, double lon) {
  // Written so that NaN fails every comparison and is rejected.
  return lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0;
}

S2Point to_point(double lat, double lon) { return S2LatLng::FromDegrees(lat, lon).ToPoint(); }

bool same_point(const S2Point& a, const S2Point& b) { return a.x() == b.x() && a.y() == b.y() && a.z() == b.z(); }

std::vector<S2Point> ring_points(const std::vector<geojson::Position>& ring) {
  std::vector<S2Point> points;
  points.reserve(ring.size());
  for (const auto& pos : ring) {
    S2Point p = to_point(pos.lat, pos.lon);
    if (points.empty() || !same_point(points.back(), p)) points.push_back(p);
  }
  while (points.size() > 1 && same_point(points.front(), points.back())) points.pop_back();
  return points;
}

std::string build_polygon(const geojson::Geometry& g, S2Polygon& out) {
  std::vector<std::unique_ptr<S2Loop>> loops;
  for (size_t p = 0; p < g.polygons.size(); ++p) {
    const auto& rings = g.polygons[p].rings;
    for (size_t r = 0; r < rings.size(); ++r) {
      std::vector<S2Point> points = ring_points(rings[r]);
      if (points.size() < 3) {
        if (r == 0) break;  // a degenerate exterior ring encloses nothing: skip its holes too
        continue;
      }
      auto loop = std::make_unique<S2Loop>(points, S2Debug::DISABLE);
      S2Error error;
      if (loop->FindValidationError(&error)) {
        const std::string ring = g.kind == geojson::GeometryKind::kMultiPolygon
                                     ? std::to_string(p) + "][" + std::to_string(r)
                                     : std::to_string(r);
        return "geometry.coordinates[" + ring + "]: invalid ring: " + error.text();
      }
      loop->Normalize();
      loops.push_back(std::move(loop));
    }
  }
  if (loops.empty()) return "polygon has no area (fewer than 3 distinct vertices)";
  out.set_s2debug_override(S2Debug::DISABLE);
  out.InitNested(std::move(loops));
  S2Error error;
  if (out.FindValidationError(&error)) return "invalid polygon: " + error.text();
  return "";
}

}  // namespace sentinel::s2shapes
