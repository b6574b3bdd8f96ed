#include "flows/rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "flows/rule_condition.h"

namespace sentinel::flows {
namespace rules_test {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const std::string kSource = SENTINEL_SOURCE_DIR;
const std::string kExamples = kSource + "/examples/flows/rules";
const std::string kBad = kSource + "/tests/data/flows_rules";

Clock::time_point far_deadline() { return Clock::now() + std::chrono::hours(1); }

// A benign-looking completed TCP exchange with every feature present.
FlowRecord benign_flow() {
  FlowRecord f;
  f.features.fill(0);
  f[Feature::protocol] = 6;
  f[Feature::destination_port] = 443;
  f[Feature::flow_duration] = 80'000;
  f[Feature::total_fwd_packets] = 8;
  f[Feature::total_backward_packets] = 7;
  f[Feature::total_length_fwd_packets] = 900;
  f[Feature::total_length_bwd_packets] = 6'000;
  f[Feature::bwd_packet_length_max] = 1'460;
  f[Feature::syn_flag_count] = 1;
  f[Feature::ack_flag_count] = 1;
  f[Feature::fwd_iat_mean] = 10'000;
  f.src_ip = "192.168.10.5";
  f.dst_ip = "93.184.216.34";
  f.src_port = 51000;
  f.timestamp_ms = 1'499'000'000'000;
  return f;
}

struct Batch {
  std::vector<EngineVerdict> verdicts;
  Status status = Ok{};
};

Batch run(RulesEngine& engine, const std::vector<FlowRecord>& flows) {
  Batch r;
  r.verdicts.resize(flows.size());
  r.status = engine.evaluate(flows, r.verdicts, far_deadline());
  return r;
}

std::vector<std::string> matched_ids(const RulesEngine& engine, const FlowRecord& flow, size_t index) {
  std::vector<std::string> ids;
  const nlohmann::json explained = engine.explain(flow, index);
  for (const auto& m : explained["matched"]) ids.push_back(m["id"].get<std::string>());
  return ids;
}

std::string load_error(const std::string& path) {
  try {
    RulesEngine::load(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---------------------------------------------------------------------------
// The example rules

class ExampleRules : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = RulesEngine::load(kExamples); }
  std::unique_ptr<RulesEngine> engine_;
};

TEST_F(ExampleRules, LoadAllWithUniqueIdsAndLevels) {
  const auto& rules = engine_->rules();
  ASSERT_EQ(rules.size(), 7u);
  std::set<std::string> ids;
  for (const RuleInfo& r : rules) {
    ids.insert(r.id);
    EXPECT_FALSE(r.title.empty());
    EXPECT_FALSE(r.falsepositives.empty()) << r.id;
    EXPECT_THAT(r.file, HasSubstr("examples/flows/rules/"));
  }
  EXPECT_EQ(ids.size(), rules.size());
}

TEST_F(ExampleRules, BenignTrafficMatchesNothing) {
  std::vector<FlowRecord> flows;
  // A busy but ordinary client: 150 HTTPS flows over 10 minutes to 5 servers
  // on 3 ports, plus DNS.
  for (int i = 0; i < 150; ++i) {
    FlowRecord f = benign_flow();
    f.dst_ip = "10.0.0." + std::to_string(i % 5);
    f[Feature::destination_port] = (i % 3 == 0) ? 80 : (i % 3 == 1) ? 443 : 8080;
    f.timestamp_ms += i * 4'000;
    flows.push_back(f);
  }
  FlowRecord dns = benign_flow();
  dns[Feature::protocol] = 17;
  dns[Feature::destination_port] = 53;
  dns[Feature::syn_flag_count] = 0;
  dns[Feature::total_fwd_packets] = 1;
  dns[Feature::total_length_fwd_packets] = 40;
  flows.push_back(dns);
  Batch r = run(*engine_, flows);
  ASSERT_TRUE(r.status.ok());
  for (size_t i = 0; i < flows.size(); ++i) {
    EXPECT_TRUE(r.verdicts[i].decided);
    EXPECT_FALSE(r.verdicts[i].attack) << i;
    EXPECT_EQ(r.verdicts[i].score, 0) << i;
  }
  for (uint64_t c : engine_->match_counts()) EXPECT_EQ(c, 0u);
}

TEST_F(ExampleRules, HeartbleedFiresOnHugeTlsResponse) {
  FlowRecord f = benign_flow();
  f[Feature::destination_port] = 444;
  f[Feature::total_length_bwd_packets] = 7'883'880;
  f[Feature::bwd_packet_length_max] = 14'480;
  f[Feature::total_length_fwd_packets] = 7'920;
  FlowRecord download = f;  // a big download in ordinary MTU-sized records
  download[Feature::bwd_packet_length_max] = 1'460;
  FlowRecord other_port = f;
  other_port[Feature::destination_port] = 22;
  Batch r = run(*engine_, {f, download, other_port});
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.verdicts[0].attack);
  EXPECT_DOUBLE_EQ(r.verdicts[0].score, 1.0);  // critical
  EXPECT_THAT(matched_ids(*engine_, f, 0), ::testing::ElementsAre("160f2c5f-3b37-4ff5-807e-2c6185db3e8a"));
  EXPECT_FALSE(r.verdicts[1].attack);
  EXPECT_FALSE(r.verdicts[2].attack);
}

TEST_F(ExampleRules, SlowlorisFiresWithAndWithoutPort) {
  FlowRecord f = benign_flow();
  f[Feature::destination_port] = 80;
  f[Feature::flow_duration] = 8'770'775;
  f[Feature::total_fwd_packets] = 5;
  f[Feature::total_backward_packets] = 0;
  f[Feature::total_length_fwd_packets] = 30;
  f[Feature::total_length_bwd_packets] = 0;
  f[Feature::fwd_iat_mean] = 2'192'693;
  FlowRecord no_port = f;
  no_port[Feature::destination_port] = kMissing;
  FlowRecord ssh = f;
  ssh[Feature::destination_port] = 22;
  FlowRecord answered = f;
  answered[Feature::total_length_bwd_packets] = 11'595;
  FlowRecord quick = f;
  quick[Feature::flow_duration] = 900'000;
  Batch r = run(*engine_, {f, no_port, ssh, answered, quick});
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.verdicts[0].attack);
  EXPECT_DOUBLE_EQ(r.verdicts[0].score, 0.7);  // medium
  EXPECT_TRUE(r.verdicts[1].attack);
  EXPECT_FALSE(r.verdicts[2].attack);
  EXPECT_FALSE(r.verdicts[3].attack);
  EXPECT_FALSE(r.verdicts[4].attack);
  const auto explained = engine_->explain(no_port, 1)["matched"][0];
  EXPECT_EQ(explained["title"], "Slowloris-style slow HTTP request");
  EXPECT_TRUE(explained["selections"]["port_unknown"]["matched"].get<bool>());
  EXPECT_FALSE(explained["selections"]["web_port"]["matched"].get<bool>());
  EXPECT_EQ(explained["selections"]["slow_request"]["values"]["flow_duration|gte"], 8'770'775.0);
}

// `n` flows from one source to one destination, `spacing_ms` apart.
std::vector<FlowRecord> burst(FlowRecord base, size_t n, int64_t spacing_ms) {
  std::vector<FlowRecord> flows;
  for (size_t i = 0; i < n; ++i) {
    FlowRecord f = base;
    f.src_port = static_cast<int32_t>(40000 + i);
    f.timestamp_ms = base.timestamp_ms + static_cast<int64_t>(i) * spacing_ms;
    flows.push_back(f);
  }
  return flows;
}

size_t first_attack(const Batch& r) {
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    if (r.verdicts[i].attack) return i;
  }
  return r.verdicts.size();
}

TEST_F(ExampleRules, SynFloodFiresOnThe501stHalfOpenFlowWithin10s) {
  FlowRecord half_open = benign_flow();
  half_open[Feature::destination_port] = 5432;  // not a web port: the HTTP flood rule stays out
  half_open[Feature::ack_flag_count] = 0;
  half_open[Feature::total_length_fwd_packets] = 0;
  half_open[Feature::total_length_bwd_packets] = 0;
  half_open[Feature::total_backward_packets] = 0;
  half_open[Feature::total_fwd_packets] = 1;
  Batch r = run(*engine_, burst(half_open, 600, 10));  // 6 s
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(first_attack(r), 500u);
  EXPECT_DOUBLE_EQ(r.verdicts[599].score, 0.9);
  const auto agg = engine_->explain(half_open, 599)["matched"][0]["aggregation"];
  EXPECT_EQ(agg["value"], 600.0);
  EXPECT_EQ(agg["group"]["dst_ip"], "93.184.216.34");
  EXPECT_EQ(agg["group"]["destination_port"], 5432.0);
  EXPECT_EQ(agg["function"], "count() by dst_ip, destination_port > 500");
}

TEST_F(ExampleRules, CompletedHandshakesAreNoSynFlood) {
  FlowRecord f = benign_flow();
  f[Feature::destination_port] = 9000;
  Batch r = run(*engine_, burst(f, 1000, 5));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(first_attack(r), 1000u);
}

TEST_F(ExampleRules, SynFloodSpreadOverTimeDoesNotFire) {
  FlowRecord half_open = benign_flow();
  half_open[Feature::destination_port] = 5432;
  half_open[Feature::ack_flag_count] = 0;
  half_open[Feature::total_length_fwd_packets] = 0;
  half_open[Feature::total_length_bwd_packets] = 0;
  half_open[Feature::total_backward_packets] = 0;
  Batch r = run(*engine_, burst(half_open, 1000, 100));  // 10 per second: ~100 per window
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(first_attack(r), 1000u);
}

FlowRecord probe(int port, int64_t t) {
  FlowRecord f = benign_flow();
  f.src_ip = "172.16.0.1";
  f.dst_ip = "192.168.10.50";
  f[Feature::destination_port] = port;
  f[Feature::total_fwd_packets] = 1;
  f[Feature::total_backward_packets] = 1;
  f[Feature::total_length_fwd_packets] = 0;
  f[Feature::total_length_bwd_packets] = 0;
  f[Feature::flow_duration] = 48;
  f.timestamp_ms = t;
  return f;
}

TEST_F(ExampleRules, PortScanFiresOnThe51stDistinctPortWithinAMinute) {
  std::vector<FlowRecord> flows;
  const int64_t t0 = 1'499'000'000'000;
  for (int i = 0; i < 60; ++i) flows.push_back(probe(1000 + i, t0 + i * 500));
  flows.push_back(probe(1000, t0 + 30'500));  // a repeated port adds nothing
  Batch r = run(*engine_, flows);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(first_attack(r), 50u);
  EXPECT_TRUE(r.verdicts[59].attack);
  EXPECT_THAT(matched_ids(*engine_, flows[50], 50), ::testing::ElementsAre("0a6f6b85-cd2a-4b14-997d-c0a519fdb534"));
  const auto agg = engine_->explain(flows[50], 50)["matched"][0]["aggregation"];
  EXPECT_EQ(agg["value"], 51.0);
  EXPECT_EQ(agg["group"]["src_ip"], "172.16.0.1");
  EXPECT_EQ(agg["timeframe"], "1m");
}

TEST_F(ExampleRules, PortScanSlowerThanTheTimeframeExpires) {
  // 40 ports, a 2-minute pause, 40 more: never 51 within 60 s.
  const int64_t t0 = 1'499'000'000'000;
  std::vector<FlowRecord> first, second;
  for (int i = 0; i < 40; ++i) first.push_back(probe(2000 + i, t0 + i * 100));
  for (int i = 0; i < 40; ++i) second.push_back(probe(3000 + i, t0 + 120'000 + i * 100));
  Batch a = run(*engine_, first);
  Batch b = run(*engine_, second);  // state carries across batches
  EXPECT_EQ(first_attack(a), 40u);
  EXPECT_EQ(first_attack(b), 40u);
  // Without the pause the same 80 ports fire (state across batches).
  auto engine = RulesEngine::load(kExamples);
  for (auto& f : second) f.timestamp_ms -= 110'000;  // 10 s after the first group
  Batch c = run(*engine, first);
  Batch d = run(*engine, second);
  EXPECT_EQ(first_attack(c), 40u);
  EXPECT_EQ(first_attack(d), 10u);
}

TEST_F(ExampleRules, PortScanFromManySourcesIsNotOneScan) {
  const int64_t t0 = 1'499'000'000'000;
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 200; ++i) {
    FlowRecord f = probe(1000 + i, t0 + i * 10);
    f.src_ip = "10.1.0." + std::to_string(i % 50);  // 4 ports per source
    flows.push_back(f);
  }
  Batch r = run(*engine_, flows);
  EXPECT_EQ(first_attack(r), 200u);
}

TEST_F(ExampleRules, SshAndFtpBruteForce) {
  FlowRecord ssh = benign_flow();
  ssh[Feature::destination_port] = 22;
  Batch r = run(*engine_, burst(ssh, 25, 2'000));  // 25 sessions in 48 s
  EXPECT_EQ(first_attack(r), 20u);
  EXPECT_THAT(matched_ids(*engine_, ssh, 20), ::testing::ElementsAre("029021eb-345e-45a6-98d5-467ac773e782"));

  FlowRecord ftp = benign_flow();
  ftp[Feature::destination_port] = 21;
  ftp.timestamp_ms += 3'600'000;
  r = run(*engine_, burst(ftp, 25, 2'000));
  EXPECT_EQ(first_attack(r), 20u);
  EXPECT_THAT(matched_ids(*engine_, ftp, 24), ::testing::ElementsAre("348403cb-c6d4-4fbd-90ab-97950f247a62"));

  FlowRecord admin = benign_flow();  // an admin's few sessions a minute
  admin[Feature::destination_port] = 22;
  admin.timestamp_ms += 7'200'000;
  r = run(*engine_, burst(admin, 60, 10'000));
  EXPECT_EQ(first_attack(r), 60u);
}

TEST_F(ExampleRules, HttpFlood) {
  FlowRecord web = benign_flow();
  web[Feature::destination_port] = 80;
  Batch r = run(*engine_, burst(web, 250, 100));  // 250 flows in 25 s
  EXPECT_EQ(first_attack(r), 200u);
  EXPECT_THAT(matched_ids(*engine_, web, 249), ::testing::ElementsAre("68552ab2-75fe-4815-bd66-cb48a3ba833c"));
}

// ---------------------------------------------------------------------------
// Validation errors

struct BadRule {
  const char* file;
  std::vector<const char*> expected;  // substrings of the message
};

class InvalidRules : public ::testing::TestWithParam<BadRule> {};

TEST_P(InvalidRules, NameFileRuleAndKey) {
  const BadRule& bad = GetParam();
  const std::string message = load_error(kBad + "/" + bad.file);
  EXPECT_THAT(message, HasSubstr(std::string("flows_rules/") + bad.file));
  for (const char* part : bad.expected) EXPECT_THAT(message, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(
    Files, InvalidRules,
    ::testing::Values(
        BadRule{"unknown_field.yml",
                {"rule 'bad-unknown-field' (Unknown field)", "detection.selection.syn_flags", "unknown field 'syn_flags'"}},
        BadRule{"unknown_modifier.yml",
                {"rule 'bad-unknown-modifier'", "detection.selection.flow_duration|greater", "unknown modifier 'greater'"}},
        BadRule{"undefined_selection.yml",
                {"rule 'bad-undefined-selection'", "detection.condition", "column 19", "undefined selection 'filter'"}},
        BadRule{"condition_syntax.yml",
                {"rule 'bad-condition-syntax'", "detection.condition", "column 16", "expected a selection name"}},
        BadRule{"bad_level.yml", {"rule 'bad-level' (Bad level)", "level", "bad level 'severe'"}},
        BadRule{"duplicate_id.yml", {"rule 'bad-duplicate' (Second)", "id", "duplicate id 'bad-duplicate'"}},
        BadRule{"missing_timeframe.yml", {"rule 'bad-missing-timeframe'", "detection.timeframe", "required"}},
        BadRule{"aggregation_field.yml",
                {"rule 'bad-aggregation-field'", "detection.condition", "column 28", "unknown field 'dst_port'"}},
        BadRule{"not_a_number.yml",
                {"rule 'bad-not-a-number'", "detection.selection.destination_port", "'ssh' is not a number"}},
        BadRule{"numeric_modifier_on_text.yml",
                {"rule 'bad-numeric-modifier'", "detection.selection.src_ip|gt", "needs a numeric field"}},
        BadRule{"bad_cidr.yml", {"rule 'bad-cidr'", "detection.selection.src_ip|cidr", "not an IPv4 or IPv6 network"}},
        BadRule{"unknown_key.yml", {"rule 'bad-unknown-key'", "falsepositive: unknown key"}},
        BadRule{"missing_id.yml", {"rule #1 (No id here)", "id: missing"}},
        BadRule{"bad_id.yml", {"rule 'not a slug' (Id with spaces)", "id:", "not a UUID or slug"}},
        BadRule{"timeframe_without_aggregation.yml",
                {"rule 'bad-timeframe-alone'", "detection.timeframe", "only meaningful with an aggregation"}},
        BadRule{"bad_yaml.yml", {"YAML error", "line"}},
        BadRule{"no_condition.yml", {"rule 'bad-no-condition'", "detection.condition: missing"}}),
    [](const auto& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

TEST(RulesLoad, DuplicateIdAcrossFilesNamesBoth) {
  const std::string message = load_error(kBad + "/duplicate_across");
  EXPECT_THAT(message, HasSubstr("duplicate_across/b.yaml: rule 'shared-id' (In file b): id: duplicate id"));
  EXPECT_THAT(message, HasSubstr("also in " + kBad + "/duplicate_across/a.yml"));
}

TEST(RulesLoad, EmptyDirectoryAndMissingFile) {
  EXPECT_THAT(load_error(kBad + "/empty_dir"), HasSubstr("no rules found"));
  EXPECT_THAT(load_error(kBad + "/does_not_exist.yml"), HasSubstr("cannot open"));
}

std::string text_error(const std::string& yaml) {
  try {
    RulesEngine::from_text(yaml, "inline.yml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kHeader = "title: T\nid: t-1\nlevel: low\n";

TEST(RulesLoad, MoreValidationErrors) {
  auto rule = [](const std::string& detection) { return std::string(kHeader) + "detection:\n" + detection; };
  EXPECT_THAT(text_error(rule("  sel: {destination_port|gt|lt: 1}\n  condition: sel\n")),
              HasSubstr("more than one comparison modifier"));
  EXPECT_THAT(text_error(rule("  sel: {src_ip|ne|all: [a, b]}\n  condition: sel\n")),
              HasSubstr("'all' cannot combine with 'ne'"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port|startswith: 1}\n  condition: sel\n")),
              HasSubstr("needs a text field"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port|in: 22}\n  condition: sel\n")),
              HasSubstr("'in' expects a list"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port|gt: null}\n  condition: sel\n")),
              HasSubstr("null (a missing value) only compares with eq or ne"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port: []}\n  condition: sel\n")), HasSubstr("empty list"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port: {a: 1}}\n  condition: sel\n")),
              HasSubstr("expected a value or a list of values"));
  EXPECT_THAT(text_error(rule("  sel: [a, b]\n  condition: sel\n")), HasSubstr("keyword lists are not supported"));
  EXPECT_THAT(text_error(rule("  sel: {}\n  condition: sel\n")), HasSubstr("empty selection"));
  EXPECT_THAT(text_error(rule("  and: {destination_port: 1}\n  condition: and\n")),
              HasSubstr("detection.and: bad selection name"));
  EXPECT_THAT(text_error(rule("  condition: sel\n")), HasSubstr("detection: no selection"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port: 1}\n  condition: sel | count() >= 0\n  timeframe: 1m\n")),
              HasSubstr("always passed"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port: 1}\n  condition: sel | count() > 5\n  timeframe: soon\n")),
              HasSubstr("'soon' is not a positive duration"));
  EXPECT_THAT(text_error(rule("  sel: {destination_port: 1}\n  condition: sel | count(distinct src_ip) > 20000\n"
                              "  timeframe: 1m\n")),
              HasSubstr("above 10000"));
  EXPECT_THAT(text_error("title: T\nid: t-1\nlevel: low\n"), HasSubstr("detection: missing"));
  EXPECT_THAT(text_error("- a\n- b\n"), HasSubstr("a rule must be a map"));
  EXPECT_THAT(text_error("id: x\nlevel: low\ndetection: {s: {protocol: 6}, condition: s}\n"),
              HasSubstr("rule 'x': title: missing"));
  EXPECT_THAT(text_error("title: T\nid: t\ndetection: {s: {protocol: 6}, condition: s}\n"),
              HasSubstr("rule 't' (T): level: missing"));
}

// ---------------------------------------------------------------------------
// Condition grammar

std::string parse_error(const std::string& condition, std::vector<std::string> names) {
  auto parsed = parse_condition(condition, names);
  return parsed.ok() ? "(no error)" : parsed.error().reason;
}

TEST(RuleCondition, ErrorsCarryTheColumn) {
  const std::vector<std::string> names = {"a", "b", "sel_1", "sel_2"};
  EXPECT_EQ(parse_error("a and (b or", names), "column 12: expected a selection name, 'not', '(' or '1 of', got the end of the condition");
  EXPECT_EQ(parse_error("a and (b or a", names), "column 14: expected ')' to close the '(' at column 7, got the end of the condition");
  EXPECT_EQ(parse_error("a b", names), "column 3: expected 'and', 'or', '|' or the end, got 'b'");
  EXPECT_EQ(parse_error("a and c", names), "column 7: undefined selection 'c'");
  EXPECT_EQ(parse_error("1 of x_*", names), "column 6: 'x_*' matches no selection");
  EXPECT_EQ(parse_error("3 of sel_*", names), "column 1: '3 of sel_*' asks for more selections than the 2 it matches");
  EXPECT_EQ(parse_error("sel_*", names), "column 1: a wildcard name ('sel_*') needs a quantifier: '1 of sel_*' or 'all of sel_*'");
  EXPECT_EQ(parse_error("1 sel_1", names), "column 3: expected 'of' after '1', got 'sel_1'");
  EXPECT_EQ(parse_error("", names), "column 1: the condition is empty");
  EXPECT_EQ(parse_error("a | count() < 5", names), "column 13: only '>' and '>=' may compare an aggregation (a flow rule fires when the aggregate passes its threshold)");
  EXPECT_EQ(parse_error("a | sum(x) > 5", names), "column 5: expected 'count' after '|', got 'sum'");
  EXPECT_EQ(parse_error("a | count() by > 5", names), "column 16: expected a field name after 'by', got '>'");
  EXPECT_EQ(parse_error("a | count() by x", names), "column 17: expected '>' or '>=' after the aggregation, got the end of the condition");
  EXPECT_EQ(parse_error("a and $", names), "column 7: unexpected character '$'");
  EXPECT_EQ(parse_error("0 of them", names), "column 1: '0' is not a count of selections (1, 2, ... or 'all')");
}

TEST(RuleCondition, TruthTable) {
  const std::vector<std::string> names = {"a", "b", "sel_1", "sel_2"};
  struct Case {
    const char* condition;
    uint8_t a, b, s1, s2;
    bool expected;
  };
  const Case cases[] = {
      {"a and b", 1, 1, 0, 0, true},          {"a and b", 1, 0, 0, 0, false},
      {"a or b", 0, 1, 0, 0, true},           {"a or b", 0, 0, 1, 1, false},
      {"not a", 0, 0, 0, 0, true},            {"not a and b", 0, 1, 0, 0, true},
      {"not (a and b)", 1, 1, 0, 0, false},   {"a or b and sel_1", 1, 0, 0, 0, true},  // and binds tighter
      {"(a or b) and sel_1", 1, 0, 0, 0, false},
      {"1 of sel_*", 0, 0, 0, 1, true},       {"1 of sel_*", 1, 1, 0, 0, false},
      {"all of sel_*", 0, 0, 1, 0, false},    {"all of sel_*", 0, 0, 1, 1, true},
      {"all of them", 1, 1, 1, 1, true},      {"all of them", 1, 1, 1, 0, false},
      {"1 of them", 0, 0, 0, 1, true},        {"2 of them", 0, 1, 0, 1, true},
      {"2 of them", 0, 1, 0, 0, false},       {"a and not 1 of sel_*", 1, 0, 0, 0, true},
      {"a and not 1 of sel_*", 1, 0, 1, 0, false},
      {"not not a", 1, 0, 0, 0, true},        {"1 of a", 1, 0, 0, 0, true},
  };
  for (const Case& c : cases) {
    auto parsed = parse_condition(c.condition, names);
    ASSERT_TRUE(parsed.ok()) << c.condition << ": " << parsed.error().reason;
    const uint8_t selections[] = {c.a, c.b, c.s1, c.s2};
    std::vector<uint8_t> stack(parsed->expression.max_stack());
    EXPECT_EQ(parsed->expression.evaluate(selections, stack.data()), c.expected)
        << c.condition << " with " << int(c.a) << int(c.b) << int(c.s1) << int(c.s2);
  }
  auto parsed = parse_condition("a and not b", names);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->expression.uses(0));
  EXPECT_TRUE(parsed->expression.uses(1));
  EXPECT_FALSE(parsed->expression.uses(2));
}

TEST(RuleCondition, Aggregation) {
  const std::vector<std::string> names = {"probe"};
  auto parsed = parse_condition("probe | count(distinct destination_port) by src_ip, dst_ip >= 50", names);
  ASSERT_TRUE(parsed.ok()) << parsed.error().reason;
  ASSERT_TRUE(parsed->aggregation.has_value());
  const AggregationSpec& spec = *parsed->aggregation;
  EXPECT_TRUE(spec.distinct);
  EXPECT_EQ(spec.field, "destination_port");
  EXPECT_EQ(spec.field_position, 24u);
  EXPECT_THAT(spec.group_by, ::testing::ElementsAre("src_ip", "dst_ip"));
  EXPECT_TRUE(spec.inclusive);
  EXPECT_EQ(spec.threshold, 50);
  EXPECT_EQ(spec.to_string(), "count(distinct destination_port) by src_ip, dst_ip >= 50");
  // Sigma's count(field) is a distinct count too.
  auto sigma = parse_condition("probe | count(destination_port) > 5", names);
  ASSERT_TRUE(sigma.ok());
  EXPECT_TRUE(sigma->aggregation->distinct);
  EXPECT_TRUE(sigma->aggregation->group_by.empty());
  auto plain = parse_condition("probe | count() > 5", names);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->aggregation->distinct);
  EXPECT_TRUE(plain->aggregation->field.empty());
}

// ---------------------------------------------------------------------------
// Modifiers and semantics

std::unique_ptr<RulesEngine> one_rule(const std::string& selection, const std::string& condition = "sel",
                                      const std::string& level = "high") {
  return RulesEngine::from_text("title: T\nid: t-1\nlevel: " + level + "\ndetection:\n  sel:\n" + selection +
                                    "  condition: " + condition + "\n",
                                "inline.yml");
}

bool fires(RulesEngine& engine, const FlowRecord& flow) {
  Batch r = run(engine, {flow});
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.verdicts[0].decided);
  return r.verdicts[0].score > 0;
}

TEST(RulesModifiers, NumericComparisons) {
  FlowRecord f = benign_flow();  // destination_port 443, flow_duration 80000
  struct Case {
    const char* selection;
    bool expected;
  };
  const Case cases[] = {
      {"    destination_port: 443\n", true},
      {"    destination_port|eq: 443\n", true},
      {"    destination_port: [22, 443]\n", true},
      {"    destination_port|in: [22, 80]\n", false},
      {"    destination_port|ne: 443\n", false},
      {"    destination_port|ne: [22, 80]\n", true},
      {"    destination_port|ne: [22, 443]\n", false},
      {"    flow_duration|gt: 80000\n", false},
      {"    flow_duration|gte: 80000\n", true},
      {"    flow_duration|lt: 80001\n", true},
      {"    flow_duration|lte: 79999.5\n", false},
      {"    flow_duration|gt: [1e9, 10]\n", true},
      {"    flow_duration|gt|all: [1e9, 10]\n", false},
      {"    flow_duration|gt: 1e3\n    destination_port: 80\n", false},  // AND of keys
      {"    src_port: 51000\n", true},
      {"    protocol: 6\n", true},
  };
  for (const Case& c : cases) {
    auto engine = one_rule(c.selection);
    EXPECT_EQ(fires(*engine, f), c.expected) << c.selection;
  }
}

TEST(RulesModifiers, ListOfMapsIsOr) {
  auto engine = one_rule("    - destination_port: 22\n    - flow_duration|gt: 1000\n");
  FlowRecord f = benign_flow();
  EXPECT_TRUE(fires(*engine, f));
  f[Feature::flow_duration] = 10;
  EXPECT_FALSE(fires(*engine, f));
  f[Feature::destination_port] = 22;
  EXPECT_TRUE(fires(*engine, f));
}

TEST(RulesModifiers, TextFields) {
  FlowRecord f = benign_flow();  // src 192.168.10.5, dst 93.184.216.34
  f.dst_ip = "2001:DB8::1";
  struct Case {
    const char* selection;
    bool expected;
  };
  const Case cases[] = {
      {"    src_ip: 192.168.10.5\n", true},
      {"    src_ip: 192.168.10.50\n", false},
      {"    src_ip|startswith: '192.168.'\n", true},
      {"    src_ip|endswith: '.5'\n", true},
      {"    src_ip|contains: '168.10'\n", true},
      {"    src_ip|contains|all: ['192', '.5']\n", true},
      {"    src_ip|contains|all: ['192', '.7']\n", false},
      {"    src_ip|ne: [10.0.0.1, 10.0.0.2]\n", true},
      {"    src_ip|cidr: 192.168.0.0/16\n", true},
      {"    src_ip|cidr: [10.0.0.0/8, 172.16.0.0/12]\n", false},
      {"    src_ip|cidr: 192.168.10.4/31\n", true},
      {"    src_ip|cidr: 192.168.10.6/31\n", false},
      {"    dst_ip|cidr: 2001:db8::/32\n", true},
      {"    dst_ip: 2001:db8::1\n", true},  // case-insensitive
      {"    dst_ip|cidr: 10.0.0.0/8\n", false},
  };
  for (const Case& c : cases) {
    auto engine = one_rule(c.selection);
    EXPECT_EQ(fires(*engine, f), c.expected) << c.selection;
  }
}

TEST(RulesModifiers, MissingValuesMatchOnlyNull) {
  FlowRecord f = benign_flow();
  f[Feature::destination_port] = kMissing;
  f.src_ip.clear();
  f.src_port = -1;
  struct Case {
    const char* selection;
    bool expected;
  };
  const Case cases[] = {
      {"    destination_port|ne: 22\n", false},
      {"    destination_port|lt: 1e9\n", false},
      {"    destination_port: null\n", true},
      {"    destination_port|ne: null\n", false},
      {"    flow_duration|ne: null\n", true},
      {"    src_ip|ne: 1.2.3.4\n", false},
      {"    src_ip: null\n", true},
      {"    src_port: null\n", true},
      {"    src_ip|cidr: 0.0.0.0/0\n", false},
  };
  for (const Case& c : cases) {
    auto engine = one_rule(c.selection);
    EXPECT_EQ(fires(*engine, f), c.expected) << c.selection;
  }
}

TEST(RulesScore, LevelTableAndAttackVote) {
  EXPECT_DOUBLE_EQ(level_score(RuleLevel::critical), 1.0);
  EXPECT_DOUBLE_EQ(level_score(RuleLevel::high), 0.9);
  EXPECT_DOUBLE_EQ(level_score(RuleLevel::medium), 0.7);
  EXPECT_DOUBLE_EQ(level_score(RuleLevel::low), 0.5);
  EXPECT_DOUBLE_EQ(level_score(RuleLevel::informational), 0.2);
  FlowRecord f = benign_flow();
  auto info = one_rule("    protocol: 6\n", "sel", "informational");
  Batch r = run(*info, {f});
  EXPECT_DOUBLE_EQ(r.verdicts[0].score, 0.2);
  EXPECT_FALSE(r.verdicts[0].attack);  // reported, but does not vote attack by itself
  EXPECT_EQ(info->explain(f, 0)["matched"].size(), 1u);
  auto low = one_rule("    protocol: 6\n", "sel", "low");
  r = run(*low, {f});
  EXPECT_TRUE(r.verdicts[0].attack);
  EXPECT_DOUBLE_EQ(r.verdicts[0].score, 0.5);
}

TEST(RulesScore, StrongestRuleWins) {
  auto engine = RulesEngine::from_text(
      "title: A\nid: a\nlevel: medium\ndetection: {s: {protocol: 6}, condition: s}\n---\n"
      "title: B\nid: b\nlevel: critical\ndetection: {s: {destination_port: 443}, condition: s}\n---\n"
      "title: C\nid: c\nlevel: high\ndetection: {s: {destination_port: 80}, condition: s}\n---\n",
      "inline.yml");
  FlowRecord f = benign_flow();
  Batch r = run(*engine, {f});
  EXPECT_DOUBLE_EQ(r.verdicts[0].score, 1.0);
  EXPECT_THAT(matched_ids(*engine, f, 0), ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(engine->match_counts(), ::testing::ElementsAre(1u, 1u, 0u));
}

// ---------------------------------------------------------------------------
// Aggregation state

std::unique_ptr<RulesEngine> distinct_rule(RulesEngine::Options options = {}) {
  return RulesEngine::from_text(
      "title: Scan\nid: scan\nlevel: high\ndetection:\n  s: {protocol: 6}\n"
      "  condition: s | count(distinct destination_port) by src_ip > 3\n  timeframe: 10s\n",
      "inline.yml", options);
}

FlowRecord from(const std::string& src, int port, int64_t t) {
  FlowRecord f = benign_flow();
  f.src_ip = src;
  f[Feature::destination_port] = port;
  f.timestamp_ms = t;
  return f;
}

TEST(RulesAggregation, DistinctCountSlidesAndExpires) {
  auto engine = distinct_rule();
  const int64_t t = 1'000'000;
  Batch r = run(*engine, {from("a", 1, t), from("a", 2, t + 1'000), from("a", 3, t + 2'000), from("a", 4, t + 3'000),
                        from("a", 5, t + 11'500),    // ports 1 and 2 have left the window: 3, 4, 5
                        from("a", 6, t + 11'600)});  // 3, 4, 5, 6
  EXPECT_FALSE(r.verdicts[2].attack);
  EXPECT_TRUE(r.verdicts[3].attack);
  EXPECT_FALSE(r.verdicts[4].attack);
  EXPECT_TRUE(r.verdicts[5].attack);
}

TEST(RulesAggregation, OutOfOrderAndLateFlows) {
  auto engine = distinct_rule();
  const int64_t t = 1'000'000;
  // Watermark 20 s: a flow from 5 s is older than the window and is not counted.
  Batch r = run(*engine, {from("a", 1, t + 20'000), from("a", 2, t + 5'000), from("a", 3, t + 19'000),
                        from("a", 4, t + 18'000), from("a", 5, t + 17'000)});
  EXPECT_FALSE(r.verdicts[3].attack);
  EXPECT_TRUE(r.verdicts[4].attack);
  EXPECT_EQ(engine->explain(from("a", 5, 0), 4)["matched"][0]["aggregation"]["value"], 4.0);
}

TEST(RulesAggregation, MissingTimestampsUseArrivalOrder) {
  auto engine = distinct_rule();
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 5; ++i) flows.push_back(from("a", i, 0));
  Batch r = run(*engine, flows);
  EXPECT_EQ(first_attack(r), 3u);
  // After a timestamped flow, unstamped ones take its time.
  auto engine2 = distinct_rule();
  r = run(*engine2, {from("b", 1, 50'000), from("b", 2, 0), from("b", 3, 0), from("b", 4, 0),
                     from("b", 5, 70'000),  // 20 s later: the old ports expire
                     from("b", 6, 0)});
  EXPECT_TRUE(r.verdicts[3].attack);
  EXPECT_FALSE(r.verdicts[4].attack);
  EXPECT_FALSE(r.verdicts[5].attack);
}

TEST(RulesAggregation, MissingGroupFieldIsNotAggregated) {
  auto engine = distinct_rule();
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 10; ++i) flows.push_back(from("", i, 1'000 + i));
  Batch r = run(*engine, flows);
  EXPECT_EQ(first_attack(r), 10u);
  EXPECT_EQ(engine->live_groups(), 0u);
}

TEST(RulesAggregation, GroupsAreBoundedAndIdleOnesExpire) {
  RulesEngine::Options options;
  options.max_groups = 100;
  auto engine = distinct_rule(options);
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 1'000; ++i) flows.push_back(from("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250), 1, 1'000 + i));
  Batch r = run(*engine, flows);
  ASSERT_TRUE(r.status.ok());
  EXPECT_LE(engine->live_groups(), 100u);
  EXPECT_GE(engine->evicted_groups(), 900u);
  // A minute later every group is idle for longer than the timeframe.
  r = run(*engine, {from("10.9.9.9", 1, 100'000)});
  EXPECT_EQ(engine->live_groups(), 1u);
  RulesEngine::Options tiny;
  tiny.max_groups = 5;
  EXPECT_THROW(distinct_rule(tiny), ConfigError);
}

TEST(RulesAggregation, DistinctStateIsBoundedButExact) {
  // Thousands of ports from one source: kept values stay at threshold+1 and
  // the rule keeps firing.
  auto engine = distinct_rule();
  std::vector<FlowRecord> flows;
  for (int i = 0; i < 5'000; ++i) flows.push_back(from("a", i, 1'000 + i));
  Batch r = run(*engine, flows);
  EXPECT_EQ(first_attack(r), 3u);
  for (size_t i = 3; i < flows.size(); ++i) ASSERT_TRUE(r.verdicts[i].attack) << i;
  EXPECT_EQ(engine->explain(flows.back(), flows.size() - 1)["matched"][0]["aggregation"]["value"], 4.0);
}

TEST(RulesAggregation, CountWithoutGroupAndInclusiveThreshold) {
  auto engine = RulesEngine::from_text(
      "title: Many\nid: many\nlevel: low\ndetection:\n  s: {protocol: 6}\n"
      "  condition: s | count() >= 3\n  timeframe: 1s\n",
      "inline.yml");
  Batch r = run(*engine, {from("a", 1, 10'000), from("b", 1, 10'100), from("c", 1, 10'200),
                        from("d", 1, 12'000), from("e", 1, 12'100)});
  EXPECT_FALSE(r.verdicts[1].attack);
  EXPECT_TRUE(r.verdicts[2].attack);
  EXPECT_FALSE(r.verdicts[3].attack);
  EXPECT_FALSE(r.verdicts[4].attack);
}

TEST(RulesEngineContract, DeadlineAndSizeMismatch) {
  auto engine = RulesEngine::load(kExamples);
  std::vector<FlowRecord> flows(1'000, benign_flow());
  std::vector<EngineVerdict> out(flows.size());
  Status late = engine->evaluate(flows, out, Clock::now() - std::chrono::seconds(1));
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error().reason, HasSubstr("time budget passed"));
  std::vector<EngineVerdict> short_out(3);
  EXPECT_FALSE(engine->evaluate(flows, short_out, far_deadline()).ok());
  EXPECT_EQ(engine->name(), "rules");
  // explain() past the batch: nothing matched.
  EXPECT_TRUE(engine->explain(flows[0], 5'000)["matched"].empty());
}

}  // namespace rules_test
}  // namespace sentinel::flows
