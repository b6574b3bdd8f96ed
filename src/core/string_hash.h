// Hashing for unordered containers keyed by std::string that are looked up by
// std::string_view without building a string.
#pragma once

#include <functional>
#include <string_view>

namespace sentinel {

/// Transparent hash: pair it with std::equal_to<> so that find(string_view)
/// allocates nothing.
struct TransparentStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace sentinel
