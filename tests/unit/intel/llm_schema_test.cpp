// The JSON-schema subset validator, the schemas themselves, and the mapping
// of answers (times, places) to Sentinel's values.
#include "intel/llm_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "intel/llm_answer.h"
#include "intel/llm_errors.h"

namespace sentinel::intel {
namespace llm_schema_test {

using nlohmann::json;
using ::testing::HasSubstr;

json incident(const std::string& type, json time) {
  return json{{"type", type},          {"time", std::move(time)}, {"place", nullptr},
              {"actors", json::array()}, {"perpetrator_org", nullptr}, {"targets", json::array()},
              {"confidence", 0.5}};
}

TEST(LlmSchemaTest, ValidatorKeywords) {
  json schema = json::parse(R"({"type":"object","additionalProperties":false,"required":["a"],
    "properties":{"a":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"integer","minimum":0}},
                  "b":{"type":["string","null"],"maxLength":3},
                  "c":{"enum":["x","y"]},"d":{"const":7},
                  "e":{"anyOf":[{"type":"null"},{"type":"string","format":"date"}]}}})");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1,2],"b":"héé","c":"x","d":7,"e":"2024-02-29"})")), "");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1.0]})")), "");  // 1.0 is an integer
  EXPECT_EQ(validate_json(schema, json::parse(R"({})")), "$: missing required \"a\"");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[]})")), "$.a: fewer than 1 items");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1,2,3]})")), "$.a: more than 2 items");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[-1]})")), "$.a[0]: below the minimum 0");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1.5]})")), "$.a[0]: expected integer, got number");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1],"b":"abcd"})")), "$.b: more than 3 characters");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1],"b":1})")), "$.b: expected string, null, got integer");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1],"c":"z"})")), "$.c: not one of x, y");
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1],"d":8})")), "$.d: must be 7");
  EXPECT_THAT(validate_json(schema, json::parse(R"({"a":[1],"e":"2023-02-29"})")),
              HasSubstr("$.e: matches none of the allowed forms"));
  EXPECT_EQ(validate_json(schema, json::parse(R"({"a":[1],"z":1})")), "$.z: unexpected property");
  // Unsupported keywords fail closed.
  EXPECT_THAT(validate_json(json::parse(R"({"pattern":"^a"})"), "a"), HasSubstr("unsupported keyword \"pattern\""));
}

TEST(LlmSchemaTest, ExtractionSchemaTypesAndTimes) {
  const json& s = extraction_schema();
  EXPECT_EQ(validate_json(s, incident("shooting", nullptr)), "");
  EXPECT_EQ(validate_json(s, incident("none", nullptr)), "");
  EXPECT_EQ(validate_json(s, incident("forced_work_stoppage", "2024-03-02")), "");
  EXPECT_EQ(validate_json(s, incident("arrest", "2024-03-02T23:30")), "");
  EXPECT_EQ(validate_json(s, incident("arrest", "2024-03-02T23:30:05.25-05:00")), "");
  EXPECT_EQ(validate_json(s, incident("arrest", "2024-03-02T23:30Z")), "");
  EXPECT_THAT(validate_json(s, incident("unknown", nullptr)), HasSubstr("$.type: not one of"));
  EXPECT_THAT(validate_json(s, incident("riot", nullptr)), HasSubstr("$.type"));
  for (const char* bad : {"2024-13-01", "2024-03-02 23:30", "2024-03-02T24:00", "03/02/2024", "2024-03-02T23:30+5"}) {
    EXPECT_THAT(validate_json(s, incident("arrest", bad)), HasSubstr("$.time")) << bad;
  }
}

TEST(LlmSchemaTest, DomainsHoldTheirTypes) {
  EXPECT_TRUE(domain_has_type("crime", "shooting"));
  EXPECT_FALSE(domain_has_type("crime", "arrest"));
  EXPECT_TRUE(domain_has_type("enforcement", "arrest"));
  EXPECT_TRUE(domain_has_type("political_violence", "bombing"));
  EXPECT_TRUE(domain_has_type("political_violence", "forced_work_stoppage"));
  EXPECT_FALSE(domain_has_type("political_violence", "drugs"));
  EXPECT_EQ(domain_schema("weather"), nullptr);
  ASSERT_NE(domain_schema("enforcement"), nullptr);
  json answer = {{"domain", "enforcement"}, {"incidents", json::array({incident("arrest", nullptr)})}};
  EXPECT_EQ(validate_json(*domain_schema("enforcement"), answer), "");
  EXPECT_THAT(validate_json(*domain_schema("crime"), answer), HasSubstr("$.domain: must be \"crime\""));
  EXPECT_EQ(domain_names().front(), "political_violence");
}

TEST(LlmAnswerTest, ParsesOnlyOneJsonObject) {
  const json& s = extraction_schema();
  std::string ok = incident("theft", nullptr).dump();
  EXPECT_TRUE(parse_model_answer(ok, s).ok());
  EXPECT_TRUE(parse_model_answer("  \n```json\n" + ok + "\n```\n", s).ok());
  EXPECT_TRUE(parse_model_answer("```\n" + ok + "\n```", s).ok());
  for (std::string bad : {"Here it is: " + ok, ok + " trailing", std::string("```python\n") + ok + "\n```",
                          std::string(""), std::string("null")}) {
    Result<json> r = parse_model_answer(bad, s);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, kExtractPermanent);
  }
}

TEST(LlmAnswerTest, TimesMapToDaysAndInstants) {
  AnswerContext c;
  c.published_ms = 1709510400000;  // 2024-03-04T00:00Z
  Incident day = incident_from_json(incident("theft", "2024-03-02"), c);
  EXPECT_EQ(day.occurred.precision, TimePrecision::kDay);
  EXPECT_EQ(day.occurred.basis, DateBasis::kAbsolute);
  EXPECT_EQ(day.occurred.first_day, 19784);  // days since 1970-01-01
  EXPECT_EQ(day.occurred.start_ms, 19784LL * 86400000);
  EXPECT_EQ(day.occurred.end_ms, 19785LL * 86400000 - 1);

  c.utc_offset_minutes = [](int64_t) { return -360; };  // Chicago in winter
  Incident local = incident_from_json(incident("theft", "2024-03-02T23:30"), c);
  EXPECT_EQ(local.occurred.precision, TimePrecision::kExact);
  EXPECT_EQ(local.occurred.first_day, 19784);
  EXPECT_EQ(local.occurred.start_ms, (19784LL * 86400 + 23 * 3600 + 30 * 60 + 6 * 3600) * 1000);
  Incident offset = incident_from_json(incident("theft", "2024-03-02T23:30+01:00"), c);
  EXPECT_EQ(offset.occurred.start_ms, (19784LL * 86400 + 22 * 3600 + 30 * 60) * 1000);

  Incident none = incident_from_json(incident("theft", nullptr), c);
  EXPECT_EQ(none.occurred.precision, TimePrecision::kApprox);
  EXPECT_TRUE(none.occurred.on_or_before);
  EXPECT_EQ(none.occurred.last_day, 19785);  // 2024-03-03 local (18:00 on the 3rd)
  c.published_ms = 0;
  EXPECT_EQ(incident_from_json(incident("theft", nullptr), c).occurred.precision, TimePrecision::kNone);
}

TEST(LlmAnswerTest, PlacesAreGeocodedByTheGazetteer) {
  Gazetteer g;
  PlaceEntry salvador;
  salvador.name = "EL SALVADOR";
  salvador.kind_label = "COUNTRY";
  salvador.precision = PlacePrecision::kCountry;
  salvador.country = "EL SALVADOR";
  uint32_t sv = g.add_entry(salvador);
  PlaceEntry argentina = salvador;
  argentina.name = "ARGENTINA";
  argentina.country = "ARGENTINA";
  uint32_t ar = g.add_entry(argentina);
  PlaceEntry sm_ar;
  sm_ar.name = "SAN MIGUEL";
  sm_ar.kind_label = "CITY";
  sm_ar.precision = PlacePrecision::kCity;
  sm_ar.parent = ar;
  sm_ar.country = "ARGENTINA";
  sm_ar.lat = -34.5;
  sm_ar.lon = -58.7;
  g.add_entry(sm_ar);
  PlaceEntry sm_sv = sm_ar;
  sm_sv.parent = sv;
  sm_sv.country = "EL SALVADOR";
  sm_sv.lat = 13.48;
  sm_sv.lon = -88.18;
  g.add_entry(sm_sv);
  g.build();

  Place p = geocode_place(g, "San Miguel, El Salvador");
  EXPECT_EQ(p.name, "SAN MIGUEL");
  EXPECT_EQ(p.country, "EL SALVADOR");  // the one inside the other named place
  EXPECT_DOUBLE_EQ(p.lat, 13.48);
  EXPECT_EQ(p.precision, PlacePrecision::kCity);
  EXPECT_THAT(p.qualified, HasSubstr("EL SALVADOR"));

  Place unknown = geocode_place(g, "Atlantis");
  EXPECT_EQ(unknown.text, "Atlantis");
  EXPECT_EQ(unknown.precision, PlacePrecision::kNone);
  EXPECT_FALSE(unknown.has_coordinates());
}

}  // namespace llm_schema_test
}  // namespace sentinel::intel
