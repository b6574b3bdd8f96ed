// Window state per active (cell, category) key, and peak RSS, for 1M keys.
// Each key gets two events in one 5-minute window, so it holds a tumbling
// window, a sliding pane and a session. Google Benchmark reports the time to
// add the events; the counters carry the memory figures.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "stream/window_operator.h"

namespace {

using namespace sentinel;

/// Resident bytes now (from /proc/self/statm): memory actually touched, so
/// reserved-but-unused hash-table slots do not count.
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void WindowState_1MKeys(benchmark::State& state) {
  const uint64_t keys = static_cast<uint64_t>(state.range(0));
  std::vector<Event> events(keys * 2);
  for (uint64_t k = 0; k < keys; ++k) {
    for (int j = 0; j < 2; ++j) {
      Event& e = events[k * 2 + static_cast<size_t>(j)];
      e.time = event_time_from_ms(1'772'000'000'000 + j * 60'000);
      e.type = static_cast<TypeId>(k % 8);
      e.enrich.fine_cell = 0x8800000000000000ull + (k / 8) * 16;
      e.has_location = true;
    }
  }
  WindowOperator::Stats stats;
  double resident_per_key = 0;
  for (auto _ : state) {
    const double before = resident_bytes();
    WindowOperator op{WindowsConfig{}};
    op.add(events);
    stats = op.stats();
    resident_per_key = (resident_bytes() - before) / static_cast<double>(keys);
    benchmark::DoNotOptimize(stats);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["keys"] = static_cast<double>(keys);
  // Table capacity (reserved, whether used or not) and what is resident.
  state.counters["capacity_bytes_per_key"] = static_cast<double>(stats.state_bytes) / static_cast<double>(keys);
  state.counters["resident_bytes_per_key"] = resident_per_key;
  state.counters["peak_rss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events.size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(WindowState_1MKeys)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
