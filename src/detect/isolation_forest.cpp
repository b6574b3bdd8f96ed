#include "detect/isolation_forest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "stream/bytes.h"

namespace sentinel::detect {

namespace {

using nlohmann::json;

// numpy's np.euler_gamma, the constant scikit-learn's c(n) uses.
constexpr double kEulerGamma = 0.5772156649015329;

// scikit-learn's RandomSplitter treats a feature as constant in a node when
// max <= min + FEATURE_THRESHOLD; kept so fitted trees split like sklearn's.
constexpr double kFeatureThreshold = 1e-7;

// Rows scored together per block in score_batch: 64 rows x 8-byte sums stay
// in L1 while each tree is walked for the whole block.
constexpr size_t kBatchBlock = 64;

// The leaf term scikit-learn adds per tree, in its order of operations:
// (nodes on the path, as float64) + c(n_leaf), then - 1.0.
double leaf_term(int depth, double n_leaf) {
  return (static_cast<double>(depth + 1) + IsolationForest::average_path_length(n_leaf)) - 1.0;
}

// Hand-written uniform transforms because std::uniform_*_distribution give
// different sequences under libstdc++ and libc++.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  // Rejection keeps it unbiased: draws at or above the last whole multiple of n are redrawn.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t draw = rng();
  while (draw >= limit) draw = rng();
  return draw % n;
}

// The largest float not above t: for every float x, x <= t (in float64)
// exactly when x <= threshold_as_float(t), so walks compare floats.
float threshold_as_float(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

int max_depth_for(int max_samples) {
  return static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max(max_samples, 2)))));
}

}  // namespace

double IsolationForest::average_path_length(double n) {
  if (n <= 1.0) return 0.0;
  if (n == 2.0) return 1.0;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

double IsolationForest::normalised_score(double depth_sum) const {
  // sklearn: -(2 ** -(depths / denominator)), with the ratio set to 1 when
  // the denominator is 0 (max_samples 1).
  const double ratio = denominator_ != 0.0 ? depth_sum / denominator_ : 1.0;
  return -std::pow(2.0, -ratio);
}

namespace {

// One branch-free step; leaves point to themselves (see Node).
// Written as mask arithmetic because g++ turns the plain ?: into a
// conditional jump, and a mispredicted jump per level is what made walks slow.
inline int32_t step(const IsolationForest::Node* tree, int32_t i, const float* x) {
  const IsolationForest::Node& node = tree[i];
  const int32_t go_right = -static_cast<int32_t>(!(x[node.feature] <= node.threshold));
  return (i + 1) + ((static_cast<int32_t>(node.right) - (i + 1)) & go_right);
}

// Walks kLanes independent (tree, row) pairs in lockstep: a single walk is a
// chain of dependent loads, so interleaving several is what keeps the core busy.
template <size_t kLanes>
inline void walk_lanes(const IsolationForest::Node* const (&trees)[kLanes], const float* const (&rows)[kLanes],
                       int32_t steps, int32_t (&leaves)[kLanes]) {
  for (size_t l = 0; l < kLanes; ++l) leaves[l] = 0;
  for (int32_t s = 0; s < steps; ++s) {
    for (size_t l = 0; l < kLanes; ++l) leaves[l] = step(trees[l], leaves[l], rows[l]);
  }
}

}  // namespace

template <size_t kLanes>
size_t IsolationForest::add_tree_group(size_t first, const float* x, double& depth_sum) const {
  const Node* trees[kLanes];
  const float* rows[kLanes];
  int32_t steps = 0;
  for (size_t l = 0; l < kLanes; ++l) {
    trees[l] = nodes_.data() + tree_offsets_[first + l];
    rows[l] = x;
    steps = std::max(steps, tree_depths_[first + l]);
  }
  int32_t leaves[kLanes];
  walk_lanes(trees, rows, steps, leaves);
  // Added in tree order, as sklearn does, so the float64 sum is the same bits.
  for (size_t l = 0; l < kLanes; ++l) {
    depth_sum += leaf_terms_[tree_offsets_[first + l] + static_cast<uint32_t>(leaves[l])];
  }
  return first + kLanes;
}

double IsolationForest::score(std::span<const float> row) const {
  if (row.size() != n_features_) return std::numeric_limits<double>::quiet_NaN();
  const float* const x = row.data();
  const size_t n_trees = tree_offsets_.size();
  double depth_sum = 0.0;
  // Trees walked together for one row: 8 at a time, then 4, then singly.
  size_t t = 0;
  while (t + 8 <= n_trees) t = add_tree_group<8>(t, x, depth_sum);
  while (t + 4 <= n_trees) t = add_tree_group<4>(t, x, depth_sum);
  while (t < n_trees) t = add_tree_group<1>(t, x, depth_sum);
  return normalised_score(depth_sum);
}

void IsolationForest::score_batch(std::span<const float> rows, std::span<double> out) const {
  constexpr size_t kLanes = 16;  // rows walked together through one tree
  const size_t n_rows = n_features_ == 0 ? 0 : std::min(rows.size() / n_features_, out.size());
  const Node* const base = nodes_.data();
  double sums[kBatchBlock];
  for (size_t begin = 0; begin < n_rows; begin += kBatchBlock) {
    const size_t count = std::min(kBatchBlock, n_rows - begin);
    std::fill(sums, sums + count, 0.0);
    const float* const block = rows.data() + begin * n_features_;
    // Tree-major within the block; each row still adds its trees in tree
    // order, so the float64 sums are the same bits as score().
    for (size_t t = 0; t < tree_offsets_.size(); ++t) {
      const Node* const tree = base + tree_offsets_[t];
      const double* const terms = leaf_terms_.data() + tree_offsets_[t];
      const int32_t steps = tree_depths_[t];
      for (size_t r = 0; r + kLanes <= count; r += kLanes) {
        const Node* trees[kLanes];
        const float* xs[kLanes];
        for (size_t l = 0; l < kLanes; ++l) {
          trees[l] = tree;
          xs[l] = block + (r + l) * n_features_;
        }
        int32_t leaves[kLanes];
        walk_lanes(trees, xs, steps, leaves);
        for (size_t l = 0; l < kLanes; ++l) sums[r + l] += terms[leaves[l]];
      }
    }
    // Rows left over from the lane groups (all of them in a batch under
    // kLanes, the common case in the pipeline's small epochs) walk their
    // trees eight at a time as score() does: one row per tree would be a
    // single chain of dependent loads.
    const size_t grouped = count - count % kLanes;
    for (size_t r = 0; r < grouped; ++r) out[begin + r] = normalised_score(sums[r]);
    for (size_t r = grouped; r < count; ++r) {
      out[begin + r] = score(std::span<const float>(block + r * n_features_, n_features_));
    }
  }
}

double IsolationForest::confidence(double score) {
  return std::clamp(2.0 * (-score) - 0.5, 0.0, 1.0);
}

namespace {

// Grows fitted trees into the flat pre-order layout.
//
// Each tree's sample is first copied into a small column-major block (at most
// 32768 rows x the features; 7 KB for 256 rows x 7), so a node's min/max scan
// reads one contiguous column instead of strided rows of the whole input, and
// the partition is branch-free (a random threshold makes the branch of a
// plain std::partition unpredictable). Neither changes a tree: the random
// draws do not depend on the order of the rows inside a node, and the split
// test is the same float64 compare.
class ForestBuilder {
 public:
  // Fit state for one forest.
  ForestBuilder(std::span<const float> rows, size_t n_features, int max_depth)
      : rows_(rows), n_features_(n_features), max_depth_(max_depth), features_(n_features) {
    for (size_t f = 0; f < n_features; ++f) features_[f] = f;
  }

  // Grows one tree over the sample `indices` (rows of the input) into
  // `nodes` and `terms`; returns its depth (edges on the longest path).
  int32_t grow(std::span<const uint32_t> indices, std::mt19937_64& rng, std::vector<IsolationForest::Node>& nodes,
               std::vector<double>& terms) {
    root_ = nodes.size();
    depth_reached_ = 0;
    const size_t m = indices.size();
    stride_ = m;
    columns_.resize(m * n_features_);
    for (size_t i = 0; i < m; ++i) {
      const float* row = rows_.data() + static_cast<size_t>(indices[i]) * n_features_;
      for (size_t f = 0; f < n_features_; ++f) columns_[f * m + i] = row[f];
    }
    local_.resize(m);
    for (size_t i = 0; i < m; ++i) local_[i] = static_cast<uint32_t>(i);
    values_.resize(m);
    right_.resize(m);
    grow_node(local_.data(), local_.data() + m, 0, rng, nodes, terms);
    return depth_reached_;
  }

 private:
  // Pre-order: the node, then its whole left subtree, then the right one.
  // Recursion depth is bounded by max_depth_ (8 for 256 samples).
  void grow_node(uint32_t* begin, uint32_t* end, int depth, std::mt19937_64& rng,
                 std::vector<IsolationForest::Node>& nodes, std::vector<double>& terms) {
    const size_t self = nodes.size();
    const auto count = static_cast<size_t>(end - begin);
    nodes.push_back({});
    terms.push_back(0.0);
    depth_reached_ = std::max(depth_reached_, depth);
    if (depth < max_depth_ && count > 1) {
      // Draw features without replacement until one is not constant here.
      for (size_t remaining = n_features_; remaining > 0; --remaining) {
        const size_t pick = static_cast<size_t>(uniform_below(rng, remaining));
        const size_t feature = features_[pick];
        std::swap(features_[pick], features_[remaining - 1]);
        const float* const column = columns_.data() + feature * stride_;
        float* const values = values_.data();
        float lo = column[*begin];
        float hi = lo;
        for (size_t k = 0; k < count; ++k) {
          const float v = column[begin[k]];
          values[k] = v;
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        if (static_cast<double>(hi) <= static_cast<double>(lo) + kFeatureThreshold) continue;
        double threshold = static_cast<double>(lo) + uniform01(rng) * (static_cast<double>(hi) - static_cast<double>(lo));
        if (threshold >= static_cast<double>(hi)) threshold = lo;
        // Branch-free partition: rows at or below go to the front in place
        // (the write index never passes the read index), the others to a
        // scratch list copied in behind them.
        size_t left = 0, right = 0;
        uint32_t* const spill = right_.data();
        for (size_t k = 0; k < count; ++k) {
          const uint32_t row = begin[k];
          const bool goes_left = static_cast<double>(values[k]) <= threshold;
          begin[left] = row;
          spill[right] = row;
          left += goes_left ? 1 : 0;
          right += goes_left ? 0 : 1;
        }
        std::copy_n(spill, right, begin + left);
        uint32_t* const middle = begin + left;
        nodes[self].threshold = threshold_as_float(threshold);
        nodes[self].feature = static_cast<uint16_t>(feature);
        grow_node(begin, middle, depth + 1, rng, nodes, terms);
        nodes[self].right = static_cast<uint16_t>(nodes.size() - root_);
        grow_node(middle, end, depth + 1, rng, nodes, terms);
        return;
      }
    }
    nodes[self].right = static_cast<uint16_t>(self - root_);
    terms[self] = leaf_term(depth, static_cast<double>(count));
  }

  std::span<const float> rows_;
  size_t n_features_;
  int max_depth_;
  std::vector<size_t> features_;
  std::vector<float> columns_;   // this tree's sample, column-major (stride_ rows)
  size_t stride_ = 0;
  std::vector<uint32_t> local_;  // rows of columns_, partitioned node by node
  std::vector<float> values_;    // a node's values of the feature it splits on
  std::vector<uint32_t> right_;  // partition scratch
  size_t root_ = 0;
  int depth_reached_ = 0;
};

}  // namespace

IsolationForest IsolationForest::fit(std::span<const float> rows, size_t n_features, const Options& options) {
  if (n_features == 0) throw std::invalid_argument("IsolationForest::fit: n_features must be positive");
  if (rows.empty() || rows.size() % n_features != 0) {
    throw std::invalid_argument("IsolationForest::fit: rows must be a non-empty multiple of n_features (" +
                                std::to_string(rows.size()) + " values, " + std::to_string(n_features) +
                                " features)");
  }
  if (options.n_estimators <= 0) throw std::invalid_argument("IsolationForest::fit: n_estimators must be positive");
  if (n_features > kMaxFeatures) throw std::invalid_argument("IsolationForest::fit: more than 65536 features");
  // 2 * max_samples - 1 nodes must fit kMaxTreeNodes.
  if (options.max_samples <= 0 || options.max_samples > 32768) {
    throw std::invalid_argument("IsolationForest::fit: max_samples must be in [1, 32768]");
  }
  const size_t n_rows = rows.size() / n_features;
  if (n_rows > std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument("IsolationForest::fit: more than 2^32 rows");
  }

  IsolationForest forest;
  forest.n_features_ = n_features;
  forest.max_samples_ = static_cast<int>(std::min(static_cast<size_t>(options.max_samples), n_rows));
  forest.denominator_ = static_cast<double>(options.n_estimators) *
                        average_path_length(static_cast<double>(forest.max_samples_));

  std::mt19937_64 rng(options.seed);
  ForestBuilder builder(rows, n_features, max_depth_for(forest.max_samples_));
  std::vector<uint32_t> pool(n_rows);
  for (size_t i = 0; i < n_rows; ++i) pool[i] = static_cast<uint32_t>(i);
  std::vector<uint32_t> sample(static_cast<size_t>(forest.max_samples_));
  for (int t = 0; t < options.n_estimators; ++t) {
    // Partial Fisher-Yates: the first max_samples slots become a uniform
    // sample without replacement.
    for (size_t i = 0; i < sample.size(); ++i) {
      const size_t j = i + static_cast<size_t>(uniform_below(rng, n_rows - i));
      std::swap(pool[i], pool[j]);
      sample[i] = pool[i];
    }
    forest.tree_offsets_.push_back(static_cast<uint32_t>(forest.nodes_.size()));
    forest.tree_depths_.push_back(builder.grow(sample, rng, forest.nodes_, forest.leaf_terms_));
  }
  return forest;
}

namespace {

std::string place(size_t tree, const char* field) {
  return "trees[" + std::to_string(tree) + "]." + field;
}

std::string place(size_t tree, const char* field, size_t index) {
  return place(tree, field) + "[" + std::to_string(index) + "]";
}

// Reads an array of integers; errors name trees[t].field[i].
Result<std::vector<int64_t>> int_array(const json& tree, size_t t, const char* field) {
  const auto it = tree.find(field);
  if (it == tree.end()) return make_error(place(t, field), "missing");
  if (!it->is_array()) return make_error(place(t, field), "not an array");
  std::vector<int64_t> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_number_integer()) return make_error(place(t, field, i), "not an integer");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

}  // namespace

Result<IsolationForest> IsolationForest::from_sklearn_json(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return make_error("json", e.what());
  }
  if (!doc.is_object()) return make_error("json", "top level is not an object");
  const auto max_samples_it = doc.find("max_samples_");
  if (max_samples_it == doc.end()) return make_error("max_samples_", "missing");
  if (!max_samples_it->is_number_integer() || max_samples_it->get<int64_t>() <= 0 ||
      max_samples_it->get<int64_t>() > std::numeric_limits<int32_t>::max()) {
    return make_error("max_samples_", "not a positive integer");
  }
  const auto trees_it = doc.find("trees");
  if (trees_it == doc.end()) return make_error("trees", "missing");
  if (!trees_it->is_array() || trees_it->empty()) return make_error("trees", "not a non-empty array");

  // First pass: shapes and the feature count (1 + the largest column used).
  struct Raw {
    std::vector<int64_t> subset, left, right, feature, samples;
    std::vector<double> threshold;
  };
  std::vector<Raw> raws;
  raws.reserve(trees_it->size());
  int64_t n_features = 0;
  for (size_t t = 0; t < trees_it->size(); ++t) {
    const json& tree = (*trees_it)[t];
    if (!tree.is_object()) return make_error("trees[" + std::to_string(t) + "]", "not an object");
    Raw raw;
    auto subset = int_array(tree, t, "features_subset");
    if (!subset) return subset.error();
    auto left = int_array(tree, t, "children_left");
    if (!left) return left.error();
    auto right = int_array(tree, t, "children_right");
    if (!right) return right.error();
    auto feature = int_array(tree, t, "feature");
    if (!feature) return feature.error();
    auto samples = int_array(tree, t, "n_node_samples");
    if (!samples) return samples.error();
    raw.subset = std::move(subset.value());
    raw.left = std::move(left.value());
    raw.right = std::move(right.value());
    raw.feature = std::move(feature.value());
    raw.samples = std::move(samples.value());
    const auto threshold_it = tree.find("threshold");
    if (threshold_it == tree.end()) return make_error(place(t, "threshold"), "missing");
    if (!threshold_it->is_array()) return make_error(place(t, "threshold"), "not an array");
    for (size_t i = 0; i < threshold_it->size(); ++i) {
      const json& v = (*threshold_it)[i];
      if (!v.is_number()) return make_error(place(t, "threshold", i), "not a number");
      raw.threshold.push_back(v.get<double>());
    }
    const size_t n_nodes = raw.left.size();
    if (n_nodes == 0) return make_error(place(t, "children_left"), "empty");
    if (n_nodes > IsolationForest::kMaxTreeNodes) {
      return make_error(place(t, "children_left"),
                        "more than " + std::to_string(IsolationForest::kMaxTreeNodes) + " nodes");
    }
    for (const auto& [field, size] : {std::pair{"children_right", raw.right.size()},
                                      std::pair{"feature", raw.feature.size()},
                                      std::pair{"threshold", raw.threshold.size()},
                                      std::pair{"n_node_samples", raw.samples.size()}}) {
      if (size != n_nodes) {
        return make_error(place(t, field), "has " + std::to_string(size) + " entries, children_left has " +
                                               std::to_string(n_nodes));
      }
    }
    if (raw.subset.empty()) return make_error(place(t, "features_subset"), "empty");
    for (size_t i = 0; i < raw.subset.size(); ++i) {
      if (raw.subset[i] < 0 || raw.subset[i] >= static_cast<int64_t>(IsolationForest::kMaxFeatures)) {
        return make_error(place(t, "features_subset", i), "out of range");
      }
      n_features = std::max(n_features, raw.subset[i] + 1);
    }
    raws.push_back(std::move(raw));
  }

  IsolationForest forest;
  forest.n_features_ = static_cast<size_t>(n_features);
  forest.max_samples_ = static_cast<int>(max_samples_it->get<int64_t>());
  forest.denominator_ = static_cast<double>(raws.size()) *
                        average_path_length(static_cast<double>(forest.max_samples_));

  // Second pass: validate links and re-lay each tree out in pre-order.
  for (size_t t = 0; t < raws.size(); ++t) {
    const Raw& raw = raws[t];
    const size_t n_nodes = raw.left.size();
    const size_t root = forest.nodes_.size();
    forest.tree_offsets_.push_back(static_cast<uint32_t>(root));
    int32_t tree_depth = 0;
    std::vector<bool> seen(n_nodes, false);
    // Stack of (source node, depth, index of the parent whose right link to set or SIZE_MAX).
    struct Pending {
      size_t node;
      int depth;
      size_t parent_slot;
    };
    std::vector<Pending> stack{{0, 0, SIZE_MAX}};
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const size_t n = p.node;
      if (seen[n]) return make_error(place(t, "children_left", n), "node reached twice");
      seen[n] = true;
      tree_depth = std::max(tree_depth, p.depth);
      const size_t out = forest.nodes_.size();
      if (p.parent_slot != SIZE_MAX) forest.nodes_[p.parent_slot].right = static_cast<uint16_t>(out - root);
      Node node;
      const int64_t l = raw.left[n];
      const int64_t r = raw.right[n];
      if (l == -1 || r == -1) {
        if (l != r) return make_error(place(t, "children_right", n), "leaf on one side only");
        if (raw.samples[n] < 1) return make_error(place(t, "n_node_samples", n), "less than 1 at a leaf");
        node.right = static_cast<uint16_t>(out - root);
        forest.nodes_.push_back(node);
        forest.leaf_terms_.push_back(leaf_term(p.depth, static_cast<double>(raw.samples[n])));
        continue;
      }
      // sklearn numbers children after their parent; requiring it rules out cycles.
      if (l <= static_cast<int64_t>(n) || l >= static_cast<int64_t>(n_nodes)) {
        return make_error(place(t, "children_left", n), "child index " + std::to_string(l) + " out of range");
      }
      if (r <= static_cast<int64_t>(n) || r >= static_cast<int64_t>(n_nodes)) {
        return make_error(place(t, "children_right", n), "child index " + std::to_string(r) + " out of range");
      }
      const int64_t f = raw.feature[n];
      if (f < 0 || f >= static_cast<int64_t>(raw.subset.size())) {
        return make_error(place(t, "feature", n), "feature " + std::to_string(f) + " outside features_subset");
      }
      node.threshold = threshold_as_float(raw.threshold[n]);
      node.feature = static_cast<uint16_t>(raw.subset[static_cast<size_t>(f)]);
      forest.nodes_.push_back(node);
      forest.leaf_terms_.push_back(0.0);
      // Right is pushed first so the left subtree is emitted right after its parent.
      stack.push_back({static_cast<size_t>(r), p.depth + 1, out});
      stack.push_back({static_cast<size_t>(l), p.depth + 1, SIZE_MAX});
    }
    forest.tree_depths_.push_back(tree_depth);
  }
  return forest;
}

OnlineIsolationForest::OnlineIsolationForest(const Options& options) : options_(options) {
  if (options.n_features == 0) throw std::invalid_argument("OnlineIsolationForest: n_features must be positive");
  if (options.sample_size == 0) throw std::invalid_argument("OnlineIsolationForest: sample_size must be positive");
  if (options.rebuild_every == 0) {
    throw std::invalid_argument("OnlineIsolationForest: rebuild_every must be positive");
  }
  if (options.n_estimators <= 0 || options.max_samples <= 0) {
    throw std::invalid_argument("OnlineIsolationForest: n_estimators and max_samples must be positive");
  }
  ring_.resize(options.sample_size * options.n_features);
}

std::optional<double> OnlineIsolationForest::score(std::span<const float> row) const {
  if (!forest_ || row.size() != options_.n_features) return std::nullopt;
  return forest_->score(row);
}

Result<std::optional<double>> OnlineIsolationForest::observe(std::span<const float> row) {
  if (row.size() != options_.n_features) {
    return make_error("feature_vector", "has " + std::to_string(row.size()) + " values, expected " +
                                            std::to_string(options_.n_features));
  }
  std::optional<double> result = score(row);
  add_to_sample(row.data());
  if (++since_build_ == options_.rebuild_every) rebuild();
  return result;
}

void OnlineIsolationForest::add_to_sample(const float* row) {
  std::copy_n(row, options_.n_features,
              ring_.begin() + static_cast<std::ptrdiff_t>(ring_next_ * options_.n_features));
  ring_next_ = (ring_next_ + 1) % options_.sample_size;
  ring_filled_ = std::min(ring_filled_ + 1, options_.sample_size);
  ++observed_;
}

Status OnlineIsolationForest::observe_batch(std::span<const float> rows, std::span<std::optional<double>> out) {
  const size_t d = options_.n_features;
  if (rows.size() != out.size() * d) {
    return make_error("feature_vector", "batch of " + std::to_string(rows.size()) + " values for " +
                                            std::to_string(out.size()) + " rows of " + std::to_string(d));
  }
  size_t i = 0;
  while (i < out.size()) {
    // Every row before the next rebuild is scored by the current forest.
    const size_t chunk = std::min<size_t>(out.size() - i, options_.rebuild_every - since_build_);
    const std::span<const float> block = rows.subspan(i * d, chunk * d);
    if (forest_) {
      scores_.resize(chunk);
      forest_->score_batch(block, scores_);
      for (size_t k = 0; k < chunk; ++k) out[i + k] = scores_[k];
    } else {
      std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(i), chunk, std::nullopt);
    }
    for (size_t k = 0; k < chunk; ++k) add_to_sample(block.data() + k * d);
    since_build_ += chunk;
    if (since_build_ == options_.rebuild_every) rebuild();
    i += chunk;
  }
  return Ok{};
}

void OnlineIsolationForest::rebuild() {
  // Oldest first, so the fitted rows do not depend on where the ring wrapped.
  const size_t d = options_.n_features;
  std::vector<float> sample(ring_filled_ * d);
  const size_t oldest = ring_filled_ < options_.sample_size ? 0 : ring_next_;
  for (size_t i = 0; i < ring_filled_; ++i) {
    const size_t slot = (oldest + i) % options_.sample_size;
    std::copy_n(ring_.begin() + static_cast<std::ptrdiff_t>(slot * d), d,
                sample.begin() + static_cast<std::ptrdiff_t>(i * d));
  }
  IsolationForest::Options fit_options;
  fit_options.n_estimators = options_.n_estimators;
  fit_options.max_samples = options_.max_samples;
  fit_options.seed = options_.base_seed + rebuild_count_;
  forest_ = IsolationForest::fit(sample, d, fit_options);
  ++rebuild_count_;
  since_build_ = 0;
}

void IsolationForest::save(ByteWriter& out) const {
  out.u64(n_features_);
  out.u32(static_cast<uint32_t>(max_samples_));
  out.f64(denominator_);
  out.u64(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    out.raw(&nodes_[i].threshold, sizeof(float));
    out.u16(nodes_[i].feature);
    out.u16(nodes_[i].right);
    out.f64(leaf_terms_[i]);
  }
  out.u64(tree_offsets_.size());
  for (size_t t = 0; t < tree_offsets_.size(); ++t) {
    out.u32(tree_offsets_[t]);
    out.u32(static_cast<uint32_t>(tree_depths_[t]));
  }
}

std::optional<IsolationForest> IsolationForest::load(ByteReader& in) {
  IsolationForest f;
  f.n_features_ = in.u64();
  f.max_samples_ = static_cast<int>(in.u32());
  f.denominator_ = in.f64();
  const uint64_t n = in.count(sizeof(float) + 4 + 8);
  if (in.fail() || f.n_features_ == 0 || f.n_features_ > kMaxFeatures || f.max_samples_ <= 0) return std::nullopt;
  f.nodes_.resize(n);
  f.leaf_terms_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    in.raw(&f.nodes_[i].threshold, sizeof(float));
    f.nodes_[i].feature = in.u16();
    f.nodes_[i].right = in.u16();
    f.leaf_terms_[i] = in.f64();
  }
  const uint64_t trees = in.count(8);
  if (in.fail() || trees == 0) return std::nullopt;
  f.tree_offsets_.resize(trees);
  f.tree_depths_.resize(trees);
  for (size_t t = 0; t < trees; ++t) {
    f.tree_offsets_[t] = in.u32();
    f.tree_depths_[t] = static_cast<int32_t>(in.u32());
  }
  if (in.fail()) return std::nullopt;
  // Every walk must stay inside its own tree: roots increase, right offsets
  // point inside the tree, features exist, depths bound the walk.
  for (size_t t = 0; t < trees; ++t) {
    const size_t begin = f.tree_offsets_[t];
    const size_t end = t + 1 < trees ? f.tree_offsets_[t + 1] : n;
    if (begin >= end || end > n || end - begin > kMaxTreeNodes || f.tree_depths_[t] < 0 ||
        static_cast<size_t>(f.tree_depths_[t]) >= end - begin + 1) {
      return std::nullopt;
    }
    for (size_t i = begin; i < end; ++i) {
      const Node& node = f.nodes_[i];
      const bool leaf = node.threshold == -std::numeric_limits<float>::infinity();
      if (node.feature >= f.n_features_ || begin + node.right >= end) return std::nullopt;
      if (!leaf && (i + 1 >= end || begin + node.right <= i)) return std::nullopt;
      if (!std::isfinite(f.leaf_terms_[i])) return std::nullopt;
    }
  }
  if (!(f.denominator_ > 0) || !std::isfinite(f.denominator_)) return std::nullopt;
  return f;
}

void OnlineIsolationForest::save(ByteWriter& out) const {
  out.u64(options_.n_features);
  out.u64(options_.sample_size);
  out.u64(ring_next_);
  out.u64(ring_filled_);
  out.u64(observed_);
  out.u64(since_build_);
  out.u64(rebuild_count_);
  out.raw(ring_.data(), ring_filled_ * options_.n_features * sizeof(float));
  out.u8(forest_ ? 1 : 0);
  if (forest_) forest_->save(out);
}

bool OnlineIsolationForest::load(ByteReader& in) {
  if (in.u64() != options_.n_features || in.u64() != options_.sample_size) return false;
  const uint64_t next = in.u64(), filled = in.u64(), observed = in.u64(), since = in.u64(), rebuilds = in.u64();
  if (in.fail() || filled > options_.sample_size || next >= options_.sample_size ||
      since >= options_.rebuild_every || (filled < options_.sample_size && next != filled % options_.sample_size)) {
    return false;
  }
  std::vector<float> ring(options_.sample_size * options_.n_features);
  in.raw(ring.data(), filled * options_.n_features * sizeof(float));
  std::optional<IsolationForest> forest;
  if (in.u8() != 0) {
    forest = IsolationForest::load(in);
    if (!forest || forest->n_features() != options_.n_features) return false;
  }
  if (in.fail()) return false;
  ring_ = std::move(ring);
  ring_next_ = next;
  ring_filled_ = filled;
  observed_ = observed;
  since_build_ = since;
  rebuild_count_ = rebuilds;
  forest_ = std::move(forest);
  return true;
}

}  // namespace sentinel::detect
