#include "intel/article_dedup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "intel/text_features.h"

namespace sentinel::intel {
namespace article_dedup_test {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kT0 = 631'152'000'000;  // 1990-01-01T00:00:00Z

// Paragraphs of real MUC-3 messages (DEV-MUC3-0001 and TST1-MUC3-0001, Sundheim 1992).
constexpr const char* kKidnapping =
    "SAN SALVADOR, 3 JAN 90 -- THE ARCE BATTALION COMMAND HAS REPORTED THAT ABOUT 50 PEASANTS OF VARIOUS AGES "
    "HAVE BEEN KIDNAPPED BY TERRORISTS OF THE FARABUNDO MARTI NATIONAL LIBERATION FRONT IN SAN MIGUEL "
    "DEPARTMENT. ACCORDING TO THAT GARRISON, THE MASS KIDNAPPING TOOK PLACE ON 30 DECEMBER IN SAN LUIS DE LA "
    "REINA. THE SOURCE ADDED THAT THE TERRORISTS FORCED THE INDIVIDUALS, WHO WERE TAKEN TO AN UNKNOWN LOCATION, "
    "OUT OF THEIR RESIDENCES, PRESUMABLY TO INCORPORATE THEM AGAINST THEIR WILL INTO CLANDESTINE GROUPS.\n\n"
    "MEANWHILE, THREE SUBVERSIVES WERE KILLED AND SEVEN OTHERS WERE WOUNDED DURING CLASHES YESTERDAY IN "
    "USULUTAN AND MORAZAN DEPARTMENTS. THE ATONAL BATTALION REPORTED THAT ONE EXTREMIST WAS KILLED AND FIVE "
    "OTHERS WERE WOUNDED DURING A CLASH YESTERDAY AFTERNOON NEAR LA ESPERANZA FARM, SANTA ELENA JURISDICTION.";
constexpr const char* kFarm =
    "GUATEMALA CITY, 4 FEB 90 -- THE GUATEMALA ARMY DENIED TODAY THAT GUERRILLAS ATTACKED THE SANTO TOMAS "
    "PRESIDENTIAL FARM, LOCATED ON THE PACIFIC SIDE, WHERE PRESIDENT CEREZO HAS BEEN STAYING SINCE 2 FEBRUARY. "
    "A REPORT PUBLISHED BY THE CERIGUA NEWS AGENCY, MOUTHPIECE OF THE GUATEMALAN NATIONAL REVOLUTIONARY UNITY, "
    "WHOSE MAIN OFFICES ARE IN MEXICO, SAYS THAT A GUERRILLA COLUMN ATTACKED THE FARM 2 DAYS AGO. HOWEVER, "
    "ARMED FORCES SPOKESMAN COLONEL LUIS ARTURO ISAACS SAID THAT THE ATTACK, WHICH RESULTED IN THE DEATH OF A "
    "CIVILIAN WHO WAS PASSING BY AT THE TIME OF THE SKIRMISH, WAS NOT AGAINST THE FARM.";

Article article(std::string url, std::string title, std::string text, int64_t published_ms) {
  Article a;
  a.url = std::move(url);
  a.title = std::move(title);
  a.text = std::move(text);
  a.published_ms = published_ms;
  return a;
}

Article kidnapping() {
  return article("https://www.latamwire.example/1990/01/03/peasants-kidnapped",
                 "Arce Battalion Reports 50 Peasants Kidnapped In San Miguel", kKidnapping, kT0 + 2 * kDayMs);
}

ArticleEntities entities(int64_t day, std::string place, std::vector<std::string> actors) {
  ArticleEntities e;
  e.day = day;
  e.place = std::move(place);
  e.actors = std::move(actors);
  return e;
}

TEST(ArticleDedup, EmptyIndexFindsNothing) {
  ArticleDedup dedup;
  DedupMatch m = dedup.check(kidnapping());
  EXPECT_FALSE(m.duplicate);
  EXPECT_EQ(m.rule, DedupRule::kNone);
  EXPECT_EQ(dedup.size(), 0u);
}

TEST(ArticleDedup, CanonicalUrlRuleAndIncident) {
  ArticleDedup dedup;
  ASSERT_TRUE(dedup.add(kidnapping(), 11, nullptr, 501).ok());
  Article copy = article("https://WWW.latamwire.example:443/1990/01/03/peasants-kidnapped/?utm_source=x#c", "Other",
                         "short", 0);
  DedupMatch m = dedup.check(copy);
  EXPECT_TRUE(m.duplicate);
  EXPECT_EQ(m.rule, DedupRule::kCanonicalUrl);
  EXPECT_EQ(to_string(m.rule), "canonical_url");
  EXPECT_EQ(m.article_id, 11u);
  EXPECT_EQ(m.incident_id, 501u);
  EXPECT_DOUBLE_EQ(m.similarity, 1.0);
  // A precomputed canonical_url is used as given.
  Article pre = copy;
  pre.url = "not a url";
  pre.canonical_url = "https://www.latamwire.example/1990/01/03/peasants-kidnapped";
  EXPECT_EQ(dedup.check(pre).rule, DedupRule::kCanonicalUrl);
}

TEST(ArticleDedup, TitleRuleWithGuards) {
  ArticleDedup dedup;
  ASSERT_TRUE(dedup.add(kidnapping(), 1).ok());
  Article retitled = article("https://other.example/a", "UPDATE: Arce Battalion Reports 50 Peasants Kidnapped In San Miguel",
                             "A short teaser.", kT0 + 2 * kDayMs + 3600'000);
  DedupMatch m = dedup.check(retitled);
  EXPECT_EQ(m.rule, DedupRule::kTitle);
  EXPECT_EQ(m.article_id, 1u);
  EXPECT_GE(m.similarity, 0.7);
  EXPECT_LT(m.similarity, 1.0);

  Article late = retitled;
  late.published_ms = kT0 + 30 * kDayMs;  // outside the 3-day window: a recurring headline
  EXPECT_FALSE(dedup.check(late).duplicate);
  late.published_ms = 0;  // unknown date: the window does not apply
  EXPECT_EQ(dedup.check(late).rule, DedupRule::kTitle);

  Article different = retitled;
  different.title = "Army Denies Guerrilla Attack On Presidential Farm";
  EXPECT_FALSE(dedup.check(different).duplicate);

  // Short headlines never match on title alone.
  ArticleDedup small;
  ASSERT_TRUE(small.add(article("https://a.example/1", "Bombing in Bogota", "x", kT0), 1).ok());
  EXPECT_FALSE(small.check(article("https://a.example/2", "Bombing in Bogota", "y", kT0)).duplicate);
}

TEST(ArticleDedup, FingerprintRuleFullTextAndLead) {
  ArticleDedup dedup;
  ASSERT_TRUE(dedup.add(kidnapping(), 7).ok());
  // Same text, other URL and title, boilerplate added.
  Article copy = article("https://other.example/b", "Mass kidnapping reported",
                         std::string(kKidnapping) + "\n\nCOPYRIGHT 1990 OTHER WIRE. ALL RIGHTS RESERVED.", kT0);
  DedupMatch m = dedup.check(copy);
  EXPECT_EQ(m.rule, DedupRule::kFingerprint);
  EXPECT_EQ(m.article_id, 7u);
  EXPECT_LE(m.hamming, 7);
  EXPECT_FALSE(m.by_lead);
  EXPECT_DOUBLE_EQ(m.similarity, 1.0 - m.hamming / 64.0);

  // Truncated teaser: the whole-text fingerprints drift apart, the leads agree.
  std::string text = kKidnapping;
  Article teaser = article("https://other.example/c", "Mass kidnapping reported",
                           text.substr(0, text.find("MEANWHILE")) + " READ MORE.", kT0);
  DedupMatch t = dedup.check(teaser);
  EXPECT_EQ(t.rule, DedupRule::kFingerprint);
  EXPECT_TRUE(t.by_lead);

  // A different story is no match, and a snippet too short to fingerprint never is.
  EXPECT_FALSE(dedup.check(article("https://other.example/d", "Army denies farm attack", kFarm, kT0)).duplicate);
  EXPECT_FALSE(dedup.fingerprint(article("", "", "ONLY A FEW WORDS HERE", 0)).has_simhash);
}

TEST(ArticleDedup, EntityRule) {
  ArticleDedup dedup;
  const int64_t day = day_from_ms(kT0 - 2 * kDayMs);
  ArticleEntities e = entities(day, "El Salvador: San Miguel", {"FMLN", "terrorists", "peasants"});
  ASSERT_TRUE(dedup.add(kidnapping(), 3, &e, 900).ok());
  Article other = article("https://x.example/1", "Guerrillas abduct villagers", kFarm, kT0);

  ArticleEntities same = entities(day, "el salvador san miguel", {"fmln"});
  DedupMatch m = dedup.check(other, &same);
  EXPECT_EQ(m.rule, DedupRule::kEntity);
  EXPECT_EQ(m.article_id, 3u);
  EXPECT_EQ(m.incident_id, 900u);
  EXPECT_DOUBLE_EQ(m.similarity, 1.0);  // generic actors do not count on either side

  EXPECT_FALSE(dedup.check(other).duplicate) << "no entities: rule skipped";
  ArticleEntities generic_only = entities(day, "El Salvador: San Miguel", {"terrorists", "Peasants"});
  EXPECT_FALSE(dedup.check(other, &generic_only).duplicate);
  ArticleEntities next_day = entities(day + 1, "El Salvador: San Miguel", {"FMLN"});
  EXPECT_FALSE(dedup.check(other, &next_day).duplicate);
  ArticleEntities elsewhere = entities(day, "El Salvador: Usulutan", {"FMLN"});
  EXPECT_FALSE(dedup.check(other, &elsewhere).duplicate);
  ArticleEntities no_place = entities(day, "", {"FMLN"});
  EXPECT_FALSE(no_place.usable());
  EXPECT_FALSE(dedup.check(other, &no_place).duplicate);
}

TEST(ArticleDedup, RulesApplyInOrder) {
  ArticleDedup dedup;
  const int64_t day = day_from_ms(kT0);
  ArticleEntities e = entities(day, "San Miguel", {"FMLN"});
  ASSERT_TRUE(dedup.add(kidnapping(), 1, &e).ok());
  // Matches on every rule: the URL wins.
  EXPECT_EQ(dedup.check(kidnapping(), &e).rule, DedupRule::kCanonicalUrl);
  Article b = kidnapping();
  b.url = "https://b.example/x";
  EXPECT_EQ(dedup.check(b, &e).rule, DedupRule::kTitle);
  b.title = "Something else entirely here today";
  EXPECT_EQ(dedup.check(b, &e).rule, DedupRule::kFingerprint);
  b.text = kFarm;
  EXPECT_EQ(dedup.check(b, &e).rule, DedupRule::kEntity);
}

TEST(ArticleDedup, IdsAndIncidents) {
  ArticleDedup dedup;
  ASSERT_TRUE(dedup.add(kidnapping(), 42).ok());
  Status again = dedup.add(article("https://z.example/", "t", "x", 0), 42);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().field, "article_id");
  EXPECT_EQ(dedup.size(), 1u);
  EXPECT_EQ(dedup.check(kidnapping()).incident_id, 0u);
  ASSERT_TRUE(dedup.set_incident(42, 77).ok());
  EXPECT_EQ(dedup.check(kidnapping()).incident_id, 77u);
  EXPECT_FALSE(dedup.set_incident(43, 1).ok());
  // An article with an invalid URL is stored, it just has no URL rule.
  Article bad = article("javascript:alert(1)", "Completely unrelated headline about the economy", "x", 0);
  EXPECT_FALSE(dedup.fingerprint(bad).has_url);
  EXPECT_TRUE(dedup.add(bad, 43).ok());
}

TEST(ArticleDedup, ConfigValidation) {
  EXPECT_TRUE(validate(DedupConfig{}).ok());
  auto bad = [](auto edit, const char* field) {
    DedupConfig c;
    edit(c);
    Status s = validate(c);
    ASSERT_FALSE(s.ok()) << field;
    EXPECT_EQ(s.error().field, field);
    EXPECT_THROW(ArticleDedup{c}, std::invalid_argument);
  };
  bad([](DedupConfig& c) { c.title_min_similarity = 0; }, "title_min_similarity");
  bad([](DedupConfig& c) { c.title_min_similarity = 1.5; }, "title_min_similarity");
  bad([](DedupConfig& c) { c.lsh_bands = 0; }, "lsh_bands");
  bad([](DedupConfig& c) { c.lsh_rows = 17; }, "lsh_rows");
  bad([](DedupConfig& c) { c.max_hamming = 12; }, "max_hamming");
  bad([](DedupConfig& c) { c.title_window = Millis(-1); }, "title_window");
  bad([](DedupConfig& c) { c.min_shared_actors = 0; }, "min_shared_actors");
  bad([](DedupConfig& c) { c.shingle_width = 0; }, "shingle_width");
}

// The pigeonhole index must find exactly what a brute-force scan finds, for
// every supported k (radius 0, 1 and 2 probing).
TEST(ArticleDedup, FingerprintIndexIsExact) {
  for (uint32_t k : {3u, 7u, 11u}) {
    DedupConfig config;
    config.max_hamming = k;
    ArticleDedup dedup(config);
    std::mt19937_64 rng(1234 + k);
    std::vector<uint64_t> stored;
    for (uint64_t id = 1; id <= 3000; ++id) {
      ArticleFingerprint fp;
      fp.has_simhash = true;
      fp.simhash = rng();
      fp.lead_simhash = ~fp.simhash;  // never within reach of a query below
      stored.push_back(fp.simhash);
      ASSERT_TRUE(dedup.add(fp, id).ok());
    }
    for (int q = 0; q < 600; ++q) {
      uint64_t query = stored[rng() % stored.size()];
      int flips = static_cast<int>(rng() % (k + 4));
      for (int f = 0; f < flips; ++f) query ^= uint64_t{1} << (rng() % 64);
      ArticleFingerprint fp;
      fp.has_simhash = true;
      fp.simhash = query;
      fp.lead_simhash = query;
      int best = 65;
      uint64_t best_id = 0;
      for (size_t i = 0; i < stored.size(); ++i) {
        int d = hamming_distance(query, stored[i]);
        if (d < best) {
          best = d;
          best_id = i + 1;
        }
      }
      DedupMatch m = dedup.check(fp);
      if (best <= static_cast<int>(k)) {
        ASSERT_TRUE(m.duplicate) << "k=" << k << " distance " << best;
        EXPECT_EQ(m.hamming, best);
        EXPECT_EQ(m.article_id, best_id);
        EXPECT_FALSE(m.by_lead);
      } else {
        EXPECT_FALSE(m.duplicate) << "k=" << k << " distance " << best;
      }
    }
  }
}

// Tables sized for 16 articles grow to thousands; early articles stay findable.
TEST(ArticleDedup, GrowsPastExpectedSize) {
  DedupConfig config;
  config.expected_articles = 16;
  ArticleDedup dedup(config);
  size_t before = dedup.memory_bytes();
  auto title = [](int i) {
    return "Report number " + std::to_string(i) + " on regional security item " + std::to_string(i * 7919);
  };
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(dedup.add(article("https://g.example/" + std::to_string(i), title(i), "", kT0), i + 1).ok());
  }
  EXPECT_EQ(dedup.size(), 5000u);
  EXPECT_GT(dedup.memory_bytes(), before);
  for (int i : {0, 1, 17, 1023, 4999}) {
    DedupMatch by_url = dedup.check(article("https://g.example/" + std::to_string(i), "", "", 0));
    EXPECT_EQ(by_url.rule, DedupRule::kCanonicalUrl);
    EXPECT_EQ(by_url.article_id, static_cast<uint64_t>(i + 1));
    DedupMatch by_title = dedup.check(article("https://new.example/x", title(i), "", kT0));
    EXPECT_EQ(by_title.rule, DedupRule::kTitle) << i;
    EXPECT_EQ(by_title.article_id, static_cast<uint64_t>(i + 1));
  }
}

TEST(ArticleDedup, ConcurrentChecksWhileAdding) {
  ArticleDedup dedup;
  ASSERT_TRUE(dedup.add(kidnapping(), 1).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> found{0};
  std::thread reader([&] {
    while (!stop.load()) {
      if (dedup.check(kidnapping()).article_id == 1) found.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(dedup.add(article("https://c.example/" + std::to_string(i), "Headline " + std::to_string(i),
                                  "", kT0), i + 2).ok());
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(dedup.size(), 2001u);
  EXPECT_EQ(dedup.check(kidnapping()).article_id, 1u);
}

TEST(DayFromMs, FloorsNegativeTimes) {
  EXPECT_EQ(day_from_ms(0), 0);
  EXPECT_EQ(day_from_ms(kDayMs - 1), 0);
  EXPECT_EQ(day_from_ms(kDayMs), 1);
  EXPECT_EQ(day_from_ms(-1), -1);
}

}  // namespace article_dedup_test
}  // namespace sentinel::intel
