// The identity of an event for exactly-once processing: a 128-bit hash of
// (source name, id). It is stored in checkpoints, so it must be the same on
// every run and every machine: it hashes names, never interned ids.
#pragma once

#include <string_view>

#include "core/event.h"

namespace sentinel {

/// XXH3-128 over the source name's bytes, one 0 byte, and the id's bytes
/// (EventKey::lo/hi = the hash's low/high 64 bits). Pure; any thread.
EventKey event_key(std::string_view source, std::string_view id);

}  // namespace sentinel
