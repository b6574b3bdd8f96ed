#include "core/cloudevents.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace sentinel {
namespace cloudevents_test {

// A copy of `text` in a heap block of exactly text.size() + kJsonPadding
// bytes, so that AddressSanitizer sees any read past the promised padding.
// The padding holds closing brackets and quotes, the bytes most likely to
// mislead a parser that looks past the end.
class Padded {
 public:
  explicit Padded(std::string_view text, char fill = '}')
      : size_(text.size()), buf_(new char[text.size() + kJsonPadding]) {
    if (!text.empty()) std::memcpy(buf_.get(), text.data(), text.size());
    for (size_t i = 0; i < kJsonPadding; ++i) buf_[size_ + i] = i % 2 == 0 ? fill : '"';
  }
  std::string_view view() const { return {buf_.get(), size_}; }

 private:
  size_t size_;
  std::unique_ptr<char[]> buf_;
};

constexpr const char* kExample =
    R"({"specversion":"1.0","id":"cad-000123","source":"cad","type":"cad.call.weapon",)"
    R"("time":"2026-03-01T22:14:05Z","lat":41.8781,"lon":-87.6298,)"
    R"("severity":"violent","confidence":0.92,"data":{"call_id":"..."}})";

// The required attributes, to which each case adds its own.
std::string with(std::string_view extra) {
  std::string s =
      R"({"id":"e-1","source":"sensor","type":"sensor.gunshot","time":"2026-03-01T22:14:05Z")";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() : decoder_(options(), sources_, types_) {}

  static DecoderOptions options() {
    DecoderOptions o;
    o.bounds = {41.6, -87.95, 42.05, -87.5};  // Chicago
    return o;
  }

  Status decode(std::string_view text, Event& out) {
    padded_.push_back(std::make_unique<Padded>(text));
    return decoder_.decode(padded_.back()->view(), out);
  }

  Interner sources_, types_;
  EventDecoder decoder_;
  std::vector<std::unique_ptr<Padded>> padded_;  // keeps decoded lines alive
};

TEST_F(DecoderTest, DecodesTheDesignExample) {
  Event ev;
  const Status st = decode(kExample, ev);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(ev.id, "cad-000123");
  EXPECT_EQ(sources_.name(ev.source), "cad");
  EXPECT_EQ(types_.name(ev.type), "cad.call.weapon");
  EXPECT_EQ(to_ms(ev.time), 1772403245000);
  EXPECT_TRUE(ev.has_location);
  EXPECT_DOUBLE_EQ(ev.lat, 41.8781);
  EXPECT_DOUBLE_EQ(ev.lon, -87.6298);
  EXPECT_TRUE(ev.has_severity);
  EXPECT_EQ(ev.severity, Severity::kViolent);
  EXPECT_TRUE(ev.has_confidence);
  EXPECT_FLOAT_EQ(ev.confidence, 0.92f);
  EXPECT_EQ(ev.data, R"({"call_id":"..."})");
  EXPECT_EQ(ev.key, event_key("cad", "cad-000123"));
}

TEST_F(DecoderTest, IdAndDataAreViewsIntoTheLine) {
  Event ev;
  ASSERT_TRUE(decode(kExample, ev).ok());
  const std::string_view line = padded_.back()->view();
  EXPECT_GE(ev.id.data(), line.data());
  EXPECT_LE(ev.id.data() + ev.id.size(), line.data() + line.size());
  EXPECT_GE(ev.data.data(), line.data());
  EXPECT_LE(ev.data.data() + ev.data.size(), line.data() + line.size());
}

TEST_F(DecoderTest, OptionalAttributesMayBeAbsentOrNull) {
  for (
      const std::string& line :
      {with(""),
       with(
           R"("lat":null,"lon":null,"severity":null,"confidence":null,"data":null,"specversion":null)")}) {
    Event ev;
    const Status st = decode(line, ev);
    ASSERT_TRUE(st.ok()) << line << ": " << st.error().to_string();
    EXPECT_FALSE(ev.has_location) << line;
    EXPECT_FALSE(ev.has_severity) << line;
    EXPECT_EQ(ev.severity, Severity::kOther) << line;
    EXPECT_FALSE(ev.has_confidence) << line;
    EXPECT_TRUE(ev.data.empty()) << line;
  }
}

TEST_F(DecoderTest, EveryCodecFieldIsOverwritten) {
  Event ev;
  ASSERT_TRUE(decode(kExample, ev).ok());
  ev.enrich.done = true;
  ASSERT_TRUE(decode(with(""), ev).ok());
  EXPECT_EQ(ev.id, "e-1");
  EXPECT_FALSE(ev.has_location);
  EXPECT_FALSE(ev.has_severity);
  EXPECT_FALSE(ev.has_confidence);
  EXPECT_TRUE(ev.data.empty());
  EXPECT_FALSE(ev.enrich.done);
}

struct BadCase {
  std::string line;
  std::string field;
  std::string reason;
};

TEST_F(DecoderTest, RejectsEachRuleWithFieldAndReason) {
  const std::string base_no_id = R"({"source":"cad","type":"a.b","time":"2026-03-01T22:14:05Z"})";
  const std::string t = R"("time":"2026-03-01T22:14:05Z")";
  const std::string after_base = std::to_string(with("").size() + 1);
  const std::vector<BadCase> cases = {
      // Required attributes.
      {base_no_id, "id", "missing"},
      {R"({"id":"x","type":"a.b",)" + t + "}", "source", "missing"},
      {R"({"id":"x","source":"cad",)" + t + "}", "type", "missing"},
      {R"({"id":"x","source":"cad","type":"a.b"})", "time", "missing"},
      {R"({"id":5,"source":"cad","type":"a.b",)" + t + "}", "id", "expected a string, got number"},
      {R"({"id":null,"source":"cad","type":"a.b",)" + t + "}", "id", "expected a string, got null"},
      {R"({"id":"","source":"cad","type":"a.b",)" + t + "}", "id", "must be a non-empty string"},
      {R"({"id":")" + std::string(257, 'x') + R"(","source":"cad","type":"a.b",)" + t + "}", "id",
       "is 257 bytes, over the limit of 256"},
      {R"({"id":"fir\/2026\/1","source":"cad","type":"a.b",)" + t + "}", "id",
       R"(must not contain JSON escape sequences (ids are kept as written), got '"fir\/2026\/1"')"},
      {R"({"id":"x","source":"x","type":"a.b",)" + t + "}", "source",
       "unknown source 'x' (allowed: cctv, sensor, cad, platform, network, osint)"},
      {R"({"id":"x","source":["cad"],"type":"a.b",)" + t + "}", "source",
       "expected a string, got array"},
      {R"({"id":"x","source":"cad","type":"Cad.Call",)" + t + "}", "type",
       "must be a dotted name of [a-z0-9_.-] of at most 128 bytes, got 'Cad.Call'"},
      {R"({"id":"x","source":"cad","type":"a..b",)" + t + "}", "type",
       "must be a dotted name of [a-z0-9_.-] of at most 128 bytes, got 'a..b'"},
      {R"({"id":"x","source":"cad","type":".a",)" + t + "}", "type",
       "must be a dotted name of [a-z0-9_.-] of at most 128 bytes, got '.a'"},
      {R"({"id":"x","source":"cad","type":"",)" + t + "}", "type",
       "must be a dotted name of [a-z0-9_.-] of at most 128 bytes, got ''"},
      {R"({"id":"x","source":"cad","type":")" + std::string(129, 'a') + R"(",)" + t + "}", "type",
       "must be a dotted name of [a-z0-9_.-] of at most 128 bytes, got '" + std::string(64, 'a') +
           "...'"},
      {R"({"id":"x","source":"cad","type":"a.b","time":"2026-13-01T00:00:00Z"})", "time",
       "must be an RFC 3339 timestamp, got '2026-13-01T00:00:00Z'"},
      {R"({"id":"x","source":"cad","type":"a.b","time":1772403245})", "time",
       "expected a string, got number"},
      // Optional attributes.
      {with(R"("specversion":"0.3")"), "specversion", "must be '1.0', got '0.3'"},
      {with(R"("specversion":1.0)"), "specversion", "expected a string, got number"},
      {with(R"("lat":200,"lon":-87.6)"), "lat", "must be a number in [-90, 90], got 200"},
      {with(R"("lat":41.8,"lon":-181)"), "lon", "must be a number in [-180, 180], got -181"},
      {with(R"("lat":"41.8","lon":-87.6)"), "lat", "expected a number, got string '41.8'"},
      {with(R"("lat":41.8)"), "lon", "missing (lat is given: give both or neither)"},
      {with(R"("lon":-87.6)"), "lat", "missing (lon is given: give both or neither)"},
      {with(R"("lat":null,"lon":-87.6)"), "lat", "missing (lon is given: give both or neither)"},
      {with(R"("lat":40,"lon":-87.6)"), "lat,lon",
       "(40, -87.6) is outside city.bounds [41.6, -87.95, 42.05, -87.5]"},
      {with(R"("lat":41.8,"lon":-87.4)"), "lat,lon",
       "(41.8, -87.4) is outside city.bounds [41.6, -87.95, 42.05, -87.5]"},
      {with(R"("severity":"bad")"), "severity",
       "unknown severity 'bad' (expected violent, property or other)"},
      {with(R"("severity":"Violent")"), "severity",
       "unknown severity 'Violent' (expected violent, property or other)"},
      {with(R"("severity":1)"), "severity", "expected a string, got number"},
      {with(R"("confidence":1.7)"), "confidence", "must be a number in [0, 1], got 1.7"},
      {with(R"("confidence":-0.1)"), "confidence", "must be a number in [0, 1], got -0.1"},
      {with(R"("confidence":"0.9")"), "confidence", "expected a number, got string '0.9'"},
      {with(R"("confidence":true)"), "confidence", "expected a number, got boolean"},
      {with("\"data\":" + std::string(kMaxDataDepth + 1, '[') + "1" +
            std::string(kMaxDataDepth + 1, ']')),
       "data", "nested deeper than 128 levels"},
      // Shape and size.
      {"", "", "empty line"},
      {" \t \r ", "", "empty line"},
      {"[1,2]", "", "expected an object, got array"},
      {R"("event")", "", "expected an object, got string"},
      {"42", "", "expected an object, got number"},
      {"null", "", "expected an object, got null"},
      {with("") + " x", "", "not valid JSON: content after the object at byte " + after_base},
      {with("") + R"( {"id":"y"})", "",
       "not valid JSON: content after the object at byte " + after_base},
      {with("") + "}", "",
       "not valid JSON: content after the object at byte " + std::to_string(with("").size())},
      {R"({"id":"x","source":"cad")", "", "not valid JSON: the object is not closed"},
      {R"({"id":"x"}})", "", "not valid JSON: content after the object at byte 10"},
  };
  for (const auto& c : cases) {
    Event ev;
    const Status st = decode(c.line, ev);
    ASSERT_FALSE(st.ok()) << c.line;
    EXPECT_EQ(st.error().field, c.field) << c.line;
    EXPECT_EQ(st.error().reason, c.reason) << c.line;
  }
}

TEST_F(DecoderTest, MalformedJsonIsASyntaxError) {
  const std::vector<std::string> lines = {
      R"({"id":)",
      R"({"id" "x"})",
      R"({"id":"x",,"source":"cad"})",
      with(R"("ext":tru)"),
      with(R"("ext":nul)"),
      with(R"("ext":01)"),
      with(R"("ext":1.2.3)"),
      with(R"("ext":[1,2})"),
      with(R"("data":{"x":falsy})"),
      with(R"("data":{"x":1 "y":2})"),
      with(R"("data":"\uZZZZ")"),
      with(R"("data":"\ud800")"),
      with(R"("id2":"\q")"),
      with(R"("lat":1e999,"lon":0)"),
      with(R"("confidence":-)"),
      with("\"data\":\"caf\xC3\""),      // truncated UTF-8
      with("\"data\":\"\xFF\xFE\""),     // bytes that are never UTF-8
      with("\"ext\":\"\xED\xA0\x80\""),  // an encoded surrogate
      "{\"id\":\"\xC0\xAF\"}",           // overlong encoding
      R"({"id":"unterminated)",
      "{\"id\":\"a\nb\"}",  // raw control character in a string
  };
  for (const auto& line : lines) {
    Event ev;
    const Status st = decode(line, ev);
    ASSERT_FALSE(st.ok()) << line;
    EXPECT_EQ(st.error().field, "") << line;
    EXPECT_EQ(st.error().reason.rfind("not valid JSON: ", 0), 0u)
        << line << " -> " << st.error().reason;
    EXPECT_EQ(st.error().reason.find('\n'), std::string::npos) << line;
  }
}

TEST_F(DecoderTest, AcceptsEdgeValues) {
  Event ev;
  const std::string id256(256, 'i');
  ASSERT_TRUE(decode(R"({"id":")" + id256 +
                         R"(","source":"cad","type":"a.b","time":"2026-03-01T22:14:05Z"})",
                     ev)
                  .ok());
  EXPECT_EQ(ev.id, id256);

  const std::string type128 = std::string(64, 'a') + "." + std::string(63, 'b');
  ASSERT_TRUE(decode(R"({"id":"x","source":"cad","type":")" + type128 +
                         R"(","time":"2026-03-01T22:14:05Z"})",
                     ev)
                  .ok());
  EXPECT_EQ(types_.name(ev.type), type128);

  ASSERT_TRUE(decode(with(R"("lat":41.6,"lon":-87.5,"confidence":0,"severity":"other")"), ev).ok());
  EXPECT_TRUE(ev.has_location);
  EXPECT_FLOAT_EQ(ev.confidence, 0.0f);
  ASSERT_TRUE(
      decode(with(R"("lat":42.05,"lon":-87.95,"confidence":1,"severity":"property")"), ev).ok());
  EXPECT_EQ(ev.severity, Severity::kProperty);

  // Non-ASCII text is fine as raw UTF-8, in ids too.
  ASSERT_TRUE(
      decode(
          R"({"id":"fir/2026/Müller","source":"cad","type":"a-b_c.d9","time":"2026-03-01T22:14:05.250+01:00"})",
          ev)
          .ok());
  EXPECT_EQ(ev.id, "fir/2026/Müller");
  EXPECT_EQ(to_ms(ev.time), 1772403245250 - 3600 * 1000);
}

TEST_F(DecoderTest, DataKeepsItsRawText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("data":{"call_id":"c-1","n":[1,2,{"s":"}]"}],"ok":true,"z":null})",
       R"({"call_id":"c-1","n":[1,2,{"s":"}]"}],"ok":true,"z":null})"},
      {R"("data" : { "a" : 1 }   )", R"({ "a" : 1 })"},
      {R"("data":[1, 2])", "[1, 2]"},
      {R"("data":"text \"quoted\"")", R"("text \"quoted\"")"},
      {R"("data":-1.5e3)", "-1.5e3"},
      {R"("data":false)", "false"},
      {R"("data":{})", "{}"},
      {R"("data":[])", "[]"},
  };
  for (const auto& [attr, raw] : cases) {
    Event ev;
    // data first and last in the object: the raw text ends before ',' or '}'.
    for (const std::string& line :
         {with(attr),
          "{" + attr + R"(,"id":"e","source":"cad","type":"a","time":"2026-03-01T22:14:05Z"})"}) {
      const Status st = decode(line, ev);
      ASSERT_TRUE(st.ok()) << line << ": " << st.error().to_string();
      EXPECT_EQ(ev.data, raw) << line;
    }
  }
  // Nesting up to the limit is fine.
  Event ev;
  const std::string deep = std::string(kMaxDataDepth, '[') + std::string(kMaxDataDepth, ']');
  ASSERT_TRUE(decode(with("\"data\":" + deep), ev).ok());
  EXPECT_EQ(ev.data, deep);
  std::string nested;
  for (int i = 0; i <= kMaxDataDepth; ++i) nested += R"({"a":)";
  nested += "1" + std::string(kMaxDataDepth + 1, '}');
  const Status st = decode(with("\"x-ext\":" + nested), ev);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "x-ext");
  EXPECT_EQ(st.error().reason, "nested deeper than 128 levels");
}

TEST_F(DecoderTest, ExtensionsAreIgnoredAndDuplicateKeysKeepTheFirst) {
  Event ev;
  ASSERT_TRUE(
      decode(with(R"("traceparent":"00-ab","partitionkey":{"a":[1,{"b":null}]},"dataschema":7)"),
             ev)
          .ok());
  ASSERT_TRUE(
      decode(
          R"({"id":"first","id":"second","source":"cad","source":"nope","type":"a.b","time":"2026-03-01T22:14:05Z","confidence":0.5,"confidence":7})",
          ev)
          .ok());
  EXPECT_EQ(ev.id, "first");
  EXPECT_EQ(sources_.name(ev.source), "cad");
  EXPECT_FLOAT_EQ(ev.confidence, 0.5f);
  // A null first occurrence also wins: the attribute stays absent.
  ASSERT_TRUE(decode(with(R"("severity":null,"severity":"violent")"), ev).ok());
  EXPECT_FALSE(ev.has_severity);
  // Later duplicates are not interpreted, but must still be JSON.
  const Status st = decode(with(R"("confidence":0.5,"confidence":tru)"), ev);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "");
  // Escaped attribute names are the same names.
  ASSERT_TRUE(
      decode(R"({"\u0069d":"x","source":"cad","type":"a.b","time":"2026-03-01T22:14:05Z"})", ev)
          .ok());
  EXPECT_EQ(ev.id, "x");
}

TEST_F(DecoderTest, InternsNamesOnceAndReusesThem) {
  Event a, b, c;
  ASSERT_TRUE(decode(with(""), a).ok());
  ASSERT_TRUE(decode(with(""), b).ok());
  ASSERT_TRUE(
      decode(R"({"id":"x","source":"cad","type":"cad.call.weapon","time":"2026-03-01T22:14:05Z"})",
             c)
          .ok());
  EXPECT_EQ(a.type, b.type);
  EXPECT_NE(a.type, c.type);
  EXPECT_EQ(types_.size(), 2u);
  uint32_t cad = 0;
  ASSERT_TRUE(sources_.find("cad", cad));
  EXPECT_EQ(c.source, cad);
  // Another decoder sharing the interners agrees on ids.
  EventDecoder other(options(), sources_, types_);
  Padded line(with(""));
  Event d;
  ASSERT_TRUE(other.decode(line.view(), d).ok());
  EXPECT_EQ(d.type, a.type);
  EXPECT_EQ(d.source, a.source);
}

TEST_F(DecoderTest, EnforcesTheLineLimit) {
  DecoderOptions o = options();
  o.max_line_bytes = 100;
  EventDecoder small(o, sources_, types_);
  Event ev;
  const std::string ok = with("");
  ASSERT_LE(ok.size(), 100u);
  Padded fits(ok);
  EXPECT_TRUE(small.decode(fits.view(), ev).ok());
  const std::string big = with(R"("data":")" + std::string(100, 'x') + "\"");
  Padded over(big);
  const Status st = small.decode(over.view(), ev);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "");
  EXPECT_EQ(st.error().reason,
            "line is " + std::to_string(big.size()) + " bytes, over ingest.max_line_bytes (100)");
}

TEST_F(DecoderTest, ReadsNothingPastThePadding) {
  // Lines that end exactly where the padding starts, whatever the padding
  // holds; the block is exactly line + kJsonPadding (ASan checks the rest).
  const std::vector<std::string> lines = {std::string(kExample),
                                          with(""),
                                          with(R"("data":123)"),
                                          R"({"id":"x")",
                                          R"({"id":"x","data":{"a":[1)",
                                          R"({"id":"x")",
                                          "{",
                                          "[",
                                          "\"",
                                          "1",
                                          "t",
                                          "{\"id\":\"x\\",
                                          R"({"data":{"a":1})",
                                          "{}}"};
  for (const auto& text : lines) {
    for (char fill : {'}', ']', '"', '1', ' ', '\0'}) {
      Padded p(text, fill);
      Event ev;
      const Status st = decoder_.decode(p.view(), ev);
      if (text == kExample || text.rfind(R"({"id":"e-1")", 0) == 0) {
        EXPECT_TRUE(st.ok()) << text << " fill " << int(fill);
      } else {
        EXPECT_FALSE(st.ok()) << text << " fill " << int(fill);
      }
    }
  }
  // A line in the middle of a buffer ends where its view ends.
  const std::string two = std::string(kExample) + "garbage";
  Padded p(two);
  Event ev;
  EXPECT_TRUE(decoder_.decode(p.view().substr(0, std::strlen(kExample)), ev).ok());
}

TEST(EventKey, IsStable) {
  // XXH3-128 of "cad\0cad-000123". The library itself is checked against the
  // published xxHash sanity vectors below, so this value is the algorithm's,
  // not this build's.
  const EventKey k = event_key("cad", "cad-000123");
  EXPECT_EQ(k.lo, 0xb454d7bb5ccd7060ull);
  EXPECT_EQ(k.hi, 0x3f2f0cb71866ca65ull);
  EXPECT_NE(event_key("cad", "cad-000124"), k);
  // The separator keeps ("ab","c") and ("a","bc") apart.
  EXPECT_NE(event_key("ab", "c"), event_key("a", "bc"));
}

TEST(EventKey, LongInputsHashTheSameBytes) {
  // Inputs past the stack buffer take the streaming path; both must agree
  // with the one-shot hash of the concatenation.
  const std::string source(300, 's'), id(400, 'i');
  std::string joined = source;
  joined.push_back('\0');
  joined += id;
  const XXH128_hash_t h = XXH3_128bits(joined.data(), joined.size());
  const EventKey k = event_key(source, id);
  EXPECT_EQ(k.lo, h.low64);
  EXPECT_EQ(k.hi, h.high64);
}

TEST(EventKey, XxhashMatchesPublishedVectors) {
  // xxHash's sanity buffer and its XXH3_128bits vectors for lengths 6 and 12
  // (cli/xsum_sanity_check.c in the xxHash repository).
  unsigned char buf[16];
  uint64_t gen = 2654435761u;
  for (auto& b : buf) {
    b = static_cast<unsigned char>(gen >> 56);
    gen *= 11400714785074694797ull;
  }
  XXH128_hash_t h = XXH3_128bits(buf, 6);
  EXPECT_EQ(h.low64, 0x3E7039BDDA43CFC6ull);
  EXPECT_EQ(h.high64, 0x082AFE0B8162D12Aull);
  h = XXH3_128bits(buf, 12);
  EXPECT_EQ(h.low64, 0x061A192713F69AD9ull);
  EXPECT_EQ(h.high64, 0x6E3EFD8FC7802B18ull);
}

// decode_body ---------------------------------------------------------------

struct BodyResult {
  struct Good {
    std::string id;
    uint64_t line, offset;
  };
  struct Bad {
    uint64_t line, offset;
    std::string field, reason;
  };
  std::vector<Good> events;
  std::vector<Bad> errors;
  std::vector<char> order;  // 'e' / 'x' in call order
};

class BodyTest : public DecoderTest {
 protected:
  BodyResult run(const std::string& body) {
    Padded p(body);
    BodyResult r;
    decoder_.decode_body(
        p.view(),
        [&](Event& ev) {
          r.events.push_back({std::string(ev.id), ev.where.line, ev.where.byte_offset});
          r.order.push_back('e');
        },
        [&](uint64_t line, uint64_t offset, const Error& e) {
          r.errors.push_back({line, offset, e.field, e.reason});
          r.order.push_back('x');
        });
    return r;
  }
};

std::string event_line(std::string_view id, std::string_view extra = "") {
  std::string s = R"({"id":")" + std::string(id) +
                  R"(","source":"cad","type":"cad.call","time":"2026-03-01T22:14:05Z")";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

TEST_F(BodyTest, SingleObject) {
  const std::string body = "  \n" + event_line("a") + "\n\n";
  const BodyResult r = run(body);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.events[0].id, "a");
  EXPECT_EQ(r.events[0].line, 0u);
  EXPECT_EQ(r.events[0].offset, 3u);
}

TEST_F(BodyTest, SingleBadObject) {
  const BodyResult r = run(event_line("a", R"("confidence":1.7)"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0u);
  EXPECT_EQ(r.errors[0].field, "confidence");
}

TEST_F(BodyTest, PrettyPrintedObject) {
  const std::string body =
      "{\n  \"id\": \"p-1\",\n  \"source\": \"cad\",\n  \"type\": \"cad.call\",\n"
      "  \"time\": \"2026-03-01T22:14:05Z\",\n  \"data\": {\n    \"a\": 1\n  }\n}\n";
  const BodyResult r = run(body);
  ASSERT_EQ(r.events.size(), 1u) << (r.errors.empty() ? "" : r.errors[0].reason);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.events[0].id, "p-1");
  EXPECT_EQ(r.events[0].line, 0u);

  const BodyResult bad = run("{\n  \"id\": \"p-1\",\n  \"confidence\": 7\n}");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].line, 0u);
  EXPECT_EQ(bad.errors[0].field, "confidence");
  EXPECT_TRUE(bad.events.empty());
}

TEST_F(BodyTest, UnparseableBodyIsReportedOnce) {
  const BodyResult r = run("{\n  \"id\": \"p-1\",\n  \"source\" \"cad\"\n}\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0u);
  EXPECT_EQ(r.errors[0].field, "");
  EXPECT_EQ(r.errors[0].reason.rfind("not valid JSON", 0), 0u) << r.errors[0].reason;
  EXPECT_TRUE(r.events.empty());

  const BodyResult empty = run(" \n\t ");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].reason, "empty body");
}

TEST_F(BodyTest, NdjsonReportsLineNumbersAndOffsets) {
  const std::string l1 = event_line("a");
  const std::string l3 = R"({"id":"b", oops})";
  const std::string l4 = event_line("c", R"("severity":"bad")");
  const std::string l5 = event_line("d");
  const std::string body = l1 + "\n\n" + l3 + "\r\n" + l4 + "\n" + l5;
  const BodyResult r = run(body);
  ASSERT_EQ(r.events.size(), 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.events[0].id, "a");
  EXPECT_EQ(r.events[0].line, 1u);
  EXPECT_EQ(r.events[0].offset, 0u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].offset, body.find(l3));
  EXPECT_EQ(r.errors[0].field, "");
  EXPECT_EQ(r.errors[1].line, 4u);
  EXPECT_EQ(r.errors[1].offset, body.find(l4));
  EXPECT_EQ(r.errors[1].field, "severity");
  EXPECT_EQ(r.events[1].id, "d");
  EXPECT_EQ(r.events[1].line, 5u);
  EXPECT_EQ(r.events[1].offset, body.find(l5));
  EXPECT_EQ(std::string(r.order.begin(), r.order.end()), "exxe");
}

TEST_F(BodyTest, NdjsonWithBadFirstLinesKeepsOrder) {
  const std::string body = "not json\n{\"x\":\n" + event_line("a") + "\n" + event_line("b") + "\n";
  const BodyResult r = run(body);
  ASSERT_EQ(r.errors.size(), 2u);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 1u);
  EXPECT_EQ(r.errors[0].offset, 0u);
  EXPECT_EQ(r.errors[1].line, 2u);
  EXPECT_EQ(r.errors[1].offset, 9u);
  EXPECT_EQ(r.events[0].line, 3u);
  EXPECT_EQ(r.events[1].line, 4u);
  EXPECT_EQ(std::string(r.order.begin(), r.order.end()), "xxee");
}

TEST_F(BodyTest, ArrayWithBadElements) {
  const std::string e1 = event_line("a");
  const std::string e2 = event_line("b", R"("confidence":1.7)");
  const std::string e4 = event_line("d", R"("data":{"k":[1,2,3]})");
  const std::string body = "[ " + e1 + ",\n " + e2 + ", 5,\n" + e4 + " , [1] ]";
  const BodyResult r = run(body);
  ASSERT_EQ(r.events.size(), 2u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.events[0].id, "a");
  EXPECT_EQ(r.events[0].line, 1u);
  EXPECT_EQ(r.events[0].offset, body.find(e1));
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].offset, body.find(e2));
  EXPECT_EQ(r.errors[0].field, "confidence");
  EXPECT_EQ(r.errors[1].line, 3u);
  EXPECT_EQ(r.errors[1].offset, body.find(", 5,") + 2);
  EXPECT_EQ(r.errors[1].reason, "expected an object, got number");
  EXPECT_EQ(r.events[1].id, "d");
  EXPECT_EQ(r.events[1].line, 4u);
  EXPECT_EQ(r.events[1].offset, body.find(e4));
  EXPECT_EQ(r.errors[2].line, 5u);
  EXPECT_EQ(r.errors[2].reason, "expected an object, got array");
}

TEST_F(BodyTest, ArraySyntaxErrorStopsThere) {
  const std::string body =
      "[" + event_line("a") + "," + event_line("b", R"("x":tru)") + "," + event_line("c") + "]";
  const BodyResult r = run(body);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].id, "a");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].field, "");
}

TEST_F(BodyTest, ArrayShapes) {
  EXPECT_TRUE(run("[]").events.empty());
  EXPECT_TRUE(run("[]").errors.empty());

  const BodyResult unclosed = run("[" + event_line("a"));
  ASSERT_EQ(unclosed.errors.size(), 1u);
  EXPECT_EQ(unclosed.errors[0].line, 0u);
  EXPECT_EQ(unclosed.errors[0].reason, "not valid JSON: the array is not closed");
  EXPECT_TRUE(unclosed.events.empty());

  const std::string body = "[" + event_line("a") + "] x";
  const BodyResult trailing = run(body);
  ASSERT_EQ(trailing.errors.size(), 1u);
  EXPECT_EQ(trailing.errors[0].line, 0u);
  EXPECT_EQ(trailing.errors[0].reason,
            "not valid JSON: content after the array at byte " + std::to_string(body.size() - 1));
}

TEST_F(BodyTest, EventsPointIntoTheBody) {
  const std::string body = event_line("a") + "\n" + event_line("b");
  Padded p(body);
  std::vector<std::string_view> ids;
  decoder_.decode_body(
      p.view(), [&](Event& ev) { ids.push_back(ev.id); }, [](uint64_t, uint64_t, const Error&) {});
  ASSERT_EQ(ids.size(), 2u);
  for (auto id : ids) {
    EXPECT_GE(id.data(), p.view().data());
    EXPECT_LE(id.data() + id.size(), p.view().data() + p.view().size());
  }
}

TEST(DecoderOptions, RejectsUnusableOptions) {
  Interner s, t;
  DecoderOptions o;
  o.allowed_sources.clear();
  EXPECT_THROW(EventDecoder(o, s, t), std::invalid_argument);
  o = DecoderOptions{};
  o.bounds = {42, -87, 41, -86};
  EXPECT_THROW(EventDecoder(o, s, t), std::invalid_argument);
}

}  // namespace cloudevents_test
}  // namespace sentinel
