// Built-in extractor cost per article (DESIGN.md section 7: dedup +
// extraction + triage must sustain >= 2,000 articles/s, so extraction should
// stay well under 0.25 ms per typical article).
//
//   build/release/bench/extract_bench [--benchmark_filter=...]
//
// BM_Extract_Muc: the 100 TST1 messages of tests/data/muc34 (upper-case
//   wire copy, 2.2 KB average) with the MUC gazetteer, organisation lexicon
//   and relevance model, as tools/muc_score runs them.
// BM_Extract_City: Chicago crime-news articles (written for this benchmark,
//   1-2 KB) with the community-area and street gazetteer.
// BM_Tokenize / BM_Gazetteer_Find: the two stages every article pays first.
// Items are articles; bytes are article text.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "intel/builtin_extractor.h"
#include "intel/gazetteer.h"
#include "intel/muc_eval.h"

namespace sentinel::intel {
namespace {

const std::string kRoot = SENTINEL_SOURCE_DIR;
const std::string kMuc = kRoot + "/tests/data/muc34";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct MucSetup {
  std::unique_ptr<BuiltinExtractor> extractor;
  std::vector<std::string> texts;
  size_t bytes = 0;
};

const MucSetup& muc() {
  static const MucSetup setup = [] {
    MucSetup s;
    auto g = std::make_shared<const Gazetteer>(Gazetteer::load(
        {kMuc + "/places/set-list-foreign-nation.v5", kMuc + "/places/containing-areas-part1.v5",
         kMuc + "/places/containing-areas-part2", kMuc + "/places/places-synonyms.v3", kMuc + "/places/places-extra.tsv"}));
    BuiltinExtractorOptions opt;
    opt.organisation_files = {kMuc + "/organisations.txt"};
    opt.relevance_model_file = kMuc + "/relevance_model.tsv";
    opt.home_regions = {"EL SALVADOR", "GUATEMALA", "HONDURAS", "ARGENTINA", "BOLIVIA",
                        "CHILE",       "COLOMBIA",  "ECUADOR",  "PERU"};
    opt.political_violence_rules = true;
    opt.min_confidence = 0.25;  // tools/muc_score's threshold
    s.extractor = std::make_unique<BuiltinExtractor>(g, opt);
    for (auto& m : muc::read_messages(read_file(kMuc + "/tst1/tst1-muc3"))) {
      s.bytes += m.text.size();
      s.texts.push_back(std::move(m.text));
    }
    return s;
  }();
  return setup;
}

// Typical local crime reports, written for this benchmark (no real people).
const char* const kCityArticles[] = {
    "A 24-year-old man was shot and wounded Tuesday night in the 1300 block of West 63rd Street in West Englewood, "
    "police said. The man was standing on the sidewalk about 10:30 p.m. when someone in a passing dark sedan opened "
    "fire, striking him in the leg and the back. He was taken to the University of Chicago Medical Center in good "
    "condition. No one was in custody and Area One detectives were investigating. Neighbors said they heard at "
    "least six shots. It was the third shooting on the block this month, according to a community organizer who "
    "asked that his name not be used. Police asked anyone with information to call detectives.",
    "Two people were robbed at gunpoint early Sunday near 79th and Halsted, police said. The victims, a man and a "
    "woman in their 30s, were walking to their car about 2 a.m. when two men approached, one displaying a handgun, "
    "and demanded their phones and wallets. The robbers fled east on 79th Street in a gray SUV. No injuries were "
    "reported. Police said a similar robbery happened last week in Auburn Gresham and detectives were looking into "
    "whether the two were connected. Anyone who recognizes the vehicle is asked to contact police.",
    "Firefighters battled a blaze at a vacant two-story building in Austin on Monday afternoon that investigators "
    "later ruled was set on purpose. The fire broke out about 3 p.m. in the 5000 block of West Madison Street and "
    "spread to the roof before it was brought under control. No one was hurt. A fire department spokesman said "
    "arson investigators found evidence that an accelerant had been used. The building had been boarded up for two "
    "years, neighbors said, and squatters had been seen going in and out. Police are seeking a man seen running from "
    "the building shortly before the fire started.",
    "A woman was stabbed during an argument in Rogers Park on Saturday and a man was taken into custody, police "
    "said. Officers responding to a call of a disturbance about 11:45 p.m. in the 1600 block of West Howard Street "
    "found the 41-year-old woman with a wound to her arm. She was treated at St. Francis Hospital and released. "
    "Charges against the 38-year-old man, who knew the victim, were pending Sunday. Witnesses told police the two "
    "had been arguing outside a convenience store before the man pulled a knife.",
    "Someone broke into a church office in Logan Square overnight and took two computers and a safe, the pastor "
    "said Thursday. The burglary was discovered about 7 a.m. when a staff member arrived and found a rear window "
    "smashed. Police said there were no witnesses and no cameras covering the alley. The pastor said the safe held "
    "donations collected for a food pantry. It was the second break-in at the church on Fullerton Avenue this "
    "year. Detectives were canvassing nearby businesses for video.",
    "A driver was carjacked at a gas station in Chatham on Wednesday evening, police said. The 52-year-old man was "
    "pumping gas about 6 p.m. in the 8700 block of South Cottage Grove Avenue when a man with a gun ordered him "
    "out of his car and drove off. The victim was not hurt. The vehicle, a 2016 silver sedan, was later found "
    "abandoned in Roseland. Police said carjackings in the district are up compared with last year. No arrests "
    "had been made.",
};

struct CitySetup {
  std::unique_ptr<BuiltinExtractor> extractor;
  size_t bytes = 0;
};

const CitySetup& city() {
  static const CitySetup setup = [] {
    CitySetup s;
    auto g = std::make_shared<const Gazetteer>(
        Gazetteer::load({kRoot + "/examples/intel/gazetteer/chicago_community_areas.tsv",
                         kRoot + "/examples/intel/gazetteer/chicago_streets.tsv"}));
    BuiltinExtractorOptions opt;
    opt.home_regions = {"CHICAGO"};
    s.extractor = std::make_unique<BuiltinExtractor>(g, opt);
    for (const char* a : kCityArticles) s.bytes += std::string_view(a).size();
    return s;
  }();
  return setup;
}

void BM_Extract_Muc(benchmark::State& state) {
  const MucSetup& s = muc();
  size_t i = 0, incidents = 0;
  for (auto _ : state) {
    ArticleText a;
    a.text = s.texts[i++ % s.texts.size()];
    Extraction e = s.extractor->run(a);
    incidents += e.incidents.size();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (s.bytes / s.texts.size())));
  state.counters["incidents/article"] = static_cast<double>(incidents) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Extract_Muc)->Threads(1)->Threads(2)->UseRealTime();

void BM_Extract_City(benchmark::State& state) {
  const CitySetup& s = city();
  constexpr size_t n = std::size(kCityArticles);
  size_t i = 0, incidents = 0;
  const int64_t published = 1520409600000;  // 2018-03-07T08:00:00Z
  for (auto _ : state) {
    ArticleText a;
    a.text = kCityArticles[i++ % n];
    a.published_ms = published;
    Extraction e = s.extractor->run(a);
    incidents += e.incidents.size();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (s.bytes / n)));
  state.counters["incidents/article"] = static_cast<double>(incidents) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Extract_City)->Threads(1)->Threads(2)->UseRealTime();

void BM_Tokenize(benchmark::State& state) {
  const MucSetup& s = muc();
  TokenizedText t;
  size_t i = 0;
  for (auto _ : state) {
    tokenize(s.texts[i++ % s.texts.size()], t);
    benchmark::DoNotOptimize(t.tokens.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (s.bytes / s.texts.size())));
}
BENCHMARK(BM_Tokenize);

void BM_Gazetteer_Find(benchmark::State& state) {
  const MucSetup& s = muc();
  std::vector<TokenizedText> toks(s.texts.size());
  for (size_t k = 0; k < s.texts.size(); ++k) tokenize(s.texts[k], toks[k]);
  std::vector<PlaceMention> found;
  size_t i = 0;
  for (auto _ : state) {
    s.extractor->gazetteer().find(toks[i++ % toks.size()], found);
    benchmark::DoNotOptimize(found.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Gazetteer_Find);

}  // namespace
}  // namespace sentinel::intel

BENCHMARK_MAIN();
