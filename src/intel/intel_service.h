// IntelService: the incident-curation side of DESIGN.md section 7 running
// on its own threads. Feeds are fetched on their schedule; each new article
// (stored once under its canonical URL) is enriched with its page's main
// text when the feed gave only a snippet, then extracted, checked against
// the articles seen before (title, content fingerprint, entities) and
// triaged: auto-approved into an incident (and a `platform` event into the
// alert pipeline), put on the curation queue, or auto-rejected with reasons.
// Curators' decisions come in through the methods below (the REST routes).
//
// Work travels as jobs of three queues (jobs.h) kept in the store, so a
// crash loses nothing: at start, and every stale_check, jobs whose worker
// lease expired go back to their queue.
//
// Threading: start() runs one scheduler thread and, per queue, as many
// worker threads as the queue's concurrency. Every public method is safe
// from any thread. Callbacks run on the service's threads (or the caller's,
// for the curation methods), after the store committed, with no lock held.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "intel/extraction.h"
#include "intel/feed_fetcher.h"
#include "intel/jobs.h"
#include "intel/store.h"
#include "intel/triage.h"

namespace sentinel::intel {

struct IntelServiceOptions {
  JobQueueOptions jobs;
  FetchOptions fetch;
  /// Articles whose text is shorter are enriched (0 = never).
  uint32_t enrich_min_chars = 500;
  /// How often expired job leases are recovered.
  Millis stale_check{30'000};
  /// Longest sleep of an idle worker before it looks at its queue again (it
  /// is woken at once for jobs this process enqueues).
  Millis idle_poll{1'000};
  /// Done and dead jobs older than this are deleted (the store keeps the
  /// articles, extractions and incidents they produced).
  Millis keep_finished_jobs{7LL * 24 * 3600 * 1000};
  /// Names this process in job leases ("host:pid").
  std::string worker_name = "sentinel";
};

/// The page's main text for an article, or an error whose field is
/// "enrich.transient" (a retry may help) or "enrich.permanent"
/// (page_enricher.h).
using PageTextFunction = std::function<Result<std::string>(const StoredArticle&)>;

struct IntelCallbacks {
  /// One CloudEvents JSON object (no newline) of source `platform` per
  /// incident that was approved (automatically or by a curator).
  std::function<void(std::string_view event)> on_platform_event;
  /// Every job transition (for the job-status WebSocket).
  std::function<void(const JobEvent&)> on_job_event;
};

/// A curator's corrections of an item's extracted fields, applied to the
/// incident draft at approval (each one recorded as a "correct" action).
struct CurationCorrections {
  std::optional<std::string> type;
  std::optional<int64_t> time_ms;
  std::optional<std::string> place;
  std::optional<std::pair<double, double>> location;  ///< (lat, lon)
  std::optional<std::string> district;
  std::optional<std::vector<IncidentActor>> actors;
  std::optional<CaseInfo> case_info;
};

/// Counters since start (exported on /metrics).
struct IntelMetrics {
  uint64_t fetches_ok = 0, fetches_not_modified = 0, fetches_failed = 0;
  uint64_t entries_seen = 0, entries_rejected = 0, articles_stored = 0;
  uint64_t enriched = 0, enrich_failed = 0;
  uint64_t extracted = 0, extract_failed = 0;
  uint64_t duplicates_title = 0, duplicates_fingerprint = 0, duplicates_entity = 0;
  uint64_t auto_approved = 0, reviewed = 0, auto_rejected = 0;
  uint64_t curator_approved = 0, curator_rejected = 0;
  uint64_t platform_events = 0;
};

class IntelService {
 public:
  /// `store` and `provider` must outlive the service. Throws
  /// std::invalid_argument on invalid options (a configuration boundary).
  /// `initial_rules` are used (and saved as version 1) only when the store
  /// has no triage settings yet.
  IntelService(IncidentStore& store, ExtractionProvider& provider, TriageRules initial_rules,
               IntelServiceOptions options, IntelCallbacks callbacks, PageTextFunction page_text = {});
  ~IntelService();
  IntelService(const IntelService&) = delete;
  IntelService& operator=(const IntelService&) = delete;

  /// Loads the triage settings and the dedup index from the store, recovers
  /// stale jobs and starts the threads. Throws std::runtime_error when the
  /// store cannot be read.
  void start();
  /// Stops the threads after their current job (idempotent).
  void stop();

  /// Runs at most one due job of `kind` on the calling thread (tests and
  /// benchmarks drive the service without its threads). True when one ran.
  Result<bool> run_one(JobKind kind);
  /// Enqueues fetches of the feeds due now (what the scheduler does each second).
  Status schedule_due_feeds();

  // Feeds (admin).
  Result<FeedRecord> add_feed(const NewFeed& feed);
  /// Makes the feed due now and enqueues its fetch; returns the job.
  Result<JobId> fetch_now(FeedId id);
  Result<FeedRecord> set_feed_status(FeedId id, FeedStatus status);

  // Curation (curator). `actor` is the token name.
  Result<IncidentId> approve(CurationItemId id, const CurationCorrections& corrections,
                             std::string_view actor, std::string_view note);
  Status reject(CurationItemId id, std::string_view reason, std::string_view actor);
  Status correct(CurationItemId id, std::string_view field, std::string_view old_value,
                 std::string_view new_value, std::string_view actor);
  /// Changes an incident's status (closed, retracted) with a reason in its history.
  Status set_incident_status(IncidentId id, IncidentStatus status, std::string_view actor,
                             std::string_view reason);

  // Triage settings (admin): validated, saved as a new version, then in force.
  Result<TriageSettingsVersion> set_triage_rules(std::string_view rules_json, std::string_view actor);
  Result<TriageSettingsVersion> triage_settings();

  IncidentStore& store() { return store_; }
  JobQueue& jobs();
  IntelMetrics metrics() const;
  /// Prometheus text of metrics() and the queue depths.
  std::string metrics_text();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  IncidentStore& store_;
};

/// The CloudEvents object an approved incident becomes (source `platform`,
/// type `platform.incident.<type>`, id `incident-<id>`).
std::string incident_platform_event(const StoredIncident& incident);

}  // namespace sentinel::intel
