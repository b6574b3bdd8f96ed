#include "intel/gazetteer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <xxhash.h>

namespace sentinel::intel {
namespace {

// ---------------------------------------------------------------------------
// Tokenizer

bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Latin-1 supplement letters U+00C0..U+00FF (UTF-8 C3 80..C3 BF) folded to
// their ASCII base letter, upper-case flag in the high bit; 0 = not a letter.
// Hand-written: the only other way (ICU transliteration) is a large
// dependency for the few accents Spanish and French news use.
constexpr char kLatin1Fold[64] = {
    'A', 'A', 'A', 'A', 'A', 'A', 'A', 'C', 'E', 'E', 'E', 'E', 'I', 'I', 'I', 'I',  // C0-CF
    'D', 'N', 'O', 'O', 'O', 'O', 'O', 0,   'O', 'U', 'U', 'U', 'U', 'Y', 0,   's',  // D0-DF
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',  // E0-EF
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',  // F0-FF
};

// Words after which a period does not end the sentence (titles, street
// suffixes, "No." before numbers). Single letters are handled apart.
bool is_abbreviation(std::string_view w) {
  static const std::unordered_set<std::string_view> kAbbrev = {
      "mr",  "mrs", "ms",  "dr",   "gen",  "col",  "lt",   "maj", "capt", "sgt", "cpl", "st",   "ave", "blvd",
      "rd",  "jr",  "sr",  "no",   "vs",   "rev",  "msgr", "gov", "sen",  "rep", "prof", "inc", "co",  "corp",
      "ft",  "mt",  "sta", "brig", "adm",  "cmdr", "insp", "det", "supt", "pres", "dept", "approx", "jan", "feb",
      "mar", "apr", "jun", "jul",  "aug",  "sep",  "sept", "oct", "nov",  "dec"};
  return kAbbrev.count(w) > 0;
}

}  // namespace

void tokenize(std::string_view text, TokenizedText& out) {
  out.text = text;
  out.norm.clear();
  out.tokens.clear();
  out.norm.reserve(text.size());
  size_t upper = 0, lower = 0;
  bool paragraph_pending = true;
  bool open_pending = false;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    bool letter_start = is_ascii_alnum(c) ||
                        (c == 0xC3 && i + 1 < n && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                         static_cast<unsigned char>(text[i + 1]) <= 0xBF &&
                         kLatin1Fold[static_cast<unsigned char>(text[i + 1]) - 0x80] != 0);
    if (!letter_start) {
      // Separators: track sentence/paragraph structure.
      if (c == '\n') {
        size_t j = i + 1;
        while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
        if (j < n && text[j] == '\n') {
          paragraph_pending = true;
          if (!out.tokens.empty()) out.tokens.back().flags |= Token::kSentenceEnd;
        }
      } else if (c == '.' || c == '!' || c == '?') {
        bool followed_by_space = i + 1 >= n || text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\r' ||
                                 text[i + 1] == '"' || text[i + 1] == ')' || text[i + 1] == ']' ||
                                 text[i + 1] == '\t' || static_cast<unsigned char>(text[i + 1]) == 0xE2;
        if (followed_by_space && !out.tokens.empty() && out.tokens.back().end == i) {
          Token& prev = out.tokens.back();
          std::string_view w(out.norm.data() + prev.norm_begin, prev.norm_end - prev.norm_begin);
          bool abbrev = c == '.' && ((w.size() == 1 && !(prev.flags & Token::kNumber)) || is_abbreviation(w));
          if (!abbrev) prev.flags |= Token::kSentenceEnd;
        } else if (followed_by_space && !out.tokens.empty() && c != '.') {
          out.tokens.back().flags |= Token::kSentenceEnd;
        }
      } else if (c == ',' || c == ';' || c == ':') {
        if (!out.tokens.empty()) out.tokens.back().flags |= Token::kCommaAfter;
      } else if (c == '(' || c == '[') {
        open_pending = true;
      }
      ++i;
      continue;
    }
    // A token: letters/digits, apostrophes inside words dropped.
    Token t;
    t.begin = static_cast<uint32_t>(i);
    t.norm_begin = static_cast<uint32_t>(out.norm.size());
    bool all_digits = true, any_upper = false, any_lower = false, first = true;
    while (i < n) {
      auto d = static_cast<unsigned char>(text[i]);
      if (is_ascii_alnum(d)) {
        bool up = d >= 'A' && d <= 'Z';
        bool lo = d >= 'a' && d <= 'z';
        if (first) t.flags |= up ? Token::kCapitalised : 0;
        any_upper |= up;
        any_lower |= lo;
        if (up || lo) all_digits = false;
        out.norm.push_back(static_cast<char>(up ? d + 32 : d));
        ++i;
      } else if (d == 0xC3 && i + 1 < n && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(text[i + 1]) <= 0xBF &&
                 kLatin1Fold[static_cast<unsigned char>(text[i + 1]) - 0x80] != 0) {
        char f = kLatin1Fold[static_cast<unsigned char>(text[i + 1]) - 0x80];
        bool up = f >= 'A' && f <= 'Z';
        if (first) t.flags |= up ? Token::kCapitalised : 0;
        any_upper |= up;
        any_lower |= !up;
        all_digits = false;
        out.norm.push_back(static_cast<char>(up ? f + 32 : f));
        i += 2;
      } else if ((d == '\'' && i + 1 < n && is_ascii_alnum(static_cast<unsigned char>(text[i + 1]))) ||
                 (d == 0xE2 && i + 3 < n && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                  static_cast<unsigned char>(text[i + 2]) == 0x99 &&
                  is_ascii_alnum(static_cast<unsigned char>(text[i + 3])))) {
        i += d == '\'' ? 1 : 3;  // apostrophe inside a word: dropped
      } else {
        break;
      }
      first = false;
    }
    t.end = static_cast<uint32_t>(i);
    t.norm_end = static_cast<uint32_t>(out.norm.size());
    if (all_digits) t.flags |= Token::kNumber;
    if (any_upper && !any_lower) t.flags |= Token::kAllUpper;
    if (!all_digits) {
      if (any_upper && !any_lower) {
        upper += 1;
      } else {
        lower += 1;
      }
    }
    if (paragraph_pending) {
      t.flags |= Token::kParagraphStart;
      paragraph_pending = false;
    }
    if (open_pending) {
      t.flags |= Token::kOpenBefore;
      open_pending = false;
    }
    out.tokens.push_back(t);
  }
  if (!out.tokens.empty()) out.tokens.back().flags |= Token::kSentenceEnd;
  out.upper_case_text = upper + lower > 0 && upper * 10 >= (upper + lower) * 7;
}

std::string normalize_phrase(std::string_view phrase) {
  TokenizedText t;
  tokenize(phrase, t);
  std::string out;
  for (size_t i = 0; i < t.tokens.size(); ++i) {
    if (i) out.push_back(' ');
    out.append(t.norm_token(i));
  }
  return out;
}

// ---------------------------------------------------------------------------
// PhraseMatcher

namespace {

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

namespace {

// Open-addressing tables for the two lookups on the hot path (token ->
// vocabulary id, (state, token) -> next state), filled once by build().
// Hand-written: std::unordered_map chases a node pointer per probe and
// hashes with a byte loop; these probe one cache line and reuse xxh3.
class VocabTable {
 public:
  void build(const std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>>& vocab) {
    size_t cap = 16;
    while (cap < vocab.size() * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
    arena_.clear();
    for (const auto& [word, id] : vocab) {
      uint64_t h = XXH3_64bits(word.data(), word.size());
      size_t i = h & mask_;
      while (slots_[i].len != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{h, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(word.size()), id};
      arena_.append(word);
    }
  }
  uint32_t find(std::string_view w) const {
    if (slots_.empty()) return PhraseMatcher::kUnknownToken;
    uint64_t h = XXH3_64bits(w.data(), w.size());
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.len == kEmpty) return PhraseMatcher::kUnknownToken;
      if (s.hash == h && s.len == w.size() && std::memcmp(arena_.data() + s.offset, w.data(), w.size()) == 0) {
        return s.id;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t len = kEmpty;
    uint32_t id = 0;
  };
  std::vector<Slot> slots_;
  std::string arena_;
  size_t mask_ = 0;
};

class TransitionTable {
 public:
  void build(const std::unordered_map<uint64_t, uint32_t>& next) {
    size_t cap = 16;
    while (cap < next.size() * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
    for (const auto& [key, to] : next) {
      size_t i = mix(key) & mask_;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{key, to};
    }
  }
  uint32_t find(uint64_t key) const {
    if (slots_.empty()) return 0;
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return slots_[i].to;
      if (slots_[i].key == kEmpty) return 0;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t to = 0;
  };
  static size_t mix(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20); }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace

struct PhraseMatcher::Impl {
  struct Node {
    uint32_t fail = 0;
    uint32_t dict = 0;        // nearest node on the fail chain with outputs (0 = none)
    uint32_t depth = 0;
    uint32_t out_begin = 0;   // outputs_[out_begin, out_end) after build
    uint32_t out_end = 0;
  };
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> vocab;  // build time
  std::unordered_map<uint64_t, uint32_t> next;  // (node << 32 | token) -> node, build time
  VocabTable vocab_table;
  TransitionTable next_table;
  std::vector<Node> nodes{Node{}};
  std::vector<std::vector<uint32_t>> pending;  // per node payloads, before build
  std::vector<uint32_t> outputs;
  size_t phrases = 0;
  bool built = false;

  uint32_t child(uint32_t node, uint32_t token) const {
    if (built) return next_table.find(static_cast<uint64_t>(node) << 32 | token);
    auto it = next.find(static_cast<uint64_t>(node) << 32 | token);
    return it == next.end() ? 0 : it->second;
  }
};

PhraseMatcher::PhraseMatcher() : impl_(std::make_unique<Impl>()) {}
PhraseMatcher::~PhraseMatcher() = default;
PhraseMatcher::PhraseMatcher(PhraseMatcher&&) noexcept = default;
PhraseMatcher& PhraseMatcher::operator=(PhraseMatcher&&) noexcept = default;

void PhraseMatcher::add(std::string_view phrase, uint32_t payload) {
  if (impl_->built) throw std::logic_error("PhraseMatcher: add after build");
  TokenizedText t;
  tokenize(phrase, t);
  if (t.tokens.empty()) return;
  Impl& m = *impl_;
  uint32_t node = 0;
  for (size_t i = 0; i < t.tokens.size(); ++i) {
    std::string_view w = t.norm_token(i);
    auto it = m.vocab.find(w);
    uint32_t id;
    if (it == m.vocab.end()) {
      id = static_cast<uint32_t>(m.vocab.size());
      m.vocab.emplace(std::string(w), id);
    } else {
      id = it->second;
    }
    uint64_t key = static_cast<uint64_t>(node) << 32 | id;
    auto nx = m.next.find(key);
    if (nx == m.next.end()) {
      auto created = static_cast<uint32_t>(m.nodes.size());
      Impl::Node nn;
      nn.depth = m.nodes[node].depth + 1;
      m.nodes.push_back(nn);
      m.next.emplace(key, created);
      node = created;
    } else {
      node = nx->second;
    }
  }
  if (m.pending.size() < m.nodes.size()) m.pending.resize(m.nodes.size());
  m.pending[node].push_back(payload);
  ++m.phrases;
}

void PhraseMatcher::build() {
  Impl& m = *impl_;
  m.pending.resize(m.nodes.size());
  // Children lists for the BFS (the transition map has no order).
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> children(m.nodes.size());
  for (const auto& [key, child] : m.next) {
    children[static_cast<uint32_t>(key >> 32)].emplace_back(static_cast<uint32_t>(key & 0xffffffffu), child);
  }
  for (auto& c : children) std::sort(c.begin(), c.end());
  std::vector<uint32_t> queue;
  queue.reserve(m.nodes.size());
  for (auto [token, child] : children[0]) {
    m.nodes[child].fail = 0;
    queue.push_back(child);
  }
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    uint32_t node = queue[qi];
    for (auto [token, child] : children[node]) {
      uint32_t f = m.nodes[node].fail;
      uint32_t target = 0;
      while (true) {
        uint32_t c = m.child(f, token);
        if (c != 0 && c != child) {
          target = c;
          break;
        }
        if (f == 0) break;
        f = m.nodes[f].fail;
      }
      m.nodes[child].fail = target;
      queue.push_back(child);
    }
  }
  // Outputs laid out contiguously; dictionary links skip output-less nodes.
  m.outputs.clear();
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    m.nodes[i].out_begin = static_cast<uint32_t>(m.outputs.size());
    m.outputs.insert(m.outputs.end(), m.pending[i].begin(), m.pending[i].end());
    m.nodes[i].out_end = static_cast<uint32_t>(m.outputs.size());
  }
  for (uint32_t node : queue) {  // BFS order: a node's fail target is already done
    uint32_t f = m.nodes[node].fail;
    m.nodes[node].dict = (f != 0 && m.nodes[f].out_end > m.nodes[f].out_begin) ? f : m.nodes[f].dict;
  }
  m.pending.clear();
  m.pending.shrink_to_fit();
  m.vocab_table.build(m.vocab);
  m.next_table.build(m.next);
  m.built = true;
}

size_t PhraseMatcher::phrase_count() const { return impl_->phrases; }

void PhraseMatcher::map_tokens(const TokenizedText& text, std::vector<uint32_t>& ids) const {
  ids.resize(text.tokens.size());
  if (!impl_->built) throw std::logic_error("PhraseMatcher: map_tokens before build");
  for (size_t i = 0; i < text.tokens.size(); ++i) ids[i] = impl_->vocab_table.find(text.norm_token(i));
}

void PhraseMatcher::find(std::span<const uint32_t> ids, std::vector<Hit>& hits) const {
  const Impl& m = *impl_;
  uint32_t state = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    uint32_t id = ids[i];
    if (id == kUnknownToken) {  // in no phrase: every partial match dies here
      state = 0;
      continue;
    }
    while (true) {
      uint32_t c = m.child(state, id);
      if (c != 0) {
        state = c;
        break;
      }
      if (state == 0) break;
      state = m.nodes[state].fail;
    }
    for (uint32_t node = state; node != 0; node = m.nodes[node].dict) {
      const Impl::Node& nd = m.nodes[node];
      for (uint32_t o = nd.out_begin; o < nd.out_end; ++o) {
        hits.push_back(Hit{static_cast<uint32_t>(i + 1 - nd.depth), static_cast<uint32_t>(i + 1), m.outputs[o]});
      }
    }
  }
}

std::vector<PhraseMatcher::Hit> PhraseMatcher::find(std::string_view text) const {
  TokenizedText t;
  tokenize(text, t);
  std::vector<uint32_t> ids;
  map_tokens(t, ids);
  std::vector<Hit> hits;
  find(ids, hits);
  return hits;
}

void select_longest(std::vector<PhraseMatcher::Hit>& hits) {
  std::stable_sort(hits.begin(), hits.end(), [](const PhraseMatcher::Hit& a, const PhraseMatcher::Hit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  size_t kept = 0;
  uint32_t last_begin = 0, last_end = 0;
  bool any = false;
  for (const auto& h : hits) {
    bool same_span = any && h.begin == last_begin && h.end == last_end;
    if (!any || h.begin >= last_end || same_span) {
      hits[kept++] = h;
      last_begin = h.begin;
      last_end = h.end;
      any = true;
    }
  }
  hits.resize(kept);
}

// ---------------------------------------------------------------------------
// Gazetteer

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return std::string(s.substr(b, e - b));
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

PlacePrecision precision_for_kind(std::string_view kind_in) {
  std::string kind = upper(kind_in);
  static const std::unordered_map<std::string, PlacePrecision> kMap = {
      {"COUNTRY", PlacePrecision::kCountry},
      {"DEPARTMENT", PlacePrecision::kRegion},
      {"PROVINCE", PlacePrecision::kRegion},
      {"STATE", PlacePrecision::kRegion},
      {"REGION", PlacePrecision::kRegion},
      {"OFFICIAL REGION", PlacePrecision::kRegion},
      {"COMMISSARIAT", PlacePrecision::kRegion},
      {"INTENDANCY", PlacePrecision::kRegion},
      {"FEDERAL DISTRICT", PlacePrecision::kRegion},
      {"NATIONAL TERRITORY", PlacePrecision::kRegion},
      {"TERRITORY", PlacePrecision::kRegion},
      {"COUNTY", PlacePrecision::kRegion},
      {"INTERNATIONAL REGION", PlacePrecision::kCountry},
      {"CITY", PlacePrecision::kCity},
      {"TOWN", PlacePrecision::kCity},
      {"CAPITAL", PlacePrecision::kCity},
      {"MUNICIPALITY", PlacePrecision::kCity},
      {"JURISDICTION", PlacePrecision::kCity},
      {"TOWNSHIP", PlacePrecision::kCity},
      {"PORT", PlacePrecision::kCity},
      {"STREET", PlacePrecision::kStreet},
      {"FARM", PlacePrecision::kSite},
      {"ESTATE", PlacePrecision::kSite},
      {"UNIVERSITY", PlacePrecision::kSite},
      {"SCHOOL", PlacePrecision::kSite},
      {"AIRPORT", PlacePrecision::kSite},
      {"AIR BASE", PlacePrecision::kSite},
      {"JAIL", PlacePrecision::kSite},
      {"PRISON", PlacePrecision::kSite},
      {"SITE", PlacePrecision::kSite},
  };
  auto it = kMap.find(kind);
  if (it != kMap.end()) return it->second;
  if (kind.empty()) return PlacePrecision::kCity;
  // Neighbourhoods, community areas, villages, hamlets, sectors, zones,
  // and physical features (rivers, hills, volcanoes): below a city.
  return PlacePrecision::kDistrict;
}

[[noreturn]] void fail(std::string_view file, size_t line, std::string_view reason) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + std::string(reason));
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool parse_int(const std::string& s, int32_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size()) return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string base_name(std::string_view path) {
  size_t p = path.find_last_of('/');
  return std::string(p == std::string_view::npos ? path : path.substr(p + 1));
}

}  // namespace

struct Gazetteer::Impl {
  std::vector<PlaceEntry> entries;
  // Normalised name -> entry ids (aliases included), and the matcher whose
  // payload is an index into `names`.
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> name_index;
  std::vector<std::vector<uint32_t>> names;  // by name index: entry ids
  std::vector<uint8_t> name_tokens;          // by name index: token count (capped at 255)
  PhraseMatcher matcher;
  bool built = false;

  void add_name(std::string_view name, uint32_t id) {
    std::string norm = normalize_phrase(name);
    if (norm.empty()) return;
    auto it = name_index.find(norm);
    uint32_t idx;
    if (it == name_index.end()) {
      idx = static_cast<uint32_t>(names.size());
      names.emplace_back();
      name_tokens.push_back(static_cast<uint8_t>(std::min<size_t>(255, std::count(norm.begin(), norm.end(), ' ') + 1)));
      name_index.emplace(norm, idx);
    } else {
      idx = it->second;
    }
    auto& ids = names[idx];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }

  // Finds or creates the entry (parent, name, kind); MUC lists repeat
  // places across files and lines.
  uint32_t intern_entry(uint32_t parent, const std::string& name, const std::string& kind,
                        const std::string& country) {
    std::string norm = normalize_phrase(name);
    auto it = name_index.find(norm);
    if (it != name_index.end()) {
      for (uint32_t id : names[it->second]) {
        PlaceEntry& e = entries[id];
        if (e.country == country && upper(e.kind_label) == upper(kind) && normalize_phrase(e.name) == norm) {
          // Keep the deepest known container.
          if (parent != PlaceEntry::kNoParent && parent != id &&
              (e.parent == PlaceEntry::kNoParent || entries[e.parent].precision < entries[parent].precision)) {
            e.parent = parent;
          }
          return id;
        }
      }
    }
    PlaceEntry e;
    e.name = name;
    e.kind_label = kind;
    e.precision = kind == "COUNTRY" ? PlacePrecision::kCountry : precision_for_kind(kind);
    e.parent = parent;
    e.country = country;
    auto id = static_cast<uint32_t>(entries.size());
    entries.push_back(std::move(e));
    add_name(name, id);
    return id;
  }

  uint32_t country_entry(const std::string& country) {
    return intern_entry(PlaceEntry::kNoParent, country, "COUNTRY", country);
  }

  // "COLOMBIA: ANTIOQUIA (DEPARTMENT): MEDELLIN (CITY)" -> entry of the last level.
  uint32_t intern_chain(std::string_view chain, std::string_view file, size_t line) {
    std::vector<std::string> levels;
    size_t start = 0;
    while (true) {
      size_t p = chain.find(": ", start);
      levels.push_back(trim(chain.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start)));
      if (p == std::string_view::npos) break;
      start = p + 2;
    }
    if (levels.empty() || levels[0].empty()) fail(file, line, "empty place chain");
    std::string country = upper(levels[0]);
    if (country == "?") return PlaceEntry::kNoParent;
    uint32_t parent = country_entry(country);
    for (size_t i = 1; i < levels.size(); ++i) {
      const std::string& lv = levels[i];
      std::string name = lv, kind;
      size_t open = lv.find('(');
      if (open != std::string::npos) {
        name = trim(lv.substr(0, open));
        size_t close = lv.find(')', open);
        kind = trim(lv.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1));
        kind.erase(std::remove(kind.begin(), kind.end(), '?'), kind.end());
        kind = trim(kind);
        if (kind.rfind("TOWN IN", 0) == 0) kind = "TOWN";
      }
      if (name.empty()) fail(file, line, "empty place name in chain");
      parent = intern_entry(parent, name, kind, country);
    }
    return parent;
  }

  void load_tsv(std::string_view file, std::string_view content) {
    size_t line_no = 0;
    size_t start = 0;
    while (start <= content.size()) {
      size_t nl = content.find('\n', start);
      std::string_view line = content.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      start = nl == std::string_view::npos ? content.size() + 1 : nl + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line[0] == '#') continue;
      auto cols = split(line, '\t');
      if (cols.size() < 2) fail(file, line_no, "expected at least name and kind, tab-separated");
      cols.resize(9);
      PlaceEntry e;
      e.name = trim(cols[0]);
      e.kind_label = trim(cols[1]);
      if (e.name.empty()) fail(file, line_no, "empty name");
      std::string parent = trim(cols[2]);
      if (e.kind_label == "alias") {
        // Another name for the place the parent column names ("THE CAPITAL"
        // for "EL SALVADOR: SAN SALVADOR (CITY)"); ambiguous aliases resolve
        // like ambiguous names, by context country.
        if (parent.empty()) fail(file, line_no, "an alias needs its place in the parent column");
        const uint32_t target = intern_chain(parent, file, line_no);
        if (target == PlaceEntry::kNoParent) fail(file, line_no, "an alias needs its place in the parent column");
        add_name(e.name, target);
        continue;
      }
      if (e.kind_label == "demonym") {
        if (parent.empty()) fail(file, line_no, "a demonym needs its country in the parent column");
        e.demonym = true;
        e.precision = PlacePrecision::kCountry;
        e.parent = country_entry(upper(parent));
        e.country = upper(parent);
      } else {
        e.precision = e.kind_label == "country" ? PlacePrecision::kCountry : precision_for_kind(e.kind_label);
        if (!parent.empty()) {
          e.parent = intern_chain(parent, file, line_no);
          e.country = e.parent == PlaceEntry::kNoParent ? std::string() : entries[e.parent].country;
        } else {
          e.country = e.precision == PlacePrecision::kCountry ? upper(e.name) : std::string();
        }
      }
      std::string lat = trim(cols[3]), lon = trim(cols[4]);
      if (!lat.empty() || !lon.empty()) {
        if (!parse_double(lat, e.lat) || !parse_double(lon, e.lon) || std::fabs(e.lat) > 90 || std::fabs(e.lon) > 180) {
          fail(file, line_no, "bad lat/lon '" + lat + "', '" + lon + "'");
        }
      }
      std::string district = trim(cols[5]);
      if (!district.empty()) {
        size_t bar = district.find('|');
        if (bar != std::string::npos) {
          if (!parse_int(district.substr(0, bar), e.district_id)) fail(file, line_no, "bad district id");
          e.district = district.substr(bar + 1);
        } else {
          e.district = district;
        }
      }
      std::string range = trim(cols[7]);
      if (!range.empty()) {
        // Signed house numbers: west and south of the grid origin are
        // negative, so one range spans a whole street ("-7200..3600").
        size_t dots = range.find("..");
        if (dots == std::string::npos || !parse_int(range.substr(0, dots), e.address_from) ||
            !parse_int(range.substr(dots + 2), e.address_to) || e.address_to < e.address_from) {
          fail(file, line_no, "bad address range '" + range + "' (want FROM..TO)");
        }
        std::string endp = trim(cols[8]);
        size_t comma = endp.find(',');
        if (comma == std::string::npos || !parse_double(endp.substr(0, comma), e.lat_to) ||
            !parse_double(endp.substr(comma + 1), e.lon_to)) {
          fail(file, line_no, "an address range needs the end point 'LAT,LON' in column 9");
        }
        if (!std::isfinite(e.lat) || !std::isfinite(e.lon)) fail(file, line_no, "an address range needs lat/lon");
        e.has_range = true;
      }
      auto id = static_cast<uint32_t>(entries.size());
      std::vector<std::string> aliases;
      for (auto& a : split(cols[6], ';')) {
        std::string t = trim(a);
        if (!t.empty()) aliases.push_back(t);
      }
      std::string name = e.name;
      entries.push_back(std::move(e));
      add_name(name, id);
      for (const auto& a : aliases) add_name(a, id);
    }
  }

  void load_geojson(std::string_view file, std::string_view content) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(content);
    } catch (const std::exception& ex) {
      fail(file, 1, std::string("not JSON: ") + ex.what());
    }
    if (!doc.is_object() || !doc.contains("features") || !doc["features"].is_array()) {
      fail(file, 1, "expected a GeoJSON FeatureCollection");
    }
    size_t index = 0;
    for (const auto& f : doc["features"]) {
      ++index;
      if (!f.is_object() || !f.contains("properties") || !f["properties"].is_object()) {
        fail(file, index, "feature without properties");
      }
      const auto& p = f["properties"];
      auto str = [&](const char* k) -> std::string {
        if (!p.contains(k)) return {};
        if (p[k].is_string()) return p[k].get<std::string>();
        if (p[k].is_number_integer()) return std::to_string(p[k].get<long long>());
        return {};
      };
      PlaceEntry e;
      e.name = str("name");
      std::string community = str("community");
      if (e.name.empty()) e.name = community;
      if (e.name.empty()) continue;  // unnamed features cannot be mentioned
      e.kind_label = str("kind");
      if (e.kind_label.empty()) e.kind_label = community.empty() ? "site" : "community_area";
      e.precision = precision_for_kind(e.kind_label);
      std::string district = str("area_numbe");
      if (district.empty()) district = str("community_area");
      if (!district.empty()) parse_int(district, e.district_id);
      if (!community.empty()) e.district = e.name;
      std::string parent = str("parent");
      if (!parent.empty()) {
        e.parent = intern_chain(parent, file, index);
        e.country = e.parent == PlaceEntry::kNoParent ? std::string() : entries[e.parent].country;
      }
      if (!f.contains("geometry") || !f["geometry"].is_object()) fail(file, index, "feature without geometry");
      const auto& g = f["geometry"];
      std::string type = g.value("type", "");
      const auto& c = g["coordinates"];
      try {
        if (type == "Point") {
          e.lon = c.at(0).get<double>();
          e.lat = c.at(1).get<double>();
        } else if (type == "MultiPoint") {
          e.lon = c.at(0).at(0).get<double>();
          e.lat = c.at(0).at(1).get<double>();
        } else if (type == "Polygon" || type == "MultiPolygon") {
          // Area-weighted centroid of the outer rings (planar in lon/lat:
          // good to metres at a city's scale).
          double a_sum = 0, x_sum = 0, y_sum = 0;
          auto ring_acc = [&](const nlohmann::json& ring) {
            double a = 0, cx = 0, cy = 0;
            for (size_t k = 0; k + 1 < ring.size(); ++k) {
              double x0 = ring[k].at(0).get<double>(), y0 = ring[k].at(1).get<double>();
              double x1 = ring[k + 1].at(0).get<double>(), y1 = ring[k + 1].at(1).get<double>();
              double cr = x0 * y1 - x1 * y0;
              a += cr;
              cx += (x0 + x1) * cr;
              cy += (y0 + y1) * cr;
            }
            if (a != 0) {
              a_sum += a / 2;
              x_sum += cx / 6;
              y_sum += cy / 6;
            }
          };
          if (type == "Polygon") {
            ring_acc(c.at(0));
          } else {
            for (const auto& poly : c) ring_acc(poly.at(0));
          }
          if (a_sum == 0) fail(file, index, "degenerate polygon");
          e.lon = x_sum / a_sum;
          e.lat = y_sum / a_sum;
        } else {
          fail(file, index, "unsupported geometry type '" + type + "'");
        }
      } catch (const nlohmann::json::exception& ex) {
        fail(file, index, std::string("bad coordinates: ") + ex.what());
      }
      if (!std::isfinite(e.lat) || !std::isfinite(e.lon) || std::fabs(e.lat) > 90 || std::fabs(e.lon) > 180) {
        fail(file, index, "coordinates out of range");
      }
      auto id = static_cast<uint32_t>(entries.size());
      std::string name = e.name;
      entries.push_back(std::move(e));
      add_name(name, id);
    }
  }

  void load_muc_nations(std::string_view, std::string_view content) {
    std::istringstream in{std::string(content)};
    std::string line;
    size_t line_no = 0;
    int section = 0;  // 1: set list, 2: synonyms
    while (std::getline(in, line)) {
      ++line_no;
      std::string t = trim(line);
      if (t.rfind("1.0", 0) == 0) {
        section = 1;
        continue;
      }
      if (t.rfind("2.0", 0) == 0) {
        section = 2;
        continue;
      }
      if (t.empty() || section == 0) continue;
      if (section == 1) {
        country_entry(upper(t));
      } else {
        size_t eq = t.find(" = ");
        if (eq == std::string::npos) continue;
        std::string alias = trim(t.substr(0, eq)), target = upper(trim(t.substr(eq + 3)));
        uint32_t id = country_entry(target);
        add_name(alias, id);
      }
    }
  }

  void load_muc_containing_areas(std::string_view file, std::string_view content) {
    std::istringstream in{std::string(content)};
    std::string line;
    size_t line_no = 0;
    bool data = false;
    while (std::getline(in, line)) {
      ++line_no;
      if (!data) {
        if (line.size() >= 20 && line.find_first_not_of('-') == std::string::npos) data = true;
        continue;
      }
      size_t star = line.find('*');
      if (star == std::string::npos || line.find(": ") == std::string::npos) continue;
      std::string body = trim(line.substr(0, star));
      // Trailing notes after the last level ("message 200, 247").
      size_t msg = body.find(" message ");
      if (msg != std::string::npos) body = trim(body.substr(0, msg));
      if (body.empty() || !(std::isupper(static_cast<unsigned char>(body[0])) || body[0] == '?')) continue;
      intern_chain(body, file, line_no);
    }
  }

  void load_muc_synonyms(std::string_view, std::string_view content) {
    std::istringstream in{std::string(content)};
    std::string line;
    while (std::getline(in, line)) {
      std::string t = trim(line);
      size_t nw = t.find("<-NEW");
      if (nw != std::string::npos) t = trim(t.substr(0, nw));
      std::string a, b;
      size_t eq = t.find(" = ");
      size_t arrow = t.find(" -> ");
      if (eq != std::string::npos) {
        a = trim(t.substr(0, eq));
        b = trim(t.substr(eq + 3));
      } else if (arrow != std::string::npos) {
        a = trim(t.substr(0, arrow));
        b = trim(t.substr(arrow + 4));
      } else {
        continue;
      }
      if (a.find('(') != std::string::npos || b.find('(') != std::string::npos) continue;  // pattern notes
      // Synonyms go both ways: whichever side the lists know lends its
      // entries to the other.
      for (int pass = 0; pass < 2; ++pass) {
        const std::string& known = pass == 0 ? b : a;
        const std::string& alias = pass == 0 ? a : b;
        auto it = name_index.find(normalize_phrase(known));
        if (it == name_index.end()) continue;
        std::vector<uint32_t> ids = names[it->second];
        for (uint32_t id : ids) add_name(alias, id);
      }
    }
  }

  void add_content(std::string_view name, std::string_view content) {
    if (built) throw std::logic_error("Gazetteer: add after build");
    std::string base = base_name(name);
    if (ends_with(base, ".tsv")) {
      load_tsv(name, content);
    } else if (ends_with(base, ".geojson") || ends_with(base, ".json")) {
      load_geojson(name, content);
    } else if (base.rfind("set-list-foreign-nation", 0) == 0) {
      load_muc_nations(name, content);
    } else if (base.rfind("containing-areas", 0) == 0) {
      load_muc_containing_areas(name, content);
    } else if (base.rfind("places-synonyms", 0) == 0) {
      load_muc_synonyms(name, content);
    } else {
      throw std::runtime_error(std::string(name) +
                               ": unknown gazetteer format (want .tsv, .geojson, or a MUC place list: "
                               "set-list-foreign-nation*, containing-areas*, places-synonyms*)");
    }
  }
};

Gazetteer::Gazetteer() : impl_(std::make_unique<Impl>()) {}
Gazetteer::~Gazetteer() = default;
Gazetteer::Gazetteer(Gazetteer&&) noexcept = default;
Gazetteer& Gazetteer::operator=(Gazetteer&&) noexcept = default;

Gazetteer Gazetteer::load(const std::vector<std::string>& files) {
  Gazetteer g;
  for (const auto& f : files) g.add_file(f);
  g.build();
  return g;
}

void Gazetteer::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open gazetteer file");
  std::ostringstream ss;
  ss << in.rdbuf();
  impl_->add_content(path, ss.str());
}

void Gazetteer::add_text(std::string_view name, std::string_view content) { impl_->add_content(name, content); }

uint32_t Gazetteer::add_entry(PlaceEntry entry, const std::vector<std::string>& aliases) {
  if (impl_->built) throw std::logic_error("Gazetteer: add after build");
  auto id = static_cast<uint32_t>(impl_->entries.size());
  std::string name = entry.name;
  impl_->entries.push_back(std::move(entry));
  impl_->add_name(name, id);
  for (const auto& a : aliases) impl_->add_name(a, id);
  return id;
}

void Gazetteer::build() {
  Impl& m = *impl_;
  // Fill district names from community-area entries by number, and give
  // entries with a district number but no parent that area as container.
  std::unordered_map<int32_t, uint32_t> areas;
  for (uint32_t i = 0; i < m.entries.size(); ++i) {
    const auto& e = m.entries[i];
    if (e.kind_label == "community_area" && e.district_id >= 0) areas.emplace(e.district_id, i);
  }
  for (uint32_t i = 0; i < m.entries.size(); ++i) {
    auto& e = m.entries[i];
    if (e.district_id < 0) continue;
    auto it = areas.find(e.district_id);
    if (it == areas.end() || it->second == i) continue;
    if (e.district.empty()) e.district = m.entries[it->second].name;
    if (e.parent == PlaceEntry::kNoParent) {
      e.parent = it->second;
      e.country = m.entries[it->second].country;
    }
  }
  // The matcher gets each name once; its payload is the name index.
  for (const auto& [norm, idx] : m.name_index) m.matcher.add(norm, idx);
  m.matcher.build();
  m.built = true;
}

size_t Gazetteer::size() const { return impl_->entries.size(); }

const PlaceEntry& Gazetteer::entry(uint32_t id) const { return impl_->entries.at(id); }

std::vector<uint32_t> Gazetteer::lookup(std::string_view name) const {
  auto it = impl_->name_index.find(normalize_phrase(name));
  if (it == impl_->name_index.end()) return {};
  return impl_->names[it->second];
}

std::string Gazetteer::qualified_name(uint32_t id) const {
  std::vector<uint32_t> chain;
  for (uint32_t cur = id; cur != PlaceEntry::kNoParent && chain.size() < 16; cur = impl_->entries[cur].parent) {
    chain.push_back(cur);
  }
  std::string out;
  for (size_t k = chain.size(); k-- > 0;) {
    const PlaceEntry& e = impl_->entries[chain[k]];
    if (!out.empty()) out += ": ";
    out += e.name;
    if (k + 1 != chain.size() && !e.kind_label.empty()) {
      out += " (";
      out += upper(e.kind_label);
      out += ")";
    }
  }
  return out;
}

bool Gazetteer::within(uint32_t id, uint32_t ancestor) const {
  for (int depth = 0; id != PlaceEntry::kNoParent && depth < 16; ++depth) {
    if (id == ancestor) return true;
    id = impl_->entries[id].parent;
  }
  return false;
}

void Gazetteer::find(const TokenizedText& text, std::vector<PlaceMention>& out) const {
  out.clear();
  thread_local std::vector<uint32_t> ids;
  thread_local std::vector<PhraseMatcher::Hit> hits;
  hits.clear();
  impl_->matcher.map_tokens(text, ids);
  impl_->matcher.find(ids, hits);
  // Mixed case: a name must start with a capital (or a number: "27
  // September") to count. Filtered before choosing the longest matches, so
  // a lower-case common word never hides a real name it overlaps.
  if (!text.upper_case_text) {
    hits.erase(std::remove_if(hits.begin(), hits.end(),
                              [&](const PhraseMatcher::Hit& h) {
                                const Token& t = text.tokens[h.begin];
                                char first = text.text[t.begin];
                                return !(t.flags & Token::kCapitalised) && !(first >= '0' && first <= '9');
                              }),
               hits.end());
  }
  select_longest(hits);
  for (const auto& h : hits) {
    PlaceMention m;
    m.begin = h.begin;
    m.end = h.end;
    m.candidates = impl_->names[h.payload];
    out.push_back(std::move(m));
  }
}

std::optional<std::pair<double, double>> Gazetteer::geocode_address(uint32_t id, int32_t number) const {
  const PlaceEntry& e = entry(id);
  if (!e.has_range || !std::isfinite(e.lat_to) || !std::isfinite(e.lon_to)) return std::nullopt;
  if (number < e.address_from - 100 || number > e.address_to + 100) return std::nullopt;
  double span = static_cast<double>(e.address_to - e.address_from);
  double f = span > 0 ? std::clamp((number - e.address_from) / span, 0.0, 1.0) : 0.0;
  return std::make_pair(e.lat + f * (e.lat_to - e.lat), e.lon + f * (e.lon_to - e.lon));
}

}  // namespace sentinel::intel
