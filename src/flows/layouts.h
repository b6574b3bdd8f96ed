// CSV layouts of CICFlowMeter flow files and how their columns map onto the
// 79 features of FlowRecord (docs/FLOWS.md has the full alias table).
//
// Four layouts are known, all of CIC-IDS2017: the 79-column MachineLearningCVE
// files, the 85-column TrafficLabelling files (7 identity columns in front),
// the 78-column derived sample (no Destination Port, pandas' "Fwd Header
// Length.1") and the 91-column "improved" re-extraction by Engelen et al.
// (newer CICFlowMeter names). Columns are matched by name, never by position:
// names are compared with surrounding whitespace, quotes and a UTF-8 BOM
// removed, exactly otherwise. Any header whose every column is a known alias
// or on the ignore list is accepted (a subset or a reordering of a known
// layout still maps); a header with a column that is neither is refused with
// the names of those columns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "flows/flow.h"

namespace sentinel::flows {

/// Which known layout a header is (other = every column maps, but the set is
/// none of the four).
enum class LayoutKind : uint8_t {
  machine_learning_cve,  ///< 79 columns: 78 features + Label
  traffic_labelling,     ///< 85 columns: Flow ID, Source IP, ..., Timestamp, features, Label
  derived_sample,        ///< 78 columns: MachineLearningCVE without Destination Port
  improved,              ///< 91 columns: CIC-IDS2017 improved (Engelen et al.)
  other,
};

/// Stable short id of a layout, used in reports and the feature export:
/// "machine_learning_cve", "traffic_labelling", "derived_sample", "improved", "other".
std::string_view layout_id(LayoutKind kind);

/// What one CSV column carries.
enum class ColumnRole : uint8_t {
  feature,    ///< one of the 79 features (ColumnMap::feature)
  flow_id,    ///< FlowRecord::flow_id
  src_ip,     ///< FlowRecord::src_ip
  src_port,   ///< FlowRecord::src_port
  dst_ip,     ///< FlowRecord::dst_ip
  timestamp,  ///< FlowRecord::timestamp_ms
  label,      ///< FlowRecord::label
  ignored,    ///< on the ignore list (no counterpart in the 79 features)
};

struct ColumnMap {
  ColumnRole role = ColumnRole::ignored;
  Feature feature = Feature::destination_port;  ///< meaningful for ColumnRole::feature only
};

/// A header mapped onto FlowRecord: one ColumnMap per column, in file order.
struct Layout {
  LayoutKind kind = LayoutKind::other;
  std::string name;                 ///< for reports: "CIC-IDS2017 MachineLearningCVE (79 columns)"
  std::vector<ColumnMap> columns;   ///< one per header column
  std::vector<std::string> headers; ///< the header names as matched (trimmed)
  std::array<bool, kFeatureCount> has{};  ///< features some column provides
  size_t feature_count = 0;         ///< number of distinct features provided
  bool has_label = false;

  std::string_view id() const { return layout_id(kind); }
};

/// Maps a header (column names as written) onto FlowRecord.
/// Errors: a column that is neither a known alias nor ignored (all such names
/// listed, each with its 1-based position), a feature given by two columns
/// (other than the duplicated "Fwd Header Length"), or no feature column at all.
Result<Layout> map_header(std::span<const std::string_view> header);

/// Splits one CSV header line (commas; fields may be double-quoted) and maps it.
Result<Layout> map_header_line(std::string_view line);

/// How the known layouts name a feature, for the documentation and tests.
/// nullopt = the layout lacks the feature. For the MachineLearningCVE and
/// TrafficLabelling layouts fwd_header_length_1 is "Fwd Header Length" (its
/// second occurrence).
std::optional<std::string_view> layout_column_name(LayoutKind kind, Feature feature);

/// The full column list of a known layout, in file order (names trimmed).
std::span<const std::string_view> layout_columns(LayoutKind kind);

/// Column names that are read and dropped (no counterpart in the 79 features).
std::span<const std::string_view> ignored_columns();

/// Trims whitespace (incl. CR), one pair of surrounding double quotes and a
/// leading UTF-8 byte-order mark.
std::string_view normalise_column_name(std::string_view name);

}  // namespace sentinel::flows
