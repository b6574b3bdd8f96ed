#include "flows/layouts.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace sentinel::flows {
namespace {

using F = Feature;

// The column lists of the four known layouts, as the files have them (names
// trimmed). These are the facts the alias table is checked against; the
// TrafficLabelling and derived lists are MachineLearningCVE's with the
// identity columns added or Destination Port removed, written out so that
// the table in docs/FLOWS.md can be read off them one to one.
constexpr std::string_view kMlCve[] = {
    "Destination Port", "Flow Duration", "Total Fwd Packets", "Total Backward Packets",
    "Total Length of Fwd Packets", "Total Length of Bwd Packets", "Fwd Packet Length Max",
    "Fwd Packet Length Min", "Fwd Packet Length Mean", "Fwd Packet Length Std", "Bwd Packet Length Max",
    "Bwd Packet Length Min", "Bwd Packet Length Mean", "Bwd Packet Length Std", "Flow Bytes/s",
    "Flow Packets/s", "Flow IAT Mean", "Flow IAT Std", "Flow IAT Max", "Flow IAT Min", "Fwd IAT Total",
    "Fwd IAT Mean", "Fwd IAT Std", "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total", "Bwd IAT Mean",
    "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags",
    "Bwd URG Flags", "Fwd Header Length", "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s",
    "Min Packet Length", "Max Packet Length", "Packet Length Mean", "Packet Length Std",
    "Packet Length Variance", "FIN Flag Count", "SYN Flag Count", "RST Flag Count", "PSH Flag Count",
    "ACK Flag Count", "URG Flag Count", "CWE Flag Count", "ECE Flag Count", "Down/Up Ratio",
    "Average Packet Size", "Avg Fwd Segment Size", "Avg Bwd Segment Size", "Fwd Header Length",
    "Fwd Avg Bytes/Bulk", "Fwd Avg Packets/Bulk", "Fwd Avg Bulk Rate", "Bwd Avg Bytes/Bulk",
    "Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate", "Subflow Fwd Packets", "Subflow Fwd Bytes",
    "Subflow Bwd Packets", "Subflow Bwd Bytes", "Init_Win_bytes_forward", "Init_Win_bytes_backward",
    "act_data_pkt_fwd", "min_seg_size_forward", "Active Mean", "Active Std", "Active Max", "Active Min",
    "Idle Mean", "Idle Std", "Idle Max", "Idle Min", "Label",
};

constexpr std::string_view kTrafficLabelling[] = {
    "Flow ID", "Source IP", "Source Port", "Destination IP", "Destination Port", "Protocol", "Timestamp",
    "Flow Duration", "Total Fwd Packets", "Total Backward Packets", "Total Length of Fwd Packets",
    "Total Length of Bwd Packets", "Fwd Packet Length Max", "Fwd Packet Length Min",
    "Fwd Packet Length Mean", "Fwd Packet Length Std", "Bwd Packet Length Max", "Bwd Packet Length Min",
    "Bwd Packet Length Mean", "Bwd Packet Length Std", "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean",
    "Flow IAT Std", "Flow IAT Max", "Flow IAT Min", "Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std",
    "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total", "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max",
    "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags", "Bwd URG Flags", "Fwd Header Length",
    "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s", "Min Packet Length", "Max Packet Length",
    "Packet Length Mean", "Packet Length Std", "Packet Length Variance", "FIN Flag Count",
    "SYN Flag Count", "RST Flag Count", "PSH Flag Count", "ACK Flag Count", "URG Flag Count",
    "CWE Flag Count", "ECE Flag Count", "Down/Up Ratio", "Average Packet Size", "Avg Fwd Segment Size",
    "Avg Bwd Segment Size", "Fwd Header Length", "Fwd Avg Bytes/Bulk", "Fwd Avg Packets/Bulk",
    "Fwd Avg Bulk Rate", "Bwd Avg Bytes/Bulk", "Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate",
    "Subflow Fwd Packets", "Subflow Fwd Bytes", "Subflow Bwd Packets", "Subflow Bwd Bytes",
    "Init_Win_bytes_forward", "Init_Win_bytes_backward", "act_data_pkt_fwd", "min_seg_size_forward",
    "Active Mean", "Active Std", "Active Max", "Active Min", "Idle Mean", "Idle Std", "Idle Max",
    "Idle Min", "Label",
};

constexpr std::string_view kDerived[] = {
    "Flow Duration", "Total Fwd Packets", "Total Backward Packets", "Total Length of Fwd Packets",
    "Total Length of Bwd Packets", "Fwd Packet Length Max", "Fwd Packet Length Min",
    "Fwd Packet Length Mean", "Fwd Packet Length Std", "Bwd Packet Length Max", "Bwd Packet Length Min",
    "Bwd Packet Length Mean", "Bwd Packet Length Std", "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean",
    "Flow IAT Std", "Flow IAT Max", "Flow IAT Min", "Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std",
    "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total", "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max",
    "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags", "Bwd URG Flags", "Fwd Header Length",
    "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s", "Min Packet Length", "Max Packet Length",
    "Packet Length Mean", "Packet Length Std", "Packet Length Variance", "FIN Flag Count",
    "SYN Flag Count", "RST Flag Count", "PSH Flag Count", "ACK Flag Count", "URG Flag Count",
    "CWE Flag Count", "ECE Flag Count", "Down/Up Ratio", "Average Packet Size", "Avg Fwd Segment Size",
    "Avg Bwd Segment Size", "Fwd Header Length.1", "Fwd Avg Bytes/Bulk", "Fwd Avg Packets/Bulk",
    "Fwd Avg Bulk Rate", "Bwd Avg Bytes/Bulk", "Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate",
    "Subflow Fwd Packets", "Subflow Fwd Bytes", "Subflow Bwd Packets", "Subflow Bwd Bytes",
    "Init_Win_bytes_forward", "Init_Win_bytes_backward", "act_data_pkt_fwd", "min_seg_size_forward",
    "Active Mean", "Active Std", "Active Max", "Active Min", "Idle Mean", "Idle Std", "Idle Max",
    "Idle Min", "Label",
};

constexpr std::string_view kImproved[] = {
    "id", "Flow ID", "Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp", "Flow Duration",
    "Total Fwd Packet", "Total Bwd packets", "Total Length of Fwd Packet", "Total Length of Bwd Packet",
    "Fwd Packet Length Max", "Fwd Packet Length Min", "Fwd Packet Length Mean", "Fwd Packet Length Std",
    "Bwd Packet Length Max", "Bwd Packet Length Min", "Bwd Packet Length Mean", "Bwd Packet Length Std",
    "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean", "Flow IAT Std", "Flow IAT Max", "Flow IAT Min",
    "Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std", "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total",
    "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags",
    "Fwd URG Flags", "Bwd URG Flags", "Fwd RST Flags", "Bwd RST Flags", "Fwd Header Length",
    "Bwd Header Length", "Fwd Packets/s", "Bwd Packets/s", "Packet Length Min", "Packet Length Max",
    "Packet Length Mean", "Packet Length Std", "Packet Length Variance", "FIN Flag Count",
    "SYN Flag Count", "RST Flag Count", "PSH Flag Count", "ACK Flag Count", "URG Flag Count",
    "CWR Flag Count", "ECE Flag Count", "Down/Up Ratio", "Average Packet Size", "Fwd Segment Size Avg",
    "Bwd Segment Size Avg", "Fwd Bytes/Bulk Avg", "Fwd Packet/Bulk Avg", "Fwd Bulk Rate Avg",
    "Bwd Bytes/Bulk Avg", "Bwd Packet/Bulk Avg", "Bwd Bulk Rate Avg", "Subflow Fwd Packets",
    "Subflow Fwd Bytes", "Subflow Bwd Packets", "Subflow Bwd Bytes", "FWD Init Win Bytes",
    "Bwd Init Win Bytes", "Fwd Act Data Pkts", "Fwd Seg Size Min", "Active Mean", "Active Std",
    "Active Max", "Active Min", "Idle Mean", "Idle Std", "Idle Max", "Idle Min", "ICMP Code", "ICMP Type",
    "Total TCP Flow Time", "Label", "Attempted Category",
};

// Columns with no counterpart among the 79 features. `layout` and `source`
// are the trailing columns of Sentinel's own feature export
// (write_features_csv), so an export can be read back.
constexpr std::string_view kIgnored[] = {
    "id", "Fwd RST Flags", "Bwd RST Flags", "ICMP Code", "ICMP Type", "Total TCP Flow Time",
    "Attempted Category", "layout", "source",
};

struct Alias {
  std::string_view name;
  ColumnMap map;
};

constexpr ColumnMap feat(Feature f) { return ColumnMap{ColumnRole::feature, f}; }
constexpr ColumnMap role(ColumnRole r) { return ColumnMap{r, Feature::destination_port}; }

// Names that differ from the canonical feature names (feature_names() and
// feature_keys() are aliases too), and the identity columns.
constexpr Alias kAliases[] = {
    // improved (Engelen) layout: newer CICFlowMeter spellings
    {"Dst Port", feat(F::destination_port)},
    {"Total Fwd Packet", feat(F::total_fwd_packets)},
    {"Total Bwd packets", feat(F::total_backward_packets)},
    {"Total Length of Fwd Packet", feat(F::total_length_fwd_packets)},
    {"Total Length of Bwd Packet", feat(F::total_length_bwd_packets)},
    {"Packet Length Min", feat(F::min_packet_length)},
    {"Packet Length Max", feat(F::max_packet_length)},
    {"CWR Flag Count", feat(F::cwe_flag_count)},
    {"Fwd Segment Size Avg", feat(F::avg_fwd_segment_size)},
    {"Bwd Segment Size Avg", feat(F::avg_bwd_segment_size)},
    {"Fwd Bytes/Bulk Avg", feat(F::fwd_avg_bytes_bulk)},
    {"Fwd Packet/Bulk Avg", feat(F::fwd_avg_packets_bulk)},
    {"Fwd Bulk Rate Avg", feat(F::fwd_avg_bulk_rate)},
    {"Bwd Bytes/Bulk Avg", feat(F::bwd_avg_bytes_bulk)},
    {"Bwd Packet/Bulk Avg", feat(F::bwd_avg_packets_bulk)},
    {"Bwd Bulk Rate Avg", feat(F::bwd_avg_bulk_rate)},
    {"FWD Init Win Bytes", feat(F::init_win_bytes_forward)},
    {"Bwd Init Win Bytes", feat(F::init_win_bytes_backward)},
    {"Fwd Act Data Pkts", feat(F::act_data_pkt_fwd)},
    {"Fwd Seg Size Min", feat(F::min_seg_size_forward)},
    // identity columns (TrafficLabelling, improved, and the JSON keys)
    {"Flow ID", role(ColumnRole::flow_id)},
    {"flow_id", role(ColumnRole::flow_id)},
    {"Source IP", role(ColumnRole::src_ip)},
    {"Src IP", role(ColumnRole::src_ip)},
    {"src_ip", role(ColumnRole::src_ip)},
    {"Source Port", role(ColumnRole::src_port)},
    {"Src Port", role(ColumnRole::src_port)},
    {"src_port", role(ColumnRole::src_port)},
    {"Destination IP", role(ColumnRole::dst_ip)},
    {"Dst IP", role(ColumnRole::dst_ip)},
    {"dst_ip", role(ColumnRole::dst_ip)},
    {"Timestamp", role(ColumnRole::timestamp)},
    {"timestamp", role(ColumnRole::timestamp)},
    {"Label", role(ColumnRole::label)},
    {"label", role(ColumnRole::label)},
};

const std::unordered_map<std::string_view, ColumnMap>& alias_map() {
  static const auto* kMap = [] {
    auto* map = new std::unordered_map<std::string_view, ColumnMap>();
    for (size_t i = 0; i < kFeatureCount; ++i) {
      map->emplace(feature_names()[i], feat(static_cast<Feature>(i)));
      map->emplace(feature_keys()[i], feat(static_cast<Feature>(i)));
    }
    for (const Alias& a : kAliases) map->emplace(a.name, a.map);
    for (std::string_view name : kIgnored) map->emplace(name, role(ColumnRole::ignored));
    return map;
  }();
  return *kMap;
}

struct KnownLayout {
  LayoutKind kind;
  std::span<const std::string_view> columns;
  std::string_view name;
};

constexpr KnownLayout kKnown[] = {
    {LayoutKind::machine_learning_cve, kMlCve, "CIC-IDS2017 MachineLearningCVE (79 columns)"},
    {LayoutKind::traffic_labelling, kTrafficLabelling, "CIC-IDS2017 TrafficLabelling (85 columns)"},
    {LayoutKind::derived_sample, kDerived, "CIC-IDS2017 derived sample, no Destination Port (78 columns)"},
    {LayoutKind::improved, kImproved, "CIC-IDS2017 improved, Engelen et al. (91 columns)"},
};

bool is_whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string_view layout_id(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::machine_learning_cve: return "machine_learning_cve";
    case LayoutKind::traffic_labelling: return "traffic_labelling";
    case LayoutKind::derived_sample: return "derived_sample";
    case LayoutKind::improved: return "improved";
    case LayoutKind::other: break;
  }
  return "other";
}

std::string_view normalise_column_name(std::string_view name) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (name.starts_with(kBom)) name.remove_prefix(kBom.size());
  while (!name.empty() && is_whitespace(name.front())) name.remove_prefix(1);
  while (!name.empty() && is_whitespace(name.back())) name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
    while (!name.empty() && is_whitespace(name.front())) name.remove_prefix(1);
    while (!name.empty() && is_whitespace(name.back())) name.remove_suffix(1);
  }
  return name;
}

Result<Layout> map_header(std::span<const std::string_view> header) {
  const auto& aliases = alias_map();
  Layout layout;
  layout.columns.reserve(header.size());
  layout.headers.reserve(header.size());
  std::vector<std::string> unknown;
  std::array<int, 8> role_column{};  // 1-based column of each identity role seen, 0 = none
  std::array<size_t, kFeatureCount> feature_column{};
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = normalise_column_name(header[i]);
    layout.headers.emplace_back(name);
    const auto it = aliases.find(name);
    if (it == aliases.end()) {
      unknown.push_back(fmt::format("'{}' (column {})", name, i + 1));
      layout.columns.push_back(role(ColumnRole::ignored));
      continue;
    }
    ColumnMap map = it->second;
    if (map.role == ColumnRole::feature) {
      // CICFlowMeter writes "Fwd Header Length" twice; the second occurrence is
      // the feature models know as "Fwd Header Length.1".
      if (map.feature == F::fwd_header_length && layout.has[static_cast<size_t>(F::fwd_header_length)] &&
          !layout.has[static_cast<size_t>(F::fwd_header_length_1)]) {
        map.feature = F::fwd_header_length_1;
      }
      const auto f = static_cast<size_t>(map.feature);
      if (layout.has[f]) {
        return make_error("", fmt::format("column '{}' (column {}) gives feature '{}' a second time (first in column {})",
                                          name, i + 1, feature_names()[f], feature_column[f]));
      }
      layout.has[f] = true;
      feature_column[f] = i + 1;
      ++layout.feature_count;
    } else if (map.role != ColumnRole::ignored) {
      auto& seen = role_column[static_cast<size_t>(map.role)];
      if (seen != 0) {
        return make_error("", fmt::format("column '{}' (column {}) repeats column {}", name, i + 1, seen));
      }
      seen = static_cast<int>(i + 1);
      if (map.role == ColumnRole::label) layout.has_label = true;
    }
    layout.columns.push_back(map);
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) {
      if (!list.empty()) list += ", ";
      list += u;
    }
    return make_error("", fmt::format("unknown flow CSV layout: {} of {} columns could not be mapped: {} "
                                      "(the known column names are listed in docs/FLOWS.md)",
                                      unknown.size(), header.size(), list));
  }
  if (layout.feature_count == 0) {
    return make_error("", "no flow feature column in the header (the known column names are listed in docs/FLOWS.md)");
  }
  layout.kind = LayoutKind::other;
  layout.name = fmt::format("CIC flow CSV, {} columns, {} features (not one of the known layouts)", header.size(),
                            layout.feature_count);
  for (const KnownLayout& known : kKnown) {
    if (std::equal(layout.headers.begin(), layout.headers.end(), known.columns.begin(), known.columns.end())) {
      layout.kind = known.kind;
      layout.name = std::string(known.name);
      break;
    }
  }
  return layout;
}

Result<Layout> map_header_line(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (true) {
    // A quoted name runs to its closing quote (commas inside are kept); the
    // quotes are removed by normalise_column_name.
    size_t scan = pos;
    while (scan < line.size() && is_whitespace(line[scan])) ++scan;
    size_t end;
    if (scan < line.size() && line[scan] == '"') {
      const size_t close = line.find('"', scan + 1);
      end = close == std::string_view::npos ? line.size() : line.find(',', close);
    } else {
      end = line.find(',', pos);
    }
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(pos, end - pos));
    if (end >= line.size()) break;
    pos = end + 1;
  }
  return map_header(fields);
}

std::span<const std::string_view> layout_columns(LayoutKind kind) {
  for (const KnownLayout& known : kKnown) {
    if (known.kind == kind) return known.columns;
  }
  return {};
}

std::optional<std::string_view> layout_column_name(LayoutKind kind, Feature feature) {
  const auto columns = layout_columns(kind);
  if (columns.empty()) return std::nullopt;
  auto layout = map_header(columns);
  if (!layout.ok()) return std::nullopt;
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnMap& c = layout->columns[i];
    if (c.role == ColumnRole::feature && c.feature == feature) return columns[i];
  }
  return std::nullopt;
}

std::span<const std::string_view> ignored_columns() { return kIgnored; }

}  // namespace sentinel::flows
