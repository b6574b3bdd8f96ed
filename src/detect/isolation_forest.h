// Isolation forest (Liu, Ting, Zhou 2008) for the anomaly stage (DESIGN.md
// section 3.3), with scikit-learn's scoring arithmetic so that a forest
// exported from scikit-learn 1.2 scores bit for bit as `score_samples` does.
//
// Lifecycle: an IsolationForest is built once (fit or from_sklearn_json) and
// is then immutable; const methods are safe to call from any number of
// threads. OnlineIsolationForest owns a mutable sample and is single-threaded
// (one per shard).
//
// Scores follow scikit-learn's `score_samples` convention: a value in
// (-1, 0), lower = more anomalous, -0.5 is the "auto" contamination offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sentinel {
class ByteWriter;
class ByteReader;
}  // namespace sentinel

namespace sentinel::detect {

class IsolationForest {
 public:
  struct Options {
    int n_estimators = 100;  ///< number of trees
    int max_samples = 256;   ///< rows per tree (capped at the row count)
    uint64_t seed = 0;       ///< same seed + same rows => same forest on every platform
  };

  /// Fits a forest on `rows` (row-major, rows.size() / n_features rows):
  /// per tree, max_samples rows drawn without replacement; each node splits
  /// on a random non-constant feature at a threshold uniform between the
  /// node's min and max of it; trees stop at depth ceil(log2(max_samples)),
  /// at a single row, or when every feature is constant. Deterministic for a
  /// seed (std::mt19937_64 with hand-written uniform transforms).
  /// Throws std::invalid_argument on an empty input, n_features == 0 or
  /// > kMaxFeatures, a row count that is not a multiple of n_features,
  /// non-positive options or max_samples > 32768 (a configuration error).
  static IsolationForest fit(std::span<const float> rows, size_t n_features, const Options& options);

  /// Loads a forest exported from scikit-learn (`*_forest.json`: "trees"
  /// with features_subset, children_left, children_right, feature, threshold,
  /// n_node_samples; "max_samples_"). Errors name the place, e.g.
  /// "trees[3].threshold[7]: not a number".
  static Result<IsolationForest> from_sklearn_json(std::string_view json);

  /// scikit-learn's score_samples for one row of n_features() values
  /// (lower = more anomalous). A row whose size is not n_features() scores
  /// NaN (never read out of bounds).
  double score(std::span<const float> row) const;

  /// Scores min(rows.size() / n_features(), out.size()) rows into `out`;
  /// identical bits to calling score() per row, but walks the trees
  /// over blocks of rows to keep each tree in cache.
  void score_batch(std::span<const float> rows, std::span<double> out) const;

  /// Anomaly confidence in [0, 1], monotone decreasing in `score`:
  /// confidence = clamp(2 * (-score) - 0.5, 0, 1). The "auto" threshold
  /// score -0.5 (anomaly score 0.5 in Liu et al.) maps to 0.5; anomaly score
  /// 0.6 (a clear outlier) maps to 0.7, the ML gate of DESIGN.md section 4;
  /// anomaly score >= 0.75 maps to 1 and <= 0.25 to 0.
  static double confidence(double score);

  size_t n_features() const { return n_features_; }
  size_t n_trees() const { return tree_offsets_.size(); }
  int max_samples() const { return max_samples_; }
  /// Total number of nodes across all trees.
  size_t n_nodes() const { return nodes_.size(); }

  /// The fitted trees, for a checkpoint; load() checks every index so a
  /// damaged buffer gives nullopt, never a forest that reads out of bounds.
  void save(ByteWriter& out) const;
  static std::optional<IsolationForest> load(ByteReader& in);

  /// c(n): the average path length of an unsuccessful BST search over n
  /// points, as scikit-learn computes it (0 for n <= 1, 1 for n == 2).
  static double average_path_length(double n);

  /// One node, 8 bytes. Trees are laid out in pre-order, so a split's left
  /// child is always the next node and only the right child is stored (as an
  /// offset from the tree's root). A walk step is branch-free:
  /// i = x[feature] <= threshold ? i + 1 : right. The threshold is the
  /// largest float not above the float64 one, which decides every float32
  /// input exactly as the float64 compare does. A leaf has threshold -inf,
  /// feature 0 and right = itself, so a walk that reaches it stays there;
  /// that lets several walks run in lockstep for a tree's full depth, which
  /// is what makes scoring fast (independent load chains).
  struct Node {
    float threshold = -std::numeric_limits<float>::infinity();
    uint16_t feature = 0;
    uint16_t right = 0;
  };
  /// Limits of the 8-byte node: feature indices and nodes per tree.
  static constexpr size_t kMaxFeatures = 65536;
  static constexpr size_t kMaxTreeNodes = 65536;

 private:
  IsolationForest() = default;

  double normalised_score(double depth_sum) const;
  /// Walks trees [first, first + kLanes) for row x in lockstep, adds their
  /// leaf terms to depth_sum in tree order, returns first + kLanes.
  template <size_t kLanes>
  size_t add_tree_group(size_t first, const float* x, double& depth_sum) const;

  size_t n_features_ = 0;
  int max_samples_ = 0;
  double denominator_ = 0;  ///< n_trees * c(max_samples)
  std::vector<Node> nodes_;
  /// Per node: a leaf's whole path-length term, (nodes on the path as
  /// float64 + c(n_leaf)) - 1.0 in scikit-learn's order; 0 for a split.
  std::vector<double> leaf_terms_;
  std::vector<uint32_t> tree_offsets_;  ///< index of each tree's root in nodes_
  std::vector<int32_t> tree_depths_;    ///< edges on each tree's longest path

};

/// A streaming wrapper for the pipeline: keeps the last `sample_size` feature
/// vectors in a ring, and rebuilds the forest from them every
/// `rebuild_every` new vectors with seed = base_seed + rebuild_count (0 for
/// the first build). The first build happens after `rebuild_every` vectors;
/// until then (warm-up) nothing is scored. Given the same options and the
/// same input order the scores are identical run to run. Not thread-safe:
/// one instance per shard.
class OnlineIsolationForest {
 public:
  struct Options {
    size_t n_features = 0;
    size_t sample_size = 2048;    ///< N: vectors kept (the most recent N)
    size_t rebuild_every = 1024;  ///< K: new vectors between rebuilds
    int n_estimators = 100;
    int max_samples = 256;
    uint64_t base_seed = 0;
  };

  /// Throws std::invalid_argument on n_features == 0, sample_size == 0 or
  /// rebuild_every == 0 (configuration error).
  explicit OnlineIsolationForest(const Options& options);

  /// Scores `row` with the current forest (nullopt during warm-up), then adds
  /// it to the sample and rebuilds if this was the K-th vector since the last
  /// build. The returned score never depends on the row itself being in the
  /// sample. Returns an error if row.size() != n_features.
  Result<std::optional<double>> observe(std::span<const float> row);

  /// observe() over out.size() rows (row-major in `rows`), with the same
  /// scores, sample and rebuilds as calling it row by row: the rows up to
  /// each rebuild are scored together (IsolationForest::score_batch, the
  /// same bits as score()). Returns an error, changing nothing, if
  /// rows.size() != out.size() * n_features.
  Status observe_batch(std::span<const float> rows, std::span<std::optional<double>> out);

  /// Checkpoint state: the sample ring, the counters and the current trees
  /// (not refitted on load: the rows they were fitted on may have left the ring).
  void save(ByteWriter& out) const;
  /// False (and state unchanged) on a malformed buffer or other options.
  bool load(ByteReader& in);

  /// Scores without adding to the sample (nullopt during warm-up).
  std::optional<double> score(std::span<const float> row) const;

  bool ready() const { return forest_.has_value(); }
  uint64_t rebuild_count() const { return rebuild_count_; }
  uint64_t observed() const { return observed_; }
  /// The current forest, if any (for inspection and tests).
  const IsolationForest* forest() const { return forest_ ? &*forest_ : nullptr; }

 private:
  void rebuild();
  void add_to_sample(const float* row);

  Options options_;
  std::vector<float> ring_;  ///< sample_size * n_features values
  size_t ring_next_ = 0;     ///< slot the next vector goes to
  size_t ring_filled_ = 0;   ///< vectors held (<= sample_size)
  uint64_t observed_ = 0;
  uint64_t since_build_ = 0;
  uint64_t rebuild_count_ = 0;
  std::optional<IsolationForest> forest_;
  std::vector<double> scores_;  // observe_batch scratch
};

}  // namespace sentinel::detect
