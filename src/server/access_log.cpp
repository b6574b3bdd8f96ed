#include "server/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "core/json_writer.h"
#include "stream/file_sink.h"

namespace sentinel {

namespace fs = std::filesystem;

AccessLog::AccessLog(const std::string& out_dir, std::optional<SecretKey> key, AlertTrail* trail)
    : trail_(trail) {
  if (!key) return;
  const auto now = std::chrono::system_clock::now();
  const std::string stamp = fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
  fs::path p = fs::path(out_dir) / ("access-" + stamp + ".jsonl");
  for (int n = 2; fs::exists(p); ++n) p = fs::path(out_dir) / ("access-" + stamp + "-" + std::to_string(n) + ".jsonl");
  path_ = p.string();
  sink_ = std::make_unique<FileSink>(path_, 0);
  AuditOptions o;
  o.sign_every = 1;  // few records, each worth signing at once
  writer_ = std::make_unique<AuditWriter>(*sink_, std::move(*key), o);
}

AccessLog::~AccessLog() {
  std::lock_guard lock(mutex_);
  if (writer_) {
    writer_->flush();
    sink_->flush();
  }
}

void AccessLog::record(EventTime ts, AuditDecision decision, std::string_view ref, std::string_view reasons_json) {
  uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (writer_) {
      if (Status st = writer_->append(ts, decision, ref, reasons_json); !st.ok()) {
        spdlog::error("access log: cannot record {} {}: {}", to_string(decision), ref, st.error().to_string());
        return;
      }
      writer_->flush();  // an access record must survive a crash right after the call
      seq = writer_->records();
    } else {
      seq = ++unsigned_records_;
      spdlog::info("access: {} {} {}", to_string(decision), ref, reasons_json);
    }
  }
  if (trail_ && ref.starts_with("a-")) trail_->add("access", AuditEntry{seq, ts, decision, ref, reasons_json});
}

uint64_t AccessLog::records() const {
  std::lock_guard lock(mutex_);
  return writer_ ? writer_->records() : unsigned_records_;
}

AlertTrail::AlertTrail(size_t max_alerts) : max_alerts_(std::max<size_t>(1, max_alerts)) {}

void AlertTrail::add(std::string_view log, const AuditEntry& e) {
  std::string rec;
  JsonWriter w(rec);
  w.begin_object().member("log", log).member("seq", e.seq).member("ts", format_rfc3339(e.ts));
  w.member("decision", to_string(e.decision)).member("ref", e.ref).key("reasons");
  w.raw(e.reasons_json.empty() ? std::string_view("{}") : e.reasons_json);
  w.end_object();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = records_.try_emplace(std::string(e.ref));
  if (fresh) {
    order_.push_back(it->first);
    while (order_.size() > max_alerts_) {
      records_.erase(order_.front());
      order_.pop_front();
    }
  }
  auto& list = it->second;
  if (list.size() >= kMaxPerAlert) list.erase(list.begin() + 1);  // keep the creating record
  list.push_back(std::move(rec));
}

std::string AlertTrail::json(std::string_view alert_id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(std::string(alert_id));
  std::string out = "[";
  if (it != records_.end()) {
    for (size_t i = 0; i < it->second.size(); ++i) {
      if (i) out += ',';
      out += it->second[i];
    }
  }
  out += ']';
  return out;
}

}  // namespace sentinel
