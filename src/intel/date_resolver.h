// Date resolver: finds the date and time expressions news uses and resolves
// them to local civil days against an anchor day (the article's dateline or
// publication day).
//
//  - absolute: "12 JAN 90", "30 DECEMBER", "January 12, 1990", "Jan. 12",
//    "2018-03-04", "3/4/2018" (US order), "in January" (a month: vague);
//  - relative: "today", "tonight", "this morning", "yesterday", "last
//    night", "the day before yesterday", "two days ago", "tomorrow",
//    "last week", "this week", "last weekend", "last month", "last year";
//    a bare year after a preposition ("in 1984") is a vague span;
//  - weekdays: "on Tuesday", "last Tuesday", "Tuesday night" (the latest
//    such day on or before the anchor);
//  - times: "at 2330", "2330 [0530 GMT]", "10:30 p.m.", "3 a.m.", "noon",
//    "midnight" (attached to the date of the same sentence);
//  - MUC datelines: "SAN SALVADOR, 12 JAN 90 (RADIO VENCEREMOS) -- [TEXT]".
//
// A day without a year takes the anchor's year, or the year before when
// that would put it more than a month after the anchor (news reports the
// past). Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"
#include "intel/gazetteer.h"

namespace sentinel::intel {

/// Civil-day arithmetic (proleptic Gregorian; day 0 = 1970-01-01).
int32_t days_from_civil(int year, int month, int day);
void civil_from_days(int32_t days, int& year, int& month, int& day);
/// 0 = Monday .. 6 = Sunday.
int weekday_of(int32_t days);
/// "12 JAN 90" (the MUC date form).
std::string format_muc_date(int32_t days);
/// "2018-03-04".
std::string format_iso_date(int32_t days);

/// One date or time expression, tokens [begin, end) of the text.
struct DateMention {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool has_day = true;      ///< false for a time with no date in its sentence
  int32_t first_day = 0;
  int32_t last_day = 0;
  int32_t minute_of_day = -1;
  DateBasis basis = DateBasis::kNone;
};

/// A MUC message dateline.
struct Dateline {
  std::string place;        ///< "SAN SALVADOR", "BOGOTA"; "CLANDESTINE" / "NO CITY" as written
  std::string country;      ///< the "(COUNTRY)" after the city, when given
  int32_t day = 0;          ///< the dateline date
  bool has_date = false;    ///< false for "NO DATE"
  std::string source;       ///< "(RADIO VENCEREMOS)" without parentheses
  /// The bracketed header tags after "--", up to the general one:
  /// "REPORT", "INTERVIEW WITH ...", "SPEECH", "TEXT".
  std::vector<std::string> tags;
  size_t body_offset = 0;   ///< where the text after "--" (and the [TEXT]-like tags) starts
};

class DateResolver {
 public:
  /// Appends the expressions of `text` to `out` (cleared first), in text
  /// order, resolved against `anchor_day`.
  void find(const TokenizedText& text, int32_t anchor_day, std::vector<DateMention>& out) const;
  /// Convenience for tests and tools: tokenises `text` first.
  std::vector<DateMention> find(std::string_view text, int32_t anchor_day) const;

  /// Parses a MUC dateline at the start of `text` (after the message-id
  /// line, if any): "CITY[ (COUNTRY)], DD MMM YY [(SOURCE)] -- ...". The
  /// year may be missing ("3 JAN"): then `default_year` is used.
  static std::optional<Dateline> parse_dateline(std::string_view text, int default_year = 1990);
};

}  // namespace sentinel::intel
