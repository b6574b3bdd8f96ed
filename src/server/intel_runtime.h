// IntelRuntime: what `sentinel run` builds from the `intel` configuration
// section — the store (SQLite or PostgreSQL), the extraction provider, the
// page enricher, the IntelService and its job stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"

namespace sentinel {

namespace intel {
class IncidentStore;
class ExtractionProvider;
class IntelService;
}  // namespace intel
class IntelJobStream;

struct IntelRuntime {
  std::unique_ptr<intel::IncidentStore> store;
  std::unique_ptr<intel::ExtractionProvider> provider;
  std::unique_ptr<intel::IntelService> service;
  std::unique_ptr<IntelJobStream> stream;

  IntelRuntime();
  ~IntelRuntime();  ///< stops the service and the stream first
  IntelRuntime(IntelRuntime&&) noexcept;
  IntelRuntime& operator=(IntelRuntime&&) noexcept;

  void start();
  void stop();
};

/// Builds the runtime (not started). Throws std::runtime_error naming the
/// key or file on bad configuration, an unreadable gazetteer, or a store
/// that cannot be opened. `on_platform_event` receives each approved
/// incident as a CloudEvents JSON object.
IntelRuntime make_intel_runtime(const Config& config, const std::string& out_dir,
                                std::function<void(std::string_view)> on_platform_event);

}  // namespace sentinel
