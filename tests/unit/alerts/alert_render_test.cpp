// render_alert's fragment writer and render_alert_appending's memos against
// the JsonWriter rendering they replaced, and JsonWriter::append_string's
// eight-bytes-at-a-time scan against the byte-by-byte escaper.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/score.h"
#include "core/json_writer.h"
#include "core/time.h"

namespace sentinel {
namespace alert_render_test {

double shown(double v) {
  const double r = round_term(v);
  return r == 0 ? 0.0 : r;
}

void time_member(JsonWriter& w, std::string& out, std::string_view key, EventTime t) {
  w.key(key).raw("\"");
  append_rfc3339(out, t);
  out.push_back('"');
}

// The JsonWriter rendering render_alert() had before it wrote fragments.
std::string reference_render(const Alert& a) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.member("alert_id", a.alert_id);
  w.member("dedup_key", a.dedup_key);
  w.member("type", alert_type_name(a.type));
  w.member("status", alert_status_name(a.status));
  w.member("priority", priority_name(a.score.priority));
  w.member("score", shown(a.score.score));
  w.key("confidence");
  if (a.has_confidence) {
    w.number(shown(a.confidence));
  } else {
    w.null();
  }
  w.member("verified", a.verified);
  const ScoreTerms& t = a.score.terms;
  w.key("terms").begin_object();
  w.member("threat_severity", shown(t.threat_severity));
  w.member("model_confidence", shown(t.model_confidence));
  w.member("corroboration", shown(t.corroboration));
  w.member("temporal_urgency", shown(t.temporal_urgency));
  w.member("spatial_sensitivity", shown(t.spatial_sensitivity));
  w.member("boost", shown(t.boost));
  w.end_object();
  w.key("sources").begin_array();
  for (const std::string& s : a.sources) w.string(s);
  w.end_array();
  w.key("event_ids").begin_array();
  for (const std::string& id : a.event_ids) w.string(id);
  w.end_array();
  if (a.has_location) {
    w.member("lat", a.lat);
    w.member("lon", a.lon);
    w.member("cell", a.cell_token);
  } else {
    w.key("lat").null();
    w.key("lon").null();
    w.key("cell").null();
  }
  w.key("district");
  if (a.district.empty()) {
    w.null();
  } else {
    w.string(a.district);
  }
  time_member(w, out, "event_time", a.event_time);
  time_member(w, out, "emitted_at", a.emitted_at);
  w.member("count", a.count);
  w.member("bias_review", a.bias_review);
  w.member("category", a.category);
  w.member("revision", a.revision);
  time_member(w, out, "first_seen", a.first_seen);
  time_member(w, out, "last_seen", a.last_seen);
  w.end_object();
  return out;
}

// Strings that exercise every escaping path: plain ids, quotes, backslashes,
// control bytes, valid and invalid UTF-8, lengths around the 8-byte blocks.
std::string random_text(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {"e", "7", "-", "\"", "\\", "\n", std::string(1, '\0'),
                                                  "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                                  "\xc3", "\xed\xa0\x80", "\xff", "abcdefgh", " "};
  std::string s;
  const size_t n = rng() % 12;
  for (size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s;
}

double random_value(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return 0.0;
    case 1:
      return -0.00001;  // rounds to -0
    case 2:
      return std::numeric_limits<double>::quiet_NaN();
    case 3:
      return 1.0;
    default:
      return static_cast<double>(rng() % 20001) / 10000.0 - 0.5;
  }
}

TEST(AlertRender, FragmentsAndMemosGiveTheJsonWriterBytes) {
  std::mt19937_64 rng(7);
  for (int alert = 0; alert < 200; ++alert) {
    Alert a;
    a.alert_id = "a-" + std::to_string(alert);
    a.dedup_key = "sensor/89c2a4b/" + random_text(rng);
    a.type = static_cast<AlertType>(rng() % 5);
    a.status = rng() % 2 ? AlertStatus::kAlert : AlertStatus::kTrendWatch;
    a.category = random_text(rng);
    a.has_location = rng() % 3 != 0;
    a.lat = 41.8 + static_cast<double>(rng() % 1000) / 1e5;
    a.lon = -87.6 - static_cast<double>(rng() % 1000) / 1e5;
    a.cell_token = random_text(rng);
    a.district = rng() % 2 ? "" : random_text(rng);
    a.sources = {"cad", random_text(rng)};
    a.event_time = a.first_seen = a.last_seen = a.emitted_at = *parse_rfc3339("2026-03-01T22:00:00Z");
    for (int step = 0; step < 30; ++step) {
      // An update: ids appended, sometimes a new score, flags, times.
      const size_t more = rng() % 4;
      for (size_t i = 0; i < more; ++i) a.event_ids.push_back(random_text(rng));
      if (rng() % 3 == 0) {
        a.score.score = random_value(rng);
        a.score.priority = static_cast<Priority>(rng() % 4);
        a.score.terms = {random_value(rng), random_value(rng), random_value(rng),
                         random_value(rng), random_value(rng), random_value(rng)};
        a.confidence = random_value(rng);
      }
      if (rng() % 5 == 0) a.has_confidence = !a.has_confidence;
      if (rng() % 5 == 0) a.verified = !a.verified;
      if (rng() % 7 == 0) a.bias_review = !a.bias_review;
      if (rng() % 11 == 0) a.lat = std::numeric_limits<double>::infinity();
      a.count += more;
      ++a.revision;
      a.last_seen = a.last_seen + Millis(static_cast<int64_t>(rng() % 100000));
      a.emitted_at = a.last_seen;
      const std::string expected = reference_render(a);
      std::string plain, appending;
      render_alert(a, plain);
      render_alert_appending(a, appending);
      ASSERT_EQ(plain, expected) << "alert " << alert << " step " << step;
      ASSERT_EQ(appending, expected) << "alert " << alert << " step " << step;
    }
  }
}

TEST(AlertRender, MemoStartsOverWhenTheIdListShrinks) {
  Alert a;
  a.alert_id = "a-1";
  a.event_ids = {"e1", "e2", "e3"};
  std::string out;
  render_alert_appending(a, out);
  EXPECT_EQ(out, reference_render(a));
  a.event_ids = {"x"};
  out.clear();
  render_alert_appending(a, out);
  EXPECT_EQ(out, reference_render(a));
  EXPECT_NE(out.find(R"("event_ids":["x"])"), std::string::npos);
  // A copy carries the memo and goes on from it.
  Alert b = a;
  b.event_ids.push_back("y\"");
  out.clear();
  render_alert_appending(b, out);
  EXPECT_EQ(out, reference_render(b));
}

// JsonWriter::append_string as it was: one byte at a time.
void reference_escape(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, sizeof esc);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      // Unicode Table 3-7; an ill-formed subsequence becomes one U+FFFD.
      size_t len = 0;
      unsigned char lo = 0x80, hi = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) len = 2;
      if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      size_t k = 1;
      while (len != 0 && k < len && i + k < s.size() && p[i + k] >= (k == 1 ? lo : 0x80) &&
             p[i + k] <= (k == 1 ? hi : 0xBF)) {
        ++k;
      }
      if (len != 0 && k == len) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out.append("\xEF\xBF\xBD");
        i += k;
      }
    }
  }
  out.push_back('"');
}

TEST(JsonEscapeFastPath, SameBytesAsTheByteByByteEscaper) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const size_t n = rng() % 40;
    const int mode = static_cast<int>(rng() % 3);
    for (size_t k = 0; k < n; ++k) {
      // Mostly plain ASCII, so the eight-byte scan runs long before a hit.
      const unsigned char c = mode == 0 ? static_cast<unsigned char>(rng() % 256)
                              : rng() % 16 == 0 ? static_cast<unsigned char>(rng() % 256)
                                                : static_cast<unsigned char>(0x20 + rng() % 95);
      s.push_back(static_cast<char>(c));
    }
    std::string expected = "x", got = "x";
    reference_escape(expected, s);
    JsonWriter::append_string(got, s);
    ASSERT_EQ(got, expected) << "input of " << s.size() << " bytes, case " << i;
  }
  // Every special byte at every position of a 16-byte string.
  for (int c : {0x00, 0x1f, 0x22, 0x5c, 0x80, 0xff}) {  // NUL, US, '"', '\\', 0x80, 0xff
    for (size_t at = 0; at < 16; ++at) {
      std::string s(16, 'a');
      s[at] = static_cast<char>(c);
      std::string expected, got;
      reference_escape(expected, s);
      JsonWriter::append_string(got, s);
      ASSERT_EQ(got, expected) << "byte " << c << " at " << at;
    }
  }
}

}  // namespace alert_render_test
}  // namespace sentinel
