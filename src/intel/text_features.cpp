#include "intel/text_features.h"

#include <xxhash.h>

#include <algorithm>
#include <array>

namespace sentinel::intel {
namespace {

// Base letters of U+00C0..U+00FF; "" marks the two signs (× ÷) that separate.
constexpr std::array<std::string_view, 64> kLatin1Spelling = {
    "a", "a", "a", "a", "a",  "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o",  "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a",  "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o",  "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};

constexpr std::array<std::string_view, 40> kStopWords = {
    "a",    "an",   "and", "are",  "as",    "at",   "be",   "by",   "for",  "from",
    "has",  "have", "he",  "her",  "his",   "in",   "is",   "it",   "its",  "of",
    "on",   "or",   "she", "that", "the",   "their", "they", "this", "to",  "was",
    "were", "will", "with", "who", "after", "over", "into", "s",    "but",  "not"};

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  auto emit = [&](std::string_view piece) {
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += piece;
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        char lower = static_cast<char>(c + 32);
        emit(std::string_view(&lower, 1));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        emit(std::string_view(&text[i], 1));
      } else {
        pending_space = true;
      }
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    bool valid = len != 0 && i + len <= n;
    for (size_t k = 1; valid && k < len; ++k) valid = continuation(static_cast<unsigned char>(text[i + k]));
    if (!valid) {
      pending_space = true;
      ++i;
      continue;
    }
    uint32_t cp = 0;
    if (len == 2) cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
    if (len == 3) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
    }
    if (cp >= 0xC0 && cp <= 0xFF) {
      std::string_view base = kLatin1Spelling[cp - 0xC0];
      if (base.empty()) {
        pending_space = true;
      } else {
        emit(base);
      }
    } else if ((cp >= 0x80 && cp <= 0xBF) || (cp >= 0x2000 && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF) {
      pending_space = true;
    } else {
      emit(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view normalized) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start < normalized.size()) {
    size_t end = normalized.find(' ', start);
    if (end == std::string_view::npos) end = normalized.size();
    if (end > start) words.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

uint64_t hash_word(std::string_view word) { return XXH3_64bits(word.data(), word.size()); }

std::vector<uint64_t> word_shingles(std::string_view normalized, int width) {
  if (width < 1) width = 1;
  std::vector<uint64_t> word_hashes;
  word_hashes.reserve(normalized.size() / 5 + 1);
  for (std::string_view w : split_words(normalized)) word_hashes.push_back(hash_word(w));
  std::vector<uint64_t> shingles;
  if (word_hashes.empty()) return shingles;
  size_t w = std::min(static_cast<size_t>(width), word_hashes.size());
  shingles.reserve(word_hashes.size() - w + 1);
  for (size_t i = 0; i + w <= word_hashes.size(); ++i) {
    shingles.push_back(XXH3_64bits(&word_hashes[i], w * sizeof(uint64_t)));
  }
  return shingles;
}

uint64_t simhash64(std::span<const uint64_t> features) {
  if (features.empty()) return 0;
  std::array<int32_t, 64> votes{};
  for (uint64_t f : features) {
    for (int b = 0; b < 64; ++b) votes[b] += static_cast<int32_t>(((f >> b) & 1u) << 1) - 1;
  }
  uint64_t out = 0;
  for (int b = 0; b < 64; ++b) {
    if (votes[b] > 0) out |= uint64_t{1} << b;
  }
  return out;
}

bool is_stop_word(std::string_view word) {
  return std::find(kStopWords.begin(), kStopWords.end(), word) != kStopWords.end();
}

std::vector<uint32_t> title_tokens(std::string_view title) {
  std::string normalized = normalize_text(title);
  std::vector<uint32_t> tokens;
  for (std::string_view w : split_words(normalized)) {
    if (!is_stop_word(w)) tokens.push_back(static_cast<uint32_t>(hash_word(w)));
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

std::vector<uint32_t> title_trigrams(std::string_view title) {
  std::string padded = " " + normalize_text(title) + " ";
  std::vector<uint32_t> grams;
  if (padded.size() < 3 || padded == "  ") return grams;
  grams.reserve(padded.size());
  // Three bytes fit in 24 bits: the trigram is its own collision-free hash.
  for (size_t i = 0; i + 3 <= padded.size(); ++i) {
    grams.push_back((static_cast<uint32_t>(static_cast<unsigned char>(padded[i])) << 16) |
                    (static_cast<uint32_t>(static_cast<unsigned char>(padded[i + 1])) << 8) |
                    static_cast<uint32_t>(static_cast<unsigned char>(padded[i + 2])));
  }
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  return grams;
}

double jaccard(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  if (a.empty() && b.empty()) return 0.0;
  size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
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
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

}  // namespace sentinel::intel
