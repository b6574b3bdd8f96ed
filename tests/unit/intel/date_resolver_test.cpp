#include "intel/date_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace sentinel::intel {
namespace date_resolver_test {

using ::testing::ElementsAre;
using ::testing::SizeIs;

int32_t day(int y, int m, int d) { return days_from_civil(y, m, d); }

// The single day-mention of `text` resolved against `anchor`.
DateMention only(std::string_view text, int32_t anchor) {
  DateResolver r;
  auto found = r.find(text, anchor);
  EXPECT_THAT(found, SizeIs(1)) << text;
  return found.empty() ? DateMention{} : found.front();
}

TEST(CivilDays, RoundTripWeekdaysAndFormats) {
  EXPECT_EQ(day(1970, 1, 1), 0);
  EXPECT_EQ(day(1990, 1, 12), 7316);
  int y, m, d;
  civil_from_days(day(2000, 2, 29), y, m, d);
  EXPECT_EQ(y, 2000);
  EXPECT_EQ(m, 2);
  EXPECT_EQ(d, 29);
  EXPECT_EQ(weekday_of(0), 3);                 // Thursday
  EXPECT_EQ(weekday_of(day(2018, 3, 4)), 6);   // Sunday
  EXPECT_EQ(weekday_of(day(1969, 12, 29)), 0); // Monday, before the epoch
  EXPECT_EQ(format_muc_date(day(1990, 1, 3)), "03 JAN 90");
  EXPECT_EQ(format_muc_date(day(2005, 11, 30)), "30 NOV 05");
  EXPECT_EQ(format_iso_date(day(2018, 3, 4)), "2018-03-04");
}

TEST(DateResolver, AbsoluteForms) {
  const int32_t anchor = day(1990, 1, 12);
  struct Case {
    std::string_view text;
    int32_t want;
  } cases[] = {
      {"IT HAPPENED ON 12 JAN 90 IN LIMA", day(1990, 1, 12)},
      {"THE MASS KIDNAPPING TOOK PLACE ON 30 DECEMBER IN SAN LUIS", day(1989, 12, 30)},  // year before the anchor
      {"on January 3, 1990 police said", day(1990, 1, 3)},
      {"Jan. 9 was quiet", day(1990, 1, 9)},
      {"reported 1989-11-16 by wire", day(1989, 11, 16)},
      {"filed 3/4/2018 at noon", day(2018, 3, 4)},
      {"THE 16 NOVEMBER 1989 MASSACRE", day(1989, 11, 16)},
  };
  for (const auto& c : cases) {
    DateMention m = only(c.text, anchor);
    EXPECT_EQ(m.first_day, c.want) << c.text;
    EXPECT_EQ(m.last_day, c.want) << c.text;
    EXPECT_EQ(m.basis, DateBasis::kAbsolute) << c.text;
  }
}

TEST(DateResolver, TwoDigitYearsOnlyInTheMucForm) {
  const int32_t anchor = day(1990, 3, 1);
  DateResolver r;
  auto m = r.find("ON 12 JANUARY 15 PEOPLE WERE KILLED", anchor);
  ASSERT_THAT(m, SizeIs(1));
  EXPECT_EQ(m[0].first_day, day(1990, 1, 12));  // not 2015
  EXPECT_EQ(m[0].end - m[0].begin, 2u);
}

TEST(DateResolver, MonthsAloneAndYearsAreVague) {
  const int32_t anchor = day(1990, 2, 10);
  DateMention m = only("THE ATTACKS IN DECEMBER LEFT 3 DEAD", anchor);
  EXPECT_EQ(m.basis, DateBasis::kVague);
  EXPECT_EQ(m.first_day, day(1989, 12, 1));
  EXPECT_EQ(m.last_day, day(1989, 12, 31));
  m = only("A BOMB EXPLODED THERE IN 1984", anchor);
  EXPECT_EQ(m.first_day, day(1984, 1, 1));
  EXPECT_EQ(m.last_day, day(1984, 12, 31));
  m = only("he was killed last year", anchor);
  EXPECT_EQ(m.first_day, day(1989, 1, 1));
  // "may" the verb is no month in mixed-case text.
  DateResolver r;
  EXPECT_THAT(r.find("the suspect may 12 times have fired", anchor), SizeIs(0));
  EXPECT_THAT(r.find("on May 12 the suspect fired", anchor), SizeIs(1));
}

TEST(DateResolver, RelativeDays) {
  const int32_t anchor = day(2018, 3, 7);  // a Wednesday
  struct Case {
    std::string_view text;
    int32_t first, last;
    DateBasis basis;
  } cases[] = {
      {"shot yesterday afternoon", anchor - 1, anchor - 1, DateBasis::kRelative},
      {"shot last night", anchor - 1, anchor - 1, DateBasis::kRelative},
      {"shot early today", anchor, anchor, DateBasis::kRelative},
      {"shot this morning", anchor, anchor, DateBasis::kRelative},
      {"THE GUERRILLAS ATTACKED THE FARM 2 DAYS AGO", anchor - 2, anchor - 2, DateBasis::kRelative},
      {"attacked two days ago", anchor - 2, anchor - 2, DateBasis::kRelative},
      {"the day before yesterday", anchor - 2, anchor - 2, DateBasis::kRelative},
      {"a rally tomorrow", anchor + 1, anchor + 1, DateBasis::kRelative},
      {"shot on Tuesday", anchor - 1, anchor - 1, DateBasis::kWeekday},
      {"shot Sunday night", anchor - 3, anchor - 3, DateBasis::kWeekday},
      {"shot on Wednesday", anchor, anchor, DateBasis::kWeekday},          // the anchor's own weekday: today
      {"shot last Wednesday", anchor - 7, anchor - 7, DateBasis::kWeekday},
      {"robbed last week", day(2018, 2, 26), day(2018, 3, 4), DateBasis::kVague},
      {"robbed last weekend", day(2018, 3, 3), day(2018, 3, 4), DateBasis::kVague},
      {"robbed last month", day(2018, 2, 1), day(2018, 2, 28), DateBasis::kVague},
  };
  for (const auto& c : cases) {
    DateMention m = only(c.text, anchor);
    EXPECT_EQ(m.first_day, c.first) << c.text;
    EXPECT_EQ(m.last_day, c.last) << c.text;
    EXPECT_EQ(m.basis, c.basis) << c.text;
  }
}

TEST(DateResolver, TimesAttachToTheDateOfTheirSentence) {
  const int32_t anchor = day(1990, 2, 18);
  DateResolver r;
  auto m = r.find("THE FIRST EXPLOSIONS BEGAN AT 2330 [0530 GMT] YESTERDAY. POLICE CAME.", anchor);
  ASSERT_THAT(m, SizeIs(1));
  EXPECT_EQ(m[0].first_day, anchor - 1);
  EXPECT_EQ(m[0].minute_of_day, 23 * 60 + 30);
  m = r.find("Shot at 10:30 p.m. Tuesday.", day(2018, 3, 7));
  ASSERT_THAT(m, SizeIs(1));
  EXPECT_EQ(m[0].minute_of_day, 22 * 60 + 30);
  EXPECT_EQ(m[0].basis, DateBasis::kWeekday);
  m = r.find("Police arrived around 3 a.m. and left at noon.", anchor);
  ASSERT_THAT(m, SizeIs(2));  // times without a day in their sentence
  EXPECT_FALSE(m[0].has_day);
  EXPECT_EQ(m[0].minute_of_day, 180);
  EXPECT_EQ(m[1].minute_of_day, 720);
  // Four-digit numbers are times only after "at" or before GMT/hours.
  EXPECT_THAT(r.find("THE 1200 BLOCK OF STATE", anchor), SizeIs(0));
}

TEST(DateResolver, MucDatelines) {
  auto d = DateResolver::parse_dateline(
      "DEV-MUC3-0001 (NOSC)\n\n   SAN SALVADOR, 3 JAN 90 -- [REPORT] [ARMED FORCES PRESS COMMITTEE,\nCOPREFA] [TEXT] THE "
      "ARCE BATTALION");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->place, "SAN SALVADOR");
  EXPECT_EQ(d->day, day(1990, 1, 3));
  EXPECT_TRUE(d->has_date);
  EXPECT_THAT(d->tags, ElementsAre("REPORT", "ARMED FORCES PRESS COMMITTEE, COPREFA", "TEXT"));
  d = DateResolver::parse_dateline("   PARIS (FRANCE), 12 JAN 90 (AFP)-- [TEXT] THE FRENCH");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->place, "PARIS");
  EXPECT_EQ(d->country, "FRANCE");
  EXPECT_EQ(d->source, "AFP");
  std::string_view text = "   SANTIAGO, 18 JUL 89 (TELEVISION NACIONAL DE CHILE\nNETWORK) -- [TEXT] A BOMB";
  d = DateResolver::parse_dateline(text);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->source, "TELEVISION NACIONAL DE CHILE NETWORK");
  EXPECT_EQ(text.substr(d->body_offset), " A BOMB");
  d = DateResolver::parse_dateline("BOGOTA, NO DATE (RADIO CADENA NACIONAL) -- [TEXT] X");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->has_date);
  // Brackets that do not end in a general tag belong to the body.
  d = DateResolver::parse_dateline("LIMA, 2 FEB 90 -- [CONTINUED] MORE");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->tags.empty());
  EXPECT_FALSE(DateResolver::parse_dateline("A man was shot on Tuesday -- police said").has_value());
  EXPECT_FALSE(DateResolver::parse_dateline("").has_value());
}

}  // namespace date_resolver_test
}  // namespace sentinel::intel
