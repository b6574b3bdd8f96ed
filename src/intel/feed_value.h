// FeedValue: the dynamic tree a parsed feed is made of. Feeds carry arbitrary
// extension elements (every unknown element becomes a key, as in Python's
// feedparser), so the parse result is a tree of dicts, lists and scalars
// rather than a fixed struct; feed_parser.h gives typed accessors for the
// fields Sentinel itself uses.
//
// A plain value: copy or move it freely. Not thread-safe for concurrent
// mutation (like any std container).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sentinel::intel {

/// One node: null, bool, integer, float, UTF-8 string, list or dict. Dicts keep
/// insertion order (the JSON output follows the order the feed gave) and have
/// unique keys; they are small (tens of keys), so lookups are linear.
class FeedValue {
 public:
  using List = std::vector<FeedValue>;
  using Dict = std::vector<std::pair<std::string, FeedValue>>;

  FeedValue() = default;                                 ///< null
  FeedValue(bool b) : v_(b) {}                           // NOLINT(google-explicit-constructor)
  FeedValue(int i) : v_(static_cast<int64_t>(i)) {}      // NOLINT(google-explicit-constructor)
  FeedValue(int64_t i) : v_(i) {}                        // NOLINT(google-explicit-constructor)
  FeedValue(double d) : v_(d) {}                         // NOLINT(google-explicit-constructor)
  FeedValue(std::string s) : v_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  FeedValue(const char* s) : v_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  FeedValue(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  FeedValue(List l) : v_(std::move(l)) {}                // NOLINT(google-explicit-constructor)
  FeedValue(Dict d) : v_(std::move(d)) {}                // NOLINT(google-explicit-constructor)

  static FeedValue dict() { return FeedValue(Dict{}); }
  static FeedValue list() { return FeedValue(List{}); }

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_int() const { return v_.index() == 2; }
  bool is_double() const { return v_.index() == 3; }
  bool is_string() const { return v_.index() == 4; }
  bool is_list() const { return v_.index() == 5; }
  bool is_dict() const { return v_.index() == 6; }

  /// Typed access; the caller checks the kind first (std::bad_variant_access otherwise).
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  std::string& as_string() { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  List& as_list() { return std::get<List>(v_); }
  const Dict& as_dict() const { return std::get<Dict>(v_); }
  Dict& as_dict() { return std::get<Dict>(v_); }

  /// Python truthiness: null, false, 0, 0.0, "" and empty containers are false.
  bool truthy() const;

  // Dict operations. On a non-dict, lookups find nothing and writes first turn
  // the value into an empty dict.

  const FeedValue* find(std::string_view key) const;
  FeedValue* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Sets `key` (replacing its value in place, or appending it) and returns the stored value.
  FeedValue& set(std::string_view key, FeedValue value);
  /// Returns the value under `key`, inserting `value` first when it is absent.
  FeedValue& setdefault(std::string_view key, FeedValue value);
  /// Removes `key`; false when it was absent.
  bool erase(std::string_view key);
  /// The string under `key`, or `fallback` when absent or not a string.
  std::string get_string(std::string_view key, std::string_view fallback = {}) const;

  /// Deep equality; dicts compare as unordered maps (as Python dicts do).
  friend bool operator==(const FeedValue& a, const FeedValue& b);
  friend bool operator!=(const FeedValue& a, const FeedValue& b) { return !(a == b); }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, List, Dict> v_;
};

}  // namespace sentinel::intel
