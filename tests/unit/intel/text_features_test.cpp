#include "intel/text_features.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sentinel::intel {
namespace text_features_test {

// A real MUC-3 message (DEV-MUC3-0001, Sundheim 1992), first paragraphs.
constexpr const char* kMuc =
    "SAN SALVADOR, 3 JAN 90 -- [REPORT] [ARMED FORCES PRESS COMMITTEE, COPREFA] [TEXT] THE ARCE BATTALION "
    "COMMAND HAS REPORTED THAT ABOUT 50 PEASANTS OF VARIOUS AGES HAVE BEEN KIDNAPPED BY TERRORISTS OF THE "
    "FARABUNDO MARTI NATIONAL LIBERATION FRONT [FMLN] IN SAN MIGUEL DEPARTMENT. ACCORDING TO THAT GARRISON, THE "
    "MASS KIDNAPPING TOOK PLACE ON 30 DECEMBER IN SAN LUIS DE LA REINA. THE SOURCE ADDED THAT THE TERRORISTS "
    "FORCED THE INDIVIDUALS, WHO WERE TAKEN TO AN UNKNOWN LOCATION, OUT OF THEIR RESIDENCES, PRESUMABLY TO "
    "INCORPORATE THEM AGAINST THEIR WILL INTO CLANDESTINE GROUPS.\n\n"
    "MEANWHILE, THREE SUBVERSIVES WERE KILLED AND SEVEN OTHERS WERE WOUNDED DURING CLASHES YESTERDAY IN USULUTAN "
    "AND MORAZAN DEPARTMENTS. THE ATONAL BATTALION REPORTED THAT ONE EXTREMIST WAS KILLED AND FIVE OTHERS WERE "
    "WOUNDED DURING A CLASH YESTERDAY AFTERNOON NEAR LA ESPERANZA FARM, SANTA ELENA JURISDICTION, USULUTAN "
    "DEPARTMENT.\n\nIT WAS ALSO REPORTED THAT A SOLDIER WAS WOUNDED AND TAKEN TO THE MILITARY HOSPITAL IN THIS "
    "CAPITAL.";

TEST(NormalizeText, FoldsCaseAccentsAndPunctuation) {
  EXPECT_EQ(normalize_text("The  Bogot\xc3\xa1 BOMB\xe2\x80\x94\xe2\x80\x9cupdate\xe2\x80\x9d"), "the bogota bomb update");
  EXPECT_EQ(normalize_text("  Stra\xc3\x9f" "e, M\xc3\x9cNCHEN!  "), "strasse munchen");
  EXPECT_EQ(normalize_text("a\xc2\xa0" "b\xc3\x97" "c"), "a b c");  // NBSP and the multiplication sign separate
  EXPECT_EQ(normalize_text("[FMLN] 50-peasants"), "fmln 50 peasants");
  EXPECT_EQ(normalize_text(""), "");
  EXPECT_EQ(normalize_text("!!!"), "");
  // Other scripts stay word characters; invalid UTF-8 separates.
  EXPECT_EQ(normalize_text("\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 news"), "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 news");
  EXPECT_EQ(normalize_text("ab\xff" "cd\xc3"), "ab cd");
}

TEST(WordShingles, CountAndOrderSensitivity) {
  EXPECT_TRUE(word_shingles("").empty());
  EXPECT_EQ(word_shingles("one two").size(), 1u);  // shorter than the width: one shingle of all words
  auto s = word_shingles("a b c d e", 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], word_shingles("a b c", 3)[0]);
  EXPECT_NE(word_shingles("a b c", 3)[0], word_shingles("c b a", 3)[0]);
  EXPECT_EQ(word_shingles("a b c d", 1).size(), 4u);
}

TEST(SimHash, NearDuplicatesAreCloseUnrelatedTextsFar) {
  std::string base = normalize_text(kMuc);
  uint64_t h = simhash64(word_shingles(base));
  EXPECT_EQ(simhash64(word_shingles(normalize_text(kMuc))), h) << "deterministic";
  EXPECT_EQ(simhash64({}), 0u);

  // Boilerplate appended: a few new shingles out of ~150.
  std::string boiler = normalize_text(std::string(kMuc) + " COPYRIGHT 1990 LATAM WIRE. ALL RIGHTS RESERVED.");
  EXPECT_LE(hamming_distance(h, simhash64(word_shingles(boiler))), 10);

  // Two typos.
  std::string typos = base;
  typos.replace(typos.find("kidnapped"), 9, "kidanpped");
  typos.replace(typos.find("garrison"), 8, "garison");
  EXPECT_LE(hamming_distance(h, simhash64(word_shingles(typos))), 10);

  // An unrelated text of similar length and vocabulary is far.
  std::string other = normalize_text(
      "LIMA, 12 MAR 89 -- POLICE SOURCES REPORTED THAT A CAR BOMB EXPLODED TONIGHT IN FRONT OF THE MINISTRY OF "
      "ECONOMY IN DOWNTOWN LIMA, CAUSING SERIOUS DAMAGE TO THE BUILDING AND TO SEVERAL NEARBY SHOPS. NO "
      "CASUALTIES WERE REPORTED. THE AUTHORITIES BLAMED THE SHINING PATH FOR THE ATTACK, WHICH IS THE THIRD "
      "THIS MONTH AGAINST GOVERNMENT OFFICES IN THE CAPITAL. A SPOKESMAN FOR THE INTERIOR MINISTRY SAID THAT "
      "SECURITY WOULD BE REINFORCED AROUND PUBLIC BUILDINGS AND THAT SEVERAL SUSPECTS HAD BEEN DETAINED FOR "
      "QUESTIONING IN THE SAN JUAN DE LURIGANCHO DISTRICT.");
  EXPECT_GE(hamming_distance(h, simhash64(word_shingles(other))), 14);
}

TEST(SimHash, MajorityVotePerBit) {
  std::vector<uint64_t> features = {0b1011, 0b0011, 0b0001};
  EXPECT_EQ(simhash64(features) & 0xF, 0b0011u);  // bit 0: 3 of 3, bit 1: 2 of 3, bit 3: 1 of 3
  EXPECT_EQ(hamming_distance(0, ~uint64_t{0}), 64);
  EXPECT_EQ(hamming_distance(0b1010, 0b0110), 2);
}

TEST(TitleFeatures, TokensDropStopWordsAndDuplicates) {
  auto a = title_tokens("The Bomb in the Capital");
  auto b = title_tokens("BOMB capital bomb");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_TRUE(title_tokens("the of and").empty());
  EXPECT_TRUE(is_stop_word("the"));
  EXPECT_FALSE(is_stop_word("bomb"));
}

TEST(TitleFeatures, TrigramsAndJaccard) {
  auto t = title_trigrams("ab");
  EXPECT_EQ(t.size(), 2u);  // " ab", "ab "
  EXPECT_TRUE(title_trigrams("").empty());
  auto x = title_trigrams("Bomb explodes in Bogota bank");
  auto y = title_trigrams("Bomb explodes in Bogta bank");  // typo
  auto z = title_trigrams("Army denies attack on presidential farm");
  EXPECT_GT(jaccard(x, y), 0.6);
  EXPECT_LT(jaccard(x, z), 0.15);
  EXPECT_DOUBLE_EQ(jaccard(x, x), 1.0);
  std::vector<uint32_t> p = {1, 2, 3, 4}, q = {3, 4, 5, 6};
  EXPECT_DOUBLE_EQ(jaccard(p, q), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(jaccard(std::vector<uint32_t>{}, std::vector<uint32_t>{}), 0.0);
  EXPECT_DOUBLE_EQ(jaccard(p, std::vector<uint32_t>{}), 0.0);
}

}  // namespace text_features_test
}  // namespace sentinel::intel
