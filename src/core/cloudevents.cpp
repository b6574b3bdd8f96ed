#include "core/cloudevents.h"

#include <simdjson.h>
#include <xxhash.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace sentinel {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING,
              "kJsonPadding must cover simdjson's padding requirement");

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// One bit per known attribute, to let the first occurrence of a key win.
enum Attr : uint32_t {
  kNone = 0,
  kId = 1u << 0,
  kSource = 1u << 1,
  kType = 1u << 2,
  kTime = 1u << 3,
  kSpecVersion = 1u << 4,
  kLat = 1u << 5,
  kLon = 1u << 6,
  kSeverity = 1u << 7,
  kConfidence = 1u << 8,
  kData = 1u << 9,
};

Attr attr_of(std::string_view key) {
  switch (key.size()) {
    case 2:
      return key == "id" ? kId : kNone;
    case 3:
      return key == "lat" ? kLat : key == "lon" ? kLon : kNone;
    case 4:
      return key == "type" ? kType : key == "time" ? kTime : key == "data" ? kData : kNone;
    case 6:
      return key == "source" ? kSource : kNone;
    case 8:
      return key == "severity" ? kSeverity : kNone;
    case 10:
      return key == "confidence" ? kConfidence : kNone;
    case 11:
      return key == "specversion" ? kSpecVersion : kNone;
    default:
      return kNone;
  }
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (!is_json_space(c)) return false;
  }
  return true;
}

const char* type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "value";
}

// Shortest text that reads back as the same double (as JsonWriter writes it).
std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A value from the input quoted for an error reason: at most 64 bytes (cut on
// a UTF-8 boundary) and control characters spelled out, so the reason stays
// one readable line whatever the input holds.
std::string quoted(std::string_view s) {
  constexpr size_t kMax = 64;
  bool cut = false;
  if (s.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "'";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

Error json_error(error_code e) {
  return Error{"", std::string("not valid JSON: ") + simdjson::error_message(e)};
}

// Fast paths for strings. Stage 1 of simdjson has already checked UTF-8,
// unescaped control characters and that every string is closed, so a string
// without a backslash is valid as it stands and needs no unescaping (which
// copies it through a runtime-dispatched call). Only strings with escapes go
// through simdjson's get_string()/unescaped_key().

// A field's key: a view into the input when it has no escape, else unescaped
// (into the parser's buffer, valid until the next document).
error_code read_key(od::field& f, std::string_view& out) {
  const char* p = f.key().raw();
  size_t n = 0;
  while (p[n] != '"' && p[n] != '\\') ++n;  // the closing quote exists (stage 1)
  if (p[n] == '"') {
    out = std::string_view(p, n);
    return simdjson::SUCCESS;
  }
  return f.unescaped_key().get(out);
}

// A string value, consumed. `out` is a view into the input when the string
// has no escape (`escaped` false), else into the parser's buffer.
error_code read_string_value(od::value& v, std::string_view& out, bool& escaped) {
  const std::string_view token = trim_right(v.raw_json_token());
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    const std::string_view content = token.substr(1, token.size() - 2);
    if (std::memchr(content.data(), '\\', content.size()) == nullptr) {
      od::raw_json_string raw;
      if (auto e = v.get_raw_json_string().get(raw)) return e;
      out = content;
      escaped = false;
      return simdjson::SUCCESS;
    }
  }
  escaped = true;
  return v.get_string().get(out);
}

// Walks a value to its end, checking every part is valid JSON. On Demand
// only checks what is read, and `data` and extension attributes are passed on
// as raw text, so they are read here. Depth is bounded by kMaxDataDepth.
error_code validate(od::value& v, int depth) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::object: {
      if (depth > kMaxDataDepth) return simdjson::DEPTH_ERROR;
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto fr : o) {
        if (auto e = fr.error()) return e;
        od::field& f = fr.value_unsafe();  // checked just above; avoids copying the field
        std::string_view key;
        if (auto e = read_key(f, key)) return e;
        if (auto e = validate(f.value(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      if (depth > kMaxDataDepth) return simdjson::DEPTH_ERROR;
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto er : a) {
        if (auto e = er.error()) return e;
        if (auto e = validate(er.value_unsafe(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      double d;
      return v.get_double().get(d);
    }
    case od::json_type::string: {
      std::string_view s;
      bool escaped;
      return read_string_value(v, s, escaped);
    }
    case od::json_type::boolean: {
      const char first = v.raw_json_token().front();
      bool b;
      if (v.get_bool().get(b))
        return first == 't' ? simdjson::T_ATOM_ERROR : simdjson::F_ATOM_ERROR;
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return simdjson::N_ATOM_ERROR;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

// The error for a value that failed validate(), under the attribute `key`.
Error value_error(error_code e, std::string_view key) {
  if (e == simdjson::DEPTH_ERROR) {
    return Error{std::string(key),
                 "nested deeper than " + std::to_string(kMaxDataDepth) + " levels"};
  }
  return json_error(e);
}

// simdjson reports a root object or array that does not end the input as one
// error; this (error path only) tells an unclosed root from content after it.
Error root_shape_error(std::string_view text, error_code e, const char* what) {
  size_t i = 0;
  while (i < text.size() && is_json_space(text[i])) ++i;
  int depth = 0;
  bool in_string = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
  }
  if (depth == 0 && i < text.size()) {
    size_t rest = i + 1;
    while (rest < text.size() && is_json_space(text[rest])) ++rest;
    if (rest < text.size()) {
      return Error{"", std::string("not valid JSON: content after the ") + what + " at byte " +
                           std::to_string(rest)};
    }
  }
  if (depth > 0) return Error{"", std::string("not valid JSON: the ") + what + " is not closed"};
  return json_error(e);
}

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return XXH3_64bits(s.data(), s.size()); }
};

bool valid_type_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxTypeBytes || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

}  // namespace

DecoderOptions decoder_options(const Config& config) {
  DecoderOptions o;
  o.allowed_sources = config.ingest.sources;
  o.bounds = config.city.bounds;
  o.max_line_bytes = config.ingest.max_line_bytes;
  return o;
}

struct EventDecoder::Impl {
  // Type names seen by this decoder, so that known types never take the
  // Interner's mutex. Bounded: a stream of ever-new names (bad input) falls
  // back to the Interner instead of growing the cache without limit.
  static constexpr size_t kMaxCachedTypes = 1u << 16;

  DecoderOptions options_;
  Interner& types_;
  std::string allowed_list_;  // "cctv, sensor, ..." for error reasons
  std::vector<std::pair<std::string, SourceId>> sources_;
  std::unordered_map<std::string, TypeId, TextHash, std::equal_to<>> type_cache_;
  std::unique_ptr<simdjson::dom::parser> dom_;  // only for lines that are not objects
  od::parser parser_;
  // Set when the last error came from malformed JSON (not from a rule), which
  // leaves a surrounding array unreadable.
  bool json_broken_ = false;

  Impl(const DecoderOptions& o, Interner& source_names, Interner& type_names)
      : options_(o), types_(type_names) {
    if (o.allowed_sources.empty()) {
      throw std::invalid_argument("ingest.sources: at least one source must be allowed");
    }
    const auto& b = o.bounds;
    for (double v : b) {
      if (!std::isfinite(v)) throw std::invalid_argument("city.bounds: values must be finite");
    }
    if (b[0] > b[2] || b[1] > b[3]) {
      throw std::invalid_argument(
          "city.bounds: expected [min_lat, min_lon, max_lat, max_lon] with min <= max");
    }
    for (const auto& name : o.allowed_sources) {
      const uint32_t id = source_names.intern(name);
      if (id > UINT16_MAX) throw std::invalid_argument("ingest.sources: too many source names");
      sources_.emplace_back(name, static_cast<SourceId>(id));
      if (!allowed_list_.empty()) allowed_list_ += ", ";
      allowed_list_ += name;
    }
    // Most lines are far below the limit; the parser grows when one is not.
    if (parser_.allocate(std::min<uint64_t>(o.max_line_bytes, 64 * 1024) + 1) !=
        simdjson::SUCCESS) {
      throw std::runtime_error("cannot allocate the JSON parser");
    }
  }

  Error fail_json(error_code e) {
    json_broken_ = true;
    return json_error(e);
  }

  Error fail_value(error_code e, std::string_view key) {
    json_broken_ = e != simdjson::DEPTH_ERROR;
    return value_error(e, key);
  }

  // A value of the wrong JSON type for `field`: a syntax error if the value
  // is not valid JSON at all, else "expected <what>, got <type>".
  Error type_mismatch(std::string_view field, const char* what, od::json_type t, od::value& v) {
    const std::string_view token = trim_right(v.raw_json_token());
    if (auto e = validate(v, 1)) return fail_value(e, field);
    std::string reason = std::string("expected ") + what + ", got " + type_name(t);
    if (t == od::json_type::string) {
      // "41.8" for a number: show it, it is the usual mistake.
      reason += " " + quoted(token.size() >= 2 ? token.substr(1, token.size() - 2) : token);
    }
    return Error{std::string(field), std::move(reason)};
  }

  // Reads a string attribute; false with `err` set otherwise.
  bool read_string(std::string_view field, od::json_type t, od::value& v, std::string_view& out,
                   Error& err) {
    if (t != od::json_type::string) {
      err = type_mismatch(field, "a string", t, v);
      return false;
    }
    bool escaped;
    if (auto e = read_string_value(v, out, escaped)) {
      err = fail_json(e);
      return false;
    }
    return true;
  }

  bool read_number(std::string_view field, od::json_type t, od::value& v, double& out, Error& err) {
    if (t != od::json_type::number) {
      err = type_mismatch(field, "a number", t, v);
      return false;
    }
    if (auto e = v.get_double().get(out)) {
      err = fail_json(e);
      return false;
    }
    return true;
  }

  bool intern_type(std::string_view name, TypeId& id, Error& err) {
    if (auto it = type_cache_.find(name); it != type_cache_.end()) {
      id = it->second;
      return true;
    }
    if (!valid_type_name(name)) {
      err = Error{"type", "must be a dotted name of [a-z0-9_.-] of at most " +
                              std::to_string(kMaxTypeBytes) + " bytes, got " + quoted(name)};
      return false;
    }
    const uint32_t n = types_.intern(name);
    if (n >= Interner::kMaxNames) {
      err = Error{"type", "too many distinct types (limit " + std::to_string(Interner::kMaxNames) +
                              "), got " + quoted(name)};
      return false;
    }
    if (type_cache_.size() < kMaxCachedTypes) type_cache_.emplace(std::string(name), n);
    id = n;
    return true;
  }

  // Decodes the object `obj` of `doc`, whose input is `text`. `is_root`: the
  // object is the whole document, and nothing may follow it.
  Status decode_object(od::object& obj, od::document& doc, std::string_view text, bool is_root,
                       Event& out);
  Status decode_value(od::value& v, od::document& doc, std::string_view text, Event& out);
  Status decode(std::string_view line, Event& out);
};

Status EventDecoder::Impl::decode_object(od::object& obj, od::document& doc, std::string_view text,
                                         bool is_root, Event& out) {
  uint32_t seen = 0;     // keys met, to let the first occurrence win
  uint32_t present = 0;  // attributes given a non-null value
  std::string_view id, source_name;
  SourceId source = 0;
  TypeId type = 0;
  EventTime time{};
  double lat = 0, lon = 0, confidence = 0;
  Severity severity = Severity::kOther;
  std::string_view data;
  Error err;

  for (auto fr : obj) {
    if (auto e = fr.error()) return fail_json(e);
    od::field& f = fr.value_unsafe();  // checked just above; avoids copying the field
    std::string_view key;
    if (auto e = read_key(f, key)) return fail_json(e);
    od::value& v = f.value();
    const Attr a = attr_of(key);
    if (a == kNone || (seen & a) != 0) {
      // An extension attribute, or a repeated key (the first one won): skip,
      // but the line must still be valid JSON.
      if (auto e = validate(v, 1)) return fail_value(e, key);
      continue;
    }
    seen |= a;
    od::json_type t;
    if (auto e = v.type().get(t)) return fail_json(e);
    if (t == od::json_type::null && (a & (kId | kSource | kType | kTime)) == 0) {
      // null is "absent" for an optional attribute (and, being first, wins).
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return fail_json(simdjson::N_ATOM_ERROR);
      continue;
    }
    present |= a;
    switch (a) {
      case kId: {
        if (t != od::json_type::string) return type_mismatch("id", "a string", t, v);
        const std::string_view token = trim_right(v.raw_json_token());
        bool escaped;
        if (auto e = read_string_value(v, id, escaped)) return fail_json(e);
        if (id.empty()) return Error{"id", "must be a non-empty string"};
        if (id.size() > kMaxIdBytes) {
          return Error{"id", "is " + std::to_string(id.size()) + " bytes, over the limit of " +
                                 std::to_string(kMaxIdBytes)};
        }
        // The id must be a view into the line (the parser's buffer is reused
        // by the next line), which an unescaped copy cannot be.
        if (escaped) {
          return Error{"id",
                       "must not contain JSON escape sequences (ids are kept as written), got " +
                           quoted(token)};
        }
        break;
      }
      case kSource: {
        std::string_view s;
        if (!read_string("source", t, v, s, err)) return err;
        bool found = false;
        for (const auto& [name, sid] : sources_) {
          if (name == s) {
            source_name = name;
            source = sid;
            found = true;
            break;
          }
        }
        if (!found) {
          return Error{"source",
                       "unknown source " + quoted(s) + " (allowed: " + allowed_list_ + ")"};
        }
        break;
      }
      case kType: {
        std::string_view s;
        if (!read_string("type", t, v, s, err)) return err;
        if (!intern_type(s, type, err)) return err;
        break;
      }
      case kTime: {
        std::string_view s;
        if (!read_string("time", t, v, s, err)) return err;
        const auto parsed = parse_rfc3339(s);
        if (!parsed) return Error{"time", "must be an RFC 3339 timestamp, got " + quoted(s)};
        time = *parsed;
        break;
      }
      case kSpecVersion: {
        std::string_view s;
        if (!read_string("specversion", t, v, s, err)) return err;
        if (s != "1.0") return Error{"specversion", "must be '1.0', got " + quoted(s)};
        break;
      }
      case kLat: {
        if (!read_number("lat", t, v, lat, err)) return err;
        if (!std::isfinite(lat) || lat < -90.0 || lat > 90.0) {
          return Error{"lat", "must be a number in [-90, 90], got " + number_text(lat)};
        }
        break;
      }
      case kLon: {
        if (!read_number("lon", t, v, lon, err)) return err;
        if (!std::isfinite(lon) || lon < -180.0 || lon > 180.0) {
          return Error{"lon", "must be a number in [-180, 180], got " + number_text(lon)};
        }
        break;
      }
      case kSeverity: {
        std::string_view s;
        if (!read_string("severity", t, v, s, err)) return err;
        if (!parse_severity(s, severity)) {
          return Error{"severity",
                       "unknown severity " + quoted(s) + " (expected violent, property or other)"};
        }
        break;
      }
      case kConfidence: {
        if (!read_number("confidence", t, v, confidence, err)) return err;
        if (!std::isfinite(confidence) || confidence < 0.0 || confidence > 1.0) {
          return Error{"confidence", "must be a number in [0, 1], got " + number_text(confidence)};
        }
        break;
      }
      case kData: {
        // The raw text runs from the value's first byte to the next token
        // (the ',' or '}' after it), less the whitespace in between.
        const char* start = v.raw_json_token().data();
        if (auto e = validate(v, 1)) return fail_value(e, "data");
        const char* end = nullptr;
        if (doc.current_location().get(end)) end = text.data() + text.size();
        data = trim_right(std::string_view(start, static_cast<size_t>(end - start)));
        break;
      }
      default:
        break;
    }
  }

  if (is_root) {
    // Checked before the rules below so that a line that is not one JSON
    // object is reported as such.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) {
      json_broken_ = true;
      return Error{"", "not valid JSON: content after the object at byte " +
                           std::to_string(rest - text.data())};
    }
  }
  if ((present & kId) == 0) return Error{"id", "missing"};
  if ((present & kSource) == 0) return Error{"source", "missing"};
  if ((present & kType) == 0) return Error{"type", "missing"};
  if ((present & kTime) == 0) return Error{"time", "missing"};
  const bool has_lat = (present & kLat) != 0, has_lon = (present & kLon) != 0;
  if (has_lat != has_lon) {
    return has_lat ? Error{"lon", "missing (lat is given: give both or neither)"}
                   : Error{"lat", "missing (lon is given: give both or neither)"};
  }
  if (has_lat) {
    const auto& b = options_.bounds;
    if (lat < b[0] || lat > b[2] || lon < b[1] || lon > b[3]) {
      return Error{"lat,lon", "(" + number_text(lat) + ", " + number_text(lon) +
                                  ") is outside city.bounds [" + number_text(b[0]) + ", " +
                                  number_text(b[1]) + ", " + number_text(b[2]) + ", " +
                                  number_text(b[3]) + "]"};
    }
  }

  out.id = id;
  out.data = data;
  out.key = event_key(source_name, id);
  out.time = time;
  out.lat = has_lat ? lat : 0.0;
  out.lon = has_lat ? lon : 0.0;
  out.has_location = has_lat;
  out.confidence = confidence;
  out.has_confidence = (present & kConfidence) != 0;
  out.source = source;
  out.type = type;
  out.severity = severity;
  out.has_severity = (present & kSeverity) != 0;
  out.enrich = Enrichment{};
  return Ok{};
}

Status EventDecoder::Impl::decode_value(od::value& v, od::document& doc, std::string_view text,
                                        Event& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return fail_json(e);
  if (t != od::json_type::object) {
    if (auto e = validate(v, 1)) return fail_value(e, "");
    return Error{"", std::string("expected an object, got ") + type_name(t)};
  }
  od::object obj;
  if (auto e = v.get_object().get(obj)) return fail_json(e);
  return decode_object(obj, doc, text, /*is_root=*/false, out);
}

Status EventDecoder::Impl::decode(std::string_view line, Event& out) {
  json_broken_ = false;
  if (line.size() > options_.max_line_bytes) {
    return Error{"", "line is " + std::to_string(line.size()) +
                         " bytes, over ingest.max_line_bytes (" +
                         std::to_string(options_.max_line_bytes) + ")"};
  }
  od::document doc;
  const simdjson::padded_string_view input(line.data(), line.size(), line.size() + kJsonPadding);
  if (auto e = parser_.iterate(input).get(doc)) {
    if (e == simdjson::EMPTY) return Error{"", "empty line"};
    return fail_json(e);
  }
  od::json_type t;
  if (auto e = doc.type().get(t)) {
    if (e == simdjson::EMPTY) return Error{"", "empty line"};
    return fail_json(e);
  }
  if (t != od::json_type::object) {
    // On Demand types the root by its first byte ("nope" looks like null):
    // parse the whole line with the DOM parser to tell broken JSON from a
    // valid non-object. Cold path: such lines are rare.
    if (!dom_) dom_ = std::make_unique<simdjson::dom::parser>();
    simdjson::dom::element root;
    if (auto e = dom_->parse(line.data(), line.size(), false).get(root)) return fail_json(e);
    return Error{"", std::string("expected an object, got ") + type_name(t)};
  }
  // The document's get_object() (not a value's) checks that the root is
  // balanced, which keeps On Demand inside the input whatever the padding holds.
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    json_broken_ = true;
    return e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ? root_shape_error(line, e, "object")
                                                     : json_error(e);
  }
  return decode_object(obj, doc, line, /*is_root=*/true, out);
}

EventDecoder::EventDecoder(const DecoderOptions& options, Interner& sources, Interner& types)
    : impl_(std::make_unique<Impl>(options, sources, types)) {}

EventDecoder::~EventDecoder() = default;

Status EventDecoder::decode(std::string_view line, Event& out) {
  return impl_->decode(line, out);
}

void EventDecoder::decode_body(
    std::string_view body, const std::function<void(Event&)>& on_event,
    const std::function<void(uint64_t line, uint64_t byte_offset, const Error&)>& on_error) {
  size_t begin = 0, end = body.size();
  while (begin < end && is_json_space(body[begin])) ++begin;
  while (end > begin && is_json_space(body[end - 1])) --end;
  if (begin == end) {
    on_error(0, 0, Error{"", "empty body"});
    return;
  }
  const std::string_view content = body.substr(begin, end - begin);
  // The body as one object (reported at line 0): a single-line body, or a
  // pretty-printed one whose lines do not parse on their own.
  auto decode_whole = [&] {
    Event ev;
    const Status st = decode(content, ev);
    if (st.ok()) {
      ev.where.line = 0;
      ev.where.byte_offset = begin;
      on_event(ev);
    } else {
      on_error(0, begin, st.error());
    }
  };

  if (content.front() == '[') {
    Impl& d = *impl_;
    d.json_broken_ = false;
    od::document doc;
    const simdjson::padded_string_view input(body.data(), body.size(), body.size() + kJsonPadding);
    if (auto e = d.parser_.iterate(input).get(doc)) {
      on_error(0, begin, json_error(e));
      return;
    }
    od::array arr;
    if (auto e = doc.get_array().get(arr)) {
      on_error(0, begin,
               e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ? root_shape_error(body, e, "array")
                                                         : json_error(e));
      return;
    }
    uint64_t index = 0;
    for (auto er : arr) {
      ++index;
      if (auto e = er.error()) {
        const char* at = nullptr;
        const uint64_t offset =
            doc.current_location().get(at) == simdjson::SUCCESS ? at - body.data() : body.size();
        on_error(index, offset, json_error(e));
        return;
      }
      od::value& v = er.value_unsafe();
      const uint64_t offset = static_cast<uint64_t>(v.raw_json_token().data() - body.data());
      Event ev;
      Status st = d.decode_value(v, doc, body, ev);
      if (st.ok()) {
        ev.where.line = index;
        ev.where.byte_offset = offset;
        on_event(ev);
      } else {
        on_error(index, offset, st.error());
        if (d.json_broken_) return;
      }
    }
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) {
      const uint64_t offset = static_cast<uint64_t>(rest - body.data());
      on_error(
          0, offset,
          Error{"", "not valid JSON: content after the array at byte " + std::to_string(offset)});
    }
    return;
  }

  if (content.find('\n') == std::string_view::npos) {
    decode_whole();
    return;
  }

  // Several lines: NDJSON, or one pretty-printed object. Errors stay pending
  // while every line so far is unparseable, since that is what the lines of
  // a pretty-printed object look like; the first line that parses (good, or
  // bad only by the rules) settles that the body is NDJSON.
  struct Pending {
    uint64_t line, offset;
    Error error;
  };
  std::vector<Pending> pending;
  bool is_ndjson = false;
  const auto settle = [&] {
    is_ndjson = true;
    for (const auto& p : pending) on_error(p.line, p.offset, p.error);
    pending.clear();
  };
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    ++line_no;
    const std::string_view line = body.substr(pos, nl - pos);
    if (!is_blank(line)) {
      Event ev;
      Status st = decode(line, ev);
      if (st.ok()) {
        if (!is_ndjson) settle();
        ev.where.line = line_no;
        ev.where.byte_offset = pos;
        on_event(ev);
      } else if (is_ndjson || !st.error().field.empty()) {
        if (!is_ndjson) settle();
        on_error(line_no, pos, st.error());
      } else {
        pending.push_back(Pending{line_no, pos, st.error()});
      }
    }
    pos = nl + 1;
  }
  if (is_ndjson) return;
  decode_whole();
}

}  // namespace sentinel
