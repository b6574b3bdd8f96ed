// Enrichment (DESIGN.md section 3.1): the first stage of every shard. It
// fills Event::enrich from the event's location and time:
//   fine_cell, coarse_cell   S2 cells at cells.fine_level / cells.coarse_level
//   district                 index of the city.districts polygon holding the point, or -1
//   site_distance_m          metres to the nearest city.sensitive_sites point (inf: none)
//   local_hour, local_weekday  in city.time_zone (DST-correct)
// An event without a location gets only the local time. In cheap-only mode
// (the latency circuit breaker is open) the district and site lookups are
// skipped and the event is flagged `degraded`.
//
// Lifecycle: build() once at start-up (reads the GeoJSON files, builds the
// spatial indexes); then the Enricher is immutable. Threading: every const
// method may be called concurrently from any number of shard threads; there
// are no locks and no shared mutable state.
//
// Results are exact: the lookup tables only answer where they are provably
// right and fall back to exact S2 predicates elsewhere.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event.h"
#include "core/time.h"

namespace sentinel {

/// A point that raises the spatial sensitivity of alerts near it (a school, a hospital, ...).
struct SensitiveSite {
  std::string kind;  ///< property "kind", else the file's stem ("hospitals")
  std::string name;  ///< property "name", else "<stem>#<feature index>"
  double lat = 0;
  double lon = 0;
};

class Enricher {
 public:
  /// Loads districts and sites from the config's files and the time zone.
  /// Throws ConfigError("<file>: <reason>") on a missing file, invalid JSON,
  /// a district feature that is not a (Multi)Polygon, a site feature that is
  /// not a (Multi)Point, an invalid coordinate, or a polygon S2 finds invalid
  /// (a self-crossing ring, rings that cross or share an edge); ConfigError
  /// naming city.time_zone for an unknown zone, and cells.* for a level
  /// outside 0..30. Ring winding does not matter: each ring encloses its
  /// smaller side, and containment decides which rings are holes.
  static std::unique_ptr<Enricher> build(const CityConfig& city, const CellsConfig& cells);

  ~Enricher();
  Enricher(const Enricher&) = delete;
  Enricher& operator=(const Enricher&) = delete;

  /// Fills e.enrich and sets e.enrich.done. `cheap_only`: cells and local
  /// time only, district -1 and distance inf, and e.enrich.degraded = true.
  void enrich(Event& e, bool cheap_only) const;
  /// The same for a batch (what shards call: one call per batch).
  void enrich_batch(std::span<Event> events, bool cheap_only) const;

  /// Index into district_names() of the polygon containing the point, or -1.
  /// Where polygons overlap, the lowest index wins.
  int32_t district_of(double lat, double lon) const;

  struct Nearest {
    int32_t site = -1;  ///< index into sites(); -1 when there are none
    double distance_m = std::numeric_limits<double>::infinity();
  };
  /// The nearest sensitive site on the sphere (S2Earth radius); ties go to the lowest index.
  Nearest nearest_site(double lat, double lon) const;

  struct LocalTime {
    uint8_t hour = 0;     ///< 0..23
    uint8_t weekday = 0;  ///< 0 = Monday .. 6 = Sunday
  };
  LocalTime local_time(EventTime t) const;

  const std::vector<std::string>& district_names() const;
  const std::vector<SensitiveSite>& sites() const;

  uint64_t fine_cell(double lat, double lon) const;
  uint64_t coarse_cell(double lat, double lon) const;
  /// S2CellId::ToToken of a cell id, for output ("X" for 0).
  static std::string cell_token(uint64_t cell_id);
  struct LatLon {
    double lat = 0, lon = 0;
  };
  /// The centre of a cell (where a window-derived alert is placed).
  static LatLon cell_center(uint64_t cell_id);

  /// Sizes of the internal lookup tables, for logs and benchmarks.
  struct Stats {
    size_t district_cells = 0;    ///< table cells answered without an exact test
    size_t boundary_cells = 0;    ///< table cells needing an exact point-in-polygon test
    size_t site_cells = 0;        ///< cells of the nearest-site table
    size_t site_candidates = 0;   ///< candidate entries over all site cells
    size_t zone_transitions = 0;  ///< UTC-offset changes in the time table
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit Enricher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
