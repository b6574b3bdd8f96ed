// GeofenceIndex::match cost on real Chicago data: 566 school points and 77
// community-area polygons, queried at points sampled from the 2019 H1 crime
// CSV (events land where crimes do, so the mix of hits and misses is real).
//
//   build/release/bench/geofence_bench [--benchmark_filter=...]
//
// The BM_S2* baselines justify the choices in src/detect/geofence.cpp:
// constructing an S2ContainsPointQuery per call (thread safety) against
// reusing one, and an S2ClosestPointQuery radius test (per call, and reused
// as a thread_local would) against the S2CellIndex of site caps match() uses.
#include <benchmark/benchmark.h>

#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <s2/mutable_s2shape_index.h>
#include <s2/s2closest_point_query.h>
#include <s2/s2contains_point_query.h>
#include <s2/s2earth.h>
#include <s2/s2latlng.h>
#include <s2/s2lax_polygon_shape.h>
#include <s2/s2loop_measures.h>
#include <s2/s2point_index.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "detect/geofence.h"
#include "detect/geojson.h"
#include "s2_baseline.h"

namespace sentinel::detect {
namespace {

const std::string kData = SENTINEL_SOURCE_DIR "/examples/data/chicago";
const std::string kSchools = kData + "/chicago_public_schools_2011.geojson";
const std::string kAreas = kData + "/chicago_community_areas.geojson";
constexpr double kRadiusM = 200;
constexpr uint64_t kAll = ~uint64_t{0};

struct Point {
  double lat, lon;
};

/// Every 30th CSV row with coordinates (~4,200 points over the half-year and every area).
const std::vector<Point>& points() {
  static const std::vector<Point> sample = [] {
    std::ifstream in(kData + "/chicago_crimes_2019H1.csv");
    if (!in) {
      std::fprintf(stderr, "cannot open %s/chicago_crimes_2019H1.csv\n", kData.c_str());
      std::exit(1);
    }
    std::vector<Point> out;
    std::string line;
    std::getline(in, line);  // header
    for (size_t row = 0; std::getline(in, line); ++row) {
      if (row % 30 != 0) continue;
      // The last two columns are Latitude, Longitude (earlier columns may hold quoted commas).
      const size_t c2 = line.rfind(',');
      const size_t c1 = line.rfind(',', c2 - 1);
      if (c1 == std::string::npos || c2 == c1 + 1 || c2 + 1 >= line.size()) continue;
      out.push_back(
          Point{std::stod(line.substr(c1 + 1, c2 - c1 - 1)), std::stod(line.substr(c2 + 1))});
    }
    return out;
  }();
  return sample;
}

std::vector<S2Point> s2_points() {
  std::vector<S2Point> out;
  for (const Point& p : points()) out.push_back(S2LatLng::FromDegrees(p.lat, p.lon).ToPoint());
  return out;
}

GeofenceRuleConfig schools_rule(int i, double radius_m) {
  GeofenceRuleConfig r;
  r.name = "schools" + std::to_string(i);
  r.sites = kSchools;
  r.radius_m = radius_m;
  return r;
}

GeofenceRuleConfig areas_rule() {
  GeofenceRuleConfig r;
  r.name = "areas";
  r.polygons = kAreas;
  return r;
}

void run_match(benchmark::State& state, const GeofenceIndex& g) {
  const auto& pts = points();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    const uint64_t m = g.match(pts[i].lat, pts[i].lon, kAll);
    benchmark::DoNotOptimize(m);
    hits += m != 0;
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_rate"] =
      static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

/// The brief's figure: 4 radius rules (200 m) over the schools, every rule a candidate.
void BM_MatchSchools4x200m(benchmark::State& state) {
  static const auto g = GeofenceIndex::build(
      {schools_rule(0, kRadiusM), schools_rule(1, kRadiusM), schools_rule(2, kRadiusM),
       schools_rule(3, kRadiusM)});
  run_match(state, *g);
}
BENCHMARK(BM_MatchSchools4x200m);

void BM_MatchSchools1x200m(benchmark::State& state) {
  static const auto g = GeofenceIndex::build({schools_rule(0, kRadiusM)});
  run_match(state, *g);
}
BENCHMARK(BM_MatchSchools1x200m);

void BM_MatchAreas(benchmark::State& state) {
  static const auto g = GeofenceIndex::build({areas_rule()});
  run_match(state, *g);
}
BENCHMARK(BM_MatchAreas);

void BM_MatchMixed(benchmark::State& state) {
  static const auto g = GeofenceIndex::build(
      {areas_rule(), schools_rule(0, kRadiusM), schools_rule(1, 1000), schools_rule(2, 50)});
  run_match(state, *g);
}
BENCHMARK(BM_MatchMixed);

void BM_Describe(benchmark::State& state) {
  static const auto g = GeofenceIndex::build({schools_rule(0, kRadiusM)});
  std::vector<Point> inside;
  for (const Point& p : points())
    if (g->match(p.lat, p.lon, kAll) != 0) inside.push_back(p);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g->describe(0, inside[i].lat, inside[i].lon));
    if (++i == inside.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Describe);

// ---- Baselines: plain S2 on the same data. ----

const MutableS2ShapeIndex& areas_index() {
  static const std::unique_ptr<MutableS2ShapeIndex> index = bench::plain_polygon_index(kAreas);
  return *index;
}

void BM_S2ContainsQueryPerCall(benchmark::State& state) {
  const MutableS2ShapeIndex& index = areas_index();
  const std::vector<S2Point> pts = s2_points();
  size_t i = 0;
  for (auto _ : state) {
    S2ContainsPointQuery<MutableS2ShapeIndex> query(&index);
    benchmark::DoNotOptimize(query.Contains(pts[i]));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ContainsQueryPerCall);

void BM_S2ContainsQueryReused(benchmark::State& state) {
  const MutableS2ShapeIndex& index = areas_index();
  const std::vector<S2Point> pts = s2_points();
  S2ContainsPointQuery<MutableS2ShapeIndex> query(&index);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(query.Contains(pts[i]));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ContainsQueryReused);

const S2PointIndex<int>& schools_index() {
  static const auto index = [] {
    auto out = std::make_unique<S2PointIndex<int>>();
    int id = 0;
    for (const auto& f : geojson::read_features(kSchools))
      for (const auto& pos : f.geometry.points)
        out->Add(S2LatLng::FromDegrees(pos.lat, pos.lon).ToPoint(), id++);
    return out;
  }();
  return *index;
}

/// One radius rule by S2ClosestPointQuery, the query built per call.
void BM_S2ClosestPointRadiusPerCall(benchmark::State& state) {
  const S2PointIndex<int>& index = schools_index();
  const std::vector<S2Point> pts = s2_points();
  const S1ChordAngle radius = S2Earth::MetersToChordAngle(kRadiusM);
  size_t i = 0;
  for (auto _ : state) {
    S2ClosestPointQuery<int> query(&index);
    query.mutable_options()->set_inclusive_max_distance(radius);
    S2ClosestPointQuery<int>::PointTarget target(pts[i]);
    benchmark::DoNotOptimize(query.FindClosestPoint(&target));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ClosestPointRadiusPerCall);

/// The same with one query reused, as a thread_local would be.
void BM_S2ClosestPointRadiusReused(benchmark::State& state) {
  const S2PointIndex<int>& index = schools_index();
  const std::vector<S2Point> pts = s2_points();
  S2ClosestPointQuery<int> query(&index);
  query.mutable_options()->set_inclusive_max_distance(S2Earth::MetersToChordAngle(kRadiusM));
  size_t i = 0;
  for (auto _ : state) {
    S2ClosestPointQuery<int>::PointTarget target(pts[i]);
    benchmark::DoNotOptimize(query.FindClosestPoint(&target));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ClosestPointRadiusReused);

}  // namespace
}  // namespace sentinel::detect

BENCHMARK_MAIN();
