#include "stream/watermark.h"

#include <algorithm>

#include "stream/bytes.h"

namespace sentinel {

WatermarkTracker::WatermarkTracker(Millis max_out_of_orderness, Millis allowed_lateness,
                                   Millis idle_timeout)
    : ooo_(max_out_of_orderness), lateness_(allowed_lateness), idle_(idle_timeout) {}

size_t WatermarkTracker::add_source(std::string name) {
  sources_.push_back(Source{std::move(name), to_ms(kMinEventTime), false, false, ProcTime{}});
  return sources_.size() - 1;
}

int64_t WatermarkTracker::watermark_of(const Source& s) const {
  return s.seen ? s.max_time_ms - ooo_.count() : to_ms(kMinEventTime);
}

bool WatermarkTracker::is_late(size_t source, EventTime t) const {
  const Source& s = sources_[source];
  return s.seen && to_ms(t) < watermark_of(s) - lateness_.count();
}

void WatermarkTracker::observe(size_t source, EventTime t, ProcTime now) {
  Source& s = sources_[source];
  s.max_time_ms = s.seen ? std::max(s.max_time_ms, to_ms(t)) : to_ms(t);
  s.seen = true;
  s.last_event = now;
}

void WatermarkTracker::finish(size_t source) { sources_[source].finished = true; }

EventTime WatermarkTracker::source_watermark(size_t source) const {
  return event_time_from_ms(watermark_of(sources_[source]));
}

bool WatermarkTracker::all_finished() const {
  return std::all_of(sources_.begin(), sources_.end(), [](const Source& s) { return s.finished; });
}

EventTime WatermarkTracker::combined() const {
  int64_t wm = to_ms(kMaxEventTime);
  for (const Source& s : sources_) {
    if (!s.finished) wm = std::min(wm, watermark_of(s));
  }
  return event_time_from_ms(wm);
}

EventTime WatermarkTracker::combined(ProcTime now) const {
  int64_t active = to_ms(kMaxEventTime), idle_max = to_ms(kMinEventTime);
  bool any_active = false, any_idle = false;
  for (const Source& s : sources_) {
    // A live source that has sent nothing yet (an HTTP input nobody posted
    // to) holds nothing back: it is idle from the start.
    if (s.finished || !s.seen) continue;
    if (now - s.last_event >= idle_) {
      any_idle = true;
      idle_max = std::max(idle_max, watermark_of(s));
    } else {
      any_active = true;
      active = std::min(active, watermark_of(s));
    }
  }
  if (any_active) return event_time_from_ms(active);
  if (any_idle) return event_time_from_ms(idle_max);
  // Nothing seen yet: no window may close; once every source finished: all may.
  const bool all_finished = std::all_of(sources_.begin(), sources_.end(), [](const Source& s) { return s.finished; });
  return all_finished ? kMaxEventTime : kMinEventTime;
}

EventTime WatermarkTracker::max_event_time() const {
  int64_t t = to_ms(kMinEventTime);
  for (const Source& s : sources_) {
    if (s.seen) t = std::max(t, s.max_time_ms);
  }
  return event_time_from_ms(t);
}

void WatermarkTracker::save(ByteWriter& out) const {
  out.u64(sources_.size());
  for (const Source& s : sources_) {
    out.str(s.name);
    out.i64(s.max_time_ms);
    out.u8(static_cast<uint8_t>((s.seen ? 1 : 0) | (s.finished ? 2 : 0)));
  }
}

bool WatermarkTracker::load(ByteReader& in) {
  const uint64_t n = in.count(8 + 8 + 1);
  if (in.fail() || n != sources_.size()) return false;
  for (Source& s : sources_) {
    if (in.str() != s.name) return false;
    s.max_time_ms = in.i64();
    const uint8_t flags = in.u8();
    s.seen = flags & 1;
    s.finished = flags & 2;
  }
  return !in.fail();
}

}  // namespace sentinel
