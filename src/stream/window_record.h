// What the window operator emits: one result of one window for one key.
#pragma once

#include <cstdint>
#include <string>

#include "core/time.h"

namespace sentinel {

enum class WindowKind : uint8_t { kTumbling = 0, kSliding = 1, kSession = 2, kGlobal = 3 };
std::string_view window_kind_name(WindowKind kind);

/// Windows are kept per (fine cell, category); category is the interned event type.
struct WindowKey {
  uint64_t cell = 0;
  uint32_t category = 0;
  bool operator==(const WindowKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const WindowKey& k) {
    return H::combine(std::move(h), k.cell, k.category);
  }
};

struct WindowRecord {
  WindowKind kind = WindowKind::kTumbling;
  EventTime start, end;
  WindowKey key;
  int32_t district = -1;  ///< global summaries are per district instead of per cell
  uint64_t count = 0;
  uint32_t revision = 0;
  /// A session that a later event merged into an earlier one: its last result
  /// is withdrawn (count 0); the merged session carries its events.
  bool retracted = false;
};

}  // namespace sentinel
