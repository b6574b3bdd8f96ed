// Geofences (DESIGN.md section 3.5): rules of (area x event types) -> alert.
// A rule's area is either the polygons of a GeoJSON file (Polygon and
// MultiPolygon features, holes allowed) or a radius around every point of a
// GeoJSON file of sites; its types are event type prefixes.
//
// How the pipeline uses it: rules_for_type() once per interned event type
// (the caller caches the mask), then match() per located event with that
// mask, and describe() per rule that matched, for the alert's reasons.
//
// Semantics, all exact (S2 predicates, no tolerance):
//   - polygon rule: the point is inside some feature. Boundaries are
//     semi-open (S2's model): a point on an edge shared by two areas belongs
//     to exactly one of them, so adjacent polygons never both match.
//   - sites rule: the point is within radius_m of some site, distance along
//     the sphere with S2Earth's radius (6371.01 km), radius included.
//
// Lifecycle: build() once at start-up; then the index is immutable. There is
// no state to checkpoint. Threading: every const method may be called
// concurrently from any number of shard threads (no locks, no shared mutable
// state, no allocation in match()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace sentinel::detect {

class GeofenceIndex {
 public:
  /// Rules are numbered by their position: bit i of a mask is rules()[i].
  static constexpr size_t kMaxRules = 64;

  /// Loads every rule's GeoJSON file and builds the spatial indexes. Throws
  /// ConfigError("geofences[<i>] (<name>): <file>: <reason>") when a file is
  /// missing or not valid GeoJSON, holds no features, holds a feature of the
  /// wrong geometry (polygons: Polygon or MultiPolygon; sites: Point or
  /// MultiPoint) or a polygon S2 finds invalid (self-crossing ring, rings
  /// that cross); ConfigError("geofences[<i>] (<name>): <reason>") for a rule
  /// with both or neither of polygons/sites, radius_m <= 0 (or not finite)
  /// with sites, a radius with polygons, an empty name or an empty type
  /// prefix, a name used twice; and ConfigError("geofences: ...") for more
  /// than kMaxRules rules. Ring winding does not matter: each ring encloses
  /// its smaller side and containment tells holes from shells.
  static std::unique_ptr<GeofenceIndex> build(const std::vector<GeofenceRuleConfig>& rules);

  ~GeofenceIndex();
  GeofenceIndex(const GeofenceIndex&) = delete;
  GeofenceIndex& operator=(const GeofenceIndex&) = delete;

  /// Bitmask of the rules whose types match the event type: a rule with no
  /// types matches every type; a prefix matches the type itself and every
  /// type below it in the dotted hierarchy ("cad.call.weapon" matches
  /// "cad.call.weapon" and "cad.call.weapon.x", not "cad.call.weaponry"); a
  /// prefix ending in "." or ".*" matches only types below it ("sensor." and
  /// "sensor.*" match "sensor.gunshot", not "sensor"). Cost is linear in the
  /// number of prefixes: cache the result per interned type.
  uint64_t rules_for_type(std::string_view type) const;

  /// Bitmask of the rules in `candidate_rules` whose area holds the point.
  /// Bits beyond size() are ignored; an invalid coordinate (NaN, out of
  /// range) matches nothing. Allocation-free.
  uint64_t match(double lat, double lon, uint64_t candidate_rules) const;

  /// Where a point matched a rule, for the alert's reasons.
  struct Hit {
    /// Polygon rule: the lowest-numbered feature holding the point; sites
    /// rule: the nearest site within the radius (ties: the lowest feature).
    /// Its "name" property, else "feature <n>" (n = index in the file's
    /// features). Empty when the rule does not hold the point.
    std::string place;
    /// 0 for a polygon; metres to the site for a sites rule; +infinity when
    /// the rule does not hold the point.
    double distance_m = 0;
  };
  /// Describes why `rule` holds the point; consistent with match(): place is
  /// non-empty exactly when match() has the rule's bit. `rule` >= size() gives
  /// an empty Hit.
  Hit describe(size_t rule, double lat, double lon) const;

  /// The rules as configured, in bit order.
  const std::vector<GeofenceRuleConfig>& rules() const;
  size_t size() const;

 private:
  struct Impl;
  explicit GeofenceIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::detect
