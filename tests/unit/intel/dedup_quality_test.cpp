// Dedup quality on the labelled set tests/data/intel/dedup_labelled.jsonl
// (scripts/make_dedup_set.py: real MUC-3/4 news messages, syndicated
// near-duplicates of them, and hard distinct pairs). Each record is checked
// against all earlier ones, then added, as the pipeline does. A record is a
// true duplicate when an earlier record shares its group; a predicted
// duplicate counts as correct only when the article it matched is of the
// same group. Precision and recall must both reach 0.95.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "intel/article_dedup.h"

namespace sentinel::intel {
namespace dedup_quality_test {

struct Record {
  uint64_t id = 0;
  std::string group;
  std::string kind;
  Article article;
  bool has_entities = false;
  ArticleEntities entities;
};

std::vector<Record> load_set() {
  std::ifstream in(std::string(SENTINEL_SOURCE_DIR) + "/tests/data/intel/dedup_labelled.jsonl");
  EXPECT_TRUE(in.good()) << "tests/data/intel/dedup_labelled.jsonl missing (scripts/make_dedup_set.py)";
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("meta")) continue;
    Record r;
    r.id = j.at("id").get<uint64_t>();
    r.group = j.at("group").get<std::string>();
    r.kind = j.at("kind").get<std::string>();
    r.article.url = j.at("url").get<std::string>();
    r.article.title = j.at("title").get<std::string>();
    r.article.text = j.at("text").get<std::string>();
    auto published = parse_rfc3339(j.at("published").get<std::string>());
    EXPECT_TRUE(published.has_value()) << "record " << r.id;
    r.article.published_ms = published ? to_ms(*published) : 0;
    const auto& e = j.at("entities");
    if (!e.is_null()) {
      r.has_entities = true;
      auto day = parse_rfc3339(e.at("date").get<std::string>() + "T00:00:00Z");
      EXPECT_TRUE(day.has_value()) << "record " << r.id;
      r.entities.day = day ? day_from_ms(to_ms(*day)) : ArticleEntities::kNoDay;
      r.entities.place = e.at("place").get<std::string>();
      r.entities.actors = e.at("actors").get<std::vector<std::string>>();
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct Tally {
  int truth = 0, caught = 0, false_alarm = 0, total = 0;
};

TEST(DedupQuality, PrecisionAndRecallOnLabelledSet) {
  std::vector<Record> records = load_set();
  ASSERT_GT(records.size(), 500u);
  ArticleDedup dedup;
  std::map<uint64_t, std::string> group_of;
  std::set<std::string> seen_groups;
  int tp = 0, fp = 0, fn = 0;
  std::map<std::string, Tally> by_kind;
  std::map<std::string, int> by_rule;
  for (const Record& r : records) {
    const ArticleEntities* entities = r.has_entities ? &r.entities : nullptr;
    DedupMatch m = dedup.check(r.article, entities);
    bool truth = seen_groups.count(r.group) > 0;
    bool right_group = m.duplicate && group_of.at(m.article_id) == r.group;
    Tally& t = by_kind[r.kind];
    ++t.total;
    if (truth) ++t.truth;
    if (m.duplicate && right_group) {
      ++tp;
      ++t.caught;
      ++by_rule[std::string(to_string(m.rule))];
    } else if (m.duplicate) {
      ++fp;
      ++t.false_alarm;
      if (truth) ++fn;
      std::printf("  false match: record %llu (%s) -> article %llu by %s (similarity %.3f)\n",
                  static_cast<unsigned long long>(r.id), r.kind.c_str(),
                  static_cast<unsigned long long>(m.article_id), std::string(to_string(m.rule)).c_str(),
                  m.similarity);
    } else if (truth) {
      ++fn;
    }
    ASSERT_TRUE(dedup.add(r.article, r.id, entities).ok());
    group_of[r.id] = r.group;
    seen_groups.insert(r.group);
  }
  double precision = tp + fp == 0 ? 0.0 : static_cast<double>(tp) / (tp + fp);
  double recall = tp + fn == 0 ? 0.0 : static_cast<double>(tp) / (tp + fn);
  std::printf("dedup quality on %zu records: precision %.4f recall %.4f (tp %d, fp %d, fn %d)\n", records.size(),
              precision, recall, tp, fp, fn);
  std::printf("  %-58s %6s %6s %6s %6s\n", "kind", "count", "dups", "caught", "false");
  for (const auto& [kind, t] : by_kind) {
    std::printf("  %-58s %6d %6d %6d %6d\n", kind.c_str(), t.total, t.truth, t.caught, t.false_alarm);
  }
  for (const auto& [rule, n] : by_rule) std::printf("  caught by %-14s %d\n", rule.c_str(), n);
  EXPECT_GT(tp + fn, 300) << "the set should hold several hundred duplicates";
  EXPECT_GE(precision, 0.95);
  EXPECT_GE(recall, 0.95);
}

}  // namespace dedup_quality_test
}  // namespace sentinel::intel
