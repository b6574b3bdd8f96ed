// JsonWriter: appends one JSON text to a std::string, for every sink (window
// records, dead letters, late events, alerts, audit records).
//
// It places commas and colons itself, escapes strings per RFC 8259 and
// repairs invalid UTF-8, so whatever the input held the output is valid JSON.
// Output is deterministic: the same calls give the same bytes. It allocates
// only when the target string must grow, so a string reused across records
// (cleared, not shrunk) makes it allocation-free once warm.
//
//   std::string line;
//   JsonWriter w(line);
//   w.begin_object().key("kind").string("tumbling").key("count").number(3).end_object();
//   // line == R"({"kind":"tumbling","count":3})"
//
// Contract: calls must form one well-nested value (a key before each value
// inside an object, no key inside an array); misuse is caught by assert() in
// debug builds. Nesting deeper than kMaxDepth is a programming error that
// aborts in every build (the writer's state is a fixed array).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace sentinel {

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 64;

  /// Appends to `out` (which is not cleared). `out` must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The next member's name (escaped like string()).
  JsonWriter& key(std::string_view k);

  /// A string value: '"' and '\' escaped, control characters as \u00XX, and
  /// each maximal ill-formed UTF-8 subsequence replaced by U+FFFD.
  JsonWriter& string(std::string_view s);
  JsonWriter& number(int64_t v);
  JsonWriter& number(uint64_t v);
  /// Any other integer type (int, unsigned, size_t, ...), not bool or char.
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, int64_t> &&
           !std::same_as<T, uint64_t>) JsonWriter& number(T v) {
    if constexpr (std::is_signed_v<T>) {
      return number(static_cast<int64_t>(v));
    } else {
      return number(static_cast<uint64_t>(v));
    }
  }
  /// The shortest text that reads back as the same double (std::to_chars);
  /// NaN and infinities, which JSON cannot hold, are written as null.
  JsonWriter& number(double v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  /// Pre-validated JSON text (e.g. Event::data), inserted as one value as is.
  JsonWriter& raw(std::string_view json);

  /// Key-value shorthands for objects.
  JsonWriter& member(std::string_view k, std::string_view v) { return key(k).string(v); }
  JsonWriter& member(std::string_view k, const char* v) { return key(k).string(v); }
  template <typename T>
  requires(std::integral<T> || std::floating_point<T>) JsonWriter& member(std::string_view k, T v) {
    if constexpr (std::same_as<T, bool>) {
      return key(k).boolean(v);
    } else if constexpr (std::floating_point<T>) {
      return key(k).number(static_cast<double>(v));
    } else {
      return key(k).number(v);
    }
  }

  /// True when every container opened has been closed.
  bool complete() const { return depth_ == 0; }

  /// Appends `s` as a JSON string (with quotes) to `out`, escaped and repaired
  /// as string() does.
  static void append_string(std::string& out, std::string_view s);

 private:
  void before_value();

  std::string& out_;
  int depth_ = 0;
  // Per open container: whether it already holds an element (a comma is due),
  // whether it is an object, and (objects) whether a key awaits its value.
  bool has_element_[kMaxDepth + 1] = {};
  bool is_object_[kMaxDepth + 1] = {};
  bool after_key_ = false;
};

}  // namespace sentinel
