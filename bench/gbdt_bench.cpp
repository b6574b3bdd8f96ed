// Gradient-boosted tree evaluation (flows/gbdt.h) against XGBoost's own
// prediction, Debian's libxgboost 1.7.4 through its C API with nthread=1, on
// the same model and the same rows (tests/data/ml/xgboost/*/model.json).
//
//   build/release/bench/gbdt_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Rows: 100,000 x 20 float32 values drawn as tests/data/ml/README.md describes
// the models' data (f0-f9 N(0,1), f10-f14 U(0,100), f15 in {0..4}, f16-f19
// N(0,1), 5% NaN), std::mt19937_64 seed 21. Before timing, every row's
// margins and probabilities from both are compared bit for bit; the program
// stops if one differs.
//
// items_per_second is rows per second everywhere. *_Batch: all rows in one
// call (ours: predict_raw_batch + transform; XGBoost: XGBoosterPredictFromDense
// with "type": 0, or margins with "type": 1). *_SingleRow: one row per call,
// each call timed; counters median_us and p99_us.
//
// LightGBM models (binary 100 trees, multiclass 500 trees) have no in-process
// peer here; tests/data/ml/README.md quotes LightGBM's C API on the same kind
// of rows: ~180k rows/s (binary) and ~21.9k rows/s (multiclass) batch, and
// 5.4 us / 45 us single-row (LGBM_BoosterPredictForMatSingleRowFast). Their
// rows: the models' input.csv rows resampled to 100,000 with N(0, 0.01)
// noise, seed 7.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "flows/gbdt.h"

#ifdef SENTINEL_HAVE_XGBOOST
#include <xgboost/c_api.h>
#endif

namespace {

using sentinel::flows::TreeModel;

const std::string kDataDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/ml/";
constexpr size_t kRows = 100'000;
constexpr size_t kLatencySamples = 20'000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "gbdt_bench: %s\n", what.c_str());
  std::exit(1);
}

const TreeModel& model(const std::string& relative) {
  static std::map<std::string, TreeModel> cache;
  if (const auto it = cache.find(relative); it != cache.end()) return it->second;
  try {
    return cache.emplace(relative, TreeModel::load(kDataDir + relative)).first->second;
  } catch (const std::exception& e) {
    die(e.what());
  }
}

struct Rows {
  size_t cols = 0;
  std::vector<double> f64;
  std::vector<float> f32;  ///< the same values (XGBoost rows are float32 numbers)
  size_t n() const { return f64.size() / cols; }
};

const Rows& xgb_rows() {
  static const Rows rows = [] {
    Rows r;
    r.cols = 20;
    std::mt19937_64 rng(21);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(0.0f, 100.0f);
    std::uniform_int_distribution<int> category(0, 4);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    r.f32.resize(kRows * r.cols);
    for (size_t i = 0; i < kRows; ++i) {
      for (size_t j = 0; j < r.cols; ++j) {
        float v = j < 10 ? normal(rng) : j < 15 ? uniform(rng) : j == 15 ? static_cast<float>(category(rng)) : normal(rng);
        if (coin(rng) < 0.05) v = std::numeric_limits<float>::quiet_NaN();
        r.f32[i * r.cols + j] = v;
      }
    }
    r.f64.assign(r.f32.begin(), r.f32.end());
    return r;
  }();
  return rows;
}

/// input.csv rows (model feature order = the columns after the label)
/// resampled to kRows with N(0, 0.01) noise.
Rows lgb_rows(const std::string& dir) {
  std::ifstream in(kDataDir + dir + "/input.csv");
  if (!in) die("cannot open " + dir + "/input.csv");
  std::string line;
  std::getline(in, line);
  Rows base;
  base.cols = static_cast<size_t>(std::count(line.begin(), line.end(), ','));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f;
    std::getline(fields, f, ',');  // label
    while (std::getline(fields, f, ',')) base.f64.push_back(f.empty() || f == "nan" ? NAN : std::strtod(f.c_str(), nullptr));
  }
  Rows r;
  r.cols = base.cols;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, base.n() - 1);
  std::normal_distribution<double> noise(0.0, 0.01);
  for (size_t i = 0; i < kRows; ++i) {
    const size_t src = pick(rng);
    for (size_t j = 0; j < r.cols; ++j) r.f64.push_back(base.f64[src * r.cols + j] + noise(rng));
  }
  return r;
}

const Rows& lgb_rows_cached(const std::string& dir) {
  static std::map<std::string, Rows> cache;
  if (const auto it = cache.find(dir); it != cache.end()) return it->second;
  return cache.emplace(dir, lgb_rows(dir)).first->second;
}

void ours_batch(benchmark::State& state, const TreeModel& m, const Rows& rows) {
  const size_t k = m.num_outputs();
  std::vector<double> out(rows.n() * k);
  for (auto _ : state) {
    m.predict_raw_batch(rows.f64.data(), rows.n(), rows.cols, out.data());
    for (size_t r = 0; r < rows.n(); ++r) m.transform(out.data() + r * k, out.data() + r * k);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.n()));
}

void ours_margin_batch(benchmark::State& state, const TreeModel& m, const Rows& rows) {
  std::vector<double> out(rows.n() * m.num_outputs());
  for (auto _ : state) {
    m.predict_raw_batch(rows.f64.data(), rows.n(), rows.cols, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.n()));
}

/// Times every call of `one(row)`; reports the median and p99 in microseconds.
template <typename Fn>
void latency(benchmark::State& state, const Rows& rows, Fn&& one) {
  std::vector<double> samples;
  samples.reserve(kLatencySamples);
  size_t r = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    one(rows.f64.data() + r * rows.cols, rows.f32.empty() ? nullptr : rows.f32.data() + r * rows.cols);
    const auto stop = std::chrono::steady_clock::now();
    if (samples.size() < kLatencySamples) samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    r = r + 1 == rows.n() ? 0 : r + 1;
  }
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    state.counters["median_us"] = samples[samples.size() / 2];
    state.counters["p99_us"] = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void ours_single_row(benchmark::State& state, const TreeModel& m, const Rows& rows) {
  std::vector<double> out(m.num_outputs());
  latency(state, rows, [&](const double* row, const float*) {
    m.predict_raw(row, out.data());
    m.transform(out.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  });
}

// ---- XGBoost through its C API ------------------------------------------------------

#ifdef SENTINEL_HAVE_XGBOOST

void xgb_check(int rc, const char* what) {
  if (rc != 0) die(std::string(what) + ": " + XGBGetLastError());
}

BoosterHandle booster(const std::string& relative) {
  static std::vector<std::pair<std::string, BoosterHandle>> cache;
  for (auto& [name, h] : cache) {
    if (name == relative) return h;
  }
  BoosterHandle h = nullptr;
  xgb_check(XGBoosterCreate(nullptr, 0, &h), "XGBoosterCreate");
  xgb_check(XGBoosterLoadModel(h, (kDataDir + relative).c_str()), "XGBoosterLoadModel");
  xgb_check(XGBoosterSetParam(h, "nthread", "1"), "XGBoosterSetParam");
  cache.emplace_back(relative, h);
  return h;
}

/// XGBoosterPredictFromDense over `n` float32 rows; "type" 0 = predict(), 1 = margin.
const float* xgb_predict(BoosterHandle h, const float* data, size_t n, size_t cols, int type, size_t* out_len) {
  char array[256];
  std::snprintf(array, sizeof array,
                R"({"data": [%llu, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), n, cols);
  char config[256];
  std::snprintf(config, sizeof config,
                R"({"type": %d, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})",
                type);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  xgb_check(XGBoosterPredictFromDense(h, array, config, nullptr, &shape, &dim, &result), "XGBoosterPredictFromDense");
  size_t len = 1;
  for (bst_ulong i = 0; i < dim; ++i) len *= shape[i];
  *out_len = len;
  return result;
}

/// Every row's margins and probabilities, ours against XGBoost's, bit for bit.
void check_identical(const std::string& relative) {
  static std::vector<std::string> checked;
  if (std::find(checked.begin(), checked.end(), relative) != checked.end()) return;
  const TreeModel& m = model(relative);
  const Rows& rows = xgb_rows();
  const size_t k = m.num_outputs();
  std::vector<double> ours(rows.n() * k);
  m.predict_raw_batch(rows.f64.data(), rows.n(), rows.cols, ours.data());
  for (int type : {1, 0}) {
    if (type == 0) {
      for (size_t r = 0; r < rows.n(); ++r) m.transform(ours.data() + r * k, ours.data() + r * k);
    }
    size_t len = 0;
    const float* theirs = xgb_predict(booster(relative), rows.f32.data(), rows.n(), rows.cols, type, &len);
    if (len != ours.size()) die(relative + ": output sizes differ");
    size_t differ = 0;
    for (size_t i = 0; i < len; ++i) differ += static_cast<double>(theirs[i]) != ours[i];
    if (differ != 0) {
      die(relative + ": " + std::to_string(differ) + " of " + std::to_string(len) +
          (type == 1 ? " margins" : " probabilities") + " differ from XGBoost's");
    }
    std::fprintf(stderr, "gbdt_bench: %s: %zu %s identical to XGBoost's\n", relative.c_str(), len,
                 type == 1 ? "margins" : "probabilities");
  }
  checked.push_back(relative);
}

void xgb_batch(benchmark::State& state, const std::string& relative, int type) {
  check_identical(relative);
  const Rows& rows = xgb_rows();
  BoosterHandle h = booster(relative);
  for (auto _ : state) {
    size_t len = 0;
    benchmark::DoNotOptimize(xgb_predict(h, rows.f32.data(), rows.n(), rows.cols, type, &len));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.n()));
}

void xgb_single_row(benchmark::State& state, const std::string& relative) {
  check_identical(relative);
  const Rows& rows = xgb_rows();
  BoosterHandle h = booster(relative);
  latency(state, rows, [&](const double*, const float* row) {
    size_t len = 0;
    benchmark::DoNotOptimize(xgb_predict(h, row, 1, rows.cols, 0, &len));
  });
}

#endif  // SENTINEL_HAVE_XGBOOST

const std::string kXgbBinary = "xgboost/binary_logistic/model.json";
const std::string kXgbMulti = "xgboost/multi_softprob/model.json";

void BM_Ours_XgbBatch(benchmark::State& state, const std::string& relative) {
#ifdef SENTINEL_HAVE_XGBOOST
  check_identical(relative);
#endif
  ours_batch(state, model(relative), xgb_rows());
}
void BM_Ours_XgbMarginBatch(benchmark::State& state, const std::string& relative) {
  ours_margin_batch(state, model(relative), xgb_rows());
}
void BM_Ours_XgbSingleRow(benchmark::State& state, const std::string& relative) {
  ours_single_row(state, model(relative), xgb_rows());
}
BENCHMARK_CAPTURE(BM_Ours_XgbBatch, binary_logistic, kXgbBinary)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_XgbBatch, multi_softprob, kXgbMulti)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_XgbMarginBatch, binary_logistic, kXgbBinary)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_XgbMarginBatch, multi_softprob, kXgbMulti)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_XgbSingleRow, binary_logistic, kXgbBinary);
BENCHMARK_CAPTURE(BM_Ours_XgbSingleRow, multi_softprob, kXgbMulti);

#ifdef SENTINEL_HAVE_XGBOOST
void BM_Xgboost_Batch(benchmark::State& state, const std::string& relative) { xgb_batch(state, relative, 0); }
void BM_Xgboost_MarginBatch(benchmark::State& state, const std::string& relative) { xgb_batch(state, relative, 1); }
void BM_Xgboost_SingleRow(benchmark::State& state, const std::string& relative) { xgb_single_row(state, relative); }
BENCHMARK_CAPTURE(BM_Xgboost_Batch, binary_logistic, kXgbBinary)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Xgboost_Batch, multi_softprob, kXgbMulti)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Xgboost_MarginBatch, binary_logistic, kXgbBinary)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Xgboost_MarginBatch, multi_softprob, kXgbMulti)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Xgboost_SingleRow, binary_logistic, kXgbBinary);
BENCHMARK_CAPTURE(BM_Xgboost_SingleRow, multi_softprob, kXgbMulti);
#endif

void BM_Ours_LgbBatch(benchmark::State& state, const std::string& dir) {
  ours_batch(state, model(dir + "/model.txt"), lgb_rows_cached(dir));
}
void BM_Ours_LgbSingleRow(benchmark::State& state, const std::string& dir) {
  ours_single_row(state, model(dir + "/model.txt"), lgb_rows_cached(dir));
}
BENCHMARK_CAPTURE(BM_Ours_LgbBatch, binary, std::string("lightgbm/binary"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_LgbBatch, multiclass, std::string("lightgbm/multiclass"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ours_LgbSingleRow, binary, std::string("lightgbm/binary"));
BENCHMARK_CAPTURE(BM_Ours_LgbSingleRow, multiclass, std::string("lightgbm/multiclass"));

}  // namespace

BENCHMARK_MAIN();
