// Extraction: what an extraction provider reads out of one article (the
// incident it reports: type, when, where, who, against what) and the provider
// interface itself. The built-in extractor (builtin_extractor.h) is the
// offline default; LLM providers implement the same interface.
//
// Values only: an Extraction holds no pointer into the article, so it can
// outlive the text and cross threads freely.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "intel/article.h"
#include "intel/incident_types.h"

namespace sentinel::intel {

/// What a provider reads: the article's title and text, when it was
/// published (ms since the Unix epoch, UTC; 0 = unknown) and its URL.
struct ArticleText {
  std::string_view title;
  std::string_view text;
  int64_t published_ms = 0;
  std::string_view url;
};

/// A view of an Article for extraction (the Article must outlive the view).
inline ArticleText article_text(const Article& a) {
  return ArticleText{a.title, a.text, a.published_ms, a.canonical_url.empty() ? a.url : a.canonical_url};
}

/// How precisely the occurrence time is known.
enum class TimePrecision : uint8_t {
  kNone = 0,  ///< no date at all (no text date, no publication date)
  kApprox,    ///< a range of days ("last week", or "on or before" the publication day)
  kDay,       ///< the calendar day is known, not the time of day
  kExact,     ///< day and time of day ("at 2330", "around 3 a.m.")
};
inline std::string_view time_precision_name(TimePrecision p) {
  switch (p) {
    case TimePrecision::kApprox: return "approx";
    case TimePrecision::kDay: return "day";
    case TimePrecision::kExact: return "exact";
    case TimePrecision::kNone: break;
  }
  return "none";
}

/// Where a date came from: an absolute date in the text ("12 JAN 90"), a
/// relative expression counted in days from the anchor ("yesterday", "two
/// days ago"), a weekday name ("on Tuesday"), a vague span ("last week",
/// "in January"), or the default (the anchor itself bounds it).
enum class DateBasis : uint8_t { kNone = 0, kAbsolute, kRelative, kWeekday, kVague, kDefault };
inline std::string_view date_basis_name(DateBasis b) {
  switch (b) {
    case DateBasis::kAbsolute: return "absolute";
    case DateBasis::kRelative: return "relative";
    case DateBasis::kWeekday: return "weekday";
    case DateBasis::kVague: return "vague";
    case DateBasis::kDefault: return "default";
    case DateBasis::kNone: break;
  }
  return "none";
}

/// When the incident happened. Days are local civil days counted from
/// 1970-01-01 (day 0); the range [first_day, last_day] is inclusive.
/// `start_ms`/`end_ms` are the same range in UTC milliseconds, converted with
/// the extractor's UTC-offset function (end_ms is the last millisecond).
struct OccurredTime {
  TimePrecision precision = TimePrecision::kNone;
  DateBasis basis = DateBasis::kNone;
  int32_t first_day = 0;
  int32_t last_day = 0;
  /// The range is "on or before last_day": the text gave no date and the
  /// publication (or dateline) day bounds it; first_day is then the start
  /// of the recency window.
  bool on_or_before = false;
  int32_t minute_of_day = -1;  ///< 0..1439 when precision is kExact
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string text;  ///< the expression it came from ("yesterday", "12 JAN 90"), empty for defaults
};

/// How precisely the place is known, from coarse to fine.
enum class PlacePrecision : uint8_t {
  kNone = 0,
  kCountry,
  kRegion,    ///< department, province, state
  kCity,      ///< city, town, municipality
  kDistrict,  ///< neighbourhood, community area, village, sector
  kStreet,    ///< a street without a block or number
  kSite,      ///< a block of a street, an intersection, or a named site (school, farm, university)
};
inline std::string_view place_precision_name(PlacePrecision p) {
  switch (p) {
    case PlacePrecision::kCountry: return "country";
    case PlacePrecision::kRegion: return "region";
    case PlacePrecision::kCity: return "city";
    case PlacePrecision::kDistrict: return "district";
    case PlacePrecision::kStreet: return "street";
    case PlacePrecision::kSite: return "site";
    case PlacePrecision::kNone: break;
  }
  return "none";
}

/// Where the incident happened.
struct Place {
  std::string text;       ///< the words of the article that named it
  std::string name;       ///< the gazetteer's name for it ("ENGLEWOOD", "W 63rd St")
  /// Containing places from the country (or city) down, then this place, each
  /// with its kind in parentheses after the first: "COLOMBIA: ANTIOQUIA
  /// (DEPARTMENT): MEDELLIN (CITY)" (the MUC location form).
  std::string qualified;
  std::string country;    ///< top-level container ("COLOMBIA", "CHICAGO")
  double lat = std::numeric_limits<double>::quiet_NaN();
  double lon = std::numeric_limits<double>::quiet_NaN();
  std::string district;   ///< community area / department containing it, when known
  int32_t district_id = -1;  ///< community-area number (or -1)
  PlacePrecision precision = PlacePrecision::kNone;

  bool has_coordinates() const { return lat == lat && lon == lon; }  // NaN-safe
};

enum class ActorRole : uint8_t { kVictim, kSuspect, kOfficer, kWitness, kAgency };
inline std::string_view actor_role_name(ActorRole r) {
  switch (r) {
    case ActorRole::kVictim: return "victim";
    case ActorRole::kSuspect: return "suspect";
    case ActorRole::kOfficer: return "officer";
    case ActorRole::kWitness: return "witness";
    case ActorRole::kAgency: return "agency";
  }
  return "victim";
}

/// A person or group the article places in the incident. `text` is a name
/// when the article gives one, else its description ("PEASANTS", "a
/// 17-year-old man"); `organisation` is the group the actor belongs to.
struct Actor {
  std::string text;
  ActorRole role = ActorRole::kVictim;
  std::string organisation;
};

enum class TargetKind : uint8_t { kPhysical, kHuman };

/// What the incident was aimed at or hit: a thing ("ELECTRIC POWER
/// SUBSTATION") or people ("PEASANTS", "MAYOR OF ACHI").
struct Target {
  std::string text;
  TargetKind kind = TargetKind::kPhysical;
};

/// The factors of an incident's confidence, each in [0,1] (docs/EXTRACTION.md
/// gives the formula that combines them into `value`).
struct Confidence {
  double value = 0;      ///< the combined confidence
  double type = 0;       ///< strength of the incident-type evidence
  double relevance = 0;  ///< factual, recent, specific, in the home regions
  double place = 0;      ///< from the place precision
  double time = 0;       ///< from the time precision
  double actors = 0;     ///< perpetrator / victim / targets identified
  /// Why relevance is what it is: the provider's cue names that fired
  /// ("clash", "modal", "org_guerrilla", ...), for curators and for fitting.
  std::vector<std::string> cues;
};

/// One incident as the article reports it.
struct Incident {
  IncidentType type = IncidentType::kUnknown;
  OccurredTime occurred;
  Place place;
  std::vector<Actor> actors;
  std::string perpetrator_org;  ///< the organisation held responsible, empty if none named
  std::vector<Target> targets;
  Confidence confidence;
  std::string evidence;  ///< the sentence that established the type
};

/// Everything a provider extracted from one article. `incidents` is ordered
/// by confidence, highest first; the first is the article's main incident and
/// what triage, dedup and curation use. Empty when the article reports no
/// incident.
struct Extraction {
  std::vector<Incident> incidents;
  std::string provider;  ///< "builtin", "anthropic", ...

  const Incident* main() const { return incidents.empty() ? nullptr : &incidents.front(); }
  double confidence() const { return incidents.empty() ? 0.0 : incidents.front().confidence.value; }
};

/// An extraction provider. Implementations state their own threading (LLM
/// providers keep circuit-breaker state, hence the non-const extract); the
/// built-in one is immutable after construction and may be called from any
/// number of threads at once.
///
/// Errors: a Result error means the provider could not produce an answer for
/// this article (bad input, a remote failure). An article that simply reports
/// no incident is a successful empty Extraction, not an error.
class ExtractionProvider {
 public:
  virtual ~ExtractionProvider() = default;
  /// The provider's registry name ("builtin", "anthropic", "openai").
  virtual std::string_view name() const = 0;
  virtual Result<Extraction> extract(const ArticleText& article) = 0;
};

}  // namespace sentinel::intel
