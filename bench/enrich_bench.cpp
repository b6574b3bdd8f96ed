// Enrichment cost per event on real Chicago data: 77 community-area
// polygons, 566 school points, and points from the 2019 H1 crime CSV.
//
//   build/release/bench/enrich_bench [--benchmark_filter=...]
//
// BM_S2ContainsPointQuery and BM_S2ClosestPointQuery measure the plain S2
// queries the Enricher's tables stand in for, on the same data: they are
// the reason those tables exist, and should stay slower.
#include <benchmark/benchmark.h>

#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <s2/mutable_s2shape_index.h>
#include <s2/s2closest_point_query.h>
#include <s2/s2contains_point_query.h>
#include <s2/s2latlng.h>
#include <s2/s2lax_polygon_shape.h>
#include <s2/s2loop_measures.h>
#include <s2/s2point_index.h>
#pragma GCC diagnostic pop

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "detect/enrichment.h"
#include "detect/geojson.h"
#include "s2_baseline.h"

namespace sentinel {
namespace {

/// examples/data/chicago of this source tree (bench/CMakeLists.txt defines no
/// source-dir macro; CMake compiles with absolute paths), or $SENTINEL_CHICAGO_DATA.
std::string data_dir() {
  if (const char* env = std::getenv("SENTINEL_CHICAGO_DATA")) return env;
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "examples/data/chicago")
      .string();
}
const std::string data_dir_path = data_dir();

struct Point {
  double lat, lon;
};

/// Every `stride`-th CSV row with coordinates (the file is sorted by time,
/// so this samples the whole half-year and every area).
std::vector<Point> load_points(size_t stride) {
  std::ifstream in(data_dir_path + "/chicago_crimes_2019H1.csv");
  if (!in) {
    std::fprintf(stderr, "cannot open %s/chicago_crimes_2019H1.csv\n", data_dir_path.c_str());
    std::exit(1);
  }
  std::vector<Point> out;
  std::string line;
  std::getline(in, line);  // header
  for (size_t row = 0; std::getline(in, line); ++row) {
    if (row % stride != 0) continue;
    // The last two columns are Latitude, Longitude (earlier columns may hold quoted commas).
    const size_t c2 = line.rfind(',');
    const size_t c1 = line.rfind(',', c2 - 1);
    if (c1 == std::string::npos || c2 == c1 + 1 || c2 + 1 >= line.size()) continue;
    out.push_back(
        Point{std::stod(line.substr(c1 + 1, c2 - c1 - 1)), std::stod(line.substr(c2 + 1))});
  }
  return out;
}

const std::vector<Point>& points() {
  static const std::vector<Point> sample = load_points(30);  // ~4,200 points
  return sample;
}

CityConfig chicago() {
  CityConfig city;
  city.time_zone = "America/Chicago";
  city.districts = data_dir_path + "/chicago_community_areas.geojson";
  city.district_name_property = "community";
  city.sensitive_sites = {data_dir_path + "/chicago_public_schools_2011.geojson"};
  return city;
}

const Enricher& enricher() {
  static const std::unique_ptr<Enricher> built = Enricher::build(chicago(), CellsConfig{});
  return *built;
}

std::vector<Event> events() {
  std::vector<Event> out;
  int64_t t = 1'546'300'800'000;  // 2019-01-01T00:00:00Z
  for (const Point& p : points()) {
    Event e;
    e.lat = p.lat;
    e.lon = p.lon;
    e.has_location = true;
    e.time = event_time_from_ms(t += 61'000);
    out.push_back(e);
  }
  return out;
}

void BM_Enrich(benchmark::State& state) {
  const Enricher& enr = enricher();
  std::vector<Event> evs = events();
  size_t i = 0;
  for (auto _ : state) {
    Event& e = evs[i];
    enr.enrich(e, false);
    benchmark::DoNotOptimize(e.enrich);
    if (++i == evs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Enrich);

void BM_EnrichBatch(benchmark::State& state) {
  const Enricher& enr = enricher();
  std::vector<Event> evs = events();
  for (auto _ : state) {
    enr.enrich_batch(evs, false);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(evs.size()));
}
BENCHMARK(BM_EnrichBatch);

void BM_EnrichCheapOnly(benchmark::State& state) {
  const Enricher& enr = enricher();
  std::vector<Event> evs = events();
  for (auto _ : state) {
    enr.enrich_batch(evs, true);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(evs.size()));
}
BENCHMARK(BM_EnrichCheapOnly);

void BM_DistrictOf(benchmark::State& state) {
  const Enricher& enr = enricher();
  const auto& pts = points();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(enr.district_of(pts[i].lat, pts[i].lon));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DistrictOf);

void BM_NearestSite(benchmark::State& state) {
  const Enricher& enr = enricher();
  const auto& pts = points();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(enr.nearest_site(pts[i].lat, pts[i].lon));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NearestSite);

void BM_LocalTime(benchmark::State& state) {
  const Enricher& enr = enricher();
  int64_t t = 1'546'300'800'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(enr.local_time(event_time_from_ms(t)));
    t += 61'000;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalTime);

// ---- Baselines: the library calls the Enricher's tables replace. ----

std::vector<S2Point> s2_points() {
  std::vector<S2Point> out;
  for (const Point& p : points()) out.push_back(S2LatLng::FromDegrees(p.lat, p.lon).ToPoint());
  return out;
}

void BM_S2ContainsPointQuery(benchmark::State& state) {
  const std::unique_ptr<MutableS2ShapeIndex> built =
      bench::plain_polygon_index(data_dir_path + "/chicago_community_areas.geojson");
  const MutableS2ShapeIndex& index = *built;
  const std::vector<S2Point> pts = s2_points();
  size_t i = 0;
  for (auto _ : state) {
    auto query = MakeS2ContainsPointQuery(&index);
    int found = -1;
    query.VisitContainingShapes(pts[i], [&](S2Shape* shape) {
      found = shape->id();
      return false;
    });
    benchmark::DoNotOptimize(found);
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ContainsPointQuery);

void BM_S2ClosestPointQuery(benchmark::State& state) {
  S2PointIndex<int> index;
  int id = 0;
  for (const auto& f :
       geojson::read_features(data_dir_path + "/chicago_public_schools_2011.geojson")) {
    for (const auto& pos : f.geometry.points)
      index.Add(S2LatLng::FromDegrees(pos.lat, pos.lon).ToPoint(), id++);
  }
  const std::vector<S2Point> pts = s2_points();
  size_t i = 0;
  for (auto _ : state) {
    S2ClosestPointQuery<int> query(&index);
    S2ClosestPointQuery<int>::PointTarget target(pts[i]);
    benchmark::DoNotOptimize(query.FindClosestPoint(&target));
    if (++i == pts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_S2ClosestPointQuery);

void BM_CctzConvert(benchmark::State& state) {
  cctz::time_zone tz;
  cctz::load_time_zone("America/Chicago", &tz);
  int64_t t = 1'546'300'800;
  for (auto _ : state) {
    const auto cs = cctz::convert(cctz::time_point<cctz::seconds>(cctz::seconds(t)), tz);
    benchmark::DoNotOptimize(cs.hour());
    benchmark::DoNotOptimize(cctz::get_weekday(cctz::civil_day(cs)));
    t += 61;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CctzConvert);

}  // namespace
}  // namespace sentinel

BENCHMARK_MAIN();
