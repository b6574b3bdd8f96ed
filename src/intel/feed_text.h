// Small text helpers shared by the feed parser's files (internal to
// src/intel/feed_*.cpp). They mirror the Python string operations the
// parser's rules are written in terms of (str.strip, str.split, int()),
// over UTF-8 std::string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::intel::feedtext {

/// ASCII-only lower case (other bytes unchanged).
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

/// Python str.strip(): removes leading and trailing Unicode whitespace
/// (ASCII whitespace, U+001C-U+001F, U+0085, U+00A0, U+1680, U+2000-U+200A,
/// U+2028, U+2029, U+202F, U+205F, U+3000).
std::string_view strip(std::string_view s);
bool is_blank(std::string_view s);
/// Code points in UTF-8 text (bytes that are not continuation bytes).
size_t char_count(std::string_view s);

/// Python str.split() with no argument: fields separated by whitespace runs.
std::vector<std::string_view> split_ws(std::string_view s);
/// Python str.split(sep, maxsplit): maxsplit < 0 means no limit.
std::vector<std::string_view> split(std::string_view s, std::string_view sep, int maxsplit = -1);

std::string replace_all(std::string s, std::string_view from, std::string_view to);

/// Python int(s) for base-10 text: optional surrounding whitespace and sign, digits.
std::optional<int64_t> parse_int(std::string_view s);
/// Python float(s) for finite decimal numbers (no inf/nan).
std::optional<double> parse_float(std::string_view s);

/// Appends code point `cp` as UTF-8 (invalid code points become U+FFFD).
void append_utf8(std::string& out, uint32_t cp);
/// Decodes the code point starting at s[i] and advances i; malformed bytes
/// decode as U+FFFD one byte at a time.
uint32_t next_code_point(std::string_view s, size_t& i);
/// True when `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s);

/// xml.sax.saxutils.escape: & < > (and " when `quote`).
std::string xml_escape(std::string_view s, bool quote = false);

/// Python's \w for one byte of UTF-8 text: ASCII letters, digits, '_', and
/// every non-ASCII byte (non-ASCII letters are the common case in feeds).
inline bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}
inline bool is_ascii_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool is_ascii_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
inline bool is_ascii_alnum(unsigned char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}
inline bool is_hex_digit(unsigned char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// Python's \s for ASCII text.
inline bool is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

}  // namespace sentinel::intel::feedtext
