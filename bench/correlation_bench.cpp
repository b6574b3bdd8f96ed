// CorrelationIndex cost per candidate event: neighbours() then insert(), with
// expire() once per epoch of 1,000 events (amortised into the figure), for
// 1M events spread uniformly over a 30 km x 30 km city (centred on Chicago)
// from 6 sources, while the index holds about 200k live entries.
//
// Event times advance 6.15 ms per event with up to 30 s of disorder; the
// horizon trails the newest time by out-of-orderness (30 s) + allowed
// lateness (5 min) + window (15 min) = 1,230 s, so 1,230 s / 6.15 ms = 200k
// entries stay live. 200k events are inserted untimed first, so every timed
// operation sees the steady state. Run: build/<dir>/bench/correlation_bench
// (3 repetitions; the _median rows are the figures to quote).
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "detect/correlation.h"

namespace {

using namespace sentinel;
using sentinel::detect::CorrelationEntry;
using sentinel::detect::CorrelationIndex;

constexpr double kCenterLat = 41.8781, kCenterLon = -87.6298;
constexpr double kHalfSideM = 15'000;
constexpr int64_t kHorizonLagMs = 30'000 + 5 * 60'000 + 15 * 60'000;
constexpr uint64_t kEpoch = 1000;

// This thread's CPU time: on a shared machine it leaves out the time other
// processes held the core (wall time per operation is reported too).
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::vector<CorrelationEntry> make_events(uint64_t n) {
  std::mt19937_64 rng(42);
  const double dlat = kHalfSideM / 111'195.0;
  const double dlon = dlat / std::cos(kCenterLat * std::numbers::pi / 180.0);
  std::uniform_real_distribution<double> lat(kCenterLat - dlat, kCenterLat + dlat);
  std::uniform_real_distribution<double> lon(kCenterLon - dlon, kCenterLon + dlon);
  std::uniform_int_distribution<int64_t> disorder(0, 29'999);
  std::uniform_int_distribution<int> source(1, 6);
  std::uniform_real_distribution<float> confidence(0, 1);
  std::vector<CorrelationEntry> events(n);
  for (uint64_t i = 0; i < n; ++i) {
    CorrelationEntry& e = events[i];
    e.seq = i + 1;
    e.time = event_time_from_ms(1'772'000'000'000 + static_cast<int64_t>(i * 615 / 100) - disorder(rng));
    e.lat = lat(rng);
    e.lon = lon(rng);
    e.confidence = confidence(rng);
    e.has_confidence = true;
    e.source = static_cast<SourceId>(source(rng));
    e.type = static_cast<TypeId>(i % 12);
    e.severity = static_cast<Severity>(i % 3);
    e.id = "c" + std::to_string(i);
  }
  return events;
}

void Correlation_NeighboursInsert(benchmark::State& state) {
  const uint64_t live_target = 200'000;
  const uint64_t timed = static_cast<uint64_t>(state.range(0));
  const auto cap = static_cast<size_t>(state.range(1));
  const std::vector<CorrelationEntry> events = make_events(live_target + timed);
  double ns_per_op = 0, cpu_ns_per_op = 0, found_per_op = 0, live = 0;
  for (auto _ : state) {
    CorrelationIndex index{CorrelationConfig{}};
    std::vector<const CorrelationEntry*> found;
    int64_t newest = INT64_MIN;
    uint64_t total_found = 0;
    auto step = [&](uint64_t i) {
      const CorrelationEntry& e = events[i];
      if (cap == 0) {
        index.neighbours(e, found);
      } else {
        index.neighbours(e, cap, found);
      }
      total_found += found.size();
      index.insert(e);
      newest = std::max(newest, to_ms(e.time));
      if ((i + 1) % kEpoch == 0) index.expire(event_time_from_ms(newest - kHorizonLagMs));
    };
    state.PauseTiming();
    for (uint64_t i = 0; i < live_target; ++i) step(i);
    total_found = 0;
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_ns();
    for (uint64_t i = live_target; i < live_target + timed; ++i) step(i);
    cpu_ns_per_op = (thread_cpu_ns() - cpu_start) / static_cast<double>(timed);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ns_per_op = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
                static_cast<double>(timed);
    found_per_op = static_cast<double>(total_found) / static_cast<double>(timed);
    live = static_cast<double>(index.size());
    benchmark::DoNotOptimize(total_found);
  }
  state.counters["ns_per_op"] = ns_per_op;
  state.counters["cpu_ns_per_op"] = cpu_ns_per_op;
  state.counters["neighbours_per_op"] = found_per_op;
  state.counters["live_entries"] = live;
}
BENCHMARK(Correlation_NeighboursInsert)
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 32})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(false);

}  // namespace

BENCHMARK_MAIN();
