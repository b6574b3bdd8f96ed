// The plain-S2 baseline the enrichment and geofence benchmarks compare
// against: every polygon of a GeoJSON file as an S2LaxPolygonShape in one
// MutableS2ShapeIndex (rings oriented shells CCW, holes CW, as lax polygons
// expect), without the tables and checks Sentinel adds.
#pragma once

#include <s2/mutable_s2shape_index.h>
#include <s2/s2lax_polygon_shape.h>
#include <s2/s2loop_measures.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "detect/geojson.h"
#include "detect/s2_shapes.h"

namespace sentinel::bench {

inline std::unique_ptr<MutableS2ShapeIndex> plain_polygon_index(const std::string& geojson_path) {
  auto index = std::make_unique<MutableS2ShapeIndex>();
  for (const auto& f : geojson::read_features(geojson_path)) {
    std::vector<std::vector<S2Point>> loops;
    for (const auto& poly : f.geometry.polygons) {
      for (size_t r = 0; r < poly.rings.size(); ++r) {
        std::vector<S2Point> loop = s2shapes::ring_points(poly.rings[r]);
        if (!S2::IsNormalized(S2PointLoopSpan(loop))) std::reverse(loop.begin(), loop.end());
        if (r > 0) std::reverse(loop.begin(), loop.end());
        loops.push_back(std::move(loop));
      }
    }
    index->Add(std::make_unique<S2LaxPolygonShape>(loops));
  }
  index->ForceBuild();
  return index;
}

}  // namespace sentinel::bench
