// Little-endian binary encoding for checkpoints. Hand-written because the
// state is a few flat maps of integers: a schema library (protobuf) would add
// a code generator to the build for no gain. Readers never trust lengths:
// every read is bounds-checked and a short or malformed buffer sets fail().
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sentinel {

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, sizeof v); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s.data(), s.size());
  }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& buffer() { return out_; }
  std::string take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoints are little-endian");
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t u8() { uint8_t v = 0; raw(&v, 1); return v; }
  uint16_t u16() { uint16_t v = 0; raw(&v, sizeof v); return v; }
  uint32_t u32() { uint32_t v = 0; raw(&v, sizeof v); return v; }
  uint64_t u64() { uint64_t v = 0; raw(&v, sizeof v); return v; }
  int64_t i64() { int64_t v = 0; raw(&v, sizeof v); return v; }
  double f64() { double v = 0; raw(&v, sizeof v); return v; }
  std::string_view str() {
    const uint64_t n = u64();
    if (fail_ || n > in_.size() - pos_) {
      fail_ = true;
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  /// A count about to drive a loop of `item_bytes`-sized reads: fails when the
  /// remaining input could not hold that many, so a corrupt count never
  /// allocates or loops wildly.
  uint64_t count(size_t item_bytes) {
    const uint64_t n = u64();
    if (item_bytes != 0 && n > (in_.size() - pos_) / item_bytes) fail_ = true;
    return fail_ ? 0 : n;
  }
  void raw(void* p, size_t n) {
    if (fail_ || n > in_.size() - pos_) {
      fail_ = true;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  bool fail() const { return fail_; }
  bool done() const { return pos_ == in_.size(); }
  void set_fail() { fail_ = true; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool fail_ = false;
};

}  // namespace sentinel
