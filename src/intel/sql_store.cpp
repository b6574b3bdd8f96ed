// IncidentStore over a sql::Driver (see sql_store.h for the split).
//
// Every public method is one transaction under mu_, so a method sees and
// leaves the database consistent, and a failure rolls everything back. Text
// parameters are checked for valid UTF-8 without NUL bytes here, before
// either driver sees them: PostgreSQL refuses such text and SQLite would
// store it, and the two stores must answer alike.
#include "intel/sql_store.h"

#include <locale.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstring>
#include <cwctype>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "intel/migrations.h"

namespace sentinel::intel {

// ---- Names of the store's enums ------------------------------------------

namespace {

template <typename E, size_t N>
std::optional<E> parse_name(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kFeedStatusNames = {"active", "paused", "failing"};
constexpr std::array<std::string_view, 4> kTriageNames = {"pending", "approve", "review", "reject"};
constexpr std::array<std::string_view, 3> kCurationStateNames = {"open", "approved", "rejected"};
constexpr std::array<std::string_view, 3> kCurationActionNames = {"approve", "reject", "correct"};
constexpr std::array<std::string_view, 3> kIncidentStatusNames = {"open", "closed", "retracted"};
constexpr std::array<std::string_view, 4> kJobStateNames = {"queued", "running", "done", "dead"};
constexpr std::array<std::string_view, 2> kFailureNames = {"transient", "permanent"};

// DedupRule and ActorRole belong to article_dedup.h and extraction.h; the
// store keeps its own spelling of them (the schema's CHECK constraints list
// the same words), so a new enumerator there fails to compile here (-Wswitch)
// rather than being stored under a wrong name.
std::string_view dedup_rule_text(DedupRule r) {
  switch (r) {
    case DedupRule::kNone:
      return "none";
    case DedupRule::kCanonicalUrl:
      return "canonical_url";
    case DedupRule::kTitle:
      return "title";
    case DedupRule::kFingerprint:
      return "fingerprint";
    case DedupRule::kEntity:
      return "entity";
  }
  return "none";
}
DedupRule parse_dedup_rule_text(std::string_view s) {
  for (DedupRule r :
       {DedupRule::kCanonicalUrl, DedupRule::kTitle, DedupRule::kFingerprint, DedupRule::kEntity}) {
    if (dedup_rule_text(r) == s) return r;
  }
  return DedupRule::kNone;
}
std::string_view actor_role_text(ActorRole r) {
  switch (r) {
    case ActorRole::kVictim:
      return "victim";
    case ActorRole::kSuspect:
      return "suspect";
    case ActorRole::kOfficer:
      return "officer";
    case ActorRole::kWitness:
      return "witness";
    case ActorRole::kAgency:
      return "agency";
  }
  return "victim";
}
ActorRole parse_actor_role_text(std::string_view s) {
  for (ActorRole r :
       {ActorRole::kSuspect, ActorRole::kOfficer, ActorRole::kWitness, ActorRole::kAgency}) {
    if (actor_role_text(r) == s) return r;
  }
  return ActorRole::kVictim;
}

}  // namespace

std::string_view feed_status_name(FeedStatus s) {
  return kFeedStatusNames[static_cast<size_t>(s)];
}
std::optional<FeedStatus> parse_feed_status(std::string_view s) {
  return parse_name<FeedStatus>(s, kFeedStatusNames);
}
std::string_view triage_outcome_name(RecordedTriage d) {
  return kTriageNames[static_cast<size_t>(d)];
}
std::optional<RecordedTriage> parse_triage_outcome(std::string_view s) {
  return parse_name<RecordedTriage>(s, kTriageNames);
}
std::string_view curation_state_name(CurationState s) {
  return kCurationStateNames[static_cast<size_t>(s)];
}
std::optional<CurationState> parse_curation_state(std::string_view s) {
  return parse_name<CurationState>(s, kCurationStateNames);
}
std::string_view curation_action_name(CurationActionKind k) {
  return kCurationActionNames[static_cast<size_t>(k)];
}
std::optional<CurationActionKind> parse_curation_action(std::string_view s) {
  return parse_name<CurationActionKind>(s, kCurationActionNames);
}
std::string_view incident_status_name(IncidentStatus s) {
  return kIncidentStatusNames[static_cast<size_t>(s)];
}
std::optional<IncidentStatus> parse_incident_status(std::string_view s) {
  return parse_name<IncidentStatus>(s, kIncidentStatusNames);
}
std::string_view job_state_name(JobState s) {
  return kJobStateNames[static_cast<size_t>(s)];
}
std::optional<JobState> parse_job_state(std::string_view s) {
  return parse_name<JobState>(s, kJobStateNames);
}
std::string_view failure_kind_name(FailureKind k) {
  return kFailureNames[static_cast<size_t>(k)];
}
std::optional<FailureKind> parse_failure_kind(std::string_view s) {
  return parse_name<FailureKind>(s, kFailureNames);
}

namespace sql {

// ---- Values --------------------------------------------------------------

bool is_null(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}

int64_t as_int(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double as_double(const Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string as_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, ec == std::errc() ? end : buf);
  }
  return "";
}

// ---- pg_trgm's trigrams ----------------------------------------------------

namespace {

/// glibc's C.UTF-8 character classes, which are what PostgreSQL uses for a
/// database created with --locale=C.UTF-8 (nullptr when the locale is
/// missing: non-ASCII characters then count as letters, unchanged).
locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

/// Decodes one UTF-8 code point at s[i] and advances i past it; an invalid
/// byte yields -1 (not a word character) and advances by one.
int32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return -1;
  }
  int32_t cp = b0 & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += n;
  return cp;
}

void append_utf8(std::string& out, int32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_word_char(int32_t cp) {
  if (cp < 0) return false;
  if (cp < 0x80) return std::isalnum(cp) != 0;
  const locale_t loc = utf8_locale();
  return loc == nullptr || iswalnum_l(static_cast<wint_t>(cp), loc) != 0;
}

int32_t lower(int32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  const locale_t loc = utf8_locale();
  return loc == nullptr ? cp : static_cast<int32_t>(towlower_l(static_cast<wint_t>(cp), loc));
}

}  // namespace

std::vector<std::string> trigrams(std::string_view text) {
  std::vector<std::string> out;
  std::vector<std::string> chars;  // the padded word, one UTF-8 character per entry
  size_t i = 0;
  while (i < text.size()) {
    int32_t cp = next_code_point(text, i);
    if (!is_word_char(cp)) continue;
    chars.assign(2, " ");
    for (;;) {
      std::string c;
      append_utf8(c, lower(cp));
      chars.push_back(std::move(c));
      if (i >= text.size()) break;
      cp = next_code_point(text, i);
      if (!is_word_char(cp)) break;
    }
    chars.emplace_back(" ");
    for (size_t k = 0; k + 3 <= chars.size(); ++k)
      out.push_back(chars[k] + chars[k + 1] + chars[k + 2]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double trigram_similarity(size_t common, size_t a, size_t b) {
  if (a == 0 || b == 0) return 0;
  const float f = static_cast<float>(common) / static_cast<float>(a + b - common);
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  double out = 0;
  std::from_chars(buf, end, out);
  return out;
}

// ---- The store -----------------------------------------------------------

namespace {

#define STORE_TRY(var, expr)                           \
  auto var##_result = (expr);                          \
  if (!var##_result.ok()) return var##_result.error(); \
  auto& var = var##_result.value()

#define STORE_CHECK(expr)                                  \
  do {                                                     \
    auto check_result_ = (expr);                           \
    if (!check_result_.ok()) return check_result_.error(); \
  } while (false)

Error invalid(std::string reason) {
  return make_error(std::string(kStoreInvalid), std::move(reason));
}
Error conflict(std::string reason) {
  return make_error(std::string(kStoreConflict), std::move(reason));
}
Error not_found(std::string_view what, int64_t id) {
  return make_error(std::string(kStoreNotFound),
                    std::string(what) + " " + std::to_string(id) + " does not exist");
}

Value I(int64_t v) {
  return Value(v);
}
Value D(double v) {
  return Value(v);
}
Value S(std::string_view v) {
  return Value(std::string(v));
}
Value ms(WallTime t) {
  return Value(static_cast<int64_t>(t.time_since_epoch().count()));
}
Value ms(EventTime t) {
  return Value(static_cast<int64_t>(to_ms(t)));
}
template <typename T>
Value opt_ms(const std::optional<T>& t) {
  return t ? ms(*t) : Value();
}
template <typename Tag>
Value opt_id(const std::optional<RowId<Tag>>& id) {
  return id ? Value(id->value) : Value();
}
Value opt_double(const std::optional<double>& d) {
  return d ? Value(*d) : Value();
}

WallTime wall(const Value& v) {
  return WallTime(std::chrono::milliseconds(as_int(v)));
}
EventTime event(const Value& v) {
  return event_time_from_ms(as_int(v));
}
std::optional<WallTime> opt_wall(const Value& v) {
  return is_null(v) ? std::nullopt : std::optional<WallTime>(wall(v));
}
std::optional<EventTime> opt_event(const Value& v) {
  return is_null(v) ? std::nullopt : std::optional<EventTime>(event(v));
}
std::optional<double> opt_dbl(const Value& v) {
  return is_null(v) ? std::nullopt : std::optional<double>(as_double(v));
}
template <typename Id>
std::optional<Id> opt_row_id(const Value& v) {
  return is_null(v) ? std::nullopt : std::optional<Id>(Id{as_int(v)});
}

/// Articles sharing at least $3 of the trigrams $1 (FTS5 phrases) with id
/// >= $2 and fetched_ms >= $4, with the number shared.
constexpr std::string_view kSqliteSimilarTitles = R"sql(
SELECT a.id, a.title, a.title_trigram_count, m.common
FROM (SELECT t.rowid AS article_id, COUNT(*) AS common
      FROM json_each($1) AS q JOIN title_trigrams AS t ON t.title_trigrams MATCH q.value
      WHERE t.rowid >= $2 GROUP BY t.rowid HAVING COUNT(*) >= $3) AS m
JOIN articles AS a ON a.id = m.article_id
WHERE a.fetched_ms >= $4)sql";

/// A trigram as an FTS5 token: its UTF-8 bytes in lower-case hex, which the
/// default tokenizer keeps whole (it would split or fold the raw bytes).
std::string hex_token(std::string_view trigram) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(trigram.size() * 2);
  for (unsigned char c : trigram) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

/// Shortest text of a double that parses back to it (history lines).
std::string number_text(double d) {
  return as_text(Value(d));
}

bool valid_text(const std::string& s) {
  return std::memchr(s.data(), 0, s.size()) == nullptr &&
         simdjson::validate_utf8(s.data(), s.size());
}

Status check_limit(size_t limit, size_t max) {
  if (limit == 0 || limit > max) return invalid("limit must be 1.." + std::to_string(max));
  return Ok{};
}

/// Builds a statement's $n placeholders alongside its parameters.
class Params {
 public:
  std::string add(Value v) {
    values_.push_back(std::move(v));
    return "$" + std::to_string(values_.size());
  }
  /// "($a, $b, ...)" for an IN list (not empty).
  template <typename Range, typename F>
  std::string list(const Range& items, F to_value) {
    std::string out = "(";
    for (const auto& item : items) {
      if (out.size() > 1) out += ", ";
      out += add(to_value(item));
    }
    return out + ")";
  }
  std::vector<Value>& values() { return values_; }

 private:
  std::vector<Value> values_;
};

constexpr std::string_view kFeedCols =
    "id, url, title, schedule_ms, etag, last_modified, last_fetch_ms, next_fetch_ms, status, "
    "last_error, "
    "consecutive_failures, created_ms";
constexpr std::string_view kArticleCols =
    "id, canonical_url, url, feed_id, title, text, language, published_ms, fetched_ms, "
    "fingerprint, dedup_rule, "
    "dedup_article_id, dedup_incident_id, dedup_score";
constexpr std::string_view kExtractionCols =
    "id, article_id, provider, stage, result_json, confidence, triage, triage_reasons, created_ms";
constexpr std::string_view kItemCols =
    "id, extraction_id, article_id, state, confidence, created_ms, decided_ms, decided_by, "
    "incident_id";
constexpr std::string_view kIncidentCols =
    "id, type, occurred_ms, place, lat, lon, district, status, confidence, extraction_id, "
    "created_ms, updated_ms";
constexpr std::string_view kJobCols =
    "id, queue, payload, dedup_key, state, attempts, run_at_ms, worker, lease_until_ms, "
    "last_error, last_failure, "
    "created_ms, updated_ms";

std::string cols(std::string_view list, std::string_view prefix = {}) {
  if (prefix.empty()) return std::string(list);
  std::string out;
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(", ", start);
    if (end == std::string_view::npos) end = list.size();
    if (!out.empty()) out += ", ";
    out += std::string(prefix) + "." + std::string(list.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

FeedRecord feed_from(const Row& r) {
  FeedRecord f;
  f.id = FeedId{as_int(r[0])};
  f.url = as_text(r[1]);
  f.title = as_text(r[2]);
  f.schedule = Millis(as_int(r[3]));
  f.etag = as_text(r[4]);
  f.last_modified = as_text(r[5]);
  f.last_fetch = opt_wall(r[6]);
  f.next_fetch = wall(r[7]);
  f.status = parse_feed_status(as_text(r[8])).value_or(FeedStatus::kActive);
  f.last_error = as_text(r[9]);
  f.consecutive_failures = static_cast<uint32_t>(as_int(r[10]));
  f.created = wall(r[11]);
  return f;
}

StoredArticle article_from(const Row& r) {
  StoredArticle a;
  a.id = ArticleId{as_int(r[0])};
  a.canonical_url = as_text(r[1]);
  a.url = as_text(r[2]);
  a.feed = opt_row_id<FeedId>(r[3]);
  a.title = as_text(r[4]);
  a.text = as_text(r[5]);
  a.language = as_text(r[6]);
  a.published = opt_event(r[7]);
  a.fetched = wall(r[8]);
  a.fingerprint = std::bit_cast<uint64_t>(as_int(r[9]));
  a.dedup.rule = parse_dedup_rule_text(as_text(r[10]));
  a.dedup.article = opt_row_id<ArticleId>(r[11]);
  a.dedup.incident = opt_row_id<IncidentId>(r[12]);
  a.dedup.score = as_double(r[13]);
  return a;
}

std::vector<std::string> reasons_from(const std::string& json) {
  std::vector<std::string> out;
  const auto parsed = nlohmann::json::parse(json, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& v : parsed) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

StoredExtraction extraction_from(const Row& r) {
  StoredExtraction e;
  e.id = ExtractionId{as_int(r[0])};
  e.article = ArticleId{as_int(r[1])};
  e.provider = as_text(r[2]);
  e.stage = as_text(r[3]);
  e.result_json = as_text(r[4]);
  e.confidence = as_double(r[5]);
  e.triage = parse_triage_outcome(as_text(r[6])).value_or(RecordedTriage::kPending);
  e.triage_reasons = reasons_from(as_text(r[7]));
  e.created = wall(r[8]);
  return e;
}

CurationItem item_from(const Row& r) {
  CurationItem c;
  c.id = CurationItemId{as_int(r[0])};
  c.extraction = ExtractionId{as_int(r[1])};
  c.article = ArticleId{as_int(r[2])};
  c.state = parse_curation_state(as_text(r[3])).value_or(CurationState::kOpen);
  c.confidence = as_double(r[4]);
  c.created = wall(r[5]);
  c.decided = opt_wall(r[6]);
  c.decided_by = as_text(r[7]);
  c.incident = opt_row_id<IncidentId>(r[8]);
  return c;
}

StoredIncident incident_from(const Row& r) {
  StoredIncident i;
  i.id = IncidentId{as_int(r[0])};
  i.type = as_text(r[1]);
  i.time = event(r[2]);
  i.place = as_text(r[3]);
  i.lat = opt_dbl(r[4]);
  i.lon = opt_dbl(r[5]);
  i.district = as_text(r[6]);
  i.status = parse_incident_status(as_text(r[7])).value_or(IncidentStatus::kOpen);
  i.confidence = as_double(r[8]);
  i.extraction = opt_row_id<ExtractionId>(r[9]);
  i.created = wall(r[10]);
  i.updated = wall(r[11]);
  return i;
}

Job job_from(const Row& r) {
  Job j;
  j.id = JobId{as_int(r[0])};
  j.queue = as_text(r[1]);
  j.payload = as_text(r[2]);
  j.dedup_key = as_text(r[3]);
  j.state = parse_job_state(as_text(r[4])).value_or(JobState::kQueued);
  j.attempts = static_cast<uint32_t>(as_int(r[5]));
  j.run_at = wall(r[6]);
  j.worker = as_text(r[7]);
  j.lease_until = wall(r[8]);
  j.last_error = as_text(r[9]);
  j.last_failure = is_null(r[10]) ? std::nullopt : parse_failure_kind(as_text(r[10]));
  j.created = wall(r[11]);
  j.updated = wall(r[12]);
  return j;
}

std::string actors_json(const std::vector<IncidentActor>& actors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : actors)
    out.push_back({{"role", actor_role_text(a.role)}, {"description", a.description}});
  return out.dump();
}
std::string events_json(const std::vector<IncidentEvent>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) {
    out.push_back({{"time", e.time ? nlohmann::json(format_rfc3339(*e.time)) : nlohmann::json()},
                   {"kind", e.kind},
                   {"description", e.description}});
  }
  return out.dump();
}
std::string case_json(const std::optional<CaseInfo>& c) {
  if (!c) return "";
  nlohmann::json charges = nlohmann::json::array();
  for (const auto& ch : c->charges) {
    charges.push_back(
        {{"description", ch.description}, {"statute", ch.statute}, {"count", ch.count}});
  }
  return nlohmann::json{{"case_number", c->case_number},
                        {"court", c->court},
                        {"charges", charges},
                        {"disposition", c->disposition},
                        {"disposition_time",
                         c->disposition_time ? nlohmann::json(format_rfc3339(*c->disposition_time))
                                             : nlohmann::json()}}
      .dump();
}
std::string location_text(const std::optional<double>& lat, const std::optional<double>& lon) {
  if (!lat || !lon) return "";
  return number_text(*lat) + "," + number_text(*lon);
}

class SqlStore final : public IncidentStore {
 public:
  explicit SqlStore(std::unique_ptr<Driver> db) : db_(std::move(db)), dialect_(db_->dialect()) {}

  std::string_view backend() const override {
    return dialect_ == Dialect::kSqlite ? "sqlite" : "postgres";
  }

  Result<std::vector<AppliedMigration>> migrations() override {
    return txn(false, [&]() -> Result<std::vector<AppliedMigration>> {
      STORE_TRY(
          rows,
          run("SELECT version, name, applied_ms FROM schema_migrations ORDER BY version", {}));
      std::vector<AppliedMigration> out;
      for (const auto& r : rows.rows) {
        out.push_back(AppliedMigration{static_cast<int>(as_int(r[0])), as_text(r[1]), wall(r[2])});
      }
      return out;
    });
  }

  // ---- Feeds ----

  Result<FeedId> add_feed(const NewFeed& feed, WallTime now) override {
    if (feed.url.empty()) return invalid("feed url is empty");
    if (feed.schedule <= Millis(0)) return invalid("feed schedule must be positive");
    return txn(true, [&]() -> Result<FeedId> {
      STORE_TRY(rows,
                run("INSERT INTO feeds (url, title, schedule_ms, next_fetch_ms, created_ms) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (url) DO NOTHING RETURNING id",
                    {S(feed.url), S(feed.title), I(feed.schedule.count()), ms(now), ms(now)}));
      if (rows.rows.empty()) return conflict("feed already added: " + feed.url);
      return FeedId{as_int(rows.rows[0][0])};
    });
  }

  Result<std::optional<FeedRecord>> get_feed(FeedId id) override {
    return txn(false, [&]() -> Result<std::optional<FeedRecord>> {
      STORE_TRY(rows,
                run("SELECT " + cols(kFeedCols) + " FROM feeds WHERE id = $1", {I(id.value)}));
      if (rows.rows.empty()) return std::optional<FeedRecord>();
      return std::optional<FeedRecord>(feed_from(rows.rows[0]));
    });
  }

  Result<std::vector<FeedRecord>> list_feeds() override {
    return txn(false, [&]() -> Result<std::vector<FeedRecord>> {
      STORE_TRY(rows, run("SELECT " + cols(kFeedCols) + " FROM feeds ORDER BY id", {}));
      std::vector<FeedRecord> out;
      for (const auto& r : rows.rows) out.push_back(feed_from(r));
      return out;
    });
  }

  Status update_feed(FeedId id, std::string_view title, Millis schedule) override {
    if (schedule <= Millis(0)) return invalid("feed schedule must be positive");
    return txn(true, [&]() -> Status {
      STORE_TRY(rows, run("UPDATE feeds SET title = $2, schedule_ms = $3, next_fetch_ms = CASE "
                          "WHEN last_fetch_ms "
                          "IS NULL THEN next_fetch_ms ELSE last_fetch_ms + $3 END WHERE id = $1",
                          {I(id.value), S(title), I(schedule.count())}));
      if (rows.affected == 0) return not_found("feed", id.value);
      return Ok{};
    });
  }

  Status set_feed_status(FeedId id, FeedStatus status) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(rows, run("UPDATE feeds SET status = $2 WHERE id = $1",
                          {I(id.value), S(feed_status_name(status))}));
      if (rows.affected == 0) return not_found("feed", id.value);
      return Ok{};
    });
  }

  Status delete_feed(FeedId id) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(rows, run("DELETE FROM feeds WHERE id = $1", {I(id.value)}));
      if (rows.affected == 0) return not_found("feed", id.value);
      return Ok{};
    });
  }

  Result<std::vector<FeedRecord>> due_feeds(WallTime now, size_t limit) override {
    STORE_CHECK(check_limit(limit, 10'000));
    return txn(false, [&]() -> Result<std::vector<FeedRecord>> {
      STORE_TRY(rows, run("SELECT " + cols(kFeedCols) +
                              " FROM feeds WHERE status <> 'paused' AND next_fetch_ms <= $1 "
                              "ORDER BY next_fetch_ms, id LIMIT $2",
                          {ms(now), I(static_cast<int64_t>(limit))}));
      std::vector<FeedRecord> out;
      for (const auto& r : rows.rows) out.push_back(feed_from(r));
      return out;
    });
  }

  Status request_fetch(FeedId id, WallTime now) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(rows,
                run("UPDATE feeds SET next_fetch_ms = $2 WHERE id = $1", {I(id.value), ms(now)}));
      if (rows.affected == 0) return not_found("feed", id.value);
      return Ok{};
    });
  }

  Status record_fetch(FeedId id, const FeedFetchRecord& f) override {
    return txn(true, [&]() -> Status {
      Result<Rows> rows = Rows{};
      if (!f.ok) {
        rows =
            run("UPDATE feeds SET last_fetch_ms = $2, next_fetch_ms = $2 + schedule_ms, status = "
                "CASE WHEN "
                "status = 'paused' THEN status ELSE 'failing' END, last_error = $3, "
                "consecutive_failures = "
                "consecutive_failures + 1 WHERE id = $1",
                {I(id.value), ms(f.at), S(f.error)});
      } else if (f.not_modified) {
        rows =
            run("UPDATE feeds SET last_fetch_ms = $2, next_fetch_ms = $2 + schedule_ms, status = "
                "CASE WHEN "
                "status = 'paused' THEN status ELSE 'active' END, last_error = '', "
                "consecutive_failures = 0 "
                "WHERE id = $1",
                {I(id.value), ms(f.at)});
      } else {
        rows =
            run("UPDATE feeds SET last_fetch_ms = $2, next_fetch_ms = $2 + schedule_ms, status = "
                "CASE WHEN "
                "status = 'paused' THEN status ELSE 'active' END, last_error = '', "
                "consecutive_failures = 0, "
                "etag = $3, last_modified = $4 WHERE id = $1",
                {I(id.value), ms(f.at), S(f.etag), S(f.last_modified)});
      }
      if (!rows.ok()) return rows.error();
      if (rows->affected == 0) return not_found("feed", id.value);
      return Ok{};
    });
  }

  // ---- Articles ----

  Result<ArticleInsert> insert_article(const NewArticle& a) override {
    if (a.canonical_url.empty()) return invalid("article canonical_url is empty");
    return txn(true, [&]() { return insert_article_in_txn(a); });
  }

  Result<std::vector<ArticleInsert>> insert_articles(
      const std::vector<NewArticle>& articles) override {
    for (const auto& a : articles) {
      if (a.canonical_url.empty()) return invalid("article canonical_url is empty");
    }
    return txn(true, [&]() -> Result<std::vector<ArticleInsert>> {
      std::vector<ArticleInsert> out;
      out.reserve(articles.size());
      for (const auto& a : articles) {
        STORE_TRY(one, insert_article_in_txn(a));
        out.push_back(one);
      }
      return out;
    });
  }

  Result<std::optional<StoredArticle>> get_article(ArticleId id) override {
    return txn(false, [&]() { return load_article(id); });
  }

  Result<std::optional<StoredArticle>> find_article_by_url(
      std::string_view canonical_url) override {
    return txn(false, [&]() -> Result<std::optional<StoredArticle>> {
      STORE_TRY(rows,
                run("SELECT " + cols(kArticleCols) + " FROM articles WHERE canonical_url = $1",
                    {S(canonical_url)}));
      if (rows.rows.empty()) return std::optional<StoredArticle>();
      return std::optional<StoredArticle>(article_from(rows.rows[0]));
    });
  }

  Result<std::vector<StoredArticle>> list_articles(const ArticleQuery& q) override {
    STORE_CHECK(check_limit(q.limit, 1000));
    return txn(false, [&]() -> Result<std::vector<StoredArticle>> {
      Params p;
      std::string sql = "SELECT " + cols(kArticleCols) + " FROM articles";
      if (q.feed) sql += " WHERE feed_id = " + p.add(I(q.feed->value));
      sql += " ORDER BY fetched_ms DESC, id DESC LIMIT " + p.add(I(static_cast<int64_t>(q.limit)));
      sql += " OFFSET " + p.add(I(static_cast<int64_t>(q.offset)));
      STORE_TRY(rows, run_v(sql, p.values()));
      std::vector<StoredArticle> out;
      for (const auto& r : rows.rows) out.push_back(article_from(r));
      return out;
    });
  }

  Status update_article_text(ArticleId id, std::string_view text, uint64_t fingerprint) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(rows, run("UPDATE articles SET text = $2, fingerprint = $3 WHERE id = $1",
                          {I(id.value), S(text), I(std::bit_cast<int64_t>(fingerprint))}));
      if (rows.affected == 0) return not_found("article", id.value);
      return Ok{};
    });
  }

  Status set_dedup_verdict(ArticleId id, const DedupVerdict& v) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(
          rows,
          run("UPDATE articles SET dedup_rule = $2, dedup_article_id = $3, dedup_incident_id = $4, "
              "dedup_score = $5 WHERE id = $1",
              {I(id.value), S(dedup_rule_text(v.rule)), opt_id(v.article), opt_id(v.incident),
               D(v.score)}));
      if (rows.affected == 0) return not_found("article", id.value);
      return Ok{};
    });
  }

  Result<std::vector<TitleMatch>> similar_titles(std::string_view title, size_t limit,
                                                 double min_similarity,
                                                 std::optional<WallTime> fetched_since) override {
    STORE_CHECK(check_limit(limit, 1000));
    if (!(min_similarity > 0 && min_similarity <= 1))
      return invalid("min_similarity must be in (0, 1]");
    const std::vector<std::string> grams = trigrams(title);
    if (grams.empty()) return std::vector<TitleMatch>();
    const Value since = fetched_since ? ms(*fetched_since) : I(std::numeric_limits<int64_t>::min());
    return txn(false, [&]() -> Result<std::vector<TitleMatch>> {
      std::vector<TitleMatch> out;
      if (dialect_ == Dialect::kPostgres) {
        // `%` uses the GIN index with the session's threshold; set it for
        // this transaction only.
        STORE_CHECK(run("SELECT set_config('pg_trgm.similarity_threshold', $1, true)",
                        {S(as_text(Value(min_similarity)))}));
        STORE_TRY(rows,
                  run("SELECT id, title, similarity(title, $1) AS s FROM articles WHERE title % $1 "
                      "AND fetched_ms >= $3 ORDER BY s DESC, id LIMIT $2",
                      {S(title), I(static_cast<int64_t>(limit)), since}));
        for (const auto& r : rows.rows) {
          out.push_back(TitleMatch{ArticleId{as_int(r[0])}, as_text(r[1]), as_double(r[2])});
        }
        return out;
      }
      // Ids grow with insertion, so the window's smallest id bounds each
      // trigram's posting list (FTS5 seeks to it); fetched_ms is checked
      // again below for articles stored out of order.
      int64_t min_id = 0;
      if (fetched_since) {
        STORE_TRY(
            first,
            run("SELECT MIN(id) FROM articles INDEXED BY articles_fetched WHERE fetched_ms >= $1",
                {since}));
        if (is_null(first.rows.at(0).at(0))) return out;
        min_id = as_int(first.rows[0][0]);
      }
      // similarity >= t needs common >= t * |query| (the union is at least
      // the query), which drops most articles that share a few trigrams of
      // common words before their rows are read; the bound is rounded down
      // so float rounding cannot exclude a match.
      const auto min_common = std::max<int64_t>(
          1, static_cast<int64_t>(
                 std::floor(min_similarity * static_cast<double>(grams.size()) - 1e-6)));
      // One FTS5 query per trigram (a phrase of its hex token), counted per article.
      nlohmann::json phrases = nlohmann::json::array();
      for (const auto& g : grams) phrases.push_back("\"" + hex_token(g) + "\"");
      STORE_TRY(rows,
                run(kSqliteSimilarTitles, {S(phrases.dump()), I(min_id), I(min_common), since}));
      for (auto& r : rows.rows) {
        const size_t n = static_cast<size_t>(as_int(r[2]));
        const size_t common = static_cast<size_t>(as_int(r[3]));
        const float f = static_cast<float>(common) / static_cast<float>(grams.size() + n - common);
        if (static_cast<double>(f) < min_similarity) continue;
        out.push_back(TitleMatch{ArticleId{as_int(r[0])}, as_text(r[1]),
                                 trigram_similarity(common, grams.size(), n)});
      }
      std::sort(out.begin(), out.end(), [](const TitleMatch& a, const TitleMatch& b) {
        return a.similarity != b.similarity ? a.similarity > b.similarity : a.article < b.article;
      });
      if (out.size() > limit) out.resize(limit);
      return out;
    });
  }

  Result<std::vector<StoredArticle>> articles_after(ArticleId after, size_t limit) override {
    STORE_CHECK(check_limit(limit, 100'000));
    return txn(false, [&]() -> Result<std::vector<StoredArticle>> {
      STORE_TRY(rows, run("SELECT " + cols(kArticleCols) +
                              " FROM articles WHERE id > $1 ORDER BY id LIMIT $2",
                          {I(after.value), I(static_cast<int64_t>(limit))}));
      std::vector<StoredArticle> out;
      out.reserve(rows.rows.size());
      for (const auto& r : rows.rows) out.push_back(article_from(r));
      return out;
    });
  }

  Result<std::vector<FingerprintRow>> fingerprints(ArticleId after, size_t limit) override {
    STORE_CHECK(check_limit(limit, 1'000'000));
    return txn(false, [&]() -> Result<std::vector<FingerprintRow>> {
      STORE_TRY(rows, run("SELECT id, fingerprint, published_ms FROM articles WHERE id > $1 ORDER "
                          "BY id LIMIT $2",
                          {I(after.value), I(static_cast<int64_t>(limit))}));
      std::vector<FingerprintRow> out;
      out.reserve(rows.rows.size());
      for (const auto& r : rows.rows) {
        out.push_back(FingerprintRow{ArticleId{as_int(r[0])}, std::bit_cast<uint64_t>(as_int(r[1])),
                                     opt_event(r[2])});
      }
      return out;
    });
  }

  Result<int64_t> article_count() override {
    return txn(false, [&]() -> Result<int64_t> {
      STORE_TRY(rows, run("SELECT COUNT(*) FROM articles", {}));
      return as_int(rows.rows.at(0).at(0));
    });
  }

  // ---- Extractions ----

  Result<ExtractionId> insert_extraction(const NewExtraction& e) override {
    if (!nlohmann::json::accept(e.result_json))
      return invalid("extraction result is not valid JSON");
    if (e.provider.empty() || e.stage.empty())
      return invalid("extraction provider and stage are required");
    return txn(true, [&]() -> Result<ExtractionId> {
      STORE_TRY(
          rows,
          run("INSERT INTO extractions (article_id, provider, stage, result_json, confidence, "
              "triage, "
              "triage_reasons, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
              {I(e.article.value), S(e.provider), S(e.stage), S(e.result_json), D(e.confidence),
               S(triage_outcome_name(e.triage)), S(nlohmann::json(e.triage_reasons).dump()),
               ms(e.created)}));
      return ExtractionId{as_int(rows.rows.at(0).at(0))};
    });
  }

  Result<std::optional<StoredExtraction>> get_extraction(ExtractionId id) override {
    return txn(false, [&]() { return load_extraction(id); });
  }

  Result<std::vector<StoredExtraction>> extractions_for_article(ArticleId article) override {
    return txn(false, [&]() -> Result<std::vector<StoredExtraction>> {
      STORE_TRY(rows, run("SELECT " + cols(kExtractionCols) +
                              " FROM extractions WHERE article_id = $1 ORDER BY id",
                          {I(article.value)}));
      std::vector<StoredExtraction> out;
      for (const auto& r : rows.rows) out.push_back(extraction_from(r));
      return out;
    });
  }

  Status set_triage(ExtractionId id, RecordedTriage decision,
                    const std::vector<std::string>& reasons) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(rows, run("UPDATE extractions SET triage = $2, triage_reasons = $3 WHERE id = $1",
                          {I(id.value), S(triage_outcome_name(decision)),
                           S(nlohmann::json(reasons).dump())}));
      if (rows.affected == 0) return not_found("extraction", id.value);
      return Ok{};
    });
  }

  // ---- Curation ----

  Result<CurationItemId> enqueue_curation(ExtractionId extraction, WallTime now) override {
    return txn(true, [&]() -> Result<CurationItemId> {
      STORE_TRY(rows, run("INSERT INTO curation_items (extraction_id, article_id, state, "
                          "confidence, created_ms) "
                          "SELECT id, article_id, 'open', confidence, CAST($2 AS BIGINT) FROM "
                          "extractions WHERE id = $1 "
                          "ON CONFLICT (extraction_id) DO NOTHING RETURNING id",
                          {I(extraction.value), ms(now)}));
      if (!rows.rows.empty()) return CurationItemId{as_int(rows.rows[0][0])};
      STORE_TRY(existing, run("SELECT id FROM curation_items WHERE extraction_id = $1",
                              {I(extraction.value)}));
      if (existing.rows.empty()) return not_found("extraction", extraction.value);
      return CurationItemId{as_int(existing.rows[0][0])};
    });
  }

  Result<std::optional<CurationItemView>> get_curation_item(CurationItemId id) override {
    return txn(false, [&]() -> Result<std::optional<CurationItemView>> {
      STORE_TRY(rows, run("SELECT " + cols(kItemCols) + " FROM curation_items WHERE id = $1",
                          {I(id.value)}));
      if (rows.rows.empty()) return std::optional<CurationItemView>();
      STORE_TRY(view, load_view(item_from(rows.rows[0])));
      return std::optional<CurationItemView>(std::move(view));
    });
  }

  Result<CurationPage> curation_page(const CurationQuery& q) override {
    STORE_CHECK(check_limit(q.limit, 1000));
    return txn(false, [&]() -> Result<CurationPage> {
      Params p;
      std::string where;
      if (q.state) where = " WHERE state = " + p.add(S(curation_state_name(*q.state)));
      CurationPage page;
      STORE_TRY(count, run_v("SELECT COUNT(*) FROM curation_items" + where, p.values()));
      page.total = as_int(count.rows.at(0).at(0));
      std::string sql = "SELECT " + cols(kItemCols) + " FROM curation_items" + where +
                        " ORDER BY created_ms, id LIMIT " + p.add(I(static_cast<int64_t>(q.limit)));
      sql += " OFFSET " + p.add(I(static_cast<int64_t>(q.offset)));
      STORE_TRY(rows, run_v(sql, p.values()));
      for (const auto& r : rows.rows) {
        STORE_TRY(view, load_view(item_from(r)));
        page.items.push_back(std::move(view));
      }
      return page;
    });
  }

  Result<IncidentId> approve_curation(CurationItemId id, const IncidentDraft& draft,
                                      std::string_view actor, WallTime at,
                                      std::string_view note) override {
    return txn(true, [&]() -> Result<IncidentId> {
      STORE_TRY(item, open_item(id));
      IncidentDraft d = draft;
      d.extraction = item.extraction;
      if (std::find(d.sources.begin(), d.sources.end(), item.article) == d.sources.end()) {
        d.sources.insert(d.sources.begin(), item.article);
      }
      STORE_TRY(incident, create_incident_in_txn(d, actor, at));
      STORE_CHECK(
          run("UPDATE curation_items SET state = 'approved', decided_ms = $2, decided_by = $3, "
              "incident_id = $4 WHERE id = $1",
              {I(id.value), ms(at), S(actor), I(incident.value)}));
      STORE_CHECK(insert_action(id, CurationAction{CurationActionKind::kApprove, std::string(note),
                                                   "", "", "", std::string(actor), at}));
      return incident;
    });
  }

  Status reject_curation(CurationItemId id, std::string_view reason, std::string_view actor,
                         WallTime at) override {
    if (reason.empty()) return invalid("a rejection needs a reason");
    return txn(true, [&]() -> Status {
      STORE_CHECK(open_item(id));
      STORE_CHECK(
          run("UPDATE curation_items SET state = 'rejected', decided_ms = $2, decided_by = $3 "
              "WHERE id = $1",
              {I(id.value), ms(at), S(actor)}));
      return insert_action(id, CurationAction{CurationActionKind::kReject, std::string(reason), "",
                                              "", "", std::string(actor), at});
    });
  }

  Status correct_curation(CurationItemId id, std::string_view field, std::string_view old_value,
                          std::string_view new_value, std::string_view actor,
                          WallTime at) override {
    if (field.empty()) return invalid("a correction names its field");
    return txn(true, [&]() -> Status {
      STORE_CHECK(open_item(id));
      return insert_action(id, CurationAction{CurationActionKind::kCorrect, "", std::string(field),
                                              std::string(old_value), std::string(new_value),
                                              std::string(actor), at});
    });
  }

  // ---- Incidents ----

  Result<IncidentId> create_incident(const IncidentDraft& draft, std::string_view actor,
                                     WallTime at) override {
    return txn(true, [&]() { return create_incident_in_txn(draft, actor, at); });
  }

  Result<std::optional<StoredIncident>> get_incident(IncidentId id) override {
    return txn(false, [&]() -> Result<std::optional<StoredIncident>> {
      STORE_TRY(rows, run("SELECT " + cols(kIncidentCols) + " FROM incidents WHERE id = $1",
                          {I(id.value)}));
      if (rows.rows.empty()) return std::optional<StoredIncident>();
      StoredIncident inc = incident_from(rows.rows[0]);
      STORE_TRY(details, load_details(id));
      inc.actors = std::move(details.actors);
      inc.events = std::move(details.events);
      inc.case_info = std::move(details.case_info);
      STORE_TRY(
          sources,
          run("SELECT s.article_id, a.canonical_url, s.via, s.added_ms FROM incident_sources s "
              "JOIN articles a ON a.id = s.article_id WHERE s.incident_id = $1 "
              "ORDER BY s.added_ms, s.article_id",
              {I(id.value)}));
      for (const auto& r : sources.rows) {
        inc.sources.push_back(IncidentSource{ArticleId{as_int(r[0])}, as_text(r[1]),
                                             parse_dedup_rule_text(as_text(r[2])), wall(r[3])});
      }
      return std::optional<StoredIncident>(std::move(inc));
    });
  }

  Result<IncidentPage> list_incidents(const IncidentQuery& q) override {
    STORE_CHECK(check_limit(q.limit, 10'000));
    return txn(false, [&]() -> Result<IncidentPage> {
      Params p;
      std::string where = " WHERE 1 = 1";
      if (q.from) where += " AND occurred_ms >= " + p.add(ms(*q.from));
      if (q.to) where += " AND occurred_ms < " + p.add(ms(*q.to));
      if (!q.types.empty())
        where += " AND type IN " + p.list(q.types, [](const std::string& s) { return S(s); });
      if (!q.districts.empty()) {
        where +=
            " AND district IN " + p.list(q.districts, [](const std::string& s) { return S(s); });
      }
      if (!q.statuses.empty()) {
        where += " AND status IN " +
                 p.list(q.statuses, [](IncidentStatus s) { return S(incident_status_name(s)); });
      }
      IncidentPage page;
      STORE_TRY(types, run_v("SELECT type, COUNT(*) FROM incidents" + where + " GROUP BY type",
                             p.values()));
      for (const auto& r : types.rows) {
        page.by_type.emplace_back(as_text(r[0]), as_int(r[1]));
        page.total += as_int(r[1]);
      }
      STORE_TRY(districts,
                run_v("SELECT district, COUNT(*) FROM incidents" + where + " GROUP BY district",
                      p.values()));
      for (const auto& r : districts.rows)
        page.by_district.emplace_back(as_text(r[0]), as_int(r[1]));
      const auto by_count = [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      };
      std::sort(page.by_type.begin(), page.by_type.end(), by_count);
      std::sort(page.by_district.begin(), page.by_district.end(), by_count);
      std::string sql = "SELECT " + cols(kIncidentCols, "i") +
                        ", (SELECT COUNT(*) FROM incident_sources s WHERE s.incident_id = i.id) "
                        "FROM incidents i" +
                        where + " ORDER BY occurred_ms DESC, id DESC LIMIT " +
                        p.add(I(static_cast<int64_t>(q.limit)));
      sql += " OFFSET " + p.add(I(static_cast<int64_t>(q.offset)));
      STORE_TRY(rows, run_v(sql, p.values()));
      for (const auto& r : rows.rows) {
        const StoredIncident i = incident_from(r);
        page.items.push_back(IncidentSummary{i.id, i.type, i.time, i.place, i.lat, i.lon,
                                             i.district, i.status, i.confidence, as_int(r[12])});
      }
      return page;
    });
  }

  Result<bool> update_incident(IncidentId id, const IncidentPatch& patch, std::string_view actor,
                               WallTime at, std::string_view reason) override {
    if (patch.type && patch.type->empty()) return invalid("incident type is empty");
    if (patch.location) STORE_CHECK(check_location(patch.location->first, patch.location->second));
    if (patch.confidence) STORE_CHECK(check_confidence(*patch.confidence));
    return txn(true, [&]() -> Result<bool> {
      STORE_TRY(rows, run("SELECT " + cols(kIncidentCols) + " FROM incidents WHERE id = $1",
                          {I(id.value)}));
      if (rows.rows.empty()) return not_found("incident", id.value);
      const StoredIncident old = incident_from(rows.rows[0]);
      StoredIncident now = old;
      std::vector<IncidentChange> changes;
      const auto change = [&](std::string field, std::string before, std::string after) {
        changes.push_back(IncidentChange{at, std::string(actor), std::move(field),
                                         std::move(before), std::move(after), std::string(reason)});
      };
      if (patch.type && *patch.type != old.type) {
        now.type = *patch.type;
        change("type", old.type, now.type);
      }
      if (patch.time && *patch.time != old.time) {
        now.time = *patch.time;
        change("time", format_rfc3339(old.time), format_rfc3339(now.time));
      }
      if (patch.place && *patch.place != old.place) {
        now.place = *patch.place;
        change("place", old.place, now.place);
      }
      if (patch.location &&
          (patch.location->first != old.lat || patch.location->second != old.lon)) {
        now.lat = patch.location->first;
        now.lon = patch.location->second;
        change("location", location_text(old.lat, old.lon), location_text(now.lat, now.lon));
      }
      if (patch.district && *patch.district != old.district) {
        now.district = *patch.district;
        change("district", old.district, now.district);
      }
      if (patch.status && *patch.status != old.status) {
        now.status = *patch.status;
        change("status", std::string(incident_status_name(old.status)),
               std::string(incident_status_name(now.status)));
      }
      if (patch.confidence && *patch.confidence != old.confidence) {
        now.confidence = *patch.confidence;
        change("confidence", number_text(old.confidence), number_text(now.confidence));
      }
      if (changes.empty()) return false;
      STORE_CHECK(
          run("UPDATE incidents SET type = $2, occurred_ms = $3, place = $4, lat = $5, lon = $6, "
              "district = $7, status = $8, confidence = $9, updated_ms = $10 WHERE id = $1",
              {I(id.value), S(now.type), ms(now.time), S(now.place), opt_double(now.lat),
               opt_double(now.lon), S(now.district), S(incident_status_name(now.status)),
               D(now.confidence), ms(at)}));
      for (const auto& c : changes) STORE_CHECK(insert_history(id, c));
      return true;
    });
  }

  Status replace_incident_details(IncidentId id, const std::vector<IncidentActor>& actors,
                                  const std::vector<IncidentEvent>& events,
                                  const std::optional<CaseInfo>& case_info, std::string_view actor,
                                  WallTime at) override {
    return txn(true, [&]() -> Status {
      STORE_TRY(exists, run("SELECT id FROM incidents WHERE id = $1", {I(id.value)}));
      if (exists.rows.empty()) return not_found("incident", id.value);
      STORE_TRY(old, load_details(id));
      bool changed = false;
      if (old.actors != actors) {
        STORE_CHECK(run("DELETE FROM incident_actors WHERE incident_id = $1", {I(id.value)}));
        STORE_CHECK(insert_actors(id, actors));
        STORE_CHECK(
            insert_history(id, IncidentChange{at, std::string(actor), "actors",
                                              actors_json(old.actors), actors_json(actors), ""}));
        changed = true;
      }
      if (old.events != events) {
        STORE_CHECK(run("DELETE FROM incident_events WHERE incident_id = $1", {I(id.value)}));
        STORE_CHECK(insert_events(id, events));
        STORE_CHECK(
            insert_history(id, IncidentChange{at, std::string(actor), "events",
                                              events_json(old.events), events_json(events), ""}));
        changed = true;
      }
      if (old.case_info != case_info) {
        STORE_CHECK(run("DELETE FROM incident_cases WHERE incident_id = $1", {I(id.value)}));
        STORE_CHECK(insert_case(id, case_info));
        STORE_CHECK(
            insert_history(id, IncidentChange{at, std::string(actor), "case",
                                              case_json(old.case_info), case_json(case_info), ""}));
        changed = true;
      }
      if (changed)
        STORE_CHECK(
            run("UPDATE incidents SET updated_ms = $2 WHERE id = $1", {I(id.value), ms(at)}));
      return Ok{};
    });
  }

  Result<bool> add_incident_source(IncidentId id, ArticleId article, DedupRule via,
                                   std::string_view actor, WallTime at) override {
    return txn(true, [&]() -> Result<bool> {
      STORE_TRY(exists, run("SELECT id FROM incidents WHERE id = $1", {I(id.value)}));
      if (exists.rows.empty()) return not_found("incident", id.value);
      STORE_TRY(rows, run("INSERT INTO incident_sources (incident_id, article_id, via, added_ms) "
                          "VALUES ($1, $2, $3, "
                          "$4) ON CONFLICT (incident_id, article_id) DO NOTHING",
                          {I(id.value), I(article.value), S(dedup_rule_text(via)), ms(at)}));
      if (rows.affected == 0) return false;
      STORE_CHECK(run("UPDATE incidents SET updated_ms = $2 WHERE id = $1", {I(id.value), ms(at)}));
      STORE_CHECK(insert_history(
          id, IncidentChange{at, std::string(actor), "source", "", std::to_string(article.value),
                             std::string(dedup_rule_text(via))}));
      return true;
    });
  }

  Result<std::vector<IncidentChange>> incident_history(IncidentId id) override {
    return txn(false, [&]() -> Result<std::vector<IncidentChange>> {
      STORE_TRY(
          rows,
          run("SELECT at_ms, actor, field, old_value, new_value, reason FROM incident_history "
              "WHERE incident_id = $1 ORDER BY id",
              {I(id.value)}));
      std::vector<IncidentChange> out;
      for (const auto& r : rows.rows) {
        out.push_back(IncidentChange{wall(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[3]),
                                     as_text(r[4]), as_text(r[5])});
      }
      return out;
    });
  }

  // ---- Triage settings ----

  Result<int64_t> save_triage_settings(std::string_view settings_json, std::string_view author,
                                       WallTime at) override {
    const auto parsed = nlohmann::json::parse(settings_json, nullptr, false);
    if (!parsed.is_object()) return invalid("triage settings must be a JSON object");
    return txn(true, [&]() -> Result<int64_t> {
      STORE_TRY(rows,
                run("INSERT INTO triage_settings (version, settings_json, author, at_ms) "
                    "SELECT COALESCE(MAX(version), 0) + 1, CAST($1 AS TEXT), CAST($2 AS TEXT), "
                    "CAST($3 AS BIGINT) FROM triage_settings RETURNING version",
                    {S(settings_json), S(author), ms(at)}));
      return as_int(rows.rows.at(0).at(0));
    });
  }

  Result<std::optional<TriageSettingsVersion>> current_triage_settings() override {
    STORE_TRY(list, triage_settings_history(1));
    if (list.empty()) return std::optional<TriageSettingsVersion>();
    return std::optional<TriageSettingsVersion>(std::move(list.front()));
  }

  Result<std::vector<TriageSettingsVersion>> triage_settings_history(size_t limit) override {
    STORE_CHECK(check_limit(limit, 10'000));
    return txn(false, [&]() -> Result<std::vector<TriageSettingsVersion>> {
      STORE_TRY(rows, run("SELECT version, settings_json, author, at_ms FROM triage_settings ORDER "
                          "BY version DESC "
                          "LIMIT $1",
                          {I(static_cast<int64_t>(limit))}));
      std::vector<TriageSettingsVersion> out;
      for (const auto& r : rows.rows) {
        out.push_back(
            TriageSettingsVersion{as_int(r[0]), as_text(r[1]), as_text(r[2]), wall(r[3])});
      }
      return out;
    });
  }

  // ---- Jobs ----

  Result<JobEnqueue> enqueue_job(const NewJob& job) override {
    if (job.queue.empty()) return invalid("job queue is empty");
    return txn(true, [&]() -> Result<JobEnqueue> {
      const Value key = job.dedup_key.empty() ? Value() : S(job.dedup_key);
      STORE_TRY(
          rows,
          run("INSERT INTO jobs (queue, payload, dedup_key, state, attempts, run_at_ms, "
              "created_ms, "
              "updated_ms) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5) ON CONFLICT DO NOTHING "
              "RETURNING id",
              {S(job.queue), S(job.payload), key, ms(job.run_at), ms(job.created)}));
      if (!rows.rows.empty()) return JobEnqueue{JobId{as_int(rows.rows[0][0])}, true};
      STORE_TRY(
          existing,
          run("SELECT id FROM jobs WHERE queue = $1 AND dedup_key = $2 AND state IN ('queued', "
              "'running')",
              {S(job.queue), key}));
      if (existing.rows.empty()) return conflict("job insert refused");
      return JobEnqueue{JobId{as_int(existing.rows[0][0])}, false};
    });
  }

  Result<std::optional<Job>> claim_job(std::string_view queue, std::string_view worker,
                                       WallTime now, WallTime lease_until,
                                       uint32_t max_running) override {
    return txn(true, [&]() -> Result<std::optional<Job>> {
      if (dialect_ == Dialect::kPostgres) {
        // SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL
        // needs a lock so two claimers cannot both see a free slot.
        STORE_CHECK(run("SELECT pg_advisory_xact_lock(hashtext($1))",
                        {S("sentinel.jobs." + std::string(queue))}));
      }
      STORE_TRY(running, run("SELECT COUNT(*) FROM jobs WHERE queue = $1 AND state = 'running'",
                             {S(queue)}));
      if (as_int(running.rows.at(0).at(0)) >= static_cast<int64_t>(max_running))
        return std::optional<Job>();
      STORE_TRY(next,
                run("SELECT id FROM jobs WHERE queue = $1 AND state = 'queued' AND run_at_ms <= $2 "
                    "ORDER BY run_at_ms, id LIMIT 1",
                    {S(queue), ms(now)}));
      if (next.rows.empty()) return std::optional<Job>();
      STORE_TRY(rows,
                run("UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $2, "
                    "lease_until_ms = $3, updated_ms = $4 WHERE id = $1 RETURNING " +
                        cols(kJobCols),
                    {next.rows[0][0], S(worker), ms(lease_until), ms(now)}));
      return std::optional<Job>(job_from(rows.rows.at(0)));
    });
  }

  Result<bool> transition_job(JobId id, JobState expected_state, uint32_t expected_attempts,
                              const JobTransition& to) override {
    return txn(true, [&]() -> Result<bool> {
      STORE_TRY(
          rows,
          run("UPDATE jobs SET state = $4, run_at_ms = $5, lease_until_ms = $6, last_error = $7, "
              "last_failure = $8, updated_ms = $9 WHERE id = $1 AND state = $2 AND attempts = $3",
              {I(id.value), S(job_state_name(expected_state)), I(expected_attempts),
               S(job_state_name(to.state)), ms(to.run_at), ms(to.lease_until), S(to.last_error),
               to.last_failure ? S(failure_kind_name(*to.last_failure)) : Value(),
               ms(to.updated)}));
      return rows.affected > 0;
    });
  }

  Result<bool> extend_job_lease(JobId id, uint32_t expected_attempts,
                                WallTime lease_until) override {
    return txn(true, [&]() -> Result<bool> {
      STORE_TRY(rows, run("UPDATE jobs SET lease_until_ms = $3 WHERE id = $1 AND state = 'running' "
                          "AND attempts = $2",
                          {I(id.value), I(expected_attempts), ms(lease_until)}));
      return rows.affected > 0;
    });
  }

  Result<std::optional<Job>> get_job(JobId id) override {
    return txn(false, [&]() -> Result<std::optional<Job>> {
      STORE_TRY(rows, run("SELECT " + cols(kJobCols) + " FROM jobs WHERE id = $1", {I(id.value)}));
      if (rows.rows.empty()) return std::optional<Job>();
      return std::optional<Job>(job_from(rows.rows[0]));
    });
  }

  Result<std::vector<Job>> expired_jobs(WallTime now, size_t limit) override {
    STORE_CHECK(check_limit(limit, 100'000));
    return txn(false, [&]() -> Result<std::vector<Job>> {
      STORE_TRY(rows, run("SELECT " + cols(kJobCols) +
                              " FROM jobs WHERE state = 'running' AND lease_until_ms <= $1 "
                              "ORDER BY lease_until_ms, id LIMIT $2",
                          {ms(now), I(static_cast<int64_t>(limit))}));
      std::vector<Job> out;
      for (const auto& r : rows.rows) out.push_back(job_from(r));
      return out;
    });
  }

  Result<std::optional<WallTime>> next_job_due(std::string_view queue) override {
    return txn(false, [&]() -> Result<std::optional<WallTime>> {
      STORE_TRY(rows, run("SELECT MIN(run_at_ms) FROM jobs WHERE queue = $1 AND state = 'queued'",
                          {S(queue)}));
      return opt_wall(rows.rows.at(0).at(0));
    });
  }

  Result<std::vector<JobCount>> job_counts() override {
    return txn(false, [&]() -> Result<std::vector<JobCount>> {
      STORE_TRY(
          rows,
          run("SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state ORDER BY queue, state",
              {}));
      std::vector<JobCount> out;
      for (const auto& r : rows.rows) {
        out.push_back(JobCount{as_text(r[0]),
                               parse_job_state(as_text(r[1])).value_or(JobState::kQueued),
                               as_int(r[2])});
      }
      return out;
    });
  }

  Result<std::vector<Job>> list_jobs(const JobListQuery& q) override {
    STORE_CHECK(check_limit(q.limit, 1000));
    return txn(false, [&]() -> Result<std::vector<Job>> {
      Params p;
      std::string sql = "SELECT " + cols(kJobCols) + " FROM jobs WHERE 1 = 1";
      if (q.queue) sql += " AND queue = " + p.add(S(*q.queue));
      if (q.state) sql += " AND state = " + p.add(S(job_state_name(*q.state)));
      sql += " ORDER BY updated_ms DESC, id DESC LIMIT " + p.add(I(static_cast<int64_t>(q.limit)));
      STORE_TRY(rows, run_v(sql, p.values()));
      std::vector<Job> out;
      for (const auto& r : rows.rows) out.push_back(job_from(r));
      return out;
    });
  }

  Result<int64_t> purge_jobs(JobState state, WallTime before) override {
    if (state != JobState::kDone && state != JobState::kDead)
      return invalid("only done or dead jobs are purged");
    return txn(true, [&]() -> Result<int64_t> {
      STORE_TRY(rows, run("DELETE FROM jobs WHERE state = $1 AND updated_ms < $2",
                          {S(job_state_name(state)), ms(before)}));
      return rows.affected;
    });
  }

 private:
  struct Details {
    std::vector<IncidentActor> actors;
    std::vector<IncidentEvent> events;
    std::optional<CaseInfo> case_info;
  };

  /// Runs f() in a transaction under mu_: commit when it succeeds, roll
  /// back when it fails (or the commit does).
  template <typename F>
  auto txn(bool write, F&& f) -> decltype(f()) {
    std::lock_guard lock(mu_);
    if (auto s = db_->begin(write); !s.ok()) return s.error();
    auto r = f();
    if (!r.ok()) {
      db_->rollback();
      return r;
    }
    if (auto s = db_->commit(); !s.ok()) {
      db_->rollback();
      return s.error();
    }
    return r;
  }

  Result<Rows> run_v(std::string_view sql, const std::vector<Value>& params) {
    for (const auto& v : params) {
      if (const auto* s = std::get_if<std::string>(&v); s != nullptr && !valid_text(*s)) {
        return invalid("text is not valid UTF-8 or holds a NUL byte");
      }
    }
    return db_->exec(sql, params);
  }
  Result<Rows> run(std::string_view sql, std::initializer_list<Value> params) {
    return run_v(sql, std::vector<Value>(params));
  }

  static Status check_location(const std::optional<double>& lat, const std::optional<double>& lon) {
    if (lat.has_value() != lon.has_value()) return invalid("incident lat and lon come together");
    if (lat && !(std::fabs(*lat) <= 90 && std::fabs(*lon) <= 180))
      return invalid("incident lat/lon out of range");
    return Ok{};
  }
  static Status check_confidence(double c) {
    if (!(c >= 0 && c <= 1)) return invalid("confidence must be in [0, 1]");
    return Ok{};
  }

  Result<ArticleInsert> insert_article_in_txn(const NewArticle& a) {
    std::vector<Value> params = {
        S(a.canonical_url),  S(a.url),      opt_id(a.feed),
        S(a.title),          S(a.text),     S(a.language),
        opt_ms(a.published), ms(a.fetched), I(std::bit_cast<int64_t>(a.fingerprint))};
    std::vector<std::string> grams;
    Result<Rows> rows = Rows{};
    if (dialect_ == Dialect::kSqlite) {
      grams = trigrams(a.title);
      params.push_back(I(static_cast<int64_t>(grams.size())));
      rows = run_v(
          "INSERT INTO articles (canonical_url, url, feed_id, title, text, language, published_ms, "
          "fetched_ms, fingerprint, title_trigram_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "$9, "
          "$10) ON CONFLICT (canonical_url) DO NOTHING RETURNING id",
          params);
    } else {
      rows = run_v(
          "INSERT INTO articles (canonical_url, url, feed_id, title, text, language, published_ms, "
          "fetched_ms, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
          "ON CONFLICT (canonical_url) DO NOTHING RETURNING id",
          params);
    }
    if (!rows.ok()) return rows.error();
    if (rows->rows.empty()) {
      STORE_TRY(existing,
                run("SELECT id FROM articles WHERE canonical_url = $1", {S(a.canonical_url)}));
      if (existing.rows.empty()) return conflict("article insert refused: " + a.canonical_url);
      return ArticleInsert{ArticleId{as_int(existing.rows[0][0])}, false};
    }
    const ArticleId id{as_int(rows->rows[0][0])};
    if (!grams.empty()) {
      std::string tokens;
      for (const auto& g : grams) {
        if (!tokens.empty()) tokens += ' ';
        tokens += hex_token(g);
      }
      STORE_CHECK(run("INSERT INTO title_trigrams (rowid, grams) VALUES ($1, $2)",
                      {I(id.value), S(tokens)}));
    }
    return ArticleInsert{id, true};
  }

  Result<std::optional<StoredArticle>> load_article(ArticleId id) {
    STORE_TRY(rows,
              run("SELECT " + cols(kArticleCols) + " FROM articles WHERE id = $1", {I(id.value)}));
    if (rows.rows.empty()) return std::optional<StoredArticle>();
    return std::optional<StoredArticle>(article_from(rows.rows[0]));
  }

  Result<std::optional<StoredExtraction>> load_extraction(ExtractionId id) {
    STORE_TRY(rows, run("SELECT " + cols(kExtractionCols) + " FROM extractions WHERE id = $1",
                        {I(id.value)}));
    if (rows.rows.empty()) return std::optional<StoredExtraction>();
    return std::optional<StoredExtraction>(extraction_from(rows.rows[0]));
  }

  Result<CurationItemView> load_view(CurationItem item) {
    CurationItemView view;
    STORE_TRY(article, load_article(item.article));
    STORE_TRY(extraction, load_extraction(item.extraction));
    if (article) view.article = std::move(*article);
    if (extraction) view.extraction = std::move(*extraction);
    STORE_TRY(actions, run("SELECT action, reason, field, old_value, new_value, actor, at_ms FROM "
                           "curation_actions "
                           "WHERE item_id = $1 ORDER BY id",
                           {I(item.id.value)}));
    for (const auto& r : actions.rows) {
      view.actions.push_back(CurationAction{
          parse_curation_action(as_text(r[0])).value_or(CurationActionKind::kCorrect),
          as_text(r[1]), as_text(r[2]), as_text(r[3]), as_text(r[4]), as_text(r[5]), wall(r[6])});
    }
    view.item = std::move(item);
    return view;
  }

  /// The item, when it exists and is open.
  Result<CurationItem> open_item(CurationItemId id) {
    STORE_TRY(rows, run("SELECT " + cols(kItemCols) + " FROM curation_items WHERE id = $1",
                        {I(id.value)}));
    if (rows.rows.empty()) return not_found("curation item", id.value);
    CurationItem item = item_from(rows.rows[0]);
    if (item.state != CurationState::kOpen) {
      return conflict("curation item " + std::to_string(id.value) + " is already " +
                      std::string(curation_state_name(item.state)));
    }
    return item;
  }

  Status insert_action(CurationItemId id, const CurationAction& a) {
    STORE_CHECK(
        run("INSERT INTO curation_actions (item_id, action, reason, field, old_value, new_value, "
            "actor, at_ms) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            {I(id.value), S(curation_action_name(a.kind)), S(a.reason), S(a.field), S(a.old_value),
             S(a.new_value), S(a.actor), ms(a.at)}));
    return Ok{};
  }

  Status insert_history(IncidentId id, const IncidentChange& c) {
    auto r =
        run("INSERT INTO incident_history (incident_id, at_ms, actor, field, old_value, new_value, "
            "reason) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {I(id.value), ms(c.at), S(c.actor), S(c.field), S(c.old_value), S(c.new_value),
             S(c.reason)});
    if (!r.ok()) return r.error();
    return Ok{};
  }

  Status insert_actors(IncidentId id, const std::vector<IncidentActor>& actors) {
    for (const auto& a : actors) {
      STORE_CHECK(
          run("INSERT INTO incident_actors (incident_id, role, description) VALUES ($1, $2, $3)",
              {I(id.value), S(actor_role_text(a.role)), S(a.description)}));
    }
    return Ok{};
  }

  Status insert_events(IncidentId id, const std::vector<IncidentEvent>& events) {
    for (const auto& e : events) {
      STORE_CHECK(
          run("INSERT INTO incident_events (incident_id, occurred_ms, kind, description) VALUES "
              "($1, $2, $3, "
              "$4)",
              {I(id.value), opt_ms(e.time), S(e.kind), S(e.description)}));
    }
    return Ok{};
  }

  Status insert_case(IncidentId id, const std::optional<CaseInfo>& c) {
    if (!c) return Ok{};
    STORE_CHECK(run(
        "INSERT INTO incident_cases (incident_id, case_number, court, disposition, disposition_ms) "
        "VALUES ($1, $2, $3, $4, $5)",
        {I(id.value), S(c->case_number), S(c->court), S(c->disposition),
         opt_ms(c->disposition_time)}));
    for (const auto& ch : c->charges) {
      STORE_CHECK(
          run("INSERT INTO incident_charges (incident_id, description, statute, count) VALUES ($1, "
              "$2, $3, $4)",
              {I(id.value), S(ch.description), S(ch.statute), I(ch.count)}));
    }
    return Ok{};
  }

  Result<Details> load_details(IncidentId id) {
    Details d;
    STORE_TRY(
        actors,
        run("SELECT role, description FROM incident_actors WHERE incident_id = $1 ORDER BY id",
            {I(id.value)}));
    for (const auto& r : actors.rows)
      d.actors.push_back(IncidentActor{parse_actor_role_text(as_text(r[0])), as_text(r[1])});
    STORE_TRY(
        events,
        run("SELECT occurred_ms, kind, description FROM incident_events WHERE incident_id = $1 "
            "ORDER BY id",
            {I(id.value)}));
    for (const auto& r : events.rows)
      d.events.push_back(IncidentEvent{opt_event(r[0]), as_text(r[1]), as_text(r[2])});
    STORE_TRY(cases,
              run("SELECT case_number, court, disposition, disposition_ms FROM incident_cases "
                  "WHERE incident_id = $1",
                  {I(id.value)}));
    if (!cases.rows.empty()) {
      const Row& r = cases.rows[0];
      CaseInfo c{as_text(r[0]), as_text(r[1]), {}, as_text(r[2]), opt_event(r[3])};
      STORE_TRY(
          charges,
          run("SELECT description, statute, count FROM incident_charges WHERE incident_id = $1 "
              "ORDER BY id",
              {I(id.value)}));
      for (const auto& ch : charges.rows) {
        c.charges.push_back(
            Charge{as_text(ch[0]), as_text(ch[1]), static_cast<uint32_t>(as_int(ch[2]))});
      }
      d.case_info = std::move(c);
    }
    return d;
  }

  Result<IncidentId> create_incident_in_txn(const IncidentDraft& d, std::string_view actor,
                                            WallTime at) {
    if (d.type.empty()) return invalid("incident type is empty");
    STORE_CHECK(check_location(d.lat, d.lon));
    STORE_CHECK(check_confidence(d.confidence));
    STORE_TRY(rows, run("INSERT INTO incidents (type, occurred_ms, place, lat, lon, district, "
                        "status, confidence, "
                        "extraction_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, "
                        "$7, $8, $9, $10, $10) "
                        "RETURNING id",
                        {S(d.type), ms(d.time), S(d.place), opt_double(d.lat), opt_double(d.lon),
                         S(d.district), S(incident_status_name(d.status)), D(d.confidence),
                         opt_id(d.extraction), ms(at)}));
    const IncidentId id{as_int(rows.rows.at(0).at(0))};
    STORE_CHECK(insert_actors(id, d.actors));
    STORE_CHECK(insert_events(id, d.events));
    STORE_CHECK(insert_case(id, d.case_info));
    for (const ArticleId& source : d.sources) {
      STORE_CHECK(
          run("INSERT INTO incident_sources (incident_id, article_id, via, added_ms) VALUES ($1, "
              "$2, 'none', "
              "$3) ON CONFLICT (incident_id, article_id) DO NOTHING",
              {I(id.value), I(source.value), ms(at)}));
    }
    STORE_CHECK(
        insert_history(id, IncidentChange{at, std::string(actor), "created", "", d.type, ""}));
    return id;
  }

  std::mutex mu_;  // serialises every use of db_
  std::unique_ptr<Driver> db_;
  const Dialect dialect_;
};

}  // namespace

// ---- Migrations ----------------------------------------------------------

std::unique_ptr<IncidentStore> open_store(std::unique_ptr<Driver> db) {
  const std::span<const Migration> known =
      db->dialect() == Dialect::kSqlite ? sqlite_migrations() : postgres_migrations();
  const auto fail = [&](const std::string& why) { return StoreError(db->describe() + ": " + why); };
  const auto check = [&](const auto& result, const std::string& what) {
    if (!result.ok()) {
      db->rollback();
      throw fail(what + ": " + result.error().to_string());
    }
  };
  for (const Migration& m : known) {
    check(db->begin(true), "cannot start a migration");
    if (db->dialect() == Dialect::kPostgres) {
      check(
          db->exec(
              "SELECT pg_advisory_xact_lock(hashtext('sentinel.migrations.' || current_schema()))",
              {}),
          "cannot lock for migrations");
    }
    check(db->exec_script(
              "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
              "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"),
          "cannot create schema_migrations");
    auto applied = db->exec("SELECT version, name FROM schema_migrations ORDER BY version", {});
    check(applied, "cannot read schema_migrations");
    bool done = false;
    for (const Row& r : applied->rows) {
      const int64_t version = as_int(r[0]);
      if (version < 1 || version > known.back().version) {
        db->rollback();
        throw fail("schema version " + std::to_string(version) +
                   " is newer than this binary knows (" + std::to_string(known.back().version) +
                   ")");
      }
      const Migration& expected = known[static_cast<size_t>(version - 1)];
      if (as_text(r[1]) != expected.name) {
        db->rollback();
        throw fail("schema migration " + std::to_string(version) + " is '" + as_text(r[1]) +
                   "', expected '" + std::string(expected.name) + "'");
      }
      done = done || version == m.version;
    }
    if (!done) {
      const std::string label =
          "migration " + std::to_string(m.version) + "_" + std::string(m.name);
      check(db->exec_script(m.sql), label + " failed");
      const std::vector<Value> params = {
          Value(int64_t{m.version}), Value(std::string(m.name)),
          Value(static_cast<int64_t>(wall_now().time_since_epoch().count()))};
      check(
          db->exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
                   params),
          label + " could not be recorded");
    }
    check(db->commit(), "cannot commit a migration");
  }
  return std::make_unique<SqlStore>(std::move(db));
}

}  // namespace sql
}  // namespace sentinel::intel
