// The "alerts" logger of this module.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace sentinel {

/// The logger named "alerts": the one the app registered under that name, else
/// a clone of spdlog's default logger (so it follows spdlog::set_level).
std::shared_ptr<spdlog::logger> alerts_log();

}  // namespace sentinel
