// Flow telemetry parsing throughput (src/flows/csv_telemetry, flow_json).
//
// Corpora, built once in memory (no disk I/O in the timings):
//   MlCve    the 9,998-row MachineLearningCVE Friday file (79 columns, short
//            numbers, CRLF) repeated 100 times: 999,800 rows, ~315 MB.
//   Improved the 5,000-row improved DDoS file (91 columns, 17-digit floats,
//            identity columns, timestamps) repeated 100 times: 500,000 rows.
//
//   Csv*/threads:1   one CsvReader over the whole corpus, batches of 1000
//                    records reused, origin "file:line" filled for every row.
//   Csv*/threads:2   CsvFile::split(2) and one reader per chunk on its own
//                    std::thread (the way the detection loop parses a file).
//   CsvMlCveNoOrigin the same without FlowRecord::origin (CsvOptions::set_origin).
//   FlowJsonEncode / FlowJsonDecode  one record to JSON and back (Kafka payloads).
//
// items_per_second = rows (records) per second, wall clock.
//   flow_parse_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// and read the medians.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "flows/csv_telemetry.h"
#include "flows/flow_json.h"

namespace {

using namespace sentinel::flows;

const std::string kNetflows = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/netflows/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "flow_parse_bench: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Header once, then the data rows `times` times.
std::shared_ptr<const CsvFile> repeated(const std::string& path, int times) {
  const std::string text = read_text(path);
  const size_t body = text.find('\n') + 1;
  std::string data;
  data.reserve(body + (text.size() - body) * times);
  data.append(text, 0, body);
  for (int i = 0; i < times; ++i) data.append(text, body, std::string::npos);
  auto file = CsvFile::from_buffer(path + " x" + std::to_string(times), std::move(data));
  if (!file.ok()) {
    std::fprintf(stderr, "flow_parse_bench: %s\n", file.error().to_string().c_str());
    std::exit(1);
  }
  return file.value();
}

const std::shared_ptr<const CsvFile>& mlcve() {
  static const auto file = repeated(
      kNetflows + "cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv", 100);
  return file;
}

const std::shared_ptr<const CsvFile>& improved() {
  static const auto file = repeated(kNetflows + "cicids2017_improved_engelen_sampled/DDoS_5000.csv", 100);
  return file;
}

size_t read_chunk(const std::shared_ptr<const CsvFile>& file, CsvChunk chunk, bool origin) {
  CsvOptions options;
  options.set_origin = origin;
  CsvReader reader(file, chunk, options);
  std::vector<FlowRecord> batch;
  size_t rows = 0;
  while (true) {
    auto n = reader.next_batch(batch, 1000);
    if (!n.ok() || n.value() == 0) break;
    rows += n.value();
    benchmark::DoNotOptimize(batch.data());
  }
  if (reader.stats().rejected != 0) {
    std::fprintf(stderr, "flow_parse_bench: %llu rows rejected\n",
                 static_cast<unsigned long long>(reader.stats().rejected));
    std::exit(1);
  }
  return rows;
}

void parse(benchmark::State& state, const std::shared_ptr<const CsvFile>& file, bool origin) {
  const auto threads = static_cast<size_t>(state.range(0));
  const auto chunks = file->split(threads);
  size_t rows = 0;
  for (auto _ : state) {
    std::vector<size_t> counts(chunks.size());
    std::vector<std::thread> workers;
    for (size_t i = 1; i < chunks.size(); ++i) {
      workers.emplace_back([&, i] { counts[i] = read_chunk(file, chunks[i], origin); });
    }
    counts[0] = read_chunk(file, chunks[0], origin);
    for (auto& w : workers) w.join();
    for (size_t c : counts) rows += c;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(file->size_bytes()) * state.iterations());
}

void CsvMlCve(benchmark::State& state) { parse(state, mlcve(), true); }
void CsvMlCveNoOrigin(benchmark::State& state) { parse(state, mlcve(), false); }
void CsvImproved(benchmark::State& state) { parse(state, improved(), true); }

BENCHMARK(CsvMlCve)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(CsvMlCveNoOrigin)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(CsvImproved)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

std::vector<FlowRecord> sample_flows() {
  auto reader = CsvReader::open(kNetflows + "cicids2017_improved_engelen_sampled/DDoS_5000.csv");
  std::vector<FlowRecord> flows;
  if (!reader.ok() || !reader.value()->next_batch(flows, 5000).ok()) std::exit(1);
  return flows;
}

void FlowJsonEncode(benchmark::State& state) {
  const auto flows = sample_flows();
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    append_flow_json(out, flows[i++ % flows.size()]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(FlowJsonEncode);

void FlowJsonDecode(benchmark::State& state) {
  const auto flows = sample_flows();
  std::vector<std::string> payloads;
  for (const auto& f : flows) payloads.push_back(flow_to_json(f));
  FlowJsonDecoder decoder;
  FlowRecord flow;
  size_t i = 0;
  for (auto _ : state) {
    if (!decoder.decode(payloads[i++ % payloads.size()], flow).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(flow.features.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(FlowJsonDecode);

}  // namespace

BENCHMARK_MAIN();
