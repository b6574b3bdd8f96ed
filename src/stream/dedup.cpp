#include "stream/dedup.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <vector>

#include "stream/bytes.h"

namespace sentinel {

namespace {
struct KeyHash {
  // The key is already a 128-bit hash of (source, id): fold it, don't rehash it.
  size_t operator()(const EventKey& k) const { return k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull); }
};
}  // namespace

struct DedupSet::State {
  Millis horizon;
  absl::flat_hash_map<EventKey, int64_t, KeyHash> seen;  // key -> event time (ms)
};

DedupSet::DedupSet(Millis horizon) : state_(std::make_unique<State>()) { state_->horizon = horizon; }
DedupSet::~DedupSet() = default;

bool DedupSet::insert(const EventKey& key, EventTime t) {
  auto [it, inserted] = state_->seen.try_emplace(key, to_ms(t));
  if (!inserted && to_ms(t) > it->second) it->second = to_ms(t);
  return inserted;
}

void DedupSet::expire(EventTime watermark) {
  if (watermark == kMinEventTime || watermark == kMaxEventTime) return;
  const int64_t oldest = to_ms(watermark) - state_->horizon.count();
  absl::erase_if(state_->seen, [oldest](const auto& kv) { return kv.second < oldest; });
}

size_t DedupSet::size() const { return state_->seen.size(); }

void DedupSet::save(ByteWriter& out) const {
  // Sorted, so the same state always serialises to the same bytes.
  std::vector<std::pair<EventKey, int64_t>> items(state_->seen.begin(), state_->seen.end());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.first.hi != b.first.hi ? a.first.hi < b.first.hi : a.first.lo < b.first.lo;
  });
  out.u64(items.size());
  for (const auto& [k, t] : items) {
    out.u64(k.lo);
    out.u64(k.hi);
    out.i64(t);
  }
}

bool DedupSet::load(ByteReader& in) {
  const uint64_t n = in.count(24);
  state_->seen.clear();
  state_->seen.reserve(n);
  for (uint64_t i = 0; i < n && !in.fail(); ++i) {
    EventKey k;
    k.lo = in.u64();
    k.hi = in.u64();
    state_->seen[k] = in.i64();
  }
  return !in.fail();
}

}  // namespace sentinel
