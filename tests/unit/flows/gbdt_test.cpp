// TreeModel against the outputs of the real libraries (tests/data/ml/README.md):
// every reference model, all 1000 rows, raw scores and transformed outputs,
// leaf indices, the batch path, and the refusal of malformed or unsupported
// model files by name.
#include "flows/gbdt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sentinel::flows {
namespace gbdt_test {

using ::testing::HasSubstr;

const std::string kDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/ml/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};

/// A numeric CSV; empty and "nan" fields are NaN. strtod rounds correctly.
Table read_csv(const std::string& path) {
  Table t;
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);
  std::string field;
  std::istringstream h(line);
  while (std::getline(h, field, ',')) t.header.push_back(field);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      const std::string f = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      row.push_back(f.empty() || f == "nan" ? std::nan("") : std::strtod(f.c_str(), nullptr));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

/// The rows of input.csv in the model's feature order (matched by name).
std::vector<double> model_rows(const TreeModel& model, const Table& input) {
  std::vector<size_t> column;
  for (const std::string& name : model.feature_names()) {
    size_t c = 0;
    while (c < input.header.size() && input.header[c] != name) ++c;
    EXPECT_LT(c, input.header.size()) << name;
    column.push_back(c);
  }
  std::vector<double> rows;
  for (const auto& r : input.rows) {
    for (size_t c : column) rows.push_back(r[c]);
  }
  return rows;
}

struct Case {
  std::string dir;
  TreeModel::Format format;
  TreeModel::Kind kind;
  size_t outputs;
  size_t features;
  size_t trees;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"lightgbm/binary", TreeModel::Format::lightgbm, TreeModel::Kind::binary, 1, 28, 100},
      {"lightgbm/multiclass", TreeModel::Format::lightgbm, TreeModel::Kind::multiclass, 5, 28, 500},
      {"lightgbm/missing_categorical", TreeModel::Format::lightgbm, TreeModel::Kind::binary, 1, 8, 100},
      {"lightgbm/regression", TreeModel::Format::lightgbm, TreeModel::Kind::regression, 1, 10, 100},
      {"xgboost/binary_logistic", TreeModel::Format::xgboost, TreeModel::Kind::binary, 1, 20, 100},
      {"xgboost/multi_softprob", TreeModel::Format::xgboost, TreeModel::Kind::multiclass, 4, 20, 400},
  };
  return kCases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.dir; }

std::string model_path(const Case& c) {
  return kDir + c.dir + (c.format == TreeModel::Format::xgboost ? "/model.json" : "/model.txt");
}

class ReferenceModel : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceModel, MatchesLibraryOutputsOnEveryRow) {
  const Case& c = GetParam();
  const TreeModel model = TreeModel::load(model_path(c));
  EXPECT_EQ(model.format(), c.format);
  EXPECT_EQ(model.kind(), c.kind);
  ASSERT_EQ(model.num_outputs(), c.outputs);
  ASSERT_EQ(model.num_features(), c.features);
  EXPECT_EQ(model.num_trees(), c.trees);

  const Table input = read_csv(kDir + c.dir + "/input.csv");
  const Table expected = read_csv(kDir + c.dir + "/predictions.csv");
  ASSERT_EQ(input.rows.size(), 1000u);
  ASSERT_EQ(expected.rows.size(), 1000u);
  ASSERT_EQ(expected.header.size(), 1 + 2 * c.outputs);
  const std::vector<double> rows = model_rows(model, input);
  const size_t f = c.features;
  const size_t k = c.outputs;

  std::vector<double> raw(k);
  std::vector<double> out(k);
  double max_raw_diff = 0;
  double max_out_diff = 0;
  size_t raw_exact = 0;
  size_t out_exact = 0;
  for (size_t r = 0; r < 1000; ++r) {
    model.predict_raw(rows.data() + r * f, raw.data());
    model.transform(raw.data(), out.data());
    for (size_t i = 0; i < k; ++i) {
      const double want_raw = expected.rows[r][1 + i];
      const double want_out = expected.rows[r][1 + k + i];
      max_raw_diff = std::max(max_raw_diff, std::fabs(raw[i] - want_raw));
      max_out_diff = std::max(max_out_diff, std::fabs(out[i] - want_out));
      raw_exact += raw[i] == want_raw;
      out_exact += out[i] == want_out;
      EXPECT_EQ(raw[i], want_raw) << c.dir << " row " << r << " output " << i;
      EXPECT_EQ(out[i], want_out) << c.dir << " row " << r << " output " << i;
    }
  }
  EXPECT_LE(max_raw_diff, 1e-6);
  EXPECT_LE(max_out_diff, 1e-6);
  EXPECT_EQ(raw_exact, 1000 * k);
  EXPECT_EQ(out_exact, 1000 * k);
}

TEST_P(ReferenceModel, BatchGivesTheSameBitsAsSingleRows) {
  const Case& c = GetParam();
  const TreeModel model = TreeModel::load(model_path(c));
  const Table input = read_csv(kDir + c.dir + "/input.csv");
  const std::vector<double> rows = model_rows(model, input);
  const size_t f = c.features;
  const size_t k = c.outputs;
  // A wider stride (3 padding values per row) and an odd row count check
  // the stride and the short last block.
  const size_t stride = f + 3;
  const size_t n = 997;
  std::vector<double> strided(n * stride, -12345.0);
  for (size_t r = 0; r < n; ++r) std::copy_n(rows.data() + r * f, f, strided.data() + r * stride);
  std::vector<double> batch(n * k);
  model.predict_raw_batch(strided.data(), n, stride, batch.data());
  std::vector<double> single(k);
  for (size_t r = 0; r < n; ++r) {
    model.predict_raw(rows.data() + r * f, single.data());
    for (size_t i = 0; i < k; ++i) ASSERT_EQ(batch[r * k + i], single[i]) << c.dir << " row " << r;
  }
}

TEST_P(ReferenceModel, ContributionsAddUpToTheRawScore) {
  const Case& c = GetParam();
  const TreeModel model = TreeModel::load(model_path(c));
  const Table input = read_csv(kDir + c.dir + "/input.csv");
  const std::vector<double> rows = model_rows(model, input);
  std::vector<double> raw(c.outputs);
  for (size_t r = 0; r < 1000; r += 37) {
    const double* row = rows.data() + r * c.features;
    model.predict_raw(row, raw.data());
    const auto contributions = model.contributions(row);
    double sum = model.contribution_bias();
    size_t last = 0;
    for (size_t i = 0; i < contributions.size(); ++i) {
      if (i > 0) {
        EXPECT_GT(contributions[i].first, last);
      }
      last = contributions[i].first;
      EXPECT_LT(contributions[i].first, c.features);
      sum += contributions[i].second;
    }
    EXPECT_FALSE(contributions.empty());
    if (c.kind == TreeModel::Kind::multiclass) continue;  // output 0 only; others add their own trees
    EXPECT_NEAR(sum, raw[0], 1e-4 + 1e-9 * std::fabs(raw[0])) << c.dir << " row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ReferenceModel, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.dir;
                           for (char& ch : name) {
                             if (ch == '/') ch = '_';
                           }
                           return name;
                         });

void expect_leaves(const std::string& dir, const std::string& model_file) {
  const TreeModel model = TreeModel::load(kDir + dir + model_file);
  const Table input = read_csv(kDir + dir + "/input.csv");
  const Table expected = read_csv(kDir + dir + "/leaf_index.csv");
  ASSERT_EQ(expected.header.size(), 1 + model.num_trees());
  const std::vector<double> rows = model_rows(model, input);
  std::vector<int32_t> leaves(model.num_trees());
  size_t mismatches = 0;
  for (size_t r = 0; r < expected.rows.size(); ++r) {
    model.predict_leaf(rows.data() + r * model.num_features(), leaves.data());
    for (size_t t = 0; t < leaves.size(); ++t) {
      mismatches += leaves[t] != static_cast<int32_t>(expected.rows[r][1 + t]);
    }
  }
  EXPECT_EQ(expected.rows.size(), 1000u);
  EXPECT_EQ(mismatches, 0u) << dir;
}

TEST(TreeModelLeaves, LightGbmCategoricalAndMissingMatchLeafIndex) {
  expect_leaves("lightgbm/missing_categorical", "/model.txt");
}

TEST(TreeModelLeaves, XgboostMatchesPredLeaf) { expect_leaves("xgboost/binary_logistic", "/model.json"); }

TEST(TreeModel, FeatureNamesAndObjective) {
  const TreeModel lgb = TreeModel::load(kDir + "lightgbm/missing_categorical/model.txt");
  EXPECT_THAT(lgb.feature_names(),
              ::testing::ElementsAre("num0", "num1", "num2", "num3", "num4", "num5", "num6", "cat0"));
  EXPECT_EQ(lgb.objective(), "binary sigmoid:1");
  EXPECT_FALSE(lgb.float32_outputs());
  const TreeModel xgb = TreeModel::load(kDir + "xgboost/binary_logistic/model.json");
  EXPECT_EQ(xgb.feature_names().front(), "f0");
  EXPECT_EQ(xgb.feature_names().back(), "f19");
  EXPECT_EQ(xgb.objective(), "binary:logistic");
  EXPECT_TRUE(xgb.float32_outputs());
}

// ---- malformed and unsupported models ------------------------------------------

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string lgb_text() { return read_file(kDir + "lightgbm/missing_categorical/model.txt"); }

size_t line_of(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(at), '\n')) + 1;
}

std::string load_error(const std::string& text, const std::string& name = "m.txt") {
  try {
    TreeModel::parse(text, name);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(TreeModelErrors, TruncatedLightGbmFile) {
  const std::string text = lgb_text();
  const std::string cut = text.substr(0, text.find("Tree=57") + 200);
  EXPECT_THAT(load_error(cut), HasSubstr("m.txt: line"));
  EXPECT_THAT(load_error(cut), HasSubstr("truncated: the file ends inside Tree=57"));
  // Cut inside the header: no trees at all.
  EXPECT_THAT(load_error(text.substr(0, 200)), HasSubstr("truncated"));
}

TEST(TreeModelErrors, WrongTreeCount) {
  const std::string text = lgb_text();
  // Tree=5 removed: Tree=6 follows Tree=4.
  const size_t from = text.find("Tree=5\n");
  const size_t to = text.find("Tree=6\n");
  const std::string missing_tree = text.substr(0, from) + text.substr(to);
  EXPECT_THAT(load_error(missing_tree), HasSubstr("'Tree=6' where Tree=5 was expected"));
  // The last tree removed: tree_sizes lists one more.
  const size_t last = text.find("Tree=99\n");
  const size_t end = text.find("end of trees");
  const std::string short_file = text.substr(0, last) + text.substr(end);
  EXPECT_THAT(load_error(short_file), HasSubstr("tree_sizes lists 100 trees but the file has 99"));
}

TEST(TreeModelErrors, BadNumberNamesLineTreeAndKey) {
  const std::string text = lgb_text();
  const size_t tree3 = text.find("Tree=3\n");
  const size_t at = text.find("threshold=", tree3);
  std::string bad = text;
  const size_t value = at + std::string("threshold=").size();
  bad.replace(value, text.find(' ', value) - value, "x1.5");  // the first threshold of Tree=3
  const size_t line = line_of(bad, "threshold=x1.5");
  EXPECT_THAT(load_error(bad), HasSubstr("m.txt: line " + std::to_string(line) + ": Tree=3 threshold: bad number 'x1.5'"));

  std::string bad_leaves = replace_once(text, "num_leaves=31", "num_leaves=3x");
  EXPECT_THAT(load_error(bad_leaves), HasSubstr("Tree=0 num_leaves: bad number '3x'"));

  std::string short_array = replace_once(text, "split_feature=0 7 7 6 6 6 6 1 0", "split_feature=0 7 7 6 6 6 6 1");
  EXPECT_THAT(load_error(short_array), HasSubstr("Tree=0 split_feature: 29 values, expected 30"));

  std::string bad_child = replace_once(text, "left_child=1 4 3 9", "left_child=1 4 3 99");
  EXPECT_THAT(load_error(bad_child), HasSubstr("child 99 of node 3 is out of range"));

  std::string cycle = replace_once(text, "left_child=1 4 3 9", "left_child=1 4 3 0");
  EXPECT_THAT(load_error(cycle), HasSubstr("tree 0 node 3: child 0 is out of range"));
}

TEST(TreeModelErrors, UnsupportedLightGbmFeaturesAreRefusedByName) {
  const std::string text = lgb_text();
  EXPECT_THAT(load_error(replace_once(text, "objective=binary sigmoid:1", "objective=lambdarank")),
              HasSubstr("unsupported objective 'lambdarank'"));
  EXPECT_THAT(load_error(replace_once(text, "objective=binary sigmoid:1", "objective=multiclassova num_class:1")),
              HasSubstr("unsupported objective 'multiclassova'"));
  EXPECT_THAT(load_error(replace_once(text, "objective=binary sigmoid:1", "objective=regression sqrt")),
              HasSubstr("'regression sqrt' (reg_sqrt) is not supported"));
  EXPECT_THAT(load_error(replace_once(text, "is_linear=0", "is_linear=1")),
              HasSubstr("Tree=0 is_linear: linear trees (linear_tree=true) are not supported"));
  EXPECT_THAT(load_error(replace_once(text, "decision_type=2 9 9", "decision_type=18 9 9")),
              HasSubstr("unknown decision_type bits 18 at node 0"));
  EXPECT_THAT(load_error(replace_once(text, "decision_type=2 9 9", "decision_type=14 9 9")),
              HasSubstr("unknown decision_type bits 14 at node 0"));
  EXPECT_THAT(load_error(replace_once(text, "feature_names=", "average_output\nfeature_names=")),
              HasSubstr("average_output (random forest boosting) is not supported"));
  EXPECT_THAT(load_error(replace_once(text, "version=v4", "version=v9")), HasSubstr("unsupported model version 'v9'"));
  EXPECT_THAT(load_error(replace_once(text, "objective=binary sigmoid:1\n", "")), HasSubstr("no 'objective=' line"));
  EXPECT_THAT(load_error("hello"), HasSubstr("neither a LightGBM text model"));
}

TEST(TreeModelErrors, MissingFileNamesThePath) {
  try {
    TreeModel::load(kDir + "no/such/model.txt");
    FAIL() << "loaded";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no/such/model.txt: cannot open the model file"));
  }
}

nlohmann::json xgb_json() { return nlohmann::json::parse(read_file(kDir + "xgboost/binary_logistic/model.json")); }

TEST(TreeModelErrors, UnsupportedXgboostFeaturesAreRefusedByName) {
  {
    auto j = xgb_json();
    j["learner"]["gradient_booster"]["model"]["trees"][3]["split_type"][0] = 1;
    EXPECT_THAT(load_error(j.dump(), "m.json"),
                HasSubstr("m.json: learner.gradient_booster.model.trees[3].split_type[0]: categorical splits are not "
                          "supported"));
  }
  {
    auto j = xgb_json();
    j["learner"]["objective"]["name"] = "rank:pairwise";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("unsupported objective 'rank:pairwise'"));
  }
  {
    auto j = xgb_json();
    j["learner"]["objective"]["name"] = "multi:softmax";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("unsupported objective 'multi:softmax'"));
  }
  {
    auto j = xgb_json();
    j["learner"]["gradient_booster"]["name"] = "dart";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("booster 'dart' is not supported"));
  }
  {
    auto j = xgb_json();
    j["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "101";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("100 trees but gbtree_model_param.num_trees is 101"));
  }
  {
    auto j = xgb_json();
    j["learner"]["gradient_booster"]["model"]["trees"][7]["left_children"][0] = 500;
    EXPECT_THAT(load_error(j.dump()), HasSubstr("trees[7] node 0: child 500 out of range"));
  }
  {
    auto j = xgb_json();
    j["learner"]["gradient_booster"]["model"]["trees"][2]["split_conditions"][4] = "abc";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("trees[2].split_conditions[4]: not a number"));
  }
  {
    auto j = xgb_json();
    j["learner"]["learner_model_param"]["base_score"] = "1E0";
    EXPECT_THAT(load_error(j.dump()), HasSubstr("must be in (0,1) for a logistic objective"));
  }
  const std::string text = read_file(kDir + "xgboost/binary_logistic/model.json");
  EXPECT_THAT(load_error(text.substr(0, text.size() / 2), "m.json"), HasSubstr("m.json: not valid JSON"));
}

TEST(TreeModel, XgboostBaseScoreArrayFormGivesTheSameMargins) {
  auto j = xgb_json();
  EXPECT_EQ(j["learner"]["learner_model_param"]["base_score"], "3E-1");
  const TreeModel plain = TreeModel::parse(j.dump(), "plain");
  j["learner"]["learner_model_param"]["base_score"] = "[3E-1]";
  const TreeModel array = TreeModel::parse(j.dump(), "array");
  const Table input = read_csv(kDir + "xgboost/binary_logistic/input.csv");
  const std::vector<double> rows = model_rows(plain, input);
  double a = 0;
  double b = 0;
  for (size_t r = 0; r < 50; ++r) {
    plain.predict_raw(rows.data() + r * 20, &a);
    array.predict_raw(rows.data() + r * 20, &b);
    EXPECT_EQ(a, b);
  }
}

TEST(TreeModel, LightGbmCountObjectivesTransformWithExp) {
  const std::string text = read_file(kDir + "lightgbm/regression/model.txt");
  const TreeModel poisson = TreeModel::parse(replace_once(text, "objective=regression", "objective=poisson"), "p");
  EXPECT_EQ(poisson.kind(), TreeModel::Kind::regression);
  const Table input = read_csv(kDir + "lightgbm/regression/input.csv");
  const std::vector<double> rows = model_rows(poisson, input);
  for (size_t r = 0; r < 20; ++r) {
    double raw = 0;
    double out = 0;
    poisson.predict_raw(rows.data() + r * 10, &raw);
    poisson.transform(&raw, &out);
    EXPECT_EQ(out, std::exp(raw));  // RegressionPoissonLoss::ConvertOutput
  }
}

// ---- semantics on hand-built models ----------------------------------------------

TreeModel::Spec one_split(TreeModel::Format format, double threshold, TreeModel::Missing missing, bool default_left) {
  TreeModel::Spec spec;
  spec.format = format;
  spec.kind = TreeModel::Kind::regression;
  spec.objective = "regression";
  spec.feature_names = {"x"};
  TreeModel::SpecTree tree;
  tree.nodes.resize(3);
  tree.nodes[0].left = 1;
  tree.nodes[0].right = 2;
  tree.nodes[0].threshold = threshold;
  tree.nodes[0].missing = missing;
  tree.nodes[0].default_left = default_left;
  tree.nodes[1].value = -1;
  tree.nodes[1].leaf_id = 0;
  tree.nodes[2].value = 1;
  tree.nodes[2].leaf_id = 1;
  spec.trees.push_back(tree);
  return spec;
}

double eval(const TreeModel& m, double x) {
  double out = 0;
  m.predict_raw(&x, &out);
  return out;
}

TEST(TreeModelSemantics, TieRulesDifferBetweenLibraries) {
  const auto nan = std::nan("");
  const TreeModel lgb = TreeModel::from_spec(one_split(TreeModel::Format::lightgbm, 0.5, TreeModel::Missing::none, false), "t");
  EXPECT_EQ(eval(lgb, 0.5), -1);  // <= goes left
  EXPECT_EQ(eval(lgb, std::nextafter(0.5, 1.0)), 1);
  EXPECT_EQ(eval(lgb, nan), -1);  // missing_type None: NaN is 0.0, 0 <= 0.5
  const TreeModel xgb = TreeModel::from_spec(one_split(TreeModel::Format::xgboost, 0.5, TreeModel::Missing::nan, false), "t");
  EXPECT_EQ(eval(xgb, 0.5), 1);  // strict < goes right on a tie
  EXPECT_EQ(eval(xgb, std::nextafter(0.5f, 0.0f)), -1);
  EXPECT_EQ(eval(xgb, nan), 1);  // default right
  // The input is rounded to float32 first: this double is above 0.5 but rounds to it.
  EXPECT_EQ(eval(xgb, 0.5 + 1e-12), 1);
  EXPECT_EQ(eval(xgb, 0.5 - 1e-12), 1);
}

TEST(TreeModelSemantics, LightGbmZeroAsMissingAndTinyValues) {
  const TreeModel zero_left =
      TreeModel::from_spec(one_split(TreeModel::Format::lightgbm, -2.0, TreeModel::Missing::zero, true), "t");
  EXPECT_EQ(eval(zero_left, 0.0), -1);
  EXPECT_EQ(eval(zero_left, 1e-36), -1);  // |x| <= 1e-35f is zero
  EXPECT_EQ(eval(zero_left, std::nan("")), -1);
  EXPECT_EQ(eval(zero_left, 1e-30), 1);
  EXPECT_EQ(eval(zero_left, -3.0), -1);
  // missing_type NaN: a tiny value counts as 0.0 as LightGBM's parsers make it.
  const TreeModel tiny =
      TreeModel::from_spec(one_split(TreeModel::Format::lightgbm, -1e-38, TreeModel::Missing::nan, true), "t");
  EXPECT_EQ(eval(tiny, -1e-37), 1);  // read as 0.0 > -1e-38
  EXPECT_EQ(eval(tiny, std::nan("")), -1);
}

TEST(TreeModelSemantics, LightGbmCategoricalRouting) {
  TreeModel::Spec spec = one_split(TreeModel::Format::lightgbm, 0, TreeModel::Missing::nan, false);
  spec.trees[0].nodes[0].categorical = true;
  spec.trees[0].nodes[0].categories = {(1u << 3) | (1u << 0), 1u << 1};  // categories 0, 3, 33 go left
  const TreeModel m = TreeModel::from_spec(spec, "t");
  EXPECT_EQ(eval(m, 3.0), -1);
  EXPECT_EQ(eval(m, 3.7), -1);   // truncated to 3
  EXPECT_EQ(eval(m, -0.5), -1);  // truncated to 0
  EXPECT_EQ(eval(m, 33.0), -1);
  EXPECT_EQ(eval(m, 2.0), 1);
  EXPECT_EQ(eval(m, 64.0), 1);   // beyond the bitset
  EXPECT_EQ(eval(m, -1.0), 1);   // negative
  EXPECT_EQ(eval(m, 1e30), 1);   // out of int range
  EXPECT_EQ(eval(m, std::nan("")), 1);
}

TEST(TreeModelSemantics, SpecValidation) {
  TreeModel::Spec spec = one_split(TreeModel::Format::lightgbm, 0, TreeModel::Missing::nan, false);
  spec.trees[0].nodes[0].feature = 1;
  EXPECT_THROW(TreeModel::from_spec(spec, "t"), ModelError);
  spec = one_split(TreeModel::Format::lightgbm, 0, TreeModel::Missing::nan, false);
  spec.trees[0].nodes[0].right = 1;  // both children the same node
  EXPECT_THROW(TreeModel::from_spec(spec, "t"), ModelError);
  spec = one_split(TreeModel::Format::xgboost, 0, TreeModel::Missing::nan, false);
  spec.trees[0].nodes[0].categorical = true;
  EXPECT_THROW(TreeModel::from_spec(spec, "t"), ModelError);
  spec = one_split(TreeModel::Format::lightgbm, 0, TreeModel::Missing::nan, false);
  spec.trees[0].output = 1;
  EXPECT_THROW(TreeModel::from_spec(spec, "t"), ModelError);
}

// ---- randomized check of the compiled encoding against the rules read literally ------

/// The README's decision rules, node by node on the spec (no encoding tricks).
bool reference_left(const TreeModel::Spec& spec, const TreeModel::SpecNode& n, double input) {
  if (spec.format == TreeModel::Format::xgboost) {
    const float x = static_cast<float>(input);
    if (std::isnan(x)) return n.default_left;
    return x < static_cast<float>(n.threshold);
  }
  const float zero = 1e-35f;
  double x = std::fabs(input) <= static_cast<double>(zero) ? 0.0 : input;  // LightGBM's parsers
  if (n.categorical) {
    if (std::isnan(x) || !(x > -2147483649.0 && x < 2147483648.0)) return false;
    const int c = static_cast<int>(x);
    if (c < 0) return false;
    const size_t word = static_cast<size_t>(c) / 32;
    return word < n.categories.size() && ((n.categories[word] >> (c % 32)) & 1u) != 0;
  }
  if (std::isnan(x) && n.missing != TreeModel::Missing::nan) x = 0.0;
  if ((n.missing == TreeModel::Missing::zero && std::fabs(x) <= static_cast<double>(zero)) ||
      (n.missing == TreeModel::Missing::nan && std::isnan(x))) {
    return n.default_left;
  }
  return x <= n.threshold;
}

std::vector<double> reference_raw(const TreeModel::Spec& spec, const double* row) {
  std::vector<float> f(spec.num_outputs, static_cast<float>(spec.base_margin));
  std::vector<double> d(spec.num_outputs, 0.0);
  for (const auto& tree : spec.trees) {
    size_t i = 0;
    while (tree.nodes[i].left >= 0) {
      const auto& n = tree.nodes[i];
      i = static_cast<size_t>(reference_left(spec, n, row[n.feature]) ? n.left : n.right);
    }
    f[tree.output] += static_cast<float>(tree.nodes[i].value);
    d[tree.output] += tree.nodes[i].value;
  }
  std::vector<double> out(spec.num_outputs);
  for (size_t k = 0; k < out.size(); ++k) {
    out[k] = spec.format == TreeModel::Format::xgboost ? static_cast<double>(f[k]) : d[k];
  }
  return out;
}

TEST(TreeModelSemantics, RandomTreesMatchTheLiteralRules) {
  std::mt19937_64 rng(12345);
  const double inf = std::numeric_limits<double>::infinity();
  const double fmax = std::numeric_limits<float>::max();
  const std::vector<double> base_values = {0.0, -0.0, 1.0, -1.0, 0.5, 2.5, 3.0, 3.7, 11.999, 1e-36, -1e-36, 1e-35,
                                           1.0000000180025095e-35, -1.0000000180025095e-35, 1e-30, 1e30, -1e30,
                                           fmax, -fmax, 1e-40, 0.1, 33.0, 1e300, -1e300};
  for (const auto format : {TreeModel::Format::xgboost, TreeModel::Format::lightgbm}) {
    const bool xgb = format == TreeModel::Format::xgboost;
    for (int round = 0; round < 20; ++round) {
      TreeModel::Spec spec;
      spec.format = format;
      spec.kind = round % 2 ? TreeModel::Kind::regression : TreeModel::Kind::multiclass;
      spec.transform = round % 2 ? TreeModel::Transform::identity : TreeModel::Transform::softmax;
      spec.num_outputs = round % 2 ? 1 : 3;
      spec.base_margin = xgb ? 0.25 : 0.0;
      spec.feature_names = {"a", "b", "c", "d", "e"};
      std::vector<double> thresholds;
      for (int i = 0; i < 40; ++i) {
        double t = base_values[rng() % base_values.size()] * ((rng() % 3 == 0) ? 1.0 : 1.5);
        if (!xgb && rng() % 10 == 0) t = rng() % 2 ? inf : -inf;  // LightGBM: the exact path
        if (xgb) t = static_cast<double>(static_cast<float>(t));
        if (xgb && !std::isfinite(t)) t = 0.0;
        thresholds.push_back(t);
      }
      for (int t = 0; t < 12; ++t) {
        TreeModel::SpecTree tree;
        tree.output = static_cast<uint32_t>(t % spec.num_outputs);
        // Grow a random tree of up to 15 splits by splitting random leaves.
        tree.nodes.resize(1);
        tree.nodes[0].value = 0;
        for (int s = 0; s < 15; ++s) {
          std::vector<size_t> leaves;
          for (size_t i = 0; i < tree.nodes.size(); ++i) {
            if (tree.nodes[i].left < 0) leaves.push_back(i);
          }
          auto& n = tree.nodes[leaves[rng() % leaves.size()]];
          n.left = static_cast<int32_t>(tree.nodes.size());
          n.right = n.left + 1;
          n.feature = static_cast<uint32_t>(rng() % 5);
          n.threshold = thresholds[rng() % thresholds.size()];
          n.default_left = rng() % 2 == 0;
          n.missing = xgb ? TreeModel::Missing::nan : static_cast<TreeModel::Missing>(rng() % 3);
          if (!xgb && rng() % 6 == 0) {
            n.categorical = true;
            n.categories = {static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng() % 7)};
          }
          tree.nodes.resize(tree.nodes.size() + 2);
        }
        for (size_t i = 0; i < tree.nodes.size(); ++i) {
          if (tree.nodes[i].left < 0) tree.nodes[i].value = static_cast<double>(static_cast<float>(0.01 * (rng() % 997)));
        }
        spec.trees.push_back(std::move(tree));
      }
      const TreeModel model = TreeModel::from_spec(spec, "random");
      // Inputs: thresholds exactly, their neighbours in float and double, and the specials.
      std::vector<double> pool = base_values;
      for (double t : thresholds) {
        if (!std::isfinite(t)) continue;
        pool.push_back(t);
        pool.push_back(std::nextafter(t, inf));
        pool.push_back(std::nextafter(t, -inf));
        pool.push_back(static_cast<double>(std::nextafter(static_cast<float>(t), static_cast<float>(inf))));
        pool.push_back(static_cast<double>(std::nextafter(static_cast<float>(t), static_cast<float>(-inf))));
      }
      pool.insert(pool.end(), {std::nan(""), inf, -inf});
      const size_t n_rows = 300;
      std::vector<double> rows(n_rows * 5);
      for (double& v : rows) v = pool[rng() % pool.size()];
      std::vector<double> batch(n_rows * spec.num_outputs);
      model.predict_raw_batch(rows.data(), n_rows, 5, batch.data());
      std::vector<double> single(spec.num_outputs);
      for (size_t r = 0; r < n_rows; ++r) {
        const std::vector<double> want = reference_raw(spec, rows.data() + r * 5);
        model.predict_raw(rows.data() + r * 5, single.data());
        for (size_t k = 0; k < spec.num_outputs; ++k) {
          ASSERT_EQ(single[k], want[k]) << (xgb ? "xgboost" : "lightgbm") << " round " << round << " row " << r;
          ASSERT_EQ(batch[r * spec.num_outputs + k], want[k]) << "round " << round << " row " << r;
        }
      }
    }
  }
}

}  // namespace gbdt_test
}  // namespace sentinel::flows
