// libFuzzer target for the GeoJSON reader and for the district/site tables
// the Enricher builds from what it accepts. Contract under test: any input
// either parses or throws ConfigError, and an Enricher built from it answers
// queries without crashing, in range. Build with clang, e.g.:
//   reader only, under ASan:
//     clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -DSENTINEL_FUZZ_PARSER_ONLY \
//       -Isrc fuzz/geojson_fuzz.cpp src/detect/geojson.cpp -o geojson_fuzz
//   reader and Enricher:
//     clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,undefined -Isrc fuzz/geojson_fuzz.cpp \
//       src/detect/geojson.cpp src/detect/enrichment.cpp -ls2 -lcctz <absl libs> -lcrypto -o
//       geojson_fuzz
//   ./geojson_fuzz -max_len=16384 tests/data/geo
//
// Debian's libs2 is built without sanitizers, and absl's btree changes its
// node layout when it detects ASan, which corrupts S2's shape index if
// src/detect/enrichment.cpp is compiled with clang's ASan (g++ builds are
// protected by a guard in that file). This file includes no S2 header, so
// instrumenting only it is safe; when the library is instrumented too,
// define SENTINEL_FUZZ_PARSER_ONLY to fuzz the reader alone.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "detect/enrichment.h"
#include "detect/geojson.h"

#if !defined(SENTINEL_FUZZ_PARSER_ONLY)
namespace {

/// A per-process scratch file: Enricher::build reads its GeoJSON from paths.
const std::string& scratch_path() {
  static const std::string path = "/tmp/geojson_fuzz_" + std::to_string(::getpid()) + ".geojson";
  return path;
}

void check_enricher(std::string_view text, bool as_districts) {
  {
    std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  sentinel::CityConfig city;
  if (as_districts) {
    city.districts = scratch_path();
  } else {
    city.sensitive_sites = {scratch_path()};
  }
  std::unique_ptr<sentinel::Enricher> enricher;
  try {
    enricher = sentinel::Enricher::build(city, sentinel::CellsConfig{});
  } catch (const sentinel::ConfigError&) {
    return;  // e.g. a point file given as districts: rejected cleanly
  }
  static constexpr double kProbes[][2] = {{0, 0},  {0.5, 0.5}, {41.88, -87.63}, {-45, 170},
                                          {90, 0}, {-90, 180}, {10, -180},      {0.25, 4.5}};
  for (const auto& probe : kProbes) {
    const int32_t d = enricher->district_of(probe[0], probe[1]);
    if (d < -1 || d >= static_cast<int32_t>(enricher->district_names().size())) std::abort();
    const auto nearest = enricher->nearest_site(probe[0], probe[1]);
    if (nearest.site >= static_cast<int32_t>(enricher->sites().size())) std::abort();
    if (nearest.site >= 0 && !(nearest.distance_m >= 0 && nearest.distance_m <= 2.1e7))
      std::abort();
  }
}

}  // namespace
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<sentinel::geojson::Feature> features;
  try {
    features = sentinel::geojson::parse_features(text, "fuzz");
  } catch (const sentinel::ConfigError&) {
    return 0;
  }
  for (const auto& f : features) {
    for (const auto& p : f.geometry.points) {
      if (!(std::abs(p.lat) <= 90 && std::abs(p.lon) <= 180)) std::abort();
    }
  }
#if !defined(SENTINEL_FUZZ_PARSER_ONLY)
  // Building the tables is the costly part; do it for inputs that parsed.
  check_enricher(text, true);
  check_enricher(text, false);
#endif
  return 0;
}
