// The intel pipeline's per-article chain, end to end (DESIGN.md section 7
// figure: "Dedup + built-in extraction + triage: at least 2,000 articles/s"):
//
//   canonical URL -> ArticleDedup::check (URL, title, fingerprint rules) ->
//   BuiltinExtractor::run -> ArticleDedup::check with the extracted entities
//   (the entity rule) -> Triage::decide
//
// Articles: the 200 real MUC-3/4 messages of tests/data/muc34 (TST1, TST2;
// upper-case wire copy, 2.2 KB on average), each with a feed URL carrying
// tracking parameters and a fragment, a title (the message's first words)
// and a publication time at noon UTC of its dateline day. The extractor is
// configured as tools/muc_score runs it (MUC gazetteer, organisation
// lexicon, relevance model, political-violence rules).
//
// Index: pre-filled with N stored articles (default 200,000;
// SENTINEL_PIPELINE_BENCH_STORED=1000000 for the 1M figure; filling takes
// ~12 s for 200,000 and ~60 s for 1M on this machine). Each stored article
// strings together 12-20 sentences of the same messages with 10% of the
// words replaced by words of their vocabulary, so vocabulary and shingle
// statistics are those of the queries while no stored article is a copy of
// one; 60% carry
// entities whose days and places are those the extractor finds in the
// messages, so the entity rule probes populated buckets. The index is not
// written during the measurement (every pass sees the same index, and a
// message meeting its own earlier pass would stop at the URL rule);
// add() costs are in article_dedup_bench.
//
// Run: build/release/bench/intel_pipeline_bench
//   (3 repetitions per configuration; the median is the "_median" row;
//    items_per_second is articles per second of wall-clock time, over all
//    threads. BM_Pipeline_DedupOnly is the dedup share of the chain.)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "intel/article.h"
#include "intel/article_dedup.h"
#include "intel/builtin_extractor.h"
#include "intel/canonical_url.h"
#include "intel/date_resolver.h"
#include "intel/gazetteer.h"
#include "intel/incident_types.h"
#include "intel/muc_eval.h"
#include "intel/triage.h"

namespace sentinel::intel {
namespace {

const std::string kRoot = SENTINEL_SOURCE_DIR;
const std::string kMuc = kRoot + "/tests/data/muc34";
constexpr int64_t kDayMs = 86'400'000;

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

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n' && s[j] != '\r' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Sentences of a text (split after ". "), whitespace collapsed.
std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (const std::string& w : split_words(text)) {
    if (!cur.empty()) cur += ' ';
    cur += w;
    if (w.back() == '.') {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

uint64_t stored_count() {
  const char* env = std::getenv("SENTINEL_PIPELINE_BENCH_STORED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 200'000;
}

struct Setup {
  std::unique_ptr<BuiltinExtractor> extractor;
  std::unique_ptr<ArticleDedup> dedup;
  std::unique_ptr<Triage> triage;
  std::vector<Article> articles;  // the queries
  uint64_t stored = 0;
  double fill_seconds = 0;
  size_t bytes = 0;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup out;
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
    out.extractor = std::make_unique<BuiltinExtractor>(g, opt);
    out.triage = std::make_unique<Triage>();

    // Query articles: the TST1 and TST2 messages.
    std::vector<std::string> sentences, vocab;
    for (const char* file : {"/tst1/tst1-muc3", "/tst2/tst2-muc4"}) {
      for (muc::Message& m : muc::read_messages(read_file(kMuc + file))) {
        Article a;
        a.url = "https://Wire.Example:443/muc/" + m.id + "?utm_source=rss&utm_medium=feed&id=" + m.id + "#top";
        auto dl = DateResolver::parse_dateline(m.text);
        std::string_view body = m.text;
        if (dl) {
          body.remove_prefix(std::min(dl->body_offset, body.size()));
          if (dl->has_date) a.published_ms = static_cast<int64_t>(dl->day) * kDayMs + kDayMs / 2;
        }
        std::vector<std::string> words = split_words(body);
        for (size_t k = 0; k < words.size() && k < 12; ++k) a.title += (k ? " " : "") + words[k];
        for (std::string& sen : split_sentences(body)) sentences.push_back(std::move(sen));
        for (std::string& w : words) {
          if (w.size() >= 4 && std::all_of(w.begin(), w.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
            vocab.push_back(std::move(w));
          }
        }
        a.text = std::move(m.text);
        a.feed = "muc";
        out.bytes += a.text.size();
        out.articles.push_back(std::move(a));
      }
    }
    std::sort(vocab.begin(), vocab.end());
    vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());

    // Entities the extractor finds in the messages: the stored articles'
    // entities use their days and places.
    std::vector<ArticleEntities> found;
    for (const Article& a : out.articles) {
      Extraction e = out.extractor->run(article_text(a));
      if (const Incident* i = e.main(); i != nullptr && !i->place.qualified.empty()) {
        ArticleEntities en;
        en.day = i->occurred.first_day;
        en.place = i->place.qualified;
        found.push_back(std::move(en));
      }
    }
    if (found.empty() || sentences.empty()) {
      std::fprintf(stderr, "no MUC messages or no extractions under %s\n", kMuc.c_str());
      std::exit(1);
    }

    out.stored = stored_count();
    DedupConfig config;
    config.expected_articles = out.stored;
    out.dedup = std::make_unique<ArticleDedup>(config);
    const int64_t t0 = out.articles.front().published_ms;
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < out.stored; ++i) {
      std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL + 3);
      Article a;
      const int n = 12 + static_cast<int>(rng() % 9);
      for (int k = 0; k < n; ++k) {
        for (const std::string& w : split_words(sentences[rng() % sentences.size()])) {
          a.text += (rng() % 100 < 10) ? vocab[rng() % vocab.size()] : w;
          a.text += ' ';
        }
        if (k % 3 == 2) a.text += "\n\n";
      }
      for (int k = 0; k < 9; ++k) a.title += vocab[rng() % vocab.size()] + ' ';
      a.url = "https://outlet" + std::to_string(i % 50) + ".example/news/" + std::to_string(i);
      a.published_ms = t0 + static_cast<int64_t>(rng() % (730 * kDayMs)) - 365 * kDayMs;
      ArticleEntities en;
      const bool with_entities = rng() % 100 < 60;
      if (with_entities) {
        en = found[rng() % found.size()];
        en.day += static_cast<int64_t>(rng() % 5) - 2;
        for (int k = 0; k < 2; ++k) en.actors.push_back(vocab[rng() % vocab.size()] + " " + vocab[rng() % vocab.size()]);
      }
      if (!out.dedup->add(a, i + 1, with_entities ? &en : nullptr).ok()) std::abort();
    }
    out.fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "stored %llu articles in %.1f s (index %.1f MiB); %zu query articles, %zu bytes avg\n",
                 static_cast<unsigned long long>(out.stored), out.fill_seconds,
                 static_cast<double>(out.dedup->memory_bytes()) / (1 << 20), out.articles.size(),
                 out.bytes / out.articles.size());
    return out;
  }();
  return s;
}

// What the articles came to, counted so the work cannot be optimised away
// and reported as shares.
struct ChainCounts {
  size_t duplicates = 0, approved = 0, review = 0, rejected = 0, no_incident = 0;
};

void run_chain(const Setup& s, const Article& source, ChainCounts& counts) {
  Article a = source;  // the pipeline owns its copy: canonical_url is written into it
  if (auto c = canonicalize_url(a.url); c.ok()) a.canonical_url = std::move(c.value());
  const ArticleFingerprint fp = s.dedup->fingerprint(a);
  if (s.dedup->check(fp).duplicate) {
    ++counts.duplicates;
    return;
  }
  const Extraction e = s.extractor->run(article_text(a));
  const Incident* main = e.main();
  if (main == nullptr) {
    ++counts.no_incident;
    return;
  }
  ArticleEntities en;
  en.day = main->occurred.first_day;
  en.place = main->place.qualified;
  for (const Actor& actor : main->actors) en.actors.push_back(actor.text);
  if (en.usable() && s.dedup->check(fp, &en).duplicate) {
    ++counts.duplicates;
    return;
  }
  TriageInput in;
  in.confidence = main->confidence.value;
  in.category = std::string(incident_category(main->type));
  in.incident_type = std::string(incident_type_name(main->type));
  if (main->occurred.precision != TimePrecision::kNone) in.present_fields.emplace_back("date");
  if (main->occurred.precision == TimePrecision::kExact) in.present_fields.emplace_back("time");
  if (!main->place.qualified.empty()) in.present_fields.emplace_back("place");
  if (!main->actors.empty()) in.present_fields.emplace_back("actors");
  const TriageDecision d = s.triage->decide(in);
  switch (d.outcome) {
    case TriageOutcome::kAutoApprove: ++counts.approved; break;
    case TriageOutcome::kReview: ++counts.review; break;
    case TriageOutcome::kAutoReject: ++counts.rejected; break;
  }
}

void BM_Pipeline_DedupExtractTriage(benchmark::State& state) {
  const Setup& s = setup();
  ChainCounts counts;
  // Threads start at different messages so two threads do not walk in step.
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) run_chain(s, s.articles[i++ % s.articles.size()], counts);
  benchmark::DoNotOptimize(counts);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (s.bytes / s.articles.size())));
  const double n = static_cast<double>(state.iterations());
  state.counters["stored"] = benchmark::Counter(static_cast<double>(s.stored), benchmark::Counter::kAvgThreads);
  state.counters["dup_share"] = benchmark::Counter(static_cast<double>(counts.duplicates) / n, benchmark::Counter::kAvgThreads);
  state.counters["approve_share"] = benchmark::Counter(static_cast<double>(counts.approved) / n, benchmark::Counter::kAvgThreads);
  state.counters["review_share"] = benchmark::Counter(static_cast<double>(counts.review) / n, benchmark::Counter::kAvgThreads);
  state.counters["reject_share"] = benchmark::Counter(static_cast<double>(counts.rejected) / n, benchmark::Counter::kAvgThreads);
  state.counters["no_incident_share"] =
      benchmark::Counter(static_cast<double>(counts.no_incident) / n, benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Pipeline_DedupExtractTriage)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(2.0)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

// The dedup share of the chain: canonical URL, fingerprint and the first
// three rules only, over the same articles and index.
void BM_Pipeline_DedupOnly(benchmark::State& state) {
  const Setup& s = setup();
  size_t i = static_cast<size_t>(state.thread_index()) * 97, duplicates = 0;
  for (auto _ : state) {
    Article a = s.articles[i++ % s.articles.size()];
    if (auto c = canonicalize_url(a.url); c.ok()) a.canonical_url = std::move(c.value());
    duplicates += s.dedup->check(s.dedup->fingerprint(a)).duplicate;
  }
  benchmark::DoNotOptimize(duplicates);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["stored"] = benchmark::Counter(static_cast<double>(s.stored), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Pipeline_DedupOnly)->Threads(1)->UseRealTime()->MinTime(2.0)->Repetitions(3)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace sentinel::intel

BENCHMARK_MAIN();
