// The module's logger, internal to src/intel.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace sentinel::intel {

/// The logger the app registered as "intel", else spdlog's default logger.
/// Thread-safe.
std::shared_ptr<spdlog::logger> intel_log();

}  // namespace sentinel::intel
