#include "intel/llm_two_stage.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "intel/llm_answer.h"
#include "intel/llm_schema.h"

namespace sentinel::intel {

namespace {

using nlohmann::json;

std::string_view domain_description(std::string_view domain) {
  if (domain == "political_violence") {
    return "politically motivated violence (the MUC-3/4 terrorism definition): attacks, bombings, "
           "kidnappings, arson, hijackings, robberies and armed strikes by guerrillas, terrorists, death "
           "squads or state agents against civilians, officials, or civilian property and infrastructure. "
           "Armed clashes between military forces and guerrillas are not incidents";
  }
  if (domain == "crime") {
    return "ordinary crime: shootings, homicides, assaults, sexual assaults, robberies, carjackings, "
           "burglaries, thefts, arson and vandalism";
  }
  return "law-enforcement actions: arrests, raids, seizures of weapons or drugs";
}

struct StageCandidate {
  size_t priority = 0;  // index in options.domains
  std::string domain;
  Incident incident;
  bool merged = false;
};

bool time_better(const OccurredTime& a, const OccurredTime& b) {
  if (a.precision != b.precision) return a.precision > b.precision;
  return !a.on_or_before && b.on_or_before;
}

// Fills `main`'s empty slots from `other` (the same incident seen by another domain).
void fill_slots(Incident& main, const Incident& other) {
  if (other.place.precision > main.place.precision || (main.place.text.empty() && !other.place.text.empty())) {
    main.place = other.place;
  }
  if (time_better(other.occurred, main.occurred)) main.occurred = other.occurred;
  if (main.perpetrator_org.empty()) main.perpetrator_org = other.perpetrator_org;
  if (main.actors.empty()) main.actors = other.actors;
  if (main.targets.empty()) main.targets = other.targets;
  if (main.evidence.empty()) main.evidence = other.evidence;
}

std::string format_confidence(double c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", c);
  return buf;
}

}  // namespace

std::string stage1_system_prompt() {
  static const std::string prompt =
      "You read news articles for Sentinel, a public-safety monitoring system, and write down what "
      "they say as structured data for later analysis. Answer with exactly one JSON object and nothing "
      "else (no prose, no Markdown), conforming to this JSON Schema:\n" +
      stage1_schema().dump() +
      "\nRules:\n"
      "- entities: people, groups, organisations, places, objects, weapons and vehicles the article "
      "names, each with a short id (\"e1\") that events and legal items refer to, and the role a person "
      "or group plays in an incident when it has one.\n"
      "- events: what happened, each with its time (YYYY-MM-DD or YYYY-MM-DDTHH:MM local time, "
      "relative dates resolved against the publication time, or null), place as written, participants "
      "(entity ids) and outcome.\n"
      "- legal: arrests, charges, warrants, court steps and sentences, with the entity ids they concern.\n"
      "- quotes: statements quoted in the article and who made them.\n"
      "- classification: whether the article reports a specific recent incident, the domains it "
      "belongs to (political_violence, crime, enforcement) and your confidence from 0 to 1.\n"
      "Do not add facts the article does not state.";
  return prompt;
}

std::string stage2_system_prompt(std::string_view domain) {
  const json* schema = domain_schema(domain);
  std::string prompt =
      "You receive the structured reading (JSON) of a news article that an earlier step made, with the "
      "article's title and publication time. Report the incidents of the domain \"" +
      std::string(domain) + "\": " + std::string(domain_description(domain)) +
      ". Answer with exactly one JSON object and nothing else, conforming to this JSON Schema:\n" +
      (schema != nullptr ? schema->dump() : std::string("{}")) +
      "\nRules: an empty incidents list when the article reports no incident of this domain; one "
      "incident per distinct event, the main one first; time as YYYY-MM-DD or YYYY-MM-DDTHH:MM local "
      "time or null; place as written, most specific first; confidence from 0 to 1 that it is a "
      "factual, specific, recent incident of this domain. Use only what the structured reading says.";
  return prompt;
}

TwoStageExtractor::TwoStageExtractor(std::shared_ptr<JsonCompleter> stage1,
                                     std::shared_ptr<JsonCompleter> stage2, TwoStageOptions options,
                                     LlmDependencies deps)
    : stage1_(std::move(stage1)), stage2_(std::move(stage2)), options_(std::move(options)),
      deps_(std::move(deps)) {
  if (!stage1_ || !stage2_) throw std::invalid_argument("extract.two_stage: a stage has no provider");
  if (options_.domains.empty()) throw std::invalid_argument("extract.two_stage.domains: empty");
  for (const auto& d : options_.domains) {
    if (domain_schema(d) == nullptr) {
      throw std::invalid_argument("extract.two_stage.domains: unknown domain " + d);
    }
  }
}

Result<Extraction> TwoStageExtractor::extract(const ArticleText& article) {
  Result<TwoStageResult> r = run(article);
  if (!r.ok()) return r.error();
  return std::move(r->extraction);
}

Result<TwoStageResult> TwoStageExtractor::run(const ArticleText& article) {
  TwoStageResult out;
  // Stage 1.
  Result<JsonAnswer> s1 =
      stage1_->complete_json(stage1_system_prompt(), article_prompt(article, options_.max_article_bytes),
                             stage1_schema());
  if (!s1.ok()) return s1.error();
  out.stage1_provider = s1->provider;
  out.stage1_json = s1->json;
  out.skipped = s1->skipped;
  const json ir = json::parse(out.stage1_json);
  const json& cls = ir.at("classification");
  out.stage1_confidence = cls.at("confidence").get<double>();

  // Stage 2: the domains to run, in priority order.
  std::vector<std::pair<size_t, std::string>> run_domains;
  for (size_t i = 0; i < options_.domains.size(); ++i) {
    const std::string& d = options_.domains[i];
    bool classified = false;
    for (const auto& c : cls.at("domains")) classified = classified || c.get<std::string>() == d;
    if (options_.all_domains || classified) run_domains.emplace_back(i, d);
  }
  std::string header = "Title: " + std::string(article.title) + "\nPublished: " +
                       (article.published_ms != 0 ? format_rfc3339(event_time_from_ms(article.published_ms))
                                                  : std::string("unknown")) +
                       "\n\nStructured reading:\n";
  json answers = json::object();
  std::vector<std::string> providers;
  std::vector<StageCandidate> candidates;
  AnswerContext context{deps_.gazetteer.get(), article.published_ms, deps_.utc_offset_minutes};
  for (const auto& [priority, domain] : run_domains) {
    Result<JsonAnswer> s2 =
        stage2_->complete_json(stage2_system_prompt(domain), header + out.stage1_json, *domain_schema(domain));
    if (!s2.ok()) return s2.error();
    out.skipped.insert(out.skipped.end(), s2->skipped.begin(), s2->skipped.end());
    if (std::find(providers.begin(), providers.end(), s2->provider) == providers.end()) {
      providers.push_back(s2->provider);
    }
    json answer = json::parse(s2->json);
    for (const auto& inc : answer.at("incidents")) {
      if (inc.at("confidence").get<double>() < options_.min_confidence) continue;
      candidates.push_back(StageCandidate{priority, domain, incident_from_json(inc, context), false});
    }
    answers[domain] = std::move(answer);
  }
  for (size_t i = 0; i < providers.size(); ++i) out.stage2_provider += (i > 0 ? "," : "") + providers[i];
  out.extraction.provider = out.stage2_provider.empty() ? out.stage1_provider : out.stage2_provider;

  // Selector.
  std::stable_sort(candidates.begin(), candidates.end(), [](const StageCandidate& a, const StageCandidate& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.incident.confidence.value > b.incident.confidence.value;
  });
  SelectorChoice& choice = out.choice;
  std::vector<size_t> kept;
  for (size_t i = 0; i < candidates.size(); ++i) {
    StageCandidate& c = candidates[i];
    for (size_t k : kept) {
      if (candidates[k].incident.type == c.incident.type) {
        fill_slots(candidates[k].incident, c.incident);
        c.merged = true;
        break;
      }
    }
    if (!c.merged) kept.push_back(i);
    choice.ranked.push_back(c.domain + "/" + std::string(incident_type_name(c.incident.type)) + "/" +
                            format_confidence(c.incident.confidence.value) + (c.merged ? " (merged)" : ""));
  }
  if (candidates.empty()) {
    choice.reason = run_domains.empty() ? "stage 1 found no incident" : "no domain reported an incident";
  } else {
    const StageCandidate& top = candidates.front();
    choice.domain = top.domain;
    choice.type = std::string(incident_type_name(top.incident.type));
    choice.confidence = top.incident.confidence.value;
    bool most_confident = std::all_of(candidates.begin(), candidates.end(), [&](const StageCandidate& c) {
      return c.incident.confidence.value <= top.incident.confidence.value;
    });
    choice.reason = candidates.size() == 1 ? "only candidate"
                    : most_confident       ? "priority and confidence"
                                           : "domain priority";
  }
  for (size_t k : kept) out.extraction.incidents.push_back(std::move(candidates[k].incident));

  json selector = {{"domain", choice.domain.empty() ? json(nullptr) : json(choice.domain)},
                   {"type", choice.type.empty() ? json(nullptr) : json(choice.type)},
                   {"confidence", choice.confidence},
                   {"reason", choice.reason},
                   {"ranked", choice.ranked}};
  out.stage2_json = json{{"domains", std::move(answers)}, {"selector", std::move(selector)}}.dump();
  return out;
}

std::array<NewExtraction, 2> two_stage_records(const TwoStageResult& result, ArticleId article,
                                               WallTime created) {
  NewExtraction s1;
  s1.article = article;
  s1.provider = result.stage1_provider;
  s1.stage = "stage1";
  s1.result_json = result.stage1_json;
  s1.confidence = result.stage1_confidence;
  s1.created = created;
  NewExtraction s2;
  s2.article = article;
  s2.provider = result.stage2_provider.empty() ? result.stage1_provider : result.stage2_provider;
  s2.stage = "stage2";
  s2.result_json = result.stage2_json;
  s2.confidence = result.choice.confidence;
  s2.created = created;
  return {std::move(s1), std::move(s2)};
}

}  // namespace sentinel::intel
