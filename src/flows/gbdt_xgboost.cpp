// The XGBoost JSON model loader (Booster.save_model("model.json"), schema of
// XGBoost 1.x-2.x). Cold path, so nlohmann/json; its number type is set to
// float so that every value is read straight from the decimal to float32 by
// strtof, as XGBoost's own reader does (decimal -> double -> float could round
// twice).
//
// Refused by name: objectives other than binary:logistic, reg:logistic,
// multi:softprob and the identity regressions; dart and gblinear boosters;
// categorical splits; vector leaves (multi-target trees).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "flows/gbdt.h"

namespace sentinel::flows {

namespace {

using Json = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

class Loader {
 public:
  explicit Loader(const std::string& name) : name_(name) {}

  [[noreturn]] void fail(const std::string& path, const std::string& reason) const {
    throw ModelError(fmt::format("{}: {}: {}", name_, path, reason));
  }

  const Json& member(const Json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(path, "not an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(path, fmt::format("missing '{}'", key));
    return *it;
  }

  std::string string(const Json& v, const std::string& path) const {
    if (!v.is_string()) fail(path, "not a string");
    return v.get<std::string>();
  }

  /// XGBoost writes most parameters as strings ("num_class": "4").
  int64_t int_param(const Json& v, const std::string& path) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    const std::string s = string(v, path);
    int64_t out = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || ptr != s.data() + s.size()) fail(path, fmt::format("bad integer '{}'", s));
    return out;
  }

  std::vector<int64_t> ints(const Json& v, const std::string& path, size_t expected) const {
    if (!v.is_array()) fail(path, "not an array");
    if (v.size() != expected) fail(path, fmt::format("{} values, expected {}", v.size(), expected));
    std::vector<int64_t> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const Json& e = v[i];
      if (e.is_boolean()) {
        out.push_back(e.get<bool>() ? 1 : 0);
      } else if (e.is_number_integer()) {
        out.push_back(e.get<int64_t>());
      } else {
        fail(fmt::format("{}[{}]", path, i), "not an integer");
      }
    }
    return out;
  }

  std::vector<float> floats(const Json& v, const std::string& path, size_t expected) const {
    if (!v.is_array()) fail(path, "not an array");
    if (v.size() != expected) fail(path, fmt::format("{} values, expected {}", v.size(), expected));
    std::vector<float> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const Json& e = v[i];
      if (e.is_number_float()) {
        out.push_back(e.get<float>());
      } else if (e.is_number_integer()) {
        out.push_back(static_cast<float>(e.get<int64_t>()));
      } else {
        fail(fmt::format("{}[{}]", path, i), "not a number");
      }
    }
    return out;
  }

  /// base_score: "3E-1" (1.x) or "[3E-1]" (3.x, one value per target).
  float base_score(const Json& v, const std::string& path) const {
    std::string s = string(v, path);
    std::string_view text = s;
    if (text.starts_with("[") && text.ends_with("]")) {
      text = text.substr(1, text.size() - 2);
      if (text.find(',') != std::string_view::npos) fail(path, fmt::format("several base scores '{}'", s));
    }
    float out = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(out)) {
      fail(path, fmt::format("bad number '{}'", s));
    }
    return out;
  }

 private:
  const std::string& name_;
};

TreeModel::SpecTree load_tree(const Loader& L, const Json& t, const std::string& path, size_t num_features) {
  const Json& param = L.member(t, path, "tree_param");
  const int64_t num_nodes = L.int_param(L.member(param, path + ".tree_param", "num_nodes"), path + ".tree_param.num_nodes");
  if (num_nodes < 1 || num_nodes > (int64_t{1} << 28)) L.fail(path + ".tree_param.num_nodes", "bad node count");
  if (const auto it = param.find("size_leaf_vector"); it != param.end()) {
    const int64_t leaf_vector = L.int_param(*it, path + ".tree_param.size_leaf_vector");
    if (leaf_vector > 1) L.fail(path + ".tree_param.size_leaf_vector", "vector leaves (multi-target trees) are not supported");
  }
  const size_t n = static_cast<size_t>(num_nodes);
  const auto field = [&](const char* key) -> const Json& { return L.member(t, path, key); };
  const auto sub = [&](const char* key) { return fmt::format("{}.{}", path, key); };
  const std::vector<int64_t> left = L.ints(field("left_children"), sub("left_children"), n);
  const std::vector<int64_t> right = L.ints(field("right_children"), sub("right_children"), n);
  const std::vector<int64_t> index = L.ints(field("split_indices"), sub("split_indices"), n);
  const std::vector<int64_t> default_left = L.ints(field("default_left"), sub("default_left"), n);
  const std::vector<float> condition = L.floats(field("split_conditions"), sub("split_conditions"), n);
  std::vector<float> hessian(n, 0.0f);
  if (t.contains("sum_hessian")) hessian = L.floats(field("sum_hessian"), sub("sum_hessian"), n);
  if (t.contains("split_type")) {
    const std::vector<int64_t> split_type = L.ints(field("split_type"), sub("split_type"), n);
    for (size_t i = 0; i < n; ++i) {
      if (split_type[i] != 0 && left[i] != -1) {
        L.fail(fmt::format("{}[{}]", sub("split_type"), i), "categorical splits are not supported");
      }
    }
  }
  if (t.contains("categories_nodes") && !field("categories_nodes").empty()) {
    L.fail(sub("categories_nodes"), "categorical splits are not supported");
  }

  TreeModel::SpecTree tree;
  tree.nodes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    TreeModel::SpecNode& node = tree.nodes[i];
    const std::string at = fmt::format("{} node {}", path, i);
    if (left[i] == -1) {
      if (right[i] != -1) L.fail(at, "a leaf with a right child");
      node.value = static_cast<double>(condition[i]);
      node.weight = static_cast<double>(hessian[i]);
      node.leaf_id = static_cast<int32_t>(i);
      continue;
    }
    for (int64_t c : {left[i], right[i]}) {
      if (c <= 0 || static_cast<uint64_t>(c) >= n) L.fail(at, fmt::format("child {} out of range", c));
    }
    if (index[i] < 0 || static_cast<uint64_t>(index[i]) >= num_features) {
      L.fail(at, fmt::format("feature {} out of range (num_feature={})", index[i], num_features));
    }
    node.left = static_cast<int32_t>(left[i]);
    node.right = static_cast<int32_t>(right[i]);
    node.feature = static_cast<uint32_t>(index[i]);
    node.threshold = static_cast<double>(condition[i]);
    node.missing = TreeModel::Missing::nan;
    node.default_left = default_left[i] != 0;
  }
  return tree;
}

}  // namespace

TreeModel::Spec parse_xgboost_model(std::string_view text, const std::string& name) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({}); UBJSON models are not supported, save as .json", name,
                                 e.what()));
  }
  const Loader L(name);
  if (const auto v = doc.find("version"); v != doc.end() && v->is_array() && !v->empty() && (*v)[0].is_number()) {
    const auto major = (*v)[0].get<int64_t>();
    if (major < 1 || major > 3) L.fail("version", fmt::format("unsupported XGBoost version {}", major));
  }
  const Json& learner = L.member(doc, "(root)", "learner");
  const Json& objective_obj = L.member(learner, "learner", "objective");
  const std::string objective = L.string(L.member(objective_obj, "learner.objective", "name"), "learner.objective.name");
  const Json& model_param = L.member(learner, "learner", "learner_model_param");
  const std::string mp = "learner.learner_model_param";
  const float base_score = L.base_score(L.member(model_param, mp, "base_score"), mp + ".base_score");
  const int64_t num_class = L.int_param(L.member(model_param, mp, "num_class"), mp + ".num_class");
  const int64_t num_feature = L.int_param(L.member(model_param, mp, "num_feature"), mp + ".num_feature");
  if (const auto it = model_param.find("num_target"); it != model_param.end()) {
    if (L.int_param(*it, mp + ".num_target") > 1) L.fail(mp + ".num_target", "multi-target models are not supported");
  }
  if (num_feature < 1 || num_feature >= (int64_t{1} << 27)) L.fail(mp + ".num_feature", "bad feature count");
  if (num_class < 0 || num_class > 1'000'000) L.fail(mp + ".num_class", "bad class count");

  TreeModel::Spec spec;
  spec.format = TreeModel::Format::xgboost;
  spec.objective = objective;
  if (objective == "binary:logistic" || objective == "reg:logistic") {
    spec.kind = objective == "binary:logistic" ? TreeModel::Kind::binary : TreeModel::Kind::regression;
    spec.transform = TreeModel::Transform::sigmoid;
    if (!(base_score > 0.0f && base_score < 1.0f)) {
      L.fail(mp + ".base_score", fmt::format("{} must be in (0,1) for a logistic objective", base_score));
    }
    // RegLossObj::ProbToMargin for the logistic loss, in float32 as XGBoost does.
    spec.base_margin = static_cast<double>(-std::log(1.0f / base_score - 1.0f));
  } else if (objective == "multi:softprob") {
    spec.kind = TreeModel::Kind::multiclass;
    spec.transform = TreeModel::Transform::softmax;
    spec.base_margin = static_cast<double>(base_score);
    if (num_class < 2) L.fail(mp + ".num_class", fmt::format("{} classes for multi:softprob", num_class));
  } else if (objective == "reg:squarederror" || objective == "reg:linear" || objective == "reg:pseudohubererror" ||
             objective == "reg:absoluteerror") {
    spec.kind = TreeModel::Kind::regression;
    spec.transform = TreeModel::Transform::identity;
    spec.base_margin = static_cast<double>(base_score);
  } else {
    L.fail("learner.objective.name",
           fmt::format("unsupported objective '{}' (supported: binary:logistic, reg:logistic, multi:softprob, "
                       "reg:squarederror, reg:pseudohubererror, reg:absoluteerror)",
                       objective));
  }
  spec.num_outputs = spec.kind == TreeModel::Kind::multiclass ? static_cast<size_t>(num_class) : 1;

  const Json& booster = L.member(learner, "learner", "gradient_booster");
  const std::string booster_name = L.string(L.member(booster, "learner.gradient_booster", "name"),
                                            "learner.gradient_booster.name");
  if (booster_name != "gbtree") {
    L.fail("learner.gradient_booster.name", fmt::format("booster '{}' is not supported (only gbtree)", booster_name));
  }
  const std::string gp = "learner.gradient_booster.model";
  const Json& model = L.member(booster, "learner.gradient_booster", "model");
  const Json& trees = L.member(model, gp, "trees");
  if (!trees.is_array()) L.fail(gp + ".trees", "not an array");
  const int64_t declared = L.int_param(
      L.member(L.member(model, gp, "gbtree_model_param"), gp + ".gbtree_model_param", "num_trees"),
      gp + ".gbtree_model_param.num_trees");
  if (declared < 0 || static_cast<uint64_t>(declared) != trees.size()) {
    L.fail(gp + ".trees", fmt::format("{} trees but gbtree_model_param.num_trees is {}", trees.size(), declared));
  }
  const std::vector<int64_t> tree_info = L.ints(L.member(model, gp, "tree_info"), gp + ".tree_info", trees.size());

  const size_t n_features = static_cast<size_t>(num_feature);
  spec.feature_names.reserve(n_features);
  if (const auto names = learner.find("feature_names"); names != learner.end() && names->is_array() && !names->empty()) {
    if (names->size() != n_features) {
      L.fail("learner.feature_names", fmt::format("{} names for num_feature={}", names->size(), n_features));
    }
    for (size_t i = 0; i < names->size(); ++i) {
      spec.feature_names.push_back(L.string((*names)[i], fmt::format("learner.feature_names[{}]", i)));
    }
  } else {
    for (size_t i = 0; i < n_features; ++i) spec.feature_names.push_back(fmt::format("f{}", i));
  }

  spec.trees.reserve(trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    const std::string path = fmt::format("{}.trees[{}]", gp, t);
    TreeModel::SpecTree tree = load_tree(L, trees[t], path, n_features);
    if (tree_info[t] < 0 || static_cast<uint64_t>(tree_info[t]) >= spec.num_outputs) {
      L.fail(fmt::format("{}.tree_info[{}]", gp, t), fmt::format("class {} of {}", tree_info[t], spec.num_outputs));
    }
    tree.output = static_cast<uint32_t>(tree_info[t]);
    spec.trees.push_back(std::move(tree));
  }
  return spec;
}

}  // namespace sentinel::flows
