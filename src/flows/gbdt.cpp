// Compiling a TreeModel::Spec into flat node arrays and evaluating them.
//
// Layout: all trees' nodes in one contiguous array, each tree breadth-first
// so its top levels share cache lines. A node holds its threshold, the row
// slot it reads and the byte offsets of both children, so a walk step is one
// compare and one select, with no branch to mispredict:
//   off = x[slot] < threshold ? first : second
// A leaf points both children at itself (its threshold field holds the leaf
// value), so a walk that reaches it stays there; walks of several rows can
// then run in lockstep for the tree's depth, which gives the CPU independent
// load chains instead of one. Rows go through in groups of kLanes, stored
// transposed (value of slot s for lane r at x[s * kLanes + r]) so that every
// lane's address is the node's slot plus a constant; the node stores its
// slot already multiplied by kLanes. A single row (predict_raw) walks
// several trees in lockstep instead, for the same reason.
//
// Missing values without a test per step: a prepared row holds each feature
// twice, x = v and u = -v, both with NaN replaced by +inf. A split whose NaN
// goes to the right child reads x and takes its second child (right) when
// !(x < t) (XGBoost) or !(x <= t) (LightGBM): +inf does. A split whose NaN
// goes left is stored mirrored: children swapped, it reads u against
// T = -prev(t) (XGBoost: v < t <=> v <= prev(t) <=> !(u < T)) or
// T = -next(t) (LightGBM: v <= t <=> v < next(t) <=> !(u <= T)), so NaN
// (u = +inf) reaches the original left child. Real infinities take the same
// branches as the plain comparison.
//
// XGBoost nodes hold float32 thresholds and leaf values (inputs rounded to
// float32). LightGBM nodes hold doubles; its missing_type None turns NaN into
// 0.0, so such a node's NaN direction is that of 0.0. LightGBM categorical and
// zero-as-missing splits (and an infinite threshold) are "special": they read
// a third copy of the row with NaN kept and decide as LightGBM's Tree does;
// only trees holding one use the kernel that tests for them.
#include "flows/gbdt.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>

namespace sentinel::flows {

namespace {

/// Rows walked in lockstep: independent load chains for the CPU. 16 measured
/// fastest on the reference models (8 leaves it waiting on loads; 32 spills
/// the offsets and the row group outgrows L1).
constexpr size_t kLanes = 16;

constexpr uint32_t kSlotMask = 0x07FF'FFFFu;
constexpr uint32_t kSpecial = 1u << 31;      ///< LightGBM: categorical, zero-as-missing or infinite threshold
constexpr uint32_t kCategorical = 1u << 30;  ///< the threshold holds an index into Impl::cats
constexpr uint32_t kDefaultLeft = 1u << 29;  ///< special numeric: the default branch is left
constexpr uint32_t kMissingZero = 1u << 28;  ///< special numeric: missing_type Zero
constexpr uint32_t kMissingNan = 1u << 27;   ///< special numeric: missing_type NaN (neither bit: None)
/// Three copies of the row, times kLanes, must fit kSlotMask.
constexpr size_t kMaxFeatures = (kSlotMask / kLanes) / 3;

/// LightGBM's kZeroThreshold is the float 1e-35f, compared as double.
const double kZeroThreshold = static_cast<double>(1e-35f);
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kInfD = std::numeric_limits<double>::infinity();

constexpr size_t kMaxModelBytes = size_t{1} << 30;
/// Prepared single rows of up to this many values live on the stack.
constexpr size_t kStackValues = 1024;
/// A prepared row group of up to this many values lives on the stack.
constexpr size_t kGroupStackValues = 4096;

struct NodeF {
  float threshold;     ///< a leaf's value on a leaf
  uint32_t slot;       ///< row slot read, times kLanes
  uint32_t child[2];   ///< byte offsets: [0] taken when x < threshold, else [1]
};
struct NodeD {
  double threshold;    ///< a leaf's value on a leaf; a CatSplit index on a categorical split
  uint32_t slot;       ///< row slot read, times kLanes, | flag bits on a special node
  uint32_t child[2];   ///< byte offsets: [0] taken when x <= threshold, else [1]
  uint32_t unused;
};
static_assert(sizeof(NodeF) == 16 && sizeof(NodeD) == 24);

struct TreeInfo {
  uint32_t root;    ///< byte offset of the root node
  uint32_t depth;   ///< edges on the longest root-to-leaf path
  uint32_t output;  ///< raw output the tree adds to
  bool special;     ///< holds a special node (LightGBM)
};

struct CatSplit {
  uint32_t offset;  ///< first word in Impl::cat_words
  uint32_t words;
};

template <typename Node>
const Node& node_at(const Node* base, uint32_t offset) {
  return *reinterpret_cast<const Node*>(reinterpret_cast<const char*>(base) + offset);
}

}  // namespace

struct TreeModel::Impl {
  Format format = Format::lightgbm;
  Kind kind = Kind::binary;
  std::string objective;
  Transform transform = Transform::identity;
  double sigmoid_scale = 1;
  std::vector<std::string> names;
  size_t num_features = 0;
  size_t num_outputs = 1;
  float base_margin = 0;  ///< XGBoost only

  std::vector<TreeInfo> trees;
  std::vector<NodeF> fnodes;  ///< XGBoost
  std::vector<NodeD> dnodes;  ///< LightGBM
  std::vector<CatSplit> cats;
  std::vector<uint32_t> cat_words;

  // Cold data, by node index: the library's leaf number, the node mean, the
  // model feature a split tests.
  std::vector<int32_t> leaf_id;
  std::vector<double> mean;
  std::vector<uint32_t> split_feature;
  double bias0 = 0;

  bool xgb() const { return format == Format::xgboost; }
  /// Slots of a prepared row: x, u, and for LightGBM the raw values.
  size_t slots() const { return (xgb() ? 2 : 3) * num_features; }
  size_t node_size() const { return xgb() ? sizeof(NodeF) : sizeof(NodeD); }
  uint32_t offset_of(size_t index) const { return static_cast<uint32_t>(index * node_size()); }
  size_t index_of(uint32_t offset) const { return offset / node_size(); }

  // --- row preparation: slot s of the row at out[s * lanes] -------------------------
  // (a lane of a transposed group: lanes = kLanes; a single dense row: 1)

  /// XGBoost sees float32 inputs.
  void prepare(const double* row, float* out, size_t lanes) const {
    const size_t f = num_features;
    for (size_t j = 0; j < f; ++j) {
      const float v = static_cast<float>(row[j]);
      const bool nan = std::isnan(v);
      out[j * lanes] = nan ? kInfF : v;
      out[(f + j) * lanes] = nan ? kInfF : -v;
    }
  }
  /// LightGBM's input parsers drop |x| <= kZeroThreshold, so such inputs are 0.
  void prepare(const double* row, double* out, size_t lanes) const {
    const size_t f = num_features;
    for (size_t j = 0; j < f; ++j) {
      const double v = std::fabs(row[j]) <= kZeroThreshold ? 0.0 : row[j];
      const bool nan = std::isnan(v);
      out[j * lanes] = nan ? kInfD : v;
      out[(f + j) * lanes] = nan ? kInfD : -v;
      out[(2 * f + j) * lanes] = v;
    }
  }

  // --- one step of lane r -----------------------------------------------------------

  // The child is picked by indexing with the comparison, never by a branch
  // (whose direction would be unpredictable).
  static uint32_t step(const NodeF* base, const float* x, uint32_t off, size_t r) {
    const NodeF& n = node_at(base, off);
    return n.child[!(x[n.slot + r] < n.threshold)];
  }
  static uint32_t step_plain(const NodeD* base, const double* x, uint32_t off, size_t r) {
    const NodeD& n = node_at(base, off);
    return n.child[!(x[n.slot + r] <= n.threshold)];
  }

  /// LightGBM's own decision (true = left) for a special node on the raw value v.
  bool special_left(const NodeD& n, double v) const {
    if (n.slot & kCategorical) {
      // Tree::CategoricalDecision: NaN goes right; otherwise static_cast<int>(v),
      // which on x86-64 gives INT_MIN (negative, so right) out of range.
      if (std::isnan(v) || !(v > -2147483649.0 && v < 2147483648.0)) return false;
      const int c = static_cast<int>(v);
      if (c < 0) return false;
      const CatSplit& split = cats[static_cast<size_t>(n.threshold)];
      const uint32_t word = static_cast<uint32_t>(c) / 32;
      if (word >= split.words) return false;
      return ((cat_words[split.offset + word] >> (static_cast<uint32_t>(c) % 32)) & 1u) != 0;
    }
    // Tree::NumericalDecision.
    const bool nan_missing = (n.slot & kMissingNan) != 0;
    if (std::isnan(v) && !nan_missing) v = 0.0;
    if (((n.slot & kMissingZero) && std::fabs(v) <= kZeroThreshold) || (nan_missing && std::isnan(v))) {
      return (n.slot & kDefaultLeft) != 0;
    }
    return v <= n.threshold;
  }

  /// Lane r of a group; with kDense, the single dense row x (slot = n.slot / kLanes).
  template <bool kDense = false>
  uint32_t step_special(const NodeD* base, const double* x, uint32_t off, size_t r) const {
    const NodeD& n = node_at(base, off);
    const uint32_t slot = n.slot & kSlotMask;
    const double v = kDense ? x[slot / kLanes] : x[slot + r];
    if (n.slot & kSpecial) [[unlikely]] return n.child[!special_left(n, v)];
    return n.child[!(v <= n.threshold)];
  }

  // --- group kernels: every tree over kLanes prepared rows ---------------------------

  /// Adds every tree to acc[r * num_outputs + k].
  void run_group(const float* x, float* acc) const {
    const NodeF* base = fnodes.data();
    const size_t k = num_outputs;
    for (const TreeInfo& tree : trees) {
      std::array<uint32_t, kLanes> off;
      off.fill(tree.root);
      for (uint32_t d = tree.depth; d > 0; --d) {
#pragma GCC unroll 16
        for (size_t r = 0; r < kLanes; ++r) off[r] = step(base, x, off[r], r);
      }
#pragma GCC unroll 16
      for (size_t r = 0; r < kLanes; ++r) acc[r * k + tree.output] += node_at(base, off[r]).threshold;
    }
  }

  /// LightGBM trees are unbalanced (31 leaves can be 30 deep), so the
  /// lockstep walk stops as soon as every lane sits on a leaf.
  template <bool kSpecialTree>
  void walk_group(const double* x, const TreeInfo& tree, std::array<uint32_t, kLanes>& off) const {
    const NodeD* base = dnodes.data();
    off.fill(tree.root);
    for (uint32_t d = tree.depth; d > 0; --d) {
      uint32_t moved = 0;
#pragma GCC unroll 16
      for (size_t r = 0; r < kLanes; ++r) {
        const uint32_t next = kSpecialTree ? step_special(base, x, off[r], r) : step_plain(base, x, off[r], r);
        moved |= next ^ off[r];
        off[r] = next;
      }
      if (moved == 0) break;
    }
  }

  void run_group(const double* x, double* acc) const {
    const NodeD* base = dnodes.data();
    const size_t k = num_outputs;
    for (const TreeInfo& tree : trees) {
      std::array<uint32_t, kLanes> off;
      if (tree.special) {
        walk_group<true>(x, tree, off);
      } else {
        walk_group<false>(x, tree, off);
      }
#pragma GCC unroll 16
      for (size_t r = 0; r < kLanes; ++r) acc[r * k + tree.output] += node_at(base, off[r]).threshold;
    }
  }

  template <typename T>
  void predict_rows(const double* rows, size_t n_rows, size_t row_stride, double* raw_out) const {
    const size_t k = num_outputs;
    // Buffers on the stack for models of usual size (a 79-feature LightGBM
    // group is 30 KB), so that a batch call allocates nothing.
    std::array<T, kGroupStackValues> x_local;
    std::array<T, kGroupStackValues> acc_local;
    std::vector<T> x_heap;
    std::vector<T> acc_heap;
    T* x = x_local.data();
    T* acc = acc_local.data();
    if (slots() * kLanes > x_local.size()) {
      x_heap.resize(slots() * kLanes);
      x = x_heap.data();
    }
    if (kLanes * k > acc_local.size()) {
      acc_heap.resize(kLanes * k);
      acc = acc_heap.data();
    }
    const T init = std::is_same_v<T, float> ? static_cast<T>(base_margin) : T(0);
    for (size_t first = 0; first < n_rows; first += kLanes) {
      const size_t n = std::min(kLanes, n_rows - first);
      // A short last group repeats its first row in the spare lanes.
      for (size_t r = 0; r < kLanes; ++r) prepare(rows + (first + (r < n ? r : 0)) * row_stride, x + r, kLanes);
      std::fill(acc, acc + kLanes * k, init);
      run_group(x, acc);
      for (size_t i = 0; i < n * k; ++i) raw_out[first * k + i] = static_cast<double>(acc[i]);
    }
  }

  // --- a single dense row ----------------------------------------------------------------

  uint32_t step_one(const float* x, uint32_t off) const {
    const NodeF& n = node_at(fnodes.data(), off);
    return n.child[!(x[n.slot / kLanes] < n.threshold)];
  }
  uint32_t step_one(const double* x, uint32_t off) const { return step_special<true>(dnodes.data(), x, off, 0); }

  /// One dense row through every tree, kTreeLanes trees in lockstep (their
  /// load chains overlap, which is what a single row's latency needs); the
  /// leaf values are added in tree order as the batch path does.
  template <typename T, typename Acc>
  void run_row(const T* x, Acc* acc) const {
    constexpr size_t kTreeLanes = 16;
    const size_t n = trees.size();
    for (size_t t0 = 0; t0 < n; t0 += kTreeLanes) {
      const size_t count = std::min(kTreeLanes, n - t0);
      std::array<uint32_t, kTreeLanes> off;
      uint32_t depth = 0;
      for (size_t j = 0; j < kTreeLanes; ++j) {
        const TreeInfo& tree = trees[t0 + (j < count ? j : 0)];  // spare lanes repeat a tree
        off[j] = tree.root;
        depth = std::max(depth, tree.depth);
      }
      for (uint32_t d = depth; d > 0; --d) {
        uint32_t moved = 0;
#pragma GCC unroll 16
        for (size_t j = 0; j < kTreeLanes; ++j) {
          const uint32_t next = step_one(x, off[j]);
          moved |= next ^ off[j];
          off[j] = next;
        }
        if (moved == 0) break;
      }
      for (size_t j = 0; j < count; ++j) acc[trees[t0 + j].output] += static_cast<Acc>(leaf_value(off[j]));
    }
  }

  /// Walks a dense row through a tree; returns the byte offset of its leaf.
  template <typename T>
  uint32_t walk(const T* x, const TreeInfo& tree) const {
    uint32_t off = tree.root;
    for (uint32_t d = tree.depth; d > 0; --d) {
      const uint32_t next = step_one(x, off);
      if (next == off) break;
      off = next;
    }
    return off;
  }

  double leaf_value(uint32_t off) const {
    return xgb() ? static_cast<double>(node_at(fnodes.data(), off).threshold) : node_at(dnodes.data(), off).threshold;
  }

  /// Calls fn(x) with one row prepared densely (on the stack when it fits).
  template <typename T, typename Fn>
  void with_prepared_as(const double* row, Fn&& fn) const {
    const size_t values = slots();
    std::array<T, kStackValues> local;
    std::vector<T> heap;
    T* x = local.data();
    if (values > kStackValues) {
      heap.resize(values);
      x = heap.data();
    }
    prepare(row, x, 1);
    fn(static_cast<const T*>(x));
  }
  template <typename Fn>
  void with_prepared(const double* row, Fn&& fn) const {
    if (xgb()) {
      with_prepared_as<float>(row, fn);
    } else {
      with_prepared_as<double>(row, fn);
    }
  }
};

// ---- compiling a spec ------------------------------------------------------------

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& reason) {
  throw ModelError(name + ": " + reason);
}

}  // namespace

TreeModel TreeModel::from_spec(Spec spec, const std::string& name) {
  auto m = std::make_unique<Impl>();
  m->format = spec.format;
  m->kind = spec.kind;
  m->objective = spec.objective;
  m->transform = spec.transform;
  m->sigmoid_scale = spec.sigmoid_scale;
  m->num_features = spec.feature_names.size();
  m->num_outputs = spec.num_outputs;
  m->base_margin = static_cast<float>(spec.base_margin);
  m->names = std::move(spec.feature_names);
  const bool xgb = m->xgb();

  if (m->num_features == 0) fail(name, "the model has no features");
  if (m->num_features > kMaxFeatures) fail(name, fmt::format("too many features ({})", m->num_features));
  if (m->num_outputs == 0) fail(name, "the model has no outputs");
  if ((m->kind == Kind::multiclass) != (m->transform == Transform::softmax) ||
      (m->kind == Kind::multiclass ? m->num_outputs < 2 : m->num_outputs != 1)) {
    fail(name, fmt::format("objective '{}' does not fit {} output(s)", m->objective, m->num_outputs));
  }
  if (m->transform == Transform::sigmoid && !(m->sigmoid_scale > 0 && std::isfinite(m->sigmoid_scale))) {
    fail(name, fmt::format("sigmoid parameter {} must be positive", m->sigmoid_scale));
  }
  if (spec.trees.empty()) fail(name, "the model has no trees");

  const uint32_t n_features = static_cast<uint32_t>(m->num_features);
  size_t total_nodes = 0;
  for (const SpecTree& tree : spec.trees) total_nodes += tree.nodes.size();
  if (total_nodes * m->node_size() >= (size_t{1} << 32)) fail(name, "too many nodes");
  if (xgb) {
    m->fnodes.resize(total_nodes);
  } else {
    m->dnodes.resize(total_nodes);
  }
  m->leaf_id.assign(total_nodes, -1);
  m->mean.assign(total_nodes, 0.0);
  m->split_feature.assign(total_nodes, 0);
  m->trees.reserve(spec.trees.size());
  m->bias0 = xgb ? static_cast<double>(m->base_margin) : 0.0;

  size_t base = 0;
  std::vector<uint8_t> parents;
  struct Pending {
    int32_t spec;
    uint32_t node;  ///< index in the compiled array
    uint32_t depth;
  };
  std::vector<Pending> queue;
  std::vector<uint32_t> first_child;  ///< compiled index of each queued split's first child
  std::vector<double> weight_sum;
  std::vector<double> value_sum;
  for (size_t t = 0; t < spec.trees.size(); ++t) {
    const SpecTree& tree = spec.trees[t];
    const auto where = [&](size_t node) { return fmt::format("tree {} node {}", t, node); };
    const size_t n_nodes = tree.nodes.size();
    if (n_nodes == 0) fail(name, fmt::format("tree {} has no nodes", t));
    if (tree.output >= m->num_outputs) {
      fail(name, fmt::format("tree {} adds to output {} of {}", t, tree.output, m->num_outputs));
    }
    // Structure: every node but the root has exactly one parent, and all are
    // reached from the root (so there is no cycle and nothing dangles).
    parents.assign(n_nodes, 0);
    bool use_weights = true;
    for (size_t i = 0; i < n_nodes; ++i) {
      const SpecNode& n = tree.nodes[i];
      if (n.left < 0 || n.right < 0) {
        if (n.left != -1 || n.right != -1) fail(name, where(i) + ": a leaf must have no children");
        if (!std::isfinite(n.value)) fail(name, where(i) + ": leaf value is not finite");
        if (!(n.weight > 0) || !std::isfinite(n.weight)) use_weights = false;
        continue;
      }
      for (int32_t c : {n.left, n.right}) {
        if (c <= 0 || static_cast<size_t>(c) >= n_nodes) {
          fail(name, fmt::format("{}: child {} is out of range (0..{})", where(i), c, n_nodes - 1));
        }
        if (parents[static_cast<size_t>(c)]++ != 0) fail(name, fmt::format("{}: node {} has two parents", where(i), c));
      }
      if (n.feature >= m->num_features) {
        fail(name, fmt::format("{}: feature {} is out of range (the model has {})", where(i), n.feature,
                               m->num_features));
      }
      if (std::isnan(n.threshold)) fail(name, where(i) + ": threshold is NaN");
      // XGBoost never writes an infinite split condition (its inputs cannot be
      // infinite); the mirrored NaN-left encoding needs a finite one.
      if (xgb && !std::isfinite(static_cast<float>(n.threshold))) {
        fail(name, where(i) + ": split condition is not a finite float32");
      }
      if (n.categorical) {
        if (xgb) fail(name, where(i) + ": categorical splits are not supported in XGBoost models");
        if (n.categories.size() > (size_t{1} << 24)) fail(name, where(i) + ": categorical bitset too large");
      } else if (xgb && n.missing != Missing::nan) {
        fail(name, where(i) + ": XGBoost splits send NaN to the default branch only");
      }
    }

    // Breadth-first compile; the children of a split get adjacent slots.
    const uint32_t root = static_cast<uint32_t>(base);
    uint32_t next_free = root + 1;
    uint32_t depth = 0;
    bool special_tree = false;
    queue.clear();
    first_child.clear();
    queue.push_back({0, root, 0});
    for (size_t q = 0; q < queue.size(); ++q) {
      const Pending p = queue[q];
      const SpecNode& n = tree.nodes[static_cast<size_t>(p.spec)];
      depth = std::max(depth, p.depth);
      first_child.push_back(0);
      if (n.left < 0) {
        m->leaf_id[p.node] = n.leaf_id;
        const uint32_t self = m->offset_of(p.node);
        if (xgb) {
          m->fnodes[p.node] = NodeF{static_cast<float>(n.value), 0, {self, self}};
          m->mean[p.node] = static_cast<double>(static_cast<float>(n.value));
        } else {
          m->dnodes[p.node] = NodeD{n.value, 0, {self, self}, 0};
          m->mean[p.node] = n.value;
        }
        continue;
      }
      const uint32_t first = next_free;
      next_free += 2;
      if (next_free > base + n_nodes) fail(name, fmt::format("tree {}: more nodes reached than stored", t));
      first_child.back() = first;
      m->split_feature[p.node] = n.feature;
      const uint32_t a = m->offset_of(first);
      const uint32_t b = m->offset_of(first + 1);
      const auto slot = [&](uint32_t s) { return s * static_cast<uint32_t>(kLanes); };
      bool mirrored = false;  // NaN-left split: reads u, children swapped
      if (xgb) {
        const float threshold = static_cast<float>(n.threshold);
        mirrored = n.default_left;
        m->fnodes[p.node] = mirrored ? NodeF{-std::nextafter(threshold, -kInfF), slot(n_features + n.feature), {a, b}}
                                     : NodeF{threshold, slot(n.feature), {a, b}};
      } else if (n.categorical || n.missing == Missing::zero || !std::isfinite(n.threshold)) {
        special_tree = true;
        uint32_t flags = kSpecial;
        double threshold = n.threshold;
        if (n.categorical) {
          flags |= kCategorical;
          threshold = static_cast<double>(m->cats.size());
          m->cats.push_back(CatSplit{static_cast<uint32_t>(m->cat_words.size()),
                                     static_cast<uint32_t>(n.categories.size())});
          m->cat_words.insert(m->cat_words.end(), n.categories.begin(), n.categories.end());
        } else {
          flags |= (n.default_left ? kDefaultLeft : 0) | (n.missing == Missing::zero ? kMissingZero : 0) |
                   (n.missing == Missing::nan ? kMissingNan : 0);
        }
        m->dnodes[p.node] = NodeD{threshold, slot(2 * n_features + n.feature) | flags, {a, b}, 0};
      } else {
        // missing_type None reads NaN as 0.0; NaN then goes where 0.0 goes.
        mirrored = n.missing == Missing::nan ? n.default_left : 0.0 <= n.threshold;
        m->dnodes[p.node] = mirrored ? NodeD{-std::nextafter(n.threshold, kInfD), slot(n_features + n.feature), {a, b}, 0}
                                     : NodeD{n.threshold, slot(n.feature), {a, b}, 0};
      }
      queue.push_back({mirrored ? n.right : n.left, first, p.depth + 1});
      queue.push_back({mirrored ? n.left : n.right, first + 1, p.depth + 1});
    }
    if (queue.size() != n_nodes) {
      fail(name, fmt::format("tree {}: {} of {} nodes are not reachable from the root", t, n_nodes - queue.size(),
                             n_nodes));
    }
    // Node means, children before parents (reverse breadth-first order): the
    // hessian-weighted mean of the leaf values below; every leaf weighs 1
    // when the tree lacks usable weights.
    weight_sum.assign(n_nodes, 0.0);
    value_sum.assign(n_nodes, 0.0);
    for (size_t q = queue.size(); q-- > 0;) {
      const Pending& p = queue[q];
      const SpecNode& n = tree.nodes[static_cast<size_t>(p.spec)];
      const size_t rel = p.node - root;
      if (n.left < 0) {
        const double w = use_weights ? n.weight : 1.0;
        weight_sum[rel] = w;
        value_sum[rel] = w * m->mean[p.node];
        continue;
      }
      const size_t l = first_child[q] - root;
      weight_sum[rel] = weight_sum[l] + weight_sum[l + 1];
      value_sum[rel] = value_sum[l] + value_sum[l + 1];
      m->mean[p.node] = weight_sum[rel] != 0 ? value_sum[rel] / weight_sum[rel] : 0.0;
    }
    m->trees.push_back(TreeInfo{m->offset_of(root), depth, tree.output, special_tree});
    if (tree.output == 0) m->bias0 += m->mean[root];
    base += n_nodes;
  }
  return TreeModel(std::move(m));
}

// ---- loading -------------------------------------------------------------------------

TreeModel TreeModel::parse(std::string_view text, const std::string& name) {
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
  if (i < text.size() && text[i] == '{') return from_spec(parse_xgboost_model(text, name), name);
  if (text.substr(i, 4) == "tree" && (i + 4 == text.size() || text[i + 4] == '\n' || text[i + 4] == '\r')) {
    return from_spec(parse_lightgbm_model(text, name), name);
  }
  fail(name, "neither a LightGBM text model (first line 'tree') nor an XGBoost JSON model");
}

TreeModel TreeModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the model file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot read the model file");
  if (static_cast<uint64_t>(size) > kMaxModelBytes) {
    fail(path, fmt::format("model file of {} bytes is larger than the {} byte limit", size, kMaxModelBytes));
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) fail(path, "cannot read the model file");
  return parse(text, path);
}

TreeModel::TreeModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TreeModel::TreeModel(TreeModel&&) noexcept = default;
TreeModel& TreeModel::operator=(TreeModel&&) noexcept = default;
TreeModel::~TreeModel() = default;

TreeModel::Kind TreeModel::kind() const { return impl_->kind; }
TreeModel::Format TreeModel::format() const { return impl_->format; }
size_t TreeModel::num_features() const { return impl_->num_features; }
const std::vector<std::string>& TreeModel::feature_names() const { return impl_->names; }
size_t TreeModel::num_outputs() const { return impl_->num_outputs; }
size_t TreeModel::num_trees() const { return impl_->trees.size(); }
bool TreeModel::float32_outputs() const { return impl_->format == Format::xgboost; }
const std::string& TreeModel::objective() const { return impl_->objective; }

// ---- evaluation ------------------------------------------------------------------------

void TreeModel::predict_raw(const double* row, double* raw_out) const {
  const Impl& m = *impl_;
  m.with_prepared(row, [&](const auto* x) {
    // The accumulation order and precision of the batch path.
    if (m.xgb()) {
      std::array<float, 64> local;
      std::vector<float> heap;
      float* acc = local.data();
      if (m.num_outputs > local.size()) {
        heap.resize(m.num_outputs);
        acc = heap.data();
      }
      std::fill(acc, acc + m.num_outputs, m.base_margin);
      m.run_row(x, acc);
      for (size_t k = 0; k < m.num_outputs; ++k) raw_out[k] = static_cast<double>(acc[k]);
    } else {
      std::fill(raw_out, raw_out + m.num_outputs, 0.0);
      m.run_row(x, raw_out);
    }
  });
}

void TreeModel::predict_raw_batch(const double* rows, size_t n_rows, size_t row_stride, double* raw_out) const {
  const Impl& m = *impl_;
  if (n_rows == 0) return;
  if (m.xgb()) {
    m.predict_rows<float>(rows, n_rows, row_stride, raw_out);
  } else {
    m.predict_rows<double>(rows, n_rows, row_stride, raw_out);
  }
}

void TreeModel::predict_leaf(const double* row, int32_t* leaf_out) const {
  const Impl& m = *impl_;
  m.with_prepared(row, [&](const auto* x) {
    for (size_t t = 0; t < m.trees.size(); ++t) leaf_out[t] = m.leaf_id[m.index_of(m.walk(x, m.trees[t]))];
  });
}

void TreeModel::transform(const double* raw, double* out) const {
  const Impl& m = *impl_;
  const size_t k = m.num_outputs;
  const bool xgb = m.format == Format::xgboost;
  switch (m.transform) {
    case Transform::identity:
      if (out != raw) std::copy(raw, raw + k, out);
      return;
    case Transform::sigmoid:
      for (size_t i = 0; i < k; ++i) {
        if (xgb) {
          // xgboost 1.7 common::Sigmoid, all in float32.
          const float x = static_cast<float>(raw[i]);
          out[i] = static_cast<double>(1.0f / (std::exp(std::min(-x, 88.7f)) + 1.0f + 1e-16f));
        } else {
          // LightGBM BinaryLogloss::ConvertOutput.
          out[i] = 1.0 / (1.0 + std::exp(-m.sigmoid_scale * raw[i]));
        }
      }
      return;
    case Transform::softmax:
      if (xgb) {
        // xgboost 1.7 common::Softmax: float max and exp, double sum, float divide.
        float wmax = static_cast<float>(raw[0]);
        for (size_t i = 1; i < k; ++i) wmax = std::fmax(static_cast<float>(raw[i]), wmax);
        double wsum = 0;
        for (size_t i = 0; i < k; ++i) {
          const float e = std::exp(static_cast<float>(raw[i]) - wmax);
          out[i] = static_cast<double>(e);
          wsum += e;
        }
        const float sum = static_cast<float>(wsum);
        for (size_t i = 0; i < k; ++i) out[i] = static_cast<double>(static_cast<float>(out[i]) / sum);
      } else {
        // LightGBM Common::Softmax, in double.
        double wmax = raw[0];
        for (size_t i = 1; i < k; ++i) wmax = std::max(raw[i], wmax);
        double wsum = 0;
        for (size_t i = 0; i < k; ++i) {
          out[i] = std::exp(raw[i] - wmax);
          wsum += out[i];
        }
        for (size_t i = 0; i < k; ++i) out[i] /= wsum;
      }
      return;
    case Transform::exp:
      for (size_t i = 0; i < k; ++i) {
        out[i] = xgb ? static_cast<double>(std::exp(static_cast<float>(raw[i]))) : std::exp(raw[i]);
      }
      return;
  }
}

std::vector<std::pair<size_t, double>> TreeModel::contributions(const double* row) const {
  const Impl& m = *impl_;
  std::vector<double> per_feature(m.num_features, 0.0);
  std::vector<uint8_t> touched(m.num_features, 0);
  m.with_prepared(row, [&](const auto* x) {
    for (const TreeInfo& tree : m.trees) {
      if (tree.output != 0) continue;
      uint32_t off = tree.root;
      for (uint32_t d = tree.depth; d > 0; --d) {
        const uint32_t next = m.step_one(x, off);
        if (next == off) break;  // on a leaf
        const size_t i = m.index_of(off);
        const uint32_t f = m.split_feature[i];
        per_feature[f] += m.mean[m.index_of(next)] - m.mean[i];
        touched[f] = 1;
        off = next;
      }
    }
  });
  std::vector<std::pair<size_t, double>> out;
  for (size_t f = 0; f < m.num_features; ++f) {
    if (touched[f]) out.emplace_back(f, per_feature[f]);
  }
  return out;
}

double TreeModel::contribution_bias() const { return impl_->bias0; }

}  // namespace sentinel::flows
