// ArticleDedup: is this article one we already have? Four rules, tried in
// order, the first that matches wins (DESIGN.md section 7):
//
//  1. canonical URL: the same canonical URL (canonical_url.h), exactly;
//  2. title: token-set Jaccard of the two titles (stop words dropped) at
//     least `title_min_similarity`, both titles of at least
//     `title_min_tokens` tokens (short headlines such as "Bombing in Bogota"
//     are written for many incidents) and published within `title_window`;
//  3. content fingerprint: SimHash (64 bits over word shingles) within
//     `max_hamming` bits, for texts of at least `min_shingles` shingles;
//     compared twice: over the whole text, and over its lead (the first
//     `lead_shingles` shingles), which is what survives when a syndicated
//     copy is truncated to a teaser or the stored article was the feed's
//     snippet;
//  4. entity: the same incident day and place (normalised) and at least
//     `min_shared_actors` shared actors, generic ones ("police",
//     "terrorists") not counted.
//
// Index structures (all sized for 1M stored articles, see docs/INTEL_DEDUP.md):
//  - URL: open-addressing hash table of the 64-bit XXH3 of the canonical URL;
//  - title: MinHash-LSH over the title token set, `lsh_bands` bands of
//    `lsh_rows` rows, each band a bucket table chained through the slots;
//    candidates are verified by exact Jaccard on the stored token hashes;
//  - fingerprint: the 4-table pigeonhole index (Manku et al., WWW 2007): the
//    SimHash split into four 16-bit bands, one 65,536-bucket table per band
//    (one such index for the whole text, one for the lead). Two hashes
//    within k bits have a band differing in at most r = ceil((k+1)/4) - 1
//    bits, so probing every band at Hamming radius r finds every match
//    within k: k <= 3 needs the exact bucket (r = 0, 4 lookups), the default
//    k = 7 the bucket and its 16 one-bit neighbours (r = 1, 68 lookups);
//  - entity: hash table keyed by hash(day, place), chained through the slots.
// The index is append-only: articles are never removed (a restart rebuilds
// it from the store, add() for each stored article).
//
// Threading: check() and the other const members may run on any number of
// threads at once; add() and set_incident() take an exclusive lock (one
// writer at a time, readers wait for the few microseconds an add takes).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "intel/article.h"

namespace sentinel::intel {

/// What the extractor found about the article's incident. An empty value
/// (no day or no place) means the entity rule does not apply.
struct ArticleEntities {
  static constexpr int64_t kNoDay = std::numeric_limits<int64_t>::min();
  int64_t day = kNoDay;             ///< incident day, days since 1970-01-01 (UTC)
  std::string place;                ///< most specific place known, any spelling (normalised here)
  std::vector<std::string> actors;  ///< agencies, perpetrators, victims, targets by name

  bool usable() const { return day != kNoDay && !place.empty(); }
};

/// Days since the Unix epoch of a millisecond timestamp (UTC, floor).
int64_t day_from_ms(int64_t ms);

enum class DedupRule : uint8_t { kNone, kCanonicalUrl, kTitle, kFingerprint, kEntity };

/// "none", "canonical_url", "title", "fingerprint", "entity".
std::string_view to_string(DedupRule rule);

/// The answer of check(): which rule matched, against which stored article
/// and incident, and how close the match is.
struct DedupMatch {
  bool duplicate = false;
  DedupRule rule = DedupRule::kNone;
  uint64_t article_id = 0;   ///< the stored article matched
  uint64_t incident_id = 0;  ///< its incident; 0 when none is assigned yet
  /// canonical_url: 1; title: Jaccard of the token sets; fingerprint:
  /// 1 - hamming/64; entity: Jaccard of the (specific) actor sets.
  double similarity = 0.0;
  int hamming = -1;  ///< fingerprint rule only: differing SimHash bits
  bool by_lead = false;  ///< fingerprint rule only: the leads matched, not the whole texts
};

/// Thresholds and index sizes. The defaults are those measured on
/// tests/data/intel/dedup_labelled.jsonl (docs/INTEL_DEDUP.md).
struct DedupConfig {
  /// Rule 2: token-set Jaccard at or above which two titles are the same.
  /// 0.7 keeps a re-titled copy with a prefix ("UPDATE: ...") or a one-word
  /// edit, and stays above headlines that only share their subject.
  double title_min_similarity = 0.7;
  /// Rule 2: titles with fewer tokens (after stop words) are never matched
  /// on title alone: "Bombing in Bogota" fits many incidents.
  uint32_t title_min_tokens = 4;
  /// Rule 2: two articles further apart in publication time are not matched
  /// on title (a recurring headline is a new story). Unknown dates (0) pass.
  Millis title_window = Millis(3LL * 24 * 3600 * 1000);
  /// MinHash-LSH over title tokens: bands x rows minhashes; a pair with
  /// Jaccard s becomes a candidate with probability 1 - (1 - s^rows)^bands
  /// (0.985 at s = 0.7; 0.003 at s = 0.07, a pair sharing one word).
  uint32_t lsh_bands = 10;
  uint32_t lsh_rows = 3;
  /// Rule 3: words per shingle.
  uint32_t shingle_width = 3;
  /// Rule 3: texts with fewer shingles have no fingerprint (a short snippet
  /// has too few features for SimHash to mean anything).
  uint32_t min_shingles = 24;
  /// Rule 3: largest Hamming distance between SimHashes that is a match
  /// (0..11; the index probes radius ceil((k+1)/4) - 1 around each band, so
  /// every pair within k bits is found). 7: syndicated copies with
  /// boilerplate, typos or moved paragraphs measure 0-12 bits on the
  /// labelled set, unrelated articles 14 and more (binomial tail: an
  /// unrelated pair lands within 7 bits with probability ~1e-10).
  uint32_t max_hamming = 7;
  /// Rule 3: shingles in the lead fingerprint (~50 words).
  uint32_t lead_shingles = 48;
  /// Rule 3: largest Hamming distance between lead SimHashes (0..11). Lower
  /// than max_hamming: a lead has fewer features, and stories that open
  /// alike but go on differently (a follow-up repeating the first report's
  /// lead) must not match; a truncated copy keeps its lead whole (0-2 bits).
  uint32_t max_lead_hamming = 3;
  /// Rule 4: shared specific actors needed besides the same day and place.
  uint32_t min_shared_actors = 1;
  /// Rule 4: actor names (normalised) that do not identify an incident.
  std::vector<std::string> generic_actors = {
      "police", "policeman", "policemen", "officer", "officers", "army", "soldier", "soldiers", "troops",
      "military", "terrorist", "terrorists", "guerrilla", "guerrillas", "rebel", "rebels", "insurgents",
      "subversives", "gunman", "gunmen", "armed men", "suspect", "suspects", "victim", "victims", "unknown",
      "unidentified", "individuals", "people", "persons", "civilians", "peasants", "men", "man", "woman",
      "women", "members", "witness", "witnesses", "authorities", "government", "urban terrorists"};
  /// Capacity the tables are first sized for; they grow (doubling) past it.
  uint64_t expected_articles = 1 << 16;
};

/// Checks a configuration; the error names the offending field.
Status validate(const DedupConfig& config);

/// The features check() and add() use, computed once per article (fingerprint())
/// so the pipeline can check, then add, without normalising the text twice;
/// also what a store may keep to rebuild the index without the texts.
struct ArticleFingerprint {
  bool has_url = false;
  uint64_t url_hash = 0;              ///< XXH3-64 of the canonical URL
  std::vector<uint32_t> title_tokens;  ///< title_tokens(title)
  bool has_simhash = false;            ///< text long enough (min_shingles)
  uint64_t simhash = 0;                ///< over all shingles of the text
  uint64_t lead_simhash = 0;           ///< over its first lead_shingles shingles
  int64_t published_ms = 0;
};

class ArticleDedup {
 public:
  /// Throws std::invalid_argument (naming the field) when validate() fails:
  /// configuration is a start-up boundary.
  explicit ArticleDedup(DedupConfig config = {});
  ~ArticleDedup();
  ArticleDedup(const ArticleDedup&) = delete;
  ArticleDedup& operator=(const ArticleDedup&) = delete;

  const DedupConfig& config() const;

  /// Features of one article. Uses article.canonical_url when set, else
  /// canonicalises article.url; an invalid URL leaves has_url false.
  ArticleFingerprint fingerprint(const Article& article) const;

  /// Runs the four rules in order against every stored article. `entities`
  /// may be null (extraction not run yet): the entity rule is then skipped.
  DedupMatch check(const Article& article, const ArticleEntities* entities = nullptr) const;
  DedupMatch check(const ArticleFingerprint& fp, const ArticleEntities* entities = nullptr) const;

  /// Stores an article under `article_id` (unique; an id already stored is an
  /// error and changes nothing). `incident_id` 0 = none yet (set_incident).
  Status add(const Article& article, uint64_t article_id, const ArticleEntities* entities = nullptr,
             uint64_t incident_id = 0);
  Status add(const ArticleFingerprint& fp, uint64_t article_id, const ArticleEntities* entities = nullptr,
             uint64_t incident_id = 0);

  /// Records the incident a stored article became part of (after curation).
  Status set_incident(uint64_t article_id, uint64_t incident_id);

  /// Articles stored.
  size_t size() const;
  /// Bytes held by the index (capacities of every table and array).
  size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::intel
