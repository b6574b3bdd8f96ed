#include "intel/intel_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "intel/article_dedup.h"
#include "intel/canonical_url.h"
#include "intel/extraction_json.h"
#include "intel/feed_parser.h"
#include "intel/incident_types.h"
#include "intel/llm_errors.h"
#include "intel/llm_two_stage.h"
#include "intel/page_enricher.h"

namespace sentinel::intel {
namespace {

using nlohmann::json;

constexpr size_t kPage = 1000;
constexpr int64_t kDayMs = 86'400'000;
/// Articles fetched within this span get their entities back in the dedup
/// index at start (the entity rule matches recent incidents; re-reading
/// every extraction ever made would make start-up grow without bound).
constexpr int64_t kEntityRebuildMs = 14 * kDayMs;

/// How a job ended: done, or failed with a kind and a one-line reason.
struct JobOutcome {
  bool ok = true;
  FailureKind kind = FailureKind::kTransient;
  std::string reason;
  static JobOutcome done() { return {}; }
  static JobOutcome failed(FailureKind k, std::string why) { return {false, k, std::move(why)}; }
};

JobOutcome from_store_error(const Error& e, std::string_view what) {
  return JobOutcome::failed(store_error_is_transient(e) ? FailureKind::kTransient : FailureKind::kPermanent,
                            fmt::format("{}: {}", what, e.to_string()));
}

bool provider_error_is_transient(const Error& e) {
  return extract_error_is_transient(e) || store_error_is_transient(e);
}

std::optional<int64_t> job_number(const Job& job, const char* key) {
  const json j = json::parse(job.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

Article as_article(const StoredArticle& a) {
  Article out;
  out.url = a.url;
  out.canonical_url = a.canonical_url;
  out.title = a.title;
  out.text = a.text;
  out.published_ms = a.published ? a.published->time_since_epoch().count() : 0;
  out.language = a.language;
  return out;
}

ArticleEntities entities_of(const Incident& in) {
  ArticleEntities e;
  if (in.occurred.precision >= TimePrecision::kDay) e.day = day_from_ms(in.occurred.start_ms);
  e.place = in.place.name.empty() ? in.place.text : in.place.name;
  for (const Actor& a : in.actors) e.actors.push_back(a.text);
  if (!in.perpetrator_org.empty()) e.actors.push_back(in.perpetrator_org);
  return e;
}

ArticleEntities entities_of(const IncidentFields& f) {
  ArticleEntities e;
  if (f.time_ms) e.day = day_from_ms(*f.time_ms);
  e.place = f.place;
  for (const auto& [role, description] : f.actors) e.actors.push_back(description);
  if (!f.perpetrator_org.empty()) e.actors.push_back(f.perpetrator_org);
  return e;
}

ActorRole parse_role(std::string_view s) {
  for (ActorRole r : {ActorRole::kVictim, ActorRole::kSuspect, ActorRole::kOfficer, ActorRole::kWitness,
                      ActorRole::kAgency}) {
    if (actor_role_name(r) == s) return r;
  }
  return ActorRole::kVictim;
}

IncidentDraft draft_from(const IncidentFields& f, const StoredArticle& article, ExtractionId extraction) {
  IncidentDraft d;
  d.type = f.type.empty() ? "unknown" : f.type;
  const int64_t fallback = article.published ? article.published->time_since_epoch().count()
                                             : article.fetched.time_since_epoch().count();
  d.time = event_time_from_ms(f.time_ms.value_or(fallback));
  d.place = f.place;
  d.lat = f.lat;
  d.lon = f.lon;
  d.district = f.district;
  d.confidence = f.confidence;
  for (const auto& [role, description] : f.actors) d.actors.push_back({parse_role(role), description});
  if (!f.evidence.empty()) d.events.push_back({d.time, d.type, f.evidence});
  d.sources = {article.id};
  d.extraction = extraction;
  return d;
}

std::string optional_number(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : ""; }

}  // namespace

std::string incident_platform_event(const StoredIncident& incident) {
  const auto type = parse_incident_type(incident.type);
  const Severity severity = type ? incident_severity(*type) : Severity::kOther;
  json j;
  j["specversion"] = "1.0";
  j["id"] = fmt::format("incident-{}", incident.id.value);
  j["source"] = "platform";
  j["type"] = "platform.incident." + incident.type;
  j["time"] = format_rfc3339(incident.time);
  if (incident.lat && incident.lon) {
    j["lat"] = *incident.lat;
    j["lon"] = *incident.lon;
  }
  j["severity"] = std::string(severity_name(severity));
  j["confidence"] = std::clamp(incident.confidence, 0.0, 1.0);
  j["data"] = {{"incident_id", incident.id.value},
               {"place", incident.place},
               {"district", incident.district},
               {"status", std::string(incident_status_name(incident.status))},
               {"sources", incident.sources.size()}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct IntelService::Impl {
  Impl(IncidentStore& s, ExtractionProvider& p, TriageRules rules, IntelServiceOptions o, IntelCallbacks c,
       PageTextFunction pt)
      : store(s),
        provider(p),
        initial_rules(std::move(rules)),
        options(std::move(o)),
        callbacks(std::move(c)),
        page_text(std::move(pt)),
        queue(s, options.jobs),
        fetcher(options.fetch),
        triage(initial_rules) {}

  IncidentStore& store;
  ExtractionProvider& provider;
  TriageRules initial_rules;
  IntelServiceOptions options;
  IntelCallbacks callbacks;
  PageTextFunction page_text;
  JobQueue queue;
  FeedFetcher fetcher;
  Triage triage;
  ArticleDedup dedup;
  /// check() and add() of one article are one step, so two copies extracted
  /// at once cannot both miss each other.
  std::mutex dedup_mutex;

  std::mutex metrics_mutex;
  IntelMetrics counters;

  std::mutex wake_mutex;
  std::condition_variable wake;
  uint64_t wake_generation = 0;
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;

  template <typename F>
  void count(F f) {
    std::lock_guard lock(metrics_mutex);
    f(counters);
  }

  void notify_workers() {
    {
      std::lock_guard lock(wake_mutex);
      ++wake_generation;
    }
    wake.notify_all();
  }

  Result<JobId> enqueue(JobKind kind, std::string_view key, int64_t id) {
    auto r = queue.enqueue(kind, json{{key, id}}.dump(), fmt::format("{}:{}", key, id));
    if (!r.ok()) return r.error();
    notify_workers();
    return r.value().id;
  }

  // ---- start-up ---------------------------------------------------------

  void load_triage_rules() {
    auto current = store.current_triage_settings();
    if (!current.ok()) throw std::runtime_error("intel store: triage settings: " + current.error().to_string());
    if (current.value()) {
      auto rules = triage_rules_from_json(current.value()->settings_json);
      if (!rules.ok()) {
        throw std::runtime_error(fmt::format("intel store: triage settings version {}: {}",
                                             current.value()->version, rules.error().to_string()));
      }
      if (Status st = triage.replace_rules(std::move(rules.value())); !st.ok()) {
        throw std::runtime_error("intel store: triage settings: " + st.error().to_string());
      }
      spdlog::info("intel: triage settings version {} in force", current.value()->version);
      return;
    }
    auto saved = store.save_triage_settings(triage_rules_to_json(initial_rules), "config", wall_now());
    if (!saved.ok()) throw std::runtime_error("intel store: saving triage settings: " + saved.error().to_string());
    spdlog::info("intel: triage settings version {} saved from the configuration", saved.value());
  }

  void rebuild_dedup_index() {
    const int64_t recent = wall_now().time_since_epoch().count() - kEntityRebuildMs;
    ArticleId after{0};
    size_t articles = 0;
    for (;;) {
      auto page = store.articles_after(after, kPage);
      if (!page.ok()) throw std::runtime_error("intel store: reading articles: " + page.error().to_string());
      if (page.value().empty()) break;
      for (const StoredArticle& a : page.value()) {
        after = a.id;
        std::optional<ArticleEntities> entities;
        if (a.fetched.time_since_epoch().count() >= recent) {
          auto ex = store.extractions_for_article(a.id);
          if (ex.ok() && !ex.value().empty()) {
            auto fields = main_incident_fields(ex.value().back().result_json);
            if (fields.ok() && !fields.value().type.empty()) entities = entities_of(fields.value());
          }
        }
        (void)dedup.add(as_article(a), static_cast<uint64_t>(a.id.value), entities ? &*entities : nullptr);
        ++articles;
      }
    }
    size_t linked = 0;
    IncidentQuery q;
    q.limit = 10'000;
    for (q.offset = 0;; q.offset += q.limit) {
      auto page = store.list_incidents(q);
      if (!page.ok()) throw std::runtime_error("intel store: reading incidents: " + page.error().to_string());
      for (const IncidentSummary& s : page.value().items) {
        auto incident = store.get_incident(s.id);
        if (!incident.ok() || !incident.value()) continue;
        for (const IncidentSource& src : incident.value()->sources) {
          linked += dedup.set_incident(static_cast<uint64_t>(src.article.value), static_cast<uint64_t>(s.id.value)).ok();
        }
      }
      if (page.value().items.size() < q.limit) break;
    }
    spdlog::info("intel: dedup index rebuilt from {} articles ({} linked to incidents)", articles, linked);
  }

  // ---- fetch --------------------------------------------------------------

  JobOutcome fetch(const Job& job) {
    const auto feed_id = job_number(job, "feed");
    if (!feed_id) return JobOutcome::failed(FailureKind::kPermanent, "payload has no feed id");
    auto feed = store.get_feed(FeedId{*feed_id});
    if (!feed.ok()) return from_store_error(feed.error(), "reading the feed");
    if (!feed.value()) return JobOutcome::failed(FailureKind::kPermanent, fmt::format("feed {} was deleted", *feed_id));
    const FeedRecord& f = *feed.value();
    const FetchResult got = fetcher.fetch(f.url, FeedValidators{f.etag, f.last_modified});
    FeedFetchRecord record;
    record.at = wall_now();
    record.ok = got.ok();
    record.not_modified = got.not_modified();
    record.etag = got.validators.etag;
    record.last_modified = got.validators.last_modified;
    record.error = got.error;
    if (Status st = store.record_fetch(f.id, record); !st.ok()) return from_store_error(st.error(), "recording the fetch");
    if (!got.ok()) {
      count([](IntelMetrics& m) { ++m.fetches_failed; });
      spdlog::warn("intel: feed {} fetch failed: {}", f.id.value, got.error);
      return JobOutcome::failed(got.retryable ? FailureKind::kTransient : FailureKind::kPermanent, got.error);
    }
    if (got.not_modified()) {
      count([](IntelMetrics& m) { ++m.fetches_not_modified; });
      return JobOutcome::done();
    }
    FeedParseOptions po;
    po.headers = got.headers;
    po.href = got.effective_url.empty() ? f.url : got.effective_url;
    ParsedFeed parsed = parse_feed(got.body, po);
    parsed.status = got.status;
    if (parsed.version.empty() && parsed.entries.empty()) {
      count([](IntelMetrics& m) { ++m.fetches_failed; });
      return JobOutcome::failed(FailureKind::kPermanent,
                                "not a feed" + (parsed.bozo_exception.empty() ? "" : ": " + parsed.bozo_exception));
    }
    count([](IntelMetrics& m) { ++m.fetches_ok; });
    return store_entries(f, feed_articles(parsed, f.title));
  }

  JobOutcome store_entries(const FeedRecord& feed, std::vector<Article> entries) {
    std::vector<NewArticle> batch;
    batch.reserve(entries.size());
    const WallTime now = wall_now();
    uint64_t rejected = 0;
    for (Article& a : entries) {
      auto canonical = canonicalize_url(a.url);
      if (!canonical.ok()) {
        // An entry without a usable link cannot be stored once; say so.
        ++rejected;
        spdlog::warn("intel: feed {} entry refused: link {}", feed.id.value, canonical.error().to_string());
        continue;
      }
      a.canonical_url = canonical.value();
      NewArticle n;
      n.canonical_url = a.canonical_url;
      n.url = a.url;
      n.feed = feed.id;
      n.title = a.title;
      n.text = a.text;
      n.language = a.language;
      if (a.published_ms != 0) n.published = event_time_from_ms(a.published_ms);
      n.fetched = now;
      n.fingerprint = dedup.fingerprint(a).simhash;
      batch.push_back(std::move(n));
    }
    count([&](IntelMetrics& m) {
      m.entries_seen += entries.size();
      m.entries_rejected += rejected;
    });
    if (batch.empty()) return JobOutcome::done();
    auto inserted = store.insert_articles(batch);
    if (!inserted.ok()) return from_store_error(inserted.error(), "storing articles");
    uint64_t stored = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const ArticleInsert& ins = inserted.value()[i];
      if (!ins.inserted) continue;
      ++stored;
      const bool short_text = batch[i].text.size() < options.enrich_min_chars && page_text;
      auto job = enqueue(short_text ? JobKind::kEnrich : JobKind::kExtract, "article", ins.id.value);
      if (!job.ok()) return from_store_error(job.error(), "queueing the article");
    }
    count([&](IntelMetrics& m) { m.articles_stored += stored; });
    spdlog::info("intel: feed {}: {} entries, {} new articles, {} refused", feed.id.value, entries.size(), stored,
                 rejected);
    return JobOutcome::done();
  }

  // ---- enrich -------------------------------------------------------------

  /// The article a job names, or why the job cannot run.
  std::variant<StoredArticle, JobOutcome> job_article(const Job& job) {
    const auto article_id = job_number(job, "article");
    if (!article_id) return JobOutcome::failed(FailureKind::kPermanent, "payload has no article id");
    auto article = store.get_article(ArticleId{*article_id});
    if (!article.ok()) return from_store_error(article.error(), "reading the article");
    if (!article.value()) return JobOutcome::failed(FailureKind::kPermanent, "the article is gone");
    return std::move(*article.value());
  }

  JobOutcome enrich(const Job& job) {
    auto loaded = job_article(job);
    if (auto* o = std::get_if<JobOutcome>(&loaded)) return *o;
    const StoredArticle& a = std::get<StoredArticle>(loaded);
    if (a.text.size() < options.enrich_min_chars && page_text) {
      auto text = page_text(a);
      if (!text.ok()) {
        const bool transient = enrich_error_is_transient(text.error());
        const bool last = !transient || job.attempts >= options.jobs.policy(JobKind::kEnrich).transient.max_attempts;
        count([](IntelMetrics& m) { ++m.enrich_failed; });
        // An article whose page cannot be read is still extracted from its
        // snippet: enrichment improves an article, it never holds one back.
        if (last) {
          if (auto r = enqueue(JobKind::kExtract, "article", a.id.value); !r.ok()) {
            return from_store_error(r.error(), "queueing the article");
          }
        }
        return JobOutcome::failed(transient ? FailureKind::kTransient : FailureKind::kPermanent,
                                  "page: " + text.error().reason);
      }
      if (text.value().size() > a.text.size()) {
        Article updated = as_article(a);
        updated.text = text.value();
        if (Status st = store.update_article_text(a.id, updated.text, dedup.fingerprint(updated).simhash); !st.ok()) {
          return from_store_error(st.error(), "saving the page text");
        }
        count([](IntelMetrics& m) { ++m.enriched; });
      }
    }
    if (auto r = enqueue(JobKind::kExtract, "article", a.id.value); !r.ok()) {
      return from_store_error(r.error(), "queueing the article");
    }
    return JobOutcome::done();
  }

  // ---- extract, dedup, triage --------------------------------------------

  JobOutcome extract(const Job& job) {
    auto loaded = job_article(job);
    if (auto* o = std::get_if<JobOutcome>(&loaded)) return *o;
    const StoredArticle& a = std::get<StoredArticle>(loaded);
    const Article plain = as_article(a);
    ArticleText text = article_text(plain);
    // Two-stage extraction keeps both stages beside the final result.
    std::optional<TwoStageResult> stages;
    Result<Extraction> extraction = Error{};
    if (auto* two = dynamic_cast<TwoStageExtractor*>(&provider)) {
      auto run = two->run(text);
      if (run.ok()) {
        stages = std::move(run.value());
        extraction = stages->extraction;
      } else {
        extraction = run.error();
      }
    } else {
      extraction = provider.extract(text);
    }
    if (!extraction.ok()) {
      count([](IntelMetrics& m) { ++m.extract_failed; });
      return JobOutcome::failed(
          provider_error_is_transient(extraction.error()) ? FailureKind::kTransient : FailureKind::kPermanent,
          "extraction: " + extraction.error().to_string());
    }
    count([](IntelMetrics& m) { ++m.extracted; });
    const Extraction& x = extraction.value();
    const Incident* main = x.main();

    // Dedup before triage: a copy of an article already seen does not make
    // a second incident.
    std::optional<ArticleEntities> entities;
    if (main) entities = entities_of(*main);
    DedupMatch match;
    {
      std::lock_guard lock(dedup_mutex);
      const ArticleFingerprint fp = dedup.fingerprint(plain);
      match = dedup.check(fp, entities ? &*entities : nullptr);
      (void)dedup.add(fp, static_cast<uint64_t>(a.id.value), entities ? &*entities : nullptr);
    }

    NewExtraction ne;
    ne.article = a.id;
    ne.provider = x.provider.empty() ? std::string(provider.name()) : x.provider;
    ne.stage = "single";
    ne.result_json = extraction_to_json(x);
    ne.confidence = x.confidence();
    ne.created = wall_now();
    if (stages) {
      // Stage 1 (the intermediate representation) and stage 2 (every
      // domain's answer and the selector's choice) as they came; the
      // selected result, which triage and curation use, after them.
      ne.stage = "selected";
      for (const NewExtraction& record : two_stage_records(*stages, a.id, ne.created)) {
        if (auto r = store.insert_extraction(record); !r.ok()) return from_store_error(r.error(), "storing a stage");
      }
    }
    auto stored = store.insert_extraction(ne);
    if (!stored.ok()) return from_store_error(stored.error(), "storing the extraction");
    const ExtractionId xid = stored.value();

    if (match.duplicate) return duplicate(a, xid, match);

    if (!main) {
      count([](IntelMetrics& m) { ++m.auto_rejected; });
      return finish_triage(xid, RecordedTriage::kReject, {"no incident found in the article"});
    }
    TriageInput in;
    in.confidence = main->confidence.value;
    in.category = std::string(incident_category(main->type));
    in.incident_type = std::string(incident_type_name(main->type));
    in.present_fields = present_triage_fields(*main);
    const TriageDecision d = triage.decide(in);
    std::vector<std::string> reasons = d.reasons;
    reasons.push_back(fmt::format("triage rules version {}", d.rules_version));
    switch (d.outcome) {
      case TriageOutcome::kAutoApprove: {
        auto fields = main_incident_fields(ne.result_json);
        if (!fields.ok()) return JobOutcome::failed(FailureKind::kPermanent, fields.error().to_string());
        auto incident = store.create_incident(draft_from(fields.value(), a, xid), "triage", wall_now());
        if (!incident.ok()) return from_store_error(incident.error(), "creating the incident");
        {
          std::lock_guard lock(dedup_mutex);
          (void)dedup.set_incident(static_cast<uint64_t>(a.id.value), static_cast<uint64_t>(incident.value().value));
        }
        count([](IntelMetrics& m) { ++m.auto_approved; });
        reasons.push_back(fmt::format("became incident {}", incident.value().value));
        JobOutcome o = finish_triage(xid, RecordedTriage::kApprove, reasons);
        emit_incident(incident.value());
        return o;
      }
      case TriageOutcome::kReview: {
        JobOutcome o = finish_triage(xid, RecordedTriage::kReview, reasons);
        if (!o.ok) return o;
        auto item = store.enqueue_curation(xid, wall_now());
        if (!item.ok()) return from_store_error(item.error(), "queueing for curation");
        count([](IntelMetrics& m) { ++m.reviewed; });
        return o;
      }
      case TriageOutcome::kAutoReject:
        count([](IntelMetrics& m) { ++m.auto_rejected; });
        return finish_triage(xid, RecordedTriage::kReject, reasons);
    }
    return JobOutcome::done();
  }

  JobOutcome duplicate(const StoredArticle& a, ExtractionId xid, const DedupMatch& match) {
    count([&](IntelMetrics& m) {
      if (match.rule == DedupRule::kTitle) ++m.duplicates_title;
      if (match.rule == DedupRule::kFingerprint) ++m.duplicates_fingerprint;
      if (match.rule == DedupRule::kEntity) ++m.duplicates_entity;
    });
    DedupVerdict v;
    v.rule = match.rule;
    v.article = ArticleId{static_cast<int64_t>(match.article_id)};
    if (match.incident_id != 0) v.incident = IncidentId{static_cast<int64_t>(match.incident_id)};
    v.score = match.similarity;
    if (Status st = store.set_dedup_verdict(a.id, v); !st.ok()) return from_store_error(st.error(), "saving the dedup verdict");
    const std::string why = fmt::format("duplicate of article {} by {} (similarity {:.2f})", match.article_id,
                                        to_string(match.rule), match.similarity);
    if (v.incident) {
      // The incident gains a source; nobody needs to look at it again.
      auto added = store.add_incident_source(*v.incident, a.id, match.rule, "dedup", wall_now());
      if (!added.ok()) return from_store_error(added.error(), "adding the source");
      {
        std::lock_guard lock(dedup_mutex);
        (void)dedup.set_incident(static_cast<uint64_t>(a.id.value), match.incident_id);
      }
      return finish_triage(xid, RecordedTriage::kReject,
                           {why, fmt::format("added as a source of incident {}", match.incident_id)});
    }
    // The original is still undecided: the curator sees both, with the match.
    JobOutcome o = finish_triage(xid, RecordedTriage::kReview, {why, "the matched article has no incident yet"});
    if (!o.ok) return o;
    auto item = store.enqueue_curation(xid, wall_now());
    if (!item.ok()) return from_store_error(item.error(), "queueing for curation");
    count([](IntelMetrics& m) { ++m.reviewed; });
    return o;
  }

  JobOutcome finish_triage(ExtractionId xid, RecordedTriage outcome, const std::vector<std::string>& reasons) {
    if (Status st = store.set_triage(xid, outcome, reasons); !st.ok()) return from_store_error(st.error(), "saving the triage");
    return JobOutcome::done();
  }

  void emit_incident(IncidentId id) {
    if (!callbacks.on_platform_event) return;
    auto incident = store.get_incident(id);
    if (!incident.ok() || !incident.value()) {
      spdlog::error("intel: incident {} approved but unreadable for its platform event", id.value);
      return;
    }
    callbacks.on_platform_event(incident_platform_event(*incident.value()));
    count([](IntelMetrics& m) { ++m.platform_events; });
  }

  // ---- workers ----------------------------------------------------------

  Result<bool> run_one(JobKind kind, std::string_view worker) {
    auto claimed = queue.claim(kind, worker);
    if (!claimed.ok()) return claimed.error();
    if (!claimed.value()) return false;
    const Job& job = *claimed.value();
    JobOutcome o;
    try {
      switch (kind) {
        case JobKind::kFetch: o = fetch(job); break;
        case JobKind::kEnrich: o = enrich(job); break;
        case JobKind::kExtract: o = extract(job); break;
      }
    } catch (const std::exception& e) {
      // A bug or a library's exception fails this job, never the worker.
      o = JobOutcome::failed(FailureKind::kPermanent, std::string("internal error: ") + e.what());
    }
    if (o.ok) {
      if (Status st = queue.complete(job); !st.ok()) spdlog::warn("intel: job {}: {}", job.id.value, st.error().to_string());
    } else {
      spdlog::warn("intel: {} job {} failed ({}): {}", job_kind_name(kind), job.id.value, failure_kind_name(o.kind),
                   o.reason);
      if (auto r = queue.fail(job, o.kind, o.reason); !r.ok()) {
        spdlog::warn("intel: job {}: {}", job.id.value, r.error().to_string());
      }
    }
    return true;
  }

  void sleep_idle(Millis at_most) {
    std::unique_lock lock(wake_mutex);
    const uint64_t seen = wake_generation;
    wake.wait_for(lock, at_most, [&] { return stopping.load() || wake_generation != seen; });
  }

  void worker_loop(JobKind kind, std::string name) {
    while (!stopping.load()) {
      auto ran = run_one(kind, name);
      if (ran.ok() && ran.value()) continue;
      if (!ran.ok()) spdlog::warn("intel: {} worker: {}", job_kind_name(kind), ran.error().to_string());
      Millis wait = options.idle_poll;
      if (auto due = queue.next_due(kind); due.ok() && due.value()) {
        wait = std::clamp(std::chrono::duration_cast<Millis>(*due.value() - wall_now()), Millis(10), wait);
      }
      sleep_idle(wait);
    }
  }

  Status schedule_due_feeds() {
    auto due = store.due_feeds(wall_now(), 100);
    if (!due.ok()) return due.error();
    for (const FeedRecord& f : due.value()) {
      if (auto r = enqueue(JobKind::kFetch, "feed", f.id.value); !r.ok()) return r.error();
    }
    return Ok{};
  }

  void scheduler_loop() {
    WallTime next_recover = wall_now() + options.stale_check;
    WallTime next_purge = wall_now();
    while (!stopping.load()) {
      if (Status st = schedule_due_feeds(); !st.ok()) spdlog::warn("intel: scheduling feeds: {}", st.error().to_string());
      const WallTime now = wall_now();
      if (now >= next_recover) {
        if (auto r = queue.recover_stale(now); r.ok() && !r.value().empty()) {
          spdlog::warn("intel: {} jobs with expired leases put back", r.value().size());
          notify_workers();
        }
        next_recover = now + options.stale_check;
      }
      if (now >= next_purge) {
        (void)queue.purge_finished(now - options.keep_finished_jobs);
        next_purge = now + Millis(3'600'000);
      }
      std::unique_lock lock(wake_mutex);
      wake.wait_for(lock, Millis(1'000), [&] { return stopping.load(); });
    }
  }
};

IntelService::IntelService(IncidentStore& store, ExtractionProvider& provider, TriageRules initial_rules,
                           IntelServiceOptions options, IntelCallbacks callbacks, PageTextFunction page_text)
    : impl_(std::make_unique<Impl>(store, provider, std::move(initial_rules), std::move(options),
                                   std::move(callbacks), std::move(page_text))),
      store_(store) {
  Impl* p = impl_.get();
  p->queue.set_listener([p](const JobEvent& e) {
    if (p->callbacks.on_job_event) p->callbacks.on_job_event(e);
  });
}

IntelService::~IntelService() { stop(); }

void IntelService::start() {
  Impl& p = *impl_;
  p.load_triage_rules();
  p.rebuild_dedup_index();
  if (auto r = p.queue.recover_stale(); !r.ok()) {
    throw std::runtime_error("intel store: recovering jobs: " + r.error().to_string());
  } else if (!r.value().empty()) {
    spdlog::warn("intel: {} jobs left running by an earlier process put back on their queues", r.value().size());
  }
  p.stopping = false;
  p.threads.emplace_back([&p] { p.scheduler_loop(); });
  for (JobKind kind : {JobKind::kFetch, JobKind::kEnrich, JobKind::kExtract}) {
    const uint32_t n = p.options.jobs.policy(kind).concurrency;
    for (uint32_t i = 0; i < n; ++i) {
      p.threads.emplace_back([&p, kind, i] {
        p.worker_loop(kind, fmt::format("{}/{}-{}", p.options.worker_name, job_kind_name(kind), i));
      });
    }
  }
}

void IntelService::stop() {
  if (!impl_) return;
  Impl& p = *impl_;
  p.stopping = true;
  p.wake.notify_all();
  for (std::thread& t : p.threads) {
    if (t.joinable()) t.join();
  }
  p.threads.clear();
}

Result<bool> IntelService::run_one(JobKind kind) {
  return impl_->run_one(kind, impl_->options.worker_name + "/inline");
}

Status IntelService::schedule_due_feeds() { return impl_->schedule_due_feeds(); }

Result<FeedRecord> IntelService::add_feed(const NewFeed& feed) {
  if (feed.url.rfind("http://", 0) != 0 && feed.url.rfind("https://", 0) != 0) {
    return Error{"url", "must be an http:// or https:// URL"};
  }
  if (feed.schedule < Millis(60'000)) return Error{"schedule_s", "must be at least 60"};
  auto id = store_.add_feed(feed, wall_now());
  if (!id.ok()) return id.error();
  // New feeds are fetched at once rather than at the scheduler's next tick.
  if (auto job = impl_->enqueue(JobKind::kFetch, "feed", id.value().value); !job.ok()) return job.error();
  auto f = store_.get_feed(id.value());
  if (!f.ok()) return f.error();
  if (!f.value()) return Error{std::string(kStoreNotFound), "the feed just added is gone"};
  spdlog::info("intel: feed {} added", id.value().value);
  return *f.value();
}

Result<JobId> IntelService::fetch_now(FeedId id) {
  if (Status st = store_.request_fetch(id, wall_now()); !st.ok()) return st.error();
  return impl_->enqueue(JobKind::kFetch, "feed", id.value);
}

Result<FeedRecord> IntelService::set_feed_status(FeedId id, FeedStatus status) {
  if (Status st = store_.set_feed_status(id, status); !st.ok()) return st.error();
  auto f = store_.get_feed(id);
  if (!f.ok()) return f.error();
  if (!f.value()) return Error{std::string(kStoreNotFound), fmt::format("feed {} does not exist", id.value)};
  return *f.value();
}

Result<IncidentId> IntelService::approve(CurationItemId id, const CurationCorrections& c, std::string_view actor,
                                         std::string_view note) {
  auto view = store_.get_curation_item(id);
  if (!view.ok()) return view.error();
  if (!view.value()) return Error{std::string(kStoreNotFound), fmt::format("curation item {} does not exist", id.value)};
  const CurationItemView& v = *view.value();
  if (v.item.state != CurationState::kOpen) {
    return Error{std::string(kStoreConflict),
                 fmt::format("curation item {} is already {}", id.value, curation_state_name(v.item.state))};
  }
  auto fields = main_incident_fields(v.extraction.result_json);
  if (!fields.ok()) return fields.error();
  IncidentDraft d = draft_from(fields.value(), v.article, v.extraction.id);
  const WallTime now = wall_now();
  auto record = [&](std::string_view field, std::string old_value, std::string new_value) -> Status {
    if (old_value == new_value) return Ok{};
    return store_.correct_curation(id, field, old_value, new_value, actor, now);
  };
  if (c.type) {
    if (!parse_incident_type(*c.type)) return Error{"corrections.type", "is not a known incident type"};
    if (Status st = record("type", d.type, *c.type); !st.ok()) return st.error();
    d.type = *c.type;
  }
  if (c.time_ms) {
    if (Status st = record("time", format_rfc3339(d.time), format_rfc3339(event_time_from_ms(*c.time_ms))); !st.ok()) {
      return st.error();
    }
    d.time = event_time_from_ms(*c.time_ms);
    for (IncidentEvent& e : d.events) e.time = d.time;  // the events are the extraction's, at its time
  }
  if (c.place) {
    if (Status st = record("place", d.place, *c.place); !st.ok()) return st.error();
    d.place = *c.place;
  }
  if (c.location) {
    const auto [lat, lon] = *c.location;
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) {
      return Error{"corrections.lat", "latitude must be in [-90, 90] and longitude in [-180, 180]"};
    }
    if (Status st = record("location", optional_number(d.lat) + "," + optional_number(d.lon), fmt::format("{},{}", lat, lon));
        !st.ok()) {
      return st.error();
    }
    d.lat = lat;
    d.lon = lon;
  }
  if (c.district) {
    if (Status st = record("district", d.district, *c.district); !st.ok()) return st.error();
    d.district = *c.district;
  }
  if (c.actors) {
    auto render = [](const std::vector<IncidentActor>& actors) {
      std::string s;
      for (const IncidentActor& a : actors) {
        if (!s.empty()) s += "; ";
        s += fmt::format("{}: {}", actor_role_name(a.role), a.description);
      }
      return s;
    };
    if (Status st = record("actors", render(d.actors), render(*c.actors)); !st.ok()) return st.error();
    d.actors = *c.actors;
  }
  if (c.case_info) d.case_info = c.case_info;
  auto incident = store_.approve_curation(id, d, actor, now, note);
  if (!incident.ok()) return incident.error();
  {
    std::lock_guard lock(impl_->dedup_mutex);
    (void)impl_->dedup.set_incident(static_cast<uint64_t>(v.article.id.value),
                                    static_cast<uint64_t>(incident.value().value));
  }
  // The curator's decision is the extraction's triage from now on.
  (void)store_.set_triage(v.extraction.id, RecordedTriage::kApprove,
                          {fmt::format("approved by curator {}", actor),
                           fmt::format("became incident {}", incident.value().value)});
  impl_->count([](IntelMetrics& m) { ++m.curator_approved; });
  spdlog::info("intel: curation item {} approved by {} as incident {}", id.value, actor, incident.value().value);
  impl_->emit_incident(incident.value());
  return incident.value();
}

Status IntelService::reject(CurationItemId id, std::string_view reason, std::string_view actor) {
  if (reason.find_first_not_of(" \t\r\n") == std::string_view::npos) return Error{"reason", "is required"};
  if (Status st = store_.reject_curation(id, reason, actor, wall_now()); !st.ok()) return st;
  impl_->count([](IntelMetrics& m) { ++m.curator_rejected; });
  spdlog::info("intel: curation item {} rejected by {}", id.value, actor);
  return Ok{};
}

Status IntelService::correct(CurationItemId id, std::string_view field, std::string_view old_value,
                             std::string_view new_value, std::string_view actor) {
  if (field.empty()) return Error{"field", "is required"};
  return store_.correct_curation(id, field, old_value, new_value, actor, wall_now());
}

Status IntelService::set_incident_status(IncidentId id, IncidentStatus status, std::string_view actor,
                                         std::string_view reason) {
  IncidentPatch patch;
  patch.status = status;
  auto changed = store_.update_incident(id, patch, actor, wall_now(), reason);
  if (!changed.ok()) return changed.error();
  return Ok{};
}

Result<TriageSettingsVersion> IntelService::set_triage_rules(std::string_view rules_json, std::string_view actor) {
  auto rules = triage_rules_from_json(rules_json);
  if (!rules.ok()) return rules.error();
  const std::string canonical = triage_rules_to_json(rules.value());
  auto version = store_.save_triage_settings(canonical, actor, wall_now());
  if (!version.ok()) return version.error();
  if (Status st = impl_->triage.replace_rules(std::move(rules.value())); !st.ok()) return st.error();
  spdlog::info("intel: triage settings version {} saved by {}", version.value(), actor);
  return triage_settings();
}

Result<TriageSettingsVersion> IntelService::triage_settings() {
  auto current = store_.current_triage_settings();
  if (!current.ok()) return current.error();
  if (!current.value()) return Error{std::string(kStoreNotFound), "no triage settings saved yet"};
  return *current.value();
}

JobQueue& IntelService::jobs() { return impl_->queue; }

IntelMetrics IntelService::metrics() const {
  std::lock_guard lock(impl_->metrics_mutex);
  return impl_->counters;
}

std::string IntelService::metrics_text() {
  const IntelMetrics m = metrics();
  std::string out;
  auto counter = [&out](std::string_view name, std::string_view help, uint64_t v, std::string_view labels = {}) {
    out += fmt::format("# HELP sentinel_intel_{0}_total {1}\n# TYPE sentinel_intel_{0}_total counter\n", name, help);
    out += fmt::format("sentinel_intel_{}_total{} {}\n", name, labels, v);
  };
  counter("fetches", "Feed fetches that answered 200.", m.fetches_ok);
  counter("fetches_not_modified", "Feed fetches answered 304 (conditional GET).", m.fetches_not_modified);
  counter("fetches_failed", "Feed fetches that failed (the job retries transient failures).", m.fetches_failed);
  counter("entries", "Feed entries read.", m.entries_seen);
  counter("entries_refused", "Feed entries refused (no usable link).", m.entries_rejected);
  counter("articles_stored", "New articles stored (once per canonical URL).", m.articles_stored);
  counter("enriched", "Articles whose text was replaced by their page's main text.", m.enriched);
  counter("enrich_failed", "Page enrichments that failed.", m.enrich_failed);
  counter("extracted", "Articles extracted.", m.extracted);
  counter("extract_failed", "Extractions that failed.", m.extract_failed);
  out += "# HELP sentinel_intel_duplicates_total Articles found to duplicate an earlier one, by rule.\n"
         "# TYPE sentinel_intel_duplicates_total counter\n";
  out += fmt::format("sentinel_intel_duplicates_total{{rule=\"title\"}} {}\n", m.duplicates_title);
  out += fmt::format("sentinel_intel_duplicates_total{{rule=\"fingerprint\"}} {}\n", m.duplicates_fingerprint);
  out += fmt::format("sentinel_intel_duplicates_total{{rule=\"entity\"}} {}\n", m.duplicates_entity);
  out += "# HELP sentinel_intel_triage_total Triage decisions by outcome.\n# TYPE sentinel_intel_triage_total counter\n";
  out += fmt::format("sentinel_intel_triage_total{{outcome=\"auto_approve\"}} {}\n", m.auto_approved);
  out += fmt::format("sentinel_intel_triage_total{{outcome=\"review\"}} {}\n", m.reviewed);
  out += fmt::format("sentinel_intel_triage_total{{outcome=\"auto_reject\"}} {}\n", m.auto_rejected);
  counter("curator_approved", "Curation items approved by a curator.", m.curator_approved);
  counter("curator_rejected", "Curation items rejected by a curator.", m.curator_rejected);
  counter("platform_events", "Approved incidents sent into the alert pipeline.", m.platform_events);
  if (auto qm = impl_->queue.metrics(); qm.ok()) {
    out += "# HELP sentinel_intel_jobs Jobs per queue and state (all processes sharing the store).\n"
           "# TYPE sentinel_intel_jobs gauge\n";
    for (const QueueMetrics& q : qm.value()) {
      for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
        out += fmt::format("sentinel_intel_jobs{{queue=\"{}\",state=\"{}\"}} {}\n", job_kind_name(q.kind),
                           job_state_name(s), q.by_state[static_cast<size_t>(s)]);
      }
    }
  }
  return out;
}

}  // namespace sentinel::intel
