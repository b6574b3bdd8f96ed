// Debian's libs2 is built without sanitizers, and absl's btree (inside S2's
// shape index) changes its node layout when it sees ASan, so S2 code compiled
// here under ASan would disagree with the library and corrupt its index (a
// hang or a crash). Only that layout switch is turned off; ASan still
// instruments this file. g++ only: clang detects ASan via __has_feature.
#ifdef __SANITIZE_ADDRESS__
#undef __SANITIZE_ADDRESS__
#endif

#include "detect/enrichment.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <s2/mutable_s2shape_index.h>
#include <s2/s1chord_angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell.h>
#include <s2/s2cell_id.h>
#include <s2/s2cell_union.h>
#include <s2/s2contains_point_query.h>
#include <s2/s2earth.h>
#include <s2/s2error.h>
#include <s2/s2latlng.h>
#include <s2/s2latlng_rect.h>
#include <s2/s2lax_polygon_shape.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#include <s2/s2region_coverer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "detect/geojson.h"
#include "detect/s2_shapes.h"

namespace sentinel {
namespace {

constexpr int32_t kBoundary = -2;  // district table: this and below need the exact test
constexpr int kMaxEdgesPerCell = 4;

/// Nearest-site table: a cell stops being split once it has this many
/// candidates or fewer, or at kMaxSiteLevel (~10 m), or when the table is full.
constexpr size_t kSiteCandidatesPerCell = 8;
/// Cells at least kFarMeters from every site may keep up to
/// kFarCandidatesPerCell: there, many sites are almost equally far, and
/// splitting until 8 remain multiplies the table (a 200 km bounds box around
/// Chicago: 133k cells and 2 s to build instead of ~20k).
constexpr double kFarMeters = 2'000;
constexpr size_t kFarCandidatesPerCell = 32;
constexpr int kMaxSiteLevel = 20;
constexpr size_t kMaxSiteCells = size_t{1} << 20;
/// The table covers the sites' bounding cap widened by this much, and
/// city.bounds when set; points farther out are compared with every site.
constexpr double kSiteMarginMeters = 5'000;
/// Slack in squared chord length when pruning candidates, so that rounding
/// in S2Cell distance bounds never drops the true nearest site (~1e-6 m).
constexpr double kPruneSlack = 1e-24;

/// The offset table spans these UTC years; other times ask cctz directly.
constexpr int kZoneTableFirstYear = 1900;
constexpr int kZoneTableEndYear = 2200;

using s2shapes::build_polygon;
using s2shapes::same_point;
using s2shapes::to_point;
using s2shapes::valid_lat_lon;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string file_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

/// Disjoint S2 cells in increasing id order, searched by leaf cell id: the
/// cell holding a leaf is the first cell whose id is >= the leaf or the one
/// before it. A bucket array over the id span narrows each search to a few
/// entries (the tables hold 10^4..10^5 cells, and a plain binary search over
/// them costs several cache misses per lookup).
class CellRanges {
 public:
  /// Cells must come in increasing, non-overlapping order.
  void add(S2CellId cell) { ids_.push_back(cell.id()); }

  void finish() {
    if (ids_.empty()) return;
    lo_ = S2CellId(ids_.front()).range_min().id();
    hi_ = S2CellId(ids_.back()).range_max().id();
    const uint64_t span = hi_ - lo_;
    const uint64_t want = std::max<uint64_t>(ids_.size(), 64);  // about one bucket per cell
    shift_ = 0;
    while ((span >> shift_) >= want) ++shift_;
    const size_t buckets = static_cast<size_t>(span >> shift_) + 1;
    first_.resize(buckets + 1);
    for (size_t b = 0; b <= buckets; ++b) {
      const uint64_t begin = lo_ + (static_cast<uint64_t>(b) << shift_);
      const auto at = std::lower_bound(ids_.begin(), ids_.end(), begin) - ids_.begin();
      first_[b] = static_cast<uint32_t>(std::max<std::ptrdiff_t>(at - 1, 0));
    }
  }

  /// Index of the cell holding the leaf cell id, or -1.
  int64_t find(uint64_t leaf) const {
    if (ids_.empty() || leaf < lo_ || leaf > hi_) return -1;
    const size_t b = static_cast<size_t>((leaf - lo_) >> shift_);
    // lower_bound(leaf) lies in [first_[b] + 1, first_[b + 1] + 1] because buckets are monotone.
    const auto begin = ids_.begin() + first_[b];
    const auto end = ids_.begin() + static_cast<std::ptrdiff_t>(
                                        std::min<size_t>(ids_.size(), size_t{first_[b + 1]} + 2));
    const auto it = std::lower_bound(begin, end, leaf);
    const int64_t i = it - ids_.begin();
    if (it != ids_.end() && S2CellId(*it).contains(S2CellId(leaf))) return i;
    if (i > 0 && S2CellId(ids_[static_cast<size_t>(i) - 1]).contains(S2CellId(leaf))) return i - 1;
    return -1;
  }

  size_t size() const { return ids_.size(); }

 private:
  std::vector<uint64_t> ids_;
  std::vector<uint32_t>
      first_;                 // bucket -> a cell index at or before the bucket's first lower_bound
  uint64_t lo_ = 0, hi_ = 0;  // leaf id span of the table
  int shift_ = 0;             // leaf id -> bucket
};

/// Point-in-district: every district is one S2LaxPolygonShape (all its
/// shells and holes) in a MutableS2ShapeIndex, so shape id == district index.
///
/// The index partitions space into cells that each either lie wholly inside
/// or outside every shape, or hold a few edges. A copy of that partition in
/// CellRanges answers the first kind with one short search; the others keep
/// a pointer to the index cell and are decided exactly by
/// S2ContainsPointQuery::ShapeContains (S2's crossing test from the cell
/// centre). This is about 3x cheaper than S2ContainsPointQuery's own
/// btree lookup (bench/enrich_bench.cpp: BM_DistrictOf vs BM_S2ContainsPointQuery).
class DistrictLocator {
 public:
  /// Shape ids follow the order of add(), so they are district indexes.
  void add(const S2Polygon& polygon) { index_.Add(std::make_unique<S2LaxPolygonShape>(polygon)); }

  void build() {
    index_.ForceBuild();
    const S2ShapeIndex& index = index_;
    query_.Init(&index);
    for (S2ShapeIndex::Iterator it(&index, S2ShapeIndex::BEGIN); !it.done(); it.Next()) {
      const S2ShapeIndexCell& cell = it.cell();
      int32_t answer = -1;
      for (int s = 0; s < cell.num_clipped(); ++s) {
        const S2ClippedShape& clipped = cell.clipped(s);
        if (clipped.num_edges() > 0) {
          answer = kBoundary;
          break;
        }
        // Clipped shapes are sorted by shape id: the first containing one is the lowest index.
        if (clipped.contains_center() && answer == -1) answer = clipped.shape_id();
      }
      if (answer == -1) continue;  // same as a gap in the table
      ranges_.add(it.id());
      if (answer == kBoundary) {
        answer = kBoundary - static_cast<int32_t>(boundary_.size());
        boundary_.push_back(Boundary{it.id(), &cell});
      }
      answers_.push_back(answer);
    }
    ranges_.finish();
  }

  int32_t locate(const S2Point& p, S2CellId leaf) const {
    const int64_t i = ranges_.find(leaf.id());
    if (i < 0) return -1;
    const int32_t answer = answers_[static_cast<size_t>(i)];
    if (answer > kBoundary) return answer;
    const Boundary& cell = boundary_[static_cast<size_t>(kBoundary - answer)];
    for (int s = 0; s < cell.index_cell->num_clipped(); ++s) {
      const S2ClippedShape& clipped = cell.index_cell->clipped(s);
      if (query_.ShapeContains(cell.id, clipped, p)) return clipped.shape_id();
    }
    return -1;
  }

  size_t table_cells() const { return answers_.size() - boundary_.size(); }
  size_t boundary_cells() const { return boundary_.size(); }

 private:
  struct Boundary {
    S2CellId id;
    const S2ShapeIndexCell* index_cell;  // owned by index_, stable once built
  };

  static MutableS2ShapeIndex::Options index_options() {
    MutableS2ShapeIndex::Options options;
    // Smaller boundary cells than the default 10 edges: fewer points need the
    // exact test and each test crosses fewer edges (measured on Chicago: about
    // -15% per lookup; the table grows from 22k to 62k cells, ~1.5 MB).
    options.set_max_edges_per_cell(kMaxEdgesPerCell);
    return options;
  }

  MutableS2ShapeIndex index_{index_options()};
  // Only its const ShapeContains() is used after build(), which reads the
  // immutable index and keeps no state, so sharing it across threads is safe.
  S2ContainsPointQuery<S2ShapeIndex> query_;
  CellRanges ranges_;
  // Parallel to ranges_: a district, or kBoundary - k for boundary_[k].
  std::vector<int32_t> answers_;
  std::vector<Boundary> boundary_;
};

/// Nearest site. Sites at the same point are merged (the lowest site index
/// represents them). A table of S2 cells of varying level around the sites
/// lists, for each cell, every site that can be the nearest one for some
/// point in the cell (its minimum distance to the cell is at most the
/// smallest maximum distance of any site to the cell), so a query computes a
/// handful of exact distances after one short search, about 7x cheaper than
/// S2ClosestPointQuery (BM_NearestSite vs BM_S2ClosestPointQuery). Points
/// outside the table (far from every site) are compared with every site:
/// rare, exact, and as fast as S2ClosestPointQuery for a few hundred sites.
class SiteLocator {
 public:
  /// `bounds` is city.bounds: when set, the table also covers it.
  void build(const std::vector<SensitiveSite>& sites, const std::array<double, 4>& bounds) {
    std::set<S2Point> seen;  // sites at the same point share one entry
    for (size_t i = 0; i < sites.size(); ++i) {
      const S2Point p = to_point(sites[i].lat, sites[i].lon);
      if (!seen.insert(p).second) continue;
      points_.push_back(p);
      site_of_.push_back(static_cast<int32_t>(i));
    }
    if (points_.empty()) return;

    S2Cap cap = S2Cap::Empty();
    for (const S2Point& p : points_) cap.AddPoint(p);
    cap = cap.Expanded(S2Earth::MetersToAngle(kSiteMarginMeters));
    S2RegionCoverer::Options options;
    options.set_max_cells(16);
    S2RegionCoverer coverer(options);
    std::vector<S2CellId> roots;
    coverer.GetCovering(cap, &roots);
    const bool whole_globe =
        bounds[0] <= -90.0 && bounds[1] <= -180.0 && bounds[2] >= 90.0 && bounds[3] >= 180.0;
    if (!whole_globe) {
      const S2LatLngRect rect(S2LatLng::FromDegrees(bounds[0], bounds[1]),
                              S2LatLng::FromDegrees(bounds[2], bounds[3]));
      if (rect.is_valid() && !rect.is_empty()) {
        std::vector<S2CellId> more;
        coverer.GetCovering(rect, &more);
        roots.insert(roots.end(), more.begin(), more.end());
      }
    }
    const S2CellUnion region(std::move(roots));  // sorted and disjoint, as CellRanges needs

    std::vector<uint32_t> all(points_.size());
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    for (S2CellId root : region) split(root, all);
    ranges_.finish();
  }

  Enricher::Nearest nearest(const S2Point& p, S2CellId leaf) const {
    if (points_.empty()) return Enricher::Nearest{};
    const int64_t i = ranges_.find(leaf.id());
    if (i < 0) return nearest_slow(p);
    const Cell& cell = cells_[static_cast<size_t>(i)];
    // Candidates are in increasing order, so the strict < keeps the lowest index on ties.
    double best = std::numeric_limits<double>::infinity();
    uint32_t best_u = 0;
    for (uint32_t k = cell.first; k < cell.first + cell.count; ++k) {
      const uint32_t u = candidates_[k];
      const double d2 = (p - points_[u]).Norm2();  // squared chord length: monotone in distance
      if (d2 < best) {
        best = d2;
        best_u = u;
      }
    }
    return Enricher::Nearest{site_of_[best_u], S2Earth::ToMeters(S1ChordAngle::FromLength2(best))};
  }

  /// Every site, for points outside the table; ties go to the lowest index like the table.
  Enricher::Nearest nearest_slow(const S2Point& p) const {
    Enricher::Nearest out;
    double best = std::numeric_limits<double>::infinity();
    for (uint32_t u = 0; u < points_.size(); ++u) {
      const double d2 = (p - points_[u]).Norm2();
      if (d2 < best) {
        best = d2;
        out.site = site_of_[u];
      }
    }
    if (out.site >= 0) out.distance_m = S2Earth::ToMeters(S1ChordAngle::FromLength2(best));
    return out;
  }

  size_t table_cells() const { return cells_.size(); }
  size_t table_candidates() const { return candidates_.size(); }

 private:
  struct Cell {
    uint32_t first;  // into candidates_
    uint32_t count;
  };

  /// Keeps the sites (from the parent's candidates) that may be nearest to
  /// some point of `id`, then stores the cell or splits it. Any site that
  /// can be nearest in a child can be nearest in the parent, so the parent's
  /// list is a valid superset to prune from.
  void split(S2CellId id, const std::vector<uint32_t>& parent) {
    const double far_length2 = S2Earth::MetersToChordAngle(kFarMeters).length2();
    const S2Cell cell(id);
    double bound = std::numeric_limits<double>::infinity();
    for (uint32_t u : parent) bound = std::min(bound, cell.GetMaxDistance(points_[u]).length2());
    std::vector<uint32_t> mine;
    double nearest = std::numeric_limits<double>::infinity();
    for (uint32_t u : parent) {
      const double d = cell.GetDistance(points_[u]).length2();
      if (d <= bound + kPruneSlack) mine.push_back(u);
      nearest = std::min(nearest, d);
    }
    const size_t enough = nearest < far_length2 ? kSiteCandidatesPerCell : kFarCandidatesPerCell;
    if (mine.size() > enough && id.level() < kMaxSiteLevel && cells_.size() + 4 <= kMaxSiteCells) {
      for (S2CellId child = id.child_begin(); child != id.child_end(); child = child.next())
        split(child, mine);
      return;
    }
    if (cells_.size() >= kMaxSiteCells) return;  // left to nearest_slow()
    ranges_.add(id);
    cells_.push_back(
        Cell{static_cast<uint32_t>(candidates_.size()), static_cast<uint32_t>(mine.size())});
    candidates_.insert(candidates_.end(), mine.begin(), mine.end());
  }

  std::vector<S2Point> points_;   // unique site points
  std::vector<int32_t> site_of_;  // unique point -> lowest site index at it
  CellRanges ranges_;             // split() visits cells in id order, as CellRanges needs
  std::vector<Cell> cells_;       // parallel to ranges_
  std::vector<uint32_t> candidates_;
};

/// UTC offsets of the city's zone (from cctz) as a sorted table of (start,
/// offset), so local hour and weekday cost a short binary search and integer
/// arithmetic: half the cost of a cctz::convert per event (BM_LocalTime vs
/// BM_CctzConvert). Times outside the table ask cctz.
class ZoneClock {
 public:
  void build(const std::string& name) {
    if (!cctz::load_time_zone(name, &zone_)) {
      throw ConfigError("city.time_zone: unknown time zone \"" + name + "\"");
    }
    const auto first = cctz::convert(cctz::civil_second(kZoneTableFirstYear, 1, 1, 0, 0, 0),
                                     cctz::utc_time_zone());
    const auto end =
        cctz::convert(cctz::civil_second(kZoneTableEndYear, 1, 1, 0, 0, 0), cctz::utc_time_zone());
    first_ = first.time_since_epoch().count();
    end_ = end.time_since_epoch().count();
    starts_.push_back(first_);
    offsets_.push_back(zone_.lookup(first).offset);
    auto tp = first;
    cctz::time_zone::civil_transition trans;
    while (zone_.next_transition(tp, &trans)) {
      const auto at = zone_.lookup(trans.to).trans;
      if (at <= tp || at >= end) break;
      const int offset = zone_.lookup(at).offset;
      if (offset != offsets_.back()) {
        starts_.push_back(at.time_since_epoch().count());
        offsets_.push_back(offset);
      }
      tp = at;
    }
  }

  Enricher::LocalTime local(EventTime t) const {
    const int64_t sec = floor_div(to_ms(t), 1000);
    Enricher::LocalTime out;
    if (sec < first_ || sec >= end_) {
      const cctz::civil_second cs = cctz::convert(
          std::chrono::time_point<std::chrono::system_clock, cctz::seconds>(cctz::seconds(sec)),
          zone_);
      out.hour = static_cast<uint8_t>(cs.hour());
      out.weekday = static_cast<uint8_t>(cctz::get_weekday(cctz::civil_day(cs)));
      return out;
    }
    const size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), sec) -
                                         starts_.begin()) -
                     1;
    const int64_t local = sec + offsets_[i];
    const int64_t day = floor_div(local, 86'400);
    out.hour = static_cast<uint8_t>((local - day * 86'400) / 3600);
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    out.weekday = static_cast<uint8_t>(((day + 3) % 7 + 7) % 7);
    return out;
  }

  size_t transitions() const { return starts_.size() - 1; }

 private:
  cctz::time_zone zone_;
  int64_t first_ = 0, end_ = 0;  // seconds since the epoch covered by the table
  std::vector<int64_t> starts_;
  std::vector<int32_t> offsets_;
};

}  // namespace

struct Enricher::Impl {
  int fine_level = 14;
  int coarse_level = 10;
  std::vector<std::string> district_names;
  std::vector<SensitiveSite> sites;
  DistrictLocator districts;
  SiteLocator site_locator;
  ZoneClock clock;

  void load_districts(const CityConfig& city);
  void load_sites(const std::string& path);

  void enrich(Event& e, bool cheap_only) const {
    Enrichment& r = e.enrich;
    const LocalTime lt = clock.local(e.time);
    r.local_hour = lt.hour;
    r.local_weekday = lt.weekday;
    r.district = Enrichment::kNoDistrict;
    r.site_distance_m = std::numeric_limits<float>::infinity();
    r.fine_cell = 0;
    r.coarse_cell = 0;
    if (e.has_location && valid_lat_lon(e.lat, e.lon)) {
      const S2Point p = to_point(e.lat, e.lon);
      const S2CellId leaf(p);
      r.fine_cell = leaf.parent(fine_level).id();
      r.coarse_cell = leaf.parent(coarse_level).id();
      if (!cheap_only) {
        r.district = districts.locate(p, leaf);
        r.site_distance_m = static_cast<float>(site_locator.nearest(p, leaf).distance_m);
      }
    }
    r.degraded = cheap_only;
    r.done = true;
  }
};

void Enricher::Impl::load_districts(const CityConfig& city) {
  if (city.districts.empty()) return;
  const std::string& path = city.districts;
  const std::vector<geojson::Feature> features = geojson::read_features(path);
  for (size_t i = 0; i < features.size(); ++i) {
    const geojson::Feature& f = features[i];
    const std::string where = path + ": features[" + std::to_string(i) + "]: ";
    const auto kind = f.geometry.kind;
    if (kind != geojson::GeometryKind::kPolygon && kind != geojson::GeometryKind::kMultiPolygon) {
      throw ConfigError(where + "geometry is " + std::string(geojson::geometry_kind_name(kind)) +
                        ", expected Polygon or MultiPolygon");
    }
    S2Polygon polygon;
    if (std::string reason = build_polygon(f.geometry, polygon); !reason.empty()) {
      throw ConfigError(where + reason);
    }

    std::string name;
    if (!city.district_name_property.empty()) {
      const std::string* value = f.property(city.district_name_property);
      if (value == nullptr) {
        throw ConfigError(where + "no property \"" + city.district_name_property +
                          "\" (city.district_name_property)");
      }
      name = *value;
    } else if (const std::string* n = f.property("name")) {
      name = *n;
    } else if (const std::string* c = f.property("community")) {
      name = *c;
    } else {
      name = std::to_string(i);
    }
    district_names.push_back(std::move(name));
    districts.add(polygon);
  }
  districts.build();
}

void Enricher::Impl::load_sites(const std::string& path) {
  const std::vector<geojson::Feature> features = geojson::read_features(path);
  const std::string stem = file_stem(path);
  for (size_t i = 0; i < features.size(); ++i) {
    const geojson::Feature& f = features[i];
    const auto kind = f.geometry.kind;
    if (kind != geojson::GeometryKind::kPoint && kind != geojson::GeometryKind::kMultiPoint) {
      throw ConfigError(path + ": features[" + std::to_string(i) + "]: geometry is " +
                        std::string(geojson::geometry_kind_name(kind)) +
                        ", expected Point or MultiPoint");
    }
    const std::string* kind_prop = f.property("kind");
    const std::string* name_prop = f.property("name");
    for (const geojson::Position& pos : f.geometry.points) {
      sites.push_back(SensitiveSite{kind_prop ? *kind_prop : stem,
                                    name_prop ? *name_prop : stem + "#" + std::to_string(i),
                                    pos.lat, pos.lon});
    }
  }
}

std::unique_ptr<Enricher> Enricher::build(const CityConfig& city, const CellsConfig& cells) {
  auto impl = std::make_unique<Impl>();
  if (cells.fine_level < 0 || cells.fine_level > S2CellId::kMaxLevel) {
    throw ConfigError("cells.fine_level: " + std::to_string(cells.fine_level) +
                      " is outside 0..30");
  }
  if (cells.coarse_level < 0 || cells.coarse_level > S2CellId::kMaxLevel) {
    throw ConfigError("cells.coarse_level: " + std::to_string(cells.coarse_level) +
                      " is outside 0..30");
  }
  impl->fine_level = cells.fine_level;
  impl->coarse_level = cells.coarse_level;
  impl->clock.build(city.time_zone);
  impl->load_districts(city);
  for (const std::string& path : city.sensitive_sites) impl->load_sites(path);
  impl->site_locator.build(impl->sites, city.bounds);
  return std::unique_ptr<Enricher>(new Enricher(std::move(impl)));
}

Enricher::Enricher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Enricher::~Enricher() = default;

void Enricher::enrich(Event& e, bool cheap_only) const {
  impl_->enrich(e, cheap_only);
}

void Enricher::enrich_batch(std::span<Event> events, bool cheap_only) const {
  for (Event& e : events) impl_->enrich(e, cheap_only);
}

int32_t Enricher::district_of(double lat, double lon) const {
  if (!valid_lat_lon(lat, lon)) return Enrichment::kNoDistrict;
  const S2Point p = to_point(lat, lon);
  return impl_->districts.locate(p, S2CellId(p));
}

Enricher::Nearest Enricher::nearest_site(double lat, double lon) const {
  if (!valid_lat_lon(lat, lon)) return Nearest{};
  const S2Point p = to_point(lat, lon);
  return impl_->site_locator.nearest(p, S2CellId(p));
}

Enricher::LocalTime Enricher::local_time(EventTime t) const {
  return impl_->clock.local(t);
}

const std::vector<std::string>& Enricher::district_names() const {
  return impl_->district_names;
}
const std::vector<SensitiveSite>& Enricher::sites() const {
  return impl_->sites;
}

uint64_t Enricher::fine_cell(double lat, double lon) const {
  if (!valid_lat_lon(lat, lon)) return 0;
  return S2CellId(to_point(lat, lon)).parent(impl_->fine_level).id();
}

uint64_t Enricher::coarse_cell(double lat, double lon) const {
  if (!valid_lat_lon(lat, lon)) return 0;
  return S2CellId(to_point(lat, lon)).parent(impl_->coarse_level).id();
}

std::string Enricher::cell_token(uint64_t cell_id) {
  return S2CellId(cell_id).ToToken();
}

Enricher::LatLon Enricher::cell_center(uint64_t cell_id) {
  const S2LatLng c = S2CellId(cell_id).ToLatLng();
  return LatLon{c.lat().degrees(), c.lng().degrees()};
}

Enricher::Stats Enricher::stats() const {
  Stats s;
  s.district_cells = impl_->districts.table_cells();
  s.boundary_cells = impl_->districts.boundary_cells();
  s.site_cells = impl_->site_locator.table_cells();
  s.site_candidates = impl_->site_locator.table_candidates();
  s.zone_transitions = impl_->clock.transitions();
  return s;
}

}  // namespace sentinel
