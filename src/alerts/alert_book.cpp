#include "alerts/alert_book.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/node_hash_map.h>
#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/bytes.h"

namespace sentinel {

namespace {

constexpr uint32_t kMagic = 0x4B424C41;  // "ALBK"
constexpr uint8_t kVersion = 1;
constexpr size_t kNoIndex = std::numeric_limits<size_t>::max();
constexpr std::string_view kNoCell = "-";

void build_key(std::string& out, AlertType type, bool has_location, std::string_view cell_token,
               std::string_view category) {
  out.clear();
  out.append(alert_type_name(type));
  out.push_back('/');
  out.append(has_location ? cell_token : kNoCell);
  out.push_back('/');
  out.append(category);
}

std::string format_id(uint64_t h) { return fmt::format("a-{:016x}", h); }

// Strict inverse of format_id: "a-" and exactly 16 lowercase hex digits.
bool parse_id(std::string_view id, uint64_t& out) {
  if (id.size() != 18 || id[0] != 'a' || id[1] != '-') return false;
  uint64_t v = 0;
  for (char ch : id.substr(2)) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// How far `t` lies outside [first, last], in ms (0 inside).
int64_t span_distance(EventTime t, EventTime first, EventTime last) {
  if (t < first) return to_ms(first) - to_ms(t);
  if (t > last) return to_ms(t) - to_ms(last);
  return 0;
}

void insert_sorted_unique(std::vector<std::string>& sorted, std::string&& s) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), s);
  if (it == sorted.end() || *it != s) sorted.insert(it, std::move(s));
}

}  // namespace

struct AlertBook::State {
  struct Entry {
    Alert alert;
    uint64_t id = 0;  // the hash alert_id spells
    // XXH3-64 of every event id absorbed. Open addressing: a burst's set is
    // probed once per offered id, and a node-based set costs a cache miss per node.
    absl::flat_hash_set<uint64_t> seen;
  };
  // A distinct event id of the candidate being offered: its hash and its
  // index in candidate.event_ids (kNoIndex: the stand-in of a candidate
  // without event ids).
  struct IdRef {
    uint64_t hash;
    size_t index;
  };

  DedupConfig dedup;
  Millis retention;
  // Owner of the entries: node_hash_map values never move, so the Entry*
  // in by_key and the Alert* handed out stay valid while the entry lives.
  absl::node_hash_map<uint64_t, Entry> by_id;
  // Dedup key -> its live alerts (nearly always one); looked up by string_view.
  absl::flat_hash_map<std::string, std::vector<Entry*>> by_key;

  // Scratch reused across offers so a re-delivery allocates nothing once warm.
  std::string key;
  std::vector<IdRef> ids;
  std::vector<IdRef> fresh;
  std::string stand_in;

  void collect_ids(const AlertCandidate& c);
  Entry* match(std::string_view key_text, EventTime t);
  void absorb(Entry& e, AlertCandidate& c, EventTime now);
  Entry& create(uint64_t id, AlertCandidate& c, EventTime now);
};

void AlertBook::State::collect_ids(const AlertCandidate& c) {
  ids.clear();
  if (c.event_ids.empty()) {
    // A candidate naming no event (e.g. one derived from a window count) stands
    // for one occurrence at its event time, so re-offering it is a re-delivery.
    stand_in.clear();
    fmt::format_to(std::back_inserter(stand_in), "@{}", to_ms(c.event_time));
    ids.push_back({XXH3_64bits(stand_in.data(), stand_in.size()), kNoIndex});
    return;
  }
  for (size_t i = 0; i < c.event_ids.size(); ++i) {
    const std::string& id = c.event_ids[i];
    ids.push_back({XXH3_64bits(id.data(), id.size()), i});
  }
  if (ids.size() > 1) {
    // Keep the first occurrence of each id, in candidate order.
    std::sort(ids.begin(), ids.end(), [](const IdRef& a, const IdRef& b) {
      return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
    });
    ids.erase(std::unique(ids.begin(), ids.end(),
                          [](const IdRef& a, const IdRef& b) { return a.hash == b.hash; }),
              ids.end());
    std::sort(ids.begin(), ids.end(), [](const IdRef& a, const IdRef& b) { return a.index < b.index; });
  }
}

AlertBook::State::Entry* AlertBook::State::match(std::string_view key_text, EventTime t) {
  // Debian's absl::string_view is its own type, not std::string_view.
  auto it = by_key.find(absl::string_view(key_text.data(), key_text.size()));
  if (it == by_key.end()) return nullptr;
  Entry* best = nullptr;
  int64_t best_distance = 0;
  for (Entry* e : it->second) {
    const int64_t d = span_distance(t, e->alert.first_seen, e->alert.last_seen);
    if (d > dedup.window.count()) continue;
    // Nearest, then latest, then smallest id: independent of storage order,
    // which a checkpoint does not preserve.
    if (best == nullptr || d < best_distance ||
        (d == best_distance && (e->alert.last_seen > best->alert.last_seen ||
                                (e->alert.last_seen == best->alert.last_seen && e->id < best->id)))) {
      best = e;
      best_distance = d;
    }
  }
  return best;
}

void AlertBook::State::absorb(Entry& e, AlertCandidate& c, EventTime now) {
  Alert& a = e.alert;
  for (const IdRef& r : fresh) {
    e.seen.insert(r.hash);
    ++a.count;
    if (r.index != kNoIndex && a.event_ids.size() < dedup.max_event_ids) {
      a.event_ids.push_back(std::move(c.event_ids[r.index]));
    }
  }
  a.first_seen = std::min(a.first_seen, c.event_time);
  a.last_seen = std::max(a.last_seen, c.event_time);
  for (std::string& s : c.sources) insert_sorted_unique(a.sources, std::move(s));
  if (c.score.score > a.score.score) {
    a.score = c.score;
    a.confidence = c.confidence;
    a.has_confidence = c.has_confidence;
    a.event_time = c.event_time;
  }
  a.verified = a.verified || c.verified;
  a.bias_review = a.bias_review || c.bias_review;
  if (c.status == AlertStatus::kAlert) a.status = AlertStatus::kAlert;
  ++a.revision;
  a.emitted_at = now;
}

AlertBook::State::Entry& AlertBook::State::create(uint64_t id, AlertCandidate& c, EventTime now) {
  Entry& e = by_id.try_emplace(id).first->second;
  e.id = id;
  Alert& a = e.alert;
  a.alert_id = format_id(id);
  a.dedup_key = key;
  a.type = c.type;
  a.status = c.status;
  a.category = std::move(c.category);
  a.has_location = c.has_location;
  if (c.has_location) {
    a.cell = c.cell;
    a.cell_token = std::move(c.cell_token);
    a.lat = c.lat;
    a.lon = c.lon;
  } else {
    a.cell_token = kNoCell;
  }
  a.score = c.score;
  a.confidence = c.confidence;
  a.has_confidence = c.has_confidence;
  a.verified = c.verified;
  a.sources = std::move(c.sources);
  std::sort(a.sources.begin(), a.sources.end());
  a.sources.erase(std::unique(a.sources.begin(), a.sources.end()), a.sources.end());
  e.seen.reserve(ids.size());
  for (const IdRef& r : ids) {
    e.seen.insert(r.hash);
    if (r.index != kNoIndex && a.event_ids.size() < dedup.max_event_ids) {
      a.event_ids.push_back(std::move(c.event_ids[r.index]));
    }
  }
  a.count = ids.size();
  a.district = std::move(c.district);
  a.event_time = c.event_time;
  a.bias_review = c.bias_review;
  a.revision = 0;
  a.first_seen = a.last_seen = c.event_time;
  a.emitted_at = now;
  by_key[key].push_back(&e);
  return e;
}

AlertBook::AlertBook(const DedupConfig& dedup, Millis retention) : state_(std::make_unique<State>()) {
  if (dedup.window.count() < 0) throw std::invalid_argument("dedup.window: must not be negative");
  if (dedup.max_event_ids == 0) throw std::invalid_argument("dedup.max_event_ids: must be at least 1");
  if (retention.count() < 0) throw std::invalid_argument("alert book retention: must not be negative");
  state_->dedup = dedup;
  state_->retention = retention;
}

AlertBook::~AlertBook() = default;

AlertBook::Offer AlertBook::offer(AlertCandidate&& c, EventTime now, const Alert*& out) {
  State& s = *state_;
  build_key(s.key, c.type, c.has_location, c.cell_token, c.category);
  s.collect_ids(c);

  State::Entry* e = s.match(s.key, c.event_time);
  if (e == nullptr) {
    // No alert within the window: a new alert, unless its id is taken.
    const size_t key_size = s.key.size();
    s.key.push_back('\n');
    if (c.event_ids.empty()) {
      s.key.append(s.stand_in);
    } else {
      s.key.append(c.event_ids.front());
    }
    uint64_t id = 0;
    for (uint64_t seed = 0;; ++seed) {
      id = XXH3_64bits_withSeed(s.key.data(), s.key.size(), seed);
      auto it = s.by_id.find(id);
      if (it == s.by_id.end()) break;
      if (std::string_view(it->second.alert.dedup_key) == std::string_view(s.key).substr(0, key_size)) {
        e = &it->second;  // same key and first event: the same alert, past its window
        break;
      }
    }
    s.key.resize(key_size);
    if (e == nullptr) {
      out = &s.create(id, c, now).alert;
      return Offer::kNew;
    }
  }

  s.fresh.clear();
  for (const State::IdRef& r : s.ids) {
    if (!e->seen.contains(r.hash)) s.fresh.push_back(r);
  }
  out = &e->alert;
  if (s.fresh.empty()) return Offer::kUnchanged;
  s.absorb(*e, c, now);
  return Offer::kUpdated;
}

void AlertBook::expire(EventTime now) {
  if (now <= kMinEventTime || now >= kMaxEventTime) return;
  State& s = *state_;
  const EventTime cutoff = now - s.dedup.window - s.retention;
  for (auto it = s.by_key.begin(); it != s.by_key.end();) {
    std::vector<State::Entry*>& list = it->second;
    std::erase_if(list, [&](State::Entry* e) {
      if (e->alert.last_seen >= cutoff) return false;
      s.by_id.erase(e->id);
      return true;
    });
    if (list.empty()) {
      s.by_key.erase(it++);  // absl's erase(iterator) returns nothing
    } else {
      ++it;
    }
  }
}

size_t AlertBook::size() const { return state_->by_id.size(); }

const Alert* AlertBook::find(std::string_view alert_id) const {
  uint64_t id = 0;
  if (!parse_id(alert_id, id)) return nullptr;
  auto it = state_->by_id.find(id);
  return it == state_->by_id.end() ? nullptr : &it->second.alert;
}

std::vector<const Alert*> AlertBook::alerts() const {
  std::vector<const Alert*> out;
  out.reserve(state_->by_id.size());
  for (const auto& [id, e] : state_->by_id) out.push_back(&e.alert);
  std::sort(out.begin(), out.end(), [](const Alert* a, const Alert* b) {
    return a->dedup_key != b->dedup_key ? a->dedup_key < b->dedup_key : a->alert_id < b->alert_id;
  });
  return out;
}

namespace {

void save_strings(ByteWriter& out, const std::vector<std::string>& v) {
  out.u64(v.size());
  for (const std::string& s : v) out.str(s);
}

bool load_strings(ByteReader& in, std::vector<std::string>& v) {
  const uint64_t n = in.count(sizeof(uint64_t));
  v.clear();
  v.reserve(n);
  for (uint64_t i = 0; i < n && !in.fail(); ++i) v.emplace_back(in.str());
  return !in.fail();
}

enum Flag : uint8_t { kHasConfidence = 1, kVerified = 2, kHasLocation = 4, kBiasReview = 8, kAllFlags = 15 };

}  // namespace

void AlertBook::save(ByteWriter& out) const {
  out.u32(kMagic);
  out.u8(kVersion);
  const std::vector<const Alert*> sorted = alerts();
  out.u64(sorted.size());
  for (const Alert* a : sorted) {
    uint64_t id = 0;
    parse_id(a->alert_id, id);
    const State::Entry& e = state_->by_id.at(id);
    out.u64(id);
    out.str(a->dedup_key);
    out.u8(static_cast<uint8_t>(a->type));
    out.u8(static_cast<uint8_t>(a->status));
    out.str(a->category);
    out.u64(a->cell);
    out.str(a->cell_token);
    const ScoreTerms& t = a->score.terms;
    for (double v : {t.threat_severity, t.model_confidence, t.corroboration, t.temporal_urgency,
                     t.spatial_sensitivity, t.boost, a->score.score}) {
      out.f64(v);
    }
    out.u8(static_cast<uint8_t>(a->score.priority));
    out.f64(a->confidence);
    out.u8(static_cast<uint8_t>((a->has_confidence ? kHasConfidence : 0) | (a->verified ? kVerified : 0) |
                                (a->has_location ? kHasLocation : 0) | (a->bias_review ? kBiasReview : 0)));
    save_strings(out, a->sources);
    save_strings(out, a->event_ids);
    out.f64(a->lat);
    out.f64(a->lon);
    out.str(a->district);
    out.i64(to_ms(a->event_time));
    out.u64(a->count);
    out.u32(a->revision);
    out.i64(to_ms(a->first_seen));
    out.i64(to_ms(a->last_seen));
    out.i64(to_ms(a->emitted_at));
    std::vector<uint64_t> seen(e.seen.begin(), e.seen.end());
    std::sort(seen.begin(), seen.end());
    out.u64(seen.size());
    for (uint64_t h : seen) out.u64(h);
  }
}

bool AlertBook::load(ByteReader& in) {
  auto reject = [&in] {
    in.set_fail();
    return false;
  };
  if (in.u32() != kMagic || in.u8() != kVersion || in.fail()) return reject();
  // Built aside and swapped in, so a bad buffer leaves the book as it was.
  State fresh_state;
  fresh_state.dedup = state_->dedup;
  fresh_state.retention = state_->retention;
  // Smallest possible saved alert: fixed-size fields plus empty strings and lists.
  constexpr size_t kMinAlertBytes = 8 + 8 + 2 + 8 + 8 + 8 + 7 * 8 + 1 + 8 + 1 + 8 + 8 + 16 + 8 + 8 + 8 + 4 + 24 + 8;
  const uint64_t n = in.count(kMinAlertBytes);
  fresh_state.by_id.reserve(n);
  std::string key;
  const Alert* previous = nullptr;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t id = in.u64();
    if (in.fail() || fresh_state.by_id.contains(id)) return reject();
    State::Entry& e = fresh_state.by_id[id];
    e.id = id;
    Alert& a = e.alert;
    a.alert_id = format_id(id);
    a.dedup_key = in.str();
    const uint8_t type = in.u8();
    const uint8_t status = in.u8();
    if (type > static_cast<uint8_t>(AlertType::kMlAnomaly) || status > static_cast<uint8_t>(AlertStatus::kTrendWatch)) {
      return reject();
    }
    a.type = static_cast<AlertType>(type);
    a.status = static_cast<AlertStatus>(status);
    a.category = in.str();
    a.cell = in.u64();
    a.cell_token = in.str();
    ScoreTerms& t = a.score.terms;
    for (double* v : {&t.threat_severity, &t.model_confidence, &t.corroboration, &t.temporal_urgency,
                      &t.spatial_sensitivity, &t.boost, &a.score.score}) {
      *v = in.f64();
    }
    const uint8_t priority = in.u8();
    if (priority > static_cast<uint8_t>(Priority::kP3)) return reject();
    a.score.priority = static_cast<Priority>(priority);
    a.confidence = in.f64();
    const uint8_t flags = in.u8();
    if ((flags & ~kAllFlags) != 0) return reject();
    a.has_confidence = (flags & kHasConfidence) != 0;
    a.verified = (flags & kVerified) != 0;
    a.has_location = (flags & kHasLocation) != 0;
    a.bias_review = (flags & kBiasReview) != 0;
    if (!load_strings(in, a.sources) || !load_strings(in, a.event_ids)) return false;
    a.lat = in.f64();
    a.lon = in.f64();
    a.district = in.str();
    a.event_time = event_time_from_ms(in.i64());
    a.count = in.u64();
    a.revision = in.u32();
    a.first_seen = event_time_from_ms(in.i64());
    a.last_seen = event_time_from_ms(in.i64());
    a.emitted_at = event_time_from_ms(in.i64());
    const uint64_t seen = in.count(sizeof(uint64_t));
    e.seen.reserve(seen);
    uint64_t last_hash = 0;
    for (uint64_t j = 0; j < seen && !in.fail(); ++j) {
      const uint64_t h = in.u64();
      if (j > 0 && h <= last_hash) return reject();  // sorted, distinct
      e.seen.insert(h);
      last_hash = h;
    }
    if (in.fail()) return false;
    const bool ids_seen = std::all_of(a.event_ids.begin(), a.event_ids.end(), [&e](const std::string& id) {
      return e.seen.contains(XXH3_64bits(id.data(), id.size()));
    });

    // The invariants offer() keeps; a buffer breaking one is not a checkpoint of ours.
    build_key(key, a.type, a.has_location, a.cell_token, a.category);
    const bool consistent =
        ids_seen && key == a.dedup_key && (a.has_location || a.cell_token == kNoCell) && a.first_seen <= a.last_seen &&
        a.count == e.seen.size() && a.event_ids.size() <= a.count &&
        std::adjacent_find(a.sources.begin(), a.sources.end(), std::greater_equal<>()) == a.sources.end() &&
        (previous == nullptr || previous->dedup_key < a.dedup_key ||
         (previous->dedup_key == a.dedup_key && previous->alert_id < a.alert_id));
    if (!consistent) return reject();
    fresh_state.by_key[a.dedup_key].push_back(&e);
    previous = &a;
  }
  if (in.fail()) return false;
  state_->by_id.swap(fresh_state.by_id);
  state_->by_key.swap(fresh_state.by_key);
  return true;
}

}  // namespace sentinel
