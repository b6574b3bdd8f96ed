#include "detect/isolation_forest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stream/bytes.h"

namespace sentinel::detect {
namespace isolation_forest_test {

const std::string kDataDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/iforest/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One dataset CSV: `label,x0,...` with a header line.
struct Dataset {
  size_t n_features = 0;
  std::vector<int> labels;
  std::vector<float> rows;  // row-major, float32 as sklearn casts them
  size_t n_rows() const { return labels.size(); }
};

Dataset load_dataset(const std::string& name) {
  std::istringstream in(read_text(kDataDir + name + ".csv"));
  Dataset data;
  std::string line;
  std::getline(in, line);
  data.n_features = static_cast<size_t>(std::count(line.begin(), line.end(), ','));
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    data.labels.push_back(std::stoi(field));
    size_t n = 0;
    while (std::getline(fields, field, ',')) {
      data.rows.push_back(static_cast<float>(std::strtod(field.c_str(), nullptr)));
      ++n;
    }
    if (n != data.n_features) throw std::runtime_error(name + ": ragged row");
  }
  return data;
}

// score_samples column of `<name>_scores.csv` (written with Python repr,
// which strtod reads back exactly).
std::vector<double> load_scores(const std::string& name) {
  std::istringstream in(read_text(kDataDir + name + "_scores.csv"));
  std::vector<double> scores;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t first = line.find(',');
    scores.push_back(std::strtod(line.c_str() + first + 1, nullptr));
  }
  return scores;
}

// Exact ROC-AUC (Mann-Whitney U) with tied ranks averaged; positives are
// label 1 and higher `values` mean "more likely positive".
double roc_auc(const std::vector<int>& labels, const std::vector<double>& values) {
  const size_t n = labels.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  double positive_rank_sum = 0;
  size_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && values[order[j]] == values[order[i]]) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] == 1) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    }
    i = j;
  }
  const double p = static_cast<double>(positives);
  const double q = static_cast<double>(n - positives);
  return (positive_rank_sum - p * (p + 1) / 2.0) / (p * q);
}

double sklearn_auc_mean(const std::string& name) {
  const auto doc = nlohmann::json::parse(read_text(kDataDir + "aucs.json"));
  for (const auto& entry : doc.at("datasets")) {
    if (entry.at("dataset") == name) return entry.at("auc_mean_rs0_9").get<double>();
  }
  throw std::runtime_error("no AUC for " + name);
}

const char* const kDatasets[] = {"blobs2d", "gauss20d", "breast_cancer_anom"};

TEST(RocAucTest, MatchesHandComputedValues) {
  EXPECT_DOUBLE_EQ(roc_auc({0, 0, 1, 1}, {0.1, 0.2, 0.3, 0.4}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({1, 1, 0, 0}, {0.1, 0.2, 0.3, 0.4}), 0.0);
  // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
  EXPECT_DOUBLE_EQ(roc_auc({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}), 0.75);
  // A tie between a positive and a negative counts one half.
  EXPECT_DOUBLE_EQ(roc_auc({0, 1}, {0.5, 0.5}), 0.5);
}

TEST(IsolationForestTest, AveragePathLengthMatchesDefinition) {
  EXPECT_EQ(IsolationForest::average_path_length(0), 0.0);
  EXPECT_EQ(IsolationForest::average_path_length(1), 0.0);
  EXPECT_EQ(IsolationForest::average_path_length(2), 1.0);
  // c(256) = 2 (ln 255 + gamma) - 2 * 255 / 256.
  EXPECT_NEAR(IsolationForest::average_path_length(256), 10.244770920119917, 1e-12);
}

TEST(IsolationForestTest, ReproducesSklearnScoresExactly) {
  for (const char* name : kDatasets) {
    SCOPED_TRACE(name);
    const Dataset data = load_dataset(name);
    const std::vector<double> expected = load_scores(name);
    ASSERT_EQ(expected.size(), data.n_rows());
    auto forest = IsolationForest::from_sklearn_json(read_text(kDataDir + std::string(name) + "_forest.json"));
    ASSERT_TRUE(forest.ok()) << forest.error().to_string();
    ASSERT_EQ(forest->n_features(), data.n_features);
    ASSERT_EQ(forest->n_trees(), 100u);

    std::vector<double> batch(data.n_rows());
    forest->score_batch(data.rows, batch);
    size_t matched = 0;
    size_t batch_matched = 0;
    for (size_t r = 0; r < data.n_rows(); ++r) {
      const double s = forest->score(std::span<const float>(data.rows).subspan(r * data.n_features, data.n_features));
      EXPECT_EQ(s, expected[r]) << "row " << r;
      EXPECT_EQ(batch[r], expected[r]) << "row " << r;
      matched += s == expected[r] ? 1 : 0;
      batch_matched += batch[r] == expected[r] ? 1 : 0;
    }
    std::printf("[ exact    ] %-20s score %zu/%zu, score_batch %zu/%zu bit-identical to sklearn\n", name, matched,
                data.n_rows(), batch_matched, data.n_rows());
  }
}

TEST(IsolationForestTest, FittedForestMatchesSklearnAuc) {
  const uint64_t seeds[] = {0, 1, 2, 3, 4};
  for (const char* name : kDatasets) {
    SCOPED_TRACE(name);
    const Dataset data = load_dataset(name);
    double sum = 0;
    std::string per_seed;
    for (const uint64_t seed : seeds) {
      const auto forest = IsolationForest::fit(data.rows, data.n_features, {100, 256, seed});
      std::vector<double> scores(data.n_rows());
      forest.score_batch(data.rows, scores);
      for (double& s : scores) s = -s;
      const double auc = roc_auc(data.labels, scores);
      sum += auc;
      per_seed += " " + std::to_string(auc);
    }
    const double mean = sum / static_cast<double>(std::size(seeds));
    const double reference = sklearn_auc_mean(name);
    std::printf("[ auc      ] %-20s ours mean %.4f (seeds 0..4:%s), sklearn mean rs0..9 %.4f, diff %+.4f\n", name,
                mean, per_seed.c_str(), reference, mean - reference);
    EXPECT_LE(std::abs(mean - reference), 0.02);
  }
}

TEST(IsolationForestTest, FitIsDeterministicForASeed) {
  const Dataset data = load_dataset("breast_cancer_anom");
  const auto a = IsolationForest::fit(data.rows, data.n_features, {50, 128, 42});
  const auto b = IsolationForest::fit(data.rows, data.n_features, {50, 128, 42});
  const auto c = IsolationForest::fit(data.rows, data.n_features, {50, 128, 43});
  std::vector<double> sa(data.n_rows()), sb(data.n_rows()), sc(data.n_rows());
  a.score_batch(data.rows, sa);
  b.score_batch(data.rows, sb);
  c.score_batch(data.rows, sc);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
  EXPECT_EQ(a.n_nodes(), b.n_nodes());
  EXPECT_EQ(a.max_samples(), 128);
}

TEST(IsolationForestTest, FitShapesTreesAsSpecified) {
  // 4 rows: max_samples caps at the row count; every leaf holds one row or
  // sits at depth ceil(log2(4)) = 2, and identical rows make a leaf.
  const std::vector<float> rows = {0, 0, 1, 1, 2, 2, 3, 3};
  const auto forest = IsolationForest::fit(rows, 2, {10, 256, 7});
  EXPECT_EQ(forest.max_samples(), 4);
  EXPECT_EQ(forest.n_trees(), 10u);
  const std::vector<float> same = {5, 5, 5, 5, 5, 5};
  const auto constant = IsolationForest::fit(same, 2, {3, 256, 7});
  EXPECT_EQ(constant.n_nodes(), 3u);  // one leaf per tree: nothing to split on
  // Every row lands in a 3-sample root leaf (h = 1 + c(3) - 1 = c(3)) and
  // max_samples is 3, so the normalised depth is 1 and the score -2^-1.
  EXPECT_NEAR(constant.score(std::span<const float>(same).first(2)), -0.5, 1e-12);
  EXPECT_THROW(IsolationForest::fit(rows, 3, {}), std::invalid_argument);
  EXPECT_THROW(IsolationForest::fit({}, 2, {}), std::invalid_argument);
  EXPECT_THROW(IsolationForest::fit(rows, 2, {0, 256, 0}), std::invalid_argument);
}

TEST(IsolationForestTest, OutlierScoresLowerThanInliers) {
  std::vector<float> rows;
  for (int i = 0; i < 500; ++i) {
    rows.push_back(static_cast<float>(i % 25) * 0.01f);
    rows.push_back(static_cast<float>(i / 25) * 0.01f);
  }
  const auto forest = IsolationForest::fit(rows, 2, {100, 256, 3});
  const std::vector<float> inlier = {0.12f, 0.1f};
  const std::vector<float> outlier = {5.0f, -5.0f};
  EXPECT_LT(forest.score(outlier), forest.score(inlier));
  EXPECT_LT(forest.score(outlier), -0.5);
  EXPECT_GT(IsolationForest::confidence(forest.score(outlier)), 0.5);
  const std::vector<float> short_row = {0.1f};
  EXPECT_TRUE(std::isnan(forest.score(short_row)));
}

TEST(IsolationForestTest, ConfidenceIsMonotoneAndPinnedAtOffset) {
  EXPECT_EQ(IsolationForest::confidence(-0.5), 0.5);
  EXPECT_DOUBLE_EQ(IsolationForest::confidence(-0.6), 0.7);
  EXPECT_EQ(IsolationForest::confidence(-0.75), 1.0);
  EXPECT_EQ(IsolationForest::confidence(-1.0), 1.0);
  EXPECT_EQ(IsolationForest::confidence(-0.25), 0.0);
  EXPECT_EQ(IsolationForest::confidence(0.0), 0.0);
  double previous = 2.0;
  for (double s = -1.0; s <= 0.0; s += 0.01) {
    const double c = IsolationForest::confidence(s);
    EXPECT_LE(c, previous);
    previous = c;
  }
}

struct MalformedCase {
  std::string json;
  const char* field;  // expected Error::field
};

TEST(IsolationForestTest, MalformedJsonNamesThePlace) {
  const std::string good_tree =
      R"({"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
      R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]})";
  // The well-formed base parses and scores.
  const auto good = IsolationForest::from_sklearn_json(R"({"max_samples_":4,"trees":[)" + good_tree + "]}");
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->n_features(), 2u);
  const std::vector<float> row = {0, 0};
  EXPECT_EQ(good->score(row), -std::pow(2.0, -(1.0 + 1.0 + 1.0 - 1.0) / IsolationForest::average_path_length(4)));

  const MalformedCase cases[] = {
      {"{not json", "json"},
      {"[]", "json"},
      {R"({"trees":[]})", "max_samples_"},
      {R"({"max_samples_":4})", "trees"},
      {R"({"max_samples_":4,"trees":[]})", "trees"},
      {R"({"max_samples_":-1,"trees":[1]})", "max_samples_"},
      {R"({"max_samples_":4,"trees":[5]})", "trees[0]"},
      {R"({"max_samples_":4,"trees":[)" + good_tree + "," +
           R"({"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
           R"("feature":[1,-2,-2],"threshold":[0.5,"x",-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[1].threshold[1]"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0]}]})",
       "trees[0].n_node_samples"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[0].children_right"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[7,-1,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[0].children_right[0]"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[0,-1,-1],"children_right":[2,-1,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[0].children_left[0]"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
       R"("feature":[2,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[0].feature[0]"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,0,2]}]})",
       "trees[0].n_node_samples[1]"},
      {R"({"max_samples_":4,"trees":[{"features_subset":[0,1.5],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
       R"("feature":[1,-2,-2],"threshold":[0.5,-2.0,-2.0],"n_node_samples":[4,2,2]}]})",
       "trees[0].features_subset[1]"},
      // Node 2 reached from both node 0 and node 1.
      {R"({"max_samples_":4,"trees":[{"features_subset":[0],"children_left":[1,2,-1,-1],"children_right":[2,3,-1,-1],)"
       R"("feature":[0,0,-2,-2],"threshold":[0.5,0.2,-2.0,-2.0],"n_node_samples":[4,2,1,1]}]})",
       "trees[0].children_left[2]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto result = IsolationForest::from_sklearn_json(c.json);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().field, c.field) << result.error().to_string();
    EXPECT_FALSE(result.error().reason.empty());
  }
}

TEST(IsolationForestTest, ComparesFloatInputsAgainstFloat64Thresholds) {
  // float(0.1) is 0.100000001490116..., above the float64 0.1: it must go
  // right (a 1-sample leaf), although rounding the threshold to the nearest
  // float would send it left (a 3-sample leaf).
  const auto forest = IsolationForest::from_sklearn_json(
      R"({"max_samples_":4,"trees":[{"features_subset":[0],"children_left":[1,-1,-1],"children_right":[2,-1,-1],)"
      R"("feature":[0,-2,-2],"threshold":[0.1,-2.0,-2.0],"n_node_samples":[4,3,1]}]})");
  ASSERT_TRUE(forest.ok()) << forest.error().to_string();
  const double c4 = IsolationForest::average_path_length(4);
  const double left = -std::pow(2.0, -((2.0 + IsolationForest::average_path_length(3)) - 1.0) / c4);
  const double right = -std::pow(2.0, -((2.0 + 0.0) - 1.0) / c4);
  const std::vector<float> at = {0.1f};
  const std::vector<float> below = {std::nextafter(0.1f, 0.0f)};
  ASSERT_GT(static_cast<double>(at[0]), 0.1);
  EXPECT_EQ(forest->score(at), right);
  EXPECT_EQ(forest->score(below), left);
}

std::vector<float> online_stream(size_t n, uint32_t state) {
  // A fixed linear congruential stream: 2 features, inliers in [0,1)^2.
  std::vector<float> out;
  for (size_t i = 0; i < 2 * n; ++i) {
    state = state * 1664525u + 1013904223u;
    out.push_back(static_cast<float>(state >> 8) / 16777216.0f);
  }
  return out;
}

// A two-feature online forest's options.
OnlineIsolationForest::Options online_options(size_t sample_size, size_t rebuild_every, int n_estimators,
                                              int max_samples, uint64_t seed) {
  OnlineIsolationForest::Options options;
  options.n_features = 2;
  options.sample_size = sample_size;
  options.rebuild_every = rebuild_every;
  options.n_estimators = n_estimators;
  options.max_samples = max_samples;
  options.base_seed = seed;
  return options;
}

TEST(OnlineIsolationForestTest, WarmsUpThenRebuildsEveryK) {
  const OnlineIsolationForest::Options options = online_options(64, 32, 20, 32, 9);
  OnlineIsolationForest online(options);
  const std::vector<float> stream = online_stream(200, 1);
  for (size_t i = 0; i < 200; ++i) {
    const auto result = online.observe(std::span<const float>(stream).subspan(2 * i, 2));
    ASSERT_TRUE(result.ok());
    // Vectors 0..31 are seen before the first build.
    EXPECT_EQ(result->has_value(), i >= 32) << "vector " << i;
    EXPECT_EQ(online.rebuild_count(), (i + 1) / 32) << "vector " << i;
  }
  EXPECT_TRUE(online.ready());
  EXPECT_EQ(online.observed(), 200u);
  // The last build (after vector 192) used seed 9 + 5 on vectors 128..191.
  const auto refit = IsolationForest::fit(std::span<const float>(stream).subspan(2 * 128, 2 * 64), 2, {20, 32, 9 + 5});
  const std::vector<float> probe = {3.0f, -1.0f};
  EXPECT_EQ(online.score(probe), refit.score(probe));
  const std::vector<float> wrong = {1.0f};
  EXPECT_FALSE(online.observe(wrong).ok());
  EXPECT_EQ(online.observed(), 200u);
  EXPECT_THROW(OnlineIsolationForest(OnlineIsolationForest::Options{}), std::invalid_argument);
}

TEST(OnlineIsolationForestTest, SameSeedAndOrderGiveSameScores) {
  const OnlineIsolationForest::Options options = online_options(128, 50, 25, 64, 77);
  const std::vector<float> stream = online_stream(400, 5);
  auto run = [&](uint64_t seed) {
    auto o = options;
    o.base_seed = seed;
    OnlineIsolationForest online(o);
    std::vector<double> scores;
    for (size_t i = 0; i < 400; ++i) {
      const auto r = online.observe(std::span<const float>(stream).subspan(2 * i, 2));
      if (r.ok() && r->has_value()) scores.push_back(**r);
    }
    return scores;
  };
  const auto first = run(77);
  EXPECT_EQ(first.size(), 350u);
  EXPECT_EQ(first, run(77));
  EXPECT_NE(first, run(78));
}


TEST(OnlineIsolationForestTest, BatchObserveMatchesOneByOne) {
  const OnlineIsolationForest::Options options = online_options(64, 24, 15, 32, 11);
  const std::vector<float> stream = online_stream(500, 4);
  OnlineIsolationForest single(options), batched(options);
  std::vector<std::optional<double>> expected;
  for (size_t i = 0; i < 500; ++i) {
    expected.push_back(*single.observe(std::span<const float>(stream).subspan(2 * i, 2)));
  }
  // Batches of 0 to 60 rows: some inside one forest's life, some across
  // one or two rebuilds.
  std::vector<std::optional<double>> got;
  size_t at = 0, size = 0;
  while (at < 500) {
    const size_t n = std::min<size_t>(size % 61, 500 - at);
    std::vector<std::optional<double>> out(n, 42.0);
    ASSERT_TRUE(batched.observe_batch(std::span<const float>(stream).subspan(2 * at, 2 * n), out).ok());
    got.insert(got.end(), out.begin(), out.end());
    at += n;
    size += 17;
  }
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].has_value(), expected[i].has_value()) << "vector " << i;
    if (got[i]) {
      EXPECT_EQ(std::bit_cast<uint64_t>(*got[i]), std::bit_cast<uint64_t>(*expected[i])) << "vector " << i;
    }
  }
  EXPECT_EQ(batched.rebuild_count(), single.rebuild_count());
  ByteWriter a, b;
  single.save(a);
  batched.save(b);
  EXPECT_EQ(a.buffer(), b.buffer());
  // A ragged batch is refused and changes nothing.
  std::vector<std::optional<double>> two(2);
  EXPECT_FALSE(batched.observe_batch(std::span<const float>(stream).first(3), two).ok());
  EXPECT_EQ(batched.observed(), 500u);
}

TEST(IsolationForestTest, ScoreBatchMatchesScoreForEveryBatchSize) {
  const Dataset data = load_dataset("gauss20d");
  const auto forest = IsolationForest::fit(data.rows, data.n_features, {40, 128, 5});
  for (size_t n : {1u, 2u, 15u, 16u, 17u, 63u, 64u, 65u, 100u}) {
    std::vector<double> out(n);
    forest.score_batch(std::span<const float>(data.rows).first(n * data.n_features), out);
    for (size_t r = 0; r < n; ++r) {
      const double one = forest.score(std::span<const float>(data.rows).subspan(r * data.n_features, data.n_features));
      ASSERT_EQ(std::bit_cast<uint64_t>(out[r]), std::bit_cast<uint64_t>(one)) << n << " rows, row " << r;
    }
  }
}

// The trees fit() grows are part of every replay's output (the pipeline's
// online forest refits them): pinned by a digest of the saved forest, taken
// from the builder as it was before its column-major rewrite. A change here
// changes alerts; it must be deliberate.
TEST(IsolationForestTest, FitGrowsThePinnedTrees) {
  const Dataset data = load_dataset("breast_cancer_anom");
  auto digest = [&](const IsolationForest::Options& o) {
    ByteWriter w;
    IsolationForest::fit(data.rows, data.n_features, o).save(w);
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (const char c : w.buffer()) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return h;
  };
  EXPECT_EQ(digest({100, 256, 0}), 13192816156538287105ull);
  EXPECT_EQ(digest({37, 64, 12345}), 8751872497448763296ull);
}

TEST(OnlineIsolationForestTest, CheckpointMidStreamResumesIdentically) {
  const OnlineIsolationForest::Options options = online_options(64, 24, 15, 32, 3);
  const std::vector<float> stream = online_stream(300, 2);
  auto row = [&](size_t i) { return std::span<const float>(stream).subspan(2 * i, 2); };
  OnlineIsolationForest straight(options);
  std::vector<std::optional<double>> expected;
  for (size_t i = 0; i < 300; ++i) expected.push_back(*straight.observe(row(i)));

  // Stop at a point between rebuilds, after the ring has wrapped.
  OnlineIsolationForest first(options);
  for (size_t i = 0; i < 157; ++i) ASSERT_EQ(*first.observe(row(i)), expected[i]);
  ByteWriter w;
  first.save(w);
  const std::string saved = w.take();
  OnlineIsolationForest resumed(options);
  ByteReader r(saved);
  ASSERT_TRUE(resumed.load(r));
  for (size_t i = 157; i < 300; ++i) EXPECT_EQ(*resumed.observe(row(i)), expected[i]) << "vector " << i;

  // Every truncation fails and leaves the forest as it was.
  for (size_t cut = 0; cut < saved.size(); cut += 7) {
    OnlineIsolationForest target(options);
    ByteReader t(std::string_view(saved).substr(0, cut));
    EXPECT_FALSE(target.load(t)) << "cut at " << cut;
    EXPECT_FALSE(target.ready());
  }
  // Another shape is refused.
  auto other = options;
  other.n_features = 3;
  OnlineIsolationForest wrong(other);
  ByteReader again(saved);
  EXPECT_FALSE(wrong.load(again));
  // Flipped bytes either fail or load a forest that scores without crashing.
  for (size_t at = 0; at < saved.size(); at += 5) {
    std::string bad = saved;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    OnlineIsolationForest target(options);
    ByteReader b(bad);
    if (target.load(b)) (void)target.score(row(0));
  }
}

}  // namespace isolation_forest_test
}  // namespace sentinel::detect
