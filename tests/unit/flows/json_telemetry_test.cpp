#include "flows/json_telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "flows/csv_telemetry.h"

namespace sentinel::flows {
namespace json_telemetry_test {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kRoot = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/flows_json";
const std::string kFriday = std::string(SENTINEL_SOURCE_DIR) +
                            "/tests/data/netflows/cicids2017_machinelearningcve/"
                            "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv";
constexpr double kInf = std::numeric_limits<double>::infinity();

struct ReadAll {
  std::vector<FlowRecord> flows;
  std::vector<TelemetryIssue> issues;
  TelemetryStats stats;
};

ReadAll read(const std::string& root, TelemetryConfig config = {}, size_t batch = 4) {
  ReadAll all;
  auto source = JsonTelemetrySource::open(
      root, config, [&](const TelemetryIssue& issue) { all.issues.push_back(issue); });
  EXPECT_EQ(source->layout(), "json");
  EXPECT_EQ(source->name(), root);
  std::vector<FlowRecord> out;
  while (true) {
    auto n = source->next_batch(out, batch);
    EXPECT_TRUE(n.ok());
    if (!n.ok() || n.value() == 0) break;
    all.flows.insert(all.flows.end(), out.begin(), out.end());
  }
  all.stats = source->stats();
  return all;
}

std::map<std::string, std::vector<const FlowRecord*>> by_file(const ReadAll& all) {
  std::map<std::string, std::vector<const FlowRecord*>> files;
  for (const FlowRecord& f : all.flows) {
    std::string o = f.origin.substr(kRoot.size() + 1);
    const size_t cut = o.find_first_of(":[");
    files[o.substr(0, cut)].push_back(&f);
  }
  return files;
}

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("flowio-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(JsonTelemetry, ListsTheTreeInPathOrderWithFolderLabels) {
  const auto files = list_json_telemetry(kRoot, {});
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : files) got.emplace_back(f.path.substr(kRoot.size() + 1), f.default_label);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"files/ddos/capture_01.json", "DDoS"},
                     {"flows/bad_array.json", ""},
                     {"flows/bad_records.jsonl", ""},
                     {"flows/benign/dns.jsonl", "BENIGN"},
                     {"flows/benign/web.json", "BENIGN"},
                     {"flows/broken.json", ""},
                     {"flows/ddos/syn_flood.json", "DDoS"},
                     {"flows/mixed.json", ""},
                 }));
  // A label folder given as the root, and a single file, keep their label.
  const auto benign = list_json_telemetry(kRoot + "/flows/benign", {});
  ASSERT_EQ(benign.size(), 2u);
  EXPECT_EQ(benign[0].default_label, "BENIGN");
  const auto one = list_json_telemetry(kRoot + "/flows/ddos/syn_flood.json", {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].default_label, "DDoS");
  EXPECT_EQ(label_for_folder("DDoS"), "DDoS");
  EXPECT_EQ(label_for_folder("Benign"), "BENIGN");
  EXPECT_EQ(label_for_folder("portscan"), "");
  EXPECT_TRUE(is_json_telemetry_name("a.NDJSON"));
  EXPECT_FALSE(is_json_telemetry_name("notes.txt"));
}

TEST(JsonTelemetry, ReadsEveryFormGoodRecordsAndLabels) {
  const ReadAll all = read(kRoot);
  const auto files = by_file(all);
  auto count = [&](const std::string& f) { return files.count(f) ? files.at(f).size() : 0u; };
  EXPECT_EQ(count("files/ddos/capture_01.json"), 3u);  // JSON lines in a .json file
  EXPECT_EQ(count("flows/bad_array.json"), 2u);
  EXPECT_EQ(count("flows/bad_records.jsonl"), 2u);
  EXPECT_EQ(count("flows/benign/dns.jsonl"), 2u);
  EXPECT_EQ(count("flows/benign/web.json"), 3u);
  EXPECT_EQ(count("flows/broken.json"), 0u);
  EXPECT_EQ(count("flows/ddos/syn_flood.json"), 1u);
  EXPECT_EQ(count("flows/mixed.json"), 3u);
  EXPECT_EQ(all.flows.size(), 16u);
  EXPECT_EQ(all.stats.records, 16u);
  EXPECT_EQ(all.stats.files, 8u);

  for (const FlowRecord* f : files.at("flows/benign/web.json")) EXPECT_EQ(f->label, "BENIGN");
  for (const FlowRecord* f : files.at("flows/benign/dns.jsonl")) EXPECT_EQ(f->label, "BENIGN");
  for (const FlowRecord* f : files.at("files/ddos/capture_01.json")) EXPECT_EQ(f->label, "DDoS");
  const auto& mixed = files.at("flows/mixed.json");
  EXPECT_EQ(mixed[0]->label, "PortScan");
  EXPECT_EQ(mixed[1]->label, "Bot");
  EXPECT_EQ(mixed[2]->label, "");  // not under benign/ or ddos/, no label of its own
  EXPECT_EQ(mixed[2]->origin, kRoot + "/flows/mixed.json[2]");

  const FlowRecord& syn = *files.at("flows/ddos/syn_flood.json")[0];
  EXPECT_EQ(syn.origin, kRoot + "/flows/ddos/syn_flood.json");
  EXPECT_EQ(syn.label, "DDoS");
  EXPECT_EQ(syn.flow_id, "172.16.0.1-192.168.10.50-23123-80-6");
  EXPECT_EQ(syn.src_port, 23123);
  EXPECT_EQ(syn.timestamp_ms, 1499454159182);
  EXPECT_EQ(syn[Feature::flow_duration], 4216645);
  EXPECT_EQ(syn[Feature::protocol], 6);

  const auto& dns = files.at("flows/benign/dns.jsonl");
  EXPECT_EQ(dns[0]->origin, kRoot + "/flows/benign/dns.jsonl:1");
  EXPECT_EQ(dns[1]->origin, kRoot + "/flows/benign/dns.jsonl:2");
  EXPECT_EQ(dns[0]->src_ip, "104.17.241.25");
  EXPECT_EQ(dns[0]->timestamp_ms, 1499398200000);
}

TEST(JsonTelemetry, RecordsEqualTheCsvRowsTheyWereWrittenFrom) {
  // web.json holds Friday lines 2, 3 and 67 as JSON; dns.jsonl lines 5 and 6
  // under their canonical CIC names.
  auto reader = CsvReader::open(kFriday);
  ASSERT_TRUE(reader.ok());
  std::vector<FlowRecord> csv;
  ASSERT_TRUE(reader.value()->next_batch(csv, 100).ok());
  const ReadAll all = read(kRoot + "/flows/benign");
  ASSERT_EQ(all.flows.size(), 5u);
  const size_t lines[] = {5, 6, 2, 3, 67};  // dns.jsonl sorts before web.json
  for (size_t i = 0; i < 5; ++i) {
    const FlowRecord& row = csv[lines[i] - 2];
    EXPECT_EQ(std::memcmp(all.flows[i].features.data(), row.features.data(), sizeof(double) * kFeatureCount), 0)
        << all.flows[i].origin;
  }
  EXPECT_EQ(all.flows[4][Feature::flow_bytes_per_s], kInf);
  EXPECT_EQ(all.flows[4][Feature::flow_packets_per_s], kInf);
}

TEST(JsonTelemetry, BadRecordsAreReportedByLineOrIndexAndSkipped) {
  const ReadAll all = read(kRoot + "/flows");
  std::vector<std::pair<std::string, std::string>> issues;
  for (const auto& i : all.issues) issues.emplace_back(i.origin.substr(kRoot.size() + 1), i.reason);
  ASSERT_EQ(issues.size(), 8u);
  EXPECT_EQ(issues[0].first, "flows/bad_array.json[1]");
  EXPECT_THAT(issues[0].second, HasSubstr("must be a JSON object, got a string"));
  EXPECT_EQ(issues[1].first, "flows/bad_array.json[2]");
  EXPECT_THAT(issues[1].second, HasSubstr("syn_flag_count: expected a number, got a boolean"));
  EXPECT_EQ(issues[2].first, "flows/bad_array.json[3]");
  EXPECT_THAT(issues[2].second, HasSubstr("src_port: port 70000 is outside 0-65535"));
  EXPECT_EQ(issues[3].first, "flows/bad_array.json[4]");
  EXPECT_THAT(issues[3].second, HasSubstr("given twice"));
  EXPECT_EQ(issues[4].first, "flows/bad_records.jsonl:2");
  EXPECT_THAT(issues[4].second, HasSubstr("malformed JSON"));
  EXPECT_EQ(issues[5].first, "flows/bad_records.jsonl:3");
  EXPECT_THAT(issues[5].second, HasSubstr("colour: unknown key"));
  EXPECT_EQ(issues[6].first, "flows/bad_records.jsonl:4");
  EXPECT_THAT(issues[6].second, HasSubstr("flow_duration: expected a number"));
  EXPECT_EQ(issues[7].first, "flows/broken.json");
  EXPECT_THAT(issues[7].second, HasSubstr("malformed JSON"));
  EXPECT_EQ(all.stats.rejected, 8u);

  const auto files = by_file(all);
  const auto& good = files.at("flows/bad_records.jsonl");
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[0]->origin, kRoot + "/flows/bad_records.jsonl:1");
  EXPECT_EQ(good[1]->origin, kRoot + "/flows/bad_records.jsonl:6");  // line 5 is blank
  EXPECT_EQ((*good[1])[Feature::total_backward_packets], 2);
  EXPECT_EQ((*good[1])[Feature::protocol], 17);
  const auto& array = files.at("flows/bad_array.json");
  EXPECT_EQ(array[1]->origin, kRoot + "/flows/bad_array.json[5]");
  EXPECT_FALSE(array[1]->has(Feature::fwd_packets_per_s));
}

TEST(JsonTelemetry, FilesOverTheCapAreRefusedNamingSizeAndLimit) {
  TelemetryConfig config;
  config.max_file_bytes = 3000;
  const ReadAll all = read(kRoot + "/flows/benign", config);
  // dns.jsonl (3,981 bytes) and web.json (5,962 bytes) are both over 3,000.
  EXPECT_TRUE(all.flows.empty());
  ASSERT_EQ(all.issues.size(), 2u);
  EXPECT_EQ(all.issues[0].origin, kRoot + "/flows/benign/dns.jsonl");
  EXPECT_THAT(all.issues[0].reason, HasSubstr("file of 3981 bytes is over the telemetry file limit of 3000 bytes"));
  EXPECT_THAT(all.issues[1].reason, HasSubstr("file of 5962 bytes"));
}

TEST(JsonTelemetry, TheDefaultCapIsTenMebibytes) {
  TempDir dir;
  fs::create_directories(dir.path / "flows" / "ddos");
  const std::string record = R"({"flow_duration": 1, "syn_flag_count": 1})" "\n";
  {
    std::ofstream big(dir.path / "flows" / "ddos" / "big.jsonl", std::ios::binary);
    std::string text;
    while (text.size() + record.size() <= (10u << 20)) text += record;
    text += std::string((10u << 20) + 1 - text.size(), '\n');  // one byte over the limit
    big << text;
    std::ofstream fits(dir.path / "flows" / "ddos" / "fits.jsonl", std::ios::binary);
    fits << record << record;
  }
  const ReadAll all = read(dir.path.string());
  ASSERT_EQ(all.issues.size(), 1u);
  EXPECT_THAT(all.issues[0].origin, HasSubstr("big.jsonl"));
  EXPECT_THAT(all.issues[0].reason, HasSubstr("file of 10485761 bytes is over the telemetry file limit of 10485760"));
  ASSERT_EQ(all.flows.size(), 2u);
  EXPECT_EQ(all.flows[0].label, "DDoS");
}

TEST(JsonTelemetry, EmptyAndWhitespaceFilesHoldNoRecords) {
  TempDir dir;
  std::ofstream(dir.path / "empty.json") << "";
  std::ofstream(dir.path / "blank.json") << " \n\n";
  std::ofstream(dir.path / "scalar.json") << "42";
  const ReadAll all = read(dir.path.string());
  EXPECT_TRUE(all.flows.empty());
  ASSERT_EQ(all.issues.size(), 1u);
  EXPECT_THAT(all.issues[0].reason, HasSubstr("expected a flow object or an array of them, got a number"));
}

TEST(JsonTelemetry, AMissingPathIsReportedOnce) {
  const ReadAll all = read(kRoot + "/no-such.json");
  EXPECT_TRUE(all.flows.empty());
  ASSERT_EQ(all.issues.size(), 1u);
  EXPECT_THAT(all.issues[0].reason, HasSubstr("cannot read"));
}

}  // namespace json_telemetry_test
}  // namespace sentinel::flows
