// The formats and their quirks follow Python feedparser's date handlers
// (feedparser/datetimes), which the feed test corpus's expectations encode.
#include "intel/feed_dates.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "intel/feed_text.h"

namespace sentinel::intel {

namespace {

using feedtext::parse_int;

constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// datetime(year, month, day, hour, minute, second) validity.
bool valid_datetime(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s) {
  if (y < kMinYear || y > kMaxYear || mo < 1 || mo > 12) return false;
  if (d < 1 || d > days_in_month(y, static_cast<int>(mo))) return false;
  return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59;
}

// (stamp - tz offset).utctimetuple(), nullopt when the result leaves datetime's range.
std::optional<FeedTime> utc_tuple(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi,
                                  int64_t s, int64_t tz_hours, int64_t tz_minutes) {
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  secs -= tz_hours * 3600 + tz_minutes * 60;
  FeedTime t = feed_time_from_unix(secs);
  if (t[0] < kMinYear || t[0] > kMaxYear) return std::nullopt;
  return t;
}

int tz_name_offset(std::string_view name, bool with_met) {
  static const std::pair<std::string_view, int> kNames[] = {
      {"ut", 0},   {"gmt", 0},  {"z", 0},   {"adt", -3}, {"ast", -4}, {"at", -4},
      {"edt", -4}, {"est", -5}, {"et", -5}, {"cdt", -5}, {"cst", -6}, {"ct", -6},
      {"mdt", -6}, {"mst", -7}, {"mt", -7}, {"pdt", -7}, {"pst", -8}, {"pt", -8},
      {"a", -1},   {"n", 1},    {"m", -12}, {"y", 12}};
  for (const auto& [n, off] : kNames) {
    if (n == name) return off;
  }
  if (with_met) {
    if (name == "met") return 1;
    if (name == "mest") return 2;
  }
  return 0;
}

int month_from_name(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string_view prefix = s.substr(0, 3);
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == prefix) return i + 1;
  }
  return 0;
}

bool is_day_name(std::string_view s) {
  static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string_view prefix = s.substr(0, 3);
  for (auto d : kDays) {
    if (d == prefix) return true;
  }
  return false;
}

std::optional<FeedTime> parse_rfc822(std::string_view date) {
  std::string lowered = feedtext::lower(date);
  std::vector<std::string> parts;
  for (auto p : feedtext::split_ws(lowered)) parts.emplace_back(p);
  if (parts.size() < 5) {
    parts.emplace_back("00:00:00");
    parts.emplace_back("0000");
  }
  if (is_day_name(parts[0])) {
    // "Fri,24 Nov 2023 ..." (no space after the comma).
    size_t comma = parts[0].rfind(',');
    if (comma != std::string::npos && parts[0].back() != ',') {
      parts.insert(parts.begin() + 1, parts[0].substr(comma + 1));
    }
    parts.erase(parts.begin());
  }
  if (parts.size() < 5) return std::nullopt;

  int month = month_from_name(parts[1]);
  int64_t day = 0;
  if (auto d = parse_int(parts[0])) {
    day = *d;
  } else if (int swapped = month_from_name(parts[0])) {
    auto d2 = parse_int(parts[1]);
    if (!d2) return std::nullopt;
    day = *d2;
    month = swapped;
  } else {
    return std::nullopt;
  }
  if (month == 0) return std::nullopt;

  auto year = parse_int(parts[2]);
  if (!year) return std::nullopt;
  // Two-digit years: 90-99 are the 1990s, 00-89 the 2000s.
  if (parts[2].size() <= 2) *year += *year < 90 ? 2000 : 1900;

  auto time_parts = feedtext::split(parts[3], ":");
  if (time_parts.size() > 3) return std::nullopt;
  int64_t hms[3] = {0, 0, 0};
  for (size_t i = 0; i < time_parts.size(); ++i) {
    auto v = parse_int(time_parts[i]);
    if (!v) return std::nullopt;
    hms[i] = *v;
  }

  std::string tz = parts[4];
  if (feedtext::starts_with(tz, "etc/")) tz = tz.substr(4);
  if (feedtext::starts_with(tz, "gmt")) {
    std::string rest = feedtext::replace_all(tz.substr(3), ":", "");
    tz = rest.empty() ? "gmt" : rest;
  }
  int64_t tz_hours = 0, tz_minutes = 0;
  if (!tz.empty() && (tz[0] == '-' || tz[0] == '+')) {
    std::string_view v = tz;
    auto h = parse_int(v.substr(1, 2));
    auto m = parse_int(tz.find(':') != std::string::npos ? v.substr(std::min<size_t>(4, v.size()))
                                                         : v.substr(std::min<size_t>(3, v.size())));
    if (!h || !m) return std::nullopt;
    tz_hours = *h;
    tz_minutes = *m;
    if (tz[0] == '-') {
      tz_hours = -tz_hours;
      tz_minutes = -tz_minutes;
    }
  } else {
    tz_hours = tz_name_offset(tz, true);
  }
  if (!valid_datetime(*year, month, day, hms[0], hms[1], hms[2])) return std::nullopt;
  return utc_tuple(*year, month, day, hms[0], hms[1], hms[2], tz_hours, tz_minutes);
}

std::optional<FeedTime> parse_w3dtf(std::string_view datestr) {
  if (feedtext::is_blank(datestr)) return std::nullopt;
  std::string lowered = feedtext::lower(datestr);
  std::vector<std::string> parts;
  for (auto p : feedtext::split(lowered, "t")) parts.emplace_back(p);
  if (parts.size() == 1) {
    // A date only, or an MSSQL-style "date time [zone]".
    std::vector<std::string> ws;
    for (auto p : feedtext::split_ws(parts[0])) ws.emplace_back(p);
    parts = ws;
    if (parts.empty()) return std::nullopt;
    if (parts.size() == 1) parts.emplace_back("00:00:00z");
  } else if (parts.size() > 2) {
    return std::nullopt;
  }
  auto date = feedtext::split(parts[0], "-", 2);
  if (date.empty() || date[0].size() != 4) return std::nullopt;
  int64_t ymd[3] = {0, 1, 1};
  for (size_t i = 0; i < date.size(); ++i) {
    auto v = parse_int(date[i]);
    if (!v) return std::nullopt;
    ymd[i] = *v;
  }
  if (feedtext::ends_with(parts[1], "z")) {
    parts[1].pop_back();
    parts.emplace_back("z");
  }
  // The numeric zone starts at the first '-' (else '+') of the time part.
  size_t loc = parts[1].find('-');
  if (loc == std::string::npos) loc = parts[1].find('+');
  if (loc == std::string::npos) loc = parts[1].size();
  parts.push_back(parts[1].substr(loc));
  parts[1] = parts[1].substr(0, loc);
  auto time = feedtext::split(parts[1], ":", 2);
  int64_t tzhour = 0, tzmin = 0;
  const std::string& zone = parts[2];
  if (!zone.empty() && (zone[0] == '-' || zone[0] == '+')) {
    std::string_view z = zone;
    auto h = parse_int(z.substr(1, 2));
    auto m = parse_int(z.substr(std::min<size_t>(4, z.size())));
    if (!h || !m) return std::nullopt;
    tzhour = zone[0] == '-' ? -*h : *h;
    tzmin = zone[0] == '-' ? -*m : *m;
  } else {
    tzhour = tz_name_offset(zone, false);
  }
  int64_t hms[3] = {0, 0, 0};
  for (size_t i = 0; i < time.size(); ++i) {
    auto v = feedtext::parse_float(time[i]);
    if (!v || *v > 1e12 || *v < -1e12) return std::nullopt;
    hms[i] = static_cast<int64_t>(*v);
  }
  if (!valid_datetime(ymd[0], ymd[1], ymd[2], hms[0], hms[1], hms[2])) return std::nullopt;
  return utc_tuple(ymd[0], ymd[1], ymd[2], hms[0], hms[1], hms[2], tzhour, tzmin);
}

// ISO 8601 templates, most specific first: the first that matches a prefix of
// the text wins (as in feedparser's iso8601 handler, whose regular
// expressions these tokens spell out).
enum class IsoTok {
  kYear4,
  kYear2,
  kMonth,
  kMonthOpt,
  kDay,
  kOrdinal,
  kCentury,
  kDash,
  kDashOpt,
  kZero
};

struct IsoFields {
  std::string year, month, day, ordinal, century, hour, minute, second, tz, tzhour, tzmin;
};

bool digits_at(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!feedtext::is_ascii_digit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// The optional time part: T?hh:mm(:ss)?(.frac)?([+-]hh(:mm)?|Z)?; returns its end.
size_t match_iso_time(std::string_view s, size_t pos, IsoFields& f) {
  size_t p = pos;
  if (p < s.size() && s[p] == 'T') ++p;
  if (!(digits_at(s, p, 2) && p + 2 < s.size() && s[p + 2] == ':' && digits_at(s, p + 3, 2)))
    return pos;
  f.hour = std::string(s.substr(p, 2));
  f.minute = std::string(s.substr(p + 3, 2));
  p += 5;
  if (p < s.size() && s[p] == ':' && digits_at(s, p + 1, 2)) {
    f.second = std::string(s.substr(p + 1, 2));
    p += 3;
  }
  if (p < s.size() && s[p] == '.' && digits_at(s, p + 1, 1)) {
    ++p;
    while (p < s.size() && feedtext::is_ascii_digit(static_cast<unsigned char>(s[p]))) ++p;
  }
  if (p < s.size() && (s[p] == '+' || s[p] == '-') && digits_at(s, p + 1, 2)) {
    size_t start = p;
    f.tzhour = std::string(s.substr(p + 1, 2));
    p += 3;
    if (p < s.size() && s[p] == ':' && digits_at(s, p + 1, 2)) {
      f.tzmin = std::string(s.substr(p + 1, 2));
      p += 3;
    }
    f.tz = std::string(s.substr(start, p - start));
  } else if (p < s.size() && s[p] == 'Z') {
    f.tz = "Z";
    ++p;
  }
  return p;
}

// Matches tokens[ti..] at s[pos..] (optional elements tried present first,
// as a backtracking regex does); on success sets `end` past the time part.
bool match_iso(const std::vector<IsoTok>& tokens, size_t ti, std::string_view s, size_t pos,
               IsoFields& f, size_t& end) {
  if (ti == tokens.size()) {
    end = match_iso_time(s, pos, f);
    return true;
  }
  auto two = [&](size_t p, std::string_view first_digits) {
    return p + 2 <= s.size() && first_digits.find(s[p]) != std::string_view::npos &&
           feedtext::is_ascii_digit(static_cast<unsigned char>(s[p + 1]));
  };
  IsoFields saved = f;
  switch (tokens[ti]) {
    case IsoTok::kYear4:
      if (!digits_at(s, pos, 4)) return false;
      f.year = std::string(s.substr(pos, 4));
      return match_iso(tokens, ti + 1, s, pos + 4, f, end);
    case IsoTok::kYear2:
      if (!digits_at(s, pos, 2)) return false;
      f.year = std::string(s.substr(pos, 2));
      return match_iso(tokens, ti + 1, s, pos + 2, f, end);
    case IsoTok::kMonth:
    case IsoTok::kMonthOpt:
      if (two(pos, "01")) {
        f.month = std::string(s.substr(pos, 2));
        if (match_iso(tokens, ti + 1, s, pos + 2, f, end)) return true;
        f = saved;
      }
      return tokens[ti] == IsoTok::kMonthOpt && match_iso(tokens, ti + 1, s, pos, f, end);
    case IsoTok::kDay:
      if (!two(pos, "0123")) return false;
      f.day = std::string(s.substr(pos, 2));
      return match_iso(tokens, ti + 1, s, pos + 2, f, end);
    case IsoTok::kOrdinal:
      if (!(two(pos, "0123") && digits_at(s, pos + 2, 1))) return false;
      f.ordinal = std::string(s.substr(pos, 3));
      return match_iso(tokens, ti + 1, s, pos + 3, f, end);
    case IsoTok::kCentury:
      if (!(digits_at(s, pos, 2) && pos + 2 == s.size())) return false;
      f.century = std::string(s.substr(pos, 2));
      return match_iso(tokens, ti + 1, s, pos + 2, f, end);
    case IsoTok::kDash:
      return pos < s.size() && s[pos] == '-' && match_iso(tokens, ti + 1, s, pos + 1, f, end);
    case IsoTok::kDashOpt:
      if (pos < s.size() && s[pos] == '-') {
        if (match_iso(tokens, ti + 1, s, pos + 1, f, end)) return true;
        f = saved;
      }
      return match_iso(tokens, ti + 1, s, pos, f, end);
    case IsoTok::kZero:
      return pos < s.size() && s[pos] == '0' && match_iso(tokens, ti + 1, s, pos + 1, f, end);
  }
  return false;
}

std::optional<FeedTime> parse_iso8601(std::string_view text) {
  using T = IsoTok;
  static const std::vector<std::vector<IsoTok>> kTemplates = {
      {T::kYear4, T::kDashOpt, T::kMonth, T::kDashOpt, T::kDay},            // YYYY-?MM-?DD
      {T::kYear4, T::kDash, T::kZero, T::kMonthOpt, T::kDashOpt, T::kDay},  // YYYY-0MM?-?DD
      {T::kYear4, T::kDash, T::kMonth},                                     // YYYY-MM
      {T::kYear4, T::kDashOpt, T::kOrdinal},                                // YYYY-?OOO
      {T::kYear2, T::kDashOpt, T::kMonth, T::kDashOpt, T::kDay},            // YY-?MM-?DD
      {T::kYear2, T::kDashOpt, T::kOrdinal},                                // YY-?OOO
      {T::kYear4},                                                          // YYYY
      {T::kDash, T::kYear2, T::kDashOpt, T::kMonth},                        // -YY-?MM
      {T::kDash, T::kOrdinal},                                              // -OOO
      {T::kDash, T::kYear2},                                                // -YY
      {T::kDash, T::kDash, T::kMonth, T::kDashOpt, T::kDay},                // --MM-?DD
      {T::kDash, T::kDash, T::kMonth},                                      // --MM
      {T::kDash, T::kDash, T::kDash, T::kDay},                              // ---DD
      {T::kCentury},                                                        // CC
      {}};
  IsoFields m;
  size_t end = 0;
  bool matched = false;
  for (const auto& t : kTemplates) {
    m = IsoFields{};
    if (match_iso(t, 0, text, 0, m, end)) {
      matched = true;
      break;
    }
  }
  if (!matched || end == 0) return std::nullopt;

  std::time_t now_t = std::time(nullptr);
  std::tm now{};
  gmtime_r(&now_t, &now);
  auto num = [](const std::string& v) -> int64_t { return v.empty() ? 0 : *parse_int(v); };
  int64_t ordinal = num(m.ordinal);
  int64_t year = 0;
  if (m.year.empty()) {
    year = now.tm_year + 1900;
  } else if (m.year.size() == 2) {
    // ISO 8601 assumes the current century: 93 -> 2093.
    year = 100 * ((now.tm_year + 1900) / 100) + num(m.year);
  } else {
    year = num(m.year);
  }
  int64_t month = 0;
  if (m.month.empty()) {
    month = ordinal != 0 ? 1 : now.tm_mon + 1;
  } else {
    month = num(m.month);
  }
  int64_t day = 0;
  if (m.day.empty()) {
    if (ordinal != 0) {
      day = ordinal;
    } else if (!m.century.empty() || !m.year.empty() || !m.month.empty()) {
      day = 1;
    } else {
      day = now.tm_mday;
    }
  } else {
    day = num(m.day);
  }
  if (!m.century.empty()) year = (num(m.century) - 1) * 100 + 1;
  int64_t hour = num(m.hour), minute = num(m.minute), second = num(m.second);
  // Out-of-range fields are rejected rather than rolled over (30 February is
  // not 1 March); only the zone shift below may cross a day boundary.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (ordinal != 0 ? (ordinal < 1 || ordinal > (is_leap(year) ? 366 : 365))
                   : (day < 1 || day > days_in_month(year, static_cast<int>(month)))) {
    return std::nullopt;
  }
  if (!m.tz.empty() && m.tz != "Z") {
    int64_t th = num(m.tzhour), tm = num(m.tzmin);
    if (m.tz[0] == '-') {
      hour += th;
      minute += tm;
    } else {
      hour -= th;
      minute -= tm;
    }
  }
  int64_t secs = days_from_civil(year, month, 1) * 86400 + (day - 1) * 86400 + hour * 3600 +
                 minute * 60 + second;
  FeedTime t = feed_time_from_unix(secs);
  if (t[0] < kMinYear || t[0] > kMaxYear) return std::nullopt;
  return t;
}

// "Sun Jan  4 16:29:06 PST 2004" / "Sun Jan  4 16:29:06 2004", reordered for the RFC 822 parser.
std::optional<FeedTime> parse_asctime(std::string_view text) {
  auto parts = feedtext::split_ws(text);
  if (parts.size() == 5) parts.insert(parts.begin() + 4, "+0000");
  if (parts.size() != 6) return std::nullopt;
  std::string rfc = std::string(parts[0]) + " " + std::string(parts[2]) + " " +
                    std::string(parts[1]) + " " + std::string(parts[5]) + " " +
                    std::string(parts[3]) + " " + std::string(parts[4]);
  return parse_rfc822(rfc);
}

// Perforce: "Fri, 2006/09/15 08:19:53 EDT", reordered for the RFC 822 parser.
std::optional<FeedTime> parse_perforce(std::string_view s) {
  auto run = [&](size_t p, size_t max, auto pred) {
    size_t k = p;
    while (k < s.size() && k - p < max && pred(static_cast<unsigned char>(s[k]))) ++k;
    return k;
  };
  auto digit = [](unsigned char c) { return feedtext::is_ascii_digit(c); };
  auto word = [](unsigned char c) { return feedtext::is_ascii_alnum(c) || c == '_'; };
  size_t comma = 0;
  while ((comma = s.find(", ", comma)) != std::string_view::npos) {
    size_t dow_start = comma;
    while (dow_start > 0 && comma - dow_start < 3 &&
           word(static_cast<unsigned char>(s[dow_start - 1])))
      --dow_start;
    size_t p = comma + 2;
    size_t y_end = run(p, 4, digit);
    if (y_end < s.size() && s[y_end] == '/') {
      size_t m_end = run(y_end + 1, 2, digit);
      if (m_end < s.size() && s[m_end] == '/' && digits_at(s, m_end + 1, 2) &&
          m_end + 3 < s.size() && s[m_end + 3] == ' ') {
        size_t h_start = m_end + 4;
        size_t h_end = run(h_start, 2, digit);
        if (h_end < s.size() && s[h_end] == ':' && digits_at(s, h_end + 1, 2) &&
            h_end + 3 < s.size() && s[h_end + 3] == ':' && digits_at(s, h_end + 4, 2) &&
            h_end + 6 < s.size() && s[h_end + 6] == ' ') {
          size_t tz_end = run(h_end + 7, 3, word);
          auto month = parse_int(s.substr(y_end + 1, m_end - y_end - 1));
          if (!month || *month < 1 || *month > 12) return std::nullopt;
          static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
          std::string rfc =
              std::string(s.substr(dow_start, comma - dow_start)) + ", " +
              std::string(s.substr(m_end + 1, 2)) + " " + std::string(kMonths[*month - 1]) + " " +
              std::string(s.substr(p, y_end - p)) + " " +
              std::string(s.substr(h_start, h_end - h_start)) + ":" +
              std::string(s.substr(h_end + 1, 2)) + ":" + std::string(s.substr(h_end + 4, 2)) +
              " " + std::string(s.substr(h_end + 7, tz_end - h_end - 7));
          return parse_rfc822(rfc);
        }
      }
    }
    comma += 2;
  }
  return std::nullopt;
}

}  // namespace

int64_t feed_time_to_unix(const FeedTime& t) {
  return days_from_civil(t[0], t[1], t[2]) * 86400 + int64_t{t[3]} * 3600 + int64_t{t[4]} * 60 +
         t[5];
}

FeedTime feed_time_from_unix(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  FeedTime t{};
  t[0] = y;
  t[1] = m;
  t[2] = d;
  t[3] = static_cast<int>(rem / 3600);
  t[4] = static_cast<int>((rem % 3600) / 60);
  t[5] = static_cast<int>(rem % 60);
  // 1970-01-01 was a Thursday (Monday = 0).
  t[6] = static_cast<int>(((days % 7) + 7 + 3) % 7);
  t[7] = static_cast<int>(days - days_from_civil(y, 1, 1) + 1);
  t[8] = 0;
  return t;
}

std::string format_http_date(int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  FeedTime t = feed_time_from_unix(unix_seconds);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t[6]], t[2],
                kMonths[t[1] - 1], t[0], t[3], t[4], t[5]);
  return buf;
}

std::optional<FeedTime> parse_feed_date(std::string_view text) {
  if (text.empty()) return std::nullopt;
  using Parser = std::optional<FeedTime> (*)(std::string_view);
  static constexpr Parser kParsers[] = {parse_w3dtf, parse_rfc822, parse_iso8601, parse_asctime,
                                        parse_perforce};
  for (Parser p : kParsers) {
    if (auto t = p(text)) return t;
  }
  return std::nullopt;
}

}  // namespace sentinel::intel
