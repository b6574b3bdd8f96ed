// CorrelationIndex: a hash map from S2 cells to the entries located in them.
//
// Spatial side. Cells are at the deepest level whose cells are all at least
// radius_m wide (S2::kMinWidth). S2CellUnion::Expand(min_radius, ...) is
// documented to cover every point within min_radius of a union and is built
// exactly so: the ancestor at that level plus its AppendAllNeighbors (which
// handles cube-face edges and corners). A query therefore visits the cell of
// e and its neighbours.
// Those nine cells cover about fifteen times the area of the radius' disc, so
// each cell splits its entries into buckets kBucketLevels levels deeper, and a
// bucket carries its cell's bounding cap: one dot product rules out a bucket
// whose every point is beyond the radius. The survivors are filtered by the
// exact chord distance.
//
// Order. A bucket's entries are sorted by seq, which is the order they
// arrive in (the merger inserts in ingest order), so an insert appends. A
// query for the N most recent neighbours scans its buckets newest first and
// leaves a bucket as soon as its next entry is older than the N-th best
// found so far: in a storm, where an event has hundreds of neighbours but the
// caller keeps 32, it reads a few records per bucket instead of every one in
// the window. The time test is per record. Expiry pops a global min-heap of
// (time, seq) and removes the dropped entries from the buckets it touched.
//
// Storage. Entries live in fixed blocks (stable addresses, so the pointers
// neighbours() returns and the (source, id) keys viewing entry ids stay valid
// while the entry lives) with a free list; slots never reach an output.
#include "detect/correlation.h"

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <s2/s1angle.h>
#include <s2/s1chord_angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell.h>
#include <s2/s2cell_id.h>
#include <s2/s2earth.h>
#include <s2/s2latlng.h>
#include <s2/s2metrics.h>
#include <s2/s2point.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "detect/s2_shapes.h"
#include "stream/bytes.h"

namespace sentinel::detect {
namespace {

constexpr uint32_t kMagic = 0x52524f43;  // "CORR"
constexpr uint32_t kVersion = 2;  // 2: confidence as a double
// Buckets one level below the query cells: in bench/correlation_bench.cpp two
// levels scan fewer records but touch more bucket headers and vectors, and
// come out slower.
constexpr int kBucketLevels = 1;
// The first slab a bounded neighbours() query scans (then doubled) spans
// the seqs expected to hold kFirstSlabFill times the answer's size of the
// scanned buckets' records (at least kMinFirstSlab seqs): a storm's answer
// is then usually found in one or two slabs, and a sparse city's in a few
// rather than a dozen passes over its buckets.
constexpr uint64_t kFirstSlabFill = 2;
constexpr uint64_t kMinFirstSlab = 64;
// Fixed-size part of one saved entry (the id's bytes come on top).
constexpr size_t kSavedEntryBytes = 8 + 8 + 8 + 8 + 8 + 1 + 2 + 4 + 1 + 8;

bool valid_location(double lat, double lon) {
  return std::isfinite(lat) && std::isfinite(lon) && std::fabs(lat) <= 90.0 && std::fabs(lon) <= 180.0;
}

using s2shapes::to_point;

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? INT64_MIN : INT64_MAX;
  return r;
}

// The total order of results: seq, then (source, id) should a caller ever
// repeat a seq, so the order never depends on where entries are stored.
bool before(const CorrelationEntry& a, const CorrelationEntry& b) {
  return std::tie(a.seq, a.source, a.id) < std::tie(b.seq, b.source, b.id);
}

// Identity of a stored entry; `id` views the stored entry's string.
struct IdKey {
  SourceId source;
  std::string_view id;
  bool operator==(const IdKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const IdKey& k) {
    return H::combine(std::move(h), k.source, k.id);
  }
};

// Entries at stable addresses, by slot. std::deque would do, but libstdc++
// gives it 512-byte blocks (six entries), so indexing it misses the cache in
// its block map; blocks of 1024 entries keep that map a few cache lines.
class EntryStore {
 public:
  CorrelationEntry& operator[](uint32_t slot) { return blocks_[slot >> kShift][slot & kMask]; }
  const CorrelationEntry& operator[](uint32_t slot) const { return blocks_[slot >> kShift][slot & kMask]; }
  uint32_t push_back(CorrelationEntry&& e) {
    if (size_ == blocks_.size() << kShift) blocks_.push_back(std::make_unique<CorrelationEntry[]>(kBlock));
    (*this)[size_] = std::move(e);
    return size_++;
  }

 private:
  static constexpr uint32_t kShift = 10, kBlock = 1u << kShift, kMask = kBlock - 1;
  std::vector<std::unique_ptr<CorrelationEntry[]>> blocks_;
  uint32_t size_ = 0;
};

}  // namespace

struct CorrelationIndex::Impl {
  // What a scan reads, packed together so a bucket's entries are contiguous.
  struct Record {
    int64_t time;
    uint64_t seq;
    S2Point point;
    uint32_t slot;
    SourceId source;
  };
  // A cell kBucketLevels below level_: its bounding cap, for the query's
  // first test, kept apart from the records so that test reads little.
  struct Bound {
    S2Point center;
    double reach2;  // squared chord: farther than this from center, no point
                    // of the cell is within the radius
  };
  // Its entries, sorted by (time, seq).
  struct Bucket {
    uint64_t id;
    std::vector<Record> records;
  };
  // bounds[i] belongs to buckets[i]; unordered, at most 4^kBucketLevels.
  struct Cell {
    std::vector<Bound> bounds;
    std::vector<Bucket> buckets;
  };
  struct HeapItem {
    int64_t time;
    uint64_t seq;
    uint32_t slot;
    // std::*_heap build a max-heap: invert to pop the earliest first.
    bool operator<(const HeapItem& o) const { return std::tie(time, seq, slot) > std::tie(o.time, o.seq, o.slot); }
  };
  struct Hit {
    // No initialisers: neighbours() grows its scratch vector of hits before
    // writing them, and zeroing the slots first would cost as much as the scan.
    uint64_t seq;
    uint32_t slot;
  };
  // Default-initialising allocator: resize() leaves new Hits unwritten.
  template <typename T>
  struct NoInit : std::allocator<T> {
    template <typename U>
    struct rebind {
      using other = NoInit<U>;
    };
    NoInit() = default;
    template <typename U>
    NoInit(const NoInit<U>&) noexcept {}
    template <typename U>
    void construct(U* p) noexcept {
      ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  };

  explicit Impl(const CorrelationConfig& config) : config_(config) {
    if (!std::isfinite(config.radius_m) || config.radius_m <= 0) {
      throw std::invalid_argument("correlation.radius_m: must be a positive distance in metres");
    }
    radius_rad_ = S2Earth::MetersToRadians(config.radius_m);
    if (radius_rad_ > S2::kMinWidth.GetValue(0)) {
      throw std::invalid_argument("correlation.radius_m: larger than an S2 face cell (about 6,000 km)");
    }
    if (config.window.count() < 0) {
      throw std::invalid_argument("correlation.window: must not be negative");
    }
    level_ = S2::kMinWidth.GetLevelForMinValue(radius_rad_);
    bucket_level_ = std::min(S2CellId::kMaxLevel, level_ + kBucketLevels);
    limit_length2_ = S1ChordAngle(S1Angle::Radians(radius_rad_)).length2();
    window_ms_ = config.window.count();
  }

  bool insert(CorrelationEntry&& e) {
    if (!valid_location(e.lat, e.lon)) return false;
    if (by_id_.contains(IdKey{e.source, e.id})) return false;
    const S2Point point = to_point(e.lat, e.lon);
    const S2CellId leaf(point);
    const uint64_t bucket_id = leaf.parent(bucket_level_).id();

    uint32_t slot = 0;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      entries_[slot] = std::move(e);
      bucket_of_[slot] = bucket_id;
    } else {
      slot = entries_.push_back(std::move(e));
      bucket_of_.push_back(bucket_id);
    }
    const CorrelationEntry& stored = entries_[slot];
    by_id_.emplace(IdKey{stored.source, stored.id}, slot);

    const Record rec{to_ms(stored.time), stored.seq, point, slot, stored.source};
    std::vector<Record>& records = bucket(cells_[leaf.parent(level_).id()], bucket_id).records;
    // The merger inserts in seq order: the position is the end but for
    // callers that do not (tests, a repeated seq goes after its equals).
    if (records.empty() || records.back().seq <= rec.seq) {
      records.push_back(rec);
    } else {
      records.insert(std::upper_bound(records.begin(), records.end(), rec,
                                      [](const Record& a, const Record& b) { return a.seq < b.seq; }),
                     rec);
    }

    heap_.push_back(HeapItem{rec.time, rec.seq, slot});
    std::push_heap(heap_.begin(), heap_.end());
    ++live_;
    return true;
  }

  // The bucket `id` of `cell`, created empty when missing.
  Bucket& bucket(Cell& cell, uint64_t id) {
    for (Bucket& b : cell.buckets) {
      if (b.id == id) return b;
    }
    const S2Cap cap = S2Cell(S2CellId(id)).GetCapBound();
    // Margin of 1 m against rounding in the cap and the chord arithmetic.
    const double reach = radius_rad_ + cap.GetRadius().radians() + S2Earth::MetersToRadians(1.0);
    const double reach2 = reach >= std::numbers::pi ? 4.0 : S1ChordAngle(S1Angle::Radians(reach)).length2();
    cell.bounds.push_back(Bound{cap.center(), reach2});
    return cell.buckets.emplace_back(Bucket{id, {}});
  }

  // Result order: seq, then (source, id) (before()); reads the entries only
  // on a tie of seq.
  bool hit_before(const Hit& a, const Hit& b) const {
    if (a.seq != b.seq) return a.seq < b.seq;
    return before(entries_[a.slot], entries_[b.slot]);
  }

  void neighbours(const CorrelationEntry& e, size_t max_results, std::vector<const CorrelationEntry*>& out) const {
    out.clear();
    if (max_results == 0 || !valid_location(e.lat, e.lon) || cells_.empty()) return;
    const S2Point p = to_point(e.lat, e.lon);
    const S2CellId home = S2CellId(p).parent(level_);
    visit_.clear();
    visit_.push_back(home);
    home.AppendAllNeighbors(level_, &visit_);
    // Around a cube vertex the same neighbour can be appended twice.
    std::sort(visit_.begin(), visit_.end());
    visit_.erase(std::unique(visit_.begin(), visit_.end()), visit_.end());

    // The buckets whose cap reaches e, and the newest seq among them.
    scan_.clear();
    uint64_t newest = 0, oldest = UINT64_MAX, records_in_scan = 0;
    for (const S2CellId id : visit_) {
      auto it = cells_.find(id.id());
      if (it == cells_.end()) continue;
      const Cell& cell = it->second;
      for (size_t i = 0; i < cell.bounds.size(); ++i) {
        if ((p - cell.bounds[i].center).Norm2() > cell.bounds[i].reach2) continue;
        const std::vector<Record>& records = cell.buckets[i].records;
        if (records.empty()) continue;
        scan_.push_back(&records);
        newest = std::max(newest, records.back().seq);
        oldest = std::min(oldest, records.front().seq);
        records_in_scan += records.size();
      }
    }

    const int64_t t = to_ms(e.time);
    const int64_t lo = saturating_sub(t, window_ms_);
    const int64_t hi = saturating_add(t, window_ms_);
    hits_.clear();
    // Newest first across the buckets, in slabs of seq that double in
    // width: after a slab, every hit not yet seen is older than every hit
    // found, so once max_results are found the scan ends. Each record is
    // read once.
    cursor_.resize(scan_.size());
    for (size_t b = 0; b < scan_.size(); ++b) cursor_[b] = scan_[b]->size();
    uint64_t width = kMinFirstSlab;
    if (records_in_scan > 0 && max_results < records_in_scan) {
      const double span = static_cast<double>(newest - oldest) + 1.0;
      const double per_seq = static_cast<double>(records_in_scan) / span;
      width = std::max<uint64_t>(kMinFirstSlab, static_cast<uint64_t>(static_cast<double>(kFirstSlabFill * max_results) / per_seq));
    }
    uint64_t floor = newest;
    bool more = !scan_.empty();
    while (more && hits_.size() < max_results) {
      floor = floor > width ? floor - width : 0;
      width *= 2;
      more = false;
      for (size_t b = 0; b < scan_.size(); ++b) {
        const Record* const records = scan_[b]->data();
        size_t i = cursor_[b];
        // Branch-free filter: in a storm the tests pass for a fifth to a
        // half of the records, which a branch would mispredict. Every record
        // is written to the next free slot; only a match advances it.
        size_t n = hits_.size();
        hits_.resize(n + i);
        Hit* const out = hits_.data();
        for (; i > 0 && records[i - 1].seq >= floor; --i) {
          const Record& r = records[i - 1];
          const bool match = (r.time >= lo) & (r.time <= hi) & (r.source != e.source) &
                             ((p - r.point).Norm2() <= limit_length2_);
          out[n] = Hit{r.seq, r.slot};
          n += match ? 1 : 0;
        }
        hits_.resize(n);
        cursor_[b] = i;
        more = more || i > 0;
      }
    }
    const auto newer_first = [this](const Hit& a, const Hit& b) { return hit_before(b, a); };
    if (hits_.size() > max_results) {
      std::nth_element(hits_.begin(), hits_.begin() + static_cast<std::ptrdiff_t>(max_results), hits_.end(),
                       newer_first);
      hits_.resize(max_results);
    }
    std::sort(hits_.begin(), hits_.end(), [this](const Hit& a, const Hit& b) { return hit_before(a, b); });
    out.reserve(hits_.size());
    for (const Hit& h : hits_) out.push_back(&entries_[h.slot]);
  }

  void expire(EventTime horizon) {
    const int64_t h = to_ms(horizon);
    if (heap_.empty() || heap_.front().time >= h) return;
    touched_.clear();
    while (!heap_.empty() && heap_.front().time < h) {
      std::pop_heap(heap_.begin(), heap_.end());
      const uint32_t slot = heap_.back().slot;
      heap_.pop_back();
      CorrelationEntry& entry = entries_[slot];
      by_id_.erase(IdKey{entry.source, entry.id});  // before the viewed id changes
      entry.id.clear();
      touched_.push_back(bucket_of_[slot]);
      free_.push_back(slot);
      --live_;
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (const uint64_t bucket_id : touched_) {
      auto it = cells_.find(S2CellId(bucket_id).parent(level_).id());
      Cell& cell = it->second;
      size_t i = 0;
      while (cell.buckets[i].id != bucket_id) ++i;
      std::vector<Record>& records = cell.buckets[i].records;
      // In seq order, an entry's time is not monotone (events arrive out of
      // order within the lateness bound): drop every one before h, keep the
      // rest in order.
      std::erase_if(records, [h](const Record& rec) { return rec.time < h; });
      if (!records.empty()) continue;
      if (i + 1 != cell.buckets.size()) {
        cell.buckets[i] = std::move(cell.buckets.back());
        cell.bounds[i] = cell.bounds.back();
      }
      cell.buckets.pop_back();
      cell.bounds.pop_back();
      if (cell.buckets.empty()) cells_.erase(it);
    }
  }

  void save(ByteWriter& out) const {
    std::vector<const CorrelationEntry*> all;
    all.reserve(live_);
    for (const HeapItem& item : heap_) all.push_back(&entries_[item.slot]);
    std::sort(all.begin(), all.end(), [](const CorrelationEntry* a, const CorrelationEntry* b) { return before(*a, *b); });
    out.u32(kMagic);
    out.u32(kVersion);
    out.u64(all.size());
    for (const CorrelationEntry* e : all) {
      out.u64(e->seq);
      out.i64(to_ms(e->time));
      out.f64(e->lat);
      out.f64(e->lon);
      out.f64(e->confidence);
      out.u8(e->has_confidence ? 1 : 0);
      out.u16(e->source);
      out.u32(e->type);
      out.u8(static_cast<uint8_t>(e->severity));
      out.str(e->id);
    }
  }

  // Fills this (empty) Impl from `in`; false on any malformed field.
  bool load(ByteReader& in) {
    if (in.u32() != kMagic || in.u32() != kVersion) return false;
    const uint64_t n = in.count(kSavedEntryBytes);
    if (in.fail()) return false;
    for (uint64_t i = 0; i < n; ++i) {
      CorrelationEntry e;
      e.seq = in.u64();
      e.time = event_time_from_ms(in.i64());
      e.lat = in.f64();
      e.lon = in.f64();
      e.confidence = in.f64();
      const uint8_t has_confidence = in.u8();
      e.source = in.u16();
      e.type = in.u32();
      const uint8_t severity = in.u8();
      e.id = std::string(in.str());
      if (in.fail() || has_confidence > 1 || severity > static_cast<uint8_t>(Severity::kOther)) return false;
      e.has_confidence = has_confidence == 1;
      e.severity = static_cast<Severity>(severity);
      if (!insert(std::move(e))) return false;  // invalid location or duplicate (source, id)
    }
    return !in.fail();
  }

  CorrelationConfig config_;
  double radius_rad_ = 0;
  int level_ = 0;         // cells at least radius_m wide
  int bucket_level_ = 0;  // level_ + kBucketLevels
  double limit_length2_ = 0;
  int64_t window_ms_ = 0;

  EntryStore entries_;
  std::vector<uint64_t> bucket_of_;  // by slot
  std::vector<uint32_t> free_;
  size_t live_ = 0;
  absl::flat_hash_map<IdKey, uint32_t> by_id_;
  absl::flat_hash_map<uint64_t, Cell> cells_;
  std::vector<HeapItem> heap_;

  // Scratch reused across calls so the hot path does not allocate.
  mutable std::vector<S2CellId> visit_;
  mutable std::vector<Hit, NoInit<Hit>> hits_;
  mutable std::vector<const std::vector<Record>*> scan_;
  mutable std::vector<size_t> cursor_;
  std::vector<uint64_t> touched_;
};

CorrelationIndex::CorrelationIndex(const CorrelationConfig& config) : impl_(std::make_unique<Impl>(config)) {}
CorrelationIndex::~CorrelationIndex() = default;
CorrelationIndex::CorrelationIndex(CorrelationIndex&&) noexcept = default;
CorrelationIndex& CorrelationIndex::operator=(CorrelationIndex&&) noexcept = default;

void CorrelationIndex::neighbours(const CorrelationEntry& e, std::vector<const CorrelationEntry*>& out) const {
  impl_->neighbours(e, SIZE_MAX, out);
}

void CorrelationIndex::neighbours(const CorrelationEntry& e, size_t max_results,
                                  std::vector<const CorrelationEntry*>& out) const {
  impl_->neighbours(e, max_results, out);
}

bool CorrelationIndex::insert(CorrelationEntry e) { return impl_->insert(std::move(e)); }

void CorrelationIndex::expire(EventTime horizon) { impl_->expire(horizon); }

size_t CorrelationIndex::size() const { return impl_->live_; }

void CorrelationIndex::save(ByteWriter& out) const { impl_->save(out); }

bool CorrelationIndex::load(ByteReader& in) {
  auto fresh = std::make_unique<Impl>(impl_->config_);
  if (!fresh->load(in)) return false;
  impl_ = std::move(fresh);
  return true;
}

}  // namespace sentinel::detect
