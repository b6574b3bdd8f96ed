#include "server/map_data.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace sentinel {

namespace {
using nlohmann::json;

json read_geojson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error(path + ": not a GeoJSON object");
  return j;
}

std::vector<const json*> features(const json& fc) {
  std::vector<const json*> out;
  if (fc.value("type", "") == "FeatureCollection" && fc.contains("features") && fc["features"].is_array()) {
    for (const json& f : fc["features"]) out.push_back(&f);
  } else if (fc.value("type", "") == "Feature") {
    out.push_back(&fc);
  }
  return out;
}

std::string property_text(const json& props, const char* key) {
  if (!props.is_object() || !props.contains(key)) return "";
  const json& v = props[key];
  return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
}

void add_points(const json& fc, const std::string& fallback_kind, json& sites, json* circles, double radius_m) {
  for (const json* f : features(fc)) {
    if (!f->contains("geometry") || !(*f)["geometry"].is_object()) continue;
    const json& g = (*f)["geometry"];
    if (g.value("type", "") != "Point" || !g.contains("coordinates") || g["coordinates"].size() < 2) continue;
    const double lon = g["coordinates"][0].get<double>(), lat = g["coordinates"][1].get<double>();
    const json props = f->value("properties", json::object());
    if (circles) {
      circles->push_back({{"lat", lat}, {"lon", lon}, {"radius_m", radius_m}});
    } else {
      std::string kind = property_text(props, "kind");
      std::string id = property_text(props, "id");
      if (id.empty()) id = property_text(props, (kind + "_id").c_str());
      sites.push_back({{"kind", kind.empty() ? fallback_kind : kind}, {"id", id}, {"lat", lat}, {"lon", lon}});
    }
  }
}

void add_rings(const json& fc, json& polygons) {
  for (const json* f : features(fc)) {
    const json& g = f->value("type", "") == "Feature" ? (*f)["geometry"] : *f;
    if (!g.is_object()) continue;
    const std::string type = g.value("type", "");
    if (type == "Polygon" && g.contains("coordinates")) {
      polygons.push_back(g["coordinates"][0]);
    } else if (type == "MultiPolygon" && g.contains("coordinates")) {
      for (const json& poly : g["coordinates"]) polygons.push_back(poly[0]);
    }
  }
}
}  // namespace

std::string build_map_json(const Config& config) {
  json out;
  out["districts"] = config.city.districts.empty() ? json(nullptr) : read_geojson(config.city.districts);
  json sites = json::array();
  for (const std::string& file : config.city.sensitive_sites) {
    add_points(read_geojson(file), std::filesystem::path(file).stem().string(), sites, nullptr, 0);
  }
  out["sites"] = std::move(sites);
  json fences = json::array();
  for (const GeofenceRuleConfig& g : config.geofences) {
    json fence{{"name", g.name}, {"types", g.types}, {"polygons", json::array()}, {"circles", json::array()}};
    if (!g.polygons.empty()) add_rings(read_geojson(g.polygons), fence["polygons"]);
    if (!g.sites.empty()) {
      json unused;
      add_points(read_geojson(g.sites), "", unused, &fence["circles"], g.radius_m);
    }
    fences.push_back(std::move(fence));
  }
  out["geofences"] = std::move(fences);
  // The score's weights, boosts and bands: visible to the operator, not buried.
  const PriorityConfig& pc = config.priority;
  out["weights"] = {{"threat_severity", pc.weights.threat_severity},
                    {"model_confidence", pc.weights.model_confidence},
                    {"corroboration", pc.weights.corroboration},
                    {"temporal_urgency", pc.weights.temporal_urgency},
                    {"spatial_sensitivity", pc.weights.spatial_sensitivity}};
  out["boosts"] = {{"two_sources", pc.boost_corroborated}, {"three_or_more", pc.boost_multi}};
  out["bands"] = {{"P0", pc.band_p0}, {"P1", pc.band_p1}, {"P2", pc.band_p2}};
  const auto& b = config.city.bounds;
  const bool whole_globe = b[0] <= -90 && b[2] >= 90;
  out["center"] = whole_globe ? json(nullptr) : json{{"lat", (b[0] + b[2]) / 2}, {"lon", (b[1] + b[3]) / 2}};
  out["bounds"] = whole_globe ? json(nullptr) : json::array({b[0], b[1], b[2], b[3]});
  return out.dump();
}

}  // namespace sentinel
