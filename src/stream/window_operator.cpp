#include "stream/window_operator.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <map>
#include <type_traits>

#include "stream/bytes.h"

namespace sentinel {

std::string_view window_kind_name(WindowKind kind) {
  switch (kind) {
    case WindowKind::kTumbling: return "tumbling";
    case WindowKind::kSliding: return "sliding";
    case WindowKind::kSession: return "session";
    case WindowKind::kGlobal: return "global";
  }
  return "unknown";
}

namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kTimerBucketMs = 60'000;  // session timers are grouped per minute of event time

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/// A window's (or pane's) count and emission state.
struct Counter {
  uint32_t count = 0;
  uint16_t revision = 0;
  uint8_t flags = 0;
};

constexpr uint8_t kFired = 1;  // the window starting at this slot was emitted
constexpr uint8_t kDirty = 2;  // it changed since; a revision is due at the next watermark
constexpr uint8_t kUsed = 4;   // an inline slot or session holds data

/// Confidences are summed in units of 2^-16 as integers: an integer sum does
/// not depend on the order events arrive in (a float sum does), and 65535
/// events of confidence 1 still fit the narrow 32-bit sum below.
constexpr uint32_t kConfidenceOne = 1u << 16;
/// A tumbling window keeps its features in 16-bit counters while it holds at
/// most this many events; past it they move to the `tumbling_wide` table.
constexpr uint32_t kNarrowMax = 0xFFFF;

uint32_t confidence_units(float c) {
  if (!(c > 0.f)) return 0;  // also NaN
  if (c >= 1.f) return kConfidenceOne;
  return static_cast<uint32_t>(c * static_cast<float>(kConfidenceOne) + 0.5f);
}

/// A tumbling window's count, emission state and features, narrow: the
/// feature counters are valid while count <= kNarrowMax (in a 5-minute window
/// that is 218 events a second for one cell and category) and stale after,
/// when the window's TumblingFeatures live in `tumbling_wide`. 24 bytes, 16
/// more than a pane's Counter.
struct TumblingCounter {
  uint32_t count = 0;
  uint16_t revision = 0;
  uint8_t flags = 0;
  uint16_t violent = 0, property = 0, confident = 0;
  uint32_t sources = 0;
  uint32_t confidence = 0;  // in units of 2^-16
};
static_assert(sizeof(TumblingCounter) == 24);

/// A tumbling window's features at full width.
struct TumblingFeatures {
  uint32_t violent = 0, property = 0, confident = 0, sources = 0;
  uint64_t confidence = 0;  // in units of 2^-16
};

/// Adds one event to `f` (a TumblingCounter or TumblingFeatures).
template <typename F>
void add_features(F& f, const Event& e) {
  if (e.has_severity) {
    f.violent += e.severity == Severity::kViolent;
    f.property += e.severity == Severity::kProperty;
  }
  if (e.has_confidence) {
    ++f.confident;
    f.confidence += confidence_units(e.confidence);
  }
  f.sources |= window_source_bit(e.source);
}

TumblingFeatures widen(const TumblingCounter& c) {
  return TumblingFeatures{c.violent, c.property, c.confident, c.sources, c.confidence};
}

/// The inline tumbling window or pane of a key.
template <typename C>
struct Slot {
  int64_t index = 0;  // window (tumbling) or pane (sliding) number since the epoch
  C c;
};

struct Session {
  int64_t start = 0, last = 0;
  uint32_t count = 0;
  uint16_t revision = 0;
  uint8_t flags = 0;
};

/// All window state of one (cell, category) key in one hash-table slot: the
/// newest tumbling window, the newest pane and the newest session inline,
/// which is all a key holds unless events arrive out of order across window
/// boundaries; the rest spills to the overflow tables. One table instead of
/// three keeps a key under 256 bytes even right after the table has doubled
/// (bench/window_state_bench.cpp; docs/BENCHMARKS.md).
struct KeyState {
  Slot<TumblingCounter> tumbling;
  Slot<Counter> pane;
  Session session;
  int32_t timer_minute = INT32_MAX;  // session timer bucket this key is registered in
  uint8_t tumbling_spilled = 0, panes_spilled = 0, sessions_spilled = 0;  // entries in overflow
  bool in_dirty_list = false;

  bool empty() const {
    return !(tumbling.c.flags & kUsed) && !(pane.c.flags & kUsed) && !(session.flags & kUsed) &&
           tumbling_spilled == 0 && panes_spilled == 0 && sessions_spilled == 0;
  }
};
static_assert(sizeof(KeyState) <= 80, "per-key window state: see docs/BENCHMARKS.md before growing it");

/// A key as stored in the time-ordered bucket lists (packed: 12 bytes).
struct __attribute__((packed)) PackedKey {
  uint64_t cell;
  uint32_t category;
  WindowKey key() const { return {cell, category}; }
};
PackedKey pack(WindowKey k) { return PackedKey{k.cell, k.category}; }

/// An overflow window or pane.
struct SlotId {
  uint64_t cell;
  int64_t index;
  uint32_t category;
  bool operator==(const SlotId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const SlotId& s) {
    return H::combine(std::move(h), s.cell, s.index, s.category);
  }
};

enum class Kind : uint8_t { kTumbling, kPane };
template <Kind K>
using CounterOf = std::conditional_t<K == Kind::kTumbling, TumblingCounter, Counter>;

int32_t minute_bucket(int64_t t_ms) {
  const int64_t m = floor_div(t_ms, kTimerBucketMs);
  return static_cast<int32_t>(std::clamp<int64_t>(m, INT32_MIN + 1, INT32_MAX - 1));
}

struct GlobalId {
  int64_t hour;
  uint32_t category;
  int32_t district;
  bool operator==(const GlobalId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const GlobalId& g) {
    return H::combine(std::move(h), g.hour, g.category, g.district);
  }
};

using SessionList = absl::InlinedVector<Session, 4>;

}  // namespace

struct WindowOperator::State {
  int64_t tumble_ms, slide_ms, panes_per_window, gap_ms, lateness_ms, global_ms;
  bool tumbling_on, sliding_on, session_on;
  int64_t wm = to_ms(kMinEventTime);
  int64_t last_finite_wm = to_ms(kMinEventTime);  // the global summary's reference point

  absl::flat_hash_map<WindowKey, KeyState> keys;
  absl::flat_hash_map<SlotId, TumblingCounter> tumbling_overflow;
  absl::flat_hash_map<SlotId, Counter> pane_overflow;
  absl::flat_hash_map<SlotId, TumblingFeatures> tumbling_wide;  // windows with more than kNarrowMax events
  absl::flat_hash_map<WindowKey, std::vector<Session>> session_overflow;
  using Buckets = std::map<int64_t, std::vector<PackedKey>>;
  Buckets tumbling_buckets, pane_buckets, session_timers;
  // Buckets whose time has passed, kept (cleared, with their vectors'
  // capacity) for the next new bucket: in sparse data nearly every event
  // opens a bucket, and a map node plus a vector per bucket were two mallocs
  // and frees per event. Bounded by kMaxSpareBuckets.
  static constexpr size_t kMaxSpareBuckets = 256;
  static constexpr size_t kMaxSpareCapacity = 4096;  // larger vectors are freed
  std::vector<Buckets::node_type> spare_buckets;
  std::vector<std::pair<WindowKey, int64_t>> tumbling_dirty, sliding_dirty;
  std::vector<WindowKey> session_dirty;
  std::vector<WindowRecord> retractions;

  absl::flat_hash_map<GlobalId, uint64_t> global;
  int64_t global_purged_hour = INT64_MIN;

  explicit State(const WindowsConfig& c)
      : tumble_ms(c.tumbling_size.count()),
        slide_ms(c.sliding_slide.count()),
        panes_per_window(c.sliding_size.count() / c.sliding_slide.count()),
        gap_ms(c.session_gap.count()),
        lateness_ms(c.allowed_lateness.count()),
        global_ms(c.global_size.count()),
        tumbling_on(c.tumbling),
        sliding_on(c.sliding),
        session_on(c.session) {}

  static WindowRecord record(WindowKind kind, int64_t start, int64_t end, WindowKey key,
                             uint64_t count, uint32_t revision) {
    WindowRecord r;
    r.kind = kind;
    r.start = event_time_from_ms(start);
    r.end = event_time_from_ms(end);
    r.key = key;
    r.count = count;
    r.revision = revision;
    return r;
  }

  // ---- slots: inline first, then overflow ---------------------------------
  template <Kind K>
  static auto& inline_slot(KeyState& ks) {
    if constexpr (K == Kind::kTumbling) return ks.tumbling;
    else return ks.pane;
  }
  template <Kind K>
  static const auto& inline_slot(const KeyState& ks) {
    if constexpr (K == Kind::kTumbling) return ks.tumbling;
    else return ks.pane;
  }
  template <Kind K>
  static uint8_t& spilled(KeyState& ks) {
    if constexpr (K == Kind::kTumbling) return ks.tumbling_spilled;
    else return ks.panes_spilled;
  }
  template <Kind K>
  static uint8_t spilled(const KeyState& ks) {
    if constexpr (K == Kind::kTumbling) return ks.tumbling_spilled;
    else return ks.panes_spilled;
  }
  template <Kind K>
  auto& overflow() {
    if constexpr (K == Kind::kTumbling) return tumbling_overflow;
    else return pane_overflow;
  }
  template <Kind K>
  const auto& overflow() const {
    if constexpr (K == Kind::kTumbling) return tumbling_overflow;
    else return pane_overflow;
  }
  Buckets& buckets(Kind kind) {
    return kind == Kind::kTumbling ? tumbling_buckets : pane_buckets;
  }

  /// The bucket `at` of `m`, created (from a spare node when there is one) if absent.
  std::vector<PackedKey>& bucket(Buckets& m, int64_t at) {
    auto it = m.lower_bound(at);
    if (it != m.end() && it->first == at) return it->second;
    if (spare_buckets.empty()) return m.emplace_hint(it, at, std::vector<PackedKey>{})->second;
    Buckets::node_type node = std::move(spare_buckets.back());
    spare_buckets.pop_back();
    node.key() = at;
    return m.insert(it, std::move(node))->second;
  }

  /// Removes the bucket at `it` from `m`, keeping its node for reuse.
  void retire(Buckets& m, Buckets::iterator it) { recycle(m.extract(it)); }

  void recycle(Buckets::node_type node) {
    if (spare_buckets.size() >= kMaxSpareBuckets || node.mapped().capacity() > kMaxSpareCapacity) return;
    node.mapped().clear();
    spare_buckets.push_back(std::move(node));
  }

  template <Kind K>
  const CounterOf<K>* find(WindowKey key, int64_t index) const {
    auto it = keys.find(key);
    if (it == keys.end()) return nullptr;
    const KeyState& ks = it->second;
    const auto& in = inline_slot<K>(ks);
    if ((in.c.flags & kUsed) && in.index == index) return &in.c;
    if (spilled<K>(ks) == 0) return nullptr;
    auto o = overflow<K>().find(SlotId{key.cell, index, key.category});
    return o == overflow<K>().end() ? nullptr : &o->second;
  }

  /// The slot of `key` at `index`, created (and registered in its time
  /// bucket) if absent. The reference is valid until the next insertion.
  template <Kind K>
  CounterOf<K>& get(WindowKey key, int64_t index) {
    KeyState& ks = keys[key];
    auto& in = inline_slot<K>(ks);
    if ((in.c.flags & kUsed) && in.index == index) return in.c;
    if (spilled<K>(ks) != 0) {
      // The inline slot may have been freed while this index lives in overflow.
      auto o = overflow<K>().find(SlotId{key.cell, index, key.category});
      if (o != overflow<K>().end()) return o->second;
    }
    if (!(in.c.flags & kUsed)) {
      in.index = index;
      in.c = CounterOf<K>{};
      in.c.flags = kUsed;
      bucket(buckets(K), index).push_back(pack(key));
      return in.c;
    }
    auto [it, created] = overflow<K>().try_emplace(SlotId{key.cell, index, key.category});
    if (created) {
      ++spilled<K>(ks);
      bucket(buckets(K), index).push_back(pack(key));
    }
    return it->second;
  }

  template <Kind K>
  void erase(WindowKey key, int64_t index) {
    auto it = keys.find(key);
    if (it == keys.end()) return;
    KeyState& ks = it->second;
    auto& in = inline_slot<K>(ks);
    const SlotId id{key.cell, index, key.category};
    if ((in.c.flags & kUsed) && in.index == index) {
      if constexpr (K == Kind::kTumbling) drop_wide(id, in.c);
      in.c = CounterOf<K>{};
    } else if (spilled<K>(ks) != 0) {
      auto o = overflow<K>().find(id);
      if (o != overflow<K>().end()) {
        if constexpr (K == Kind::kTumbling) drop_wide(id, o->second);
        overflow<K>().erase(o);
        --spilled<K>(ks);
      }
    }
    if (ks.empty()) keys.erase(it);
  }

  // ---- tumbling features -------------------------------------------------
  /// Adds `e` to the features of window `id`, whose count already includes it.
  void add_event_features(const SlotId& id, TumblingCounter& c, const Event& e) {
    if (c.count <= kNarrowMax) [[likely]] {
      add_features(c, e);
      return;
    }
    TumblingFeatures& w = tumbling_wide[id];
    if (c.count == kNarrowMax + 1) w = widen(c);  // the first event past the narrow range
    add_features(w, e);
  }

  TumblingFeatures features(const SlotId& id, const TumblingCounter& c) const {
    if (c.count <= kNarrowMax) return widen(c);
    auto w = tumbling_wide.find(id);
    return w == tumbling_wide.end() ? TumblingFeatures{} : w->second;
  }

  /// Stores full-width features (from a checkpoint) where features() finds
  /// them; the caller has checked that they fit `c.count`.
  void set_features(const SlotId& id, TumblingCounter& c, const TumblingFeatures& f) {
    if (c.count <= kNarrowMax) {
      c.violent = static_cast<uint16_t>(f.violent);
      c.property = static_cast<uint16_t>(f.property);
      c.confident = static_cast<uint16_t>(f.confident);
      c.sources = f.sources;
      c.confidence = static_cast<uint32_t>(f.confidence);
      tumbling_wide.erase(id);
    } else {
      tumbling_wide[id] = f;
    }
  }

  void drop_wide(const SlotId& id, const TumblingCounter& c) {
    if (c.count > kNarrowMax) tumbling_wide.erase(id);
  }

  template <typename C>
  static void set_emitted(C& c) {
    c.flags = static_cast<uint8_t>((c.flags & kUsed) | kFired);
  }

  // ---- tumbling ----------------------------------------------------------
  void add_tumbling(WindowKey key, int64_t t, const Event& e) {
    const int64_t idx = floor_div(t, tumble_ms);
    TumblingCounter& c = get<Kind::kTumbling>(key, idx);
    ++c.count;
    add_event_features(SlotId{key.cell, idx, key.category}, c, e);
    if (idx < floor_div(wm, tumble_ms) && !(c.flags & kDirty)) {
      c.flags |= kDirty;
      tumbling_dirty.emplace_back(key, idx);
    }
  }

  void emit_tumbling(WindowKey key, int64_t idx, TumblingCounter& c, std::vector<WindowRecord>& out) {
    const uint32_t revision = (c.flags & kFired) ? ++c.revision : 0;
    set_emitted(c);
    WindowRecord& r =
        out.emplace_back(record(WindowKind::kTumbling, idx * tumble_ms, (idx + 1) * tumble_ms, key, c.count, revision));
    const TumblingFeatures f = features(SlotId{key.cell, idx, key.category}, c);
    r.violent = f.violent;
    r.property = f.property;
    r.confident = f.confident;
    r.sources = f.sources;
    r.confidence_sum = static_cast<double>(f.confidence) / kConfidenceOne;
  }

  void advance_tumbling(int64_t old_wm, std::vector<WindowRecord>& out) {
    for (const auto& [key, idx] : tumbling_dirty) emit_tumbling(key, idx, get<Kind::kTumbling>(key, idx), out);
    tumbling_dirty.clear();
    const int64_t old_bound = floor_div(old_wm, tumble_ms), bound = floor_div(wm, tumble_ms);
    for (auto b = tumbling_buckets.lower_bound(old_bound); b != tumbling_buckets.end() && b->first < bound; ++b) {
      for (const PackedKey& pk : b->second) {
        TumblingCounter& c = get<Kind::kTumbling>(pk.key(), b->first);
        if (!(c.flags & kFired)) emit_tumbling(pk.key(), b->first, c, out);
      }
    }
    while (!tumbling_buckets.empty() && (tumbling_buckets.begin()->first + 1) * tumble_ms + lateness_ms <= wm) {
      const int64_t idx = tumbling_buckets.begin()->first;
      for (const PackedKey& pk : tumbling_buckets.begin()->second) erase<Kind::kTumbling>(pk.key(), idx);
      retire(tumbling_buckets, tumbling_buckets.begin());
    }
  }

  // ---- sliding (panes) ---------------------------------------------------
  // A pane's count is the events in it; its revision and flags belong to the
  // window that starts at that pane.
  void add_sliding(WindowKey key, int64_t t) {
    const int64_t p = floor_div(t, slide_ms);
    ++get<Kind::kPane>(key, p).count;
    const int64_t fired_bound = floor_div(wm, slide_ms);  // window s emitted iff s + k <= bound
    for (int64_t s = p - panes_per_window + 1; s <= p && s + panes_per_window <= fired_bound; ++s) {
      Counter& w = get<Kind::kPane>(key, s);
      if (!(w.flags & kDirty)) {
        w.flags |= kDirty;
        sliding_dirty.emplace_back(key, s);
      }
    }
  }

  uint64_t sliding_sum(WindowKey key, int64_t s) const {
    uint64_t sum = 0;
    for (int64_t q = s; q < s + panes_per_window; ++q) {
      if (const Counter* c = find<Kind::kPane>(key, q)) sum += c->count;
    }
    return sum;
  }

  void emit_sliding(WindowKey key, int64_t s, uint64_t sum, std::vector<WindowRecord>& out) {
    Counter& w = get<Kind::kPane>(key, s);
    const uint32_t revision = (w.flags & kFired) ? ++w.revision : 0;
    set_emitted(w);
    out.push_back(record(WindowKind::kSliding, s * slide_ms, (s + panes_per_window) * slide_ms, key, sum, revision));
  }

  void advance_sliding(int64_t old_wm, std::vector<WindowRecord>& out) {
    for (const auto& [key, s] : sliding_dirty) emit_sliding(key, s, sliding_sum(key, s), out);
    sliding_dirty.clear();
    const int64_t k = panes_per_window;
    const int64_t old_bound = floor_div(old_wm, slide_ms), bound = floor_div(wm, slide_ms);
    // Window ends (in panes) newly passed that have at least one pane with events.
    std::vector<int64_t> ends;
    for (auto b = pane_buckets.lower_bound(old_bound - k + 1); b != pane_buckets.end() && b->first < bound; ++b) {
      for (int64_t e = std::max(b->first + 1, old_bound + 1); e <= std::min(b->first + k, bound); ++e) {
        ends.push_back(e);
      }
    }
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    std::vector<PackedKey> bucket_keys;
    for (const int64_t e : ends) {
      const int64_t s = e - k;
      for (int64_t q = s; q < e; ++q) {
        auto b = pane_buckets.find(q);
        if (b == pane_buckets.end()) continue;
        bucket_keys = b->second;  // copied: emitting may add slots (and bucket entries) at s
        for (const PackedKey& pk : bucket_keys) {
          const WindowKey key = pk.key();
          bool seen_earlier = false;  // the key's earliest pane in the window handles it
          for (int64_t r = s; r < q && !seen_earlier; ++r) seen_earlier = find<Kind::kPane>(key, r) != nullptr;
          if (seen_earlier) continue;
          const uint64_t sum = sliding_sum(key, s);
          if (sum != 0) emit_sliding(key, s, sum, out);
        }
      }
    }
    while (!pane_buckets.empty() && (pane_buckets.begin()->first + k) * slide_ms + lateness_ms <= wm) {
      const int64_t q = pane_buckets.begin()->first;
      for (const PackedKey& pk : pane_buckets.begin()->second) erase<Kind::kPane>(pk.key(), q);
      retire(pane_buckets, pane_buckets.begin());
    }
  }

  // ---- sessions ----------------------------------------------------------
  // A key's sessions are the inline one plus any spilled ones; the session
  // code works on them as one small list and stores them back.
  SessionList load_sessions(WindowKey key, const KeyState& ks) const {
    SessionList list;
    if (ks.session.flags & kUsed) list.push_back(ks.session);
    if (ks.sessions_spilled != 0) {
      const auto& more = session_overflow.at(key);
      list.insert(list.end(), more.begin(), more.end());
    }
    return list;
  }

  void store_sessions(WindowKey key, KeyState& ks, const SessionList& list) {
    ks.session = list.empty() ? Session{} : list.front();
    if (!list.empty()) ks.session.flags |= kUsed;
    if (list.size() > 1) {
      session_overflow[key].assign(list.begin() + 1, list.end());
    } else if (ks.sessions_spilled != 0) {
      session_overflow.erase(key);
    }
    ks.sessions_spilled = static_cast<uint8_t>(std::min<size_t>(list.size() > 1 ? list.size() - 1 : 0, 255));
  }

  int64_t next_timer(const SessionList& list) const {
    int64_t t = INT64_MAX;
    for (const Session& s : list) {
      t = std::min(t, (s.flags & kFired) ? s.last + gap_ms + lateness_ms : s.last + gap_ms);
    }
    return t;
  }

  void schedule(WindowKey key, KeyState& ks, const SessionList& list) {
    const int64_t t = next_timer(list);
    if (t == INT64_MAX) return;
    const int32_t bucket = minute_bucket(t);
    if (bucket < ks.timer_minute) {
      ks.timer_minute = bucket;
      this->bucket(session_timers, bucket).push_back(pack(key));
    }
  }

  void mark_session_dirty(WindowKey key, KeyState& ks, Session& s) {
    s.flags |= kDirty;
    if (!ks.in_dirty_list) {
      ks.in_dirty_list = true;
      session_dirty.push_back(key);
    }
  }

  void add_session(WindowKey key, int64_t t) {
    KeyState& ks = keys[key];
    SessionList list = load_sessions(key, ks);
    size_t first_match = list.size();
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].start - gap_ms < t && t < list[i].last + gap_ms) {
        first_match = i;
        break;
      }
    }
    if (first_match == list.size()) {
      list.push_back(Session{t, t, 1, 0, kUsed});
      if (t + gap_ms <= wm) mark_session_dirty(key, ks, list.back());  // already past its close
      store_sessions(key, ks, list);
      schedule(key, ks, list);
      return;
    }
    Session& s = list[first_match];
    s.start = std::min(s.start, t);
    s.last = std::max(s.last, t);
    ++s.count;
    // The extended session may now reach others: merge every overlapping one into it.
    for (size_t j = 0; j < list.size();) {
      Session& o = list[j];
      if (j == first_match ||
          !(o.start - gap_ms < list[first_match].last && list[first_match].start < o.last + gap_ms)) {
        ++j;
        continue;
      }
      Session& m = list[first_match];
      if (o.flags & kFired) {
        WindowRecord r = record(WindowKind::kSession, o.start, o.last + gap_ms, key, 0, o.revision + 1u);
        r.retracted = true;
        retractions.push_back(r);
      }
      m.start = std::min(m.start, o.start);
      m.last = std::max(m.last, o.last);
      m.count += o.count;
      m.revision = std::max(m.revision, o.revision);
      m.flags |= (o.flags & kFired);
      list.erase(list.begin() + static_cast<ptrdiff_t>(j));
      if (j < first_match) --first_match;
    }
    Session& m = list[first_match];
    if ((m.flags & kFired) || m.last + gap_ms <= wm) mark_session_dirty(key, ks, m);
    store_sessions(key, ks, list);
    schedule(key, ks, list);
  }

  void emit_session(WindowKey key, Session& s, std::vector<WindowRecord>& out) {
    const uint32_t revision = (s.flags & kFired) ? ++s.revision : 0;
    s.flags = kUsed | kFired;
    out.push_back(record(WindowKind::kSession, s.start, s.last + gap_ms, key, s.count, revision));
  }

  void advance_sessions(std::vector<WindowRecord>& out) {
    out.insert(out.end(), retractions.begin(), retractions.end());
    retractions.clear();
    for (const WindowKey& key : session_dirty) {
      auto it = keys.find(key);
      if (it == keys.end()) continue;
      KeyState& ks = it->second;
      ks.in_dirty_list = false;
      SessionList list = load_sessions(key, ks);
      for (Session& s : list) {
        if (s.flags & kDirty) emit_session(key, s, out);
      }
      store_sessions(key, ks, list);
      schedule(key, ks, list);
    }
    session_dirty.clear();
    const int64_t frontier = floor_div(wm, kTimerBucketMs);
    std::vector<PackedKey> deferred;
    while (!session_timers.empty() && session_timers.begin()->first <= frontier) {
      const int64_t bucket = session_timers.begin()->first;
      Buckets::node_type node = session_timers.extract(session_timers.begin());
      std::vector<PackedKey>& bucket_keys = node.mapped();
      std::sort(bucket_keys.begin(), bucket_keys.end(), [](const PackedKey& a, const PackedKey& b) {
        return a.cell != b.cell ? a.cell < b.cell : a.category < b.category;
      });
      bucket_keys.erase(std::unique(bucket_keys.begin(), bucket_keys.end(),
                                    [](const PackedKey& a, const PackedKey& b) {
                                      return a.cell == b.cell && a.category == b.category;
                                    }),
                        bucket_keys.end());
      for (const PackedKey& pk : bucket_keys) {
        const WindowKey key = pk.key();
        auto it = keys.find(key);
        if (it == keys.end() || it->second.timer_minute != bucket) continue;  // stale entry
        KeyState& ks = it->second;
        ks.timer_minute = INT32_MAX;
        SessionList list = load_sessions(key, ks);
        for (size_t i = 0; i < list.size();) {
          Session& s = list[i];
          if ((s.flags & kFired) && s.last + gap_ms + lateness_ms <= wm) {
            list.erase(list.begin() + static_cast<ptrdiff_t>(i));
            continue;
          }
          if (!(s.flags & kFired) && s.last + gap_ms <= wm) emit_session(key, s, out);
          ++i;
        }
        store_sessions(key, ks, list);
        if (list.empty()) {
          if (ks.empty()) keys.erase(it);
          continue;
        }
        const int32_t next = minute_bucket(next_timer(list));
        if (next <= frontier) {
          ks.timer_minute = static_cast<int32_t>(std::clamp<int64_t>(frontier, INT32_MIN + 1, INT32_MAX - 1));
          deferred.push_back(pk);  // due within the current minute: retried at the next watermark
        } else {
          schedule(key, ks, list);
        }
      }
      recycle(std::move(node));
    }
    if (!deferred.empty()) {
      auto& bucket = session_timers[std::clamp<int64_t>(frontier, INT32_MIN + 1, INT32_MAX - 1)];
      bucket.insert(bucket.end(), deferred.begin(), deferred.end());
    }
  }

  // ---- global ------------------------------------------------------------
  void purge_global() {
    const int64_t oldest = floor_div(wm - global_ms, kHourMs);
    if (oldest <= global_purged_hour) return;
    global_purged_hour = oldest;
    absl::erase_if(global, [&](const auto& kv) { return kv.first.hour < oldest; });
  }

  // ---- checkpoint: tumbling windows and panes ----------------------------
  // A slot: cell u64, category u32, index i64, count u32, revision u16,
  // fired u8; a tumbling window adds violent, property, confident and sources
  // (u32 each) and its confidence sum (u64, units of 2^-16).
  static constexpr size_t kSlotBytes = 8 + 4 + 8 + 4 + 2 + 1;
  static constexpr size_t kFeatureBytes = 4 * 4 + 8;

  template <Kind K>
  void save_slots(ByteWriter& out) const {
    auto put = [&](WindowKey key, int64_t index, const CounterOf<K>& c) {
      out.u64(key.cell);
      out.u32(key.category);
      out.i64(index);
      out.u32(c.count);
      out.u16(c.revision);
      out.u8(c.flags & kFired);
      if constexpr (K == Kind::kTumbling) {
        const TumblingFeatures f = features(SlotId{key.cell, index, key.category}, c);
        out.u32(f.violent);
        out.u32(f.property);
        out.u32(f.confident);
        out.u32(f.sources);
        out.u64(f.confidence);
      }
    };
    uint64_t n = overflow<K>().size();
    for (const auto& [key, ks] : keys) n += (inline_slot<K>(ks).c.flags & kUsed) ? 1 : 0;
    out.u64(n);
    for (const auto& [key, ks] : keys) {
      const auto& in = inline_slot<K>(ks);
      if (in.c.flags & kUsed) put(key, in.index, in.c);
    }
    for (const auto& [id, c] : overflow<K>()) put(WindowKey{id.cell, id.category}, id.index, c);
  }

  /// Times in a checkpoint lie in [kMinEventTime, kMaxEventTime], as every
  /// time add() and advance() see: the margin to int64 keeps the window
  /// arithmetic (end + lateness, pane + panes_per_window) from overflowing.
  static bool valid_time(int64_t ms) { return ms >= to_ms(kMinEventTime) && ms <= to_ms(kMaxEventTime); }
  static bool valid_index(int64_t index, int64_t size) {
    return index >= floor_div(to_ms(kMinEventTime), size) && index < floor_div(to_ms(kMaxEventTime), size);
  }

  template <Kind K>
  void load_slots(ByteReader& in, const std::function<bool(uint64_t cell)>& keep) {
    const uint64_t n = in.count(K == Kind::kTumbling ? kSlotBytes + kFeatureBytes : kSlotBytes);
    for (uint64_t i = 0; i < n && !in.fail(); ++i) {
      WindowKey key;
      key.cell = in.u64();
      key.category = in.u32();
      const int64_t index = in.i64();
      if (!valid_index(index, K == Kind::kTumbling ? tumble_ms : slide_ms)) in.set_fail();
      const uint32_t count = in.u32();
      const uint16_t revision = in.u16();
      const uint8_t flags = static_cast<uint8_t>(kUsed | (in.u8() & kFired));
      TumblingFeatures f;
      if constexpr (K == Kind::kTumbling) {
        f.violent = in.u32();
        f.property = in.u32();
        f.confident = in.u32();
        f.sources = in.u32();
        f.confidence = in.u64();
        // Features describe at most `count` events: anything else is corrupt
        // (and could not be stored narrow).
        if (uint64_t{f.violent} + f.property > count || f.confident > count ||
            f.confidence > uint64_t{f.confident} * kConfidenceOne) {
          in.set_fail();
        }
      }
      if (in.fail() || !keep(key.cell)) continue;
      CounterOf<K>& c = get<K>(key, index);
      c.count = count;
      c.revision = revision;
      c.flags = flags;
      if constexpr (K == Kind::kTumbling) set_features(SlotId{key.cell, index, key.category}, c, f);
    }
  }
};

WindowOperator::WindowOperator(const WindowsConfig& config)
    : state_(std::make_unique<State>(config)) {}
WindowOperator::~WindowOperator() = default;
WindowOperator::WindowOperator(WindowOperator&&) noexcept = default;
WindowOperator& WindowOperator::operator=(WindowOperator&&) noexcept = default;

void WindowOperator::add(std::span<const Event> events) {
  State& s = *state_;
  for (const Event& e : events) {
    const int64_t t = to_ms(e.time);
    ++s.global[GlobalId{floor_div(t, kHourMs), e.type, e.enrich.district}];
    if (e.enrich.fine_cell == 0) continue;
    const WindowKey key{e.enrich.fine_cell, e.type};
    if (s.tumbling_on) s.add_tumbling(key, t, e);
    if (s.sliding_on) s.add_sliding(key, t);
    if (s.session_on) s.add_session(key, t);
  }
}

void WindowOperator::advance(EventTime watermark, std::vector<WindowRecord>& out) {
  State& s = *state_;
  const int64_t w = to_ms(watermark);
  if (w <= s.wm) return;
  const int64_t old = s.wm;
  s.wm = w;
  s.advance_tumbling(old, out);
  s.advance_sliding(old, out);
  s.advance_sessions(out);
  // The final flush (kMaxEventTime) keeps the roll-ups: a summary may still be asked for.
  if (watermark != kMaxEventTime) {
    s.last_finite_wm = w;
    s.purge_global();
  }
}

void WindowOperator::global_summary(EventTime reference, std::vector<WindowRecord>& out) const {
  const State& s = *state_;
  if (reference == kMinEventTime || reference == kMaxEventTime) return;
  const int64_t end_hour = floor_div(to_ms(reference), kHourMs) + 1;  // the reference's hour counts
  const int64_t start_hour = end_hour - s.global_ms / kHourMs;
  absl::flat_hash_map<std::pair<uint32_t, int32_t>, uint64_t> sums;
  for (const auto& [id, count] : s.global) {
    if (id.hour >= start_hour && id.hour < end_hour) sums[{id.category, id.district}] += count;
  }
  for (const auto& [k, count] : sums) {
    WindowRecord r = State::record(WindowKind::kGlobal, start_hour * kHourMs, end_hour * kHourMs,
                                   WindowKey{0, k.first}, count, 0);
    r.district = k.second;
    out.push_back(r);
  }
}

EventTime WindowOperator::watermark() const { return event_time_from_ms(state_->wm); }

WindowOperator::Stats WindowOperator::stats() const {
  const State& s = *state_;
  Stats st;
  for (const auto& [key, ks] : s.keys) {
    st.tumbling_windows += (ks.tumbling.c.flags & kUsed) ? 1 : 0;
    st.sliding_panes += (ks.pane.c.flags & kUsed) ? 1 : 0;
    st.session_keys += (ks.session.flags & kUsed) ? 1 : 0;
  }
  st.tumbling_windows += s.tumbling_overflow.size();
  st.sliding_panes += s.pane_overflow.size();
  st.global_cells = s.global.size();
  auto map_bytes = [](const auto& m, size_t slot) { return m.capacity() * (slot + 1); };
  auto bucket_bytes = [](const auto& buckets) {
    size_t n = 0;
    for (const auto& [k, v] : buckets) n += 64 + v.capacity() * sizeof(PackedKey);
    return n;
  };
  st.state_bytes = map_bytes(s.keys, sizeof(std::pair<WindowKey, KeyState>)) +
                   map_bytes(s.tumbling_overflow, sizeof(std::pair<SlotId, TumblingCounter>)) +
                   map_bytes(s.tumbling_wide, sizeof(std::pair<SlotId, TumblingFeatures>)) +
                   map_bytes(s.pane_overflow, sizeof(std::pair<SlotId, Counter>)) +
                   map_bytes(s.session_overflow, sizeof(std::pair<WindowKey, std::vector<Session>>)) +
                   map_bytes(s.global, sizeof(std::pair<GlobalId, uint64_t>)) + bucket_bytes(s.tumbling_buckets) +
                   bucket_bytes(s.pane_buckets) + bucket_bytes(s.session_timers);
  for (const auto& [k, v] : s.session_overflow) st.state_bytes += v.capacity() * sizeof(Session);
  for (const auto& node : s.spare_buckets) st.state_bytes += 64 + node.mapped().capacity() * sizeof(PackedKey);
  return st;
}

namespace {
// 2: tumbling windows carry their features. Version 1 is rejected (load()
// returns false): its windows have no features to restore.
constexpr uint32_t kWindowStateVersion = 2;
}  // namespace

void WindowOperator::save(ByteWriter& out) const {
  const State& s = *state_;
  out.u32(kWindowStateVersion);
  out.i64(s.wm);
  s.save_slots<Kind::kTumbling>(out);
  s.save_slots<Kind::kPane>(out);
  uint64_t nkeys = 0;
  for (const auto& [key, ks] : s.keys) nkeys += (ks.session.flags & kUsed) ? 1 : 0;
  out.u64(nkeys);
  for (const auto& [key, ks] : s.keys) {
    if (!(ks.session.flags & kUsed)) continue;
    const SessionList list = s.load_sessions(key, ks);
    out.u64(key.cell);
    out.u32(key.category);
    out.u64(list.size());
    for (const Session& x : list) {
      out.i64(x.start);
      out.i64(x.last);
      out.u32(x.count);
      out.u16(x.revision);
      out.u8(x.flags & kFired);
    }
  }
  out.u64(s.global.size());
  for (const auto& [id, count] : s.global) {
    out.i64(id.hour);
    out.u32(id.category);
    out.u32(static_cast<uint32_t>(id.district));
    out.u64(count);
  }
  out.i64(s.global_purged_hour);
  out.i64(s.last_finite_wm);
}

bool WindowOperator::load(ByteReader& in, const std::function<bool(uint64_t cell)>& keep) {
  State& s = *state_;
  if (in.u32() != kWindowStateVersion) return false;
  const int64_t wm = in.i64();
  if (!State::valid_time(wm)) return false;
  s.wm = std::max(s.wm, wm);
  s.load_slots<Kind::kTumbling>(in, keep);
  s.load_slots<Kind::kPane>(in, keep);
  const uint64_t nkeys = in.count(8 + 4 + 8);
  for (uint64_t i = 0; i < nkeys && !in.fail(); ++i) {
    WindowKey key;
    key.cell = in.u64();
    key.category = in.u32();
    const uint64_t n = in.count(8 + 8 + 4 + 2 + 1);
    SessionList list;
    for (uint64_t j = 0; j < n && !in.fail(); ++j) {
      Session x;
      x.start = in.i64();
      x.last = in.i64();
      x.count = in.u32();
      x.revision = in.u16();
      x.flags = static_cast<uint8_t>(kUsed | (in.u8() & kFired));
      if (!State::valid_time(x.start) || !State::valid_time(x.last) || x.start > x.last) in.set_fail();
      list.push_back(x);
    }
    if (in.fail() || !keep(key.cell) || list.empty()) continue;
    KeyState& ks = s.keys[key];
    s.store_sessions(key, ks, list);
    s.schedule(key, ks, list);
  }
  const uint64_t nglobal = in.count(8 + 4 + 4 + 8);
  for (uint64_t i = 0; i < nglobal && !in.fail(); ++i) {
    GlobalId id;
    id.hour = in.i64();
    id.category = in.u32();
    id.district = static_cast<int32_t>(in.u32());
    const uint64_t count = in.u64();
    if (keep(0)) s.global[id] += count;
  }
  s.global_purged_hour = std::max(s.global_purged_hour, in.i64());
  const int64_t last_finite_wm = in.i64();
  if (!State::valid_time(last_finite_wm)) return false;
  s.last_finite_wm = std::max(s.last_finite_wm, last_finite_wm);
  return !in.fail() && in.done();
}

}  // namespace sentinel
