#include "core/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace sentinel {
namespace json_writer_test {

std::string json_string(std::string_view s) {
  std::string out;
  JsonWriter::append_string(out, s);
  return out;
}

// Parses `json` with simdjson's DOM parser (which checks UTF-8 and the whole
// grammar); returns the error message or "".
std::string parse_error(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const auto e = parser.parse(json).get(doc);
  return e ? simdjson::error_message(e) : "";
}

TEST(JsonWriter, PlacesCommasAndColons) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("kind", "tumbling")
      .member("count", 3)
      .member("late", false)
      .key("sources")
      .begin_array()
      .string("cad")
      .string("cctv")
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .null()
      .end_array()
      .key("data")
      .raw(R"({"a":[1,2]})")
      .key("score")
      .number(0.78)
      .key("empty")
      .begin_object()
      .end_object()
      .end_object();
  EXPECT_TRUE(w.complete());
  EXPECT_EQ(out, R"({"kind":"tumbling","count":3,"late":false,"sources":["cad","cctv",{},[],null],)"
                 R"("data":{"a":[1,2]},"score":0.78,"empty":{}})");
  EXPECT_EQ(parse_error(out), "");
}

TEST(JsonWriter, TopLevelScalarsAndAppending) {
  std::string out = "prefix ";
  JsonWriter(out).number(int64_t{-5});
  EXPECT_EQ(out, "prefix -5");
  std::string arr;
  JsonWriter a(arr);
  a.begin_array().number(1).number(2u).raw("true").boolean(true).end_array();
  EXPECT_EQ(arr, "[1,2,true,true]");
}

TEST(JsonWriter, EscapesPerRfc8259) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("plain / text"), R"("plain / text")");
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("line\nnext\ttab\r\b\f"), R"("line\u000anext\u0009tab\u000d\u0008\u000c")");
  EXPECT_EQ(json_string(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(json_string("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
  // Valid UTF-8 passes through unchanged (2, 3 and 4-byte forms, edges of
  // the valid ranges included).
  const std::string utf8 =
      "é € 😀 \xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xF0\x90\x80\x80 "
      "\xF4\x8F\xBF\xBF";
  EXPECT_EQ(json_string(utf8), "\"" + utf8 + "\"");
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  // One replacement per maximal ill-formed subsequence (Unicode 3.9, as
  // W3C's encoding standard does).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xFF", r},
      {"a\xC3", "a" + r},  // truncated 2-byte
      {"\xE2\x82", r},     // truncated 3-byte: one subpart
      {"\xE2\x82z", r + "z"},
      {"\xF0\x9F\x98", r},                  // truncated 4-byte
      {"\xC0\xAF", r + r},                  // overlong '/'
      {"\xE0\x80\x80", r + r + r},          // overlong 3-byte
      {"\xED\xA0\x80", r + r + r},          // surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\xF5\x80", r + r},
      {"\x80\xBF", r + r},  // lone continuations
      {"ok\xC3\xA9\xFFok", "ok\xC3\xA9" + r + "ok"},
      {"\"\xFF\n", "\\\"" + r + "\\u000a"},
  };
  for (const auto& [in, want] : cases) {
    const std::string got = json_string(in);
    EXPECT_EQ(got, "\"" + want + "\"") << testing::PrintToString(in);
    EXPECT_EQ(parse_error(got), "") << testing::PrintToString(in);
  }
}

TEST(JsonWriter, AnyBytesGiveValidJsonThatKeepsValidText) {
  std::mt19937 rng(1234);  // fixed seed: deterministic
  std::uniform_int_distribution<int> len(0, 40), byte(0, 255);
  simdjson::dom::parser parser;
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) s.push_back(static_cast<char>(byte(rng)));
    const std::string json = json_string(s);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << testing::PrintToString(s);
    std::string_view back;
    ASSERT_EQ(doc.get_string().get(back), simdjson::SUCCESS);
    if (simdjson::validate_utf8(s.data(), s.size())) {
      EXPECT_EQ(back, s);
    }
  }
}

TEST(JsonWriter, DoublesRoundTrip) {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      0.1,
                                      1.0 / 3.0,
                                      41.8781,
                                      -87.6298,
                                      0.92,
                                      1e21,
                                      1e-7,
                                      123456789012345678.0,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      -std::numeric_limits<double>::max()};
  for (double v : values) {
    std::string out;
    JsonWriter(out).number(v);
    EXPECT_EQ(parse_error(out), "") << out;
    EXPECT_EQ(std::strtod(out.c_str(), nullptr), v) << out;
    EXPECT_EQ(std::signbit(std::strtod(out.c_str(), nullptr)), std::signbit(v)) << out;
  }
  std::string s;
  JsonWriter(s).number(0.92);
  EXPECT_EQ(s, "0.92");  // shortest, not 0.92000000000000004
  s.clear();
  JsonWriter(s).number(3.0);
  EXPECT_EQ(s, "3");
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    std::string n;
    JsonWriter(n).number(bad);
    EXPECT_EQ(n, "null");
  }
}

TEST(JsonWriter, IntegersAtTheirLimits) {
  std::string out;
  JsonWriter w(out);
  w.begin_array()
      .number(std::numeric_limits<int64_t>::min())
      .number(std::numeric_limits<uint64_t>::max())
      .number(static_cast<uint8_t>(200))
      .number(-7)
      .number(static_cast<size_t>(42))
      .end_array();
  EXPECT_EQ(out, "[-9223372036854775808,18446744073709551615,200,-7,42]");
}

TEST(JsonWriter, ReusedBufferDoesNotGrow) {
  std::string out;
  out.reserve(256);
  const auto write = [&] {
    out.clear();
    JsonWriter w(out);
    w.begin_object().member("id", "cad-000123").member("score", 0.78).member("n", 12).end_object();
  };
  write();
  const std::string first = out;
  const char* data = out.data();
  const size_t cap = out.capacity();
  write();
  EXPECT_EQ(out, first);
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.capacity(), cap);
}

}  // namespace json_writer_test
}  // namespace sentinel
