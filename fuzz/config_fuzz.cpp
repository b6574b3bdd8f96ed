// libFuzzer entry for the configuration loader (src/core/config.cpp).
//
// The loader's promise, checked here on arbitrary input: it either returns a
// Config that satisfies every documented cross-key rule, or throws a
// ConfigError whose message is one line starting with the origin. Any other
// exception, a crash, a sanitizer report or a multi-line message is a bug.
//
// Build (clang; sentinel_core's sources compiled with the fuzzer flags):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     fuzz/config_fuzz.cpp src/core/config.cpp src/core/time.cpp \
//     -lyaml-cpp -lfmt -o build/config_fuzz
//   build/config_fuzz -max_len=4096 -dict=... corpus/   (examples/sentinel.yaml is a good seed)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.h"

namespace {

constexpr std::string_view kOrigin = "fuzz.yaml";

// Relative paths resolve here, so they never name a real file; the loader
// only stats paths, it never opens them.
constexpr const char* kBaseDir = "/nonexistent-sentinel-fuzz";

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sentinel::Config c = sentinel::parse_config(text, std::string(kOrigin), kBaseDir);
    check(c.cells.coarse_level <= c.cells.fine_level);
    check(c.cells.fine_level >= 0 && c.cells.fine_level <= 30);
    check(c.windows.sliding_slide.count() > 0 &&
          c.windows.sliding_size % c.windows.sliding_slide == sentinel::Millis(0));
    check(c.latency.warn_p95 < c.latency.breaker_p95);
    check(c.city.bounds[0] < c.city.bounds[2] && c.city.bounds[1] < c.city.bounds[3]);
    check(!c.city.time_zone.empty() && !c.ingest.sources.empty());
    check(c.pipeline.batch_size >= 1 && c.server.max_body_bytes >= 1024);
  } catch (const sentinel::ConfigError& e) {
    const std::string_view message = e.what();
    check(message.substr(0, kOrigin.size()) == kOrigin);
    check(message.find('\n') == std::string_view::npos);
  }
  return 0;
}
