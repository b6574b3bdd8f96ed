// The LightGBM text model loader (models written by LightGBM v2-v4's
// save_model / the CLI): a header of key=value lines, then `Tree=N` blocks,
// then "end of trees" (feature importances and parameters after it are not
// needed to predict). Numbers are parsed with std::from_chars, which rounds
// correctly, so the 17-digit values LightGBM writes come back bit-exact.
//
// Refused by name (never evaluated wrongly): objectives other than binary,
// multiclass (softmax) and the regression family, `regression sqrt`,
// average_output (random forest mode), linear trees, decision_type bits
// LightGBM does not define. A file cut short is found by the missing
// "end of trees" line and by tree_sizes.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "flows/gbdt.h"

namespace sentinel::flows {

namespace {

struct Field {
  std::string_view key;
  std::string_view value;
  size_t line = 0;
  bool has_value = false;  ///< "key=..." rather than a bare flag line
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  /// Next line without its end-of-line characters; false at the end.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    return true;
  }
  size_t line_no() const { return line_no_; }

  [[noreturn]] void fail(size_t line, const std::string& reason) const {
    throw ModelError(fmt::format("{}: line {}: {}", name_, line, reason));
  }
  [[noreturn]] void fail(const std::string& reason) const { throw ModelError(fmt::format("{}: {}", name_, reason)); }

 private:
  std::string_view text_;
  const std::string& name_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

Field split_field(std::string_view line, size_t line_no) {
  Field f;
  f.line = line_no;
  const size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    f.key = line;
    return f;
  }
  f.key = line.substr(0, eq);
  f.value = line.substr(eq + 1);
  f.has_value = true;
  return f;
}

const Field* find(const std::vector<Field>& fields, std::string_view key) {
  for (const Field& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

/// Context for the errors of one block ("Tree=3") or the header.
struct Block {
  const Reader& reader;
  std::string label;  ///< "" for the header
  const std::vector<Field>& fields;
  size_t start_line;

  std::string place(const Field& f) const {
    return label.empty() ? std::string(f.key) : fmt::format("{} {}", label, f.key);
  }
  [[noreturn]] void fail(const Field& f, const std::string& reason) const {
    reader.fail(f.line, fmt::format("{}: {}", place(f), reason));
  }
  const Field& require(std::string_view key) const {
    const Field* f = find(fields, key);
    if (f == nullptr || !f->has_value) {
      reader.fail(start_line, fmt::format("{}missing '{}='", label.empty() ? "" : label + ": ", key));
    }
    return *f;
  }
  template <typename T>
  T scalar(const Field& f) const {
    T v{};
    if (!parse_number(f.value, v)) fail(f, fmt::format("bad number '{}'", f.value));
    return v;
  }
  template <typename T>
  std::vector<T> array(const Field& f, size_t expected) const {
    const std::vector<std::string_view> parts = tokens(f.value);
    if (parts.size() != expected) fail(f, fmt::format("{} values, expected {}", parts.size(), expected));
    std::vector<T> out(parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!parse_number(parts[i], out[i])) fail(f, fmt::format("bad number '{}' (value {})", parts[i], i));
    }
    return out;
  }
};

struct Objective {
  TreeModel::Kind kind;
  TreeModel::Transform transform;
  double sigmoid = 1;
};

Objective parse_objective(const Block& header, const Field& f, int num_class) {
  const std::vector<std::string_view> parts = tokens(f.value);
  if (parts.empty()) header.fail(f, "empty objective");
  const std::string_view name = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "sqrt") header.fail(f, fmt::format("objective '{} sqrt' (reg_sqrt) is not supported", name));
  }
  if (name == "binary") {
    Objective o{TreeModel::Kind::binary, TreeModel::Transform::sigmoid, 1.0};
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i].starts_with("sigmoid:") && !parse_number(parts[i].substr(8), o.sigmoid)) {
        header.fail(f, fmt::format("bad number in '{}'", parts[i]));
      }
    }
    if (num_class != 1) header.fail(f, fmt::format("binary objective with num_class={}", num_class));
    return o;
  }
  if (name == "multiclass" || name == "softmax") {
    if (num_class < 2) header.fail(f, fmt::format("multiclass objective with num_class={}", num_class));
    return Objective{TreeModel::Kind::multiclass, TreeModel::Transform::softmax, 1.0};
  }
  static constexpr std::string_view kIdentity[] = {"regression", "regression_l1", "huber", "fair", "quantile", "mape"};
  static constexpr std::string_view kExp[] = {"poisson", "gamma", "tweedie"};
  for (std::string_view r : kIdentity) {
    if (name == r) return Objective{TreeModel::Kind::regression, TreeModel::Transform::identity, 1.0};
  }
  for (std::string_view r : kExp) {
    if (name == r) return Objective{TreeModel::Kind::regression, TreeModel::Transform::exp, 1.0};
  }
  header.fail(f, fmt::format("unsupported objective '{}' (supported: binary, multiclass, regression, regression_l1, "
                             "huber, fair, quantile, mape, poisson, gamma, tweedie)",
                             name));
}

TreeModel::SpecTree parse_tree(const Block& b, int tree_index, size_t num_features, int per_iteration) {
  TreeModel::SpecTree tree;
  tree.output = static_cast<uint32_t>(tree_index % per_iteration);
  if (const Field* linear = find(b.fields, "is_linear"); linear != nullptr && linear->value != "0") {
    b.fail(*linear, "linear trees (linear_tree=true) are not supported");
  }
  const Field& leaves_field = b.require("num_leaves");
  const int num_leaves = b.scalar<int>(leaves_field);
  if (num_leaves < 1 || num_leaves > (1 << 24)) b.fail(leaves_field, fmt::format("bad leaf count {}", num_leaves));
  const size_t n_leaves = static_cast<size_t>(num_leaves);
  const size_t n_splits = n_leaves - 1;

  const std::vector<double> leaf_value = b.array<double>(b.require("leaf_value"), n_leaves);
  std::vector<double> leaf_weight(n_leaves, 0.0);
  if (const Field* w = find(b.fields, "leaf_weight"); w != nullptr && n_splits > 0) {
    leaf_weight = b.array<double>(*w, n_leaves);
  }
  tree.nodes.resize(n_splits + n_leaves);
  for (size_t j = 0; j < n_leaves; ++j) {
    TreeModel::SpecNode& leaf = tree.nodes[n_splits + j];
    leaf.value = leaf_value[j];
    leaf.weight = leaf_weight[j];
    leaf.leaf_id = static_cast<int32_t>(j);
  }
  if (n_splits == 0) return tree;

  int num_cat = 0;
  if (const Field* c = find(b.fields, "num_cat"); c != nullptr) num_cat = b.scalar<int>(*c);
  const Field& f_feature = b.require("split_feature");
  const Field& f_threshold = b.require("threshold");
  const Field& f_decision = b.require("decision_type");
  const Field& f_left = b.require("left_child");
  const Field& f_right = b.require("right_child");
  const std::vector<int64_t> feature = b.array<int64_t>(f_feature, n_splits);
  const std::vector<double> threshold = b.array<double>(f_threshold, n_splits);
  const std::vector<int> decision = b.array<int>(f_decision, n_splits);
  const std::vector<int64_t> left = b.array<int64_t>(f_left, n_splits);
  const std::vector<int64_t> right = b.array<int64_t>(f_right, n_splits);
  std::vector<int64_t> cat_boundaries;
  std::vector<uint32_t> cat_threshold;
  if (num_cat < 0 || num_cat > num_leaves) b.fail(b.require("num_cat"), fmt::format("bad count {}", num_cat));
  if (num_cat > 0) {
    const Field& f_bounds = b.require("cat_boundaries");
    const Field& f_bits = b.require("cat_threshold");
    cat_boundaries = b.array<int64_t>(f_bounds, static_cast<size_t>(num_cat) + 1);
    cat_threshold = b.array<uint32_t>(f_bits, tokens(f_bits.value).size());
    if (cat_boundaries[0] != 0) b.fail(f_bounds, "must start at 0");
    for (size_t i = 1; i < cat_boundaries.size(); ++i) {
      if (cat_boundaries[i] < cat_boundaries[i - 1]) b.fail(f_bounds, "must not decrease");
    }
    if (static_cast<size_t>(cat_boundaries.back()) != cat_threshold.size()) {
      b.fail(f_bounds, fmt::format("ends at {} but cat_threshold has {} words", cat_boundaries.back(),
                                   cat_threshold.size()));
    }
  }

  // LightGBM numbers leaves by ~child: child c >= 0 is split c, c < 0 is leaf ~c.
  const auto child = [&](const Field& f, size_t i, int64_t c) -> int32_t {
    if (c >= 0) {
      if (static_cast<size_t>(c) >= n_splits) b.fail(f, fmt::format("child {} of node {} is out of range", c, i));
      return static_cast<int32_t>(c);
    }
    const int64_t leaf = ~c;
    if (static_cast<size_t>(leaf) >= n_leaves) b.fail(f, fmt::format("leaf {} of node {} is out of range", leaf, i));
    return static_cast<int32_t>(n_splits + static_cast<size_t>(leaf));
  };
  for (size_t i = 0; i < n_splits; ++i) {
    TreeModel::SpecNode& n = tree.nodes[i];
    if (feature[i] < 0 || static_cast<size_t>(feature[i]) >= num_features) {
      b.fail(f_feature, fmt::format("feature {} of node {} is out of range (max_feature_idx={})", feature[i], i,
                                    num_features - 1));
    }
    n.feature = static_cast<uint32_t>(feature[i]);
    n.left = child(f_left, i, left[i]);
    n.right = child(f_right, i, right[i]);
    const int d = decision[i];
    const int missing = (d >> 2) & 3;
    if ((d & ~0x0F) != 0 || missing == 3) {
      b.fail(f_decision, fmt::format("unknown decision_type bits {} at node {}", d, i));
    }
    n.default_left = (d & 2) != 0;
    n.missing = missing == 0 ? TreeModel::Missing::none
                             : missing == 1 ? TreeModel::Missing::zero : TreeModel::Missing::nan;
    n.threshold = threshold[i];
    if (d & 1) {
      n.categorical = true;
      const double t = threshold[i];
      if (!(t >= 0 && t < num_cat) || t != std::floor(t)) {
        b.fail(f_threshold, fmt::format("categorical node {} refers to bitset {} of {}", i, t, num_cat));
      }
      const size_t c = static_cast<size_t>(t);
      n.categories.assign(cat_threshold.begin() + cat_boundaries[c], cat_threshold.begin() + cat_boundaries[c + 1]);
      n.threshold = 0;
    } else if (std::isnan(threshold[i])) {
      b.fail(f_threshold, fmt::format("threshold of node {} is NaN", i));
    }
  }
  return tree;
}

}  // namespace

TreeModel::Spec parse_lightgbm_model(std::string_view text, const std::string& name) {
  Reader reader(text, name);
  std::string_view line;
  // First line "tree".
  while (reader.next(line) && line.empty()) {
  }
  if (line != "tree") reader.fail("not a LightGBM text model (first line is not 'tree')");

  std::vector<Field> header_fields;
  std::optional<std::string_view> pending;  // a line read ahead
  bool ended = false;
  while (reader.next(line)) {
    if (line.starts_with("Tree=") || line == "end of trees") {
      pending = line;
      break;
    }
    if (!line.empty()) header_fields.push_back(split_field(line, reader.line_no()));
  }
  const Block header{reader, "", header_fields, 1};

  if (const Field* v = find(header_fields, "version"); v != nullptr) {
    if (v->value != "v2" && v->value != "v3" && v->value != "v4") {
      header.fail(*v, fmt::format("unsupported model version '{}'", v->value));
    }
  }
  if (const Field* avg = find(header_fields, "average_output"); avg != nullptr) {
    header.fail(*avg, "average_output (random forest boosting) is not supported");
  }
  const int num_class = header.scalar<int>(header.require("num_class"));
  const Field& f_per_iter = header.require("num_tree_per_iteration");
  const int per_iteration = header.scalar<int>(f_per_iter);
  const Field& f_max_feature = header.require("max_feature_idx");
  const int max_feature_idx = header.scalar<int>(f_max_feature);
  if (num_class < 1 || num_class > 1'000'000) header.fail(header.require("num_class"), "bad class count");
  if (per_iteration < 1 || per_iteration > 1'000'000) header.fail(f_per_iter, "bad tree count per iteration");
  if (max_feature_idx < 0 || max_feature_idx >= (1 << 27)) header.fail(f_max_feature, "bad feature count");
  const Field* f_objective = find(header_fields, "objective");
  if (f_objective == nullptr) {
    reader.fail(1, "no 'objective=' line (a custom objective): the output transform is unknown");
  }
  const Objective objective = parse_objective(header, *f_objective, num_class);
  if (objective.kind == TreeModel::Kind::multiclass ? per_iteration != num_class : per_iteration != 1) {
    header.fail(f_per_iter, fmt::format("{} trees per iteration do not fit objective '{}'", per_iteration,
                                        f_objective->value));
  }
  const size_t num_features = static_cast<size_t>(max_feature_idx) + 1;
  const Field& f_names = header.require("feature_names");
  std::vector<std::string_view> names = tokens(f_names.value);
  if (names.size() != num_features) {
    header.fail(f_names, fmt::format("{} names for max_feature_idx={}", names.size(), max_feature_idx));
  }
  std::optional<size_t> declared_trees;
  if (const Field* sizes = find(header_fields, "tree_sizes"); sizes != nullptr) {
    declared_trees = tokens(sizes->value).size();
  }

  TreeModel::Spec spec;
  spec.format = TreeModel::Format::lightgbm;
  spec.kind = objective.kind;
  spec.objective = std::string(f_objective->value);
  spec.transform = objective.transform;
  spec.sigmoid_scale = objective.sigmoid;
  spec.num_outputs = static_cast<size_t>(per_iteration);
  for (std::string_view n : names) spec.feature_names.emplace_back(n);

  std::vector<Field> fields;
  size_t last_tree_line = 0;
  while (pending) {
    line = *pending;
    pending.reset();
    if (line == "end of trees") {
      ended = true;
      break;
    }
    const size_t tree_line = reader.line_no();
    last_tree_line = tree_line;
    int index = -1;
    if (!parse_number(line.substr(5), index) || index != static_cast<int>(spec.trees.size())) {
      reader.fail(tree_line, fmt::format("'{}' where Tree={} was expected", line, spec.trees.size()));
    }
    fields.clear();
    while (reader.next(line)) {
      if (line.starts_with("Tree=") || line == "end of trees") {
        pending = line;
        break;
      }
      if (!line.empty()) fields.push_back(split_field(line, reader.line_no()));
    }
    if (!pending) break;  // end of text inside a tree
    const Block block{reader, fmt::format("Tree={}", index), fields, tree_line};
    spec.trees.push_back(parse_tree(block, index, num_features, per_iteration));
  }
  if (!ended) {
    if (last_tree_line == 0) reader.fail(reader.line_no(), "truncated: no 'Tree=' or 'end of trees' line");
    reader.fail(reader.line_no(), fmt::format("truncated: the file ends inside Tree={} (line {}), before "
                                              "'end of trees'",
                                              spec.trees.size(), last_tree_line));
  }
  if (spec.trees.empty()) reader.fail("the model has no trees");
  if (declared_trees && *declared_trees != spec.trees.size()) {
    reader.fail(fmt::format("tree_sizes lists {} trees but the file has {}", *declared_trees, spec.trees.size()));
  }
  if (spec.trees.size() % static_cast<size_t>(per_iteration) != 0) {
    reader.fail(fmt::format("{} trees is not a multiple of num_tree_per_iteration={}", spec.trees.size(),
                            per_iteration));
  }
  return spec;
}

}  // namespace sentinel::flows
