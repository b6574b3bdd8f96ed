#include "alerts/cap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/alert_store.h"
#include "core/time.h"

namespace sentinel {
namespace cap_test {

using ::testing::ElementsAre;

const int64_t kT0 = to_ms(*parse_rfc3339("2026-03-01T22:00:00Z"));
constexpr const char* kCapNs = "urn:oasis:names:tc:emergency:cap:1.2";

Alert make_alert(std::string id, double score, Priority priority) {
  Alert a;
  a.alert_id = std::move(id);
  a.dedup_key = "correlation/89c2a4b/cad.call.weapon";
  a.type = AlertType::kCorrelation;
  a.category = "cad.call.weapon";
  a.cell_token = "89c2a4b";
  a.score.score = score;
  a.score.priority = priority;
  a.score.terms = {1.0, 0.83, 0.5, 0.97, 0.0, 0.15};
  a.confidence = 0.95;
  a.has_confidence = true;
  a.verified = true;
  a.sources = {"cad", "cctv"};
  a.event_ids = {"cad-000123", "cctv-88"};
  a.has_location = true;
  a.lat = 41.8781;
  a.lon = -87.6298;
  a.district = "Loop";
  a.event_time = event_time_from_ms(kT0 - 5000);
  a.first_seen = a.last_seen = a.emitted_at = a.event_time;
  a.count = 2;
  return a;
}

// Stores the alerts the way the server does, and returns them as the API has them.
std::vector<StoredAlert> store_all(const std::vector<Alert>& alerts, WallMs now) {
  AlertStore store(QueueConfig{});
  std::vector<const Alert*> ptrs;
  std::vector<std::string> records;
  for (const Alert& a : alerts) {
    ptrs.push_back(&a);
    records.emplace_back();
    render_alert(a, records.back());
  }
  std::vector<std::string_view> views(records.begin(), records.end());
  store.upsert(ptrs, views, now);
  std::vector<StoredAlert> out;
  for (const Alert& a : alerts) out.push_back(*store.get(a.alert_id));
  return out;
}

StoredAlert one(const Alert& a, WallMs now = kT0 + 1234) { return store_all({a}, now)[0]; }

std::string text(pugi::xml_node n, const char* child) { return n.child(child).text().as_string(); }

std::vector<std::string> child_names(pugi::xml_node n) {
  std::vector<std::string> out;
  for (pugi::xml_node c : n.children()) out.emplace_back(c.name());
  return out;
}

std::map<std::string, std::string> parameters(pugi::xml_node info) {
  std::map<std::string, std::string> out;
  for (pugi::xml_node p : info.children("parameter")) out[text(p, "valueName")] = text(p, "value");
  return out;
}

pugi::xml_node parse_alert(pugi::xml_document& doc, const std::string& xml) {
  const pugi::xml_parse_result r = doc.load_string(xml.c_str());
  EXPECT_TRUE(r) << r.description() << "\n" << xml;
  pugi::xml_node alert = doc.child("alert");
  EXPECT_STREQ(alert.attribute("xmlns").value(), kCapNs);
  return alert;
}

// The CAP 1.2 schema's dateTime pattern: \d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d
// (checked by hand: std::regex trips -Wmaybe-uninitialized in the sanitizer build).
bool is_cap_time(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd?dd:dd";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char want = shape[i];
    if (want == 'd' ? (s[i] < '0' || s[i] > '9') : want == '?' ? (s[i] != '-' && s[i] != '+') : s[i] != want) {
      return false;
    }
  }
  return true;
}

TEST(Cap, TimesAreCapDateTimes) {
  EXPECT_EQ(format_cap_time(kT0 + 1999), "2026-03-01T22:00:01-00:00");
  EXPECT_EQ(format_cap_time(0), "1970-01-01T00:00:00-00:00");
  EXPECT_EQ(format_cap_time(-1), "1969-12-31T23:59:59-00:00");  // floor, not toward zero
  EXPECT_TRUE(is_cap_time(format_cap_time(kT0 + 5)));
  EXPECT_FALSE(is_cap_time("2026-03-01T22:00:01Z"));
  EXPECT_FALSE(is_cap_time("2026-03-01T22:00:01.000-00:00"));
}

TEST(Cap, OneAlertHasEveryRequiredElementInSchemaOrder) {
  CapOptions o;
  o.sender = "sentinel@ops.example";
  o.base_url = "http://127.0.0.1:8080";
  const StoredAlert s = one(make_alert("a-0011223344556677", 0.912345, Priority::kP0));
  pugi::xml_document doc;
  pugi::xml_node alert = parse_alert(doc, render_cap_alert(s, o));
  EXPECT_THAT(child_names(alert), ElementsAre("identifier", "sender", "sent", "status", "msgType", "scope", "info"));
  EXPECT_EQ(text(alert, "identifier"), "a-0011223344556677");
  EXPECT_EQ(text(alert, "sender"), "sentinel@ops.example");
  EXPECT_EQ(text(alert, "sent"), "2026-03-01T22:00:01-00:00");
  EXPECT_EQ(text(alert, "status"), "Actual");
  EXPECT_EQ(text(alert, "msgType"), "Alert");
  EXPECT_EQ(text(alert, "scope"), "Public");

  pugi::xml_node info = alert.child("info");
  std::vector<std::string> names = child_names(info);
  const std::vector<std::string> head = {"language", "category", "event", "urgency", "severity", "certainty",
                                         "eventCode", "onset", "senderName", "headline", "description", "web"};
  ASSERT_GE(names.size(), head.size() + 2);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + static_cast<long>(head.size())), head);
  EXPECT_EQ(names.back(), "area");
  for (size_t i = head.size(); i + 1 < names.size(); ++i) EXPECT_EQ(names[i], "parameter");
  EXPECT_EQ(text(info, "language"), "en-US");
  EXPECT_EQ(text(info, "category"), "Security");
  EXPECT_EQ(text(info, "event"), "cad.call.weapon");
  EXPECT_EQ(text(info, "urgency"), "Immediate");
  EXPECT_EQ(text(info, "severity"), "Extreme");
  EXPECT_EQ(text(info, "certainty"), "Observed");  // verified, confidence 0.95
  EXPECT_EQ(text(info.child("eventCode"), "valueName"), "sentinel:type");
  EXPECT_EQ(text(info.child("eventCode"), "value"), "correlation");
  EXPECT_EQ(text(info, "onset"), "2026-03-01T21:59:55-00:00");
  EXPECT_TRUE(is_cap_time(text(info, "onset")));
  EXPECT_EQ(text(info, "headline"), "P0 cad.call.weapon in Loop");
  EXPECT_EQ(text(info, "web"), "http://127.0.0.1:8080/v1/alerts/a-0011223344556677");
  const std::string description = text(info, "description");
  EXPECT_NE(description.find("score 0.9123"), std::string::npos) << description;
  EXPECT_NE(description.find("threat_severity 1, model_confidence 0.83, corroboration 0.5, temporal_urgency 0.97, "
                             "spatial_sensitivity 0, boost 0.15"),
            std::string::npos)
      << description;
  EXPECT_NE(description.find("Sources: cad, cctv."), std::string::npos);
  EXPECT_NE(description.find("Events (2): cad-000123, cctv-88."), std::string::npos);

  const auto p = parameters(info);
  EXPECT_EQ(p.at("sentinel:priority"), "P0");
  EXPECT_EQ(p.at("sentinel:score"), "0.9123");
  EXPECT_EQ(p.at("sentinel:confidence"), "0.95");
  EXPECT_EQ(p.at("sentinel:verified"), "true");
  EXPECT_EQ(p.at("sentinel:term:threat_severity"), "1");
  EXPECT_EQ(p.at("sentinel:term:boost"), "0.15");
  EXPECT_EQ(p.at("sentinel:sources"), "cad cctv");
  EXPECT_EQ(p.at("sentinel:event_count"), "2");
  EXPECT_EQ(p.count("sentinel:verdict"), 0u);

  pugi::xml_node area = info.child("area");
  EXPECT_THAT(child_names(area), ElementsAre("areaDesc", "circle"));
  EXPECT_EQ(text(area, "areaDesc"), "Loop");
  EXPECT_EQ(text(area, "circle"), "41.8781,-87.6298 0.5");
}

TEST(Cap, UrgencySeverityCertaintyMapping) {
  struct Case {
    Priority priority;
    AlertStatus status;
    bool verified;
    double confidence;
    Verdict verdict;
    const char *urgency, *severity, *certainty;
  };
  const Case cases[] = {
      {Priority::kP0, AlertStatus::kAlert, true, 0.95, Verdict::kNone, "Immediate", "Extreme", "Observed"},
      {Priority::kP1, AlertStatus::kAlert, true, 0.6, Verdict::kNone, "Immediate", "Severe", "Likely"},
      {Priority::kP2, AlertStatus::kAlert, false, 0.7, Verdict::kNone, "Expected", "Moderate", "Likely"},
      {Priority::kP3, AlertStatus::kAlert, false, 0.4, Verdict::kNone, "Future", "Minor", "Possible"},
      {Priority::kP1, AlertStatus::kTrendWatch, true, 0.95, Verdict::kNone, "Future", "Minor", "Possible"},
      {Priority::kP2, AlertStatus::kAlert, false, 0.1, Verdict::kTruePositive, "Expected", "Moderate", "Observed"},
      {Priority::kP0, AlertStatus::kAlert, true, 0.99, Verdict::kFalsePositive, "Immediate", "Extreme", "Unlikely"},
  };
  for (const Case& c : cases) {
    Alert a = make_alert("a-1", 0.5, c.priority);
    a.status = c.status;
    a.verified = c.verified;
    a.confidence = c.confidence;
    StoredAlert s = one(a);
    s.verdict = c.verdict;
    s.verdict_at = c.verdict == Verdict::kNone ? 0 : kT0 + 9000;
    pugi::xml_document doc;
    pugi::xml_node info = parse_alert(doc, render_cap_alert(s, CapOptions{})).child("info");
    EXPECT_EQ(text(info, "urgency"), c.urgency);
    EXPECT_EQ(text(info, "severity"), c.severity);
    EXPECT_EQ(text(info, "certainty"), c.certainty);
  }
}

TEST(Cap, UpdatesAndCancelsReferenceTheFirstMessage) {
  Alert a = make_alert("a-9", 0.7, Priority::kP1);
  a.revision = 2;
  StoredAlert s = one(a, kT0 + 1000);
  s.received_at = kT0 - 60'000;  // first received a minute earlier
  CapOptions o;
  o.sender = "sentinel@host";
  {
    pugi::xml_document doc;
    pugi::xml_node alert = parse_alert(doc, render_cap_alert(s, o));
    EXPECT_EQ(text(alert, "identifier"), "a-9-r2");
    EXPECT_EQ(text(alert, "msgType"), "Update");
    EXPECT_EQ(text(alert, "references"), "sentinel@host,a-9,2026-03-01T21:59:00-00:00");
    EXPECT_THAT(child_names(alert),
                ElementsAre("identifier", "sender", "sent", "status", "msgType", "scope", "references", "info"));
  }
  s.verdict = Verdict::kFalsePositive;
  s.verdict_at = kT0 + 7000;
  s.verdict_by = "analyst-1";
  s.verdict_note = "test button";
  {
    pugi::xml_document doc;
    pugi::xml_node alert = parse_alert(doc, render_cap_alert(s, o));
    EXPECT_EQ(text(alert, "identifier"), "a-9-r2-cancel");
    EXPECT_EQ(text(alert, "msgType"), "Cancel");
    EXPECT_EQ(text(alert, "sent"), "2026-03-01T22:00:07-00:00");
    EXPECT_EQ(text(alert, "note"), "Marked false positive by analyst-1: test button");
    EXPECT_THAT(child_names(alert), ElementsAre("identifier", "sender", "sent", "status", "msgType", "scope", "note",
                                                "references", "info"));
    EXPECT_EQ(parameters(alert.child("info")).at("sentinel:verdict"), "false_positive");
  }
}

TEST(Cap, AreaFollowsWhatIsKnownAndCategoryFollowsTheEvent) {
  Alert a = make_alert("a-1", 0.5, Priority::kP2);
  a.category = "cad.call.fire";
  a.has_location = false;
  pugi::xml_document d1;
  pugi::xml_node info = parse_alert(d1, render_cap_alert(one(a), CapOptions{})).child("info");
  EXPECT_EQ(text(info, "category"), "Fire");
  EXPECT_THAT(child_names(info.child("area")), ElementsAre("areaDesc"));
  a.district.clear();
  pugi::xml_document d2;
  info = parse_alert(d2, render_cap_alert(one(a), CapOptions{})).child("info");
  EXPECT_FALSE(info.child("area"));
  a.has_location = true;
  a.category = "sensor.gunshot";
  pugi::xml_document d3;
  info = parse_alert(d3, render_cap_alert(one(a), CapOptions{})).child("info");
  EXPECT_EQ(text(info, "category"), "Security");
  EXPECT_EQ(text(info.child("area"), "areaDesc"), "Around 41.8781,-87.6298");
  EXPECT_EQ(text(info, "headline"), "P2 sensor.gunshot at 41.8781,-87.6298");
}

TEST(Cap, SpecialCharactersAreEscapedAndInvalidOnesReplaced) {
  Alert a = make_alert("a-1", 0.5, Priority::kP2);
  a.district = "Back of the Yards & <Main> \"St\" 'x'";
  StoredAlert s = one(a);
  s.verdict = Verdict::kTruePositive;
  s.verdict_at = kT0 + 1;
  s.verdict_note = std::string("bell\x07 bad\xff utf8 \xc3\xa9");
  const std::string xml = render_cap_alert(s, CapOptions{});
  EXPECT_NE(xml.find("Back of the Yards &amp; &lt;Main&gt;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\x07'), std::string::npos);
  pugi::xml_document doc;
  pugi::xml_node info = parse_alert(doc, xml).child("info");
  EXPECT_EQ(text(info.child("area"), "areaDesc"), a.district);
  EXPECT_NE(text(info, "description").find("(bell\xEF\xBF\xBD bad\xEF\xBF\xBD utf8 \xc3\xa9)"), std::string::npos)
      << text(info, "description");
  EXPECT_EQ(text(info, "headline"), "P2 cad.call.weapon in " + a.district);
}

TEST(Cap, FeedIsAtomWithOneCapAlertPerEntry) {
  std::vector<Alert> alerts = {make_alert("a-1", 0.9, Priority::kP0), make_alert("a-2", 0.5, Priority::kP2)};
  alerts[1].revision = 1;
  const std::vector<StoredAlert> stored = store_all(alerts, kT0 + 2000);
  CapOptions o;
  o.base_url = "http://127.0.0.1:8080";
  const std::string xml = render_cap(stored, o);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u) << xml;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  pugi::xml_node feed = doc.child("feed");
  EXPECT_STREQ(feed.attribute("xmlns").value(), "http://www.w3.org/2005/Atom");
  EXPECT_EQ(text(feed, "id"), "urn:sentinel:cap");
  EXPECT_EQ(text(feed, "updated"), "2026-03-01T22:00:02Z");
  EXPECT_EQ(text(feed.child("author"), "name"), "Sentinel");
  EXPECT_STREQ(feed.child("link").attribute("rel").value(), "self");
  std::vector<std::string> identifiers;
  for (pugi::xml_node entry : feed.children("entry")) {
    EXPECT_FALSE(text(entry, "id").empty());
    EXPECT_FALSE(text(entry, "title").empty());
    EXPECT_FALSE(text(entry, "updated").empty());
    pugi::xml_node content = entry.child("content");
    EXPECT_STREQ(content.attribute("type").value(), "application/cap+xml");
    pugi::xml_node alert = content.child("alert");
    EXPECT_STREQ(alert.attribute("xmlns").value(), kCapNs);
    EXPECT_TRUE(is_cap_time(text(alert, "sent")));
    EXPECT_EQ(text(entry, "id"), "urn:sentinel:cap:" + text(alert, "identifier"));
    identifiers.push_back(text(alert, "identifier"));
  }
  EXPECT_THAT(identifiers, ElementsAre("a-1", "a-2-r1"));

  // Empty: still a valid feed, dated by options.now or the epoch.
  pugi::xml_document empty;
  ASSERT_TRUE(empty.load_string(render_cap({}, CapOptions{}).c_str()));
  EXPECT_EQ(text(empty.child("feed"), "updated"), "1970-01-01T00:00:00Z");
  EXPECT_FALSE(empty.child("feed").child("entry"));
  CapOptions dated;
  dated.now = kT0;
  ASSERT_TRUE(empty.load_string(render_cap({}, dated).c_str()));
  EXPECT_EQ(text(empty.child("feed"), "updated"), "2026-03-01T22:00:00Z");
}

TEST(Cap, RestrictedScopeAndOptionChecks) {
  CapOptions o;
  EXPECT_TRUE(validate_cap_options(o).ok());
  o.scope = "Restricted";
  EXPECT_EQ(validate_cap_options(o).error().field, "restriction");
  o.restriction = "police only";
  ASSERT_TRUE(validate_cap_options(o).ok());
  pugi::xml_document doc;
  pugi::xml_node alert = parse_alert(doc, render_cap_alert(one(make_alert("a-1", 0.5, Priority::kP2)), o));
  EXPECT_EQ(text(alert, "scope"), "Restricted");
  EXPECT_EQ(text(alert, "restriction"), "police only");
  EXPECT_EQ(std::string(alert.child("scope").next_sibling().name()), "restriction");

  auto field = [](auto&& change) {
    CapOptions c;
    change(c);
    auto r = validate_cap_options(c);
    return r.ok() ? std::string("ok") : r.error().field;
  };
  EXPECT_EQ(field([](CapOptions& c) { c.sender = "a b"; }), "sender");
  EXPECT_EQ(field([](CapOptions& c) { c.sender = "a,b"; }), "sender");
  EXPECT_EQ(field([](CapOptions& c) { c.sender = ""; }), "sender");
  EXPECT_EQ(field([](CapOptions& c) { c.status = "Real"; }), "status");
  EXPECT_EQ(field([](CapOptions& c) { c.status = "Exercise"; }), "ok");
  EXPECT_EQ(field([](CapOptions& c) { c.scope = "Private"; }), "scope");
  EXPECT_EQ(field([](CapOptions& c) { c.radius_km = -1; }), "radius_km");
  EXPECT_EQ(field([](CapOptions& c) { c.feed_id = ""; }), "feed_id");
}

}  // namespace cap_test
}  // namespace sentinel
