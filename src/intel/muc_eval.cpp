#include "intel/muc_eval.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "intel/date_resolver.h"
#include "intel/gazetteer.h"

namespace sentinel::intel::muc {
namespace {

std::string trim_line(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

bool is_message_id_line(std::string_view line) {
  // "DEV-MUC3-0001 (NOSC)", "TST2-MUC4-0048": PREFIX-MUCn-NNNN at column 0.
  size_t dash = line.find("-MUC");
  if (dash == std::string_view::npos || dash == 0 || dash > 8) return false;
  for (size_t i = 0; i < dash; ++i) {
    char c = line[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  size_t p = dash + 4;
  if (p >= line.size() || !(line[p] == '3' || line[p] == '4')) return false;
  if (p + 1 >= line.size() || line[p + 1] != '-') return false;
  size_t digits = 0;
  for (size_t i = p + 2; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) ++digits;
  return digits == 4;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

// Splits on " / " outside parentheses and quotes; strips one pair of
// parentheses wrapping a whole alternative.
std::vector<std::string> split_alternatives(std::string_view v) {
  std::vector<std::string> out;
  int depth = 0;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\' && i + 1 < v.size()) {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && c == '/' && i > 0 && v[i - 1] == ' ' && i + 1 < v.size() && v[i + 1] == ' ') {
      out.push_back(trim_line(v.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim_line(v.substr(start)));
  for (auto& a : out) {
    if (a.size() >= 2 && a.front() == '(' && a.back() == ')') {
      // Only when the parentheses wrap the whole alternative.
      int d = 0;
      bool wraps = true;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == '(') ++d;
        if (a[i] == ')') --d;
        if (d == 0 && i + 1 < a.size()) {
          wraps = false;
          break;
        }
      }
      if (wraps) a = trim_line(std::string_view(a).substr(1, a.size() - 2));
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const std::string& s) { return s.empty(); }), out.end());
  return out;
}

// A string-fill line: [?] "A" / "B" [: "REF" / "REF2"].
struct StringFill {
  bool optional = false;
  std::vector<std::string> values;
  std::vector<std::string> refs;
};

StringFill parse_string_fill(std::string_view line) {
  StringFill f;
  std::string_view s = line;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (!s.empty() && s.front() == '?') {
    f.optional = true;
    s.remove_prefix(1);
  }
  bool in_refs = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      std::string cur;
      size_t j = i + 1;
      for (; j < s.size(); ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          cur.push_back(s[j + 1]);
          ++j;
          continue;
        }
        if (s[j] == '"') break;
        cur.push_back(s[j]);
      }
      (in_refs ? f.refs : f.values).push_back(cur);
      i = j;
    } else if (c == ':') {
      in_refs = true;
    }
  }
  return f;
}

bool is_null(std::string_view v) {
  std::string t = trim_line(v);
  return t.empty() || t == "-" || t == "*";
}

// ---------------------------------------------------------------------------
// Normalisation and matching

std::vector<std::string> norm_tokens(std::string_view s) {
  std::string n = normalize_phrase(s);
  std::vector<std::string> out;
  size_t start = 0;
  while (start < n.size()) {
    size_t sp = n.find(' ', start);
    out.emplace_back(n.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  while (!out.empty() && (out.front() == "the" || out.front() == "a" || out.front() == "an")) out.erase(out.begin());
  return out;
}

bool contains_seq(const std::vector<std::string>& hay, const std::vector<std::string>& needle) {
  if (needle.empty() || needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), hay.begin() + static_cast<std::ptrdiff_t>(i))) return true;
  }
  return false;
}

struct DateWindow {
  int32_t lo = 0, hi = 0;
  bool before = false;  // "- D": on or before hi
  bool ok = false;
};

constexpr int32_t kRecentDays = 62;  // MUC "recent": within two months

bool parse_one_date(std::string_view s, int32_t& day) {
  std::string t = trim_line(s);
  int d = 0, y = 0;
  char mon[8] = {0};
  if (std::sscanf(t.c_str(), "%d %7s %d", &d, mon, &y) != 3) return false;
  std::string ms(mon);
  static constexpr std::string_view kMon[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  int m = 0;
  for (int i = 0; i < 12; ++i) {
    if (kMon[i] == ms) m = i + 1;
  }
  if (m == 0 || d < 1 || d > 31) return false;
  int year = y < 100 ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  day = days_from_civil(year, m, d);
  return true;
}

DateWindow parse_date_window(std::string_view s) {
  DateWindow w;
  std::string t = trim_line(s);
  if (t.empty() || t == "-") return w;
  if (t[0] == '-') {
    int32_t d;
    if (!parse_one_date(std::string_view(t).substr(1), d)) return w;
    w.lo = d - kRecentDays;
    w.hi = d;
    w.before = true;
    w.ok = true;
    return w;
  }
  size_t dash = t.find(" - ");
  if (dash != std::string::npos) {
    int32_t a, b;
    if (!parse_one_date(std::string_view(t).substr(0, dash), a) || !parse_one_date(std::string_view(t).substr(dash + 3), b)) {
      return w;
    }
    w.lo = std::min(a, b);
    w.hi = std::max(a, b);
    w.ok = true;
    return w;
  }
  int32_t d;
  if (!parse_one_date(t, d)) return w;
  w.lo = w.hi = d;
  w.ok = true;
  return w;
}

// A location alternative: its country and, per " - " side, the names of
// its levels (country first, no types).
struct LocationChain {
  std::string country;
  std::vector<std::vector<std::string>> sides;
};

std::string level_name(std::string_view level) {
  size_t open = level.find('(');
  return normalize_phrase(trim_line(open == std::string_view::npos ? level : level.substr(0, open)));
}

LocationChain parse_location(std::string_view s) {
  LocationChain c;
  // Sides: split on " - " at parenthesis depth 0.
  std::vector<std::string> sides;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (depth == 0 && s[i] == '-' && i > 0 && s[i - 1] == ' ' && i + 1 < s.size() && s[i + 1] == ' ') {
      sides.push_back(trim_line(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  sides.push_back(trim_line(s.substr(start)));
  for (size_t k = 0; k < sides.size(); ++k) {
    std::vector<std::string> levels;
    std::string_view side = sides[k];
    size_t st = 0;
    int d = 0;
    for (size_t i = 0; i <= side.size(); ++i) {
      if (i < side.size() && side[i] == '(') ++d;
      if (i < side.size() && side[i] == ')') --d;
      if (i == side.size() || (d == 0 && side[i] == ':')) {
        std::string name = level_name(side.substr(st, i - st));
        if (!name.empty()) levels.push_back(name);
        st = i + 1;
      }
    }
    if (levels.empty()) continue;
    if (k == 0) {
      c.country = levels.front();
    } else if (!c.country.empty()) {
      levels.insert(levels.begin(), c.country);
    }
    c.sides.push_back(std::move(levels));
  }
  return c;
}

double points(Match m) { return m == Match::kCorrect ? 1.0 : m == Match::kPartial ? 0.5 : 0.0; }

void count(SlotScore& s, Match m) {
  if (m == Match::kCorrect) {
    s.correct += 1;
  } else if (m == Match::kPartial) {
    s.partial += 1;
  } else {
    s.incorrect += 1;
  }
}

// Scores a multi-filler slot of a mapped pair; returns the points (for the
// mapping score) and adds the counts to `s` when `s` is non-null.
double score_fillers(const std::vector<KeyFiller>& key, const std::vector<std::string>& resp, SlotScore* s) {
  std::vector<bool> key_used(key.size(), false), resp_used(resp.size(), false);
  double pts = 0;
  int cor = 0, par = 0;
  for (Match want : {Match::kCorrect, Match::kPartial}) {
    for (size_t r = 0; r < resp.size(); ++r) {
      if (resp_used[r]) continue;
      for (size_t k = 0; k < key.size(); ++k) {
        if (key_used[k]) continue;
        if (match_string(key[k].alternatives, resp[r]) == want) {
          key_used[k] = resp_used[r] = true;
          (want == Match::kCorrect ? cor : par) += 1;
          pts += points(want);
          break;
        }
      }
    }
  }
  if (s != nullptr) {
    s->correct += cor;
    s->partial += par;
    int left_key = 0, left_resp = 0;
    for (size_t k = 0; k < key.size(); ++k) left_key += !key_used[k] && !key[k].optional;
    for (size_t r = 0; r < resp.size(); ++r) left_resp += !resp_used[r];
    int inc = std::min(left_key, left_resp);
    s->incorrect += inc;
    s->missing += left_key - inc;
    s->spurious += left_resp - inc;
  }
  return pts;
}

void missing_fillers(const std::vector<KeyFiller>& key, SlotScore& s) {
  for (const auto& f : key) s.missing += f.optional ? 0 : 1;
}

std::vector<KeyFiller> concat(const std::vector<KeyFiller>& a, const std::vector<KeyFiller>& b) {
  std::vector<KeyFiller> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<std::string> concat(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------

std::vector<Message> read_messages(std::string_view file_text) {
  std::vector<Message> out;
  for (std::string_view line : lines_of(file_text)) {
    if (is_message_id_line(line)) {
      Message m;
      size_t sp = line.find(' ');
      m.id = trim_line(line.substr(0, sp));
      out.push_back(std::move(m));
      continue;
    }
    if (out.empty()) continue;
    out.back().text.append(line);
    out.back().text.push_back('\n');
  }
  return out;
}

std::vector<KeyTemplate> parse_keys(std::string_view file_text) {
  std::vector<KeyTemplate> out;
  // Collect (slot number -> value lines) per template.
  struct Raw {
    size_t line = 0;
    std::vector<std::vector<std::string>> slots = std::vector<std::vector<std::string>>(25);
  };
  std::vector<Raw> raws;
  int current = -1;
  int last_slot = -1;
  size_t line_no = 0;
  for (std::string_view line : lines_of(file_text)) {
    ++line_no;
    if (line.rfind(";;;", 0) == 0) continue;
    std::string t = trim_line(line);
    if (t.empty()) continue;
    size_t dot = t.find('.');
    bool slot_line = dot != std::string::npos && dot > 0 && dot <= 2 &&
                     std::all_of(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(dot),
                                 [](char c) { return c >= '0' && c <= '9'; }) &&
                     line.size() > 0 && line[0] != ' ';
    if (slot_line) {
      int n = std::stoi(t.substr(0, dot));
      if (n < 0 || n > 24) throw std::runtime_error("key:" + std::to_string(line_no) + ": slot number out of range");
      // The value starts after the label and its padding (two or more spaces).
      std::string_view rest = std::string_view(t).substr(dot + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      size_t gap = rest.find("  ");
      std::string value;
      if (gap != std::string_view::npos) {
        value = trim_line(rest.substr(gap));
      } else {
        // Label then a single space then the value (rare): the label ends after its second word group.
        size_t colon = rest.find(':');
        size_t sp = colon == std::string_view::npos ? std::string_view::npos : rest.find(' ', colon + 2);
        value = sp == std::string_view::npos ? std::string() : trim_line(rest.substr(sp));
      }
      if (n == 0) {
        raws.emplace_back();
        raws.back().line = line_no;
        current = static_cast<int>(raws.size()) - 1;
      }
      if (current < 0) throw std::runtime_error("key:" + std::to_string(line_no) + ": slot before MESSAGE: ID");
      raws[current].slots[n].push_back(value);
      last_slot = n;
      continue;
    }
    // Continuation: one more filler of the last slot.
    if (current < 0 || last_slot < 0) continue;
    raws[current].slots[last_slot].push_back(t);
  }
  for (const Raw& r : raws) {
    KeyTemplate k;
    auto first = [&](int n) -> std::string { return r.slots[n].empty() ? std::string() : r.slots[n][0]; };
    k.message_id = first(0);
    k.message_id = k.message_id.substr(0, k.message_id.find(' '));  // "DEV-MUC3-0001 (NCCOSC)"
    std::string tpl = first(1);
    if (tpl.empty()) throw std::runtime_error("key:" + std::to_string(r.line) + ": no MESSAGE: TEMPLATE");
    if (tpl == "*") {
      k.relevant = false;
      k.number = "*";
      out.push_back(std::move(k));
      continue;
    }
    k.optional = tpl.find("OPTIONAL") != std::string::npos;
    k.number = trim_line(tpl.substr(0, tpl.find(' ')));
    std::string type = first(4);
    if (!is_null(type)) k.types = split_alternatives(type);
    std::string date = first(2);
    if (!date.empty() && date[0] == '?') {
      k.date_optional = true;
      date = trim_line(date.substr(1));
    }
    if (!is_null(date)) k.dates = split_alternatives(date);
    std::string loc = first(3);
    if (!loc.empty() && loc[0] == '?') loc = trim_line(loc.substr(1));
    if (!is_null(loc)) k.locations = split_alternatives(loc);
    auto fillers = [&](int n, std::vector<KeyFiller>& dst) {
      for (const auto& v : r.slots[n]) {
        if (is_null(v)) continue;
        StringFill f = parse_string_fill(v);
        if (f.values.empty()) continue;
        dst.push_back(KeyFiller{f.values, f.optional});
      }
    };
    fillers(10, k.perp_orgs);
    fillers(12, k.phys_targets);
    fillers(18, k.hum_targets);
    // Descriptions: cross-referenced ones extend their named target's
    // alternatives; the others are targets of their own.
    for (const auto& v : r.slots[19]) {
      if (is_null(v)) continue;
      StringFill f = parse_string_fill(v);
      if (f.values.empty()) continue;
      bool attached = false;
      if (!f.refs.empty()) {
        for (auto& named : k.hum_targets) {
          for (const auto& ref : f.refs) {
            if (std::find(named.alternatives.begin(), named.alternatives.end(), ref) != named.alternatives.end()) {
              named.alternatives.insert(named.alternatives.end(), f.values.begin(), f.values.end());
              attached = true;
              break;
            }
          }
          if (attached) break;
        }
      }
      if (!attached) k.hum_targets.push_back(KeyFiller{f.values, f.optional});
    }
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<ResponseTemplate> to_responses(const Extraction& e, int32_t anchor_day, const ResponseOptions& options) {
  std::vector<ResponseTemplate> out;
  for (const Incident& inc : e.incidents) {
    std::string_view type = muc_type_name(inc.type);
    if (type.empty()) continue;
    ResponseTemplate r;
    r.type = std::string(type);
    const OccurredTime& t = inc.occurred;
    if (t.precision != TimePrecision::kNone) {
      bool before = t.on_or_before || t.basis == DateBasis::kDefault ||
                    (t.basis == DateBasis::kWeekday && options.weekday_as_before_anchor) ||
                    (t.basis == DateBasis::kVague && options.vague_as_before_anchor) ||
                    (t.basis == DateBasis::kRelative && options.anchor_day_as_before_anchor &&
                     t.first_day == anchor_day && t.last_day == anchor_day);
      if (before) {
        int32_t anchor = t.on_or_before || t.basis == DateBasis::kDefault ? t.last_day : anchor_day;
        r.date = "- " + format_muc_date(anchor);
      } else if (t.first_day == t.last_day) {
        r.date = format_muc_date(t.first_day);
      } else {
        r.date = format_muc_date(t.first_day) + " - " + format_muc_date(t.last_day);
      }
    }
    r.location = inc.place.qualified;
    if (!inc.perpetrator_org.empty()) r.perp_orgs.push_back(inc.perpetrator_org);
    for (const Target& tg : inc.targets) {
      (tg.kind == TargetKind::kPhysical ? r.phys_targets : r.hum_targets).push_back(tg.text);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Match match_type(const std::vector<std::string>& key, std::string_view response) {
  for (const auto& k : key) {
    if (k == response) return Match::kCorrect;
  }
  return Match::kIncorrect;
}

Match match_date(const std::vector<std::string>& key, std::string_view response) {
  DateWindow r = parse_date_window(response);
  if (!r.ok) return Match::kIncorrect;
  Match best = Match::kIncorrect;
  for (const auto& alt : key) {
    DateWindow k = parse_date_window(alt);
    if (!k.ok) continue;
    bool same = k.lo == r.lo && k.hi == r.hi && k.before == r.before;
    bool inside_range = !k.before && !r.before && r.lo == r.hi && k.lo <= r.lo && r.hi <= k.hi;
    if (same || inside_range) return Match::kCorrect;
    if (r.lo <= k.hi && k.lo <= r.hi) best = Match::kPartial;
  }
  return best;
}

Match match_location(const std::vector<std::string>& key, std::string_view response) {
  LocationChain r = parse_location(response);
  if (r.sides.empty()) return Match::kIncorrect;
  const std::vector<std::string>& rl = r.sides.front();
  const std::string& r_principal = rl.back();
  Match best = Match::kIncorrect;
  for (const auto& alt : key) {
    LocationChain k = parse_location(alt);
    if (k.sides.empty() || k.country != r.country) continue;
    for (const auto& side : k.sides) {
      if (side.back() == r_principal) return Match::kCorrect;
    }
    for (const auto& side : k.sides) {
      bool response_coarser = std::find(side.begin(), side.end(), r_principal) != side.end();
      bool response_finer = std::find(rl.begin(), rl.end(), side.back()) != rl.end();
      if (response_coarser || response_finer) best = Match::kPartial;
    }
  }
  return best;
}

Match match_string(const std::vector<std::string>& key_alternatives, std::string_view response) {
  std::vector<std::string> r = norm_tokens(response);
  if (r.empty()) return Match::kIncorrect;
  Match best = Match::kIncorrect;
  for (const auto& alt : key_alternatives) {
    std::vector<std::string> k = norm_tokens(alt);
    if (k.empty()) continue;
    if (k == r) return Match::kCorrect;
    if (contains_seq(r, k) || contains_seq(k, r) || k.back() == r.back()) best = Match::kPartial;
  }
  return best;
}

double SlotScore::recall() const {
  double p = possible();
  return p > 0 ? (correct + 0.5 * partial) / p : 0.0;
}

double SlotScore::precision() const {
  double a = actual();
  return a > 0 ? (correct + 0.5 * partial) / a : 0.0;
}

double SlotScore::f1() const {
  double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

SlotScore& SlotScore::operator+=(const SlotScore& o) {
  correct += o.correct;
  partial += o.partial;
  incorrect += o.incorrect;
  missing += o.missing;
  spurious += o.spurious;
  return *this;
}

std::vector<int> Scorer::add(const std::vector<const KeyTemplate*>& keys,
                             const std::vector<ResponseTemplate>& responses) {
  Scores& s = scores_;
  s.messages += 1;
  s.response_templates += static_cast<int>(responses.size());
  std::vector<const KeyTemplate*> rel;
  for (const KeyTemplate* k : keys) {
    if (k->relevant) rel.push_back(k);
  }
  for (const KeyTemplate* k : rel) {
    s.key_templates += 1;
    s.optional_templates += k->optional ? 1 : 0;
  }
  // Eligible pairs and their agreement on the non-type slots.
  struct Pair {
    size_t k, r;
    double score;
  };
  std::vector<Pair> pairs;
  for (size_t ki = 0; ki < rel.size(); ++ki) {
    const KeyTemplate& k = *rel[ki];
    for (size_t ri = 0; ri < responses.size(); ++ri) {
      const ResponseTemplate& r = responses[ri];
      if (match_type(k.types, r.type) != Match::kCorrect) continue;
      double perp = score_fillers(k.perp_orgs, r.perp_orgs, nullptr);
      double tgt = score_fillers(concat(k.phys_targets, k.hum_targets), concat(r.phys_targets, r.hum_targets), nullptr);
      if (mapping_ == Mapping::kMuc4 && perp + tgt == 0) continue;
      double sc = perp + tgt;
      if (!k.dates.empty() && !r.date.empty()) sc += points(match_date(k.dates, r.date));
      if (!k.locations.empty() && !r.location.empty()) sc += points(match_location(k.locations, r.location));
      pairs.push_back(Pair{ki, ri, sc});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.score > b.score; });
  std::vector<int> key_to(rel.size(), -1), resp_to(responses.size(), -1);
  for (const Pair& p : pairs) {
    if (key_to[p.k] >= 0 || resp_to[p.r] >= 0) continue;
    key_to[p.k] = static_cast<int>(p.r);
    resp_to[p.r] = static_cast<int>(p.k);
  }
  Scores add;
  auto single = [](SlotScore& slot, const std::vector<std::string>& key, bool key_optional, const std::string& resp,
                   Match (*matcher)(const std::vector<std::string>&, std::string_view)) {
    if (key.empty()) {
      if (!resp.empty()) slot.spurious += 1;
      return;
    }
    if (resp.empty()) {
      if (!key_optional) slot.missing += 1;
      return;
    }
    count(slot, matcher(key, resp));
  };
  for (size_t ki = 0; ki < rel.size(); ++ki) {
    const KeyTemplate& k = *rel[ki];
    if (key_to[ki] < 0) {
      if (k.optional) continue;
      add.type.missing += 1;
      if (!k.dates.empty() && !k.date_optional) add.date.missing += 1;
      if (!k.locations.empty()) add.location.missing += 1;
      missing_fillers(k.perp_orgs, add.perp_org);
      missing_fillers(k.phys_targets, add.phys_targets);
      missing_fillers(k.hum_targets, add.hum_targets);
      missing_fillers(k.phys_targets, add.targets);
      missing_fillers(k.hum_targets, add.targets);
      continue;
    }
    const ResponseTemplate& r = responses[static_cast<size_t>(key_to[ki])];
    s.matched_templates += 1;
    add.type.correct += 1;
    single(add.date, k.dates, k.date_optional, r.date, &match_date);
    single(add.location, k.locations, false, r.location, &match_location);
    score_fillers(k.perp_orgs, r.perp_orgs, &add.perp_org);
    score_fillers(k.phys_targets, r.phys_targets, &add.phys_targets);
    score_fillers(k.hum_targets, r.hum_targets, &add.hum_targets);
    score_fillers(concat(k.phys_targets, k.hum_targets), concat(r.phys_targets, r.hum_targets), &add.targets);
  }
  for (size_t ri = 0; ri < responses.size(); ++ri) {
    if (resp_to[ri] >= 0) continue;
    const ResponseTemplate& r = responses[ri];
    add.type.spurious += 1;
    add.date.spurious += r.date.empty() ? 0 : 1;
    add.location.spurious += r.location.empty() ? 0 : 1;
    add.perp_org.spurious += static_cast<double>(r.perp_orgs.size());
    add.phys_targets.spurious += static_cast<double>(r.phys_targets.size());
    add.hum_targets.spurious += static_cast<double>(r.hum_targets.size());
    add.targets.spurious += static_cast<double>(r.phys_targets.size() + r.hum_targets.size());
  }
  s.type += add.type;
  s.date += add.date;
  s.location += add.location;
  s.perp_org += add.perp_org;
  s.targets += add.targets;
  s.phys_targets += add.phys_targets;
  s.hum_targets += add.hum_targets;
  s.all += add.type;
  s.all += add.date;
  s.all += add.location;
  s.all += add.perp_org;
  s.all += add.targets;
  // Back to indexes into `keys` (rel holds the relevant subset).
  std::vector<int> mapping(responses.size(), -1);
  for (size_t ri = 0; ri < responses.size(); ++ri) {
    if (resp_to[ri] < 0) continue;
    const KeyTemplate* k = rel[static_cast<size_t>(resp_to[ri])];
    mapping[ri] = static_cast<int>(std::find(keys.begin(), keys.end(), k) - keys.begin());
  }
  return mapping;
}

}  // namespace sentinel::intel::muc
