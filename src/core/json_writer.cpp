#include "core/json_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sentinel {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0
// with `bad` set to the length of its maximal ill-formed subpart (at least 1),
// per Unicode's table of well-formed byte sequences (Table 3-7). Hand-written
// because simdjson and the other libraries validate UTF-8 but do not repair it.
size_t utf8_sequence(const unsigned char* p, size_t n, size_t& bad) {
  const unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    const bool ok = k < n && p[k] >= (k == 1 ? lo : 0x80) && p[k] <= (k == 1 ? hi : 0xBF);
    if (!ok) {
      bad = k;
      return 0;
    }
  }
  return len;
}

// True when one of the eight bytes of `w` is a control character, '"', '\\'
// or not ASCII (any of which string() must escape or check). The
// "has a byte below n" and "has a zero byte" tests of Bit Twiddling Hacks
// (graphics.stanford.edu/~seander/bithacks.html): a borrow can flag a byte
// after a real hit, never one when there is no hit, so the answer is exact.
inline bool any_special(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');          // zero bytes where w has '"'
  const uint64_t backslash = w ^ (kOnes * '\\');    // zero bytes where w has '\\'
  const uint64_t below_space = (w - kOnes * 0x20) & ~w;
  const uint64_t has_quote = (quote - kOnes) & ~quote;
  const uint64_t has_backslash = (backslash - kOnes) & ~backslash;
  return ((below_space | has_quote | has_backslash | w) & kHigh) != 0;
}

inline bool plain(unsigned char c) { return c >= 0x20 && c != '"' && c != '\\' && c < 0x80; }

// Length of the prefix of `s` that needs no escaping.
size_t plain_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    if (any_special(w)) break;
  }
  while (i < n && plain(p[i])) ++i;
  return i;
}

bool plain_text(std::string_view s) { return plain_prefix(s) == s.size(); }

}  // namespace

void JsonWriter::append_string(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  // Fast path (ids, names, keys: nearly every string written): find the
  // first byte that needs a look, eight at a time; a string without one is
  // copied in one piece with its quotes.
  size_t i = plain_prefix(s);
  if (i == n) {
    const size_t at = out.size();
    out.resize(at + n + 2);
    char* d = out.data() + at;
    d[0] = '"';
    if (n != 0) std::memcpy(d + 1, s.data(), n);
    d[n + 1] = '"';
    return;
  }
  out.push_back('"');
  size_t clean = 0;  // [clean, i) is copied verbatim
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    size_t bad = 0;
    if (c >= 0x80) {
      if (const size_t len = utf8_sequence(p + i, n - i, bad); len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + clean, i - clean);
    if (c >= 0x80) {
      out.append(kReplacement);
      i += bad;
    } else {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof esc);
      }
      ++i;
    }
    clean = i;
  }
  out.append(s.data() + clean, n - clean);
  out.push_back('"');
}

void JsonWriter::before_value() {
  if (depth_ == 0) return;
  if (is_object_[depth_]) {
    assert(after_key_ && "JsonWriter: a value inside an object needs a key first");
    after_key_ = false;
    return;
  }
  if (has_element_[depth_]) out_.push_back(',');
  has_element_[depth_] = true;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  if (depth_ >= kMaxDepth) {
    std::fputs("JsonWriter: nesting deeper than kMaxDepth\n", stderr);
    std::abort();
  }
  ++depth_;
  is_object_[depth_] = true;
  has_element_[depth_] = false;
  out_.push_back('{');
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(depth_ > 0 && is_object_[depth_] && !after_key_ && "JsonWriter: unbalanced end_object");
  --depth_;
  out_.push_back('}');
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  if (depth_ >= kMaxDepth) {
    std::fputs("JsonWriter: nesting deeper than kMaxDepth\n", stderr);
    std::abort();
  }
  ++depth_;
  is_object_[depth_] = false;
  has_element_[depth_] = false;
  out_.push_back('[');
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(depth_ > 0 && !is_object_[depth_] && "JsonWriter: unbalanced end_array");
  --depth_;
  out_.push_back(']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  assert(depth_ > 0 && is_object_[depth_] && !after_key_ && "JsonWriter: key outside an object");
  const bool comma = has_element_[depth_];
  has_element_[depth_] = true;
  after_key_ = true;
  if (plain_text(k)) {
    // Member names are nearly always short constants: separator, quoted
    // name and colon in one piece.
    const size_t at = out_.size();
    out_.resize(at + k.size() + 3 + (comma ? 1 : 0));
    char* d = out_.data() + at;
    if (comma) *d++ = ',';
    *d++ = '"';
    std::memcpy(d, k.data(), k.size());
    d += k.size();
    d[0] = '"';
    d[1] = ':';
    return *this;
  }
  if (comma) out_.push_back(',');
  append_string(out_, k);
  out_.push_back(':');
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  before_value();
  append_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::number(int64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::number(uint64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::number(double v) {
  before_value();
  if (!std::isfinite(v)) {
    out_.append("null");
    return *this;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  before_value();
  out_.append(v ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_.append(json);
  return *this;
}

}  // namespace sentinel
