#include "flows/anomaly_record.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/time.h"

namespace sentinel::flows {

std::string anomaly_id(std::string_view origin) {
  return fmt::format("fa-{:016x}", XXH3_64bits(origin.data(), origin.size()));
}

std::string anomaly_kind(const nlohmann::json& evidence, const std::vector<std::string_view>& engines) {
  const auto eng = evidence.find("engines");
  if (eng != evidence.end() && eng->is_object()) {
    const auto rules = eng->find("rules");
    if (rules != eng->end() && rules->is_object()) {
      const auto expl = rules->find("explain");
      const nlohmann::json& r = expl != rules->end() ? *expl : *rules;
      const auto matched = r.find("matched");
      if (matched != r.end() && matched->is_array() && !matched->empty()) {
        const auto id = matched->front().find("id");
        if (id != matched->front().end() && id->is_string()) return id->get<std::string>();
      }
    }
  }
  for (std::string_view e : engines) {
    if (e == "ml") return "model";
  }
  return "statistical";
}

std::string type_word(std::string_view kind) {
  std::string out;
  for (char c : kind) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (c == '-' || c == '_') {
      out.push_back('_');
    }
  }
  return out.empty() ? "flow" : out;
}

AnomalyRecord build_anomaly_record(const FlowRecord& f, const EnsembleDecision& d, double threshold,
                                   const std::vector<std::string_view>& contributing, nlohmann::json evidence,
                                   int64_t fallback_time_ms) {
  AnomalyRecord rec;
  rec.id = anomaly_id(f.origin);
  rec.kind = anomaly_kind(evidence, contributing);
  const int64_t time_ms = f.timestamp_ms != 0 ? f.timestamp_ms : fallback_time_ms;
  const std::string time = format_rfc3339(event_time_from_ms(time_ms));
  const double dst_port = f[Feature::destination_port];
  rec.anomaly = {{"anomaly_id", rec.id},
                 {"time", f.timestamp_ms != 0 ? nlohmann::json(time) : nlohmann::json(nullptr)},
                 {"origin", f.origin},
                 {"flow_id", f.flow_id},
                 {"src_ip", f.src_ip},
                 {"dst_ip", f.dst_ip},
                 {"src_port", f.src_port},
                 {"dst_port", std::isnan(dst_port) ? nlohmann::json(nullptr) : nlohmann::json(dst_port)},
                 {"score", d.score},
                 {"threshold", threshold},
                 {"engines", contributing},
                 {"kind", rec.kind}};
  if (!f.label.empty()) rec.anomaly["label"] = f.label;
  rec.anomaly_text = rec.anomaly.dump();
  evidence["anomaly_id"] = rec.id;
  rec.evidence_text = evidence.dump();
  const nlohmann::json ce = {
      {"specversion", "1.0"},
      {"id", rec.id},
      {"source", "network"},
      {"type", "network.anomaly." + type_word(rec.kind)},
      {"time", time},
      {"severity", "property"},
      {"confidence", std::clamp(d.score, 0.0, 1.0)},
      {"data",
       {{"anomaly_id", rec.id}, {"kind", rec.kind}, {"engines", contributing}, {"src_ip", f.src_ip},
        {"dst_ip", f.dst_ip}, {"dst_port", rec.anomaly["dst_port"]}}}};
  rec.network_event = ce.dump();
  return rec;
}

void PublishQueue::add(Stream stream, std::string key, std::string payload) {
  if (backlog_.size() >= max_backlog_) {
    ++dropped_;
    return;
  }
  backlog_.push_back({stream, std::move(key), std::move(payload)});
}

void PublishQueue::pump() {
  while (!backlog_.empty()) {
    const Item& it = backlog_.front();
    const Status st = publisher_.publish(it.stream, it.key, it.payload);
    if (!st.ok()) return;  // rate limited or queue full: later
    ++published_;
    backlog_.pop_front();
  }
}

}  // namespace sentinel::flows
