// One network flow as the detection engines see it: the 79 CIC flow
// features (DESIGN.md section 6) and the identity of the flow.
//
// The 79 features are the 78 feature columns of the CIC-IDS2017
// MachineLearningCVE layout, in that file's order (both `Fwd Header Length`
// columns kept, the second named "Fwd Header Length.1", as models trained on
// those files have them), followed by `Protocol`, which the other CIC layouts
// carry. A feature a layout lacks is NaN (missing), never 0: the tree models
// route missing values by their own default branch.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace sentinel::flows {

inline constexpr size_t kFeatureCount = 79;

/// Index of each feature in FlowRecord::features. Values are positions in the
/// canonical order above and are stable: models and normalisers refer to them.
enum class Feature : uint8_t {
  destination_port = 0,
  flow_duration,
  total_fwd_packets,
  total_backward_packets,
  total_length_fwd_packets,
  total_length_bwd_packets,
  fwd_packet_length_max,
  fwd_packet_length_min,
  fwd_packet_length_mean,
  fwd_packet_length_std,
  bwd_packet_length_max,  // 10
  bwd_packet_length_min,
  bwd_packet_length_mean,
  bwd_packet_length_std,
  flow_bytes_per_s,
  flow_packets_per_s,
  flow_iat_mean,
  flow_iat_std,
  flow_iat_max,
  flow_iat_min,
  fwd_iat_total,  // 20
  fwd_iat_mean,
  fwd_iat_std,
  fwd_iat_max,
  fwd_iat_min,
  bwd_iat_total,
  bwd_iat_mean,
  bwd_iat_std,
  bwd_iat_max,
  bwd_iat_min,
  fwd_psh_flags,  // 30
  bwd_psh_flags,
  fwd_urg_flags,
  bwd_urg_flags,
  fwd_header_length,
  bwd_header_length,
  fwd_packets_per_s,
  bwd_packets_per_s,
  min_packet_length,
  max_packet_length,
  packet_length_mean,  // 40
  packet_length_std,
  packet_length_variance,
  fin_flag_count,
  syn_flag_count,
  rst_flag_count,
  psh_flag_count,
  ack_flag_count,
  urg_flag_count,
  cwe_flag_count,
  ece_flag_count,  // 50
  down_up_ratio,
  average_packet_size,
  avg_fwd_segment_size,
  avg_bwd_segment_size,
  fwd_header_length_1,
  fwd_avg_bytes_bulk,
  fwd_avg_packets_bulk,
  fwd_avg_bulk_rate,
  bwd_avg_bytes_bulk,
  bwd_avg_packets_bulk,  // 60
  bwd_avg_bulk_rate,
  subflow_fwd_packets,
  subflow_fwd_bytes,
  subflow_bwd_packets,
  subflow_bwd_bytes,
  init_win_bytes_forward,
  init_win_bytes_backward,
  act_data_pkt_fwd,
  min_seg_size_forward,
  active_mean,  // 70
  active_std,
  active_max,
  active_min,
  idle_mean,
  idle_std,
  idle_max,
  idle_min,
  protocol,  // 78
};

/// The canonical CIC name of each feature, in index order (e.g. "Flow Duration",
/// "Fwd Header Length.1", "Protocol"). Models trained by scripts/train_flow_model.py
/// use these as feature names.
const std::array<std::string_view, kFeatureCount>& feature_names();

/// The snake_case name of each feature (the enum's spelling), used as the
/// semantic field names rules refer to and in evidence ("syn_flag_count").
const std::array<std::string_view, kFeatureCount>& feature_keys();

/// Index of a feature by its canonical name or snake_case key; nullopt when unknown.
std::optional<Feature> find_feature(std::string_view name);

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

/// A flow: the feature vector plus what identifies it. Reused across batches
/// (strings keep their capacity), so reading a batch allocates nothing per flow
/// in the steady state.
struct FlowRecord {
  std::array<double, kFeatureCount> features;  ///< NaN = the layout lacks it or the value was empty
  std::string flow_id;     ///< as given ("" when the layout has none)
  std::string src_ip;      ///< "" when the layout has none
  std::string dst_ip;
  int32_t src_port = -1;   ///< -1 = unknown
  int64_t timestamp_ms = 0;  ///< flow start, Unix ms UTC; 0 = unknown
  std::string label;       ///< ground truth when the input carries one ("" otherwise)
  std::string origin;      ///< "file:line" or "topic/partition@offset": where it came from

  FlowRecord() { features.fill(kMissing); }
  double operator[](Feature f) const { return features[static_cast<size_t>(f)]; }
  double& operator[](Feature f) { return features[static_cast<size_t>(f)]; }
  bool has(Feature f) const { return !std::isnan((*this)[f]); }
  /// Empties the record for reuse, keeping string capacity.
  void clear() {
    features.fill(kMissing);
    flow_id.clear();
    src_ip.clear();
    dst_ip.clear();
    src_port = -1;
    timestamp_ms = 0;
    label.clear();
    origin.clear();
  }
};

/// True when a ground-truth label names benign traffic ("BENIGN", any case);
/// every other non-empty label is an attack.
bool is_benign_label(std::string_view label);

}  // namespace sentinel::flows
