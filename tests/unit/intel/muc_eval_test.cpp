#include "intel/muc_eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "intel/date_resolver.h"

namespace sentinel::intel::muc {
namespace muc_eval_test {

using ::testing::ElementsAre;
using ::testing::SizeIs;

// Two messages' keys in the answer-key layout (values from column 36),
// written for this test.
constexpr std::string_view kKeys = R"(;;; comment line
0.  MESSAGE: ID                     TST9-MUC4-0001 (NCCOSC)
1.  MESSAGE: TEMPLATE               1
2.  INCIDENT: DATE                  - 04 FEB 90
3.  INCIDENT: LOCATION              GUATEMALA: PETEN (DEPARTMENT): FLORES (CITY)
4.  INCIDENT: TYPE                  ATTACK
10. PERP: ORGANIZATION ID           "GUATEMALAN NATIONAL REVOLUTIONARY UNITY" / "URNG"
12. PHYS TGT: ID                    "\"SANTO TOMAS\" PRESIDENTIAL FARM" / "PRESIDENTIAL FARM"
18. HUM TGT: NAME                   "CEREZO"
19. HUM TGT: DESCRIPTION            "PRESIDENT": "CEREZO"
                                    "PEASANT"
                                    ? "PASSERBY"

0.  MESSAGE: ID                     TST9-MUC4-0001 (NCCOSC)
1.  MESSAGE: TEMPLATE               2 (OPTIONAL)
2.  INCIDENT: DATE                  (- 29 MAR 89) / (28 MAR 89 - 29 MAR 89)
3.  INCIDENT: LOCATION              (GUATEMALA: FLORES (CITY)) / (GUATEMALA)
4.  INCIDENT: TYPE                  BOMBING / ATTACK
10. PERP: ORGANIZATION ID           -
12. PHYS TGT: ID                    -
18. HUM TGT: NAME                   -
19. HUM TGT: DESCRIPTION            -

0.  MESSAGE: ID                     TST9-MUC4-0002 (NCCOSC)
1.  MESSAGE: TEMPLATE               *
2.  INCIDENT: DATE                  *
4.  INCIDENT: TYPE                  *
)";

TEST(MucEval, ParsesKeys) {
  auto keys = parse_keys(kKeys);
  ASSERT_THAT(keys, SizeIs(3));
  const KeyTemplate& k = keys[0];
  EXPECT_EQ(k.message_id, "TST9-MUC4-0001");
  EXPECT_TRUE(k.relevant);
  EXPECT_FALSE(k.optional);
  EXPECT_THAT(k.types, ElementsAre("ATTACK"));
  EXPECT_THAT(k.dates, ElementsAre("- 04 FEB 90"));
  EXPECT_THAT(k.locations, ElementsAre("GUATEMALA: PETEN (DEPARTMENT): FLORES (CITY)"));
  ASSERT_THAT(k.perp_orgs, SizeIs(1));
  EXPECT_THAT(k.perp_orgs[0].alternatives, ElementsAre("GUATEMALAN NATIONAL REVOLUTIONARY UNITY", "URNG"));
  ASSERT_THAT(k.phys_targets, SizeIs(1));
  EXPECT_THAT(k.phys_targets[0].alternatives, ElementsAre("\"SANTO TOMAS\" PRESIDENTIAL FARM", "PRESIDENTIAL FARM"));
  // CEREZO with his description folded in; two descriptions of their own.
  ASSERT_THAT(k.hum_targets, SizeIs(3));
  EXPECT_THAT(k.hum_targets[0].alternatives, ElementsAre("CEREZO", "PRESIDENT"));
  EXPECT_THAT(k.hum_targets[1].alternatives, ElementsAre("PEASANT"));
  EXPECT_TRUE(k.hum_targets[2].optional);
  const KeyTemplate& o = keys[1];
  EXPECT_TRUE(o.optional);
  EXPECT_EQ(o.number, "2");
  EXPECT_THAT(o.types, ElementsAre("BOMBING", "ATTACK"));
  EXPECT_THAT(o.dates, ElementsAre("- 29 MAR 89", "28 MAR 89 - 29 MAR 89"));
  EXPECT_THAT(o.locations, ElementsAre("GUATEMALA: FLORES (CITY)", "GUATEMALA"));
  EXPECT_TRUE(o.perp_orgs.empty());
  EXPECT_FALSE(keys[2].relevant);
}

TEST(MucEval, ReadsMessages) {
  auto m = read_messages("TST9-MUC4-0001\n\n   LIMA, 2 FEB 90 -- [TEXT] ONE.\n\nTST9-MUC4-0002 (NOSC)\n\n   TWO\n");
  ASSERT_THAT(m, SizeIs(2));
  EXPECT_EQ(m[0].id, "TST9-MUC4-0001");
  EXPECT_EQ(m[1].id, "TST9-MUC4-0002");
  EXPECT_NE(m[0].text.find("[TEXT] ONE."), std::string::npos);
  EXPECT_EQ(m[1].text.find("TST9"), std::string::npos);
}

TEST(MucEval, DateMatching) {
  EXPECT_EQ(match_date({"12 JAN 90"}, "12 JAN 90"), Match::kCorrect);
  EXPECT_EQ(match_date({"12 JAN 90 - 14 JAN 90"}, "13 JAN 90"), Match::kCorrect);  // inside the key's range
  EXPECT_EQ(match_date({"- 14 JAN 90"}, "- 14 JAN 90"), Match::kCorrect);
  EXPECT_EQ(match_date({"- 14 JAN 90"}, "10 JAN 90"), Match::kPartial);   // a day on or before the bound
  EXPECT_EQ(match_date({"10 JAN 90"}, "- 14 JAN 90"), Match::kPartial);
  EXPECT_EQ(match_date({"10 JAN 90"}, "11 JAN 90"), Match::kIncorrect);
  EXPECT_EQ(match_date({"- 14 JAN 90"}, "20 JAN 90"), Match::kIncorrect);
  EXPECT_EQ(match_date({"10 JAN 90", "- 14 JAN 90"}, "- 14 JAN 90"), Match::kCorrect);
  EXPECT_EQ(match_date({"10 JAN 90"}, "garbage"), Match::kIncorrect);
}

TEST(MucEval, LocationMatchingByPrincipalPlace) {
  std::vector<std::string> key = {"GUATEMALA: PETEN (DEPARTMENT): FLORES (CITY)"};
  EXPECT_EQ(match_location(key, "GUATEMALA: FLORES (CITY)"), Match::kCorrect);  // containers may differ
  EXPECT_EQ(match_location(key, "GUATEMALA: FLORES (TOWN)"), Match::kCorrect);  // so may the kind
  EXPECT_EQ(match_location(key, "GUATEMALA: PETEN (DEPARTMENT)"), Match::kPartial);  // coarser
  EXPECT_EQ(match_location(key, "GUATEMALA"), Match::kPartial);
  EXPECT_EQ(match_location(key, "GUATEMALA: ESCUINTLA (CITY)"), Match::kIncorrect);
  EXPECT_EQ(match_location(key, "EL SALVADOR: FLORES (CITY)"), Match::kIncorrect);  // other country
  EXPECT_EQ(match_location({"COLOMBIA"}, "COLOMBIA: BOGOTA (CITY)"), Match::kPartial);  // finer than the key
  EXPECT_EQ(match_location({"COLOMBIA: CUCUTA (CITY) - CAMPANARIO (REGION)"}, "COLOMBIA: CAMPANARIO (REGION)"),
            Match::kCorrect);
}

TEST(MucEval, StringMatching) {
  EXPECT_EQ(match_string({"FMLN", "FARABUNDO MARTI NATIONAL LIBERATION FRONT"}, "FMLN"), Match::kCorrect);
  EXPECT_EQ(match_string({"PRESIDENTIAL FARM"}, "THE PRESIDENTIAL FARM"), Match::kCorrect);  // articles dropped
  EXPECT_EQ(match_string({"FARABUNDO MARTI NATIONAL LIBERATION FRONT"}, "FARABUNDO MARTI NATIONAL LIBERATION FRONT [FMLN]"),
            Match::kPartial);
  EXPECT_EQ(match_string({"ELECTRIC POWER SUBSTATION"}, "SUBSTATION"), Match::kPartial);
  EXPECT_EQ(match_string({"PEASANTS"}, "SOLDIERS"), Match::kIncorrect);
}

ResponseTemplate response(std::string type, std::string date, std::string loc, std::vector<std::string> orgs = {},
                          std::vector<std::string> phys = {}, std::vector<std::string> hum = {}) {
  return ResponseTemplate{std::move(type), std::move(date), std::move(loc), std::move(orgs), std::move(phys),
                          std::move(hum)};
}

TEST(MucEval, ScoresAPerfectResponse) {
  auto keys = parse_keys(kKeys);
  Scorer s;
  auto mapping = s.add({&keys[0], &keys[1]},
                       {response("ATTACK", "- 04 FEB 90", "GUATEMALA: FLORES (CITY)", {"URNG"}, {"PRESIDENTIAL FARM"},
                                 {"CEREZO", "PEASANT"})});
  EXPECT_THAT(mapping, ElementsAre(0));
  const Scores& sc = s.scores();
  EXPECT_EQ(sc.type.correct, 1);
  EXPECT_EQ(sc.type.missing, 0);  // the optional template may stay unmatched
  EXPECT_EQ(sc.date.correct, 1);
  EXPECT_EQ(sc.location.correct, 1);
  EXPECT_EQ(sc.perp_org.correct, 1);
  EXPECT_EQ(sc.targets.correct, 3);
  EXPECT_EQ(sc.targets.missing, 0);  // the "?" filler is optional
  EXPECT_DOUBLE_EQ(sc.type.f1(), 1.0);
  EXPECT_EQ(sc.key_templates, 2);
  EXPECT_EQ(sc.optional_templates, 1);
}

TEST(MucEval, CountsMissingSpuriousAndPartial) {
  auto keys = parse_keys(kKeys);
  Scorer s;
  // Wrong type: no mapping, so the key is missing and the response spurious.
  auto mapping = s.add({&keys[0], &keys[1]}, {response("KIDNAPPING", "- 04 FEB 90", "GUATEMALA")});
  EXPECT_THAT(mapping, ElementsAre(-1));
  // A response for a message with no relevant incident is spurious.
  mapping = s.add({&keys[2]}, {response("ATTACK", "01 FEB 90", "GUATEMALA", {"URNG"})});
  EXPECT_THAT(mapping, ElementsAre(-1));
  const Scores& sc = s.scores();
  EXPECT_EQ(sc.type.missing, 1);
  EXPECT_EQ(sc.type.spurious, 2);
  EXPECT_EQ(sc.date.missing, 1);
  EXPECT_EQ(sc.date.spurious, 2);
  EXPECT_EQ(sc.perp_org.missing, 1);
  EXPECT_EQ(sc.perp_org.spurious, 1);
  EXPECT_EQ(sc.targets.missing, 3);
  EXPECT_DOUBLE_EQ(sc.type.recall(), 0.0);
  // Partial credit counts half.
  Scorer p;
  (void)p.add({&keys[0]}, {response("ATTACK", "01 FEB 90", "GUATEMALA: PETEN (DEPARTMENT)")});
  EXPECT_EQ(p.scores().date.partial, 1);
  EXPECT_EQ(p.scores().location.partial, 1);
  EXPECT_DOUBLE_EQ(p.scores().location.recall(), 0.5);
  EXPECT_DOUBLE_EQ(p.scores().location.precision(), 0.5);
}

TEST(MucEval, Muc4MappingNeedsAPerpetratorOrTarget) {
  auto keys = parse_keys(kKeys);
  Scorer loose(Mapping::kTypeMatch), strict(Mapping::kMuc4);
  auto r = response("ATTACK", "- 04 FEB 90", "GUATEMALA: FLORES (CITY)");
  EXPECT_THAT(loose.add({&keys[0]}, {r}), ElementsAre(0));
  EXPECT_THAT(strict.add({&keys[0]}, {r}), ElementsAre(-1));
  r.phys_targets = {"FARM"};
  Scorer strict2(Mapping::kMuc4);
  EXPECT_THAT(strict2.add({&keys[0]}, {r}), ElementsAre(0));
}

TEST(MucEval, ResponsesInMucForms) {
  Extraction e;
  Incident a;
  a.type = IncidentType::kShooting;
  a.occurred.precision = TimePrecision::kDay;
  a.occurred.basis = DateBasis::kRelative;
  a.occurred.first_day = a.occurred.last_day = days_from_civil(1990, 2, 3);
  a.place.qualified = "GUATEMALA: FLORES (CITY)";
  a.perpetrator_org = "URNG";
  a.targets = {{"FARM", TargetKind::kPhysical}, {"PEASANT", TargetKind::kHuman}};
  Incident b = a;
  b.type = IncidentType::kBombing;
  b.occurred.basis = DateBasis::kWeekday;
  Incident c = a;
  c.type = IncidentType::kKidnapping;
  c.occurred.basis = DateBasis::kDefault;
  c.occurred.on_or_before = true;
  c.occurred.last_day = days_from_civil(1990, 2, 4);
  Incident d = a;
  d.type = IncidentType::kDrugs;  // no MUC counterpart: no template
  e.incidents = {a, b, c, d};
  auto r = to_responses(e, days_from_civil(1990, 2, 4));
  ASSERT_THAT(r, SizeIs(3));
  EXPECT_EQ(r[0].type, "ATTACK");
  EXPECT_EQ(r[0].date, "03 FEB 90");
  EXPECT_EQ(r[1].date, "- 04 FEB 90");  // weekday: the MUC guideline's "on or before"
  EXPECT_EQ(r[2].date, "- 04 FEB 90");
  EXPECT_THAT(r[0].perp_orgs, ElementsAre("URNG"));
  EXPECT_THAT(r[0].phys_targets, ElementsAre("FARM"));
  EXPECT_THAT(r[0].hum_targets, ElementsAre("PEASANT"));
  ResponseOptions exact;
  exact.weekday_as_before_anchor = false;
  EXPECT_EQ(to_responses(e, days_from_civil(1990, 2, 4), exact)[1].date, "03 FEB 90");
}

}  // namespace muc_eval_test
}  // namespace sentinel::intel::muc
