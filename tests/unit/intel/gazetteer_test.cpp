#include "intel/gazetteer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace sentinel::intel {
namespace gazetteer_test {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::vector<std::string> norm_tokens(std::string_view text) {
  TokenizedText t;
  tokenize(text, t);
  std::vector<std::string> out;
  for (size_t i = 0; i < t.tokens.size(); ++i) out.emplace_back(t.norm_token(i));
  return out;
}

TEST(Tokenize, NormalisesCaseAccentsAndApostrophes) {
  EXPECT_THAT(norm_tokens("PEOPLE'S Liberation, Bogotá — O’Hare M-16"),
              ElementsAre("peoples", "liberation", "bogota", "ohare", "m", "16"));
  EXPECT_EQ(normalize_phrase("  Lake   View "), "lake view");
  EXPECT_EQ(normalize_phrase("ÁNGEL Núñez"), "angel nunez");
}

TEST(Tokenize, SentenceEndsSkipAbbreviationsAndInitials) {
  TokenizedText t;
  tokenize("GEN. ROJAS SAID THE U.S. EMBASSY WAS HIT. POLICE CAME! IT WAS 4.5 KM AWAY", t);
  std::vector<std::string> ends;
  for (size_t i = 0; i < t.tokens.size(); ++i) {
    if (t.tokens[i].flags & Token::kSentenceEnd) ends.emplace_back(t.norm_token(i));
  }
  EXPECT_THAT(ends, ElementsAre("hit", "came", "away"));
  EXPECT_TRUE(t.upper_case_text);
}

TEST(Tokenize, ParagraphsCommasAndBrackets) {
  TokenizedText t;
  tokenize("First line, still one.\n\n  Second [FMLN] paragraph", t);
  ASSERT_THAT(t.tokens, SizeIs(7));
  EXPECT_TRUE(t.tokens[0].flags & Token::kParagraphStart);
  EXPECT_TRUE(t.tokens[1].flags & Token::kCommaAfter);
  EXPECT_TRUE(t.tokens[3].flags & Token::kSentenceEnd);
  EXPECT_TRUE(t.tokens[4].flags & Token::kParagraphStart);
  EXPECT_TRUE(t.tokens[5].flags & Token::kOpenBefore);
  EXPECT_FALSE(t.upper_case_text);
  EXPECT_EQ(t.original(4, 6), "Second [FMLN");
}

TEST(PhraseMatcher, FindsOverlappingPhrasesThroughFailureLinks) {
  PhraseMatcher m;
  m.add("a b c", 1);
  m.add("b c d", 2);
  m.add("c", 3);
  m.add("b c", 4);
  m.add("b c", 5);  // a second payload on the same phrase
  m.build();
  auto hits = m.find("x a b c d y");
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> got;
  for (const auto& h : hits) got.emplace_back(h.begin, h.end, h.payload);
  std::sort(got.begin(), got.end());
  EXPECT_THAT(got, ElementsAre(std::make_tuple(1u, 4u, 1u), std::make_tuple(2u, 4u, 4u), std::make_tuple(2u, 4u, 5u),
                               std::make_tuple(2u, 5u, 2u), std::make_tuple(3u, 4u, 3u)));
  EXPECT_EQ(m.phrase_count(), 5u);
}

TEST(PhraseMatcher, UnknownWordBreaksAPhrase) {
  PhraseMatcher m;
  m.add("car bomb", 7);
  m.build();
  EXPECT_THAT(m.find("a car bomb exploded"), SizeIs(1));
  EXPECT_THAT(m.find("a car and a bomb"), SizeIs(0));
  EXPECT_THAT(m.find(""), SizeIs(0));
}

TEST(SelectLongest, KeepsLeftmostLongestAndEqualSpans) {
  std::vector<PhraseMatcher::Hit> hits = {{0, 1, 1}, {0, 2, 2}, {1, 3, 3}, {2, 3, 4}, {2, 3, 5}, {4, 5, 6}};
  select_longest(hits);
  std::vector<uint32_t> payloads;
  for (const auto& h : hits) payloads.push_back(h.payload);
  EXPECT_THAT(payloads, ElementsAre(2, 4, 5, 6));
}

constexpr std::string_view kTsv =
    "# name\tkind\tparent\tlat\tlon\tdistrict\taliases\trange\tend\n"
    "Englewood\tcommunity_area\tCHICAGO\t41.7796\t-87.6456\t68|Englewood\t\n"
    "West Englewood\tcommunity_area\tCHICAGO\t41.7747\t-87.6666\t67|West Englewood\n"
    "Lake View\tcommunity_area\tCHICAGO\t41.9434\t-87.6553\t6|Lake View\tLakeview\n"
    "63rd St\tstreet\tCHICAGO\t41.7790\t-87.8070\t\t63rd Street\t-7200..3600\t41.7790,-87.5374\n"
    "Halsted St\tstreet\tCHICAGO\t41.6460\t-87.6466\t\tHalsted Street;Halsted\t-13800..3900\t41.9522,-87.6466\n";

Gazetteer city() {
  Gazetteer g;
  g.add_text("city.tsv", kTsv);
  g.build();
  return g;
}

TEST(Gazetteer, LoadsTsvWithAliasesDistrictsAndContainers) {
  Gazetteer g = city();
  auto ids = g.lookup("lakeview");
  ASSERT_THAT(ids, SizeIs(1));
  const PlaceEntry& e = g.entry(ids[0]);
  EXPECT_EQ(e.name, "Lake View");
  EXPECT_EQ(e.precision, PlacePrecision::kDistrict);
  EXPECT_EQ(e.district_id, 6);
  EXPECT_EQ(e.country, "CHICAGO");
  EXPECT_EQ(g.qualified_name(ids[0]), "CHICAGO: Lake View (COMMUNITY_AREA)");
  auto chicago = g.lookup("Chicago");
  ASSERT_THAT(chicago, SizeIs(1));
  EXPECT_TRUE(g.within(ids[0], chicago[0]));
  EXPECT_FALSE(g.within(chicago[0], ids[0]));
}

TEST(Gazetteer, EntriesAddedInCode) {
  Gazetteer g;
  PlaceEntry e;
  e.name = "Navy Pier";
  e.kind_label = "site";
  e.precision = PlacePrecision::kSite;
  e.lat = 41.8917;
  e.lon = -87.6086;
  uint32_t id = g.add_entry(e, {"the pier"});
  g.build();
  EXPECT_THAT(g.lookup("THE PIER"), ElementsAre(id));
  EXPECT_EQ(g.qualified_name(id), "Navy Pier");
  EXPECT_THROW(g.add_entry(e), std::logic_error);  // after build
  PhraseMatcher m;
  m.build();
  EXPECT_THROW(m.add("late", 1), std::logic_error);
}

TEST(Gazetteer, FindsLongestNamesAndNeedsCapitalsInMixedCase) {
  Gazetteer g = city();
  TokenizedText t;
  std::vector<PlaceMention> found;
  tokenize("Shots in West Englewood near 63rd Street; the lake view was calm. Then Halsted.", t);
  g.find(t, found);
  std::vector<std::string> names;
  for (const auto& m : found) names.emplace_back(t.original(m.begin, m.end));
  EXPECT_THAT(names, ElementsAre("West Englewood", "63rd Street", "Halsted"));
  tokenize("SHOTS IN THE LAKE VIEW AREA", t);
  g.find(t, found);
  ASSERT_THAT(found, SizeIs(1));  // upper-case wire copy: case is no evidence
}

TEST(Gazetteer, GeocodesHouseNumbersAlongAStreet) {
  Gazetteer g = city();
  uint32_t id = g.lookup("63rd St")[0];
  auto p = g.geocode_address(id, -1300);  // 1300 W 63rd St
  ASSERT_TRUE(p.has_value());
  EXPECT_NEAR(p->first, 41.7790, 1e-9);
  EXPECT_NEAR(p->second, -87.8070 + (5900.0 / 10800.0) * (-87.5374 + 87.8070), 1e-9);
  EXPECT_FALSE(g.geocode_address(id, -9000).has_value());  // off the street's range
  EXPECT_FALSE(g.geocode_address(g.lookup("Englewood")[0], 100).has_value());  // not a street
}

TEST(Gazetteer, BadInputNamesFileAndLine) {
  Gazetteer g;
  try {
    g.add_text("bad.tsv", "Good\tcity\n\nBad\tcity\t\tnot-a-number\t1\n");
    FAIL() << "no exception";
  } catch (const std::runtime_error& ex) {
    EXPECT_THAT(ex.what(), HasSubstr("bad.tsv:3"));
    EXPECT_THAT(ex.what(), HasSubstr("lat/lon"));
  }
  EXPECT_THROW(g.add_text("x.tsv", "Street\tstreet\t\t1\t1\t\t\t10-20\t1,1\n"), std::runtime_error);
  EXPECT_THROW(g.add_text("x.tsv", "Demonym\tdemonym\n"), std::runtime_error);
  EXPECT_THROW(g.add_text("places.txt", "anything"), std::runtime_error);
  EXPECT_THROW(g.add_text("x.geojson", "{not json"), std::runtime_error);
  EXPECT_THROW(Gazetteer::load({"/nonexistent/gazetteer.tsv"}), std::runtime_error);
}

TEST(Gazetteer, GeoJsonPolygonsBecomeCentroidsAndPointsSites) {
  Gazetteer g;
  g.add_text("areas.geojson", R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"community":"SQUARE","area_numbe":"9"},
     "geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]]]}},
    {"type":"Feature","properties":{"kind":"school","name":"North School","community_area":"9"},
     "geometry":{"type":"Point","coordinates":[0.5,0.9]}},
    {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}]})");
  g.build();
  ASSERT_EQ(g.size(), 2u);
  const PlaceEntry& area = g.entry(g.lookup("square")[0]);
  EXPECT_NEAR(area.lat, 1.0, 1e-12);
  EXPECT_NEAR(area.lon, 1.0, 1e-12);
  EXPECT_EQ(area.district_id, 9);
  const PlaceEntry& school = g.entry(g.lookup("North School")[0]);
  EXPECT_EQ(school.precision, PlacePrecision::kSite);
  EXPECT_EQ(school.district, "SQUARE");  // filled from the area of the same number
  EXPECT_EQ(school.parent, g.lookup("square")[0]);
}

TEST(Gazetteer, ReadsMucPlaceLists) {
  Gazetteer g;
  g.add_text("set-list-foreign-nation.v5", "header\n1.0 Set list\nEL SALVADOR\nCOLOMBIA\n2.0 Synonyms\nNEW GRANADA = COLOMBIA\n");
  g.add_text("containing-areas-part1.v5",
             "notes: IGNORED (X) *no*\n---------------------------\n"
             "EL SALVADOR: SAN MIGUEL (CITY) *ads* VALIDATED\n"
             "EL SALVADOR: SAN MIGUEL (DEPARTMENT) *nosc*\n"
             "COLOMBIA: ANTIOQUIA (DEPARTMENT) *x*\n"
             "?: COSTA DEL SOL (CITY?) message 200, 247 *ads*\n");
  g.add_text("containing-areas-part2",
             "-----------------------\nCOLOMBIA: ANTIOQUIA (DEPARTMENT): MEDELLIN (CITY) *boeing*\n");
  g.add_text("places-synonyms.v3", "MEDELIN = MEDELLIN\nCHALATE -> CHALATENANGO <-NEW\n");
  g.build();
  EXPECT_THAT(g.lookup("SAN MIGUEL"), SizeIs(2));
  EXPECT_TRUE(g.lookup("IGNORED").empty());
  EXPECT_TRUE(g.lookup("COSTA DEL SOL").empty());  // no country: cannot be placed
  auto med = g.lookup("medelin");
  ASSERT_THAT(med, SizeIs(1));
  EXPECT_EQ(g.qualified_name(med[0]), "COLOMBIA: ANTIOQUIA (DEPARTMENT): MEDELLIN (CITY)");
  EXPECT_EQ(g.lookup("NEW GRANADA"), g.lookup("COLOMBIA"));
}

// Kind "alias": another name for a place given by its chain; the place is
// the one the MUC lists define, not a second entry.
TEST(Gazetteer, AliasesNameAnExistingPlace) {
  Gazetteer g;
  g.add_text("set-list-foreign-nation.v5", "1.0 Set list\nPERU\nCOLOMBIA\n");
  g.add_text("containing-areas-part1.v5", "-----\nPERU: LIMA (CITY) *x*\nCOLOMBIA: BOGOTA (CITY) *x*\n");
  g.add_text("extra.tsv", "THE CAPITAL\talias\tPERU: LIMA (CITY)\nTHE CAPITAL\talias\tCOLOMBIA: BOGOTA (CITY)\n");
  g.build();
  auto lima = g.lookup("LIMA");
  ASSERT_THAT(lima, SizeIs(1));
  auto capital = g.lookup("the capital");
  ASSERT_THAT(capital, SizeIs(2));
  EXPECT_THAT(capital, Contains(lima[0]));
  EXPECT_EQ(g.qualified_name(lima[0]), "PERU: LIMA (CITY)");
  Gazetteer bad;
  try {
    bad.add_text("extra.tsv", "# comment\nTHE CAPITAL\talias\n");
    FAIL() << "no exception";
  } catch (const std::runtime_error& ex) {
    EXPECT_THAT(ex.what(), HasSubstr("extra.tsv:2"));
  }
}

// The shipped place files load and hold what the extractor relies on.
TEST(Gazetteer, ShippedFilesLoad) {
  std::string root = SENTINEL_SOURCE_DIR;
  Gazetteer g = Gazetteer::load({root + "/examples/intel/gazetteer/chicago_community_areas.tsv",
                                 root + "/examples/intel/gazetteer/chicago_streets.tsv",
                                 root + "/tests/data/muc34/places/set-list-foreign-nation.v5",
                                 root + "/tests/data/muc34/places/containing-areas-part1.v5",
                                 root + "/tests/data/muc34/places/containing-areas-part2",
                                 root + "/tests/data/muc34/places/places-synonyms.v3",
                                 root + "/tests/data/muc34/places/places-extra.tsv"});
  auto eng = g.lookup("Englewood");
  ASSERT_THAT(eng, SizeIs(1));
  EXPECT_EQ(g.entry(eng[0]).district_id, 68);
  EXPECT_NEAR(g.entry(eng[0]).lat, 41.78, 0.02);
  EXPECT_NEAR(g.entry(eng[0]).lon, -87.64, 0.02);
  int areas = 0;
  for (uint32_t i = 0; i < g.size(); ++i) areas += g.entry(i).kind_label == "community_area";
  EXPECT_EQ(areas, 77);
  // 1300 W 63rd St lies in West Englewood, about 1.6 miles west of State St.
  auto p = g.geocode_address(g.lookup("63rd Street")[0], -1300);
  ASSERT_TRUE(p.has_value());
  EXPECT_NEAR(p->first, 41.779, 0.003);
  EXPECT_NEAR(p->second, -87.659, 0.004);
  EXPECT_THAT(g.lookup("SAN SALVADOR").size(), ::testing::Ge(2u));
  auto uca = g.lookup("CENTRAL AMERICAN UNIVERSITY");
  ASSERT_FALSE(uca.empty());
  EXPECT_EQ(g.entry(uca[0]).country, "EL SALVADOR");
  auto salvadoran = g.lookup("SALVADORAN");
  ASSERT_THAT(salvadoran, SizeIs(1));
  EXPECT_TRUE(g.entry(salvadoran[0]).demonym);
}

}  // namespace gazetteer_test
}  // namespace sentinel::intel
