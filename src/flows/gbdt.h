// Native evaluation of gradient-boosted tree ensembles (DESIGN.md section 6,
// the ML engine and `sentinel flows predict`): LightGBM v4 text models and
// XGBoost JSON models (1.x-2.x schema, base_score also in 3.x's "[...]" form),
// with the same numbers as the library that trained them.
//
// Exactness rules (tests/data/ml/README.md has the reference outputs):
//  - XGBoost: inputs are rounded to float32; a split goes left iff
//    float(x) < threshold (strict, float32); NaN takes the node's default
//    branch; the margin is accumulated in float32 in tree order starting from
//    the base margin (binary:logistic: -logf(1/base_score - 1) in float32).
//    The sigmoid and softmax are XGBoost 1.7's float32 formulas.
//  - LightGBM: inputs stay double and |x| <= 1e-35f counts as 0 (LightGBM's
//    input parsers drop such values); left iff x <= threshold (double); NaN
//    and zero follow each node's missing_type and default_left bits; a
//    categorical split goes left iff int(x) is in its bitset (NaN, negative
//    and unseen categories go right). The raw score is the double sum of
//    the leaf values in tree order; sigmoid and softmax in double.
//  - Whatever a model uses that these rules do not cover (another objective,
//    linear trees, XGBoost categorical splits, dart, unknown decision_type
//    bits, ...) is refused by name at load time, never evaluated wrongly.
//
// Lifecycle and threading: a TreeModel is loaded once and is then immutable;
// every const method may be called from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::flows {

/// A model file that cannot be loaded: "<file>: <where>: <reason>", e.g.
/// "model.txt: line 80: Tree=3 threshold: bad number 'x1.5'" or
/// "model.json: learner.objective.name: unsupported objective 'rank:pairwise'".
/// A start-up error.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A loaded tree ensemble. Move-only (the trees can be large).
class TreeModel {
 public:
  enum class Kind { binary, multiclass, regression };
  enum class Format { lightgbm, xgboost };

  /// Loads a LightGBM text model (first line "tree") or an XGBoost JSON model
  /// (a JSON object), detected from the content. Throws ModelError.
  static TreeModel load(const std::string& path);
  /// The same from text in memory; `name` stands for the file in errors.
  static TreeModel parse(std::string_view text, const std::string& name);

  TreeModel(TreeModel&&) noexcept;
  TreeModel& operator=(TreeModel&&) noexcept;
  ~TreeModel();

  Kind kind() const;
  Format format() const;
  /// Number of input features a row must have (the model's max feature index + 1).
  size_t num_features() const;
  /// One name per feature, in row order (XGBoost models saved without names
  /// get "f0", "f1", ... as XGBoost itself does).
  const std::vector<std::string>& feature_names() const;
  /// 1, or the number of classes of a multiclass model.
  size_t num_outputs() const;
  size_t num_trees() const;
  /// True when the library computes in float32 (XGBoost): the raw and
  /// transformed values are then float32 values widened to double.
  bool float32_outputs() const;
  /// The objective as the model file names it ("binary:logistic", "multiclass").
  const std::string& objective() const;

  /// Raw score(s) of one row of num_features() doubles (NaN = missing):
  /// num_outputs() values, the library's margin / raw_score.
  void predict_raw(const double* row, double* raw_out) const;
  /// The library's output transform of num_outputs() raw scores: sigmoid
  /// (binary), softmax (multiclass), identity or exp (regression family).
  /// `raw` and `out` may be the same array.
  void transform(const double* raw, double* out) const;
  /// predict_raw for `n_rows` rows, row i at rows + i * row_stride (stride in
  /// doubles, >= num_features()); writes n_rows * num_outputs() values, row
  /// by row. Same bits as predict_raw per row, evaluated over blocks of rows
  /// tree by tree for cache locality and independent walks.
  void predict_raw_batch(const double* rows, size_t n_rows, size_t row_stride, double* raw_out) const;
  /// The leaf reached in each tree, num_trees() values in model tree order,
  /// numbered as the library's pred_leaf output: LightGBM the leaf index
  /// (0..num_leaves-1), XGBoost the node id in the JSON arrays.
  void predict_leaf(const double* row, int32_t* leaf_out) const;

  /// Saabas path attribution for the first output (cold path, for evidence):
  /// along each tree's path, the change of the node mean (the hessian-
  /// weighted mean of the leaf values below a node) is credited to the
  /// split's feature. Returns (feature index, summed contribution) for every
  /// feature that received any, by feature index. contribution_bias() plus
  /// the sum of the values equals predict_raw's first output (up to rounding).
  std::vector<std::pair<size_t, double>> contributions(const double* row) const;
  /// The part of the first raw output that no feature explains: the base
  /// margin plus every tree's root mean.
  double contribution_bias() const;

  // ---- The neutral form the loaders produce and from_spec() compiles ----
  // (also lets tests and tools build a small model in code).

  enum class Transform { identity, sigmoid, softmax, exp };
  /// How a numerical split treats missing values (LightGBM's missing_type;
  /// XGBoost splits are all `nan`: NaN takes the default branch).
  enum class Missing : uint8_t { none, zero, nan };

  struct SpecNode {
    int32_t left = -1;   ///< index of the left child in SpecTree::nodes; -1 on a leaf
    int32_t right = -1;  ///< index of the right child; -1 on a leaf
    uint32_t feature = 0;
    double threshold = 0;  ///< split threshold (XGBoost: a float32 value)
    double value = 0;      ///< a leaf's value
    double weight = 0;     ///< a leaf's hessian sum, for node means (0 = unknown)
    Missing missing = Missing::nan;
    bool default_left = false;
    /// LightGBM categorical split: category c goes left iff bit c of
    /// `categories` (32 per word) is set.
    bool categorical = false;
    std::vector<uint32_t> categories;
    int32_t leaf_id = -1;  ///< the library's number of this leaf (predict_leaf)
  };
  struct SpecTree {
    std::vector<SpecNode> nodes;  ///< nodes[0] is the root
    uint32_t output = 0;          ///< the class (raw output) the tree adds to
  };
  struct Spec {
    Format format = Format::lightgbm;  ///< selects the decision and accumulation rules
    Kind kind = Kind::binary;
    std::string objective;
    Transform transform = Transform::identity;
    double sigmoid_scale = 1;  ///< LightGBM `sigmoid:` parameter
    std::vector<std::string> feature_names;
    size_t num_outputs = 1;
    double base_margin = 0;  ///< added before the first tree (XGBoost; a float32 value)
    std::vector<SpecTree> trees;
  };
  /// Checks and compiles a spec (every child index, feature index and
  /// output in range, each node reached once). Throws ModelError naming
  /// `name` and the tree/node.
  static TreeModel from_spec(Spec spec, const std::string& name);

  struct Impl;  ///< the compiled form, defined in gbdt.cpp

 private:
  explicit TreeModel(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

/// The LightGBM text loader (gbdt_lightgbm.cpp). Throws ModelError.
TreeModel::Spec parse_lightgbm_model(std::string_view text, const std::string& name);
/// The XGBoost JSON loader (gbdt_xgboost.cpp). Throws ModelError.
TreeModel::Spec parse_xgboost_model(std::string_view text, const std::string& name);

}  // namespace sentinel::flows
