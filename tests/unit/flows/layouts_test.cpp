#include "flows/layouts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sentinel::flows {
namespace layouts_test {

using ::testing::HasSubstr;

const std::string kNetflows = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/netflows/";

std::string first_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  return line;
}

size_t count_role(const Layout& layout, ColumnRole role) {
  size_t n = 0;
  for (const ColumnMap& c : layout.columns) n += c.role == role;
  return n;
}

TEST(Layouts, MachineLearningCveHeaderOfTheRealFile) {
  const std::string header =
      first_line(kNetflows + "cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv");
  ASSERT_EQ(header.substr(0, 18), " Destination Port,");  // raw bytes: leading space kept in the file
  auto layout = map_header_line(header);
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->kind, LayoutKind::machine_learning_cve);
  EXPECT_EQ(layout->id(), "machine_learning_cve");
  EXPECT_EQ(layout->name, "CIC-IDS2017 MachineLearningCVE (79 columns)");
  EXPECT_EQ(layout->columns.size(), 79u);
  EXPECT_EQ(layout->feature_count, 78u);  // every feature but Protocol
  EXPECT_FALSE(layout->has[static_cast<size_t>(Feature::protocol)]);
  EXPECT_TRUE(layout->has_label);
  EXPECT_EQ(count_role(*layout, ColumnRole::feature), 78u);
  EXPECT_EQ(count_role(*layout, ColumnRole::label), 1u);
  EXPECT_EQ(count_role(*layout, ColumnRole::ignored), 0u);
  // Columns 35 and 56 are both "Fwd Header Length": the second is Fwd Header Length.1.
  EXPECT_EQ(layout->headers[34], "Fwd Header Length");
  EXPECT_EQ(layout->headers[55], "Fwd Header Length");
  EXPECT_EQ(layout->columns[34].feature, Feature::fwd_header_length);
  EXPECT_EQ(layout->columns[55].feature, Feature::fwd_header_length_1);
  // In file order the features are the canonical order.
  for (size_t i = 0; i < 78; ++i) EXPECT_EQ(static_cast<size_t>(layout->columns[i].feature), i) << i;
}

TEST(Layouts, TrafficLabellingHeaderOfTheRealFile) {
  auto layout = map_header_line(
      first_line(kNetflows + "cicids2017_trafficlabelling/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first20rows.csv"));
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->kind, LayoutKind::traffic_labelling);
  EXPECT_EQ(layout->columns.size(), 85u);
  EXPECT_EQ(layout->feature_count, 79u);  // all of them, Protocol included
  EXPECT_EQ(layout->columns[0].role, ColumnRole::flow_id);
  EXPECT_EQ(layout->columns[1].role, ColumnRole::src_ip);
  EXPECT_EQ(layout->columns[2].role, ColumnRole::src_port);
  EXPECT_EQ(layout->columns[3].role, ColumnRole::dst_ip);
  EXPECT_EQ(layout->columns[4].feature, Feature::destination_port);
  EXPECT_EQ(layout->columns[5].feature, Feature::protocol);
  EXPECT_EQ(layout->columns[6].role, ColumnRole::timestamp);
  EXPECT_EQ(layout->columns[84].role, ColumnRole::label);
  EXPECT_EQ(count_role(*layout, ColumnRole::ignored), 0u);
}

TEST(Layouts, DerivedSampleHeaderOfTheRealFile) {
  auto layout =
      map_header_line(first_line(kNetflows + "cicids2017_machinelearningcve/CICIDS2017_sample_westernoc2_derived.csv"));
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->kind, LayoutKind::derived_sample);
  EXPECT_EQ(layout->columns.size(), 78u);
  EXPECT_EQ(layout->feature_count, 77u);  // no Destination Port, no Protocol
  EXPECT_FALSE(layout->has[static_cast<size_t>(Feature::destination_port)]);
  EXPECT_FALSE(layout->has[static_cast<size_t>(Feature::protocol)]);
  EXPECT_TRUE(layout->has[static_cast<size_t>(Feature::fwd_header_length_1)]);
}

TEST(Layouts, ImprovedHeaderOfEveryRealFile) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kNetflows + "cicids2017_improved_engelen_sampled")) {
    auto layout = map_header_line(first_line(entry.path().string()));
    ASSERT_TRUE(layout.ok()) << entry.path() << ": " << layout.error().to_string();
    EXPECT_EQ(layout->kind, LayoutKind::improved) << entry.path();
    EXPECT_EQ(layout->columns.size(), 91u);
    EXPECT_EQ(layout->feature_count, 78u);  // all but Fwd Header Length.1 (written once)
    EXPECT_FALSE(layout->has[static_cast<size_t>(Feature::fwd_header_length_1)]);
    EXPECT_EQ(count_role(*layout, ColumnRole::ignored), 7u);  // id, Fwd/Bwd RST, ICMP x2, TCP time, category
    ++files;
  }
  EXPECT_EQ(files, 12u);
}

TEST(Layouts, ImprovedNamesMapToTheirFeatures) {
  auto name = [](Feature f) { return layout_column_name(LayoutKind::improved, f).value_or("missing"); };
  EXPECT_EQ(name(Feature::cwe_flag_count), "CWR Flag Count");
  EXPECT_EQ(name(Feature::total_fwd_packets), "Total Fwd Packet");
  EXPECT_EQ(name(Feature::avg_fwd_segment_size), "Fwd Segment Size Avg");
  EXPECT_EQ(name(Feature::init_win_bytes_forward), "FWD Init Win Bytes");
  EXPECT_EQ(name(Feature::min_packet_length), "Packet Length Min");
  EXPECT_EQ(name(Feature::destination_port), "Dst Port");
  EXPECT_EQ(name(Feature::fwd_header_length_1), "missing");
}

TEST(Layouts, AliasTableCoversEveryFeatureOfEveryLayout) {
  size_t per_layout[4] = {};
  const LayoutKind kinds[4] = {LayoutKind::machine_learning_cve, LayoutKind::traffic_labelling,
                               LayoutKind::derived_sample, LayoutKind::improved};
  for (size_t k = 0; k < 4; ++k) {
    for (size_t i = 0; i < kFeatureCount; ++i) per_layout[k] += layout_column_name(kinds[k], Feature(i)).has_value();
  }
  EXPECT_EQ(per_layout[0], 78u);
  EXPECT_EQ(per_layout[1], 79u);
  EXPECT_EQ(per_layout[2], 77u);
  EXPECT_EQ(per_layout[3], 78u);
  EXPECT_EQ(layout_column_name(LayoutKind::machine_learning_cve, Feature::fwd_header_length_1), "Fwd Header Length");
  EXPECT_EQ(layout_column_name(LayoutKind::derived_sample, Feature::fwd_header_length_1), "Fwd Header Length.1");
  EXPECT_FALSE(layout_column_name(LayoutKind::derived_sample, Feature::destination_port));
  EXPECT_FALSE(layout_column_name(LayoutKind::other, Feature::flow_duration));
}

TEST(Layouts, UnknownColumnsAreRefusedByName) {
  const std::vector<std::string_view> header = {"Flow Duration", "Colour", "Label", " Packets per Fortnight "};
  auto layout = map_header(header);
  ASSERT_FALSE(layout.ok());
  EXPECT_THAT(layout.error().reason, HasSubstr("2 of 4 columns could not be mapped"));
  EXPECT_THAT(layout.error().reason, HasSubstr("'Colour' (column 2)"));
  EXPECT_THAT(layout.error().reason, HasSubstr("'Packets per Fortnight' (column 4)"));
  EXPECT_THAT(layout.error().reason, ::testing::Not(HasSubstr("Flow Duration")));
}

TEST(Layouts, ANewerCicFlowMeterLayoutIsRefusedNamingItsColumns) {
  // CSE-CIC-IDS2018 style short names are not in the table: refused, never guessed.
  auto layout = map_header_line("Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,Label");
  ASSERT_FALSE(layout.ok());
  EXPECT_THAT(layout.error().reason, HasSubstr("'Tot Fwd Pkts' (column 5)"));
  EXPECT_THAT(layout.error().reason, HasSubstr("'Tot Bwd Pkts' (column 6)"));
}

TEST(Layouts, SubsetsAndOtherOrdersMapAsOther) {
  auto layout = map_header_line("Label,Protocol,flow_duration,\"SYN Flag Count\",Src IP,id");
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->kind, LayoutKind::other);
  EXPECT_EQ(layout->id(), "other");
  EXPECT_EQ(layout->feature_count, 3u);
  EXPECT_EQ(layout->columns[3].feature, Feature::syn_flag_count);
  EXPECT_EQ(layout->columns[4].role, ColumnRole::src_ip);
  EXPECT_EQ(layout->columns[5].role, ColumnRole::ignored);
  EXPECT_THAT(layout->name, HasSubstr("6 columns"));
}

TEST(Layouts, AFeatureGivenTwiceIsRefused) {
  auto layout = map_header_line("Flow Duration,Protocol,flow_duration");
  ASSERT_FALSE(layout.ok());
  EXPECT_THAT(layout.error().reason, HasSubstr("'flow_duration' (column 3)"));
  EXPECT_THAT(layout.error().reason, HasSubstr("first in column 1"));
  auto three = map_header_line("Fwd Header Length,Fwd Header Length,Fwd Header Length");
  ASSERT_FALSE(three.ok());
  EXPECT_THAT(three.error().reason, HasSubstr("column 3"));
  auto labels = map_header_line("Flow Duration,Label,label");
  ASSERT_FALSE(labels.ok());
}

TEST(Layouts, AHeaderWithoutFeaturesIsRefused) {
  auto layout = map_header_line("Flow ID,Label");
  ASSERT_FALSE(layout.ok());
  EXPECT_THAT(layout.error().reason, HasSubstr("no flow feature column"));
}

TEST(Layouts, ColumnNamesAreNormalised) {
  EXPECT_EQ(normalise_column_name("\xEF\xBB\xBF Flow ID"), "Flow ID");
  EXPECT_EQ(normalise_column_name(" Label\r"), "Label");
  EXPECT_EQ(normalise_column_name(" \" Flow Bytes/s \" "), "Flow Bytes/s");
  EXPECT_EQ(normalise_column_name("\t"), "");
  auto layout = map_header_line("\xEF\xBB\xBF\"Flow ID\", Flow Duration ,Label\r");
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->columns[0].role, ColumnRole::flow_id);
  EXPECT_EQ(layout->columns[1].feature, Feature::flow_duration);
  EXPECT_EQ(layout->columns[2].role, ColumnRole::label);
}

TEST(Layouts, KnownColumnListsMatchTheirKind) {
  for (LayoutKind kind : {LayoutKind::machine_learning_cve, LayoutKind::traffic_labelling, LayoutKind::derived_sample,
                          LayoutKind::improved}) {
    auto layout = map_header(layout_columns(kind));
    ASSERT_TRUE(layout.ok()) << layout_id(kind);
    EXPECT_EQ(layout->kind, kind);
  }
  EXPECT_EQ(layout_columns(LayoutKind::machine_learning_cve).size(), 79u);
  EXPECT_EQ(layout_columns(LayoutKind::traffic_labelling).size(), 85u);
  EXPECT_EQ(layout_columns(LayoutKind::derived_sample).size(), 78u);
  EXPECT_EQ(layout_columns(LayoutKind::improved).size(), 91u);
  EXPECT_EQ(ignored_columns().size(), 9u);
}

}  // namespace layouts_test
}  // namespace sentinel::flows
