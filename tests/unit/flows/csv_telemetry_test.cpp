#include "flows/csv_telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sentinel::flows {
namespace csv_telemetry_test {

using ::testing::HasSubstr;

const std::string kNetflows = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/netflows/";
const std::string kFriday =
    kNetflows + "cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv";
const std::string kDerived = kNetflows + "cicids2017_machinelearningcve/CICIDS2017_sample_westernoc2_derived.csv";
const std::string kTraffic =
    kNetflows + "cicids2017_trafficlabelling/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first20rows.csv";
const std::string kDdos = kNetflows + "cicids2017_improved_engelen_sampled/DDoS_5000.csv";
constexpr double kInf = std::numeric_limits<double>::infinity();

struct ReadAll {
  std::vector<FlowRecord> flows;
  std::vector<TelemetryIssue> issues;
  TelemetryStats stats;
};

ReadAll read_all(FlowSource& source, size_t batch = 1000) {
  ReadAll all;
  std::vector<FlowRecord> out;
  while (true) {
    auto n = source.next_batch(out, batch);
    EXPECT_TRUE(n.ok());
    if (!n.ok() || n.value() == 0) break;
    EXPECT_EQ(out.size(), n.value());
    for (auto& f : out) all.flows.push_back(f);
  }
  all.stats = source.stats();
  return all;
}

ReadAll read_file(const std::string& path, CsvOptions options = {}) {
  std::vector<TelemetryIssue> issues;
  options.issues = [&](const TelemetryIssue& i) { issues.push_back(i); };
  auto reader = CsvReader::open(path, std::move(options));
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error().to_string());
  if (!reader.ok()) return {};
  ReadAll all = read_all(*reader.value());
  all.issues = std::move(issues);
  return all;
}

ReadAll read_buffer(std::string data, CsvOptions options = {}) {
  std::vector<TelemetryIssue> issues;
  options.issues = [&](const TelemetryIssue& i) { issues.push_back(i); };
  auto file = CsvFile::from_buffer("mem.csv", std::move(data));
  EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().to_string());
  if (!file.ok()) return {};
  CsvReader reader(file.value(), file.value()->whole(), std::move(options));
  ReadAll all = read_all(reader);
  all.issues = std::move(issues);
  return all;
}

double f(const FlowRecord& r, Feature feature) { return r[feature]; }

TEST(CsvTelemetry, MachineLearningCveFileReadsEveryRow) {
  ReadAll all = read_file(kFriday);
  ASSERT_EQ(all.flows.size(), 9998u);
  EXPECT_TRUE(all.issues.empty());
  EXPECT_EQ(all.stats.records, 9998u);
  EXPECT_EQ(all.stats.rejected, 0u);

  const FlowRecord& first = all.flows[0];  // line 2
  EXPECT_EQ(first.origin, kFriday + ":2");
  EXPECT_EQ(f(first, Feature::destination_port), 54865);
  EXPECT_EQ(f(first, Feature::flow_duration), 3);
  EXPECT_EQ(f(first, Feature::flow_bytes_per_s), 4000000);
  EXPECT_EQ(f(first, Feature::flow_packets_per_s), 666666.6667);
  EXPECT_EQ(f(first, Feature::fwd_header_length), 40);
  EXPECT_EQ(f(first, Feature::fwd_header_length_1), 40);
  EXPECT_EQ(f(first, Feature::init_win_bytes_backward), -1);
  EXPECT_EQ(f(first, Feature::min_seg_size_forward), 20);
  EXPECT_FALSE(first.has(Feature::protocol));  // the layout lacks it: missing, not 0
  EXPECT_EQ(first.label, "BENIGN");
  EXPECT_TRUE(first.flow_id.empty());
  EXPECT_EQ(first.src_port, -1);
  EXPECT_EQ(first.timestamp_ms, 0);

  // Line 67: "Infinity" rates.
  const FlowRecord& inf_row = all.flows[67 - 2];
  EXPECT_EQ(inf_row.origin, kFriday + ":67");
  EXPECT_EQ(f(inf_row, Feature::destination_port), 55043);
  EXPECT_EQ(f(inf_row, Feature::flow_bytes_per_s), kInf);
  EXPECT_EQ(f(inf_row, Feature::flow_packets_per_s), kInf);
  // Line 6798: "NaN" bytes/s (missing), "Infinity" packets/s.
  const FlowRecord& nan_row = all.flows[6798 - 2];
  EXPECT_EQ(f(nan_row, Feature::destination_port), 36812);
  EXPECT_FALSE(nan_row.has(Feature::flow_bytes_per_s));
  EXPECT_EQ(f(nan_row, Feature::flow_packets_per_s), kInf);
  EXPECT_EQ(f(nan_row, Feature::init_win_bytes_forward), 7633);

  size_t inf_bytes = 0, inf_packets = 0, missing_bytes = 0, missing_other = 0;
  for (const FlowRecord& r : all.flows) {
    inf_bytes += f(r, Feature::flow_bytes_per_s) == kInf;
    inf_packets += f(r, Feature::flow_packets_per_s) == kInf;
    missing_bytes += !r.has(Feature::flow_bytes_per_s);
    for (size_t i = 0; i < kFeatureCount; ++i) {
      const auto feature = static_cast<Feature>(i);
      if (feature != Feature::protocol && feature != Feature::flow_bytes_per_s) missing_other += !r.has(feature);
    }
  }
  EXPECT_EQ(inf_bytes, 6u);
  EXPECT_EQ(inf_packets, 7u);
  EXPECT_EQ(missing_bytes, 1u);
  EXPECT_EQ(missing_other, 0u);
}

TEST(CsvTelemetry, DerivedSampleReadsEveryRowWithItsMergedLabels) {
  ReadAll all = read_file(kDerived);
  ASSERT_EQ(all.flows.size(), 6311u);
  EXPECT_TRUE(all.issues.empty());
  std::map<std::string, size_t> labels;
  size_t empty_bytes = 0, inf_bytes = 0;
  for (const FlowRecord& r : all.flows) {
    ++labels[r.label];
    EXPECT_FALSE(r.has(Feature::destination_port));
    EXPECT_FALSE(r.has(Feature::protocol));
    EXPECT_TRUE(r.has(Feature::fwd_header_length_1));
    empty_bytes += !r.has(Feature::flow_bytes_per_s);
    inf_bytes += f(r, Feature::flow_bytes_per_s) == kInf;
  }
  EXPECT_EQ(labels, (std::map<std::string, size_t>{{"BENIGN", 227},
                                                    {"Bot", 1966},
                                                    {"BruteForce", 553},
                                                    {"DoS", 952},
                                                    {"Infiltration", 36},
                                                    {"PortScan", 397},
                                                    {"WebAttack", 2180}}));
  EXPECT_EQ(empty_bytes, 1u);  // line 6065: an empty Flow Bytes/s
  EXPECT_EQ(inf_bytes, 11u);   // pandas wrote "inf"
  const FlowRecord& first = all.flows[0];
  EXPECT_EQ(f(first, Feature::flow_duration), 589700);
  EXPECT_EQ(f(first, Feature::bwd_packet_length_mean), 832.1666667000003);  // pandas' long floats, exactly
  EXPECT_EQ(f(first, Feature::flow_iat_std), 89175.35072999998);
  const FlowRecord& empty = all.flows[6065 - 2];
  EXPECT_EQ(empty.origin, kDerived + ":6065");
  EXPECT_FALSE(empty.has(Feature::flow_bytes_per_s));
  EXPECT_EQ(f(empty, Feature::flow_packets_per_s), kInf);
}

TEST(CsvTelemetry, ImprovedLayoutReadsIdentityAndFeatures) {
  ReadAll all = read_file(kDdos);
  ASSERT_EQ(all.flows.size(), 5000u);
  EXPECT_TRUE(all.issues.empty());
  const FlowRecord& r = all.flows[0];
  EXPECT_EQ(r.flow_id, "172.16.0.1-192.168.10.50-23123-80-6");
  EXPECT_EQ(r.src_ip, "172.16.0.1");
  EXPECT_EQ(r.src_port, 23123);
  EXPECT_EQ(r.dst_ip, "192.168.10.50");
  EXPECT_EQ(r.timestamp_ms, 1499454159182);  // 2017-07-07 19:02:39.182486 UTC
  EXPECT_EQ(r.label, "DDoS");
  EXPECT_EQ(f(r, Feature::destination_port), 80);
  EXPECT_EQ(f(r, Feature::protocol), 6);
  EXPECT_EQ(f(r, Feature::flow_duration), 4216645);
  EXPECT_EQ(f(r, Feature::total_fwd_packets), 7);
  EXPECT_EQ(f(r, Feature::total_backward_packets), 5);
  EXPECT_EQ(f(r, Feature::fwd_packet_length_mean), 2.857142857142857);
  EXPECT_EQ(f(r, Feature::flow_bytes_per_s), 2754.5596084090557);  // 17 digits: the from_chars path
  EXPECT_EQ(f(r, Feature::cwe_flag_count), 0);
  EXPECT_EQ(f(r, Feature::init_win_bytes_forward), 8192);
  EXPECT_EQ(f(r, Feature::init_win_bytes_backward), 229);
  EXPECT_FALSE(r.has(Feature::fwd_header_length_1));
  for (const FlowRecord& flow : all.flows) {
    EXPECT_EQ(flow.label, "DDoS");
    EXPECT_GT(flow.timestamp_ms, 1499385600000);  // 2017-07-07
    EXPECT_LT(flow.timestamp_ms, 1499472000000);  // 2017-07-08
  }
}

TEST(CsvTelemetry, TrafficLabellingRowsEqualTheMachineLearningCveRowsOfTheSameFlows) {
  ReadAll traffic = read_file(kTraffic);
  ReadAll ml = read_file(kFriday);
  ASSERT_EQ(traffic.flows.size(), 20u);
  EXPECT_TRUE(traffic.issues.empty());
  const FlowRecord& r = traffic.flows[0];
  EXPECT_EQ(r.flow_id, "192.168.10.5-104.16.207.165-54865-443-6");
  EXPECT_EQ(r.src_ip, "104.16.207.165");
  EXPECT_EQ(r.src_port, 443);
  EXPECT_EQ(r.dst_ip, "192.168.10.5");
  EXPECT_EQ(r.timestamp_ms, 1499398200000);  // "7/7/2017 3:30" read as 2017-07-07T03:30:00Z
  EXPECT_EQ(f(r, Feature::protocol), 6);
  for (size_t i = 0; i < 20; ++i) {
    for (size_t k = 0; k < kFeatureCount; ++k) {
      if (k == static_cast<size_t>(Feature::protocol)) continue;
      EXPECT_EQ(traffic.flows[i].features[k], ml.flows[i].features[k]) << "row " << i << " " << feature_names()[k];
    }
  }
}

TEST(CsvTelemetry, BrokenRowsAreReportedWithLineNumbersAndGoodRowsContinue) {
  std::string data = "Destination Port, Flow Duration,Flow Bytes/s, Label\r\n";
  data += "80,100,1.5,BENIGN\r\n";                 // 2 good
  data += "80,100,BENIGN\r\n";                     // 3 too few columns
  data += "80,abc,1.5,BENIGN\r\n";                 // 4 bad number
  data += "\r\n";                                  // 5 blank: skipped silently
  data += "443,7,Infinity,DDoS,extra\r\n";         // 6 too many columns
  data += "53,1.2.3,1,BENIGN\n";                   // 7 bad number
  data += "22," + std::string(200, '9') + ",1,BENIGN\n";  // 8 over max_line_bytes
  data += "8080,-5,-Infinity,DDoS\n";              // 9 good
  data += "21,5,";                                 // 10 cut short, no newline
  CsvOptions options;
  options.max_line_bytes = 128;
  ReadAll all = read_buffer(data, options);
  ASSERT_EQ(all.flows.size(), 2u);
  EXPECT_EQ(all.flows[0].origin, "mem.csv:2");
  EXPECT_EQ(all.flows[1].origin, "mem.csv:9");
  EXPECT_EQ(f(all.flows[1], Feature::flow_duration), -5);
  EXPECT_EQ(f(all.flows[1], Feature::flow_bytes_per_s), -kInf);
  ASSERT_EQ(all.issues.size(), 6u);
  EXPECT_EQ(all.issues[0].origin, "mem.csv:3");
  EXPECT_THAT(all.issues[0].reason, HasSubstr("3 columns, the header has 4"));
  EXPECT_EQ(all.issues[1].origin, "mem.csv:4");
  EXPECT_THAT(all.issues[1].reason, HasSubstr("column 2 'Flow Duration': not a number: 'abc'"));
  EXPECT_EQ(all.issues[2].origin, "mem.csv:6");
  EXPECT_THAT(all.issues[2].reason, HasSubstr("5 columns, the header has 4"));
  EXPECT_EQ(all.issues[3].origin, "mem.csv:7");
  EXPECT_THAT(all.issues[3].reason, HasSubstr("'1.2.3'"));
  EXPECT_EQ(all.issues[4].origin, "mem.csv:8");
  EXPECT_THAT(all.issues[4].reason, HasSubstr("over the limit of 128"));
  EXPECT_EQ(all.issues[5].origin, "mem.csv:10");
  EXPECT_THAT(all.issues[5].reason, HasSubstr("last line cut short"));
  EXPECT_EQ(all.stats.rejected, 6u);
  EXPECT_EQ(all.stats.records, 2u);
}

TEST(CsvTelemetry, BadIdentityValuesRejectTheRow) {
  std::string data = "Flow ID,Src IP,Src Port,Timestamp,Flow Duration,Label\n";
  data += "a,10.0.0.1,70000,2017-07-07 10:00:00,1,BENIGN\n";   // 2 port out of range
  data += "b,10.0.0.1,80,yesterday,1,BENIGN\n";                // 3 bad timestamp
  data += "c,10.0.0.1,,,1,\n";                                 // 4 empty port/time/label: unknown
  data += "d,10.0.0.1,443.0,3/7/2017 8:55:58,2,DoS\n";          // 5 pandas float port, D/M/Y with seconds
  CsvOptions options;
  options.default_label = "BENIGN";
  ReadAll all = read_buffer(data, options);
  ASSERT_EQ(all.issues.size(), 2u);
  EXPECT_THAT(all.issues[0].reason, HasSubstr("'Src Port': not a port: '70000'"));
  EXPECT_THAT(all.issues[1].reason, HasSubstr("'Timestamp': not a timestamp: 'yesterday'"));
  ASSERT_EQ(all.flows.size(), 2u);
  EXPECT_EQ(all.flows[0].src_port, -1);
  EXPECT_EQ(all.flows[0].timestamp_ms, 0);
  EXPECT_EQ(all.flows[0].label, "BENIGN");  // default label for an empty one
  EXPECT_EQ(all.flows[1].src_port, 443);
  EXPECT_EQ(all.flows[1].timestamp_ms, 1499072158000);  // 2017-07-03T08:55:58Z
  EXPECT_EQ(all.flows[1].label, "DoS");
}

TEST(CsvTelemetry, QuotedFieldsAndSpacesAreRead) {
  ReadAll all = read_buffer("\"Flow ID\",\"Flow Duration\",Label\n\"a,b\", 12 ,\"Web Attack, XSS\"\n");
  ASSERT_EQ(all.flows.size(), 1u) << (all.issues.empty() ? "" : all.issues[0].reason);
  EXPECT_EQ(all.flows[0].flow_id, "a,b");
  EXPECT_EQ(f(all.flows[0], Feature::flow_duration), 12);
  EXPECT_EQ(all.flows[0].label, "Web Attack, XSS");
}

TEST(CsvTelemetry, UnknownLayoutAndEmptyFilesAreRefusedNamingTheFile) {
  auto unknown = CsvFile::from_buffer("odd.csv", "Flow Duration,Tot Fwd Pkts,Label\n1,2,BENIGN\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "odd.csv");
  EXPECT_THAT(unknown.error().reason, HasSubstr("'Tot Fwd Pkts' (column 2)"));
  auto empty = CsvFile::from_buffer("empty.csv", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().to_string(), HasSubstr("empty.csv: empty file"));
  auto missing = CsvReader::open(kNetflows + "no-such-file.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().to_string(), HasSubstr("no-such-file.csv: cannot open"));
  auto header_only = read_file(kNetflows + "cicids2017_improved_engelen_sampled/data_header_reference.csv");
  EXPECT_TRUE(header_only.flows.empty());
  EXPECT_TRUE(header_only.issues.empty());
}

TEST(CsvTelemetry, ChunksReadTheSameRowsWithTheSameLineNumbers) {
  auto file = CsvFile::open(kFriday);
  ASSERT_TRUE(file.ok());
  CsvReader whole_reader(file.value(), file.value()->whole());
  const ReadAll whole = read_all(whole_reader, 777);
  ASSERT_EQ(whole.flows.size(), 9998u);
  for (size_t n : {1u, 2u, 3u, 7u, 64u}) {
    const auto chunks = file.value()->split(n);
    ASSERT_FALSE(chunks.empty());
    EXPECT_LE(chunks.size(), n);
    std::vector<FlowRecord> joined;
    size_t expected_begin = chunks.front().begin;
    for (const CsvChunk& chunk : chunks) {
      EXPECT_EQ(chunk.begin, expected_begin);
      expected_begin = chunk.end;
      EXPECT_EQ(file.value()->data()[chunk.begin - 1], '\n');  // every chunk starts at a line start
      CsvReader reader(file.value(), chunk);
      for (auto& flow : read_all(reader, 500).flows) joined.push_back(flow);
    }
    EXPECT_EQ(expected_begin, file.value()->size_bytes());
    ASSERT_EQ(joined.size(), whole.flows.size()) << n;
    for (size_t i = 0; i < joined.size(); ++i) {
      ASSERT_EQ(joined[i].origin, whole.flows[i].origin) << n << " " << i;
      ASSERT_EQ(std::memcmp(joined[i].features.data(), whole.flows[i].features.data(),
                            sizeof(double) * kFeatureCount), 0)
          << n << " " << i;
    }
  }
}

TEST(CsvTelemetry, SplitOfATinyFileStillCoversIt) {
  auto file = CsvFile::from_buffer("t.csv", "Flow Duration\n1\n2\n");
  ASSERT_TRUE(file.ok());
  const auto chunks = file.value()->split(8);
  size_t rows = 0;
  uint64_t expected_line = 2;
  for (const CsvChunk& chunk : chunks) {
    EXPECT_EQ(chunk.first_line, expected_line);
    CsvReader reader(file.value(), chunk);
    auto all = read_all(reader);
    rows += all.flows.size();
    expected_line += all.flows.size();
  }
  EXPECT_EQ(rows, 2u);
}

TEST(CsvTelemetry, BatchesReuseTheCallersRecords) {
  auto reader = CsvReader::open(kFriday);
  ASSERT_TRUE(reader.ok());
  std::vector<FlowRecord> out;
  auto n = reader.value()->next_batch(out, 1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1000u);
  const FlowRecord* data = out.data();
  n = reader.value()->next_batch(out, 1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(out.data(), data);  // same storage: no reallocation in the steady state
  EXPECT_EQ(out[0].origin, kFriday + ":1002");
  size_t total = 2000;
  while ((n = reader.value()->next_batch(out, 1000)).value() > 0) total += n.value();
  EXPECT_EQ(total, 9998u);
  EXPECT_TRUE(out.empty());
}

TEST(CsvTelemetry, NumbersParseLikeFromChars) {
  double v = 0;
  ASSERT_TRUE(parse_csv_number("Infinity", v));
  EXPECT_EQ(v, kInf);
  ASSERT_TRUE(parse_csv_number("inf", v));
  EXPECT_EQ(v, kInf);
  ASSERT_TRUE(parse_csv_number("-Infinity", v));
  EXPECT_EQ(v, -kInf);
  ASSERT_TRUE(parse_csv_number("NaN", v));
  EXPECT_TRUE(std::isnan(v));
  ASSERT_TRUE(parse_csv_number("", v));
  EXPECT_TRUE(std::isnan(v));
  ASSERT_TRUE(parse_csv_number("  ", v));
  EXPECT_TRUE(std::isnan(v));
  ASSERT_TRUE(parse_csv_number(" 12 ", v));
  EXPECT_EQ(v, 12);
  ASSERT_TRUE(parse_csv_number("+5", v));
  EXPECT_EQ(v, 5);
  ASSERT_TRUE(parse_csv_number("1e3", v));
  EXPECT_EQ(v, 1000);
  ASSERT_TRUE(parse_csv_number("-0", v));
  EXPECT_TRUE(std::signbit(v));
  EXPECT_FALSE(parse_csv_number("abc", v));
  EXPECT_FALSE(parse_csv_number("1.2.3", v));
  EXPECT_FALSE(parse_csv_number("-", v));
  EXPECT_FALSE(parse_csv_number("+-1", v));
  EXPECT_FALSE(parse_csv_number("0x10", v));

  // The fast path must give exactly from_chars' double: random decimals of
  // every length up to and past its limits (19 digits, 2^53).
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200000; ++i) {
    const int int_digits = static_cast<int>(rng() % 12);
    const int frac_digits = static_cast<int>(rng() % 12);
    std::string text = (rng() % 4 == 0) ? "-" : "";
    for (int d = 0; d < int_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    if (int_digits == 0) text += '0';
    if (frac_digits > 0) {
      text += '.';
      for (int d = 0; d < frac_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    }
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    ASSERT_TRUE(parse_csv_number(text, v)) << text;
    ASSERT_EQ(std::memcmp(&v, &expected, sizeof v), 0) << text;
    // and inside a row, where the reader's own fast path runs
  }
  auto file = CsvFile::from_buffer("n.csv", "Flow Duration,Flow IAT Mean\n9007199254740993,0.30000000000000004\n");
  ASSERT_TRUE(file.ok());
  CsvReader reader(file.value(), file.value()->whole());
  auto all = read_all(reader);
  ASSERT_EQ(all.flows.size(), 1u);
  EXPECT_EQ(f(all.flows[0], Feature::flow_duration), 9007199254740992.0);  // round-half-even, as from_chars
  EXPECT_EQ(f(all.flows[0], Feature::flow_iat_mean), 0.30000000000000004);
}

// Random rows through the reader's own fast path (8 digits at a time), checked
// against std::from_chars field by field; the last line has no newline and
// the file ends right after it, so the padded-copy path runs too.
TEST(CsvTelemetry, RandomRowsReadExactlyAsFromChars) {
  std::mt19937_64 rng(11);
  const auto& names = feature_names();
  std::string data;
  for (size_t i = 0; i < 78; ++i) data += std::string(names[i]) + (i + 1 < 78 ? "," : "\n");
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < 3000; ++r) {
    std::vector<std::string> row;
    for (size_t i = 0; i < 78; ++i) {
      std::string text;
      switch (rng() % 10) {
        case 0: text = ""; break;
        case 1: text = "Infinity"; break;
        case 2: text = std::to_string(rng() % 100); break;
        default: {
          if (rng() % 3 == 0) text += '-';
          const int int_digits = 1 + static_cast<int>(rng() % 21);  // past 19 digits and 2^53
          for (int d = 0; d < int_digits; ++d) text += static_cast<char>('0' + rng() % 10);
          const int frac_digits = static_cast<int>(rng() % 18);
          if (frac_digits > 0) {
            text += '.';
            for (int d = 0; d < frac_digits; ++d) text += static_cast<char>('0' + rng() % 10);
          }
        }
      }
      row.push_back(text);
    }
    for (size_t i = 0; i < row.size(); ++i) data += row[i] + (i + 1 < row.size() ? "," : "");
    if (r + 1 < 3000) data += (r % 2 ? "\r\n" : "\n");
    rows.push_back(std::move(row));
  }
  ReadAll all = read_buffer(data);
  ASSERT_TRUE(all.issues.empty()) << all.issues[0].origin << " " << all.issues[0].reason;
  ASSERT_EQ(all.flows.size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < 78; ++i) {
      const std::string& text = rows[r][i];
      double expected = kMissing;
      if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), expected);
      const double got = all.flows[r].features[i];
      if (std::isnan(expected)) {
        ASSERT_TRUE(std::isnan(got)) << r << " " << i << " " << text;
      } else {
        ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0) << r << " " << i << " '" << text << "' got " << got;
      }
    }
  }
}

TEST(CsvTelemetry, TimestampsOfTheCicLayouts) {
  EXPECT_EQ(parse_flow_timestamp("7/7/2017 3:30"), 1499398200000);
  EXPECT_EQ(parse_flow_timestamp("03/07/2017 08:55:58"), 1499072158000);
  EXPECT_EQ(parse_flow_timestamp("7/7/2017 3:30:00 PM"), 1499441400000);
  EXPECT_EQ(parse_flow_timestamp("7/7/2017 12:05 AM"), 1499385900000);
  EXPECT_EQ(parse_flow_timestamp("2017-07-07 19:02:39.182486"), 1499454159182);
  EXPECT_EQ(parse_flow_timestamp("2017-07-07T19:02:39Z"), 1499454159000);
  EXPECT_EQ(parse_flow_timestamp("2017-07-07T21:02:39+02:00"), 1499454159000);
  EXPECT_EQ(parse_flow_timestamp("2017-07-07"), 1499385600000);
  EXPECT_EQ(parse_flow_timestamp("1499454159182"), 1499454159182);
  EXPECT_FALSE(parse_flow_timestamp("31/2/2017 1:00"));   // no 31 February
  EXPECT_FALSE(parse_flow_timestamp("7/7/2017 25:00"));
  EXPECT_FALSE(parse_flow_timestamp("7/7/2017 13:00 PM"));
  EXPECT_FALSE(parse_flow_timestamp("2017-07-07 19:02:39 junk"));
  EXPECT_FALSE(parse_flow_timestamp("yesterday"));
  EXPECT_FALSE(parse_flow_timestamp(""));
}

}  // namespace csv_telemetry_test
}  // namespace sentinel::flows
