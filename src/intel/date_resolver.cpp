#include "intel/date_resolver.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

namespace sentinel::intel {

int32_t days_from_civil(int year, int month, int day) {
  using namespace std::chrono;
  auto ymd = std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
             std::chrono::day{static_cast<unsigned>(day)};
  return static_cast<int32_t>(sys_days{ymd}.time_since_epoch().count());
}

void civil_from_days(int32_t days, int& year, int& month, int& day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  year = static_cast<int>(ymd.year());
  month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  day = static_cast<int>(static_cast<unsigned>(ymd.day()));
}

int weekday_of(int32_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  int w = (days % 7 + 7 + 3) % 7;
  return w;
}

namespace {

constexpr std::array<std::string_view, 12> kMonthAbbrev = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

bool valid_date(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1800 || y > 2200) return false;
  using namespace std::chrono;
  return (std::chrono::year{y} / std::chrono::month{static_cast<unsigned>(m)} / std::chrono::day{static_cast<unsigned>(d)})
      .ok();
}

int month_of(std::string_view w) {
  // Most tokens are not months: reject on length and first letter before
  // comparing strings.
  if (w.size() < 3 || w.size() > 10) return 0;
  switch (w[0]) {
    case 'j': case 'f': case 'm': case 'a': case 's': case 'o': case 'n': case 'd': case 'e': break;
    default: return 0;
  }
  struct M {
    std::string_view name;
    int month;
  };
  static constexpr M kMonths[] = {
      {"jan", 1},  {"january", 1},  {"feb", 2},     {"february", 2}, {"mar", 3},     {"march", 3},
      {"apr", 4},  {"april", 4},    {"may", 5},     {"jun", 6},      {"june", 6},    {"jul", 7},
      {"july", 7}, {"aug", 8},      {"august", 8},  {"sep", 9},      {"sept", 9},    {"september", 9},
      {"oct", 10}, {"october", 10}, {"nov", 11},    {"november", 11}, {"dec", 12},   {"december", 12},
      {"enero", 1}, {"febrero", 2}, {"marzo", 3},   {"abril", 4},    {"mayo", 5},    {"junio", 6},
      {"julio", 7}, {"agosto", 8},  {"septiembre", 9}, {"octubre", 10}, {"noviembre", 11}, {"diciembre", 12},
  };
  for (const auto& m : kMonths) {
    if (m.name == w) return m.month;
  }
  return 0;
}

int weekday_word(std::string_view w) {
  static constexpr std::string_view kDays[] = {"monday", "tuesday", "wednesday", "thursday",
                                               "friday", "saturday", "sunday"};
  for (int i = 0; i < 7; ++i) {
    if (kDays[i] == w) return i;
  }
  return -1;
}

int number_word(std::string_view w) {
  static constexpr std::string_view kNums[] = {"zero", "one", "two",   "three", "four",  "five",  "six",
                                               "seven", "eight", "nine", "ten", "eleven", "twelve"};
  for (int i = 0; i < 13; ++i) {
    if (kNums[i] == w) return i;
  }
  if (w == "a") return 1;
  return -1;
}

bool to_int(std::string_view w, int& v) {
  if (w.empty() || w.size() > 9) return false;
  auto r = std::from_chars(w.data(), w.data() + w.size(), v);
  return r.ec == std::errc() && r.ptr == w.data() + w.size();
}

// Two-digit years: MUC's "90" is 1990; 00-49 read as 20xx.
int expand_year(int y, size_t digits) {
  if (digits == 4) return y;
  if (digits == 2) return y >= 50 ? 1900 + y : 2000 + y;
  return -1;
}

// The year that puts (month, day) closest before the anchor: the anchor's
// year unless that is more than a month ahead of it.
int32_t infer_year_day(int month, int day, int32_t anchor) {
  int ay, am, ad;
  civil_from_days(anchor, ay, am, ad);
  for (int y : {ay, ay - 1, ay + 1}) {
    if (!valid_date(y, month, day)) continue;
    int32_t d = days_from_civil(y, month, day);
    if (d <= anchor + 31 && d > anchor - 335) return d;
  }
  return valid_date(ay, month, day) ? days_from_civil(ay, month, day) : INT32_MIN;
}

struct Scanner {
  const TokenizedText& t;
  int32_t anchor;
  std::vector<DateMention>& out;
  std::vector<uint32_t> sentence;  // sentence index per token

  size_t n() const { return t.tokens.size(); }
  std::string_view w(size_t i) const { return i < n() ? t.norm_token(i) : std::string_view(); }
  bool num(size_t i, int& v) const {
    return i < n() && (t.tokens[i].flags & Token::kNumber) && to_int(w(i), v);
  }
  bool same_sentence(size_t a, size_t b) const { return a < n() && b < n() && sentence[a] == sentence[b]; }
  // The single separator character between tokens i and i+1 ('\0' if none or several).
  char sep_after(size_t i) const {
    if (i + 1 >= n()) return '\0';
    uint32_t a = t.tokens[i].end, b = t.tokens[i + 1].begin;
    return b == a + 1 ? t.text[a] : '\0';
  }
  size_t digits(size_t i) const { return t.tokens[i].end - t.tokens[i].begin; }

  void add(size_t begin, size_t end, int32_t first, int32_t last, DateBasis basis, int minute = -1) {
    DateMention m;
    m.begin = static_cast<uint32_t>(begin);
    m.end = static_cast<uint32_t>(end);
    m.first_day = first;
    m.last_day = last;
    m.basis = basis;
    m.minute_of_day = minute;
    out.push_back(m);
  }

  // "at 2330", "2330 GMT", "10:30 p.m.", "3 a.m.", "noon", "midnight".
  bool time_at(size_t i, size_t& end, int& minute) const {
    std::string_view a = w(i);
    if (a == "noon" || a == "midday") {
      end = i + 1;
      minute = 12 * 60;
      return true;
    }
    if (a == "midnight") {
      end = i + 1;
      minute = 0;
      return true;
    }
    int v = 0;
    if (!num(i, v)) return false;
    auto ampm = [&](size_t j, size_t& e) -> int {  // 0 none, 1 am, 2 pm
      std::string_view x = w(j);
      if (x == "am" || x == "pm") {
        e = j + 1;
        return x == "am" ? 1 : 2;
      }
      if ((x == "a" || x == "p") && w(j + 1) == "m") {
        e = j + 2;
        return x == "a" ? 1 : 2;
      }
      return 0;
    };
    // h:mm [am|pm]
    if (sep_after(i) == ':' && i + 1 < n()) {
      int mm = 0;
      if (num(i + 1, mm) && digits(i + 1) == 2 && mm < 60 && v <= 24) {
        size_t e = i + 2;
        int ap = ampm(i + 2, e);
        int h = v;
        if (ap == 1 && h == 12) h = 0;
        if (ap == 2 && h < 12) h += 12;
        if (h > 23) return false;
        end = e;
        minute = h * 60 + mm;
        return true;
      }
    }
    // h am|pm
    if (v >= 1 && v <= 12) {
      size_t e = i + 1;
      int ap = ampm(i + 1, e);
      if (ap != 0) {
        int h = v % 12 + (ap == 2 ? 12 : 0);
        end = e;
        minute = h * 60;
        return true;
      }
    }
    // hhmm after "at" / before "gmt" / "hours" (MUC and military style).
    if (digits(i) == 4 && v / 100 <= 23 && v % 100 <= 59) {
      std::string_view prev = i > 0 ? w(i - 1) : std::string_view();
      std::string_view next = w(i + 1);
      if (prev == "at" || prev == "about" || prev == "around" || next == "gmt" || next == "hours" || next == "hrs" ||
          next == "local") {
        end = i + 1;
        if (next == "hours" || next == "hrs" || next == "gmt") end = i + 2;
        minute = (v / 100) * 60 + v % 100;
        return true;
      }
    }
    return false;
  }

  void run() {
    sentence.resize(n());
    uint32_t s = 0;
    for (size_t i = 0; i < n(); ++i) {
      sentence[i] = s;
      if (t.tokens[i].flags & Token::kSentenceEnd) ++s;
    }
    std::vector<std::pair<size_t, int>> times;  // (token, minute), attached later
    std::vector<size_t> time_ends;
    size_t i = 0;
    while (i < n()) {
      size_t consumed = scan_at(i);
      if (consumed > 0) {
        i += consumed;
        continue;
      }
      size_t end = 0;
      int minute = -1;
      // A GMT time in brackets repeats the local one ("2330 [0530 GMT]"): skip it.
      if (time_at(i, end, minute)) {
        bool gmt_repeat = w(end - 1) == "gmt" && (t.tokens[i].flags & Token::kOpenBefore);
        if (!gmt_repeat) {
          times.emplace_back(i, minute);
          time_ends.push_back(end);
        }
        i = end;
        continue;
      }
      ++i;
    }
    std::sort(out.begin(), out.end(), [](const DateMention& a, const DateMention& b) { return a.begin < b.begin; });
    // Attach each time to the nearest day mention of its sentence; keep
    // orphans as time-only mentions.
    for (size_t k = 0; k < times.size(); ++k) {
      auto [tok, minute] = times[k];
      DateMention* best = nullptr;
      size_t best_dist = SIZE_MAX;
      for (auto& m : out) {
        if (!m.has_day || !same_sentence(m.begin, tok) || m.minute_of_day >= 0) continue;
        if (m.basis == DateBasis::kVague) continue;
        size_t dist = m.begin > tok ? m.begin - tok : tok - m.begin;
        if (dist < best_dist) {
          best_dist = dist;
          best = &m;
        }
      }
      if (best != nullptr) {
        best->minute_of_day = minute;
      } else {
        DateMention m;
        m.begin = static_cast<uint32_t>(tok);
        m.end = static_cast<uint32_t>(time_ends[k]);
        m.has_day = false;
        m.minute_of_day = minute;
        m.basis = DateBasis::kRelative;
        out.push_back(m);
      }
    }
    std::sort(out.begin(), out.end(), [](const DateMention& a, const DateMention& b) { return a.begin < b.begin; });
  }

  // Tries every date pattern at token i; returns tokens consumed (0: none).
  size_t scan_at(size_t i) {
    std::string_view a = w(i);
    int v = 0;
    // DD MONTH [YY|YYYY]
    if (num(i, v) && v >= 1 && v <= 31 && same_sentence(i, i + 1)) {
      int month = month_of(w(i + 1));
      if (month != 0) {
        int y = 0;
        size_t end = i + 2;
        int year = -1;
        if (num(i + 2, y) && same_sentence(i + 1, i + 2)) {
          size_t dg = digits(i + 2);
          // Two-digit years only in the MUC "DD MMM YY" form; otherwise
          // "12 JANUARY 15 PEOPLE" would be read as 2015.
          if (dg == 4 && y >= 1800 && y <= 2200) {
            year = y;
          } else if (dg == 2 && w(i + 1).size() == 3) {
            year = expand_year(y, 2);
          }
          if (year > 0) end = i + 3;
        }
        int32_t day = year > 0 ? (valid_date(year, month, v) ? days_from_civil(year, month, v) : INT32_MIN)
                               : infer_year_day(month, v, anchor);
        if (day != INT32_MIN) {
          add(i, end, day, day, DateBasis::kAbsolute);
          return end - i;
        }
      }
    }
    // MONTH DD[, YYYY]
    if (int month = month_of(a); month != 0) {
      int d = 0;
      bool may_verb = a == "may" && !t.upper_case_text && !(t.tokens[i].flags & Token::kCapitalised);
      if (!may_verb && num(i + 1, d) && d >= 1 && d <= 31 && digits(i + 1) <= 2 && same_sentence(i, i + 1)) {
        int y = 0;
        size_t end = i + 2;
        int year = -1;
        if (num(i + 2, y) && digits(i + 2) == 4 && y >= 1800 && y <= 2200 && same_sentence(i + 1, i + 2)) {
          year = y;
          end = i + 3;
        }
        int32_t day = year > 0 ? (valid_date(year, month, d) ? days_from_civil(year, month, d) : INT32_MIN)
                               : infer_year_day(month, d, anchor);
        if (day != INT32_MIN) {
          add(i, end, day, day, DateBasis::kAbsolute);
          return end - i;
        }
      }
      // A month alone, after a preposition: "in January", "since March 1989".
      std::string_view prev = i > 0 ? w(i - 1) : std::string_view();
      if (!may_verb && (prev == "in" || prev == "during" || prev == "since" || prev == "early" || prev == "late" ||
                        prev == "mid" || prev == "last" || prev == "of")) {
        int ay, am, ad;
        civil_from_days(anchor, ay, am, ad);
        int year = month > am ? ay - 1 : ay;
        size_t end = i + 1;
        int y = 0;
        if (num(i + 1, y) && digits(i + 1) == 4 && y >= 1800 && y <= 2200) {
          year = y;
          end = i + 2;
        }
        int32_t first = days_from_civil(year, month, 1);
        int32_t last = (month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, month + 1, 1)) - 1;
        add(prev == "last" || prev == "in" ? i - 1 : i, end, first, last, DateBasis::kVague);
        return end - i;
      }
    }
    // YYYY-MM-DD
    if (num(i, v) && digits(i) == 4 && sep_after(i) == '-' && sep_after(i + 1) == '-') {
      int m = 0, d = 0;
      if (num(i + 1, m) && num(i + 2, d) && valid_date(v, m, d)) {
        int32_t day = days_from_civil(v, m, d);
        add(i, i + 3, day, day, DateBasis::kAbsolute);
        return 3;
      }
    }
    // M/D/YYYY (US order).
    if (num(i, v) && v >= 1 && v <= 12 && sep_after(i) == '/' && sep_after(i + 1) == '/') {
      int d = 0, y = 0;
      if (num(i + 1, d) && num(i + 2, y) && (digits(i + 2) == 4 || digits(i + 2) == 2)) {
        int year = expand_year(y, digits(i + 2));
        if (valid_date(year, v, d)) {
          int32_t day = days_from_civil(year, v, d);
          add(i, i + 3, day, day, DateBasis::kAbsolute);
          return 3;
        }
      }
    }
    // Relative days.
    if (a == "today" || a == "tonight") {
      add(i, i + 1, anchor, anchor, DateBasis::kRelative, a == "tonight" ? 21 * 60 : -1);
      return 1;
    }
    if (a == "this" || a == "early" || a == "late") {
      std::string_view b = w(i + 1);
      if (b == "morning" || b == "afternoon" || b == "evening" || (a != "this" && b == "today")) {
        add(i, i + 2, anchor, anchor, DateBasis::kRelative);
        return 2;
      }
      if (a == "this" && (b == "week")) {
        int32_t first = anchor - weekday_of(anchor);
        add(i, i + 2, first, anchor, DateBasis::kVague);
        return 2;
      }
    }
    if (a == "earlier" && w(i + 1) == "this" && w(i + 2) == "week") {
      int32_t first = anchor - weekday_of(anchor);
      add(i, i + 3, first, anchor, DateBasis::kVague);
      return 3;
    }
    if (a == "yesterday") {
      size_t end = i + 1;
      std::string_view b = w(i + 1);
      if (b == "morning" || b == "afternoon" || b == "evening") end = i + 2;
      add(i, end, anchor - 1, anchor - 1, DateBasis::kRelative);
      return end - i;
    }
    if (a == "tomorrow") {
      add(i, i + 1, anchor + 1, anchor + 1, DateBasis::kRelative);
      return 1;
    }
    if (a == "the" && w(i + 1) == "day" && w(i + 2) == "before" && w(i + 3) == "yesterday") {
      add(i, i + 4, anchor - 2, anchor - 2, DateBasis::kRelative);
      return 4;
    }
    if (a == "last" || a == "past") {
      std::string_view b = w(i + 1);
      if (b == "night") {
        add(i, i + 2, anchor - 1, anchor - 1, DateBasis::kRelative, -1);
        return 2;
      }
      if (b == "week") {
        int32_t monday = anchor - weekday_of(anchor);
        add(i, i + 2, monday - 7, monday - 1, DateBasis::kVague);
        return 2;
      }
      if (b == "weekend") {
        int32_t monday = anchor - weekday_of(anchor);
        // The weekend just past (or the current one, on a weekend day).
        int32_t sat = weekday_of(anchor) >= 5 ? monday + 5 : monday - 2;
        add(i, i + 2, sat, std::min(anchor, sat + 1), DateBasis::kVague);
        return 2;
      }
      if (b == "year") {
        int ay, am, ad;
        civil_from_days(anchor, ay, am, ad);
        add(i, i + 2, days_from_civil(ay - 1, 1, 1), days_from_civil(ay - 1, 12, 31), DateBasis::kVague);
        return 2;
      }
      if (b == "month") {
        int ay, am, ad;
        civil_from_days(anchor, ay, am, ad);
        int32_t first_this = days_from_civil(ay, am, 1);
        int py, pm, pd;
        civil_from_days(first_this - 1, py, pm, pd);
        add(i, i + 2, days_from_civil(py, pm, 1), first_this - 1, DateBasis::kVague);
        return 2;
      }
    }
    if (a == "overnight") {
      add(i, i + 1, anchor - 1, anchor, DateBasis::kVague);
      return 1;
    }
    // A bare year after a preposition: "in 1984", "since 1988".
    if (num(i, v) && digits(i) == 4 && v >= 1900 && v <= 2100 && i > 0) {
      std::string_view prev = w(i - 1);
      if (prev == "in" || prev == "since" || prev == "during" || prev == "of" || prev == "early" || prev == "late" ||
          prev == "until") {
        add(i - 1, i + 1, days_from_civil(v, 1, 1), days_from_civil(v, 12, 31), DateBasis::kVague);
        return 1;
      }
    }
    // N days/weeks ago.
    {
      int k = -1;
      if (num(i, v) && v < 1000) k = v;
      if (k < 0) k = number_word(a);
      if (k >= 0) {
        std::string_view unit = w(i + 1);
        if (w(i + 2) == "ago") {
          if (unit == "days" || unit == "day") {
            add(i, i + 3, anchor - k, anchor - k, DateBasis::kRelative);
            return 3;
          }
          if (unit == "weeks" || unit == "week") {
            add(i, i + 3, anchor - 7 * k - 3, anchor - 7 * k + 3, DateBasis::kVague);
            return 3;
          }
        }
      }
    }
    // Weekdays: "on Tuesday", "last Tuesday", "Tuesday night".
    {
      size_t start = i;
      bool last = false;
      size_t wi = i;
      if (a == "last" || a == "past") {
        last = true;
        wi = i + 1;
      } else if (a == "this" && w(i + 1) == "past") {
        last = true;
        wi = i + 2;
      }
      int wd = weekday_word(w(wi));
      if (wd >= 0) {
        int delta = (weekday_of(anchor) - wd + 7) % 7;
        if (delta == 0 && last) delta = 7;
        size_t end = wi + 1;
        std::string_view b = w(end);
        int minute = -1;
        if (b == "night" || b == "evening") {
          ++end;
        } else if (b == "morning" || b == "afternoon") {
          ++end;
        }
        int32_t day = anchor - delta;
        add(start, end, day, day, DateBasis::kWeekday, minute);
        return end - start;
      }
    }
    return 0;
  }
};

}  // namespace

std::string format_muc_date(int32_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d %s %02d", d, std::string(kMonthAbbrev[m - 1]).c_str(), ((y % 100) + 100) % 100);
  return buf;
}

std::string format_iso_date(int32_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

void DateResolver::find(const TokenizedText& text, int32_t anchor_day, std::vector<DateMention>& out) const {
  out.clear();
  Scanner s{text, anchor_day, out, {}};
  s.run();
}

std::vector<DateMention> DateResolver::find(std::string_view text, int32_t anchor_day) const {
  TokenizedText t;
  tokenize(text, t);
  std::vector<DateMention> out;
  find(t, anchor_day, out);
  return out;
}

std::optional<Dateline> DateResolver::parse_dateline(std::string_view text, int default_year) {
  // Skip a message-id line ("DEV-MUC3-0001 (NOSC)") and blank lines.
  size_t pos = 0;
  auto skip_ws = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r' || text[pos] == '\t')) ++pos;
  };
  skip_ws();
  {
    size_t eol = text.find('\n', pos);
    std::string_view first = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (first.find("-MUC") != std::string_view::npos && first.find(',') == std::string_view::npos &&
        eol != std::string_view::npos) {
      pos = eol + 1;
      skip_ws();
    }
  }
  size_t dash = text.find("--", pos);
  if (dash == std::string_view::npos || dash - pos > 400) return std::nullopt;
  std::string head;
  for (size_t k = pos; k < dash; ++k) {
    char c = text[k];
    head.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  size_t comma = head.find(',');
  if (comma == std::string::npos) return std::nullopt;
  Dateline d;
  std::string place = head.substr(0, comma);
  size_t open = place.find('(');
  if (open != std::string::npos) {
    size_t close = place.find(')', open);
    d.country = place.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
    place = place.substr(0, open);
  }
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  d.place = trim(place);
  d.country = trim(d.country);
  std::string rest = trim(head.substr(comma + 1));
  size_t src = rest.find('(');
  if (src != std::string::npos) {
    size_t close = rest.rfind(')');
    d.source = trim(rest.substr(src + 1, close == std::string::npos || close < src ? std::string::npos : close - src - 1));
    rest = trim(rest.substr(0, src));
  }
  if (rest.rfind("NO DATE", 0) == 0) {
    d.has_date = false;
  } else {
    // "DD MMM YY" or "DD MMM".
    int day = 0, year = default_year;
    char mon[8] = {0};
    int yy = -1;
    int n = std::sscanf(rest.c_str(), "%d %7s %d", &day, mon, &yy);
    if (n < 2) return std::nullopt;
    std::string ms(mon);
    for (char& c : ms) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int month = month_of(ms);
    if (month == 0) return std::nullopt;
    if (n == 3 && yy >= 0) year = yy < 100 ? expand_year(yy, 2) : yy;
    if (!valid_date(year, month, day)) return std::nullopt;
    d.day = days_from_civil(year, month, day);
    d.has_date = true;
  }
  // Body: after "--" and the bracketed header tags that end with a general
  // tag ([TEXT], [SUMMARY], [EXCERPT], [EXCERPTS]).
  size_t body = dash + 2;
  size_t scan = body;
  size_t after_general = std::string_view::npos;
  for (int groups = 0; groups < 8; ++groups) {
    while (scan < text.size() && (text[scan] == ' ' || text[scan] == '\n' || text[scan] == '\r')) ++scan;
    if (scan >= text.size() || text[scan] != '[') break;
    size_t close = text.find(']', scan);
    if (close == std::string_view::npos) break;
    std::string_view tag = text.substr(scan + 1, close - scan - 1);
    scan = close + 1;
    std::string t;
    for (char c : tag) t.push_back(c == '\n' || c == '\r' ? ' ' : c);
    d.tags.push_back(std::move(t));
    if (tag == "TEXT" || tag == "SUMMARY" || tag == "EXCERPT" || tag == "EXCERPTS") {
      after_general = scan;
      break;
    }
  }
  if (after_general == std::string_view::npos) d.tags.clear();  // the brackets were body text
  d.body_offset = after_general != std::string_view::npos ? after_general : body;
  return d;
}

}  // namespace sentinel::intel
