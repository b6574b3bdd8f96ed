// IncidentStore: everything the incident-curation side (DESIGN.md section 7)
// keeps on disk - feeds, articles, extractions, the curation queue and what
// curators did, incidents with their actors, events, case and history,
// versions of the triage settings, and the rows of the job queues
// (jobs.h holds the retry policy; the store only keeps and claims rows).
//
// Two implementations share one SQL layer (sql_store.h): SQLite by default
// (sqlite_store.h) and PostgreSQL when configured (pg_store.h). Both run the
// migrations of src/intel/migrations/<dialect>/ at open and pass the same
// test suite (tests/unit/intel/store_test_cases.h).
//
// Times. Instants the operator side records (fetched, decided, leases) are
// WallTime: milliseconds of the system clock, passed in by the caller so tests
// control them. When something happened (an article's publication, an
// incident) is EventTime. Both are stored as integer milliseconds.
//
// Errors. Every method returns a Result; the Error's field says what kind:
//   "store.unavailable"  the database could not be reached or was busy past
//                        the timeout - a retry can help;
//   "store.conflict"     a uniqueness, reference or state rule refused the
//                        change (a feed URL added twice, an extraction of a
//                        missing article, a curation item already decided,
//                        a job whose lease was lost);
//   "store.not_found"    the row named by an id does not exist;
//   "store.invalid"      the input was refused (malformed JSON, NUL bytes,
//                        a limit out of range);
//   "store"              anything else the database reported.
// Nothing throws after open; open throws StoreError (start-up boundary).
//
// Threading: every method is safe from any thread. An instance owns one
// database connection behind a mutex, so calls on one instance run one at a
// time; several instances (or processes) on the same database are safe: each
// method is one transaction, and job claims are serialised per queue.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "intel/article_dedup.h"
#include "intel/extraction.h"

namespace sentinel::intel {

/// A wall-clock instant recorded by the operator side (ms since the epoch, UTC).
using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;

/// The system clock now, as WallTime.
inline WallTime wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

/// Thrown by the open functions only; what() names the database and the reason.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A row id of one table. Distinct types so an article id cannot be passed
/// where an incident id is meant. Valid ids are > 0.
template <typename Tag>
struct RowId {
  int64_t value = 0;
  constexpr bool valid() const { return value > 0; }
  friend constexpr auto operator<=>(RowId, RowId) = default;
};
using FeedId = RowId<struct FeedTag>;
using ArticleId = RowId<struct ArticleTag>;
using ExtractionId = RowId<struct ExtractionTag>;
using CurationItemId = RowId<struct CurationItemTag>;
using IncidentId = RowId<struct IncidentTag>;
using JobId = RowId<struct JobTag>;

// ---- Feeds ---------------------------------------------------------------

enum class FeedStatus : uint8_t { kActive, kPaused, kFailing };
/// "active", "paused", "failing".
std::string_view feed_status_name(FeedStatus s);
std::optional<FeedStatus> parse_feed_status(std::string_view s);

struct NewFeed {
  std::string url;
  std::string title;
  Millis schedule = Millis(3'600'000);  ///< time between fetches (hourly by default)
};

struct FeedRecord {
  FeedId id;
  std::string url;
  std::string title;
  Millis schedule{};
  std::string etag;           ///< from the last 200 answer ("" = none), sent as If-None-Match
  std::string last_modified;  ///< from the last 200 answer ("" = none), sent as If-Modified-Since
  std::optional<WallTime> last_fetch;  ///< the last attempt, successful or not
  WallTime next_fetch{};               ///< due when next_fetch <= now (and not paused)
  FeedStatus status = FeedStatus::kActive;
  std::string last_error;  ///< "" after a successful fetch
  uint32_t consecutive_failures = 0;
  WallTime created{};
};

/// What one fetch attempt found (IncidentStore::record_fetch).
struct FeedFetchRecord {
  WallTime at{};
  bool ok = true;             ///< a 200 or a 304
  bool not_modified = false;  ///< a 304: etag and last_modified are kept as they were
  std::string etag;           ///< of a 200 ("" = the answer had none)
  std::string last_modified;  ///< of a 200 ("" = the answer had none)
  std::string error;          ///< when !ok: one line for the admin page
};

// ---- Articles ------------------------------------------------------------

/// The dedup verdict shown to the curator: the rule that matched (DedupRule is
/// article_dedup.h's) and against what (the earlier article and, when it
/// already became one, the incident).
struct DedupVerdict {
  DedupRule rule = DedupRule::kNone;
  std::optional<ArticleId> article;
  std::optional<IncidentId> incident;
  double score = 0;  ///< the rule's similarity (1 for exact rules, 0 for kNone)
  friend bool operator==(const DedupVerdict&, const DedupVerdict&) = default;
};

struct NewArticle {
  std::string canonical_url;  ///< unique; the article is stored once under it
  std::string url;            ///< as the feed linked it
  std::optional<FeedId> feed;
  std::string title;
  std::string text;
  std::string language;                ///< "" = unknown
  std::optional<EventTime> published;  ///< feeds often omit it
  WallTime fetched{};
  uint64_t fingerprint = 0;  ///< content fingerprint (SimHash/MinHash, 64 bits)
};

struct StoredArticle {
  ArticleId id;
  std::string canonical_url;
  std::string url;
  std::optional<FeedId> feed;
  std::string title;
  std::string text;
  std::string language;
  std::optional<EventTime> published;
  WallTime fetched{};
  uint64_t fingerprint = 0;
  DedupVerdict dedup;
};

/// insert_article's answer: the id under the canonical URL, and whether this
/// call stored it (false: it was there already and nothing changed).
struct ArticleInsert {
  ArticleId id;
  bool inserted = false;
};

/// One title-similarity candidate. Similarity is pg_trgm's: the trigrams of
/// the lower-cased words (each padded with two spaces before and one after),
/// |A and B| / |A or B|, as a 32-bit float. Word order does not matter.
struct TitleMatch {
  ArticleId article;
  std::string title;
  double similarity = 0;
};

/// An article's fingerprint, for rebuilding an in-memory dedup index.
struct FingerprintRow {
  ArticleId article;
  uint64_t fingerprint = 0;
  std::optional<EventTime> published;
};

struct ArticleQuery {
  std::optional<FeedId> feed;
  size_t limit = 50;  ///< 1..1000
  size_t offset = 0;
};

// ---- Extractions ---------------------------------------------------------

/// The triage decision recorded with an extraction.
enum class RecordedTriage : uint8_t { kPending, kApprove, kReview, kReject };
/// "pending", "approve", "review", "reject".
std::string_view triage_outcome_name(RecordedTriage d);
std::optional<RecordedTriage> parse_triage_outcome(std::string_view s);

struct NewExtraction {
  ArticleId article;
  std::string provider;     ///< "builtin", "anthropic", "openai", ...
  std::string stage;        ///< "single", "stage1" (intermediate representation), "stage2"
  std::string result_json;  ///< the provider's result; must be valid JSON
  double confidence = 0;
  RecordedTriage triage = RecordedTriage::kPending;
  std::vector<std::string> triage_reasons;
  WallTime created{};
};

struct StoredExtraction {
  ExtractionId id;
  ArticleId article;
  std::string provider;
  std::string stage;
  std::string result_json;
  double confidence = 0;
  RecordedTriage triage = RecordedTriage::kPending;
  std::vector<std::string> triage_reasons;
  WallTime created{};
};

// ---- Curation --------------------------------------------------------------

enum class CurationState : uint8_t { kOpen, kApproved, kRejected };
/// "open", "approved", "rejected".
std::string_view curation_state_name(CurationState s);
std::optional<CurationState> parse_curation_state(std::string_view s);

enum class CurationActionKind : uint8_t { kApprove, kReject, kCorrect };
/// "approve", "reject", "correct".
std::string_view curation_action_name(CurationActionKind k);
std::optional<CurationActionKind> parse_curation_action(std::string_view s);

/// One curator action, as recorded (never changed afterwards).
struct CurationAction {
  CurationActionKind kind = CurationActionKind::kCorrect;
  std::string reason;     ///< reject: why (required); others: optional note
  std::string field;      ///< correct: the field path, e.g. "place" or "actors[1].role"
  std::string old_value;  ///< correct: the value before
  std::string new_value;  ///< correct: the value after
  std::string actor;      ///< token name of the curator (never a person's name from data)
  WallTime at{};
};

struct CurationItem {
  CurationItemId id;
  ExtractionId extraction;
  ArticleId article;
  CurationState state = CurationState::kOpen;
  double confidence = 0;  ///< the extraction's, for ordering and display
  WallTime created{};
  std::optional<WallTime> decided;
  std::string decided_by;
  std::optional<IncidentId> incident;  ///< set when approved
};

/// One row of the curation page: the item with what the curator needs to decide.
struct CurationItemView {
  CurationItem item;
  StoredArticle article;
  StoredExtraction extraction;
  std::vector<CurationAction> actions;  ///< oldest first
};

struct CurationQuery {
  std::optional<CurationState> state = CurationState::kOpen;  ///< nullopt = any
  size_t limit = 50;                                          ///< 1..1000
  size_t offset = 0;
};

/// Items oldest first; `total` counts all items matching the state filter.
struct CurationPage {
  std::vector<CurationItemView> items;
  int64_t total = 0;
};

// ---- Incidents -----------------------------------------------------------

enum class IncidentStatus : uint8_t { kOpen, kClosed, kRetracted };
/// "open", "closed", "retracted".
std::string_view incident_status_name(IncidentStatus s);
std::optional<IncidentStatus> parse_incident_status(std::string_view s);

/// A participant, described without a name ("man, 34", "CPD 11th district").
/// ActorRole is extraction.h's.
struct IncidentActor {
  ActorRole role = ActorRole::kVictim;
  std::string description;
  friend bool operator==(const IncidentActor&, const IncidentActor&) = default;
};

/// Something that happened within an incident (shooting, arrest, charge filed).
struct IncidentEvent {
  std::optional<EventTime> time;
  std::string kind;
  std::string description;
  friend bool operator==(const IncidentEvent&, const IncidentEvent&) = default;
};

struct Charge {
  std::string description;
  std::string statute;
  uint32_t count = 1;
  friend bool operator==(const Charge&, const Charge&) = default;
};

/// The court side, when reported.
struct CaseInfo {
  std::string case_number;
  std::string court;
  std::vector<Charge> charges;
  std::string disposition;  ///< "" = pending / unknown
  std::optional<EventTime> disposition_time;
  friend bool operator==(const CaseInfo&, const CaseInfo&) = default;
};

/// What create_incident needs. `sources` are articles reporting it.
struct IncidentDraft {
  std::string type;  ///< incident type ("shooting", "robbery", ...), not empty
  EventTime time{};
  std::string place;          ///< as geocoded ("W Madison St & N Pulaski Rd")
  std::optional<double> lat;  ///< both or neither
  std::optional<double> lon;
  std::string district;  ///< "" = unknown
  IncidentStatus status = IncidentStatus::kOpen;
  double confidence = 0;
  std::vector<IncidentActor> actors;
  std::vector<IncidentEvent> events;
  std::optional<CaseInfo> case_info;
  std::vector<ArticleId> sources;
  std::optional<ExtractionId> extraction;  ///< the extraction it came from
};

struct IncidentSource {
  ArticleId article;
  std::string url;  ///< the article's canonical URL
  DedupRule via =
      DedupRule::kNone;  ///< kNone: an original source; else how a duplicate was matched
  WallTime added{};
};

struct StoredIncident {
  IncidentId id;
  std::string type;
  EventTime time{};
  std::string place;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string district;
  IncidentStatus status = IncidentStatus::kOpen;
  double confidence = 0;
  std::vector<IncidentActor> actors;
  std::vector<IncidentEvent> events;
  std::optional<CaseInfo> case_info;
  std::vector<IncidentSource> sources;  ///< oldest first
  std::optional<ExtractionId> extraction;
  WallTime created{};
  WallTime updated{};
};

/// Fields update_incident may change; nullopt leaves a field as it is.
struct IncidentPatch {
  std::optional<std::string> type;
  std::optional<EventTime> time;
  std::optional<std::string> place;
  /// A new location; a pair of nullopt clears it.
  std::optional<std::pair<std::optional<double>, std::optional<double>>> location;
  std::optional<std::string> district;
  std::optional<IncidentStatus> status;
  std::optional<double> confidence;
};

/// One line of an incident's history: "created", a changed field (with the
/// old and new value as text), or "source" (new_value = the article id).
struct IncidentChange {
  WallTime at{};
  std::string actor;
  std::string field;
  std::string old_value;
  std::string new_value;
  std::string reason;
};

/// Filters of the incident map and list. Empty vectors mean "any".
struct IncidentQuery {
  std::optional<EventTime> from;  ///< time >= from
  std::optional<EventTime> to;    ///< time < to
  std::vector<std::string> types;
  std::vector<std::string> districts;
  std::vector<IncidentStatus> statuses;
  size_t limit = 100;  ///< 1..10000
  size_t offset = 0;
};

/// A list row (no actors, events or case: get_incident has those).
struct IncidentSummary {
  IncidentId id;
  std::string type;
  EventTime time{};
  std::string place;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string district;
  IncidentStatus status = IncidentStatus::kOpen;
  double confidence = 0;
  int64_t source_count = 0;
};

/// Newest first. `total` and the counts cover every match, not only the page;
/// counts are ordered by count descending, then name.
struct IncidentPage {
  std::vector<IncidentSummary> items;
  int64_t total = 0;
  std::vector<std::pair<std::string, int64_t>> by_type;
  std::vector<std::pair<std::string, int64_t>> by_district;  ///< "" = unknown district
};

// ---- Triage settings -----------------------------------------------------

/// One saved version of the triage settings (thresholds, per-category
/// overrides, per-type required fields) as JSON; versions count up from 1.
struct TriageSettingsVersion {
  int64_t version = 0;
  std::string settings_json;
  std::string author;
  WallTime at{};
};

// ---- Jobs ----------------------------------------------------------------

enum class JobState : uint8_t { kQueued, kRunning, kDone, kDead };
/// "queued", "running", "done", "dead".
std::string_view job_state_name(JobState s);
std::optional<JobState> parse_job_state(std::string_view s);

/// Whether retrying a failed job can help (a timeout, a 503) or not (a 404,
/// a parse error).
enum class FailureKind : uint8_t { kTransient, kPermanent };
/// "transient", "permanent".
std::string_view failure_kind_name(FailureKind k);
std::optional<FailureKind> parse_failure_kind(std::string_view s);

struct NewJob {
  std::string queue;    ///< "fetch", "enrich", "extract"
  std::string payload;  ///< opaque to the store (JSON by convention)
  /// "" = none. While a job with the same queue and key is queued or running,
  /// enqueueing another returns that job instead.
  std::string dedup_key;
  WallTime run_at{};  ///< not claimed before
  WallTime created{};
};

struct Job {
  JobId id;
  std::string queue;
  std::string payload;
  std::string dedup_key;
  JobState state = JobState::kQueued;
  uint32_t attempts = 0;  ///< claims so far (the running one included)
  WallTime run_at{};
  std::string worker;      ///< the last claimer
  WallTime lease_until{};  ///< while running: the claim is lost after this
  std::string last_error;
  std::optional<FailureKind> last_failure;
  WallTime created{};
  WallTime updated{};
};

struct JobEnqueue {
  JobId id;
  bool created = false;  ///< false: an active job with the same dedup key was returned
};

/// The new state of a job (transition_job); every field is written.
struct JobTransition {
  JobState state = JobState::kQueued;
  WallTime run_at{};
  WallTime lease_until{};
  std::string last_error;
  std::optional<FailureKind> last_failure;
  WallTime updated{};
};

struct JobCount {
  std::string queue;
  JobState state = JobState::kQueued;
  int64_t count = 0;
};

struct JobListQuery {
  std::optional<std::string> queue;
  std::optional<JobState> state;
  size_t limit = 100;  ///< 1..1000; newest updates first
};

/// One applied schema migration.
struct AppliedMigration {
  int version = 0;
  std::string name;
  WallTime applied_at{};
};

/// The store. See the file comment for errors and threading.
class IncidentStore {
 public:
  virtual ~IncidentStore() = default;

  /// "sqlite" or "postgres".
  virtual std::string_view backend() const = 0;
  /// Migrations applied to this database, by version.
  virtual Result<std::vector<AppliedMigration>> migrations() = 0;

  // Feeds.
  /// Adds a feed due at once. "store.conflict" when the URL is already there.
  virtual Result<FeedId> add_feed(const NewFeed& feed, WallTime now) = 0;
  virtual Result<std::optional<FeedRecord>> get_feed(FeedId id) = 0;
  /// All feeds, by id.
  virtual Result<std::vector<FeedRecord>> list_feeds() = 0;
  /// Changes title and schedule; the next fetch moves to last_fetch + schedule
  /// (or stays due when never fetched).
  virtual Status update_feed(FeedId id, std::string_view title, Millis schedule) = 0;
  /// Pausing stops due_feeds from returning it; kActive resumes it.
  virtual Status set_feed_status(FeedId id, FeedStatus status) = 0;
  /// Deletes the feed; its articles stay (with no feed).
  virtual Status delete_feed(FeedId id) = 0;
  /// Feeds not paused whose next_fetch <= now, most overdue first.
  virtual Result<std::vector<FeedRecord>> due_feeds(WallTime now, size_t limit) = 0;
  /// "Fetch now": makes the feed due at `now`.
  virtual Status request_fetch(FeedId id, WallTime now) = 0;
  /// Records an attempt: last_fetch = at, next_fetch = at + schedule; on
  /// success the validators (unless not_modified) and status active, on
  /// failure status failing (unless paused), the error and one more failure.
  virtual Status record_fetch(FeedId id, const FeedFetchRecord& fetch) = 0;

  // Articles.
  /// Stores the article unless its canonical URL is there already.
  virtual Result<ArticleInsert> insert_article(const NewArticle& article) = 0;
  /// insert_article for each, in one transaction (all or nothing): what a
  /// feed fetch stores, several times faster per article than one by one.
  /// An article repeated within the batch is stored once.
  virtual Result<std::vector<ArticleInsert>> insert_articles(
      const std::vector<NewArticle>& articles) = 0;
  virtual Result<std::optional<StoredArticle>> get_article(ArticleId id) = 0;
  virtual Result<std::optional<StoredArticle>> find_article_by_url(
      std::string_view canonical_url) = 0;
  /// Newest fetched first.
  virtual Result<std::vector<StoredArticle>> list_articles(const ArticleQuery& query) = 0;
  /// Enrichment: the page's main text replaces the feed's snippet.
  virtual Status update_article_text(ArticleId id, std::string_view text, uint64_t fingerprint) = 0;
  virtual Status set_dedup_verdict(ArticleId id, const DedupVerdict& verdict) = 0;
  /// Up to `limit` articles whose title similarity to `title` is at least
  /// `min_similarity` (in (0, 1]), most similar first, then by id; only
  /// articles fetched at or after `fetched_since` when given. The cost grows
  /// with the articles searched: dedup should pass its time window.
  virtual Result<std::vector<TitleMatch>> similar_titles(
      std::string_view title, size_t limit, double min_similarity = 0.3,
      std::optional<WallTime> fetched_since = std::nullopt) = 0;
  /// Articles with id > after, by id (rebuilding in-memory indexes at
  /// start-up); page on with the last id.
  virtual Result<std::vector<StoredArticle>> articles_after(ArticleId after, size_t limit) = 0;
  /// Fingerprints of articles with id > after, by id; page with the last id.
  virtual Result<std::vector<FingerprintRow>> fingerprints(ArticleId after, size_t limit) = 0;
  virtual Result<int64_t> article_count() = 0;

  // Extractions.
  virtual Result<ExtractionId> insert_extraction(const NewExtraction& extraction) = 0;
  virtual Result<std::optional<StoredExtraction>> get_extraction(ExtractionId id) = 0;
  /// Oldest first.
  virtual Result<std::vector<StoredExtraction>> extractions_for_article(ArticleId article) = 0;
  virtual Status set_triage(ExtractionId id, RecordedTriage decision,
                            const std::vector<std::string>& reasons) = 0;

  // Curation queue.
  /// Puts the extraction on the queue (open); idempotent per extraction.
  virtual Result<CurationItemId> enqueue_curation(ExtractionId extraction, WallTime now) = 0;
  virtual Result<std::optional<CurationItemView>> get_curation_item(CurationItemId id) = 0;
  virtual Result<CurationPage> curation_page(const CurationQuery& query) = 0;
  /// In one transaction: creates the incident (the item's extraction and
  /// article are added to the draft), marks the item approved and records
  /// the action. "store.conflict" when the item is not open.
  virtual Result<IncidentId> approve_curation(CurationItemId id, const IncidentDraft& draft,
                                              std::string_view actor, WallTime at,
                                              std::string_view note = {}) = 0;
  /// Marks the item rejected with a reason (required). "store.conflict" when not open.
  virtual Status reject_curation(CurationItemId id, std::string_view reason, std::string_view actor,
                                 WallTime at) = 0;
  /// Records a field correction on an open item (the caller applies it to the
  /// draft it approves). "store.conflict" when not open.
  virtual Status correct_curation(CurationItemId id, std::string_view field,
                                  std::string_view old_value, std::string_view new_value,
                                  std::string_view actor, WallTime at) = 0;

  // Incidents.
  /// Creates an incident (auto-approval) with a "created" history line.
  virtual Result<IncidentId> create_incident(const IncidentDraft& draft, std::string_view actor,
                                             WallTime at) = 0;
  virtual Result<std::optional<StoredIncident>> get_incident(IncidentId id) = 0;
  virtual Result<IncidentPage> list_incidents(const IncidentQuery& query) = 0;
  /// Applies the patch; one history line per field that changed (none when
  /// nothing did). Returns whether anything changed.
  virtual Result<bool> update_incident(IncidentId id, const IncidentPatch& patch,
                                       std::string_view actor, WallTime at,
                                       std::string_view reason = {}) = 0;
  /// Replaces actors, events and case (a curator's correction), with one
  /// history line per part that changed.
  virtual Status replace_incident_details(IncidentId id, const std::vector<IncidentActor>& actors,
                                          const std::vector<IncidentEvent>& events,
                                          const std::optional<CaseInfo>& case_info,
                                          std::string_view actor, WallTime at) = 0;
  /// Adds an article as a source (a duplicate matched by `via`); a second
  /// call for the same pair changes nothing and returns false.
  virtual Result<bool> add_incident_source(IncidentId id, ArticleId article, DedupRule via,
                                           std::string_view actor, WallTime at) = 0;
  /// Oldest first.
  virtual Result<std::vector<IncidentChange>> incident_history(IncidentId id) = 0;

  // Triage settings.
  /// Saves a new version (JSON object required); returns its number.
  virtual Result<int64_t> save_triage_settings(std::string_view settings_json,
                                               std::string_view author, WallTime at) = 0;
  /// The newest version, nullopt when none was ever saved.
  virtual Result<std::optional<TriageSettingsVersion>> current_triage_settings() = 0;
  /// Newest first.
  virtual Result<std::vector<TriageSettingsVersion>> triage_settings_history(size_t limit) = 0;

  // Job rows (JobQueue in jobs.h owns the policy; use it rather than these).
  virtual Result<JobEnqueue> enqueue_job(const NewJob& job) = 0;
  /// Claims the queued job of `queue` with the earliest run_at <= now (then
  /// the smallest id), unless `max_running` jobs of the queue are running:
  /// state running, attempts + 1, worker, lease_until. Serialised per queue
  /// across connections, so concurrency limits hold between processes.
  virtual Result<std::optional<Job>> claim_job(std::string_view queue, std::string_view worker,
                                               WallTime now, WallTime lease_until,
                                               uint32_t max_running) = 0;
  /// Writes `to` if the job is still in `expected_state` after
  /// `expected_attempts` claims (the fence against a lost lease); false when
  /// it is not (another worker owns it now, or it was recovered).
  virtual Result<bool> transition_job(JobId id, JobState expected_state, uint32_t expected_attempts,
                                      const JobTransition& to) = 0;
  /// Moves lease_until of a running job (same fence as transition_job).
  virtual Result<bool> extend_job_lease(JobId id, uint32_t expected_attempts,
                                        WallTime lease_until) = 0;
  virtual Result<std::optional<Job>> get_job(JobId id) = 0;
  /// Running jobs whose lease_until <= now, oldest lease first.
  virtual Result<std::vector<Job>> expired_jobs(WallTime now, size_t limit) = 0;
  /// The earliest run_at of a queued job of the queue.
  virtual Result<std::optional<WallTime>> next_job_due(std::string_view queue) = 0;
  /// Counts per queue and state (states with no jobs are left out).
  virtual Result<std::vector<JobCount>> job_counts() = 0;
  virtual Result<std::vector<Job>> list_jobs(const JobListQuery& query) = 0;
  /// Deletes jobs in `state` (done or dead) last updated before `before`.
  virtual Result<int64_t> purge_jobs(JobState state, WallTime before) = 0;
};

/// Error fields of the store (see the file comment).
inline constexpr std::string_view kStoreUnavailable = "store.unavailable";
inline constexpr std::string_view kStoreConflict = "store.conflict";
inline constexpr std::string_view kStoreNotFound = "store.not_found";
inline constexpr std::string_view kStoreInvalid = "store.invalid";

/// Whether retrying the operation that failed with `e` can help.
inline bool store_error_is_transient(const Error& e) {
  return e.field == kStoreUnavailable;
}

}  // namespace sentinel::intel
