// The module's named logger ("net"), internal to src/net.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace sentinel::net {

/// The logger named "net": the one the app registered under that name before
/// first use, else a clone of spdlog's default logger (so it follows
/// spdlog::set_level). Thread-safe.
std::shared_ptr<spdlog::logger> net_log();

}  // namespace sentinel::net
