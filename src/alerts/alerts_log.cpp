#include "alerts/alerts_log.h"

namespace sentinel {

std::shared_ptr<spdlog::logger> alerts_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("alerts")) return existing;
    auto created = spdlog::default_logger()->clone("alerts");
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Registered by another thread or module in between: use that one.
      if (auto existing = spdlog::get("alerts")) return existing;
    }
    return created;
  }();
  return logger;
}

}  // namespace sentinel
