// Text features for article dedup: normalisation, word shingles, a 64-bit
// SimHash over the shingles, and the title token set.
//
// All hashes are XXH3-64 (xxhash): fast, well mixed and stable across
// platforms and releases, so fingerprints may be stored and compared later.
//
// Threading: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::intel {

/// Lower-cases ASCII, folds the accented Latin-1 letters (U+00C0..U+00FF, as
/// UTF-8) to their base letter, turns every other ASCII character that is not
/// a letter or digit, NBSP, Latin-1 punctuation and the General Punctuation
/// block (curly quotes, dashes) into a separator, and joins the words with
/// one space. Other non-ASCII characters are kept as word characters. Invalid
/// UTF-8 bytes are separators. "The  Bogotá BOMB—“update”" -> "the bogota bomb update".
std::string normalize_text(std::string_view text);

/// The words of a normalised text (views into `normalized`).
std::vector<std::string_view> split_words(std::string_view normalized);

/// XXH3-64 of one word.
uint64_t hash_word(std::string_view word);

/// Hashes of the overlapping `width`-word shingles of a normalised text, in
/// text order (a text of fewer than `width` words yields one shingle of all
/// its words; an empty text none). Each shingle hash is XXH3-64 over the
/// word hashes, so it depends on the words and their order only.
std::vector<uint64_t> word_shingles(std::string_view normalized, int width = 3);

/// Charikar's SimHash: bit i is set when more features have bit i set than
/// clear. Each feature counts once per occurrence. 0 for no features.
uint64_t simhash64(std::span<const uint64_t> features);

/// Number of differing bits.
inline int hamming_distance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

/// True for the small English stop-word list ignored in title token sets.
bool is_stop_word(std::string_view word);

/// The title's token set: 32-bit hashes of its words minus stop words, sorted
/// and unique. Input is normalised here (raw titles welcome).
std::vector<uint32_t> title_tokens(std::string_view title);

/// The title's character trigram set: 32-bit hashes of every 3-byte window of
/// the normalised title padded with one space at each end, sorted and unique.
std::vector<uint32_t> title_trigrams(std::string_view title);

/// |a ∩ b| / |a ∪ b| of two sorted unique sets; 0 when both are empty.
double jaccard(std::span<const uint32_t> a, std::span<const uint32_t> b);

}  // namespace sentinel::intel
