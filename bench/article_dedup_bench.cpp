// Article dedup against 1M stored articles (DESIGN.md section 7 figure:
// p99 < 5 ms per article), and dedup + triage throughput per article.
//
// The stored articles are synthetic but made of real text: each one strings
// together 12-20 sentences drawn from the real MUC-3/4 messages of the
// labelled set (tests/data/intel/dedup_labelled.jsonl), in paragraphs of 2-4,
// and replaces 10% of the words with words of the corpus vocabulary; its
// title is a real headline with 30% of the words replaced. So every article
// is distinct (as distinct as two stories on one subject) while vocabulary,
// sentence lengths and shingle statistics stay those of news text. 60% carry entities (day, one of 2,000
// places, actors). Articles are a deterministic function of their number.
//
// Queries: half are new articles (no duplicate: every rule runs to the end,
// the slow path), half near-duplicates of stored ones (re-titled, other URL,
// boilerplate added, typos). Latency is per article: features (normalise,
// shingle, SimHash, title tokens, canonical URL) plus the four rules.
//
// Run: build/release/bench/article_dedup_bench --benchmark_repetitions=3
//      (the fill happens once per process; SENTINEL_DEDUP_BENCH_ARTICLES
//      overrides the 1,000,000 stored articles for a quick run).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "intel/article_dedup.h"
#include "intel/triage.h"

namespace {

using namespace sentinel::intel;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kT0 = 1'704'067'200'000;  // 2024-01-01: two years of articles follow

struct Corpus {
  std::vector<std::string> sentences;
  std::vector<std::string> titles;
  std::vector<std::string> vocab;
  std::vector<std::string> places;
  std::vector<std::string> actors;
};

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + sep.size();
  }
  return out;
}

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    std::ifstream in(std::string(SENTINEL_SOURCE_DIR) + "/tests/data/intel/dedup_labelled.jsonl");
    std::string line;
    std::vector<std::string> words;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line);
      if (j.contains("meta") || j.at("kind").get<std::string>().rfind("variant", 0) == 0) continue;
      std::string text = j.at("text").get<std::string>();
      for (const std::string& para : split(text, "\n\n")) {
        for (std::string& sentence : split(para, ". ")) out.sentences.push_back(std::move(sentence));
      }
      out.titles.push_back(j.at("title").get<std::string>());
      for (const std::string& w : split(text, " ")) {
        if (w.size() >= 4 && std::all_of(w.begin(), w.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
          words.push_back(w);
        }
      }
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    out.vocab = std::move(words);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 2000; ++i) {
      out.places.push_back(out.vocab[rng() % out.vocab.size()] + ": " + out.vocab[rng() % out.vocab.size()]);
    }
    for (int i = 0; i < 20000; ++i) {
      out.actors.push_back(out.vocab[rng() % out.vocab.size()] + " " + out.vocab[rng() % out.vocab.size()]);
    }
    if (out.sentences.empty()) std::fprintf(stderr, "no articles in tests/data/intel/dedup_labelled.jsonl\n");
    return out;
  }();
  return c;
}

struct Sample {
  Article article;
  bool has_entities = false;
  ArticleEntities entities;
};

// Stored article number i (deterministic).
Sample make_article(uint64_t i, uint64_t total) {
  const Corpus& c = corpus();
  std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL + 1);
  const int sentences = 12 + static_cast<int>(rng() % 9);
  std::string text;
  int in_paragraph = 0, paragraph_size = 2 + static_cast<int>(rng() % 3);
  for (int k = 0; k < sentences; ++k) {
    for (const std::string& w : split(c.sentences[rng() % c.sentences.size()], " ")) {
      text += (rng() % 100 < 10) ? c.vocab[rng() % c.vocab.size()] : w;
      text += ' ';
    }
    text += ". ";
    if (++in_paragraph == paragraph_size) {
      text += "\n\n";
      in_paragraph = 0;
      paragraph_size = 2 + static_cast<int>(rng() % 3);
    }
  }
  std::string title;
  for (const std::string& w : split(c.titles[rng() % c.titles.size()], " ")) {
    title += (rng() % 100 < 30) ? c.vocab[rng() % c.vocab.size()] : w;
    title += ' ';
  }
  title += std::to_string(i % 1000);
  Sample s;
  s.article.url = "https://www.outlet" + std::to_string(i % 50) + ".example/news/" + std::to_string(i) + "-story";
  s.article.title = std::move(title);
  s.article.text = std::move(text);
  s.article.published_ms = kT0 + static_cast<int64_t>(i * (730 * kDayMs) / std::max<uint64_t>(total, 1)) +
                           static_cast<int64_t>(rng() % kDayMs);
  s.article.feed = "outlet" + std::to_string(i % 50);
  if (rng() % 100 < 60) {
    s.has_entities = true;
    s.entities.day = day_from_ms(s.article.published_ms) - static_cast<int64_t>(rng() % 3);
    s.entities.place = c.places[rng() % c.places.size()];
    for (int k = 0; k < 3; ++k) s.entities.actors.push_back(c.actors[rng() % c.actors.size()]);
  }
  return s;
}

// A syndicated copy of stored article i: other URL, re-titled, boilerplate, a typo.
Sample make_copy(uint64_t i, uint64_t total) {
  Sample s = make_article(i, total);
  s.article.url = "https://www.aggregator.example/r/" + std::to_string(i) + "?utm_source=feed";
  s.article.title = "UPDATE: " + s.article.title;
  s.article.text = "AGGREGATOR WIRE -- " + s.article.text + "\n\nCOPYRIGHT AGGREGATOR. ALL RIGHTS RESERVED.";
  size_t pos = s.article.text.find("THE ");
  if (pos != std::string::npos) s.article.text.replace(pos, 4, "TEH ");
  s.article.published_ms += 3'600'000;
  return s;
}

// CPU time of this thread: on a shared machine wall-clock percentiles also
// measure the scheduler (other processes preempting the benchmark), so both
// are reported.
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

uint64_t stored_count() {
  const char* env = std::getenv("SENTINEL_DEDUP_BENCH_ARTICLES");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1'000'000;
}

struct Filled {
  std::unique_ptr<ArticleDedup> dedup;
  uint64_t count = 0;
  double fill_seconds = 0;
};

const Filled& filled() {
  static const Filled f = [] {
    Filled out;
    out.count = stored_count();
    DedupConfig config;
    config.expected_articles = out.count;
    out.dedup = std::make_unique<ArticleDedup>(config);
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < out.count; ++i) {
      Sample s = make_article(i, out.count);
      if (!out.dedup->add(s.article, i + 1, s.has_entities ? &s.entities : nullptr).ok()) std::abort();
    }
    out.fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "filled %llu articles in %.1f s; index %.1f MiB = %.0f bytes/article\n",
                 static_cast<unsigned long long>(out.count), out.fill_seconds,
                 static_cast<double>(out.dedup->memory_bytes()) / (1 << 20),
                 static_cast<double>(out.dedup->memory_bytes()) / static_cast<double>(out.count));
    return out;
  }();
  return f;
}

// Queries of one run; `round` varies them so a run that adds articles does
// not meet its own additions in the next run.
std::vector<Sample> make_queries(size_t n, uint64_t round) {
  const Filled& f = filled();
  std::vector<Sample> queries;
  std::mt19937_64 rng(99 + round);
  for (size_t q = 0; q < n; ++q) {
    if (q % 2 == 0) {
      // New: numbered beyond every stored article.
      queries.push_back(make_article(f.count + 10'000'000 + round * n + q, f.count));
      queries.back().article.published_ms = kT0 + 365 * kDayMs + static_cast<int64_t>(rng() % (365 * kDayMs));
    } else {
      queries.push_back(make_copy(rng() % f.count, f.count));
    }
  }
  return queries;
}

void set_common_counters(benchmark::State& state) {
  const Filled& f = filled();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["stored"] = static_cast<double>(f.count);
  state.counters["index_bytes_per_article"] =
      static_cast<double>(f.dedup->memory_bytes()) / static_cast<double>(f.count);
  state.counters["peak_rss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  state.counters["fill_s"] = f.fill_seconds;
}

// Per-article check latency (features + four rules); p50/p99 over 4,000 articles.
void ArticleDedup_CheckLatency(benchmark::State& state) {
  const Filled& f = filled();
  static const std::vector<Sample> queries = make_queries(4000, 0);
  std::vector<double> micros, cpu_micros;
  size_t found_copies = 0, copies = 0, false_new = 0;
  for (auto _ : state) {
    micros.clear();
    cpu_micros.clear();
    found_copies = copies = false_new = 0;
    for (size_t q = 0; q < queries.size(); ++q) {
      const Sample& s = queries[q];
      const double c0 = thread_cpu_us();
      auto t0 = std::chrono::steady_clock::now();
      DedupMatch m = f.dedup->check(s.article, s.has_entities ? &s.entities : nullptr);
      auto t1 = std::chrono::steady_clock::now();
      const double c1 = thread_cpu_us();
      benchmark::DoNotOptimize(m);
      micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      cpu_micros.push_back(c1 - c0);
      if (q % 2 == 1) {
        ++copies;
        found_copies += m.duplicate;
      } else {
        false_new += m.duplicate;
      }
    }
  }
  std::sort(micros.begin(), micros.end());
  std::sort(cpu_micros.begin(), cpu_micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  state.counters["max_us"] = micros.back();
  state.counters["cpu_p50_us"] = cpu_micros[cpu_micros.size() / 2];
  state.counters["cpu_p99_us"] = cpu_micros[cpu_micros.size() * 99 / 100];
  state.counters["copies_found"] = static_cast<double>(found_copies) / static_cast<double>(copies);
  state.counters["new_flagged"] = static_cast<double>(false_new) / static_cast<double>(queries.size() - copies);
  state.counters["articles_per_s"] =
      benchmark::Counter(static_cast<double>(queries.size()), benchmark::Counter::kIsIterationInvariantRate);
  set_common_counters(state);
}
BENCHMARK(ArticleDedup_CheckLatency)->Unit(benchmark::kMillisecond)->Iterations(1);

// Dedup + triage per article, as the pipeline runs them (extraction is the
// lead's and is not in this loop): features once, check, and for a new
// article a triage decision and add().
void ArticleDedup_DedupPlusTriage(benchmark::State& state) {
  const Filled& f = filled();
  static uint64_t round = 0;
  const std::vector<Sample> queries = make_queries(4000, ++round);
  Triage triage;
  static uint64_t next_id = 1ull << 40;  // ids above the stored ones
  size_t approved = 0;
  for (auto _ : state) {
    for (size_t q = 0; q < queries.size(); ++q) {
      const Sample& s = queries[q];
      const ArticleEntities* e = s.has_entities ? &s.entities : nullptr;
      ArticleFingerprint fp = f.dedup->fingerprint(s.article);
      DedupMatch m = f.dedup->check(fp, e);
      if (m.duplicate) continue;
      TriageInput in;
      in.confidence = static_cast<double>(q % 100) / 100.0;
      in.category = q % 3 == 0 ? "enforcement" : "crime";
      in.incident_type = q % 5 == 0 ? "shooting" : "assault";
      in.present_fields = {"date", "place"};
      TriageDecision d = triage.decide(in);
      approved += d.outcome == TriageOutcome::kAutoApprove;
      if (!f.dedup->add(fp, next_id++, e).ok()) std::abort();
    }
  }
  benchmark::DoNotOptimize(approved);
  state.counters["articles_per_s"] =
      benchmark::Counter(static_cast<double>(queries.size()), benchmark::Counter::kIsIterationInvariantRate);
  set_common_counters(state);
}
BENCHMARK(ArticleDedup_DedupPlusTriage)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
