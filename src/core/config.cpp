// The configuration loader: one schema table drives parsing, validation,
// error messages and the generated reference (docs/CONFIG.md).
//
// How a file is read: yaml-cpp builds a node tree; walk() visits every mapping
// key against the table, so an unknown key or a key at the wrong nesting is
// found wherever it is; each leaf is parsed by its entry's `apply`, which
// writes the member through a typed accessor; then the checks that involve
// more than one key run. The first problem ends the load with a ConfigError.
#include "core/config.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

namespace sentinel {
namespace {

namespace fs = std::filesystem;

/// A member of Config, reached from the root; one function per member, made
/// from two pointers-to-member by `member<>` below.
template <typename T>
using Field = T& (*)(Config&);

template <auto Section, auto Member>
auto& member(Config& c) {
  return (c.*Section).*Member;
}

/// A member one level deeper ("priority.weights.threat_severity").
template <auto Section, auto Group, auto Member>
auto& member3(Config& c) {
  return ((c.*Section).*Group).*Member;
}

/// What apply() needs besides the node.
struct Context {
  fs::path base_dir;
};

/// A failed parse: the reason, without origin or key (the walker adds them).
using Reason = std::optional<std::string>;

/// One key of the file.
struct KeySpec {
  std::string path;   ///< "windows.allowed_lateness"
  std::string type;   ///< for the docs: "duration", "integer", ...
  std::string range;  ///< for the docs: "[0, 30]", "one of ...", or ""
  std::string doc;    ///< one line
  /// Parses `node` into the member; returns the reason on failure.
  std::function<Reason(const YAML::Node&, Config&, const Context&)> apply;
  /// The member's value as one would write it in YAML (defaults in the docs).
  std::function<std::string(Config&)> show;
};

// ---------------------------------------------------------------- scalars --

/// A value from the file made safe for a one-line message: control
/// characters escaped, values longer than `max_chars` cut (file paths are
/// never cut: the user needs all of them).
std::string escaped(std::string_view value, size_t max_chars = 60) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (i == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string shown(std::string_view value) {
  return "'" + escaped(value) + "'";
}

/// How a node is named in "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return shown(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

struct SizeUnit {
  std::string_view name;
  uint64_t bytes;
};
// Binary units first: format_size() picks the largest that divides exactly.
constexpr SizeUnit kSizeUnits[] = {{"GiB", 1ull << 30},
                                   {"MiB", 1ull << 20},
                                   {"KiB", 1ull << 10},
                                   {"GB", 1'000'000'000},
                                   {"MB", 1'000'000},
                                   {"KB", 1000},
                                   {"B", 1}};

/// "16MiB", "512KiB", "1000", "1000B", "10MB".
std::optional<uint64_t> parse_size(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + i, value);
  if (ec != std::errc() || end != s.data() + i) return std::nullopt;
  const std::string_view unit = s.substr(i);
  uint64_t scale = 0;
  if (unit.empty()) {
    scale = 1;
  } else {
    for (const SizeUnit& u : kSizeUnits) {
      if (unit == u.name) scale = u.bytes;
    }
  }
  if (scale == 0 || value > std::numeric_limits<uint64_t>::max() / scale) return std::nullopt;
  return value * scale;
}

std::string format_size(uint64_t bytes) {
  for (const SizeUnit& u : kSizeUnits) {
    if (u.name.size() == 3 && bytes != 0 && bytes % u.bytes == 0) {
      return fmt::format("{}{}", bytes / u.bytes, u.name);
    }
  }
  return std::to_string(bytes);
}

std::optional<bool> parse_bool(std::string_view s) {
  // YAML 1.2 core schema only: "yes"/"on" are strings there, and treating
  // them as booleans is a known source of surprises.
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

/// A non-null scalar, or the reason it is not one.
Reason expect_scalar(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) return std::nullopt;
  return fmt::format("expected {}, got {}", what, describe(node));
}

/// Resolves a relative path against the config file's directory and checks
/// that it names a readable regular file.
Reason resolve_file(const std::string& value, const Context& ctx, std::string& out, bool directory_ok = false) {
  fs::path p(value);
  if (p.is_relative()) p = ctx.base_dir / p;
  p = p.lexically_normal();
  out = p.string();
  std::error_code ec;
  const fs::file_status status = fs::status(p, ec);
  if (!fs::exists(status)) return fmt::format("file not found: {}", escaped(out, out.size()));
  if (directory_ok && fs::is_directory(status)) return std::nullopt;
  if (!fs::is_regular_file(status))
    return fmt::format("not a regular file: {}", escaped(out, out.size()));
  return std::nullopt;
}

// ---------------------------------------------------------------- builders --

KeySpec make_key(std::string path, std::string type, std::string range, std::string doc) {
  KeySpec k;
  k.path = std::move(path);
  k.type = std::move(type);
  k.range = std::move(range);
  k.doc = std::move(doc);
  return k;
}

// Each builder fixes the YAML form of one kind of key; the accessor's type
// makes a mismatch between kind and member a compile error.

using Validator = std::function<Reason(const std::string&)>;

KeySpec string_key(std::string path, Field<std::string> get, std::string doc,
                   Validator validate = {}) {
  KeySpec k = make_key(std::move(path), "string", "", std::move(doc));
  k.apply = [get, validate](const YAML::Node& node, Config& c, const Context&) -> Reason {
    if (Reason r = expect_scalar(node, "a string")) return r;
    if (validate) {
      if (Reason r = validate(node.Scalar())) return r;
    }
    get(c) = node.Scalar();
    return std::nullopt;
  };
  k.show = [get](Config& c) { return quote(get(c)); };
  return k;
}

/// A file (or, with `directory_ok`, a directory); "" means none. Stored
/// resolved against the config's directory.
KeySpec path_key(std::string path, Field<std::string> get, std::string doc, bool directory_ok = false) {
  KeySpec k = make_key(std::move(path), directory_ok ? "path (file or directory)" : "path", "", std::move(doc));
  k.apply = [get, directory_ok](const YAML::Node& node, Config& c, const Context& ctx) -> Reason {
    if (Reason r = expect_scalar(node, "a file path")) return r;
    std::string resolved;
    if (!node.Scalar().empty()) {
      if (Reason r = resolve_file(node.Scalar(), ctx, resolved, directory_ok)) return r;
    }
    get(c) = resolved;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return quote(get(c)); };
  return k;
}

/// A file Sentinel writes (created when missing): resolved like path_key,
/// but only a directory in its place is an error.
KeySpec output_path_key(std::string path, Field<std::string> get, std::string doc) {
  KeySpec k = make_key(std::move(path), "path (created when missing)", "", std::move(doc));
  k.apply = [get](const YAML::Node& node, Config& c, const Context& ctx) -> Reason {
    if (Reason r = expect_scalar(node, "a file path")) return r;
    std::string resolved;
    if (!node.Scalar().empty()) {
      fs::path p(node.Scalar());
      if (p.is_relative()) p = ctx.base_dir / p;
      resolved = p.lexically_normal().string();
      std::error_code ec;
      if (fs::is_directory(resolved, ec)) return fmt::format("is a directory: {}", escaped(resolved, resolved.size()));
    }
    get(c) = resolved;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return quote(get(c)); };
  return k;
}

KeySpec enum_key(std::string path, Field<std::string> get, std::vector<std::string> choices,
                 std::string doc) {
  const std::string listed = fmt::format("{}", fmt::join(choices, ", "));
  KeySpec k = make_key(std::move(path), "enum", "one of " + listed, std::move(doc));
  k.apply = [get, choices, listed](const YAML::Node& node, Config& c, const Context&) -> Reason {
    const std::string what = "one of " + listed;
    if (Reason r = expect_scalar(node, what)) return r;
    if (std::find(choices.begin(), choices.end(), node.Scalar()) == choices.end()) {
      return fmt::format("expected {}, got {}", what, describe(node));
    }
    get(c) = node.Scalar();
    return std::nullopt;
  };
  k.show = [get](Config& c) { return get(c); };
  return k;
}

KeySpec bool_key(std::string path, Field<bool> get, std::string doc) {
  KeySpec k = make_key(std::move(path), "bool", "", std::move(doc));
  k.apply = [get](const YAML::Node& node, Config& c, const Context&) -> Reason {
    if (Reason r = expect_scalar(node, "true or false")) return r;
    const std::optional<bool> v = parse_bool(node.Scalar());
    if (!v) return fmt::format("expected true or false, got {}", describe(node));
    get(c) = *v;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return std::string(get(c) ? "true" : "false"); };
  return k;
}

template <typename T>
KeySpec int_key(std::string path, Field<T> get, int64_t min, int64_t max, std::string doc) {
  static_assert(std::is_integral_v<T> && sizeof(T) <= 4, "wider integers are sizes");
  KeySpec k =
      make_key(std::move(path), "integer", fmt::format("[{}, {}]", min, max), std::move(doc));
  k.apply = [get, min, max](const YAML::Node& node, Config& c, const Context&) -> Reason {
    if (Reason r = expect_scalar(node, "an integer")) return r;
    const std::optional<int64_t> v = parse_int(node.Scalar());
    if (!v) return fmt::format("expected an integer, got {}", describe(node));
    if (*v < min || *v > max) return fmt::format("{} is out of range [{}, {}]", *v, min, max);
    get(c) = static_cast<T>(*v);
    return std::nullopt;
  };
  k.show = [get](Config& c) { return std::to_string(get(c)); };
  return k;
}

KeySpec size_key(std::string path, Field<uint64_t> get, uint64_t min, uint64_t max,
                 std::string doc) {
  const std::string range = fmt::format("[{}, {}]", format_size(min), format_size(max));
  KeySpec k = make_key(std::move(path), "size", range, std::move(doc));
  k.apply = [get, min, max, range](const YAML::Node& node, Config& c, const Context&) -> Reason {
    constexpr std::string_view kWhat = "a size like 16MiB or 512KiB, or a byte count";
    if (Reason r = expect_scalar(node, kWhat)) return r;
    const std::optional<uint64_t> v = parse_size(node.Scalar());
    if (!v) return fmt::format("expected {}, got {}", kWhat, describe(node));
    if (*v < min || *v > max) return fmt::format("{} is out of range {}", node.Scalar(), range);
    get(c) = *v;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return format_size(get(c)); };
  return k;
}

KeySpec duration_key(std::string path, Field<Millis> get, std::string_view min,
                     std::string_view max, std::string doc) {
  const Millis lo = parse_duration(min).value(), hi = parse_duration(max).value();
  const std::string range = fmt::format("[{}, {}]", min, max);
  KeySpec k = make_key(std::move(path), "duration", range, std::move(doc));
  k.apply = [get, lo, hi, range](const YAML::Node& node, Config& c, const Context&) -> Reason {
    if (Reason r = expect_scalar(node, "a duration like 5m")) return r;
    const std::optional<Millis> v = parse_duration(node.Scalar());
    if (!v) return fmt::format("expected a duration like 5m, got {}", describe(node));
    if (*v < lo || *v > hi) return fmt::format("{} is out of range {}", node.Scalar(), range);
    get(c) = *v;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return format_duration(get(c)); };
  return k;
}

/// Shortest text that reads back as the same double ("0.35", "1", "1e-05").
std::string show_number(double v) { return fmt::format("{}", v); }

KeySpec number_key(std::string path, Field<double> get, double min, double max, std::string doc) {
  const std::string range = fmt::format("[{}, {}]", show_number(min), show_number(max));
  KeySpec k = make_key(std::move(path), "number", range, std::move(doc));
  k.apply = [get, min, max, range](const YAML::Node& node, Config& c, const Context&) -> Reason {
    if (Reason r = expect_scalar(node, "a number")) return r;
    const std::optional<double> v = parse_double(node.Scalar());
    if (!v) return fmt::format("expected a number, got {}", describe(node));
    if (*v < min || *v > max) return fmt::format("{} is out of range {}", node.Scalar(), range);
    get(c) = *v;
    return std::nullopt;
  };
  k.show = [get](Config& c) { return show_number(get(c)); };
  return k;
}

/// Shared by list keys: each item a non-null scalar, checked by `item`, which
/// may rewrite it (path resolution).
Reason parse_list(const YAML::Node& node, std::string_view what, size_t min_items,
                  const std::function<Reason(std::string&)>& item, std::vector<std::string>& out) {
  if (!node.IsSequence()) return fmt::format("expected {}, got {}", what, describe(node));
  if (node.size() < min_items) return fmt::format("needs at least {} item(s)", min_items);
  std::vector<std::string> values;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node element = node[i];
    if (!element.IsScalar()) {
      return fmt::format("item {}: expected a string, got {}", i + 1, describe(element));
    }
    std::string value = element.Scalar();
    if (Reason r = item(value)) return fmt::format("item {}: {}", i + 1, *r);
    if (std::find(values.begin(), values.end(), value) != values.end()) {
      return fmt::format("item {}: {} is listed twice", i + 1, describe(element));
    }
    values.push_back(std::move(value));
  }
  out = std::move(values);
  return std::nullopt;
}

std::string show_list(const std::vector<std::string>& values, bool quoted) {
  std::vector<std::string> items;
  for (const std::string& v : values) items.push_back(quoted ? quote(v) : v);
  return fmt::format("[{}]", fmt::join(items, ", "));
}

KeySpec string_list_key(std::string path, Field<std::vector<std::string>> get, size_t min_items,
                        std::string doc, Validator validate) {
  KeySpec k = make_key(std::move(path), "list of strings",
                       min_items > 0 ? fmt::format("at least {}", min_items) : "", std::move(doc));
  k.apply = [get, min_items, validate](const YAML::Node& node, Config& c,
                                       const Context&) -> Reason {
    return parse_list(
        node, "a list of strings", min_items, [&](std::string& v) { return validate(v); }, get(c));
  };
  k.show = [get](Config& c) { return show_list(get(c), false); };
  return k;
}

KeySpec path_list_key(std::string path, Field<std::vector<std::string>> get, std::string doc) {
  KeySpec k = make_key(std::move(path), "list of paths", "", std::move(doc));
  k.apply = [get](const YAML::Node& node, Config& c, const Context& ctx) -> Reason {
    return parse_list(
        node, "a list of file paths", 0,
        [&](std::string& v) -> Reason {
          if (v.empty()) return "expected a file path, got ''";
          std::string resolved;
          if (Reason r = resolve_file(v, ctx, resolved)) return r;
          v = std::move(resolved);
          return std::nullopt;
        },
        get(c));
  };
  k.show = [get](Config& c) { return show_list(get(c), true); };
  return k;
}

Reason type_prefix(const std::string& v);
Reason rule_name(const std::string& v);

/// `geofences:` is a list of rules, each a mapping with its own keys; the
/// walker hands the whole list to this one entry, so item keys are checked here.
KeySpec geofences_key(std::string path, std::string doc) {
  KeySpec k = make_key(std::move(path), "list of rules",
                       "each: name, polygons or sites + radius_m, types", std::move(doc));
  k.apply = [](const YAML::Node& node, Config& c, const Context& ctx) -> Reason {
    if (!node.IsSequence()) return fmt::format("expected a list of rules, got {}", describe(node));
    if (node.size() > 64) return fmt::format("{} rules, at most 64", node.size());
    std::vector<GeofenceRuleConfig> rules;
    static const std::vector<std::string> kKeys = {"name", "polygons", "sites", "radius_m", "types"};
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string at = fmt::format("item {}", i + 1);
      if (!item.IsMap()) return fmt::format("{}: expected a mapping, got {}", at, describe(item));
      GeofenceRuleConfig rule;
      std::set<std::string> seen;
      for (const auto& entry : item) {
        if (!entry.first.IsScalar()) return fmt::format("{}: keys must be plain names", at);
        const std::string& key = entry.first.Scalar();
        const YAML::Node& v = entry.second;
        if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
          return fmt::format("{}: {}: unknown key (known: {})", at, escaped(key), fmt::join(kKeys, ", "));
        }
        if (!seen.insert(key).second) return fmt::format("{}: {}: duplicate key", at, key);
        if (key == "types") {
          std::vector<std::string> types;
          if (Reason r = parse_list(v, "a list of event type prefixes", 0, type_prefix, types)) {
            return fmt::format("{}: types: {}", at, *r);
          }
          rule.types = std::move(types);
          continue;
        }
        if (Reason r = expect_scalar(v, key == "radius_m" ? "a number" : "a string")) {
          return fmt::format("{}: {}: {}", at, key, *r);
        }
        if (key == "name") {
          if (Reason r = rule_name(v.Scalar())) return fmt::format("{}: name: {}", at, *r);
          rule.name = v.Scalar();
        } else if (key == "radius_m") {
          const std::optional<double> d = parse_double(v.Scalar());
          if (!d || *d <= 0 || *d > 100'000) {
            return fmt::format("{}: radius_m: expected metres in (0, 100000], got {}", at, describe(v));
          }
          rule.radius_m = *d;
        } else {
          std::string resolved;
          if (Reason r = resolve_file(v.Scalar(), ctx, resolved)) return fmt::format("{}: {}: {}", at, key, *r);
          (key == "polygons" ? rule.polygons : rule.sites) = resolved;
        }
      }
      if (rule.name.empty()) return fmt::format("{}: name is required", at);
      for (const auto& other : rules) {
        if (other.name == rule.name) return fmt::format("{} ({}): the name is used twice", at, rule.name);
      }
      if (rule.polygons.empty() == rule.sites.empty()) {
        return fmt::format("{} ({}): give either polygons or sites (with radius_m)", at, rule.name);
      }
      if (!rule.sites.empty() && rule.radius_m <= 0) {
        return fmt::format("{} ({}): sites needs radius_m", at, rule.name);
      }
      if (!rule.polygons.empty() && rule.radius_m > 0) {
        return fmt::format("{} ({}): radius_m applies to sites, not polygons", at, rule.name);
      }
      rules.push_back(std::move(rule));
    }
    c.geofences = std::move(rules);
    return std::nullopt;
  };
  k.show = [](Config& c) { return c.geofences.empty() ? std::string("[]") : fmt::format("{} rules", c.geofences.size()); };
  return k;
}

/// [min_lat, min_lon, max_lat, max_lon]; the coordinate checks live here
/// because all four numbers are one key.
KeySpec bounds_key(std::string path, Field<std::array<double, 4>> get, std::string doc) {
  KeySpec k = make_key(std::move(path), "4 numbers",
                       "lat in [-90, 90], lon in [-180, 180], min < max", std::move(doc));
  k.apply = [get](const YAML::Node& node, Config& c, const Context&) -> Reason {
    constexpr std::string_view kWhat = "a list of 4 numbers [min_lat, min_lon, max_lat, max_lon]";
    if (!node.IsSequence()) return fmt::format("expected {}, got {}", kWhat, describe(node));
    if (node.size() != 4) return fmt::format("expected {}, got {} item(s)", kWhat, node.size());
    static constexpr std::array<std::string_view, 4> kNames = {"min_lat", "min_lon", "max_lat",
                                                               "max_lon"};
    std::array<double, 4> v{};
    for (size_t i = 0; i < 4; ++i) {
      const YAML::Node element = node[i];
      const std::optional<double> d =
          element.IsScalar() ? parse_double(element.Scalar()) : std::nullopt;
      if (!d) return fmt::format("{}: expected a number, got {}", kNames[i], describe(element));
      const double limit = i % 2 == 0 ? 90.0 : 180.0;
      if (*d < -limit || *d > limit) {
        return fmt::format("{} {} is out of range [{}, {}]", kNames[i], *d, -limit, limit);
      }
      v[i] = *d;
    }
    for (size_t i = 0; i < 2; ++i) {
      if (!(v[i] < v[i + 2])) {
        return fmt::format("{} {} must be below {} {}", kNames[i], v[i], kNames[i + 2], v[i + 2]);
      }
    }
    get(c) = v;
    return std::nullopt;
  };
  k.show = [get](Config& c) {
    const std::array<double, 4>& b = get(c);
    return fmt::format("[{}, {}, {}, {}]", b[0], b[1], b[2], b[3]);
  };
  return k;
}

// -------------------------------------------------------------- validators --

Reason non_empty_zone(const std::string& v) {
  if (v.empty()) return "must not be empty; use an IANA zone such as UTC or America/Chicago";
  return std::nullopt;
}

Reason feed_url(const std::string& v) {
  if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
    return fmt::format("{} is not an http:// or https:// URL", shown(v));
  return std::nullopt;
}

Reason domain_name(const std::string& v) {
  if (v != "political_violence" && v != "crime" && v != "enforcement")
    return fmt::format("{} is not a domain (political_violence, crime, enforcement)", shown(v));
  return std::nullopt;
}

Reason region_name(const std::string& v) {
  if (v.empty()) return std::string("a region name must not be empty");
  return std::nullopt;
}

Reason source_name(const std::string& v) {
  const bool ok =
      !v.empty() && v[0] >= 'a' && v[0] <= 'z' && std::all_of(v.begin(), v.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
      });
  if (!ok)
    return fmt::format("{} is not a source name (lower-case letters, digits, _ and -)", shown(v));
  return std::nullopt;
}

/// An event type or the start of one: "sensor.", "cad.call.weapon".
Reason type_prefix(const std::string& v) {
  const bool ok = !v.empty() && v[0] >= 'a' && v[0] <= 'z' && std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
  });
  if (!ok) return fmt::format("{} is not an event type prefix (lower-case letters, digits, _, - and .)", shown(v));
  return std::nullopt;
}

Reason rule_name(const std::string& v) {
  const bool ok = !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-' || ch == '.';
  });
  if (!ok) return fmt::format("{} is not a rule name (1-64 letters, digits, _, - and .)", shown(v));
  return std::nullopt;
}

Reason host_port(const std::string& v) {
  const size_t colon = v.rfind(':');
  const std::string bad = fmt::format("expected host:port like 127.0.0.1:8080, got {}", shown(v));
  if (colon == std::string::npos || colon == 0) return bad;
  const std::string_view host = std::string_view(v).substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return bad;
  if (host.front() != '[' && host.find(':') != std::string_view::npos) return bad;
  const std::optional<int64_t> port = parse_int(std::string_view(v).substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return bad;
  return std::nullopt;
}

// ------------------------------------------------------------------ schema --

/// One line per top-level section, for the docs; the sections themselves are
/// the first segments of the key paths below.
std::string section_doc(std::string_view section) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kDocs = {
      {"city", "The city: time zone, districts, sensitive sites and the accepted area."},
      {"ingest", "Reading events: accepted sources, repeat detection, size limits."},
      {"cells", "Spatial grid (S2 cells) for windows, dedup keys and shard routing."},
      {"pipeline", "Shards and the queues that feed them."},
      {"watermark", "Event-time progress per source."},
      {"windows", "Event-time windows over the events of each cell."},
      {"checkpoint", "Periodic snapshots of state and source offsets."},
      {"thresholds", "Gates per alert type (DESIGN.md section 4): the minimum confidence of each."},
      {"priority", "The priority score: score = sum of weight x term + boost, clipped to 1; bands P0-P3."},
      {"alerts", "Which event types make which alert candidates (type prefixes)."},
      {"correlation", "Another source near in space and time corroborates an event."},
      {"spike", "Spike detection on tumbling counts per cell against a baseline learned online."},
      {"ml", "Online isolation forest over tumbling-window feature vectors."},
      {"geofences", "Rules of (polygon or radius around sites) x event types that always alert."},
      {"dedup", "Alert dedup: one alert per key while it keeps being updated."},
      {"bias", "Bias check: each district's share of ML-derived alerts against its share of events."},
      {"latency", "End-to-end latency budget and the circuit breaker on enrichment."},
      {"server", "HTTP ingest, REST, WebSocket and /metrics."},
      {"queue", "The alert queue behind the API and the WebSocket stream."},
      {"telemetry", "Flow telemetry in (network-flow detection, DESIGN.md section 6)."},
      {"detection", "The flow detection loop and its rules, math and tree engines."},
      {"ensemble", "Weighted vote of the flow engines: weights and the anomaly threshold."},
      {"kafka", "Kafka: flow telemetry in, signed anomaly, evidence and policy messages out."},
      {"intel", "Incident curation from open sources: feeds, enrichment, extraction, triage, curation."},
      {"log", "Logging."},
  };
  for (const auto& [name, doc] : kDocs) {
    if (name == section) return std::string(doc);
  }
  return "";
}

const std::vector<KeySpec>& schema() {
  using C = Config;
  static const std::vector<KeySpec> kSchema = {
      string_key("city.name", &member<&C::city, &CityConfig::name>,
                 "Display name of the city (page title, logs)."),
      string_key("city.time_zone", &member<&C::city, &CityConfig::time_zone>,
                 "IANA time zone for local hour and weekday; the enrichment stage checks that the "
                 "zone database knows it.",
                 non_empty_zone),
      path_key("city.districts", &member<&C::city, &CityConfig::districts>,
               "GeoJSON file of district polygons; \"\" = no districts."),
      string_key("city.district_name_property",
                 &member<&C::city, &CityConfig::district_name_property>,
                 "GeoJSON property that names a district; \"\" = `name`, else `community`."),
      path_list_key("city.sensitive_sites", &member<&C::city, &CityConfig::sensitive_sites>,
                    "GeoJSON files of sensitive sites as points (schools, hospitals, government "
                    "buildings)."),
      bounds_key("city.bounds", &member<&C::city, &CityConfig::bounds>,
                 "Accepted area [min_lat, min_lon, max_lat, max_lon]; events outside are dead "
                 "letters."),

      string_list_key("ingest.sources", &member<&C::ingest, &IngestConfig::sources>, 1,
                      "Accepted values of the CloudEvents `source` attribute.", source_name),
      duration_key("ingest.dedup_horizon", &member<&C::ingest, &IngestConfig::dedup_horizon>, "1s",
                   "30d",
                   "Event time for which a (source, id) pair is remembered, so a repeat is "
                   "processed once."),
      size_key("ingest.max_line_bytes", &member<&C::ingest, &IngestConfig::max_line_bytes>,
               1ull << 10, 1ull << 30,
               "Longest accepted input line; longer lines are dead letters."),
      duration_key("ingest.max_clock_skew", &member<&C::ingest, &IngestConfig::max_clock_skew>,
                   "0ms", "30d",
                   "Live mode: how far past the wall clock an event time may lie before the event "
                   "is a dead letter."),

      int_key("cells.fine_level", &member<&C::cells, &CellsConfig::fine_level>, 0, 30,
              "S2 level of the fine cell used by windows and dedup keys (14 is about 500 m)."),
      int_key("cells.coarse_level", &member<&C::cells, &CellsConfig::coarse_level>, 0, 30,
              "S2 level of the cell that routes events to shards (10 is about 10 km); at most "
              "fine_level."),

      int_key("pipeline.shards", &member<&C::pipeline, &PipelineConfig::shards>, 0, 1024,
              "Number of shards; 0 = one per hardware core."),
      int_key("pipeline.batch_size", &member<&C::pipeline, &PipelineConfig::batch_size>, 1, 1 << 20,
              "Events per batch handed to a shard."),
      int_key("pipeline.queue_batches", &member<&C::pipeline, &PipelineConfig::queue_batches>, 1,
              1 << 16, "Bounded queue length per shard, in batches."),

      duration_key("watermark.max_out_of_orderness",
                   &member<&C::watermark, &WatermarkConfig::max_out_of_orderness>, "0ms", "1d",
                   "How far a source's watermark trails the newest event time it has read."),
      duration_key("watermark.idle_timeout", &member<&C::watermark, &WatermarkConfig::idle_timeout>,
                   "1ms", "1d",
                   "Processing time without events after which a source stops holding back the "
                   "watermark."),

      duration_key("windows.allowed_lateness",
                   &member<&C::windows, &WindowsConfig::allowed_lateness>, "0ms", "7d",
                   "An event older than its source's watermark minus this is late."),
      bool_key("windows.tumbling", &member<&C::windows, &WindowsConfig::tumbling>,
               "Count events per cell and category in tumbling windows."),
      duration_key("windows.tumbling_size", &member<&C::windows, &WindowsConfig::tumbling_size>,
                   "1s", "7d", "Length of a tumbling window (aligned to the Unix epoch)."),
      bool_key("windows.sliding", &member<&C::windows, &WindowsConfig::sliding>,
               "Compute density in sliding windows."),
      duration_key("windows.sliding_size", &member<&C::windows, &WindowsConfig::sliding_size>, "1s",
                   "30d", "Length of a sliding window; a multiple of sliding_slide."),
      duration_key("windows.sliding_slide", &member<&C::windows, &WindowsConfig::sliding_slide>,
                   "1s", "7d", "Step between the starts of sliding windows."),
      bool_key("windows.session", &member<&C::windows, &WindowsConfig::session>,
               "Group related events into session windows."),
      duration_key("windows.session_gap", &member<&C::windows, &WindowsConfig::session_gap>, "1s",
                   "7d", "Gap of event time that closes a session window."),
      duration_key("windows.global_size", &member<&C::windows, &WindowsConfig::global_size>, "1m",
                   "30d", "Span of the global summary computed on request."),

      duration_key("checkpoint.interval", &member<&C::checkpoint, &CheckpointConfig::interval>,
                   "10ms", "1d", "Processing time between checkpoints."),
      int_key("checkpoint.keep", &member<&C::checkpoint, &CheckpointConfig::keep>, 1, 100,
              "Good checkpoints kept on disk."),

      path_key("audit.key", &member<&C::audit, &AuditConfig::key>,
               "Ed25519 secret key (from `sentinel keys generate`) that signs DIR/audit.jsonl; empty: no audit log."),
      int_key("audit.sign_every", &member<&C::audit, &AuditConfig::sign_every>, 1, 1000000,
              "Sign the hash-chain head every N records (1: every record; each signature covers all earlier records)."),

      number_key("thresholds.ml_anomaly", &member<&C::thresholds, &ThresholdsConfig::ml_anomaly>, 0, 1,
                 "ML anomaly: below this confidence it is suppressed (audit log only)."),
      number_key("thresholds.correlation_per_source",
                 &member<&C::thresholds, &ThresholdsConfig::correlation_per_source>, 0, 1,
                 "Correlation: a source whose best confidence is below this does not corroborate."),
      number_key("thresholds.correlation_combined",
                 &member<&C::thresholds, &ThresholdsConfig::correlation_combined>, 0, 1,
                 "Correlation: combined confidence 1 - prod(1 - c_i) needed to alert; below it the "
                 "candidate is suppressed."),
      number_key("thresholds.spike", &member<&C::thresholds, &ThresholdsConfig::spike>, 0, 1,
                 "Spike: below this confidence it is a trend_watch, not an alert."),

      number_key("priority.weights.threat_severity",
                 &member3<&C::priority, &PriorityConfig::weights, &PriorityWeightsConfig::threat_severity>, 0,
                 1, "Weight of threat_severity (violent/property/other)."),
      number_key("priority.weights.model_confidence",
                 &member3<&C::priority, &PriorityConfig::weights, &PriorityWeightsConfig::model_confidence>, 0,
                 1, "Weight of model_confidence (the alert's confidence)."),
      number_key("priority.weights.corroboration",
                 &member3<&C::priority, &PriorityConfig::weights, &PriorityWeightsConfig::corroboration>, 0, 1,
                 "Weight of corroboration = min(distinct sources - 1, 2) / 2."),
      number_key("priority.weights.temporal_urgency",
                 &member3<&C::priority, &PriorityConfig::weights, &PriorityWeightsConfig::temporal_urgency>, 0,
                 1, "Weight of temporal_urgency = exp(-age / urgency_time_constant)."),
      number_key("priority.weights.spatial_sensitivity",
                 &member3<&C::priority, &PriorityConfig::weights, &PriorityWeightsConfig::spatial_sensitivity>,
                 0, 1, "Weight of spatial_sensitivity (nearness to a sensitive site)."),
      number_key("priority.boost.corroborated", &member<&C::priority, &PriorityConfig::boost_corroborated>, 0, 1,
                 "Added to the score when exactly 2 distinct sources agree."),
      number_key("priority.boost.multi", &member<&C::priority, &PriorityConfig::boost_multi>, 0, 1,
                 "Added to the score when 3 or more distinct sources agree."),
      number_key("priority.severity.violent", &member<&C::priority, &PriorityConfig::severity_violent>, 0, 1,
                 "threat_severity of a violent event."),
      number_key("priority.severity.property", &member<&C::priority, &PriorityConfig::severity_property>, 0, 1,
                 "threat_severity of a property event."),
      number_key("priority.severity.other", &member<&C::priority, &PriorityConfig::severity_other>, 0, 1,
                 "threat_severity of any other event."),
      number_key("priority.default_confidence", &member<&C::priority, &PriorityConfig::default_confidence>, 0,
                 1, "model_confidence of an alert whose events carry no confidence (a bare sensor)."),
      duration_key("priority.urgency_time_constant",
                   &member<&C::priority, &PriorityConfig::urgency_time_constant>, "1s", "7d",
                   "temporal_urgency = exp(-age / this); age = now - event time (now: wall clock live, "
                   "watermark in replay)."),
      number_key("priority.site_full_m", &member<&C::priority, &PriorityConfig::site_full_m>, 0, 100'000,
                 "spatial_sensitivity is 1 within this many metres of a sensitive site ..."),
      number_key("priority.site_zero_m", &member<&C::priority, &PriorityConfig::site_zero_m>, 0, 100'000,
                 "... and falls linearly to 0 at this distance."),
      number_key("priority.bands.p0", &member<&C::priority, &PriorityConfig::band_p0>, 0, 1,
                 "Lowest score of P0."),
      number_key("priority.bands.p1", &member<&C::priority, &PriorityConfig::band_p1>, 0, 1,
                 "Lowest score of P1."),
      number_key("priority.bands.p2", &member<&C::priority, &PriorityConfig::band_p2>, 0, 1,
                 "Lowest score of P2; below it P3."),

      string_list_key("alerts.sensor_types", &member<&C::alerts, &AlertsConfig::sensor_types>, 0,
                      "Type prefixes that always alert (unverified when no other source corroborates).",
                      type_prefix),
      string_list_key("alerts.correlation_types", &member<&C::alerts, &AlertsConfig::correlation_types>, 0,
                      "Type prefixes whose events corroborate each other across sources.", type_prefix),
      string_list_key("alerts.model_types", &member<&C::alerts, &AlertsConfig::model_types>, 0,
                      "Type prefixes of events already scored by a model outside the shards (the flow "
                      "detection service's network anomalies): ml_anomaly candidates with their own "
                      "confidence, gated by thresholds.ml_anomaly.",
                      type_prefix),

      number_key("correlation.radius_m", &member<&C::correlation, &CorrelationConfig::radius_m>, 1, 50'000,
                 "Another source within this many metres corroborates an event."),
      duration_key("correlation.window", &member<&C::correlation, &CorrelationConfig::window>, "1s", "1d",
                   "... within this much event time (either way)."),
      int_key("correlation.max_neighbours", &member<&C::correlation, &CorrelationConfig::max_neighbours>, 1, 10'000,
              "An event takes at most this many of its most recent neighbours from other sources (a dense "
              "incident stays one bounded alert; its count still rises with each event)."),

      bool_key("spike.enabled", &member<&C::spike, &SpikeConfig::enabled>, "Run spike detection."),
      enum_key("spike.method", &member<&C::spike, &SpikeConfig::method>, {"poisson", "ewma"},
               "poisson: confidence = 1 - P(X >= count) under the baseline rate; ewma: Phi(z-score)."),
      number_key("spike.alpha", &member<&C::spike, &SpikeConfig::alpha>, 0.0001, 1,
                 "EWMA weight of each tumbling window in the baseline (empty windows count as 0)."),
      duration_key("spike.warmup", &member<&C::spike, &SpikeConfig::warmup>, "0ms", "30d",
                   "Event time a cell is watched before it may report a spike."),
      int_key("spike.min_count", &member<&C::spike, &SpikeConfig::min_count>, 1, 1'000'000,
              "Tumbling counts below this are never spikes."),
      number_key("spike.min_rate", &member<&C::spike, &SpikeConfig::min_rate>, 0.0001, 1e6,
                 "Floor of the baseline rate per window (a new cell is not infinitely surprising)."),

      bool_key("ml.enabled", &member<&C::ml, &AnomalyConfig::enabled>, "Run the online isolation forest."),
      int_key("ml.sample_size", &member<&C::ml, &AnomalyConfig::sample_size>, 2, 1 << 22,
              "Most recent window vectors the trees are built from."),
      int_key("ml.rebuild_every", &member<&C::ml, &AnomalyConfig::rebuild_every>, 1, 1 << 22,
              "New vectors between rebuilds of the trees (and before the first build: warm-up)."),
      int_key("ml.n_estimators", &member<&C::ml, &AnomalyConfig::n_estimators>, 1, 10'000, "Trees."),
      int_key("ml.max_samples", &member<&C::ml, &AnomalyConfig::max_samples>, 2, 65'536,
              "Vectors per tree (sub-sample), as scikit-learn's max_samples."),
      int_key("ml.seed", &member<&C::ml, &AnomalyConfig::seed>, 0, INT32_MAX,
              "Seed of the tree builds (deterministic for a given seed and input)."),
      number_key("ml.candidate_confidence", &member<&C::ml, &AnomalyConfig::candidate_confidence>, 0, 1,
                 "Above this confidence a window is an anomaly candidate (0.5 = scikit-learn's 'auto' "
                 "threshold); thresholds.ml_anomaly gates it."),
      duration_key("ml.budget", &member<&C::ml, &AnomalyConfig::budget>, "0ms", "1h",
                   "Model time per epoch; windows left when it runs out pass unscored (counted)."),

      geofences_key("geofences",
                    "Each rule: `name`, `polygons` (GeoJSON of polygons) or `sites` (GeoJSON of points) "
                    "with `radius_m`, and `types` (event type prefixes; none = all)."),

      duration_key("dedup.window", &member<&C::dedup, &DedupConfig::window>, "1s", "7d",
                   "A new alert whose key matches an alert last updated within this updates it."),
      int_key("dedup.max_event_ids", &member<&C::dedup, &DedupConfig::max_event_ids>, 1, 100'000,
              "Event ids listed per alert (its count goes on past it)."),

      duration_key("bias.window", &member<&C::bias, &BiasConfig::window>, "1h", "30d",
                   "Sliding span of event time over which shares are compared."),
      number_key("bias.min_ratio", &member<&C::bias, &BiasConfig::min_ratio>, 0, 1,
                 "A district whose ML-alert share / event share is below this is flagged."),
      number_key("bias.max_ratio", &member<&C::bias, &BiasConfig::max_ratio>, 1, 1000,
                 "... or above this."),
      int_key("bias.min_alerts", &member<&C::bias, &BiasConfig::min_alerts>, 1, 1'000'000,
              "ML-derived alerts in the window before any district is judged."),

      duration_key("latency.budget", &member<&C::latency, &LatencyConfig::budget>, "1ms", "1h",
                   "End-to-end p95 latency budget."),
      duration_key("latency.warn_p95", &member<&C::latency, &LatencyConfig::warn_p95>, "1ms", "1h",
                   "Rolling end-to-end p95 that raises a warning; the breaker closes again below "
                   "it."),
      duration_key("latency.breaker_p95", &member<&C::latency, &LatencyConfig::breaker_p95>, "1ms",
                   "1h",
                   "Rolling end-to-end p95 that opens the breaker: costly enrichment is bypassed; "
                   "above warn_p95."),
      duration_key("latency.window", &member<&C::latency, &LatencyConfig::window>, "1s", "10m",
                   "Span of processing time over which the rolling p95 is taken."),

      string_key("server.listen", &member<&C::server, &ServerConfig::listen>,
                 "host:port to listen on; port 0 picks a free port.", host_port),
      size_key("server.max_body_bytes", &member<&C::server, &ServerConfig::max_body_bytes>,
               1ull << 10, 1ull << 30, "Largest accepted request body; larger ones get 413."),
      int_key("server.threads", &member<&C::server, &ServerConfig::threads>, 1, 256,
              "Threads serving HTTP and WebSocket connections."),
      duration_key("server.retry_after", &member<&C::server, &ServerConfig::retry_after>, "1s",
                   "1h", "Retry-After sent with 429 and 503 responses (whole seconds)."),
      path_key("server.tokens", &member<&C::server, &ServerConfig::tokens>,
               "API tokens file (one JSON object per line: name, role, BLAKE2b hash; `sentinel tokens "
               "add` writes it). Empty: `sentinel run` makes a one-time admin token and prints it."),
      string_key("server.web_root", &member<&C::server, &ServerConfig::web_root>,
                 "Directory of the built command-centre page (web/dist); empty: found beside the "
                 "program or in the source tree."),
      size_key("server.ws_max_queued_bytes", &member<&C::server, &ServerConfig::ws_max_queued_bytes>,
               1ull << 12, 1ull << 30,
               "Bytes queued for one WebSocket client before it is cut off as too slow (close 1008)."),
      size_key("server.ws_max_message_bytes", &member<&C::server, &ServerConfig::ws_max_message_bytes>,
               64, 16ull << 20, "Largest message a WebSocket client may send (close 1009 past it)."),
      duration_key("server.ws_ping_interval", &member<&C::server, &ServerConfig::ws_ping_interval>, "1s",
                   "10m", "WebSocket keep-alive ping; a client silent for two intervals is closed."),
      number_key("server.ingest_rate", &member<&C::server, &ServerConfig::ingest_rate>, 1, 1e9,
                 "Events per second each token may POST to /v1/events (token bucket refill); "
                 "past it 429."),
      number_key("server.ingest_burst", &member<&C::server, &ServerConfig::ingest_burst>, 1, 1e10,
                 "Token bucket size in events: the burst a token may POST at once."),
      int_key("server.page_max", &member<&C::server, &ServerConfig::page_max>, 1, 100'000,
              "Largest page of alerts one /v1/alerts call returns."),

      enum_key("queue.backend", &member<&C::queue, &QueueConfig::backend>, {"memory", "redis"},
               "Where the alert queue lives: in this process, or a Redis sorted set shared by "
               "several sentinel processes."),
      string_key("queue.redis", &member<&C::queue, &QueueConfig::redis>,
                 "host:port of Redis (backend redis).", host_port),
      string_key("queue.redis_prefix", &member<&C::queue, &QueueConfig::redis_prefix>,
                 "Prefix of every Redis key and channel the queue uses."),
      duration_key("queue.redis_retry", &member<&C::queue, &QueueConfig::redis_retry>, "10ms", "1m",
                   "Wait between attempts to reach Redis while it is down."),
      size_key("queue.max_alerts", &member<&C::queue, &QueueConfig::max_alerts>, 1, 100'000'000,
               "Alerts kept for the API; past it the oldest acknowledged or trend-watch ones go first."),
      size_key("queue.resume_changes", &member<&C::queue, &QueueConfig::resume_changes>, 1,
               100'000'000,
               "Changes kept so a WebSocket client reconnecting with its last sequence number "
               "resumes without gaps; an older one gets a fresh snapshot."),
      duration_key("queue.ack_p0", &member<&C::queue, &QueueConfig::ack_p0>, "0s", "7d",
                   "P0 acknowledgement SLA from emission; 0 = none."),
      duration_key("queue.ack_p1", &member<&C::queue, &QueueConfig::ack_p1>, "0s", "7d",
                   "P1 acknowledgement SLA."),
      duration_key("queue.ack_p2", &member<&C::queue, &QueueConfig::ack_p2>, "0s", "7d",
                   "P2 acknowledgement SLA."),
      duration_key("queue.ack_p3", &member<&C::queue, &QueueConfig::ack_p3>, "0s", "7d",
                   "P3 acknowledgement SLA."),

      int_key("telemetry.batch_size", &member<&C::telemetry, &TelemetryConfig::batch_size>, 1,
              1'000'000, "Flows handed to the engines at once."),
      size_key("telemetry.max_file_bytes", &member<&C::telemetry, &TelemetryConfig::max_file_bytes>,
               1ull << 10, 1ull << 34, "Largest JSON telemetry file read; larger ones are refused."),
      string_key("telemetry.kafka_topic", &member<&C::telemetry, &TelemetryConfig::kafka_topic>,
                 "Kafka topic of flow records (JSON) for streaming detection (with kafka.brokers)."),
      string_key("telemetry.watch_dir", &member<&C::telemetry, &TelemetryConfig::watch_dir>,
                 "Batch mode of the detection service: a directory whose new CSV and JSON flow files "
                 "are read, detection.max_flows_per_iteration at a time, every detection.interval; "
                 "empty = none."),

      duration_key("detection.interval", &member<&C::detection, &DetectionConfig::interval>, "10ms",
                   "1h", "Batch mode: time between the starts of two detection iterations."),
      duration_key("detection.timeout", &member<&C::detection, &DetectionConfig::timeout>, "100ms",
                   "1h", "Limit of one iteration; flows left when it passes wait for the next."),
      size_key("detection.max_flows_per_iteration",
               &member<&C::detection, &DetectionConfig::max_flows_per_iteration>, 1,
               1'000'000'000, "Batch mode: most flows one iteration takes (streaming has no cap)."),
      duration_key("detection.engine_budget", &member<&C::detection, &DetectionConfig::engine_budget>,
                   "1ms", "10m",
                   "Time one engine may take over one batch; past it the engine is skipped for the "
                   "batch (counted, logged) and the others decide."),
      path_key("detection.rules", &member<&C::detection, &DetectionConfig::rules>,
               "Sigma-style YAML rule file, or a directory of them; empty = no rules engine.",
               /*directory_ok=*/true),
      path_key("detection.model", &member<&C::detection, &DetectionConfig::model>,
               "XGBoost JSON or LightGBM text model of attack vs benign (its normaliser beside it "
               "as <model>.norm.json); empty = no ML engine."),
      number_key("detection.ml_threshold", &member<&C::detection, &DetectionConfig::ml_threshold>,
                 0, 1, "Model attack probability at which the ML engine votes attack."),
      number_key("detection.math_z", &member<&C::detection, &DetectionConfig::math_z>, 0.5, 100,
                 "Robust z-score (against the running baseline) past which the math engine votes "
                 "attack."),
      int_key("detection.math_warmup", &member<&C::detection, &DetectionConfig::math_warmup>, 0,
              100'000'000, "Flows the math engine learns from before it votes."),
      number_key("detection.publish_rate", &member<&C::detection, &DetectionConfig::publish_rate>, 1,
                 1e9, "Anomalies published per second (token bucket refill); the rest are counted "
                 "as held back and published later."),
      number_key("detection.publish_burst", &member<&C::detection, &DetectionConfig::publish_burst>,
                 1, 1e10, "Token bucket size of the publish rate limiter."),

      number_key("ensemble.weight_rules", &member<&C::ensemble, &EnsembleConfig::weight_rules>, 0, 1,
                 "Weight of the rules engine's vote."),
      number_key("ensemble.weight_math", &member<&C::ensemble, &EnsembleConfig::weight_math>, 0, 1,
                 "Weight of the math (statistical) engine's vote."),
      number_key("ensemble.weight_ml", &member<&C::ensemble, &EnsembleConfig::weight_ml>, 0, 1,
                 "Weight of the tree model's vote."),
      number_key("ensemble.threshold", &member<&C::ensemble, &EnsembleConfig::threshold>, 0, 1,
                 "Weighted score (sum of weight x engine score over the engines that decided, "
                 "divided by their weights) at which a flow is an anomaly."),

      string_key("kafka.brokers", &member<&C::kafka, &KafkaConfig::brokers>,
                 "Bootstrap servers (host:port,...); empty = no Kafka."),
      string_key("kafka.topic_anomalies", &member<&C::kafka, &KafkaConfig::topic_anomalies>,
                 "Topic of signed anomaly messages."),
      string_key("kafka.topic_evidence", &member<&C::kafka, &KafkaConfig::topic_evidence>,
                 "Topic of signed evidence messages."),
      string_key("kafka.topic_policy", &member<&C::kafka, &KafkaConfig::topic_policy>,
                 "Topic of signed policy messages (the detection settings in force)."),
      string_key("kafka.group_id", &member<&C::kafka, &KafkaConfig::group_id>,
                 "Consumer group of the telemetry consumer."),
      path_key("kafka.signing_key", &member<&C::kafka, &KafkaConfig::signing_key>,
               "Ed25519 secret key file (`sentinel keys generate`) that signs every published "
               "message; empty with kafka.brokers set is an error at start."),
      path_key("kafka.verify_key", &member<&C::kafka, &KafkaConfig::verify_key>,
               "Ed25519 public key file the verifying consumer checks signatures with."),
      int_key("kafka.instance_id", &member<&C::kafka, &KafkaConfig::instance_id>, 0, 4294967295,
              "The 4-byte instance id in every message nonce; 0 = derived from host name and pid."),

      bool_key("intel.enabled", &member<&C::intel, &IntelConfig::enabled>,
               "Run the feed, extraction and curation service inside `sentinel run` (API under "
               "/v1/intel, pages curation.html and incidents.html)."),
      enum_key("intel.store", &member<&C::intel, &IntelConfig::store>, {"sqlite", "postgres"},
               "Where feeds, articles, extractions, incidents and jobs are kept."),
      output_path_key("intel.database", &member<&C::intel, &IntelConfig::database>,
               "SQLite database file; empty = intel.db in the output directory."),
      string_key("intel.postgres_env", &member<&C::intel, &IntelConfig::postgres_env>,
                 "With store postgres: the environment variable holding the libpq connection "
                 "string (kept out of the file because it may carry a password)."),
      string_list_key("intel.feeds", &member<&C::intel, &IntelConfig::feeds>, 0,
                      "RSS/Atom feed URLs added at start when not yet stored (more through the API).",
                      feed_url),
      duration_key("intel.feed_schedule", &member<&C::intel, &IntelConfig::feed_schedule>, "1m", "30d",
                   "Time between two fetches of a feed added from this file."),
      duration_key("intel.fetch_timeout", &member<&C::intel, &IntelConfig::fetch_timeout>, "1s", "10m",
                   "Limit of one feed download attempt."),
      size_key("intel.fetch_max_bytes", &member<&C::intel, &IntelConfig::fetch_max_bytes>, 1ull << 10,
               1ull << 30, "Largest feed document accepted."),
      int_key("intel.enrich_min_chars", &member<&C::intel, &IntelConfig::enrich_min_chars>, 0,
              1'000'000, "An article whose text is shorter gets its page fetched and the page's main "
              "text extracted; 0 = never."),
      duration_key("intel.page_timeout", &member<&C::intel, &IntelConfig::page_timeout>, "1s", "10m",
                   "Limit of one article page download attempt."),
      size_key("intel.page_max_bytes", &member<&C::intel, &IntelConfig::page_max_bytes>, 1ull << 10,
               1ull << 30, "Largest article page accepted."),
      path_list_key("intel.gazetteer", &member<&C::intel, &IntelConfig::gazetteer>,
                    "Place tables of the built-in extractor (*.tsv, *.geojson; docs/EXTRACTION.md)."),
      string_list_key("intel.home_regions", &member<&C::intel, &IntelConfig::home_regions>, 0,
                      "Top-level gazetteer places (e.g. CHICAGO) incidents are kept for; [] = any.",
                      region_name),
      path_list_key("intel.organisations", &member<&C::intel, &IntelConfig::organisations>,
                    "Perpetrator-organisation lexicons of the built-in extractor."),
      path_key("intel.triage_rules", &member<&C::intel, &IntelConfig::triage_rules>,
               "JSON triage rules used when the store has none saved yet; empty = the built-in "
               "defaults (approve 0.85, reject 0.50, enforcement 0.90, crime 0.85). After that, "
               "PUT /v1/intel/triage changes them (each change a new audited version)."),
      int_key("intel.fetch_concurrency", &member<&C::intel, &IntelConfig::fetch_concurrency>, 1, 64,
              "Feed fetches running at once."),
      int_key("intel.enrich_concurrency", &member<&C::intel, &IntelConfig::enrich_concurrency>, 1, 64,
              "Page enrichments running at once."),
      int_key("intel.extract_concurrency", &member<&C::intel, &IntelConfig::extract_concurrency>, 1,
              64, "Extractions running at once."),
      duration_key("intel.fetch_retry_base", &member<&C::intel, &IntelConfig::fetch_retry_base>,
                   "100ms", "1d", "First backoff of a feed fetch that failed transiently (doubles)."),
      duration_key("intel.enrich_retry_base", &member<&C::intel, &IntelConfig::enrich_retry_base>,
                   "100ms", "1d", "First backoff of a page enrichment that failed transiently."),
      duration_key("intel.extract_retry_base", &member<&C::intel, &IntelConfig::extract_retry_base>,
                   "100ms", "1d", "First backoff of an extraction that failed transiently (triples)."),
      int_key("intel.max_attempts", &member<&C::intel, &IntelConfig::max_attempts>, 1, 100,
              "Attempts of a job failing transiently before it is dead (permanent failures: one)."),
      duration_key("intel.stale_check", &member<&C::intel, &IntelConfig::stale_check>, "100ms", "1h",
                   "How often jobs whose worker lease expired (a crash) are put back on their queue."),
      enum_key("intel.extraction", &member<&C::intel, &IntelConfig::extraction>, {"builtin", "llm", "two_stage"},
               "Who extracts incidents: the offline built-in extractor; an LLM (then the fallback "
               "LLM, then the built-in extractor, moving on only on transient errors); or two LLM "
               "stages (an intermediate representation, then domain schemas and a selector). "
               "docs/LLM.md."),
      enum_key("intel.llm_kind", &member<&C::intel, &IntelConfig::llm_kind>, {"anthropic", "openai"},
               "The LLM API: Anthropic Messages, or OpenAI-compatible chat completions (Ollama, vLLM)."),
      string_key("intel.llm_base_url", &member<&C::intel, &IntelConfig::llm_base_url>,
                 "Scheme, host and port before /v1/...; empty = https://api.anthropic.com or a local "
                 "Ollama (http://127.0.0.1:11434)."),
      string_key("intel.llm_model", &member<&C::intel, &IntelConfig::llm_model>,
                 "Model name; required unless intel.extraction is builtin."),
      string_key("intel.llm_api_key_env", &member<&C::intel, &IntelConfig::llm_api_key_env>,
                 "Environment variable holding the API key (the key never goes in this file); "
                 "empty = send none (a local Ollama). Required for anthropic."),
      string_key("intel.llm_fallback_kind", &member<&C::intel, &IntelConfig::llm_fallback_kind>,
                 "A second LLM (anthropic or openai) tried when the first fails transiently; empty = none.",
                 [](const std::string& v) -> Reason {
                   if (!v.empty() && v != "anthropic" && v != "openai")
                     return fmt::format("expected \"\", anthropic or openai, got {}", shown(v));
                   return std::nullopt;
                 }),
      string_key("intel.llm_fallback_base_url", &member<&C::intel, &IntelConfig::llm_fallback_base_url>,
                 "The second LLM's base URL (as intel.llm_base_url)."),
      string_key("intel.llm_fallback_model", &member<&C::intel, &IntelConfig::llm_fallback_model>,
                 "The second LLM's model."),
      string_key("intel.llm_fallback_api_key_env", &member<&C::intel, &IntelConfig::llm_fallback_api_key_env>,
                 "The second LLM's API key variable."),
      duration_key("intel.llm_timeout", &member<&C::intel, &IntelConfig::llm_timeout>, "1s", "10m",
                   "Limit of one LLM call."),
      int_key("intel.llm_breaker_failures", &member<&C::intel, &IntelConfig::llm_breaker_failures>, 1, 1000,
              "Consecutive transient failures that open an LLM's circuit breaker."),
      duration_key("intel.llm_breaker_cool_down", &member<&C::intel, &IntelConfig::llm_breaker_cool_down>,
                   "1s", "1h", "How long an open breaker waits before letting one probe call through."),
      enum_key("intel.stage2", &member<&C::intel, &IntelConfig::stage2>, {"primary", "fallback"},
               "two_stage: which LLM answers stage 2 first (the other is its fallback); stage 1 "
               "always starts with the primary."),
      string_list_key("intel.two_stage_domains", &member<&C::intel, &IntelConfig::two_stage_domains>, 1,
                      "two_stage: the stage-2 domain schemas, highest priority first.", domain_name),

      enum_key("log.level", &member<&C::log, &LogConfig::level>,
               {"trace", "debug", "info", "warn", "error"}, "Lowest level written to the log."),
  };
  return kSchema;
}

// ------------------------------------------------------------------ walker --

/// The names allowed directly under `prefix` ("" or "windows."), in table order.
std::vector<std::string> children(const std::string& prefix) {
  std::vector<std::string> names;
  for (const KeySpec& k : schema()) {
    if (k.path.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = k.path.substr(prefix.size());
    std::string name = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

const KeySpec* find_key(const std::string& path) {
  for (const KeySpec& k : schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

struct Loader {
  const std::string& origin;
  Context ctx;
  Config& config;
  std::set<std::string> set_keys;  ///< leaves the file gave, to blame the right key

  [[noreturn]] void fail(std::string_view path, std::string_view reason) const {
    if (path.empty()) throw ConfigError(fmt::format("{}: {}", origin, reason));
    // A key from the file may hold anything; keep the message one line.
    throw ConfigError(fmt::format("{}: {}: {}", origin, escaped(path, 200), reason));
  }

  /// Visits the mapping `node` found at `path` ("" for the root).
  void walk(const YAML::Node& node, const std::string& path) {
    if (node.IsNull()) return;  // an empty file, or a section with only comments
    if (!node.IsMap()) {
      fail(path, fmt::format("expected a mapping of {}, got {}", path.empty() ? "sections" : "keys",
                             describe(node)));
    }
    const std::string prefix = path.empty() ? "" : path + ".";
    const std::vector<std::string> known = children(prefix);
    std::set<std::string> seen;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) fail(path, "keys must be plain names");
      const std::string& name = entry.first.Scalar();
      const std::string full = prefix + name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        fail(full,
             fmt::format("unknown key (known {}: {})", path.empty() ? "sections" : "under " + path,
                         fmt::join(known, ", ")));
      }
      if (!seen.insert(name).second) fail(full, "duplicate key");
      if (const KeySpec* key = find_key(full)) {
        if (Reason r = key->apply(entry.second, config, ctx)) fail(full, *r);
        set_keys.insert(full);
      } else {
        walk(entry.second, full);
      }
    }
  }

  /// The key to name when two keys disagree: the one the file set, so the
  /// message points at the line the user wrote.
  std::string blame(const std::string& a, const std::string& b) const {
    return set_keys.count(a) == 0 && set_keys.count(b) != 0 ? b : a;
  }

  void check_cross_fields() const {
    const Config& c = config;
    if (c.cells.coarse_level > c.cells.fine_level) {
      fail(blame("cells.coarse_level", "cells.fine_level"),
           fmt::format("cells.coarse_level ({}) must not exceed cells.fine_level ({})",
                       c.cells.coarse_level, c.cells.fine_level));
    }
    if (c.windows.sliding_size % c.windows.sliding_slide != Millis(0)) {
      fail(blame("windows.sliding_size", "windows.sliding_slide"),
           fmt::format("windows.sliding_size ({}) must be a multiple of windows.sliding_slide ({})",
                       format_duration(c.windows.sliding_size),
                       format_duration(c.windows.sliding_slide)));
    }
    if (!(c.priority.band_p0 > c.priority.band_p1 && c.priority.band_p1 > c.priority.band_p2)) {
      fail(blame("priority.bands.p1", "priority.bands.p0"),
           fmt::format("priority.bands must decrease: p0 ({}) > p1 ({}) > p2 ({})", c.priority.band_p0,
                       c.priority.band_p1, c.priority.band_p2));
    }
    if (c.priority.site_full_m >= c.priority.site_zero_m) {
      fail(blame("priority.site_full_m", "priority.site_zero_m"),
           fmt::format("priority.site_full_m ({}) must be below priority.site_zero_m ({})", c.priority.site_full_m,
                       c.priority.site_zero_m));
    }
    if (c.ml.max_samples > c.ml.sample_size) {
      fail(blame("ml.max_samples", "ml.sample_size"),
           fmt::format("ml.max_samples ({}) must not exceed ml.sample_size ({})", c.ml.max_samples,
                       c.ml.sample_size));
    }
    if (c.latency.warn_p95 >= c.latency.breaker_p95) {
      fail(
          blame("latency.warn_p95", "latency.breaker_p95"),
          fmt::format("latency.warn_p95 ({}) must be below latency.breaker_p95 ({})",
                      format_duration(c.latency.warn_p95), format_duration(c.latency.breaker_p95)));
    }
  }
};

/// Sees the parser's events without building nodes; only where each
/// document starts matters.
class DocumentProbe : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark start;
};

/// The number of YAML documents in `text`; throws YAML::Exception when it is
/// not YAML. Not YAML::LoadAll: in yaml-cpp 0.7 a stray token at document
/// level such as "," makes it start an empty document at the same place
/// forever, allocating until the process dies (jbeder/yaml-cpp#1040, fixed
/// after 0.7), and YAML::Load takes such a file for an empty one. A document
/// that starts where the previous one started is that state.
size_t count_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentProbe probe;
  size_t count = 0;
  int last_start = -1;
  while (parser.HandleNextDocument(probe)) {
    if (probe.start.pos == last_start) {
      const auto at = static_cast<size_t>(probe.start.pos);
      throw YAML::ParserException(
          probe.start, "unexpected " + (at < text.size() ? shown(text.substr(at, 1)) : "end"));
    }
    last_start = probe.start.pos;
    ++count;
  }
  return count;
}

std::string escape_cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::string& base_dir) {
  YAML::Node root;
  try {
    const size_t documents = count_documents(yaml_text);
    if (documents > 1) {
      throw ConfigError(fmt::format("{}: expected one YAML document, found {}", origin, documents));
    }
    if (documents == 1) root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp quotes the offending character, which may be a control character.
    const std::string msg = escaped(e.msg, e.msg.size());
    if (e.mark.is_null()) throw ConfigError(fmt::format("{}: invalid YAML: {}", origin, msg));
    throw ConfigError(
        fmt::format("{}:{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.mark.column + 1, msg));
  }
  Config config;
  config.base_dir = base_dir;
  Loader loader{origin, Context{fs::path(base_dir)}, config, {}};
  loader.walk(root, "");
  loader.check_cross_fields();
  return config;
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    throw ConfigError(
        fmt::format("{}: cannot read: {}", path, std::generic_category().message(error)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read", path));
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
  if (ec) dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return parse_config(text.str(), path, dir.lexically_normal().string());
}

std::vector<std::pair<std::string, std::string>> config_values(const Config& config) {
  Config copy = config;  // show() takes a mutable Config (the schema's accessors are shared with apply)
  std::vector<std::pair<std::string, std::string>> out;
  for (const KeySpec& k : schema()) out.emplace_back(k.path, k.show(copy));
  return out;
}

std::string config_reference_markdown() {
  Config defaults;
  std::string out;
  out += "Every key, its type, its default and its accepted range. Durations are written\n";
  out += "as a whole number with a unit: `250ms`, `30s`, `5m`, `24h`, `7d`. Sizes are a byte\n";
  out += "count or a number with a unit: `512KiB`, `16MiB`, `1GiB` (also `KB`, `MB`, `GB`).\n";
  for (const std::string& section : children("")) {
    out += fmt::format("\n## `{}`\n\n", section);
    if (const std::string doc = section_doc(section); !doc.empty()) out += doc + "\n\n";
    out += "| key | type | default | range | meaning |\n";
    out += "|---|---|---|---|---|\n";
    for (const KeySpec& k : schema()) {
      if (k.path != section && k.path.compare(0, section.size() + 1, section + ".") != 0) continue;
      out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", k.path, k.type,
                         escape_cell(k.show(defaults)), escape_cell(k.range), escape_cell(k.doc));
    }
  }
  return out;
}

}  // namespace sentinel
