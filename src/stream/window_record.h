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

  // Features of a tumbling window (the anomaly model's input, DESIGN.md
  // section 3.3); zero for every other kind. They describe all `count`
  // events, so a revision carries the updated values. Not rendered in
  // windows.jsonl.
  uint32_t violent = 0;   ///< events with severity "violent"
  uint32_t property = 0;  ///< events with severity "property"
  uint32_t confident = 0; ///< events that carried a confidence
  /// window_source_bit() of every source that contributed; popcount is the
  /// number of distinct sources, exact while source ids stay below 32.
  uint32_t sources = 0;
  /// Sum of the confidences of the `confident` events, each rounded to a
  /// multiple of 2^-16 (summed as integers, so the value does not depend on
  /// the order events arrived in).
  double confidence_sum = 0;
};

/// The bit of WindowRecord::sources that stands for `source`: bit s for
/// s < 31; every source id >= 31 shares bit 31.
constexpr uint32_t window_source_bit(uint32_t source) { return source < 31 ? 1u << source : 1u << 31; }

}  // namespace sentinel
