#include "stream/window_operator.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <map>

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

/// One tumbling window, or one pane of the sliding windows, of one key.
struct SlotId {
  uint64_t cell;
  int64_t index;  // window (tumbling) or pane (sliding) number since the epoch
  uint32_t category;
  bool operator==(const SlotId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const SlotId& s) {
    return H::combine(std::move(h), s.cell, s.index, s.category);
  }
  WindowKey key() const { return {cell, category}; }
};

constexpr uint8_t kFired = 1;  // the window starting at this slot was emitted
constexpr uint8_t kDirty = 2;  // it changed since; a revision is due at the next watermark

/// For sliding panes, count is the pane's events while revision/flags belong
/// to the window that starts at this pane.
struct Slot {
  uint32_t count = 0;
  uint16_t revision = 0;
  uint8_t flags = 0;
};

struct Session {
  int64_t start, last;
  uint32_t count;
  uint16_t revision;
  uint8_t flags;
};

struct SessionKeyState {
  absl::InlinedVector<Session, 1> sessions;
  int64_t timer_bucket = INT64_MAX;  // the bucket this key is registered in
  bool in_dirty_list = false;
};

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

}  // namespace

struct WindowOperator::State {
  int64_t tumble_ms, slide_ms, panes_per_window, gap_ms, lateness_ms, global_ms;
  bool tumbling_on, sliding_on, session_on;
  int64_t wm = to_ms(kMinEventTime);
  int64_t last_finite_wm = to_ms(kMinEventTime);  // the global summary's reference point

  absl::flat_hash_map<SlotId, Slot> tumbling, panes;
  std::map<int64_t, std::vector<WindowKey>> tumbling_buckets, pane_buckets;
  std::vector<SlotId> tumbling_dirty, sliding_dirty;

  absl::flat_hash_map<WindowKey, SessionKeyState> sessions;
  std::map<int64_t, std::vector<WindowKey>> session_timers;
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

  // ---- tumbling ----------------------------------------------------------
  void add_tumbling(WindowKey key, int64_t t) {
    const int64_t idx = floor_div(t, tumble_ms);
    const SlotId id{key.cell, idx, key.category};
    auto [it, created] = tumbling.try_emplace(id);
    if (created) tumbling_buckets[idx].push_back(key);
    ++it->second.count;
    if (idx < floor_div(wm, tumble_ms) && !(it->second.flags & kDirty)) {
      it->second.flags |= kDirty;
      tumbling_dirty.push_back(id);
    }
  }

  void emit_tumbling(const SlotId& id, Slot& slot, std::vector<WindowRecord>& out) {
    const uint32_t revision = (slot.flags & kFired) ? ++slot.revision : 0;
    slot.flags = kFired;
    out.push_back(record(WindowKind::kTumbling, id.index * tumble_ms, (id.index + 1) * tumble_ms,
                         id.key(), slot.count, revision));
  }

  void advance_tumbling(int64_t old_wm, std::vector<WindowRecord>& out) {
    for (const SlotId& id : tumbling_dirty) emit_tumbling(id, tumbling.at(id), out);
    tumbling_dirty.clear();
    const int64_t old_bound = floor_div(old_wm, tumble_ms), bound = floor_div(wm, tumble_ms);
    for (auto b = tumbling_buckets.lower_bound(old_bound);
         b != tumbling_buckets.end() && b->first < bound; ++b) {
      for (const WindowKey& key : b->second) {
        const SlotId id{key.cell, b->first, key.category};
        Slot& slot = tumbling.at(id);
        if (!(slot.flags & kFired)) emit_tumbling(id, slot, out);
      }
    }
    while (!tumbling_buckets.empty() &&
           (tumbling_buckets.begin()->first + 1) * tumble_ms + lateness_ms <= wm) {
      const int64_t idx = tumbling_buckets.begin()->first;
      for (const WindowKey& key : tumbling_buckets.begin()->second) {
        tumbling.erase(SlotId{key.cell, idx, key.category});
      }
      tumbling_buckets.erase(tumbling_buckets.begin());
    }
  }

  // ---- sliding (panes) ---------------------------------------------------
  Slot& pane(WindowKey key, int64_t p) {
    auto [it, created] = panes.try_emplace(SlotId{key.cell, p, key.category});
    if (created) pane_buckets[p].push_back(key);
    return it->second;
  }

  void add_sliding(WindowKey key, int64_t t) {
    const int64_t p = floor_div(t, slide_ms);
    ++pane(key, p).count;
    const int64_t fired_bound = floor_div(wm, slide_ms);  // window s emitted iff s + k <= bound
    for (int64_t s = p - panes_per_window + 1; s <= p && s + panes_per_window <= fired_bound; ++s) {
      Slot& w = pane(key, s);
      if (!(w.flags & kDirty)) {
        w.flags |= kDirty;
        sliding_dirty.push_back(SlotId{key.cell, s, key.category});
      }
    }
  }

  uint64_t sliding_sum(WindowKey key, int64_t s) const {
    uint64_t sum = 0;
    for (int64_t q = s; q < s + panes_per_window; ++q) {
      if (auto it = panes.find(SlotId{key.cell, q, key.category}); it != panes.end()) {
        sum += it->second.count;
      }
    }
    return sum;
  }

  void emit_sliding(WindowKey key, int64_t s, uint64_t sum, std::vector<WindowRecord>& out) {
    Slot& w = pane(key, s);
    const uint32_t revision = (w.flags & kFired) ? ++w.revision : 0;
    w.flags = kFired;
    out.push_back(record(WindowKind::kSliding, s * slide_ms, (s + panes_per_window) * slide_ms, key,
                         sum, revision));
  }

  void advance_sliding(int64_t old_wm, std::vector<WindowRecord>& out) {
    for (const SlotId& id : sliding_dirty) {
      emit_sliding(id.key(), id.index, sliding_sum(id.key(), id.index), out);
    }
    sliding_dirty.clear();
    const int64_t k = panes_per_window;
    const int64_t old_bound = floor_div(old_wm, slide_ms), bound = floor_div(wm, slide_ms);
    // Window ends (in panes) newly passed that have at least one pane with events.
    std::vector<int64_t> ends;
    for (auto b = pane_buckets.lower_bound(old_bound - k + 1);
         b != pane_buckets.end() && b->first < bound; ++b) {
      for (int64_t e = std::max(b->first + 1, old_bound + 1); e <= std::min(b->first + k, bound); ++e) {
        ends.push_back(e);
      }
    }
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    std::vector<WindowKey> keys;
    for (const int64_t e : ends) {
      const int64_t s = e - k;
      for (int64_t q = s; q < e; ++q) {
        auto b = pane_buckets.find(q);
        if (b == pane_buckets.end()) continue;
        keys = b->second;  // copied: emitting may add window slots (and bucket entries) at s
        for (const WindowKey& key : keys) {
          bool seen_earlier = false;  // the key's earliest pane in the window handles it
          for (int64_t r = s; r < q && !seen_earlier; ++r) {
            seen_earlier = panes.contains(SlotId{key.cell, r, key.category});
          }
          if (seen_earlier) continue;
          const uint64_t sum = sliding_sum(key, s);
          if (sum != 0) emit_sliding(key, s, sum, out);
        }
      }
    }
    while (!pane_buckets.empty() &&
           (pane_buckets.begin()->first + k) * slide_ms + lateness_ms <= wm) {
      const int64_t q = pane_buckets.begin()->first;
      for (const WindowKey& key : pane_buckets.begin()->second) {
        panes.erase(SlotId{key.cell, q, key.category});
      }
      pane_buckets.erase(pane_buckets.begin());
    }
  }

  // ---- sessions ----------------------------------------------------------
  int64_t next_timer(const SessionKeyState& st) const {
    int64_t t = INT64_MAX;
    for (const Session& s : st.sessions) {
      t = std::min(t, (s.flags & kFired) ? s.last + gap_ms + lateness_ms : s.last + gap_ms);
    }
    return t;
  }

  void schedule(WindowKey key, SessionKeyState& st) {
    const int64_t t = next_timer(st);
    if (t == INT64_MAX) return;
    const int64_t bucket = floor_div(t, kTimerBucketMs);
    if (bucket < st.timer_bucket) {
      st.timer_bucket = bucket;
      session_timers[bucket].push_back(key);
    }
  }

  void mark_session_dirty(WindowKey key, SessionKeyState& st, Session& s) {
    s.flags |= kDirty;
    if (!st.in_dirty_list) {
      st.in_dirty_list = true;
      session_dirty.push_back(key);
    }
  }

  void add_session(WindowKey key, int64_t t) {
    SessionKeyState& st = sessions[key];
    auto& list = st.sessions;
    size_t first_match = list.size();
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].start - gap_ms < t && t < list[i].last + gap_ms) {
        first_match = i;
        break;
      }
    }
    if (first_match == list.size()) {
      list.push_back(Session{t, t, 1, 0, 0});
      if (t + gap_ms <= wm) mark_session_dirty(key, st, list.back());  // already past its close
      schedule(key, st);
      return;
    }
    Session& s = list[first_match];
    s.start = std::min(s.start, t);
    s.last = std::max(s.last, t);
    ++s.count;
    // The extended session may now reach others: merge every overlapping one into it.
    for (size_t j = 0; j < list.size();) {
      Session& o = list[j];
      if (j == first_match || !(o.start - gap_ms < list[first_match].last &&
                                list[first_match].start < o.last + gap_ms)) {
        ++j;
        continue;
      }
      Session& m = list[first_match];
      if (o.flags & kFired) {
        WindowRecord r = record(WindowKind::kSession, o.start, o.last + gap_ms, key, 0,
                                o.revision + 1u);
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
    if ((m.flags & kFired) || m.last + gap_ms <= wm) mark_session_dirty(key, st, m);
    schedule(key, st);
  }

  void emit_session(WindowKey key, Session& s, std::vector<WindowRecord>& out) {
    const uint32_t revision = (s.flags & kFired) ? ++s.revision : 0;
    s.flags = kFired;
    out.push_back(record(WindowKind::kSession, s.start, s.last + gap_ms, key, s.count, revision));
  }

  void advance_sessions(std::vector<WindowRecord>& out) {
    out.insert(out.end(), retractions.begin(), retractions.end());
    retractions.clear();
    for (const WindowKey& key : session_dirty) {
      auto it = sessions.find(key);
      if (it == sessions.end()) continue;
      it->second.in_dirty_list = false;
      for (Session& s : it->second.sessions) {
        if (s.flags & kDirty) emit_session(key, s, out);
      }
      schedule(key, it->second);
    }
    session_dirty.clear();
    const int64_t frontier = floor_div(wm, kTimerBucketMs);
    std::vector<WindowKey> deferred;
    while (!session_timers.empty() && session_timers.begin()->first <= frontier) {
      const int64_t bucket = session_timers.begin()->first;
      std::vector<WindowKey> keys = std::move(session_timers.begin()->second);
      session_timers.erase(session_timers.begin());
      std::sort(keys.begin(), keys.end(), [](const WindowKey& a, const WindowKey& b) {
        return a.cell != b.cell ? a.cell < b.cell : a.category < b.category;
      });
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      for (const WindowKey& key : keys) {
        auto it = sessions.find(key);
        if (it == sessions.end() || it->second.timer_bucket != bucket) continue;  // stale entry
        SessionKeyState& st = it->second;
        st.timer_bucket = INT64_MAX;
        auto& list = st.sessions;
        for (size_t i = 0; i < list.size();) {
          Session& s = list[i];
          if ((s.flags & kFired) && s.last + gap_ms + lateness_ms <= wm) {
            list.erase(list.begin() + static_cast<ptrdiff_t>(i));
            continue;
          }
          if (!(s.flags & kFired) && s.last + gap_ms <= wm) emit_session(key, s, out);
          ++i;
        }
        if (list.empty()) {
          sessions.erase(it);
          continue;
        }
        const int64_t next = floor_div(next_timer(st), kTimerBucketMs);
        if (next <= frontier) {
          st.timer_bucket = next;  // due within the current minute: retried at the next watermark
          deferred.push_back(key);
        } else {
          schedule(key, st);
        }
      }
    }
    if (!deferred.empty()) {
      auto& bucket = session_timers[frontier];
      bucket.insert(bucket.end(), deferred.begin(), deferred.end());
      for (const WindowKey& key : deferred) sessions[key].timer_bucket = frontier;
    }
  }

  // ---- global ------------------------------------------------------------
  void purge_global() {
    const int64_t oldest = floor_div(wm - global_ms, kHourMs);
    if (oldest <= global_purged_hour) return;
    global_purged_hour = oldest;
    absl::erase_if(global, [&](const auto& kv) { return kv.first.hour < oldest; });
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
    if (s.tumbling_on) s.add_tumbling(key, t);
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
  st.tumbling_windows = s.tumbling.size();
  st.sliding_panes = s.panes.size();
  st.session_keys = s.sessions.size();
  st.global_cells = s.global.size();
  auto map_bytes = [](const auto& m, size_t slot) { return m.capacity() * (slot + 1); };
  auto bucket_bytes = [](const auto& buckets) {
    size_t n = 0;
    for (const auto& [k, v] : buckets) n += 64 + v.capacity() * sizeof(WindowKey);
    return n;
  };
  st.state_bytes = map_bytes(s.tumbling, sizeof(std::pair<SlotId, Slot>)) +
                   map_bytes(s.panes, sizeof(std::pair<SlotId, Slot>)) +
                   map_bytes(s.sessions, sizeof(std::pair<WindowKey, SessionKeyState>)) +
                   map_bytes(s.global, sizeof(std::pair<GlobalId, uint64_t>)) +
                   bucket_bytes(s.tumbling_buckets) + bucket_bytes(s.pane_buckets) +
                   bucket_bytes(s.session_timers);
  for (const auto& [k, v] : s.sessions) {
    if (v.sessions.size() > 1) st.state_bytes += v.sessions.capacity() * sizeof(Session);
  }
  return st;
}

namespace {
constexpr uint32_t kWindowStateVersion = 1;
constexpr size_t kSlotBytes = 8 + 4 + 8 + 4 + 2 + 1;
}  // namespace

void WindowOperator::save(ByteWriter& out) const {
  const State& s = *state_;
  out.u32(kWindowStateVersion);
  out.i64(s.wm);
  for (const auto* map : {&s.tumbling, &s.panes}) {
    out.u64(map->size());
    for (const auto& [id, slot] : *map) {
      out.u64(id.cell);
      out.u32(id.category);
      out.i64(id.index);
      out.u32(slot.count);
      out.u16(slot.revision);
      out.u8(slot.flags);
    }
  }
  out.u64(s.sessions.size());
  for (const auto& [key, st] : s.sessions) {
    out.u64(key.cell);
    out.u32(key.category);
    out.u64(st.sessions.size());
    for (const Session& x : st.sessions) {
      out.i64(x.start);
      out.i64(x.last);
      out.u32(x.count);
      out.u16(x.revision);
      out.u8(x.flags);
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
  s.wm = std::max(s.wm, in.i64());
  for (int which = 0; which < 2; ++which) {
    auto& map = which == 0 ? s.tumbling : s.panes;
    auto& buckets = which == 0 ? s.tumbling_buckets : s.pane_buckets;
    const uint64_t n = in.count(kSlotBytes);
    for (uint64_t i = 0; i < n && !in.fail(); ++i) {
      SlotId id;
      id.cell = in.u64();
      id.category = in.u32();
      id.index = in.i64();
      Slot slot;
      slot.count = in.u32();
      slot.revision = in.u16();
      slot.flags = in.u8() & kFired;
      if (!keep(id.cell)) continue;
      if (map.emplace(id, slot).second) buckets[id.index].push_back(id.key());
    }
  }
  const uint64_t nkeys = in.count(8 + 4 + 8);
  for (uint64_t i = 0; i < nkeys && !in.fail(); ++i) {
    WindowKey key;
    key.cell = in.u64();
    key.category = in.u32();
    const uint64_t n = in.count(8 + 8 + 4 + 2 + 1);
    SessionKeyState st;
    for (uint64_t j = 0; j < n && !in.fail(); ++j) {
      Session x;
      x.start = in.i64();
      x.last = in.i64();
      x.count = in.u32();
      x.revision = in.u16();
      x.flags = in.u8() & kFired;
      st.sessions.push_back(x);
    }
    if (!keep(key.cell) || st.sessions.empty()) continue;
    auto [it, created] = s.sessions.emplace(key, std::move(st));
    if (created) s.schedule(key, it->second);
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
  s.last_finite_wm = std::max(s.last_finite_wm, in.i64());
  return !in.fail() && in.done();
}

}  // namespace sentinel
