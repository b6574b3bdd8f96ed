// Isolation-forest scoring cost per row: the 100-tree scikit-learn forest
// exported in tests/data/iforest/gauss20d_forest.json, scored on the 5000
// gauss20d rows (20 features), one row per call and as one batch.
//
//   build/release/bench/iforest_bench [--benchmark_filter=...]
//   /usr/bin/python3 bench/iforest_vs_sklearn.py build/release/bench/iforest_bench
//
// items_per_second is rows per second in every benchmark here;
// bench/iforest_vs_sklearn.py reads it to compare with sklearn's score_samples.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "detect/isolation_forest.h"

namespace {

using sentinel::detect::IsolationForest;

const std::string kDataDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/iforest/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "iforest_bench: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Data {
  size_t n_features = 0;
  std::vector<float> rows;
  size_t n_rows() const { return rows.size() / n_features; }
};

// gauss20d.csv: header `label,x0..x19`, then one row per line.
const Data& gauss20d() {
  static const Data data = [] {
    Data d;
    std::istringstream in(read_text(kDataDir + "gauss20d.csv"));
    std::string line;
    std::getline(in, line);
    for (char c : line) d.n_features += c == ',' ? 1 : 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::istringstream fields(line);
      std::string field;
      std::getline(fields, field, ',');  // label
      while (std::getline(fields, field, ',')) d.rows.push_back(static_cast<float>(std::strtod(field.c_str(), nullptr)));
    }
    return d;
  }();
  return data;
}

const IsolationForest& sklearn_forest() {
  static const IsolationForest forest = [] {
    auto loaded = IsolationForest::from_sklearn_json(read_text(kDataDir + "gauss20d_forest.json"));
    if (!loaded) {
      std::fprintf(stderr, "iforest_bench: %s\n", loaded.error().to_string().c_str());
      std::exit(1);
    }
    return std::move(loaded).value();
  }();
  return forest;
}

void BM_ScoreOneRow(benchmark::State& state) {
  const Data& data = gauss20d();
  const IsolationForest& forest = sklearn_forest();
  const std::span<const float> rows(data.rows);
  size_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(forest.score(rows.subspan(r * data.n_features, data.n_features)));
    r = r + 1 == data.n_rows() ? 0 : r + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ScoreOneRow);

void BM_ScoreBatch(benchmark::State& state) {
  const Data& data = gauss20d();
  const IsolationForest& forest = sklearn_forest();
  std::vector<double> out(data.n_rows());
  for (auto _ : state) {
    forest.score_batch(data.rows, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * data.n_rows()));
}
BENCHMARK(BM_ScoreBatch)->Unit(benchmark::kMicrosecond);

// Fitting cost for reference (the online wrapper refits every K vectors):
// 100 trees x 256 samples on the 5000 x 20 rows; items are fits.
void BM_Fit(benchmark::State& state) {
  const Data& data = gauss20d();
  uint64_t seed = 0;
  for (auto _ : state) {
    const auto forest = IsolationForest::fit(data.rows, data.n_features, {100, 256, seed++});
    benchmark::DoNotOptimize(forest.n_nodes());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Fit)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
