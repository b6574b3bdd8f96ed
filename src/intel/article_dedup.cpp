#include "intel/article_dedup.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <stdexcept>
#include <utility>

#include "intel/canonical_url.h"
#include "intel/text_features.h"

namespace sentinel::intel {
namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr int kSimBands = 4;
constexpr uint32_t kSimBuckets = 1u << 16;
// A chain longer than this (one bucket shared by thousands of articles, e.g.
// a recurring headline) is walked newest-first up to here: the bound that
// keeps check() inside its latency budget whatever the data.
constexpr uint32_t kMaxChain = 4096;

constexpr uint8_t kHasTitle = 1;
constexpr uint8_t kHasSimhash = 2;
constexpr uint8_t kHasEntities = 4;

uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}

// Open addressing with linear probing, keys any uint64, values any uint32 but
// kNone (the empty mark). Hand-written: sentinel_intel links no flat hash map
// (absl is not among its dependencies), and std::unordered_map costs a node
// allocation (~40 bytes) and a cache miss per entry at 1M entries.
class FlatMap {
 public:
  explicit FlatMap(size_t expected = 16) { rehash(capacity_for(expected)); }

  const uint32_t* find(uint64_t key) const {
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (values_[i] == kNone) return nullptr;
      if (keys_[i] == key) return &values_[i];
    }
  }
  uint32_t* find(uint64_t key) { return const_cast<uint32_t*>(std::as_const(*this).find(key)); }

  /// Inserts key -> value unless the key is present; returns the stored
  /// value's address and whether it was inserted.
  std::pair<uint32_t*, bool> insert(uint64_t key, uint32_t value) {
    if ((size_ + 1) * 10 > values_.size() * 7) rehash(values_.size() * 2);
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (values_[i] == kNone) {
        keys_[i] = key;
        values_[i] = value;
        ++size_;
        return {&values_[i], true};
      }
      if (keys_[i] == key) return {&values_[i], false};
    }
  }

  size_t bytes() const { return keys_.capacity() * sizeof(uint64_t) + values_.capacity() * sizeof(uint32_t); }

 private:
  static size_t capacity_for(size_t n) {
    size_t cap = 16;
    while (cap * 7 < n * 10) cap *= 2;
    return cap;
  }
  void rehash(size_t capacity) {
    std::vector<uint64_t> keys(capacity);
    std::vector<uint32_t> values(capacity, kNone);
    size_t mask = capacity - 1;
    for (size_t j = 0; j < values_.size(); ++j) {
      if (values_[j] == kNone) continue;
      size_t i = mix64(keys_[j]) & mask;
      while (values[i] != kNone) i = (i + 1) & mask;
      keys[i] = keys_[j];
      values[i] = values_[j];
    }
    keys_.swap(keys);
    values_.swap(values);
    mask_ = mask;
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

// One whole-text SimHash in a band bucket. The whole-text index is probed at
// radius 1 (68 buckets of ~15 entries each at 1M articles), so its buckets
// hold the hashes themselves, contiguous: a probe reads a few cache lines
// instead of chasing one pointer and one hash per entry.
struct SimEntry {
  uint32_t lo;
  uint32_t hi;
  uint32_t slot;
  uint64_t hash() const { return (static_cast<uint64_t>(hi) << 32) | lo; }
};

template <typename T>
size_t vector_bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

// Number of common elements of two sorted unique ranges.
template <typename T>
size_t common_count(const T* a, size_t na, const T* b, size_t nb) {
  size_t i = 0, j = 0, common = 0;
  while (i < na && j < nb) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++common;
      ++i;
      ++j;
    }
  }
  return common;
}

uint64_t entity_key(int64_t day, std::string_view normalized_place) {
  uint64_t h = XXH3_64bits_withSeed(normalized_place.data(), normalized_place.size(), static_cast<uint64_t>(day));
  return h;
}

}  // namespace

int64_t day_from_ms(int64_t ms) {
  constexpr int64_t kDay = 86'400'000;
  int64_t q = ms / kDay;
  if (ms % kDay < 0) --q;
  return q;
}

std::string_view to_string(DedupRule rule) {
  switch (rule) {
    case DedupRule::kNone: return "none";
    case DedupRule::kCanonicalUrl: return "canonical_url";
    case DedupRule::kTitle: return "title";
    case DedupRule::kFingerprint: return "fingerprint";
    case DedupRule::kEntity: return "entity";
  }
  return "none";
}

Status validate(const DedupConfig& c) {
  if (!(c.title_min_similarity > 0.0 && c.title_min_similarity <= 1.0)) {
    return make_error("title_min_similarity", "must be in (0, 1]");
  }
  if (c.title_min_tokens < 1) return make_error("title_min_tokens", "must be at least 1");
  if (c.title_window.count() < 0) return make_error("title_window", "must not be negative");
  if (c.lsh_bands < 1 || c.lsh_bands > 64) return make_error("lsh_bands", "must be in 1..64");
  if (c.lsh_rows < 1 || c.lsh_rows > 16) return make_error("lsh_rows", "must be in 1..16");
  if (c.shingle_width < 1 || c.shingle_width > 8) return make_error("shingle_width", "must be in 1..8");
  if (c.min_shingles < 1) return make_error("min_shingles", "must be at least 1");
  if (c.max_hamming > 11) return make_error("max_hamming", "must be in 0..11");
  if (c.max_lead_hamming > 11) return make_error("max_lead_hamming", "must be in 0..11");
  if (c.lead_shingles < 1) return make_error("lead_shingles", "must be at least 1");
  if (c.min_shared_actors < 1) return make_error("min_shared_actors", "must be at least 1");
  if (c.expected_articles > (uint64_t{1} << 31)) return make_error("expected_articles", "must be at most 2^31");
  return Ok{};
}

struct ArticleDedup::Impl {
  explicit Impl(DedupConfig c)
      : config(std::move(c)),
        url_map(config.expected_articles),
        id_map(config.expected_articles),
        entity_map(config.expected_articles / 4) {
    Status ok = validate(config);
    if (!ok) throw std::invalid_argument("article dedup config: " + ok.error().to_string());
    for (const std::string& g : config.generic_actors) {
      std::string n = normalize_text(g);
      if (!n.empty()) generic.push_back(hash_word(n));
    }
    std::sort(generic.begin(), generic.end());
    generic.erase(std::unique(generic.begin(), generic.end()), generic.end());
    minhash_seeds.resize(static_cast<size_t>(config.lsh_bands) * config.lsh_rows);
    for (size_t i = 0; i < minhash_seeds.size(); ++i) minhash_seeds[i] = static_cast<uint32_t>(mix64(i + 1));
    title_bucket_count = 1024;
    while (title_bucket_count < config.expected_articles) title_bucket_count *= 2;
    title_heads.assign(static_cast<size_t>(title_bucket_count) * config.lsh_bands, kNone);
    full_buckets.resize(static_cast<size_t>(kSimBuckets) * kSimBands);
    lead_heads.assign(static_cast<size_t>(kSimBuckets) * kSimBands, kNone);
    // Pigeonhole: within k bits, some 16-bit band differs in at most
    // ceil((k+1)/4) - 1 bits; probe every mask of up to that many bits.
    // Masks are ordered by bit count, so radius r uses a prefix of them.
    probe_masks.push_back(0);
    for (uint32_t i = 0; i < 16; ++i) probe_masks.push_back(1u << i);
    for (uint32_t i = 0; i < 16; ++i) {
      for (uint32_t j = i + 1; j < 16; ++j) probe_masks.push_back((1u << i) | (1u << j));
    }
    auto masks_for = [](uint32_t k) -> uint32_t {
      uint32_t radius = (k + 1 + kSimBands - 1) / kSimBands - 1;
      return radius == 0 ? 1 : radius == 1 ? 17 : 137;
    };
    probe_count[0] = masks_for(config.max_hamming);
    probe_count[1] = masks_for(config.max_lead_hamming);
    title_offsets.push_back(0);
    actor_offsets.push_back(0);
  }

  // Band keys of a title token set: band b hashes its rows' minhashes.
  void band_keys(const uint32_t* tokens, size_t n, uint32_t* out) const {
    const uint32_t rows = config.lsh_rows;
    std::array<uint32_t, 16> mins{};
    for (uint32_t b = 0; b < config.lsh_bands; ++b) {
      for (uint32_t r = 0; r < rows; ++r) {
        uint32_t seed = minhash_seeds[b * rows + r];
        uint32_t m = 0xFFFFFFFFu;
        for (size_t t = 0; t < n; ++t) m = std::min(m, mix32(tokens[t] ^ seed));
        mins[r] = m;
      }
      out[b] = static_cast<uint32_t>(XXH3_64bits_withSeed(mins.data(), rows * sizeof(uint32_t), b));
    }
  }

  uint32_t title_bucket(uint32_t band, uint32_t key) const {
    return band * title_bucket_count + (key & (title_bucket_count - 1));
  }

  // Doubles the title bucket tables and re-chains every titled slot. The
  // band keys are recomputed from the stored tokens (cheaper in memory than
  // keeping them: ~0.3 s per doubling at 1M articles, amortised).
  void grow_title_index() {
    title_bucket_count *= 2;
    title_heads.assign(static_cast<size_t>(title_bucket_count) * config.lsh_bands, kNone);
    std::vector<uint32_t> keys(config.lsh_bands);
    for (uint32_t slot = 0; slot < ids.size(); ++slot) {
      if (!(flags[slot] & kHasTitle)) continue;
      band_keys(&title_pool[title_offsets[slot]], title_offsets[slot + 1] - title_offsets[slot], keys.data());
      for (uint32_t b = 0; b < config.lsh_bands; ++b) {
        uint32_t& head = title_heads[title_bucket(b, keys[b])];
        title_next[static_cast<size_t>(slot) * config.lsh_bands + b] = head;
        head = slot;
      }
    }
  }

  std::vector<uint64_t> actor_hashes(const ArticleEntities& e) const {
    std::vector<uint64_t> out;
    for (const std::string& a : e.actors) {
      std::string n = normalize_text(a);
      if (n.empty()) continue;
      uint64_t h = hash_word(n);
      if (std::binary_search(generic.begin(), generic.end(), h)) continue;
      out.push_back(h);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  DedupMatch matched(DedupRule rule, uint32_t slot, double similarity, int hamming) const {
    DedupMatch m;
    m.duplicate = true;
    m.rule = rule;
    m.article_id = ids[slot];
    m.incident_id = incidents[slot];
    m.similarity = similarity;
    m.hamming = hamming;
    return m;
  }

  DedupMatch check(const ArticleFingerprint& fp, const ArticleEntities* entities) const {
    if (fp.has_url) {
      if (const uint32_t* slot = url_map.find(fp.url_hash)) return matched(DedupRule::kCanonicalUrl, *slot, 1.0, -1);
    }
    if (fp.title_tokens.size() >= config.title_min_tokens) {
      std::array<uint32_t, 64> keys{};
      band_keys(fp.title_tokens.data(), fp.title_tokens.size(), keys.data());
      uint32_t best = kNone;
      double best_sim = 0.0;
      const int64_t window = config.title_window.count();
      for (uint32_t b = 0; b < config.lsh_bands; ++b) {
        uint32_t walked = 0;
        for (uint32_t c = title_heads[title_bucket(b, keys[b])]; c != kNone && walked < kMaxChain;
             c = title_next[static_cast<size_t>(c) * config.lsh_bands + b], ++walked) {
          if (fp.published_ms != 0 && published[c] != 0 && std::llabs(fp.published_ms - published[c]) > window) {
            continue;
          }
          const uint32_t* tokens = &title_pool[title_offsets[c]];
          size_t n = title_offsets[c + 1] - title_offsets[c];
          size_t common = common_count(fp.title_tokens.data(), fp.title_tokens.size(), tokens, n);
          double sim = static_cast<double>(common) / static_cast<double>(fp.title_tokens.size() + n - common);
          if (sim >= config.title_min_similarity && (sim > best_sim || (sim == best_sim && c < best))) {
            best = c;
            best_sim = sim;
          }
        }
      }
      if (best != kNone) return matched(DedupRule::kTitle, best, best_sim, -1);
    }
    if (fp.has_simhash) {
      // Whole text first, then the lead: the stronger evidence wins.
      uint32_t best = kNone;
      int best_distance = 65;
      const int limit = static_cast<int>(config.max_hamming);
      for (int band = 0; band < kSimBands; ++band) {
        const uint32_t value = static_cast<uint32_t>(fp.simhash >> (16 * band)) & 0xFFFFu;
        for (uint32_t p = 0; p < probe_count[0]; ++p) {
          const std::vector<SimEntry>& bucket =
              full_buckets[static_cast<size_t>(band) * kSimBuckets + (value ^ probe_masks[p])];
          const size_t first = bucket.size() > kMaxChain ? bucket.size() - kMaxChain : 0;
          for (size_t i = first; i < bucket.size(); ++i) {
            int d = hamming_distance(fp.simhash, bucket[i].hash());
            if (d <= limit && (d < best_distance || (d == best_distance && bucket[i].slot < best))) {
              best = bucket[i].slot;
              best_distance = d;
            }
          }
        }
      }
      if (best != kNone) return matched(DedupRule::kFingerprint, best, 1.0 - best_distance / 64.0, best_distance);

      const int lead_limit = static_cast<int>(config.max_lead_hamming);
      for (int band = 0; band < kSimBands; ++band) {
        const uint32_t value = static_cast<uint32_t>(fp.lead_simhash >> (16 * band)) & 0xFFFFu;
        for (uint32_t p = 0; p < probe_count[1]; ++p) {
          uint32_t walked = 0;
          for (uint32_t c = lead_heads[static_cast<size_t>(band) * kSimBuckets + (value ^ probe_masks[p])];
               c != kNone && walked < kMaxChain; c = lead_next[static_cast<size_t>(c) * kSimBands + band], ++walked) {
            int d = hamming_distance(fp.lead_simhash, lead_simhashes[c]);
            if (d <= lead_limit && (d < best_distance || (d == best_distance && c < best))) {
              best = c;
              best_distance = d;
            }
          }
        }
      }
      if (best != kNone) {
        DedupMatch m = matched(DedupRule::kFingerprint, best, 1.0 - best_distance / 64.0, best_distance);
        m.by_lead = true;
        return m;
      }
    }
    if (entities != nullptr && entities->usable()) {
      std::string place = normalize_text(entities->place);
      std::vector<uint64_t> actors = actor_hashes(*entities);
      if (!place.empty() && actors.size() >= config.min_shared_actors) {
        if (const uint32_t* head = entity_map.find(entity_key(entities->day, place))) {
          uint32_t best = kNone;
          double best_sim = 0.0;
          uint32_t walked = 0;
          for (uint32_t c = *head; c != kNone && walked < kMaxChain; c = entity_next[c], ++walked) {
            const uint64_t* theirs = &actor_pool[actor_offsets[c]];
            size_t n = actor_offsets[c + 1] - actor_offsets[c];
            size_t common = common_count(actors.data(), actors.size(), theirs, n);
            if (common < config.min_shared_actors) continue;
            double sim = static_cast<double>(common) / static_cast<double>(actors.size() + n - common);
            if (sim > best_sim || (sim == best_sim && c < best)) {
              best = c;
              best_sim = sim;
            }
          }
          if (best != kNone) return matched(DedupRule::kEntity, best, best_sim, -1);
        }
      }
    }
    return DedupMatch{};
  }

  Status add(const ArticleFingerprint& fp, uint64_t article_id, const ArticleEntities* entities,
             uint64_t incident_id) {
    if (ids.size() >= kNone - 1) return make_error("article_id", "article dedup index is full (2^32 articles)");
    uint32_t slot = static_cast<uint32_t>(ids.size());
    auto [id_slot, inserted] = id_map.insert(article_id, slot);
    if (!inserted) return make_error("article_id", "article " + std::to_string(article_id) + " is already stored");
    (void)id_slot;
    ids.push_back(article_id);
    incidents.push_back(incident_id);
    published.push_back(fp.published_ms);
    lead_simhashes.push_back(fp.lead_simhash);
    uint8_t flag = 0;

    if (fp.has_url) url_map.insert(fp.url_hash, slot);  // the first article under a URL stays its owner

    title_pool.insert(title_pool.end(), fp.title_tokens.begin(), fp.title_tokens.end());
    title_offsets.push_back(static_cast<uint32_t>(title_pool.size()));
    title_next.resize(title_next.size() + config.lsh_bands, kNone);
    if (fp.title_tokens.size() >= config.title_min_tokens) {
      flag |= kHasTitle;
      ++titled;
      if (titled > title_bucket_count) {
        flags.push_back(flag);  // grow_title_index() reads this slot's flag
        grow_title_index();
        flags.pop_back();
      } else {
        std::array<uint32_t, 64> keys{};
        band_keys(fp.title_tokens.data(), fp.title_tokens.size(), keys.data());
        for (uint32_t b = 0; b < config.lsh_bands; ++b) {
          uint32_t& head = title_heads[title_bucket(b, keys[b])];
          title_next[static_cast<size_t>(slot) * config.lsh_bands + b] = head;
          head = slot;
        }
      }
    }

    lead_next.resize(lead_next.size() + kSimBands, kNone);
    if (fp.has_simhash) {
      flag |= kHasSimhash;
      for (int band = 0; band < kSimBands; ++band) {
        uint32_t value = static_cast<uint32_t>(fp.simhash >> (16 * band)) & 0xFFFFu;
        full_buckets[static_cast<size_t>(band) * kSimBuckets + value].push_back(
            SimEntry{static_cast<uint32_t>(fp.simhash), static_cast<uint32_t>(fp.simhash >> 32), slot});
        value = static_cast<uint32_t>(fp.lead_simhash >> (16 * band)) & 0xFFFFu;
        uint32_t& head = lead_heads[static_cast<size_t>(band) * kSimBuckets + value];
        lead_next[static_cast<size_t>(slot) * kSimBands + band] = head;
        head = slot;
      }
    }

    entity_next.push_back(kNone);
    if (entities != nullptr && entities->usable()) {
      std::string place = normalize_text(entities->place);
      std::vector<uint64_t> actors = actor_hashes(*entities);
      if (!place.empty()) {
        flag |= kHasEntities;
        actor_pool.insert(actor_pool.end(), actors.begin(), actors.end());
        auto [head, fresh] = entity_map.insert(entity_key(entities->day, place), slot);
        if (!fresh) {
          entity_next[slot] = *head;
          *head = slot;
        }
      }
    }
    actor_offsets.push_back(static_cast<uint32_t>(actor_pool.size()));
    flags.push_back(flag);
    return Ok{};
  }

  size_t full_bucket_bytes() const {
    size_t total = vector_bytes(full_buckets);
    for (const auto& bucket : full_buckets) total += vector_bytes(bucket);
    return total;
  }

  size_t bytes() const {
    return url_map.bytes() + id_map.bytes() + entity_map.bytes() + vector_bytes(ids) + vector_bytes(incidents) +
           vector_bytes(published) + vector_bytes(lead_simhashes) + full_bucket_bytes() + vector_bytes(flags) + vector_bytes(title_offsets) +
           vector_bytes(title_pool) + vector_bytes(title_next) + vector_bytes(title_heads) +
           vector_bytes(lead_next) + vector_bytes(lead_heads) + vector_bytes(entity_next) +
           vector_bytes(actor_offsets) + vector_bytes(actor_pool) + vector_bytes(minhash_seeds) +
           vector_bytes(generic) + vector_bytes(probe_masks);
  }

  const DedupConfig config;
  std::vector<uint64_t> generic;        // hashes of normalised generic actor names, sorted
  std::vector<uint32_t> minhash_seeds;  // bands * rows
  std::vector<uint32_t> probe_masks;    // XOR masks probed around each SimHash band
  std::array<uint32_t, 2> probe_count{};  // masks used: whole-text index, lead index

  // Guarded by mutex: everything below. Per-slot arrays are indexed by the
  // dense slot number (insertion order); chains run newest-first.
  mutable std::shared_mutex mutex;
  FlatMap url_map;     // XXH3 of canonical URL -> first slot
  FlatMap id_map;      // article id -> slot
  FlatMap entity_map;  // hash(day, place) -> newest slot of the chain
  std::vector<uint64_t> ids, incidents;
  std::vector<int64_t> published;
  std::vector<uint64_t> lead_simhashes;
  std::vector<uint8_t> flags;
  std::vector<uint32_t> title_offsets, title_pool;  // slot's tokens: pool[offsets[s] .. offsets[s+1])
  std::vector<uint32_t> title_next, title_heads;    // [slot * bands + b], [b * bucket_count + bucket]
  uint32_t title_bucket_count = 0;
  uint64_t titled = 0;
  std::vector<std::vector<SimEntry>> full_buckets;  // [band * 65536 + band value], oldest first
  std::vector<uint32_t> lead_next, lead_heads;      // [slot * 4 + band], [band * 65536 + band value]
  std::vector<uint32_t> entity_next;
  std::vector<uint32_t> actor_offsets;
  std::vector<uint64_t> actor_pool;
};

ArticleDedup::ArticleDedup(DedupConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
ArticleDedup::~ArticleDedup() = default;

const DedupConfig& ArticleDedup::config() const { return impl_->config; }

ArticleFingerprint ArticleDedup::fingerprint(const Article& article) const {
  ArticleFingerprint fp;
  if (!article.canonical_url.empty()) {
    fp.has_url = true;
    fp.url_hash = XXH3_64bits(article.canonical_url.data(), article.canonical_url.size());
  } else if (!article.url.empty()) {
    Result<std::string> canonical = canonicalize_url(article.url);
    if (canonical.ok()) {
      fp.has_url = true;
      fp.url_hash = XXH3_64bits(canonical->data(), canonical->size());
    }
  }
  fp.title_tokens = title_tokens(article.title);
  std::string text = normalize_text(article.text);
  std::vector<uint64_t> shingles = word_shingles(text, static_cast<int>(impl_->config.shingle_width));
  if (shingles.size() >= impl_->config.min_shingles) {
    fp.has_simhash = true;
    fp.simhash = simhash64(shingles);
    size_t lead = std::min<size_t>(shingles.size(), impl_->config.lead_shingles);
    fp.lead_simhash = simhash64(std::span<const uint64_t>(shingles.data(), lead));
  }
  fp.published_ms = article.published_ms;
  return fp;
}

DedupMatch ArticleDedup::check(const Article& article, const ArticleEntities* entities) const {
  return check(fingerprint(article), entities);
}

DedupMatch ArticleDedup::check(const ArticleFingerprint& fp, const ArticleEntities* entities) const {
  std::shared_lock lock(impl_->mutex);
  return impl_->check(fp, entities);
}

Status ArticleDedup::add(const Article& article, uint64_t article_id, const ArticleEntities* entities,
                         uint64_t incident_id) {
  return add(fingerprint(article), article_id, entities, incident_id);
}

Status ArticleDedup::add(const ArticleFingerprint& fp, uint64_t article_id, const ArticleEntities* entities,
                         uint64_t incident_id) {
  std::unique_lock lock(impl_->mutex);
  return impl_->add(fp, article_id, entities, incident_id);
}

Status ArticleDedup::set_incident(uint64_t article_id, uint64_t incident_id) {
  std::unique_lock lock(impl_->mutex);
  uint32_t* slot = impl_->id_map.find(article_id);
  if (slot == nullptr) return make_error("article_id", "article " + std::to_string(article_id) + " is not stored");
  impl_->incidents[*slot] = incident_id;
  return Ok{};
}

size_t ArticleDedup::size() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->ids.size();
}

size_t ArticleDedup::memory_bytes() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->bytes() + sizeof(Impl);
}

}  // namespace sentinel::intel
