#include "core/event_key.h"

#include <cstring>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack: no allocation for long inputs
#include <xxhash.h>

namespace sentinel {

EventKey event_key(std::string_view source, std::string_view id) {
  // The one-shot hash of a stack copy is ~3x faster than the streaming API for
  // the short names and ids events carry; both give the same value.
  constexpr size_t kStackBytes = 512;
  XXH128_hash_t h;
  const size_t n = source.size() + 1 + id.size();
  if (n <= kStackBytes) {
    char buf[kStackBytes];
    if (!source.empty()) std::memcpy(buf, source.data(), source.size());
    buf[source.size()] = '\0';
    if (!id.empty()) std::memcpy(buf + source.size() + 1, id.data(), id.size());
    h = XXH3_128bits(buf, n);
  } else {
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    XXH3_128bits_update(&state, source.data(), source.size());
    const char zero = '\0';
    XXH3_128bits_update(&state, &zero, 1);
    XXH3_128bits_update(&state, id.data(), id.size());
    h = XXH3_128bits_digest(&state);
  }
  return EventKey{h.low64, h.high64};
}

}  // namespace sentinel
