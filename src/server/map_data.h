// The map layers GET /v1/map serves, built once at start-up from the config:
// district boundaries (the configured GeoJSON, as is), sensitive sites and
// geofences. Sites are named by kind and id, never by their "name" property:
// many public buildings are named after real people, and names of people
// from the reference data must not appear on the page.
#pragma once

#include <string>

#include "core/config.h"

namespace sentinel {

/// {"districts":GeoJSON|null,"sites":[{"kind","id","lat","lon"}...],
///  "geofences":[{"name","types":[...],"polygons":[[[lon,lat]...]...],
///  "circles":[{"lat","lon","radius_m"}...]}...],"center":{"lat","lon"}|null,
///  "bounds":[min_lat,min_lon,max_lat,max_lon]|null, "weights":{term:weight},
///  "boosts":{"two_sources","three_or_more"},"bands":{"P0","P1","P2"}}.
/// Throws std::runtime_error naming the file when a configured file cannot be read.
std::string build_map_json(const Config& config);

}  // namespace sentinel
