#include "intel/triage.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sentinel::intel {
namespace triage_test {

TriageInput input(double confidence, std::string category = "", std::string type = "",
                  std::vector<std::string> fields = {"place", "date"}) {
  TriageInput in;
  in.confidence = confidence;
  in.category = std::move(category);
  in.incident_type = std::move(type);
  in.present_fields = std::move(fields);
  return in;
}

bool mentions(const TriageDecision& d, const std::string& text) {
  for (const auto& r : d.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(Triage, DefaultBands) {
  Triage triage;
  struct Case {
    double confidence;
    TriageOutcome want;
  };
  for (Case c : {Case{1.0, TriageOutcome::kAutoApprove}, Case{0.85, TriageOutcome::kAutoApprove},
                 Case{0.8499, TriageOutcome::kReview}, Case{0.5, TriageOutcome::kReview},
                 Case{0.4999, TriageOutcome::kAutoReject}, Case{0.0, TriageOutcome::kAutoReject}}) {
    TriageDecision d = triage.decide(input(c.confidence));
    EXPECT_EQ(d.outcome, c.want) << c.confidence;
    EXPECT_DOUBLE_EQ(d.approve_threshold, 0.85);
    EXPECT_DOUBLE_EQ(d.reject_threshold, 0.50);
    EXPECT_GE(d.reasons.size(), 2u);
    EXPECT_EQ(d.rules_version, 1u);
  }
  EXPECT_TRUE(mentions(triage.decide(input(0.9)), "0.9 >= 0.85: auto_approve"));
  EXPECT_TRUE(mentions(triage.decide(input(0.6)), "review"));
  EXPECT_EQ(to_string(TriageOutcome::kAutoApprove), "auto_approve");
  EXPECT_EQ(to_string(TriageOutcome::kReview), "review");
  EXPECT_EQ(to_string(TriageOutcome::kAutoReject), "auto_reject");
}

TEST(Triage, CategoryOverrides) {
  Triage triage;
  TriageDecision enforcement = triage.decide(input(0.88, "Enforcement"));
  EXPECT_EQ(enforcement.outcome, TriageOutcome::kReview);
  EXPECT_DOUBLE_EQ(enforcement.approve_threshold, 0.90);
  EXPECT_TRUE(mentions(enforcement, "category enforcement"));
  EXPECT_EQ(triage.decide(input(0.90, "enforcement")).outcome, TriageOutcome::kAutoApprove);
  EXPECT_EQ(triage.decide(input(0.85, "crime")).outcome, TriageOutcome::kAutoApprove);
  EXPECT_EQ(triage.decide(input(0.88, "weather")).outcome, TriageOutcome::kAutoApprove);  // no override
}

TEST(Triage, RequiredFieldsSendToReviewNeverApprove) {
  Triage triage;
  TriageDecision d = triage.decide(input(0.99, "crime", "shooting", {"date"}));
  EXPECT_EQ(d.outcome, TriageOutcome::kReview);
  ASSERT_EQ(d.missing_fields, std::vector<std::string>{"place"});
  EXPECT_TRUE(mentions(d, "missing required field 'place' (incident type shooting)"));
  EXPECT_EQ(triage.decide(input(0.99, "crime", "Shooting", {"date", "place"})).outcome, TriageOutcome::kAutoApprove);
  // Below the reject threshold it is rejected whatever it misses.
  TriageDecision low = triage.decide(input(0.2, "crime", "shooting", {}));
  EXPECT_EQ(low.outcome, TriageOutcome::kAutoReject);
  EXPECT_EQ(low.missing_fields.size(), 2u);
  // Types without requirements ignore missing fields.
  EXPECT_EQ(triage.decide(input(0.95, "", "protest", {})).outcome, TriageOutcome::kAutoApprove);
}

TEST(Triage, IncidentTypeThresholdsAreMostSpecific) {
  TriageRules rules = default_triage_rules();
  rules.incident_types["arrest"].thresholds.approve = 0.95;
  rules.incident_types["arrest"].thresholds.reject = 0.30;
  Triage triage(rules);
  TriageDecision d = triage.decide(input(0.92, "enforcement", "arrest"));
  EXPECT_EQ(d.outcome, TriageOutcome::kReview);
  EXPECT_DOUBLE_EQ(d.approve_threshold, 0.95);
  EXPECT_DOUBLE_EQ(d.reject_threshold, 0.30);
  EXPECT_TRUE(mentions(d, "incident type arrest"));
  EXPECT_EQ(triage.decide(input(0.35, "enforcement", "arrest")).outcome, TriageOutcome::kReview);
}

TEST(Triage, BadConfidenceGoesToReview) {
  Triage triage;
  for (double c : {std::numeric_limits<double>::quiet_NaN(), -0.1, 1.5, std::numeric_limits<double>::infinity()}) {
    TriageDecision d = triage.decide(input(c));
    EXPECT_EQ(d.outcome, TriageOutcome::kReview) << c;
    EXPECT_TRUE(mentions(d, "not a number in [0, 1]"));
  }
}

TEST(TriageRules, ValidationNamesTheField) {
  EXPECT_TRUE(validate(default_triage_rules()).ok());
  auto bad = [](auto edit, const std::string& field) {
    TriageRules r = default_triage_rules();
    edit(r);
    Status s = validate(r);
    ASSERT_FALSE(s.ok()) << field;
    EXPECT_EQ(s.error().field, field);
    EXPECT_THROW(Triage{r}, std::invalid_argument);
  };
  bad([](TriageRules& r) { r.approve = 1.2; }, "approve");
  bad([](TriageRules& r) { r.reject = std::nan(""); }, "reject");
  bad([](TriageRules& r) { r.reject = 0.9; }, "reject");
  bad([](TriageRules& r) { r.categories["crime"].approve = -0.1; }, "categories.crime.approve");
  bad([](TriageRules& r) { r.categories["Crime"].approve = 0.9; }, "categories.Crime");
  bad([](TriageRules& r) { r.categories["crime"].approve = 0.4; }, "categories.crime");
  bad([](TriageRules& r) { r.incident_types["shooting"].required_fields.push_back("colour"); },
      "incident_types.shooting.required_fields");
  bad([](TriageRules& r) { r.incident_types["shooting"].required_fields.push_back("place"); },
      "incident_types.shooting.required_fields");
  // A type's reject above a category's approve only shows in the pairing.
  bad([](TriageRules& r) { r.incident_types["arrest"].thresholds.reject = 0.88; }, "incident_types.arrest");
  bad(
      [](TriageRules& r) {
        r.approve = 0.90;
        r.incident_types["arrest"].thresholds.reject = 0.88;
      },
      "incident_types.arrest with categories.crime");
}

TEST(TriageRules, JsonRoundTripAndErrors) {
  TriageRules rules = default_triage_rules();
  rules.incident_types["arrest"].thresholds.approve = 0.95;
  std::string json = triage_rules_to_json(rules);
  Result<TriageRules> back = triage_rules_from_json(json);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(triage_rules_to_json(*back), json);
  EXPECT_DOUBLE_EQ(*back->categories.at("enforcement").approve, 0.90);
  EXPECT_EQ(back->incident_types.at("shooting").required_fields, (std::vector<std::string>{"place", "date"}));

  struct Case {
    const char* json;
    const char* field;
  };
  for (Case c : {Case{"[1]", ""}, Case{"{", ""}, Case{R"({"approve":"high"})", "approve"},
                 Case{R"({"extra":1})", "extra"}, Case{R"({"categories":[]})", "categories"},
                 Case{R"({"categories":{"crime":{"approve":0.9,"colour":1}}})", "categories.crime.colour"},
                 Case{R"({"categories":{"crime":{"required_fields":["place"]}}})", "categories.crime.required_fields"},
                 Case{R"({"incident_types":{"shooting":{"required_fields":"place"}}})",
                      "incident_types.shooting.required_fields"},
                 Case{R"({"approve":0.4})", "reject"}}) {
    Result<TriageRules> r = triage_rules_from_json(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.error().field, c.field) << c.json;
  }
}

TEST(Triage, ReplaceRulesAtRunTime) {
  Triage triage;
  EXPECT_EQ(triage.version(), 1u);
  EXPECT_EQ(triage.decide(input(0.86, "crime")).outcome, TriageOutcome::kAutoApprove);
  TriageRules stricter = *triage.rules();
  stricter.categories["crime"].approve = 0.95;
  ASSERT_TRUE(triage.replace_rules(stricter).ok());
  EXPECT_EQ(triage.version(), 2u);
  TriageDecision d = triage.decide(input(0.86, "crime"));
  EXPECT_EQ(d.outcome, TriageOutcome::kReview);
  EXPECT_EQ(d.rules_version, 2u);

  TriageRules broken = stricter;
  broken.approve = 2;
  Status s = triage.replace_rules(broken);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "approve");
  EXPECT_EQ(triage.version(), 2u) << "a rejected edit changes nothing";
  EXPECT_DOUBLE_EQ(*triage.rules()->categories.at("crime").approve, 0.95);
}

// Decisions made while the rules flip between two sets always see one set
// whole: the thresholds of a decision are never mixed from both.
TEST(Triage, ReplaceIsAtomicForConcurrentDecisions) {
  TriageRules a = default_triage_rules();
  TriageRules b = default_triage_rules();
  b.approve = 0.70;
  b.reject = 0.20;
  Triage triage(a);
  std::atomic<bool> stop{false};
  std::atomic<int> mixed{0};
  std::thread reader([&] {
    while (!stop.load()) {
      TriageDecision d = triage.decide(input(0.6));
      bool is_a = d.approve_threshold == 0.85 && d.reject_threshold == 0.50;
      bool is_b = d.approve_threshold == 0.70 && d.reject_threshold == 0.20;
      if (!is_a && !is_b) mixed.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(triage.replace_rules(i % 2 ? a : b).ok());
  stop.store(true);
  reader.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_EQ(triage.version(), 2001u);
}

TEST(Triage, FieldNamesAreListed) {
  auto names = triage_field_names();
  for (const char* f : {"place", "date", "time", "actors", "agency"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), f), names.end()) << f;
  }
}

}  // namespace triage_test
}  // namespace sentinel::intel
