// Whole flow detection throughput (issue 5): CSV parse -> 79 features ->
// rules, math and tree engines -> ensemble vote, on N workers, with the
// shipped rules and model (examples/flows). Outputs (verdict rows, evidence,
// events) are off: the figure is the detection itself; `sentinel flows
// detect` prints its own end-to-end rate with outputs.
//
// Input: a CIC CSV file repeated until it holds --rows rows, written once to
// a temporary file (mmap'ed by the reader like any input).
//
// Usage: flow_detect_bench [--rows 1000000] [--workers 0] [--runs 3]
//                          [--input tests/data/netflows/...csv]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.h"
#include "flows/detect_run.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  size_t rows = 1'000'000;
  int workers = 0;
  int runs = 3;
  std::string input = std::string(SENTINEL_SOURCE_DIR) +
                      "/tests/data/netflows/cicids2017_machinelearningcve/"
                      "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rows") rows = std::stoul(argv[i + 1]);
    else if (a == "--workers") workers = std::stoi(argv[i + 1]);
    else if (a == "--runs") runs = std::stoi(argv[i + 1]);
    else if (a == "--input") input = argv[i + 1];
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }

  // The repeated input.
  std::ifstream in(input);
  if (!in) {
    std::cerr << input << ": cannot read\n";
    return 1;
  }
  std::string header;
  std::getline(in, header);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  const fs::path tmp = fs::temp_directory_path() / fmt::format("flow_detect_bench_{}.csv", rows);
  {
    std::ofstream out(tmp);
    out << header << '\n';
    for (size_t i = 0; i < rows; ++i) out << lines[i % lines.size()] << '\n';
  }

  sentinel::Config config;
  config.detection.rules = std::string(SENTINEL_SOURCE_DIR) + "/examples/flows/rules";
  config.detection.model = std::string(SENTINEL_SOURCE_DIR) + "/examples/flows/model.json";
  config.detection.engine_budget = sentinel::Millis(60'000);  // measure, never skip

  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    sentinel::flows::DetectRunOptions opts;
    opts.inputs = {tmp.string()};
    opts.workers = workers;
    opts.write_outputs = false;
    const auto s = sentinel::flows::run_flow_detection(config, opts);
    const double rate = static_cast<double>(s.flows) / s.seconds;
    rates.push_back(rate);
    fmt::print("run {}: {} flows in {:.3f} s = {:.0f} flows/s ({} anomalies)\n", r + 1, s.flows, s.seconds, rate,
               s.anomalies);
  }
  std::sort(rates.begin(), rates.end());
  fmt::print("median {:.0f} flows/s over {} run(s), {} workers (0 = one per core), {} rows of {}\n",
             rates[rates.size() / 2], runs, workers, rows, fs::path(input).filename().string());
  fs::remove(tmp);
  return 0;
}
