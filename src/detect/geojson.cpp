#include "detect/geojson.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "core/config.h"

namespace sentinel::geojson {
namespace {

using nlohmann::json;

/// Carries the origin and builds "<origin>: <path>: <reason>" errors.
class Reader {
 public:
  explicit Reader(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail(const std::string& path, const std::string& reason) const {
    throw ConfigError(origin_ + ": " + (path.empty() ? reason : path + ": " + reason));
  }

  Position position(const json& j, const std::string& path) const {
    if (!j.is_array() || j.size() < 2) fail(path, "a position must be an array [lon, lat]");
    if (!j[0].is_number() || !j[1].is_number()) fail(path, "position values must be numbers");
    const double lon = j[0].get<double>();
    const double lat = j[1].get<double>();
    if (!std::isfinite(lon) || lon < -180.0 || lon > 180.0) {
      fail(path, "longitude " + text(j[0]) + " is outside [-180, 180]");
    }
    if (!std::isfinite(lat) || lat < -90.0 || lat > 90.0) {
      fail(path, "latitude " + text(j[1]) + " is outside [-90, 90]");
    }
    return Position{lon, lat};
  }

  std::vector<Position> positions(const json& j, const std::string& path) const {
    if (!j.is_array()) fail(path, "expected an array of positions");
    std::vector<Position> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) out.push_back(position(j[i], indexed(path, i)));
    return out;
  }

  Polygon polygon(const json& j, const std::string& path) const {
    if (!j.is_array() || j.empty()) fail(path, "a polygon must be a non-empty array of rings");
    Polygon poly;
    poly.rings.reserve(j.size());
    for (size_t r = 0; r < j.size(); ++r) {
      std::string ring_path = indexed(path, r);
      poly.rings.push_back(positions(j[r], ring_path));
      if (poly.rings.back().size() < 3) fail(ring_path, "a ring needs at least 3 positions");
    }
    return poly;
  }

  Geometry geometry(const json& j, const std::string& path) const {
    Geometry g;
    if (j.is_null()) return g;
    if (!j.is_object()) fail(path, "geometry must be an object or null");
    auto type_it = j.find("type");
    if (type_it == j.end() || !type_it->is_string()) fail(path, "geometry needs a string \"type\"");
    const std::string& type = type_it->get_ref<const std::string&>();
    g.kind = kind_of(type, path);
    if (g.kind == GeometryKind::kGeometryCollection) return g;

    auto coords_it = j.find("coordinates");
    if (coords_it == j.end()) fail(path, type + " needs \"coordinates\"");
    const json& c = *coords_it;
    const std::string cpath = path + ".coordinates";
    switch (g.kind) {
      case GeometryKind::kPoint:
        g.points.push_back(position(c, cpath));
        break;
      case GeometryKind::kMultiPoint:
      case GeometryKind::kLineString:
        g.points = positions(c, cpath);
        break;
      case GeometryKind::kMultiLineString:
        if (!c.is_array()) fail(cpath, "expected an array of line strings");
        for (size_t i = 0; i < c.size(); ++i) {
          std::vector<Position> line = positions(c[i], indexed(cpath, i));
          g.points.insert(g.points.end(), line.begin(), line.end());
        }
        break;
      case GeometryKind::kPolygon:
        g.polygons.push_back(polygon(c, cpath));
        break;
      case GeometryKind::kMultiPolygon:
        if (!c.is_array()) fail(cpath, "expected an array of polygons");
        g.polygons.reserve(c.size());
        for (size_t i = 0; i < c.size(); ++i)
          g.polygons.push_back(polygon(c[i], indexed(cpath, i)));
        break;
      case GeometryKind::kNone:
      case GeometryKind::kGeometryCollection:
        break;
    }
    return g;
  }

  Feature feature(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "a feature must be an object");
    auto type_it = j.find("type");
    if (type_it == j.end() || *type_it != "Feature") fail(path, "\"type\" must be \"Feature\"");
    Feature f;
    auto geometry_it = j.find("geometry");
    if (geometry_it != j.end()) f.geometry = geometry(*geometry_it, path + ".geometry");
    auto props_it = j.find("properties");
    if (props_it != j.end() && !props_it->is_null()) {
      if (!props_it->is_object()) fail(path + ".properties", "must be an object or null");
      for (const auto& [key, value] : props_it->items()) {
        if (value.is_null()) continue;
        f.properties.emplace(key, value.is_string() ? value.get<std::string>() : text(value));
      }
    }
    return f;
  }

 private:
  /// JSON text of a value; invalid UTF-8 in strings is replaced rather than thrown on.
  static std::string text(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  static std::string indexed(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

  GeometryKind kind_of(const std::string& type, const std::string& path) const {
    static constexpr std::pair<std::string_view, GeometryKind> kKinds[] = {
        {"Point", GeometryKind::kPoint},
        {"MultiPoint", GeometryKind::kMultiPoint},
        {"LineString", GeometryKind::kLineString},
        {"MultiLineString", GeometryKind::kMultiLineString},
        {"Polygon", GeometryKind::kPolygon},
        {"MultiPolygon", GeometryKind::kMultiPolygon},
        {"GeometryCollection", GeometryKind::kGeometryCollection},
    };
    for (const auto& [name, kind] : kKinds) {
      if (name == type) return kind;
    }
    fail(path, "unknown geometry type \"" + type + "\"");
  }

  const std::string& origin_;
};

}  // namespace

std::string_view geometry_kind_name(GeometryKind kind) {
  switch (kind) {
    case GeometryKind::kNone:
      return "null";
    case GeometryKind::kPoint:
      return "Point";
    case GeometryKind::kMultiPoint:
      return "MultiPoint";
    case GeometryKind::kLineString:
      return "LineString";
    case GeometryKind::kMultiLineString:
      return "MultiLineString";
    case GeometryKind::kPolygon:
      return "Polygon";
    case GeometryKind::kMultiPolygon:
      return "MultiPolygon";
    case GeometryKind::kGeometryCollection:
      return "GeometryCollection";
  }
  return "null";
}

const std::string* Feature::property(std::string_view key) const {
  auto it = properties.find(key);
  return it == properties.end() ? nullptr : &it->second;
}

std::vector<Feature> parse_features(std::string_view text, const std::string& origin) {
  Reader reader(origin);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number such as 1e999. e.what() is
    // "[json.exception.parse_error.101] parse error at line 1, ...": keep the part a user reads.
    std::string what = e.what();
    auto bracket = what.find("] ");
    reader.fail(
        "", "not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  if (!doc.is_object()) reader.fail("", "GeoJSON must be an object");
  auto type_it = doc.find("type");
  if (type_it == doc.end() || !type_it->is_string())
    reader.fail("", "GeoJSON needs a string \"type\"");

  std::vector<Feature> out;
  const std::string& type = type_it->get_ref<const std::string&>();
  if (type == "FeatureCollection") {
    auto features_it = doc.find("features");
    if (features_it == doc.end() || !features_it->is_array()) {
      reader.fail("", "a FeatureCollection needs a \"features\" array");
    }
    out.reserve(features_it->size());
    for (size_t i = 0; i < features_it->size(); ++i) {
      out.push_back(reader.feature((*features_it)[i], "features[" + std::to_string(i) + "]"));
    }
  } else if (type == "Feature") {
    out.push_back(reader.feature(doc, "feature"));
  } else {
    Feature f;
    f.geometry = reader.geometry(doc, "geometry");
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Feature> read_features(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw ConfigError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": read error");
  return parse_features(buffer.str(), path);
}

}  // namespace sentinel::geojson
