// Gazetteer: the places the extractor can recognise and geocode, loaded from
// files at start-up, and the token-level phrase matcher it (and the
// extractor's lexicons) run on.
//
//  - tokenize(): splits text into normalised tokens (lower case, Latin-1
//    accents folded, apostrophes dropped) with byte offsets, sentence and
//    paragraph boundaries. Every matcher sees text through it, so a phrase
//    and the article it occurs in are normalised the same way.
//  - PhraseMatcher: Aho-Corasick over token ids. Hand-written because no
//    Debian library matches normalised *tokens* (Hyperscan and RE2 match
//    bytes, and neither is in the Debian package set used here); one pass
//    over an article finds every phrase of every lexicon at once.
//  - Gazetteer: place entries (name, kind, container chain, point,
//    district, street address range) from
//      * generic place tables (.tsv, format in docs/EXTRACTION.md) such as
//        examples/intel/gazetteer/chicago_*.tsv,
//      * GeoJSON feature collections (points: schools, sites; polygons:
//        community areas, reduced to their centroid),
//      * the MUC-3/4 place lists (containing-areas*, set-list-foreign-nation*,
//        places-synonyms*), recognised by their file names.
//
// Lifecycle: build with Gazetteer::load() (throws std::runtime_error naming
// the file and line on bad input: a start-up error), then share it read-only;
// every const member is safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"

namespace sentinel::intel {

/// One token. Offsets index the original text (`begin`, `end`) and the
/// normalised buffer (`norm_begin`, `norm_end`).
struct Token {
  uint32_t begin = 0, end = 0;
  uint32_t norm_begin = 0, norm_end = 0;
  uint8_t flags = 0;

  static constexpr uint8_t kCapitalised = 1;   ///< first letter upper case in the original
  static constexpr uint8_t kAllUpper = 2;      ///< every letter upper case (and at least one letter)
  static constexpr uint8_t kNumber = 4;        ///< all digits
  static constexpr uint8_t kSentenceEnd = 8;   ///< a sentence ends after this token
  static constexpr uint8_t kParagraphStart = 16;  ///< first token of a paragraph
  static constexpr uint8_t kCommaAfter = 32;   ///< followed by ',' ';' or ':'
  static constexpr uint8_t kOpenBefore = 64;   ///< preceded by '(' or '['
};

/// A tokenised text. Reusable: tokenize() clears and refills it, keeping
/// capacity, so a thread-local instance makes tokenising allocation-free
/// once warm.
struct TokenizedText {
  std::string_view text;  ///< the original (not owned)
  std::string norm;       ///< normalised token characters, tokens separated by nothing
  std::vector<Token> tokens;
  /// True when most letters of the text are upper case (MUC wire copy):
  /// capitalisation then carries no information.
  bool upper_case_text = false;

  std::string_view norm_token(size_t i) const {
    const Token& t = tokens[i];
    return std::string_view(norm).substr(t.norm_begin, t.norm_end - t.norm_begin);
  }
  std::string_view original(size_t first, size_t end) const {
    return text.substr(tokens[first].begin, tokens[end - 1].end - tokens[first].begin);
  }
};

/// Splits `text` into tokens: runs of letters/digits; apostrophes inside a
/// word are dropped ("PEOPLE'S" -> "peoples"), every other punctuation mark
/// separates. Sentence ends: '.', '!' or '?' followed by space, except after
/// a single letter or a known abbreviation ("GEN.", "ST.", "U.S."); a blank
/// line ends a paragraph (and its sentence).
void tokenize(std::string_view text, TokenizedText& out);

/// Normalises a phrase the way tokenize() normalises text: tokens joined by
/// single spaces ("Lake View" -> "lake view", "O'Hare" -> "ohare").
std::string normalize_phrase(std::string_view phrase);

/// Aho-Corasick automaton over token ids. Build once (add..., build), then
/// match from any number of threads.
class PhraseMatcher {
 public:
  static constexpr uint32_t kUnknownToken = 0xffffffffu;

  /// One occurrence: tokens [begin, end) of the text, and the payload given
  /// to add().
  struct Hit {
    uint32_t begin;
    uint32_t end;
    uint32_t payload;
  };

  PhraseMatcher();
  ~PhraseMatcher();
  PhraseMatcher(PhraseMatcher&&) noexcept;
  PhraseMatcher& operator=(PhraseMatcher&&) noexcept;

  /// Adds a phrase (normalised with normalize_phrase). An empty phrase is
  /// ignored. The same phrase may carry several payloads.
  void add(std::string_view phrase, uint32_t payload);
  /// Builds the failure links. add() after build() is a programming error.
  void build();
  size_t phrase_count() const;

  /// Maps each token of `text` to this matcher's vocabulary (kUnknownToken
  /// for words in no phrase).
  void map_tokens(const TokenizedText& text, std::vector<uint32_t>& ids) const;
  /// Appends every occurrence of every phrase in `ids` to `hits`, in order
  /// of end position (longer phrases first among those ending together).
  void find(std::span<const uint32_t> ids, std::vector<Hit>& hits) const;
  /// Convenience: tokenise, map and find.
  std::vector<Hit> find(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Keeps, from hits sorted as PhraseMatcher::find returns them, the
/// leftmost-longest non-overlapping ones (hits with equal spans all stay).
void select_longest(std::vector<PhraseMatcher::Hit>& hits);

/// One place of the gazetteer.
struct PlaceEntry {
  static constexpr uint32_t kNoParent = 0xffffffffu;

  std::string name;        ///< as the source spells it ("SAN SALVADOR", "W 63rd St")
  std::string kind_label;  ///< the source's type ("CITY", "DEPARTMENT", "community_area", "street", "school")
  PlacePrecision precision = PlacePrecision::kNone;  ///< what a mention of it pins down
  uint32_t parent = kNoParent;  ///< containing entry, when known
  std::string country;     ///< top-level container name ("COLOMBIA", "CHICAGO")
  double lat = std::numeric_limits<double>::quiet_NaN();
  double lon = std::numeric_limits<double>::quiet_NaN();
  std::string district;
  int32_t district_id = -1;
  /// Streets: the signed address range (west/south negative) and the point
  /// at `address_to` (lat/lon is the point at `address_from`), to place
  /// "the 1300 block of ...". `has_range` says whether they are set.
  bool has_range = false;
  int32_t address_from = 0;
  int32_t address_to = 0;
  double lat_to = std::numeric_limits<double>::quiet_NaN();
  double lon_to = std::numeric_limits<double>::quiet_NaN();
  bool demonym = false;  ///< a nationality word ("SALVADORAN") standing for `country`, not a place
};

/// A place name found in a text: tokens [begin, end) and every entry of
/// that name (several when the name is ambiguous: "SAN MIGUEL" is a city
/// and a department of El Salvador and a city of Argentina).
struct PlaceMention {
  uint32_t begin = 0;
  uint32_t end = 0;
  std::vector<uint32_t> candidates;
};

class Gazetteer {
 public:
  Gazetteer();
  ~Gazetteer();
  Gazetteer(Gazetteer&&) noexcept;
  Gazetteer& operator=(Gazetteer&&) noexcept;

  /// Loads every file (format chosen from the file name: *.tsv, *.geojson /
  /// *.json, MUC lists by their names) and builds the matcher. Throws
  /// std::runtime_error("FILE:LINE: reason") on unreadable or malformed input.
  static Gazetteer load(const std::vector<std::string>& files);

  /// Adds the places of one file / one in-memory text (same formats;
  /// `name` picks the format and appears in errors). Call build() after.
  void add_file(const std::string& path);
  void add_text(std::string_view name, std::string_view content);
  /// Adds one entry with its names (the first is the display name); returns
  /// its id. For tests and programmatic set-up.
  uint32_t add_entry(PlaceEntry entry, const std::vector<std::string>& aliases = {});
  void build();

  size_t size() const;
  const PlaceEntry& entry(uint32_t id) const;
  /// Ids of the entries named `name` (any alias, normalised), in load order.
  std::vector<uint32_t> lookup(std::string_view name) const;
  /// "COLOMBIA: ANTIOQUIA (DEPARTMENT): MEDELLIN (CITY)": the container
  /// chain from the top, each level but the top followed by its kind.
  std::string qualified_name(uint32_t id) const;
  /// True when `ancestor` is `id` or one of its containers.
  bool within(uint32_t id, uint32_t ancestor) const;

  /// Place names in `text`, leftmost-longest, non-overlapping. In mixed-case
  /// text a name must start with a capital to count ("the loop" is not the
  /// Loop); in all-upper-case text (MUC) case is no evidence.
  void find(const TokenizedText& text, std::vector<PlaceMention>& out) const;

  /// The point of house number `number` on street `id` (linear along the
  /// street's address range); nullopt when the entry has no range or the
  /// number is outside it by more than one block.
  std::optional<std::pair<double, double>> geocode_address(uint32_t id, int32_t number) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::intel
