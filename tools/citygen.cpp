// citygen — builds Sentinel's demo data set from the real Chicago crime CSV.
//
//   citygen convert  CSV rows -> CloudEvents `platform.fir.*`, one JSON object per line
//   citygen synth    seeded CCTV, sensor and CAD streams around the converted incidents,
//                    with deliberate, counted defects (disorder, duplicates, late, malformed)
//   citygen all      both, into one directory, with a summary
//
// Determinism: the converter is a pure function of the CSV. The synthesiser draws only
// from std::mt19937_64, whose output sequence the C++ standard fixes, through the
// transforms in class Rng (integer arithmetic and exact floating-point steps);
// std::uniform_real_distribution, std::normal_distribution and friends are not specified
// bit for bit and differ between standard libraries, so they are not used. Geometry uses
// only + - * /, sqrt and floor, which IEEE 754 defines exactly (GCC contracts no FMA under
// -std=c++20), so one seed gives the same bytes on any IEEE 754 platform.
//
// The output lines are CloudEvents 1.0 structured-mode objects with Sentinel's extension
// attributes (DESIGN.md section 2), keys always in the order of the example there.

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/time.h"

namespace {

using sentinel::Severity;

// ------------------------------------------------------------------------- files

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(text.data(), size)) throw std::runtime_error(path + ": read failed");
  return text;
}

/// Buffered line output; throws (naming the file) when the disk write fails.
class FileWriter {
 public:
  explicit FileWriter(std::string path)
      : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (file_ == nullptr)
      throw std::runtime_error(path_ + ": cannot open for writing: " + std::strerror(errno));
    buffer_.reserve(kFlushAt + 4096);
  }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }

  /// The caller appends one or more complete lines here, then calls maybe_flush().
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushAt) flush();
  }
  /// Flushes and closes; returns the number of bytes written.
  uint64_t close() {
    flush();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) throw std::runtime_error(path_ + ": write failed on close");
    return written_;
  }

 private:
  static constexpr size_t kFlushAt = 1 << 20;

  void flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    written_ += buffer_.size();
    buffer_.clear();
  }

  std::string path_;
  std::FILE* file_;
  std::string buffer_;
  uint64_t written_ = 0;
};

// -------------------------------------------------------------------- JSON output

// Hand-written instead of nlohmann::json: every line has a fixed key order and number
// format, and building a JSON tree per line would cost several times more for nothing.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

/// Shortest text that reads back as the same double (std::to_chars's guarantee).
void append_shortest(std::string& out, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  s = trim(s);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// --------------------------------------------------------------------- CSV input

// A small RFC 4180 reader (quoted fields, "" escapes, commas and line breaks inside
// quotes, LF or CRLF line ends). Hand-written: none of the Debian C++ libraries we build
// on reads CSV.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  /// Reads the next record into `fields`; returns false at the end of the text. A
  /// malformed record (a quote inside an unquoted field, text after a closing quote, a
  /// quote never closed) comes back with `error` set, and reading resumes on the next line.
  bool next(std::vector<std::string>& fields, std::string& error) {
    fields.clear();
    error.clear();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    for (;;) {
      std::string& field = fields.emplace_back();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        bool closed = false;
        while (pos_ < text_.size()) {
          const char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              field += '"';
              ++pos_;
            } else {
              closed = true;
              break;
            }
          } else {
            if (c == '\n') ++line_;
            field += c;
          }
        }
        if (!closed) {
          error = "quoted field never closed";
          return true;
        }
        if (pos_ < text_.size() && !is_delimiter(text_[pos_])) {
          error = "text after a closing quote";
          skip_rest_of_line();
          return true;
        }
      } else {
        const size_t start = pos_;
        while (pos_ < text_.size() && !is_delimiter(text_[pos_])) {
          if (text_[pos_] == '"') {
            error = "quote inside an unquoted field";
            skip_rest_of_line();
            return true;
          }
          ++pos_;
        }
        field.assign(text_.substr(start, pos_ - start));
      }
      if (pos_ >= text_.size()) return true;
      const char c = text_[pos_++];
      if (c == ',') continue;
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      ++line_;
      return true;
    }
  }

  /// 1-based line number on which the record last returned by next() starts.
  uint64_t record_line() const { return record_line_; }

 private:
  static bool is_delimiter(char c) { return c == ',' || c == '\n' || c == '\r'; }

  void skip_rest_of_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    if (pos_ < text_.size()) {
      ++pos_;
      ++line_;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
  uint64_t record_line_ = 0;
};

// ------------------------------------------------------------ crime -> CloudEvent

struct TypeSeverity {
  std::string_view primary_type;
  Severity severity;
};

// Severity of each of the 32 IUCR primary types in the 2019 data.
//  violent  — offences against a person, or that use or threaten force: the FBI UCR Part I
//             violent set (homicide, sexual assault, robbery, aggravated assault) widened with
//             the other person offences (battery, simple assault, kidnapping, trafficking,
//             intimidation, stalking, sex offences, offences involving children) and with
//             arson and weapons violations, which put lives at risk.
//  property — taking or damaging property without force against a person: UCR Part I
//             property crimes (theft, burglary, motor vehicle theft) plus criminal damage,
//             fraud (deceptive practice) and criminal trespass.
//  other    — public order, vice, narcotics, regulatory and non-criminal reports.
// A type not in the table (a newer data set) is `other`. Mirrored in examples/README.md.
constexpr std::array<TypeSeverity, 32> kSeverityTable = {{
    {"HOMICIDE", Severity::kViolent},
    {"CRIM SEXUAL ASSAULT", Severity::kViolent},
    {"CRIMINAL SEXUAL ASSAULT", Severity::kViolent},
    {"ROBBERY", Severity::kViolent},
    {"BATTERY", Severity::kViolent},
    {"ASSAULT", Severity::kViolent},
    {"KIDNAPPING", Severity::kViolent},
    {"HUMAN TRAFFICKING", Severity::kViolent},
    {"WEAPONS VIOLATION", Severity::kViolent},
    {"INTIMIDATION", Severity::kViolent},
    {"STALKING", Severity::kViolent},
    {"ARSON", Severity::kViolent},
    {"SEX OFFENSE", Severity::kViolent},
    {"OFFENSE INVOLVING CHILDREN", Severity::kViolent},
    {"THEFT", Severity::kProperty},
    {"BURGLARY", Severity::kProperty},
    {"MOTOR VEHICLE THEFT", Severity::kProperty},
    {"CRIMINAL DAMAGE", Severity::kProperty},
    {"DECEPTIVE PRACTICE", Severity::kProperty},
    {"CRIMINAL TRESPASS", Severity::kProperty},
    {"NARCOTICS", Severity::kOther},
    {"OTHER NARCOTIC VIOLATION", Severity::kOther},
    {"OTHER OFFENSE", Severity::kOther},
    {"PUBLIC PEACE VIOLATION", Severity::kOther},
    {"INTERFERENCE WITH PUBLIC OFFICER", Severity::kOther},
    {"PROSTITUTION", Severity::kOther},
    {"CONCEALED CARRY LICENSE VIOLATION", Severity::kOther},
    {"LIQUOR LAW VIOLATION", Severity::kOther},
    {"GAMBLING", Severity::kOther},
    {"OBSCENITY", Severity::kOther},
    {"PUBLIC INDECENCY", Severity::kOther},
    {"NON-CRIMINAL", Severity::kOther},
}};

Severity severity_of(std::string_view primary_type) {
  for (const TypeSeverity& entry : kSeverityTable) {
    if (entry.primary_type == primary_type) return entry.severity;
  }
  return Severity::kOther;
}

/// "MOTOR VEHICLE THEFT" -> "motor_vehicle_theft": lower case, every other character '_'.
std::string type_slug(std::string_view primary_type) {
  std::string slug;
  slug.reserve(primary_type.size());
  for (const char ch : primary_type) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      slug += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      slug += ch;
    } else {
      slug += '_';
    }
  }
  return slug;
}

/// Parses the CSV's "YYYY-MM-DD HH:MM:SS"; rejects anything else, including dates that
/// do not exist (cctz would silently normalise 2019-02-30 to March 2).
std::optional<cctz::civil_second> parse_csv_date(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  const auto field = [&](size_t at, size_t len) -> int {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = field(0, 4), mo = field(5, 2), d = field(8, 2), h = field(11, 2), mi = field(14, 2),
            se = field(17, 2);
  if (y < 0 || mo < 1 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) {
    return std::nullopt;
  }
  const cctz::civil_second cs(y, mo, d, h, mi, se);
  if (cs.year() != y || cs.month() != mo || cs.day() != d) return std::nullopt;
  return cs;
}

/// Local wall time -> UTC. Daylight-saving edges are resolved the same way every time:
/// a time skipped by the spring-forward gap (a recording artefact: the clock never showed
/// it) maps to the transition instant (2019-03-10 02:30 -> 08:00Z), so the converted stream
/// stays in time order across the gap — with the pre-transition offset it would read 08:30Z
/// and the next half hour of real incidents would look 30 min late. A time repeated by the
/// fall-back overlap is its first occurrence (daylight time), cctz's `pre`.
sentinel::EventTime local_to_utc(const cctz::time_zone& zone, const cctz::civil_second& cs) {
  const cctz::time_zone::civil_lookup lookup = zone.lookup(cs);
  const auto instant = lookup.kind == cctz::time_zone::civil_lookup::SKIPPED ? lookup.trans : lookup.pre;
  const auto secs =
      std::chrono::time_point_cast<std::chrono::seconds>(instant).time_since_epoch().count();
  return sentinel::event_time_from_ms(static_cast<int64_t>(secs) * 1000);
}

struct ConvertStats {
  uint64_t rows_read = 0;
  uint64_t events_written = 0;
  uint64_t rows_skipped = 0;
  uint64_t without_location = 0;
  uint64_t bytes_written = 0;
};

/// Column positions found by header name, so a reordered export still converts.
struct CrimeColumns {
  size_t count = 0;
  size_t date = 0, primary_type = 0, description = 0, location_description = 0, arrest = 0,
         community_area = 0, latitude = 0, longitude = 0;
};

CrimeColumns find_columns(const std::vector<std::string>& header, const std::string& path) {
  CrimeColumns cols;
  cols.count = header.size();
  const auto find = [&](std::string_view name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (trim(header[i]) == name) return i;
    }
    throw std::runtime_error(path + ": line 1: header has no column \"" + std::string(name) + "\"");
  };
  cols.date = find("Date");
  cols.primary_type = find("Primary Type");
  cols.description = find("Description");
  cols.location_description = find("Location Description");
  cols.arrest = find("Arrest");
  cols.community_area = find("Community Area");
  cols.latitude = find("Latitude");
  cols.longitude = find("Longitude");
  return cols;
}

/// Appends the CloudEvent for one CSV row to `out`, or returns why the row is malformed
/// (and leaves `out` unchanged).
std::optional<std::string> convert_row(const std::vector<std::string>& f, const CrimeColumns& cols,
                                       uint64_t row_number, const cctz::time_zone& zone,
                                       std::string& out, bool& has_location) {
  if (f.size() != cols.count) return fmt::format("{} columns, expected {}", f.size(), cols.count);
  const std::optional<cctz::civil_second> local = parse_csv_date(trim(f[cols.date]));
  if (!local) return fmt::format("bad Date \"{}\"", f[cols.date]);
  const std::string_view primary_type = trim(f[cols.primary_type]);
  if (primary_type.empty()) return std::string("empty Primary Type");
  const std::string_view arrest_text = trim(f[cols.arrest]);
  bool arrest = false;
  if (arrest_text == "True" || arrest_text == "true") {
    arrest = true;
  } else if (arrest_text != "False" && arrest_text != "false") {
    return fmt::format("bad Arrest \"{}\"", f[cols.arrest]);
  }
  int64_t community_area = 0;
  if (!parse_number(f[cols.community_area], community_area) || community_area < 0) {
    return fmt::format("bad Community Area \"{}\"", f[cols.community_area]);
  }
  const std::string_view lat_text = trim(f[cols.latitude]), lon_text = trim(f[cols.longitude]);
  double lat = 0, lon = 0;
  has_location = !lat_text.empty() || !lon_text.empty();
  if (has_location) {
    if (!parse_number(lat_text, lat) || lat < -90 || lat > 90)
      return fmt::format("bad Latitude \"{}\"", lat_text);
    if (!parse_number(lon_text, lon) || lon < -180 || lon > 180) {
      return fmt::format("bad Longitude \"{}\"", lon_text);
    }
  }
  const Severity severity = severity_of(primary_type);

  fmt::format_to(
      std::back_inserter(out),
      R"({{"specversion":"1.0","id":"crime-{:06d}","source":"platform","type":"platform.fir.)",
      row_number);
  out += type_slug(primary_type);
  out += R"(","time":")";
  sentinel::append_rfc3339(out, local_to_utc(zone, *local));
  out += '"';
  if (has_location) {
    out += R"(,"lat":)";
    append_shortest(out, lat);
    out += R"(,"lon":)";
    append_shortest(out, lon);
  }
  out += R"(,"severity":")";
  out += sentinel::severity_name(severity);
  out += R"(","confidence":0.9,"data":{"primary_type":)";
  append_json_string(out, primary_type);
  out += R"(,"description":)";
  append_json_string(out, f[cols.description]);
  out += R"(,"location_description":)";
  append_json_string(out, f[cols.location_description]);
  out += R"(,"arrest":)";
  out += arrest ? "true" : "false";
  fmt::format_to(std::back_inserter(out), R"(,"community_area":{}}}}})", community_area);
  out += '\n';
  return std::nullopt;
}

ConvertStats convert_crimes(const std::string& csv_path, const std::string& out_path,
                            const std::string& zone_name) {
  cctz::time_zone zone;
  if (!cctz::load_time_zone(zone_name, &zone)) {
    throw std::runtime_error("--time-zone: unknown time zone \"" + zone_name +
                             "\" (is tzdata installed?)");
  }
  const std::string text = read_whole_file(csv_path);
  CsvReader reader(text);
  std::vector<std::string> fields;
  std::string error;
  if (!reader.next(fields, error) || !error.empty()) {
    throw std::runtime_error(csv_path + ": line 1: missing or malformed header" +
                             (error.empty() ? "" : " (" + error + ")"));
  }
  const CrimeColumns cols = find_columns(fields, csv_path);

  FileWriter writer(out_path);
  ConvertStats stats;
  while (reader.next(fields, error)) {
    ++stats.rows_read;
    bool has_location = false;
    std::optional<std::string> bad;
    if (!error.empty()) {
      bad = error;
    } else {
      bad = convert_row(fields, cols, stats.rows_read, zone, writer.buffer(), has_location);
    }
    if (bad) {
      ++stats.rows_skipped;
      std::fprintf(stderr, "%s: line %llu: skipped: %s\n", csv_path.c_str(),
                   static_cast<unsigned long long>(reader.record_line()), bad->c_str());
      continue;
    }
    ++stats.events_written;
    if (!has_location) ++stats.without_location;
    writer.maybe_flush();
  }
  stats.bytes_written = writer.close();
  return stats;
}

// ----------------------------------------------------------------- randomness

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Seeded randomness whose outputs the C++ standard fixes on every platform (see the top
/// of the file). Each generator gets its own stream, so tuning one leaves the others' draws
/// unchanged.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : engine_(splitmix64(seed ^ splitmix64(stream))) {}

  /// Uniform in [0, n), n > 0. Rejection removes the modulo bias: the accepted range
  /// [2^64 mod n, 2^64) holds a whole number of copies of [0, n).
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t x = engine_();
      if (x >= threshold) return x % n;
    }
  }
  /// Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  /// Uniform in [0, 1) on the 2^-53 grid (exact conversion of the top 53 bits).
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  /// Offset in metres uniform over the disc of `radius`, by rejection from the square.
  std::pair<double, double> in_disc(double radius) {
    for (;;) {
      const double x = 2 * unit() - 1, y = 2 * unit() - 1;
      if (x * x + y * y <= 1) return {x * radius, y * radius};
    }
  }

 private:
  std::mt19937_64 engine_;
};

enum RngStream : uint64_t {
  kCameraStream = 1,
  kCctvStream,
  kGunshotStream,
  kCadStream,
  kPanicStream,
  kMotionStream,
  kDefectStream
};

// ------------------------------------------------------------------ geometry

// Local flat projection around Chicago (41.85 N, 87.70 W): metres east and north. At city
// scale (< 40 km) its error is well under 1%, far below the radii used here.
constexpr double kOriginLat = 41.85, kOriginLon = -87.70;
constexpr double kMetresPerDegLat = 111070.0;  // at 41.85 N
constexpr double kMetresPerDegLon = 83040.0;   // 111320 m x cos(41.85 N)

// Incidents outside this box get no synthetic events: it holds every real incident but the
// one known bogus geocode (36.62 N, 91.69 W), which the demo's `city.bounds` rejects.
constexpr double kCityLatMin = 41.60, kCityLatMax = 42.10, kCityLonMin = -88.00,
                 kCityLonMax = -87.50;

struct Point {
  double x = 0, y = 0;  // metres east, north of the origin
};

Point project(double lat, double lon) {
  return {(lon - kOriginLon) * kMetresPerDegLon, (lat - kOriginLat) * kMetresPerDegLat};
}
double lat_of(const Point& p) {
  return kOriginLat + p.y / kMetresPerDegLat;
}
double lon_of(const Point& p) {
  return kOriginLon + p.x / kMetresPerDegLon;
}
double distance(const Point& a, const Point& b) {
  const double dx = a.x - b.x, dy = a.y - b.y;
  return std::sqrt(dx * dx + dy * dy);
}

// ---------------------------------------------------------------- incidents

struct Incident {
  std::string id;
  int64_t t_ms = 0;
  Point at;
  bool in_city = false;  // has a location inside the city box
  Severity severity = Severity::kOther;
  std::string primary_type, description, location_description;
};

struct LoadStats {
  uint64_t lines = 0, bad_lines = 0, in_city = 0;
};

std::vector<Incident> load_incidents(const std::string& path, LoadStats& stats) {
  simdjson::padded_string text;
  if (const auto err = simdjson::padded_string::load(path).get(text); err) {
    throw std::runtime_error(path + ": cannot read: " + simdjson::error_message(err));
  }
  const std::string_view all(text.data(), text.size());
  simdjson::ondemand::parser parser;
  std::vector<Incident> incidents;
  incidents.reserve(all.size() / 300);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(pos, end - pos);
    const size_t capacity = text.size() + simdjson::SIMDJSON_PADDING - pos;
    pos = end + 1;
    ++stats.lines;
    if (trim(line).empty()) continue;
    Incident inc;
    bool ok = false;
    try {
      simdjson::ondemand::document doc =
          parser.iterate(simdjson::padded_string_view(line.data(), line.size(), capacity));
      inc.id = std::string(std::string_view(doc["id"]));
      const std::optional<sentinel::EventTime> t =
          sentinel::parse_rfc3339(std::string_view(doc["time"]));
      if (t) {
        inc.t_ms = sentinel::to_ms(*t);
        ok = sentinel::parse_severity(std::string_view(doc["severity"]), inc.severity);
      }
      double lat = 0, lon = 0;
      if (doc["lat"].get(lat) == simdjson::SUCCESS && doc["lon"].get(lon) == simdjson::SUCCESS) {
        inc.in_city =
            lat >= kCityLatMin && lat <= kCityLatMax && lon >= kCityLonMin && lon <= kCityLonMax;
        inc.at = project(lat, lon);
      }
      simdjson::ondemand::object data = doc["data"].get_object();
      inc.primary_type = std::string(std::string_view(data["primary_type"]));
      inc.description = std::string(std::string_view(data["description"]));
      inc.location_description = std::string(std::string_view(data["location_description"]));
    } catch (const simdjson::simdjson_error&) {
      ok = false;
    }
    if (!ok) {
      if (++stats.bad_lines <= 10) {
        std::fprintf(stderr, "%s: line %llu: not a converted crime event, ignored\n", path.c_str(),
                     static_cast<unsigned long long>(stats.lines));
      }
      continue;
    }
    if (inc.in_city) ++stats.in_city;
    incidents.push_back(std::move(inc));
  }
  return incidents;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

/// The gunshot-detector trigger: shootings and weapons offences, and batteries or assaults
/// whose IUCR description names a gun ("AGGRAVATED: HANDGUN", "... OTHER FIREARM").
bool involves_gun(const Incident& inc) {
  if (inc.primary_type == "HOMICIDE" || inc.primary_type == "WEAPONS VIOLATION") return true;
  if (inc.primary_type == "BATTERY" || inc.primary_type == "ASSAULT") {
    return contains(inc.description, "HANDGUN") || contains(inc.description, "FIREARM") ||
           contains(inc.description, "GUN");
  }
  return false;
}

// ------------------------------------------------------------- synthetic events

enum class Stream : uint8_t { kCctv = 0, kSensor = 1, kCad = 2 };
constexpr std::array<std::string_view, 3> kStreamNames = {"cctv", "sensor", "cad"};

struct SynthEvent {
  int64_t t_ms = 0;
  uint64_t seq = 0;  // generation order: the deterministic tie-break of the time sort
  Stream stream = Stream::kCctv;
  std::string_view type;  // points to a string literal
  Point at;
  Severity severity = Severity::kOther;
  int confidence_pct = -1;  // hundredths; -1: no confidence attribute
  std::string data;         // the `data` object's JSON text
  std::string id;           // assigned after the time sort, so ids rise with time
};

// Rates of the generators at --rate-scale 1; probabilities are per eligible incident.
// Chosen so that the streams hold about 1.5 events per crime record, the whole demo input
// about 2.5x the crime events (examples/README.md has the resulting counts).
constexpr int kCameraCount = 300;
constexpr double kCameraJitterM = 50, kCameraSpacingM = 250, kCameraRangeM = 300;
constexpr double kCctvViolentP = 0.95, kCctvPropertyP = 0.7, kCctvSecondCameraFactor = 0.5;
constexpr double kMotionPerCameraPerDay = 1.5;
constexpr double kGunshotRangeM = 100, kCadRangeM = 200;
constexpr double kPanicBurstsPerDay = 3.0;
using std::chrono::minutes;
constexpr sentinel::Millis kCctvDelayMax = minutes(10), kGunshotDelayMax = minutes(2),
                           kCadOffsetMax = minutes(5), kPanicBurstSpan = minutes(3);
constexpr sentinel::Millis kDay = std::chrono::hours(24);

/// Whole seconds in d, for offsets drawn at one-second resolution.
int64_t whole_seconds(sentinel::Millis d) {
  return d.count() / 1000;
}

struct CadRule {
  std::string_view type;
  std::string_view call_type;  // the dispatcher's code in `data`
  Severity severity;
  int priority;  // 1 emergency .. 3 routine
  double p;      // chance that an incident had a dispatch call
};

/// Which dispatch call (if any) precedes or follows an incident of this kind.
CadRule cad_rule_for(const Incident& inc) {
  const std::string_view t = inc.primary_type;
  using enum Severity;
  if (t == "HOMICIDE") return {"cad.call.weapon", "SHOTS FIRED", kViolent, 1, 0.95};
  if (t == "WEAPONS VIOLATION") {
    if (contains(inc.description, "DISCHARGE"))
      return {"cad.call.weapon", "SHOTS FIRED", kViolent, 1, 0.9};
    return {"cad.call.weapon", "PERSON WITH A GUN", kViolent, 1, 0.5};
  }
  if ((t == "BATTERY" || t == "ASSAULT") && involves_gun(inc))
    return {"cad.call.weapon", "PERSON WITH A GUN", kViolent, 1, 0.9};
  if (t == "ROBBERY") {
    if (contains(inc.description, "ARMED"))
      return {"cad.call.weapon", "ARMED ROBBERY", kViolent, 1, 0.9};
    return {"cad.call.robbery", "ROBBERY", kViolent, 1, 0.85};
  }
  if (t == "BATTERY" || t == "ASSAULT") {
    if (contains(inc.description, "DOMESTIC"))
      return {"cad.call.domestic", "DOMESTIC DISTURBANCE", kViolent, 1, 0.85};
    return {"cad.call.assault", "BATTERY IN PROGRESS", kViolent, 1, 0.8};
  }
  if (t == "CRIM SEXUAL ASSAULT" || t == "CRIMINAL SEXUAL ASSAULT" || t == "SEX OFFENSE") {
    return {"cad.call.sex_offense", "SEX OFFENSE", kViolent, 1, 0.5};
  }
  if (t == "KIDNAPPING") return {"cad.call.kidnapping", "ABDUCTION", kViolent, 1, 0.8};
  if (t == "OFFENSE INVOLVING CHILDREN" || t == "HUMAN TRAFFICKING") {
    return {"cad.call.child_welfare", "CHILD WELFARE", kViolent, 2, 0.45};
  }
  if (t == "INTIMIDATION" || t == "STALKING")
    return {"cad.call.threat", "THREATS", kViolent, 2, 0.5};
  if (t == "ARSON") return {"cad.call.fire", "FIRE / ARSON", kViolent, 1, 0.95};
  if (t == "THEFT") return {"cad.call.theft", "THEFT", kProperty, 2, 0.55};
  if (t == "MOTOR VEHICLE THEFT")
    return {"cad.call.vehicle_theft", "STOLEN VEHICLE", kProperty, 2, 0.65};
  if (t == "BURGLARY") return {"cad.call.burglary", "BURGLARY", kProperty, 2, 0.75};
  if (t == "CRIMINAL DAMAGE") return {"cad.call.vandalism", "CRIMINAL DAMAGE", kProperty, 3, 0.55};
  if (t == "CRIMINAL TRESPASS") return {"cad.call.trespass", "TRESPASS", kProperty, 2, 0.7};
  if (t == "DECEPTIVE PRACTICE") return {"cad.call.fraud", "FRAUD", kProperty, 3, 0.1};
  if (t == "NARCOTICS" || t == "OTHER NARCOTIC VIOLATION")
    return {"cad.call.narcotics", "NARCOTICS", kOther, 3, 0.35};
  if (t == "OTHER OFFENSE" || t == "NON-CRIMINAL")
    return {"cad.call.suspicious", "SUSPICIOUS PERSON", kOther, 3, 0.35};
  return {"cad.call.disturbance", "DISTURBANCE", kOther, 3, 0.4};
}

/// Spatial index of the cameras: a hash grid of kCameraRangeM cells, so a range query
/// looks at the 3 x 3 cells around a point.
class CameraIndex {
 public:
  void add(const Point& p) {
    positions_.push_back(p);
    cells_[key(cell(p.x), cell(p.y))].push_back(static_cast<uint32_t>(positions_.size() - 1));
  }
  size_t size() const { return positions_.size(); }
  const Point& at(size_t i) const { return positions_[i]; }

  /// Cameras within `range` of p, nearest first (ties by index).
  std::vector<std::pair<double, uint32_t>> within(const Point& p, double range) const {
    std::vector<std::pair<double, uint32_t>> found;
    const int64_t cx = cell(p.x), cy = cell(p.y);
    for (int64_t dx = -1; dx <= 1; ++dx) {
      for (int64_t dy = -1; dy <= 1; ++dy) {
        const auto it = cells_.find(key(cx + dx, cy + dy));
        if (it == cells_.end()) continue;
        for (const uint32_t i : it->second) {
          const double d = distance(p, positions_[i]);
          if (d <= range) found.emplace_back(d, i);
        }
      }
    }
    std::sort(found.begin(), found.end());
    return found;
  }

 private:
  static int64_t cell(double metres) {
    return static_cast<int64_t>(std::floor(metres / kCameraRangeM));
  }
  static uint64_t key(int64_t x, int64_t y) {
    return (static_cast<uint64_t>(x) << 32) ^ static_cast<uint64_t>(y & 0xffffffff);
  }

  std::vector<Point> positions_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells_;
};

/// Kinds of deliberate defect (examples/README.md lists them with their pipeline outcome).
enum class Malformation : uint8_t {
  kNone,
  kTruncatedJson,
  kConfidence17,
  kLat200,
  kMissingTime,
  kUnknownSeverity
};
constexpr std::array<std::string_view, 6> kMalformationNames = {
    "", "truncated_json", "confidence_1_7", "lat_200", "missing_time", "unknown_severity"};

enum class Role : uint8_t { kInOrder, kMalformed, kOutOfOrder, kLate, kDuplicated };

// Defect rates, as fractions of the generated events.
constexpr double kOutOfOrderRate = 0.003, kDuplicateRate = 0.0005, kLateRate = 0.0002,
                 kMalformedRate = 0.0001;
// Out-of-order lines trail the newest earlier line by at most 5 min and late lines by at
// least 6 min, so each lands on one side of the pipeline's lateness bound
// (max_out_of_orderness 30 s + allowed_lateness 5 min = 5.5 min) and the demo's late count
// equals the number of late defects. Duplicates are re-sent within 5 min, inside the bound.
constexpr sentinel::Millis kMaxDisorder = std::chrono::minutes(5),
                           kMinLate = std::chrono::minutes(6), kMaxLate = std::chrono::minutes(20);

struct DefectCounts {
  uint64_t out_of_order = 0, duplicate = 0, late = 0;
  std::array<uint64_t, 6> malformed{};
  uint64_t malformed_total() const {
    uint64_t n = 0;
    for (const uint64_t m : malformed) n += m;
    return n;
  }
};

struct SynthStats {
  uint64_t incidents = 0, incidents_in_city = 0, bad_input_lines = 0;
  uint64_t cameras = 0, panic_sites = 0, lines = 0, bytes_written = 0;
  std::map<std::string, uint64_t> by_source, by_type;
  DefectCounts defects;
};

std::string fmt_coord(double v) {
  return fmt::format("{:.6f}", v);
}

class Synthesizer {
 public:
  Synthesizer(const std::vector<Incident>& incidents, uint64_t seed, double rate_scale)
      : seed_(seed), scale_(rate_scale) {
    for (const Incident& inc : incidents) {
      if (!inc.in_city) continue;
      t_min_ = std::min(t_min_, inc.t_ms);
      t_max_ = std::max(t_max_, inc.t_ms);
      located_.push_back(&inc);
    }
  }

  /// Generates every stream and returns the events sorted by (time, generation order),
  /// ids assigned per source in that order.
  std::vector<SynthEvent> generate(SynthStats& stats) {
    if (located_.empty()) return {};
    place_cameras();
    for (const Incident* inc : located_) {
      cctv_for(*inc);
      gunshot_for(*inc);
      cad_for(*inc);
    }
    panic_bursts();
    background_motion();
    stats.cameras = cameras_.size();
    stats.panic_sites = panic_devices_.size();

    std::sort(events_.begin(), events_.end(), [](const SynthEvent& a, const SynthEvent& b) {
      return a.t_ms != b.t_ms ? a.t_ms < b.t_ms : a.seq < b.seq;
    });
    std::array<uint64_t, 3> next_id{};
    for (SynthEvent& e : events_) {
      const auto s = static_cast<size_t>(e.stream);
      e.id = fmt::format("{}-{:06d}", kStreamNames[s], ++next_id[s]);
      ++stats.by_source[std::string(kStreamNames[s])];
      ++stats.by_type[std::string(e.type)];
    }
    return std::move(events_);
  }

 private:
  double p(double base) const { return std::min(1.0, base * scale_); }

  SynthEvent& emit(int64_t t_ms, Stream stream, std::string_view type, const Point& at,
                   Severity severity, int confidence_pct) {
    SynthEvent& e = events_.emplace_back();
    e.t_ms = t_ms;
    e.seq = events_.size();
    e.stream = stream;
    e.type = type;
    e.at = at;
    e.severity = severity;
    e.confidence_pct = confidence_pct;
    return e;
  }

  // Cameras sit near hot spots: each is put beside a randomly drawn real incident (so busy
  // blocks are likelier), at least kCameraSpacingM from the others to spread coverage.
  void place_cameras() {
    Rng rng(seed_, kCameraStream);
    const int attempts = kCameraCount * 200;
    for (int a = 0; a < attempts && static_cast<int>(cameras_.size()) < kCameraCount; ++a) {
      const Incident& inc = *located_[rng.below(located_.size())];
      const auto [dx, dy] = rng.in_disc(kCameraJitterM);
      const Point at{inc.at.x + dx, inc.at.y + dy};
      if (!cameras_.within(at, kCameraSpacingM).empty()) continue;
      cameras_.add(at);
    }
  }

  static std::string camera_id(uint32_t i) { return fmt::format("cam-{:03d}", i + 1); }

  // A camera's video analytics notices the commotion around a violent or property
  // incident within its range: a crowd or fight, loitering before a theft, motion at a
  // closed shop. The event carries the camera's own position.
  void cctv_for(const Incident& inc) {
    if (inc.severity == Severity::kOther) return;
    Rng& rng = cctv_rng_;
    const auto in_view = cameras_.within(inc.at, kCameraRangeM);
    const bool violent = inc.severity == Severity::kViolent;
    double chance = violent ? kCctvViolentP : kCctvPropertyP;
    for (size_t k = 0; k < in_view.size() && k < 2; ++k, chance *= kCctvSecondCameraFactor) {
      if (!rng.chance(p(chance))) continue;
      const uint32_t cam = in_view[k].second;
      const int64_t t = inc.t_ms + rng.between(0, whole_seconds(kCctvDelayMax)) * 1000;
      const int confidence = static_cast<int>(rng.between(50, 95));
      // Violent: mostly a crowd or fight; property: loitering before, or motion at, the scene.
      const uint64_t pick = rng.below(100);
      if (violent && pick < 70) {
        SynthEvent& e =
            emit(t, Stream::kCctv, "cctv.crowd", cameras_.at(cam), Severity::kViolent, confidence);
        e.data = fmt::format(R"({{"camera_id":"{}","persons":{},"near_incident":"{}"}})",
                             camera_id(cam), rng.between(6, 40), inc.id);
      } else if (violent ? pick < 85 : pick < 40) {
        SynthEvent& e = emit(t, Stream::kCctv, "cctv.loitering", cameras_.at(cam),
                             Severity::kProperty, confidence);
        e.data = fmt::format(R"({{"camera_id":"{}","dwell_s":{},"near_incident":"{}"}})",
                             camera_id(cam), rng.between(120, 1800), inc.id);
      } else {
        SynthEvent& e = emit(t, Stream::kCctv, "cctv.motion", cameras_.at(cam), Severity::kProperty,
                             confidence);
        e.data = fmt::format(R"({{"camera_id":"{}","objects":{},"near_incident":"{}"}})",
                             camera_id(cam), rng.between(1, 4), inc.id);
      }
    }
  }

  // Acoustic gunshot detection fires within 2 min of a shooting, located to within 100 m.
  void gunshot_for(const Incident& inc) {
    if (!involves_gun(inc)) return;
    Rng& rng = gunshot_rng_;
    double chance = 0.5;  // batteries and assaults with a gun: not every one is fired
    if (inc.primary_type == "HOMICIDE") chance = 0.7;
    if (inc.primary_type == "WEAPONS VIOLATION")
      chance = contains(inc.description, "DISCHARGE") ? 0.9 : 0.1;
    if (!rng.chance(p(chance))) return;
    const auto [dx, dy] = rng.in_disc(kGunshotRangeM);
    const Point at{inc.at.x + dx, inc.at.y + dy};
    SynthEvent& e =
        emit(inc.t_ms + rng.between(0, kGunshotDelayMax.count()), Stream::kSensor, "sensor.gunshot",
             at, Severity::kViolent, static_cast<int>(rng.between(60, 99)));
    // One acoustic array per 1 km square, named by its grid position.
    const auto gx = static_cast<int64_t>(std::floor((at.x + 30000) / 1000)),
               gy = static_cast<int64_t>(std::floor((at.y + 30000) / 1000));
    e.data = fmt::format(R"({{"sensor_id":"gs-{:02d}{:02d}","rounds":{},"near_incident":"{}"}})",
                         gx, gy, rng.between(1, 9), inc.id);
  }

  // One dispatch call, placed where the caller said (within 200 m), from 5 min before to
  // 5 min after the recorded time; weapon calls often come from several callers.
  void cad_for(const Incident& inc) {
    Rng& rng = cad_rng_;
    const CadRule rule = cad_rule_for(inc);
    if (!rng.chance(p(rule.p))) return;
    int calls = 1;
    if (rule.type == "cad.call.weapon") {
      calls += rng.chance(0.5) ? 1 : 0;
      calls += calls == 2 && rng.chance(0.5) ? 1 : 0;
    }
    for (int c = 0; c < calls; ++c) {
      const auto [dx, dy] = rng.in_disc(kCadRangeM);
      SynthEvent& e =
          emit(inc.t_ms +
                   rng.between(-whole_seconds(kCadOffsetMax), whole_seconds(kCadOffsetMax)) * 1000,
               Stream::kCad, rule.type, Point{inc.at.x + dx, inc.at.y + dy}, rule.severity,
               static_cast<int>(rng.between(70, 95)));
      e.data = fmt::format(R"({{"call_type":"{}","priority":{},"near_incident":"{}"}})",
                           rule.call_type, rule.priority, inc.id);
    }
  }

  // Panic buttons at schools and transit stops, at random times: a burst of 2-6 presses
  // within 3 min at one device. Sites are the real places of incidents recorded at a school
  // or on the CTA, so every device stands where the city has one.
  void panic_bursts() {
    std::vector<const Incident*> sites;
    for (const Incident* inc : located_) {
      const std::string_view where = inc->location_description;
      if (contains(where, "SCHOOL") || where.substr(0, 3) == "CTA") sites.push_back(inc);
    }
    if (sites.empty()) return;
    Rng rng(seed_, kPanicStream);
    const double days = static_cast<double>(t_max_ - t_min_) / static_cast<double>(kDay.count());
    const auto bursts = std::llround(days * kPanicBurstsPerDay * scale_);
    for (int64_t b = 0; b < bursts; ++b) {
      const Incident& site = *sites[rng.below(sites.size())];
      const bool school = contains(site.location_description, "SCHOOL");
      const std::string device = panic_device(site.at);
      const int64_t start = rng.between(t_min_ / 1000, t_max_ / 1000) * 1000;
      const auto presses = static_cast<int>(rng.between(2, 6));
      std::vector<int64_t> offsets{0};
      for (int k = 1; k < presses; ++k)
        offsets.push_back(rng.between(1000, kPanicBurstSpan.count()));
      std::sort(offsets.begin(), offsets.end());
      for (int k = 0; k < presses; ++k) {
        SynthEvent& e = emit(start + offsets[static_cast<size_t>(k)], Stream::kSensor,
                             "sensor.panic", site.at, Severity::kViolent, -1);
        e.data = fmt::format(R"({{"device_id":"{}","site":"{}","press":{}}})", device,
                             school ? "school" : "transit", k + 1);
      }
    }
  }

  /// Devices are numbered in the order their places are first drawn.
  std::string panic_device(const Point& at) {
    const auto it =
        panic_devices_.try_emplace(std::make_pair(at.x, at.y), panic_devices_.size() + 1).first;
    return fmt::format("pb-{:04d}", it->second);
  }

  // Background: every camera also reports ordinary motion (passers-by, traffic) at random
  // times, at low confidence and severity `other` — the noise the gates must hold back.
  void background_motion() {
    Rng rng(seed_, kMotionStream);
    const double days = static_cast<double>(t_max_ - t_min_) / static_cast<double>(kDay.count());
    const auto per_camera = std::llround(days * kMotionPerCameraPerDay * scale_);
    for (uint32_t cam = 0; cam < cameras_.size(); ++cam) {
      for (int64_t k = 0; k < per_camera; ++k) {
        SynthEvent& e =
            emit(rng.between(t_min_ / 1000, t_max_ / 1000) * 1000, Stream::kCctv, "cctv.motion",
                 cameras_.at(cam), Severity::kOther, static_cast<int>(rng.between(50, 80)));
        e.data =
            fmt::format(R"({{"camera_id":"{}","objects":{}}})", camera_id(cam), rng.between(1, 3));
      }
    }
  }

  uint64_t seed_;
  double scale_;
  int64_t t_min_ = INT64_MAX, t_max_ = INT64_MIN;
  std::vector<const Incident*> located_;
  CameraIndex cameras_;
  std::map<std::pair<double, double>, size_t> panic_devices_;
  Rng cctv_rng_{seed_, kCctvStream}, gunshot_rng_{seed_, kGunshotStream},
      cad_rng_{seed_, kCadStream};
  std::vector<SynthEvent> events_;
};

/// One output line (with its '\n') for an event, damaged as `m` says.
void render(const SynthEvent& e, Malformation m, std::string& out) {
  const size_t start = out.size();
  out += R"({"specversion":"1.0","id":")";
  out += e.id;
  out += R"(","source":")";
  out += kStreamNames[static_cast<size_t>(e.stream)];
  out += R"(","type":")";
  out += e.type;
  out += '"';
  if (m != Malformation::kMissingTime) {
    out += R"(,"time":")";
    sentinel::append_rfc3339(out, sentinel::event_time_from_ms(e.t_ms));
    out += '"';
  }
  out += R"(,"lat":)";
  out += m == Malformation::kLat200 ? "200.0" : fmt_coord(lat_of(e.at));
  out += R"(,"lon":)";
  out += fmt_coord(lon_of(e.at));
  out += R"(,"severity":")";
  out += m == Malformation::kUnknownSeverity ? "critical" : sentinel::severity_name(e.severity);
  out += '"';
  if (m == Malformation::kConfidence17) {
    out += R"(,"confidence":1.7)";
  } else if (e.confidence_pct >= 0) {
    fmt::format_to(std::back_inserter(out), R"(,"confidence":{}.{:02d})", e.confidence_pct / 100,
                   e.confidence_pct % 100);
  }
  out += R"(,"data":)";
  out += e.data;
  out += '}';
  if (m == Malformation::kTruncatedJson)
    out.resize(start + (out.size() - start) / 2);  // cut mid-line, as by a crash
  out += '\n';
}

struct Insertion {
  size_t after;  // index into the sorted events after whose line this one is written
  size_t event;
};

/// Writes the events in time order with the deliberate defects of examples/README.md:
/// malformed lines in place, out-of-order and late lines moved later, duplicates re-sent.
/// The defects come from a random stream of their own (the generators' draws do not shift
/// them), and each count is exactly what the output holds: a defect that cannot be placed
/// (no newer line within reach, or the end of the data) is not made.
DefectCounts write_with_defects(const std::vector<SynthEvent>& events, uint64_t seed,
                                FileWriter& writer) {
  Rng rng(seed, kDefectStream);
  DefectCounts counts;
  std::vector<Role> role(events.size(), Role::kInOrder);
  std::vector<Malformation> malformation(events.size(), Malformation::kNone);
  std::vector<int64_t> shift(events.size(), 0);
  uint64_t next_kind = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const double u = rng.unit();
    if (u < kMalformedRate) {
      role[i] = Role::kMalformed;
      // The kinds take turns, so each shows up once the data set has more than five.
      malformation[i] = static_cast<Malformation>(1 + next_kind++ % 5);
    } else if (u < kMalformedRate + kLateRate) {
      role[i] = Role::kLate;
      shift[i] = rng.between(kMinLate.count(), kMaxLate.count());
    } else if (u < kMalformedRate + kLateRate + kOutOfOrderRate) {
      role[i] = Role::kOutOfOrder;
      shift[i] = rng.between(1000, kMaxDisorder.count());
    } else if (u < kMalformedRate + kLateRate + kOutOfOrderRate + kDuplicateRate) {
      role[i] = Role::kDuplicated;
      shift[i] = rng.between(1000, kMaxDisorder.count());
    }
  }

  // Anchors are lines that stay in time order and are valid events, so they advance the
  // pipeline's watermark exactly as their times say.
  std::vector<size_t> anchors;
  std::array<std::vector<size_t>, 3> anchors_by_stream;
  for (size_t i = 0; i < events.size(); ++i) {
    if (role[i] == Role::kInOrder || role[i] == Role::kDuplicated) {
      anchors.push_back(i);
      anchors_by_stream[static_cast<size_t>(events[i].stream)].push_back(i);
    }
  }
  const auto time_of = [&](size_t i) { return events[i].t_ms; };
  std::vector<Insertion> insertions;
  for (size_t i = 0; i < events.size(); ++i) {
    const int64_t t = events[i].t_ms;
    if (role[i] == Role::kOutOfOrder || role[i] == Role::kDuplicated) {
      // After the last anchor no newer than t + shift: every line before it is <= t + shift.
      const auto it = std::upper_bound(anchors.begin(), anchors.end(), t + shift[i],
                                       [&](int64_t v, size_t a) { return v < time_of(a); });
      // A duplicate's own original is an anchor, so `it` is past it. An out-of-order line
      // must follow a newer line: when none lies within the drawn shift, it follows the
      // first newer anchor if that is within kMaxDisorder, else it stays in order.
      if (it == anchors.begin()) {
        role[i] = Role::kInOrder;
        continue;
      }
      size_t after = *std::prev(it);
      if (role[i] == Role::kOutOfOrder && time_of(after) <= t) {
        const auto newer = std::upper_bound(anchors.begin(), anchors.end(), t,
                                            [&](int64_t v, size_t a) { return v < time_of(a); });
        if (newer == anchors.end() || time_of(*newer) > t + kMaxDisorder.count()) {
          role[i] = Role::kInOrder;
          continue;
        }
        after = *newer;
      }
      insertions.push_back({after, i});
    } else if (role[i] == Role::kLate) {
      // After the first anchor of its own source at least t + shift: its source (and the file)
      // has then seen a time more than the lateness bound ahead of it.
      const std::vector<size_t>& own = anchors_by_stream[static_cast<size_t>(events[i].stream)];
      const auto it = std::lower_bound(own.begin(), own.end(), t + shift[i],
                                       [&](size_t a, int64_t v) { return time_of(a) < v; });
      if (it == own.end()) {
        role[i] = Role::kInOrder;
        continue;
      }
      insertions.push_back({*it, i});
    }
  }
  std::stable_sort(insertions.begin(), insertions.end(),
                   [](const Insertion& a, const Insertion& b) { return a.after < b.after; });

  size_t next = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (role[i] != Role::kOutOfOrder && role[i] != Role::kLate) {
      render(events[i], malformation[i], writer.buffer());
    }
    for (; next < insertions.size() && insertions[next].after == i; ++next) {
      render(events[insertions[next].event], Malformation::kNone, writer.buffer());
    }
    writer.maybe_flush();
  }
  for (size_t i = 0; i < events.size(); ++i) {
    switch (role[i]) {
      case Role::kMalformed:
        ++counts.malformed[static_cast<size_t>(malformation[i])];
        break;
      case Role::kOutOfOrder:
        ++counts.out_of_order;
        break;
      case Role::kLate:
        ++counts.late;
        break;
      case Role::kDuplicated:
        ++counts.duplicate;
        break;
      case Role::kInOrder:
        break;
    }
  }
  return counts;
}

SynthStats synthesize(const std::string& events_path, const std::string& out_path, uint64_t seed,
                      double rate_scale) {
  SynthStats stats;
  LoadStats load;
  const std::vector<Incident> incidents = load_incidents(events_path, load);
  stats.incidents = incidents.size();
  stats.incidents_in_city = load.in_city;
  stats.bad_input_lines = load.bad_lines;
  if (load.in_city == 0)
    throw std::runtime_error(events_path +
                             ": no located incidents inside the city to build streams around");

  Synthesizer synth(incidents, seed, rate_scale);
  const std::vector<SynthEvent> events = synth.generate(stats);
  FileWriter writer(out_path);
  stats.defects = write_with_defects(events, seed, writer);
  stats.bytes_written = writer.close();
  stats.lines = events.size() + stats.defects.duplicate;
  return stats;
}

// ----------------------------------------------------------------------- summary

std::string megabytes(uint64_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

void print_convert_summary(const ConvertStats& s, const std::string& out_path) {
  fmt::print(
      "convert: {} rows read, {} events written, {} rows skipped ({} without location) -> {} "
      "({})\n",
      s.rows_read, s.events_written, s.rows_skipped, s.without_location, out_path,
      megabytes(s.bytes_written));
}

void print_synth_summary(const SynthStats& s, uint64_t seed, const std::string& out_path) {
  uint64_t events = 0;
  for (const auto& [name, n] : s.by_source) events += n;
  fmt::print(
      "synth: {} lines ({} events + {} duplicates), seed {}, around {} located incidents, "
      "{} cameras, {} panic devices -> {} ({})\n",
      s.lines, events, s.defects.duplicate, seed, s.incidents_in_city, s.cameras, s.panic_sites,
      out_path, megabytes(s.bytes_written));
  if (s.bad_input_lines > 0) fmt::print("  input lines ignored  {}\n", s.bad_input_lines);
  for (const auto& [name, n] : s.by_source) fmt::print("  source {:<32} {:>8}\n", name, n);
  for (const auto& [name, n] : s.by_type) fmt::print("  type   {:<32} {:>8}\n", name, n);
  fmt::print("  defect {:<32} {:>8}\n", "out_of_order", s.defects.out_of_order);
  fmt::print("  defect {:<32} {:>8}\n", "duplicate", s.defects.duplicate);
  fmt::print("  defect {:<32} {:>8}\n", "late", s.defects.late);
  fmt::print("  defect {:<32} {:>8}\n", "malformed", s.defects.malformed_total());
  for (size_t k = 1; k < kMalformationNames.size(); ++k) {
    fmt::print("  defect {:<32} {:>8}\n", fmt::format("malformed.{}", kMalformationNames[k]),
               s.defects.malformed[k]);
  }
}

int run(int argc, char** argv) {
  CLI::App app{
      "citygen: builds Sentinel's demo data from the Chicago crime CSV (see examples/README.md)"};
  app.require_subcommand(1);

  std::string crimes_path, out_path, zone_name = "America/Chicago", events_path, out_dir;
  uint64_t seed = 0;
  double rate_scale = 1.0;

  CLI::App* convert =
      app.add_subcommand("convert", "crime CSV -> CloudEvents JSON Lines (platform.fir.*)");
  convert->add_option("--crimes", crimes_path, "crime CSV (Chicago data portal columns)")
      ->required()
      ->check(CLI::ExistingFile);
  convert->add_option("--out", out_path, "output JSON Lines file")->required();
  convert->add_option("--time-zone", zone_name, "time zone of the CSV's Date column")
      ->capture_default_str();

  CLI::App* synth =
      app.add_subcommand("synth", "seeded CCTV, sensor and CAD streams around converted incidents");
  synth->add_option("--events", events_path, "output of `citygen convert`")
      ->required()
      ->check(CLI::ExistingFile);
  synth->add_option("--out", out_path, "output JSON Lines file")->required();
  synth->add_option("--seed", seed, "random seed; the same seed gives the same bytes")->required();
  synth->add_option("--rate-scale", rate_scale, "multiplies every generator's rate")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100.0));

  CLI::App* all =
      app.add_subcommand("all", "convert, then synth, into DIR/crimes.jsonl and DIR/streams.jsonl");
  all->add_option("--crimes", crimes_path, "crime CSV")->required()->check(CLI::ExistingFile);
  all->add_option("--out-dir", out_dir, "output directory (created if missing)")->required();
  all->add_option("--seed", seed, "random seed")->required();
  all->add_option("--time-zone", zone_name, "time zone of the CSV's Date column")
      ->capture_default_str();
  all->add_option("--rate-scale", rate_scale, "multiplies every generator's rate")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100.0));

  CLI11_PARSE(app, argc, argv);

  if (convert->parsed()) {
    print_convert_summary(convert_crimes(crimes_path, out_path, zone_name), out_path);
  } else if (synth->parsed()) {
    print_synth_summary(synthesize(events_path, out_path, seed, rate_scale), seed, out_path);
  } else if (all->parsed()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) throw std::runtime_error(out_dir + ": cannot create directory: " + ec.message());
    const std::string crimes_out = (std::filesystem::path(out_dir) / "crimes.jsonl").string();
    const std::string streams_out = (std::filesystem::path(out_dir) / "streams.jsonl").string();
    print_convert_summary(convert_crimes(crimes_path, crimes_out, zone_name), crimes_out);
    print_synth_summary(synthesize(crimes_out, streams_out, seed, rate_scale), seed, streams_out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "citygen: %s\n", e.what());
    return 1;
  }
}
