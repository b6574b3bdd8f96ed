// Debian's libs2 is built without sanitizers, and absl's btree (inside S2's
// shape index) changes its node layout when it sees ASan, so S2 code compiled
// here under ASan would disagree with the library and corrupt its index (a
// hang or a crash). Only that layout switch is turned off; ASan still
// instruments this file. g++ only: clang detects ASan via __has_feature.
#ifdef __SANITIZE_ADDRESS__
#undef __SANITIZE_ADDRESS__
#endif

#include "detect/geofence.h"

#include <s2/mutable_s2shape_index.h>
#include <s2/s1chord_angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell_id.h>
#include <s2/s2cell_index.h>
#include <s2/s2cell_union.h>
#include <s2/s2contains_point_query.h>
#include <s2/s2earth.h>
#include <s2/s2error.h>
#include <s2/s2latlng.h>
#include <s2/s2lax_polygon_shape.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#include <s2/s2region_coverer.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "detect/geojson.h"
#include "core/type_prefix.h"
#include "detect/s2_shapes.h"

namespace sentinel::detect {
namespace {

/// The radius caps are covered with this much to spare, so that rounding in
/// the covering can never leave out the leaf cell of a point the exact
/// distance test accepts (a leaf cell is ~1 cm; the test decides anyway).
constexpr double kCoverMarginMeters = 1.0;
/// Cells per site cap: a cap's covering is then at most ~2x its area, so a
/// lookup sees few sites that fail the exact test.
constexpr int kCapCoverCells = 8;

using s2shapes::build_polygon;
using s2shapes::to_point;
using s2shapes::valid_lat_lon;

/// A number as a user wrote it ("200", "-5", "nan"), for error messages.
std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string feature_name(const geojson::Feature& f, size_t index) {
  if (const std::string* name = f.property("name")) return *name;
  return "feature " + std::to_string(index);
}

}  // namespace

struct GeofenceIndex::Impl {
  struct Rule {
    bool sites = false;
    S1ChordAngle radius;  // sites rules: the largest accepted distance
    std::vector<TypePrefix> prefixes;  // empty: every type
    std::vector<std::string> places;   // feature index -> "name" or "feature <n>"
  };
  /// One site point of a sites rule; its index is its S2CellIndex label.
  struct Site {
    S2Point point;
    uint32_t rule;
    uint32_t feature;
  };
  /// A polygon feature; its index is its shape id in `polygons`.
  struct Shape {
    uint32_t rule;
    uint32_t feature;
  };

  std::vector<GeofenceRuleConfig> configs;
  std::vector<Rule> rules;
  uint64_t polygon_rules = 0;  // mask of the polygon rules
  uint64_t site_rules = 0;     // mask of the sites rules

  MutableS2ShapeIndex polygons;  // every polygon feature of every rule, built once
  std::vector<Shape> shapes;     // by shape id
  // Radius rules: every site's cap covered by S2 cells in one S2CellIndex,
  // then an exact chord-distance test on the sites whose cells hold the
  // point. Its iterators are plain pointers (stack-built, allocation-free),
  // and it is ~3.5x cheaper than an S2ClosestPointQuery over an S2PointIndex
  // (BM_MatchSchools1x200m vs BM_S2ClosestPointRadius*), even one reused per
  // thread.
  S2CellIndex site_cells;        // labelled by index into sites
  std::vector<Site> sites;

  void load_polygons(uint32_t r, const std::vector<geojson::Feature>& features,
                     const std::string& where);
  void load_sites(uint32_t r, const std::vector<geojson::Feature>& features,
                  const std::string& where, double radius_m);

  // A query object holds an iterator, so it cannot be shared between threads;
  // it is a few words built on the stack per call (no allocation: the index
  // is fully built, so the iterator only reads it). Building one per call
  // costs about as much as reusing one (bench/geofence_bench.cpp:
  // BM_S2ContainsQueryPerCall vs BM_S2ContainsQueryReused), so no thread_local.
  using ContainsQuery = S2ContainsPointQuery<MutableS2ShapeIndex>;

  uint64_t match_polygons(const S2Point& p, uint64_t want) const {
    ContainsQuery query(&polygons);  // semi-open boundaries (S2's default)
    MutableS2ShapeIndex::Iterator* it = query.mutable_iter();
    if (!it->Locate(p)) return 0;
    const S2ShapeIndexCell& cell = it->cell();
    uint64_t hits = 0;
    for (int s = 0; s < cell.num_clipped(); ++s) {
      const S2ClippedShape& clipped = cell.clipped(s);
      const uint64_t bit = uint64_t{1} << shapes[static_cast<size_t>(clipped.shape_id())].rule;
      if ((want & bit) == 0 || (hits & bit) != 0) continue;  // skip the exact test when moot
      if (query.ShapeContains(it->id(), clipped, p)) {
        hits |= bit;
        if (hits == want) break;
      }
    }
    return hits;
  }

  uint64_t match_sites(const S2Point& p, uint64_t want) const {
    S2CellIndex::RangeIterator range(&site_cells);
    range.Seek(S2CellId(p));
    S2CellIndex::ContentsIterator contents(&site_cells);
    uint64_t hits = 0;
    for (contents.StartUnion(range); !contents.done(); contents.Next()) {
      const Site& site = sites[static_cast<size_t>(contents.label())];
      const uint64_t bit = uint64_t{1} << site.rule;
      if ((want & bit) == 0 || (hits & bit) != 0) continue;
      if (S1ChordAngle(p, site.point) <= rules[site.rule].radius) {
        hits |= bit;
        if (hits == want) break;
      }
    }
    return hits;
  }

  Hit describe_polygon(uint32_t r, const S2Point& p) const {
    ContainsQuery query(&polygons);
    MutableS2ShapeIndex::Iterator* it = query.mutable_iter();
    if (it->Locate(p)) {
      // Clipped shapes come in shape id order, and a rule's features were
      // added in file order, so the first hit is the lowest feature.
      const S2ShapeIndexCell& cell = it->cell();
      for (int s = 0; s < cell.num_clipped(); ++s) {
        const S2ClippedShape& clipped = cell.clipped(s);
        const Shape& shape = shapes[static_cast<size_t>(clipped.shape_id())];
        if (shape.rule == r && query.ShapeContains(it->id(), clipped, p)) {
          return Hit{rules[r].places[shape.feature], 0.0};
        }
      }
    }
    return Hit{"", std::numeric_limits<double>::infinity()};
  }

  Hit describe_sites(uint32_t r, const S2Point& p) const {
    S2CellIndex::RangeIterator range(&site_cells);
    range.Seek(S2CellId(p));
    S2CellIndex::ContentsIterator contents(&site_cells);
    const Site* best = nullptr;
    S1ChordAngle best_d = S1ChordAngle::Infinity();
    // Contents come in no useful order: ties are broken by site index, which follows the file.
    int32_t best_label = std::numeric_limits<int32_t>::max();
    for (contents.StartUnion(range); !contents.done(); contents.Next()) {
      const int32_t label = contents.label();
      const Site& site = sites[static_cast<size_t>(label)];
      if (site.rule != r) continue;
      const S1ChordAngle d(p, site.point);
      if (d > rules[r].radius) continue;
      if (d < best_d || (d == best_d && label < best_label)) {
        best = &site;
        best_d = d;
        best_label = label;
      }
    }
    if (best == nullptr) return Hit{"", std::numeric_limits<double>::infinity()};
    return Hit{rules[r].places[best->feature], S2Earth::ToMeters(best_d)};
  }
};

void GeofenceIndex::Impl::load_polygons(uint32_t r, const std::vector<geojson::Feature>& features,
                                        const std::string& where) {
  for (size_t i = 0; i < features.size(); ++i) {
    const geojson::Feature& f = features[i];
    const std::string at = where + "features[" + std::to_string(i) + "]: ";
    const auto kind = f.geometry.kind;
    if (kind != geojson::GeometryKind::kPolygon && kind != geojson::GeometryKind::kMultiPolygon) {
      throw ConfigError(at + "geometry is " + std::string(geojson::geometry_kind_name(kind)) +
                        ", expected Polygon or MultiPolygon");
    }
    S2Polygon polygon;
    if (std::string reason = build_polygon(f.geometry, polygon); !reason.empty()) {
      throw ConfigError(at + reason);
    }
    polygons.Add(std::make_unique<S2LaxPolygonShape>(polygon));
    shapes.push_back(Shape{r, static_cast<uint32_t>(i)});
    rules[r].places.push_back(feature_name(f, i));
  }
}

void GeofenceIndex::Impl::load_sites(uint32_t r, const std::vector<geojson::Feature>& features,
                                     const std::string& where, double radius_m) {
  S2RegionCoverer::Options options;
  options.set_max_cells(kCapCoverCells);
  S2RegionCoverer coverer(options);
  const S1Angle cover_radius = S2Earth::MetersToAngle(radius_m + kCoverMarginMeters);
  for (size_t i = 0; i < features.size(); ++i) {
    const geojson::Feature& f = features[i];
    const auto kind = f.geometry.kind;
    if (kind != geojson::GeometryKind::kPoint && kind != geojson::GeometryKind::kMultiPoint) {
      throw ConfigError(where + "features[" + std::to_string(i) + "]: geometry is " +
                        std::string(geojson::geometry_kind_name(kind)) +
                        ", expected Point or MultiPoint");
    }
    for (const geojson::Position& pos : f.geometry.points) {
      const S2Point point = to_point(pos.lat, pos.lon);
      const auto label = static_cast<S2CellIndex::Label>(sites.size());
      site_cells.Add(coverer.GetCovering(S2Cap(point, cover_radius)), label);
      sites.push_back(Site{point, r, static_cast<uint32_t>(i)});
    }
    rules[r].places.push_back(feature_name(f, i));
  }
}

std::unique_ptr<GeofenceIndex> GeofenceIndex::build(const std::vector<GeofenceRuleConfig>& configs) {
  if (configs.size() > kMaxRules) {
    throw ConfigError("geofences: " + std::to_string(configs.size()) + " rules, at most " +
                      std::to_string(kMaxRules));
  }
  auto impl = std::make_unique<Impl>();
  impl->configs = configs;
  impl->rules.resize(configs.size());
  std::map<std::string, size_t, std::less<>> names;
  for (size_t i = 0; i < configs.size(); ++i) {
    const GeofenceRuleConfig& c = configs[i];
    const auto r = static_cast<uint32_t>(i);
    const std::string rule = "geofences[" + std::to_string(i) + "] (" + c.name + "): ";
    if (c.name.empty()) throw ConfigError(rule + "name is empty");
    if (auto [it, fresh] = names.emplace(c.name, i); !fresh) {
      throw ConfigError(rule + "duplicate name (also geofences[" + std::to_string(it->second) +
                        "])");
    }
    if (c.polygons.empty() == c.sites.empty()) {
      throw ConfigError(rule + (c.polygons.empty() ? "needs one of polygons or sites"
                                                   : "has both polygons and sites; give one"));
    }
    if (!c.sites.empty() && !(c.radius_m > 0 && std::isfinite(c.radius_m))) {
      throw ConfigError(rule + "radius_m must be > 0 with sites (got " + number_text(c.radius_m) +
                        ")");
    }
    if (!c.polygons.empty() && c.radius_m != 0) {
      throw ConfigError(rule + "radius_m applies to sites only, not to polygons");
    }
    Impl::Rule& out = impl->rules[i];
    for (size_t t = 0; t < c.types.size(); ++t) {
      TypePrefix prefix(c.types[t]);
      if (prefix.empty()) {
        throw ConfigError(rule + "types[" + std::to_string(t) + "] is empty");
      }
      out.prefixes.push_back(std::move(prefix));
    }

    const std::string& file = c.sites.empty() ? c.polygons : c.sites;
    try {
      const std::vector<geojson::Feature> features = geojson::read_features(file);
      if (features.empty()) throw ConfigError(file + ": no features");
      const std::string where = file + ": ";
      if (c.sites.empty()) {
        impl->load_polygons(r, features, where);
        impl->polygon_rules |= uint64_t{1} << r;
      } else {
        out.sites = true;
        out.radius = S2Earth::MetersToChordAngle(c.radius_m);
        impl->load_sites(r, features, where, c.radius_m);
        impl->site_rules |= uint64_t{1} << r;
      }
    } catch (const ConfigError& e) {
      // The GeoJSON reader names the file; the rule is added in front.
      throw ConfigError(rule + e.what());
    }
  }
  impl->polygons.ForceBuild();
  impl->site_cells.Build();
  return std::unique_ptr<GeofenceIndex>(new GeofenceIndex(std::move(impl)));
}

GeofenceIndex::GeofenceIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeofenceIndex::~GeofenceIndex() = default;

uint64_t GeofenceIndex::rules_for_type(std::string_view type) const {
  uint64_t mask = 0;
  for (size_t r = 0; r < impl_->rules.size(); ++r) {
    const auto& prefixes = impl_->rules[r].prefixes;
    const bool hit = prefixes.empty() || matches_any(type, prefixes);
    if (hit) mask |= uint64_t{1} << r;
  }
  return mask;
}

uint64_t GeofenceIndex::match(double lat, double lon, uint64_t candidate_rules) const {
  const uint64_t want_polygons = candidate_rules & impl_->polygon_rules;
  const uint64_t want_sites = candidate_rules & impl_->site_rules;
  if ((want_polygons | want_sites) == 0 || !valid_lat_lon(lat, lon)) return 0;
  const S2Point p = to_point(lat, lon);
  uint64_t hits = 0;
  if (want_polygons != 0) hits |= impl_->match_polygons(p, want_polygons);
  if (want_sites != 0) hits |= impl_->match_sites(p, want_sites);
  return hits;
}

GeofenceIndex::Hit GeofenceIndex::describe(size_t rule, double lat, double lon) const {
  if (rule >= impl_->rules.size() || !valid_lat_lon(lat, lon)) {
    return Hit{"", std::numeric_limits<double>::infinity()};
  }
  const S2Point p = to_point(lat, lon);
  const auto r = static_cast<uint32_t>(rule);
  return impl_->rules[rule].sites ? impl_->describe_sites(r, p) : impl_->describe_polygon(r, p);
}

const std::vector<GeofenceRuleConfig>& GeofenceIndex::rules() const {
  return impl_->configs;
}

size_t GeofenceIndex::size() const {
  return impl_->rules.size();
}

}  // namespace sentinel::detect
