#include "intel/intel_log.h"

namespace sentinel::intel {

std::shared_ptr<spdlog::logger> intel_log() {
  auto logger = spdlog::get("intel");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace sentinel::intel
