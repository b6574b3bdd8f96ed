// Unit tests of the feed parser's parts (dates, URLs, encodings, HTML
// handling) and of what it makes of well-formed and ill-formed documents.
// The full feed corpus runs in tests/integration/feeds_corpus_test.py.
#include "intel/feed_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "intel/feed_dates.h"
#include "intel/feed_encoding.h"
#include "intel/feed_html.h"
#include "intel/feed_json.h"
#include "intel/feed_urls.h"

namespace sentinel::intel {
namespace feed_parser_test {

using ::testing::HasSubstr;

FeedTime tuple(int y, int mo, int d, int h, int mi, int s, int wday, int yday) {
  return FeedTime{y, mo, d, h, mi, s, wday, yday, 0};
}

const FeedValue& at(const FeedValue& v, std::string_view key) {
  static const FeedValue kNull;
  const FeedValue* found = v.find(key);
  return found != nullptr ? *found : kNull;
}

std::string str(const FeedValue& v, std::string_view key) {
  return v.get_string(key, "<absent>");
}

// ---------------------------------------------------------------------------
// Dates

TEST(FeedDates, Rfc822Variants) {
  const FeedTime expected = tuple(2004, 1, 1, 19, 48, 21, 3, 1);
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 2004 19:48:21 GMT"), expected);
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 04 19:48:21 GMT"), expected);    // two-digit year
  EXPECT_EQ(parse_feed_date("Thu, Jan 01 2004 19:48:21 GMT"), expected);  // day and month swapped
  EXPECT_EQ(parse_feed_date("Thu,01 Jan 2004 19:48:21 GMT"), expected);  // no space after the comma
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 2004 14:48:21 EST"), expected);  // named zone
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 2004 14:48:21 -0500"), expected);
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 2004 14:48:21 GMT-05:00"), expected);
  EXPECT_EQ(parse_feed_date("Thu, 01 Jan 2004 21:48:21 Etc/GMT+02:00"), expected);
  EXPECT_EQ(parse_feed_date("01 Jan 2004"), tuple(2004, 1, 1, 0, 0, 0, 3, 1));  // no time or zone
  EXPECT_EQ(parse_feed_date("Sat, 07 Sep 99 00:00:01 GMT"), tuple(1999, 9, 7, 0, 0, 1, 1, 250));
}

TEST(FeedDates, W3cDtfAndIso8601) {
  EXPECT_EQ(parse_feed_date("2003-12-31T10:14:55Z"), tuple(2003, 12, 31, 10, 14, 55, 2, 365));
  EXPECT_EQ(parse_feed_date("2003-12-31T10:14:55.563-08:00"),
            tuple(2003, 12, 31, 18, 14, 55, 2, 365));
  EXPECT_EQ(parse_feed_date("2002-10-17T17:00+01:00"), tuple(2002, 10, 17, 16, 0, 0, 3, 290));
  EXPECT_EQ(parse_feed_date("2003-12-31"), tuple(2003, 12, 31, 0, 0, 0, 2, 365));
  EXPECT_EQ(parse_feed_date("2003-12"), tuple(2003, 12, 1, 0, 0, 0, 0, 335));
  EXPECT_EQ(parse_feed_date("2003-12-31 10:14:55"),
            tuple(2003, 12, 31, 10, 14, 55, 2, 365));                            // MSSQL style
  EXPECT_EQ(parse_feed_date("20031231"), tuple(2003, 12, 31, 0, 0, 0, 2, 365));  // ISO compact
  EXPECT_EQ(parse_feed_date("20031231T10:14:55Z"), tuple(2003, 12, 31, 10, 14, 55, 2, 365));
  EXPECT_EQ(parse_feed_date("2004060"), tuple(2004, 2, 29, 0, 0, 0, 6, 60));  // ordinal day
}

TEST(FeedDates, AsctimeAndPerforce) {
  EXPECT_EQ(parse_feed_date("Sun Jan  4 16:29:06 PST 2004"), tuple(2004, 1, 5, 0, 29, 6, 0, 5));
  EXPECT_EQ(parse_feed_date("Sun Jan  4 16:29:06 2004"), tuple(2004, 1, 4, 16, 29, 6, 6, 4));
  EXPECT_EQ(parse_feed_date("Fri, 2006/09/15 08:19:53 EDT"),
            tuple(2006, 9, 15, 12, 19, 53, 4, 258));
}

TEST(FeedDates, RejectsImpossibleDatesAndGarbage) {
  EXPECT_FALSE(parse_feed_date("Mon, 30 Feb 2004 10:00:00 GMT"));
  EXPECT_FALSE(parse_feed_date("2004-02-30T10:00:00Z"));
  EXPECT_FALSE(parse_feed_date("2004-01-01T25:00:00Z"));
  EXPECT_FALSE(parse_feed_date(""));
  EXPECT_FALSE(parse_feed_date("   "));
  EXPECT_FALSE(parse_feed_date("yesterday"));
  EXPECT_FALSE(parse_feed_date("\xD4\xE5\xE9, 29 \xC9\xEF\xFD\xED 2004 12:53:00 GMT"));
}

TEST(FeedDates, UnixRoundTripAndHttpFormat) {
  FeedTime t = tuple(2004, 1, 1, 19, 48, 21, 3, 1);
  EXPECT_EQ(feed_time_to_unix(t), 1072986501);
  EXPECT_EQ(feed_time_from_unix(1072986501), t);
  EXPECT_EQ(feed_time_from_unix(-1), tuple(1969, 12, 31, 23, 59, 59, 2, 365));
  EXPECT_EQ(format_http_date(1072986501), "Thu, 01 Jan 2004 19:48:21 GMT");
}

// ---------------------------------------------------------------------------
// URLs

TEST(FeedUrls, JoinFollowsRfc3986) {
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "g"), "http://a/b/c/g");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "../g"), "http://a/b/g");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "../../../g"), "http://a/g");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "./"), "http://a/b/c/");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "//g"), "http://g");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "?y"), "http://a/b/c/d;p?y");
  EXPECT_EQ(url_join("http://a/b/c/d;p?q", "#s"), "http://a/b/c/d;p?q#s");
  EXPECT_EQ(url_join("http://a/b/", "/x/./y/../z"), "http://a/x/z");
  EXPECT_EQ(url_join("", "relative"), "relative");
  EXPECT_EQ(url_join("http://a/b", "mailto:x@y"), "mailto:x@y");  // other scheme: unchanged
  EXPECT_EQ(url_join("http://a/", "http:///extra/slashes"), "http://extra/slashes");
  EXPECT_EQ(url_join("http://example.test/", "http://example.c[o.test/"), "");  // invalid netloc
}

TEST(FeedUrls, SafeAbsoluteUriDropsUnsafeSchemes) {
  EXPECT_EQ(make_safe_absolute_uri("http://a/b/", "c"), "http://a/b/c");
  EXPECT_EQ(make_safe_absolute_uri("http://a/b/", "javascript:alert(1)"), "");
  EXPECT_EQ(make_safe_absolute_uri("javascript:alert(1)"), "");
  EXPECT_EQ(make_safe_absolute_uri("relative/path"), "relative/path");
  EXPECT_EQ(make_safe_absolute_uri("", "anything"), "anything");
  EXPECT_TRUE(is_safe_uri_scheme("https"));
  EXPECT_FALSE(is_safe_uri_scheme("data"));
}

// ---------------------------------------------------------------------------
// Encodings

TEST(FeedEncoding, DeclarationHeaderAndBom) {
  // Local file: the XML declaration decides.
  std::string latin1 =
      "<?xml version=\"1.0\" "
      "encoding=\"iso-8859-1\"?><rss><channel><title>caf\xE9</title></channel></rss>";
  DecodedFeed d = convert_to_utf8(latin1, {});
  EXPECT_EQ(d.encoding, "iso-8859-1");
  EXPECT_EQ(d.error, "");
  EXPECT_THAT(d.utf8, HasSubstr("caf\xC3\xA9"));
  EXPECT_TRUE(d.utf8.rfind("<?xml version='1.0' encoding='utf-8'?>", 0) == 0);

  // application/xml: the header charset wins over the declaration.
  d = convert_to_utf8(latin1, {{"content-type", "application/xml; charset=windows-1252"}});
  EXPECT_EQ(d.encoding, "windows-1252");
  // text/xml without charset is us-ascii by RFC 3023; the é does not decode.
  d = convert_to_utf8(latin1, {{"content-type", "text/xml"}});
  EXPECT_EQ(d.encoding, "iso-8859-1");
  EXPECT_THAT(d.error, HasSubstr("declared as us-ascii"));
  // Not an XML media type.
  d = convert_to_utf8("<rss/>", {{"content-type", "text/plain; charset=utf-8"}});
  EXPECT_EQ(d.encoding, "utf-8");
  EXPECT_THAT(d.error, HasSubstr("is not an XML media type"));

  // UTF-16 with a byte order mark.
  std::string utf16("\xFF\xFE<\0r\0s\0s\0/\0>\0", 14);
  d = convert_to_utf8(utf16, {});
  EXPECT_EQ(d.encoding, "utf-16le");
  EXPECT_THAT(d.utf8, HasSubstr("<rss/>"));
}

TEST(FeedEncoding, WrongDeclarationFallsBackAndReportsIt) {
  // Declared UTF-8 but Windows-1252 bytes: detected, decoded, reported.
  std::string doc =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>Caf\xE9 cr\xE8me na\xEFve "
      "fa\xE7"
      "ade \xE9t\xE9 d\xE9j\xE0 \xE0 la fen\xEAtre</title></channel></rss>";
  ParsedFeed f = parse_feed(doc);
  EXPECT_TRUE(f.bozo);
  EXPECT_THAT(f.bozo_exception, HasSubstr("document declared as utf-8"));
  EXPECT_NE(f.encoding, "utf-8");
  EXPECT_THAT(str(f.feed, "title"), HasSubstr("Caf\xC3\xA9"));
}

// ---------------------------------------------------------------------------
// HTML

TEST(FeedHtml, SanitizerRemovesDangerousMarkup) {
  using feedhtml::sanitize_html;
  EXPECT_EQ(sanitize_html("<p onclick=\"evil()\">hi<script>alert(1)</script></p>", "text/html"),
            "<p>hi</p>");
  EXPECT_EQ(sanitize_html("<a href=\"javascript:alert(1)\">x</a>", "text/html"),
            "<a href=\"\">x</a>");
  EXPECT_EQ(sanitize_html("<iframe src=\"http://x/\"></iframe>safe", "text/html"), "safe");
  EXPECT_EQ(
      sanitize_html("<span style=\"color: red; background: url(http://x/)\">t</span>", "text/html"),
      "<span style=\"color: red;\">t</span>");
  EXPECT_EQ(sanitize_html("<img src=\"a.png\" TITLE=\"t\"/>", "application/xhtml+xml"),
            "<img src=\"a.png\" title=\"t\" />");
  EXPECT_EQ(sanitize_html("<b>&amp; &copy; &bogus;</b>", "text/html"),
            "<b>&amp; &copy; &amp;bogus</b>");
}

TEST(FeedHtml, ResolvesRelativeLinks) {
  EXPECT_EQ(feedhtml::resolve_relative_uris("<a href=\"../x\">l</a><img src=\"/i.png\">",
                                            "http://h/a/b/", "text/html"),
            "<a href=\"http://h/a/x\">l</a><img src=\"http://h/i.png\" />");
}

TEST(FeedHtml, LooksLikeHtml) {
  EXPECT_TRUE(feedhtml::looks_like_html("<b>bold</b>"));
  EXPECT_TRUE(feedhtml::looks_like_html("AT&amp;T"));
  EXPECT_FALSE(feedhtml::looks_like_html("1 < 2"));
  EXPECT_FALSE(feedhtml::looks_like_html("<blink>no</blink>"));
}

TEST(FeedHtml, PlainText) {
  EXPECT_EQ(html_to_text("<p>One &amp; two</p><p>three&nbsp;<script>x()</script>four</p>"),
            "One & two\nthree\xC2\xA0"
            "four");
  EXPECT_EQ(html_to_text("  plain\t text  "), "plain text");
}

// ---------------------------------------------------------------------------
// Documents

TEST(FeedParser, Rss20Item) {
  ParsedFeed f = parse_feed(R"(<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Example feed</title><link>http://example.com/</link>
  <language>en-us</language>
  <item>
    <title>Shooting on Main St</title>
    <link>http://example.com/a?x=1&amp;y=2</link>
    <description>&lt;p&gt;Two people &lt;b&gt;hurt&lt;/b&gt;&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</description>
    <pubDate>Thu, 01 Jan 2004 19:48:21 GMT</pubDate>
    <dc:creator>Jane Reporter</dc:creator>
    <category domain="http://example.com/cats">crime</category>
    <guid isPermaLink="false">item-1</guid>
    <enclosure url="http://example.com/a.mp3" length="123" type="audio/mpeg"/>
  </item>
</channel>
</rss>)");
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.version, "rss20");
  EXPECT_EQ(str(f.feed, "title"), "Example feed");
  EXPECT_EQ(str(f.feed, "link"), "http://example.com/");
  EXPECT_EQ(str(f.feed, "language"), "en-us");
  ASSERT_EQ(f.entries.size(), 1u);
  const FeedValue& e = f.entries[0];
  EXPECT_EQ(str(e, "title"), "Shooting on Main St");
  EXPECT_EQ(str(e, "link"), "http://example.com/a?x=1&y=2");
  EXPECT_EQ(str(e, "summary"), "<p>Two people <b>hurt</b></p>");
  EXPECT_EQ(str(at(e, "summary_detail"), "type"), "text/html");
  EXPECT_EQ(str(e, "published"), "Thu, 01 Jan 2004 19:48:21 GMT");
  ASSERT_TRUE(at(e, "published_parsed").is_list());
  EXPECT_EQ(at(e, "published_parsed").as_list()[0].as_int(), 2004);
  EXPECT_EQ(str(e, "author"), "Jane Reporter");
  EXPECT_EQ(str(at(e, "tags").as_list()[0], "term"), "crime");
  EXPECT_EQ(str(at(e, "tags").as_list()[0], "scheme"), "http://example.com/cats");
  EXPECT_EQ(str(e, "id"), "item-1");
  EXPECT_FALSE(at(e, "guidislink").truthy());
  ASSERT_EQ(at(e, "links").as_list().size(), 2u);
  EXPECT_EQ(str(at(e, "links").as_list()[1], "rel"), "enclosure");
  EXPECT_EQ(str(at(e, "links").as_list()[1], "href"), "http://example.com/a.mp3");
}

TEST(FeedParser, Atom10WithXmlBaseAndXhtmlContent) {
  ParsedFeed f = parse_feed(
      R"(<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/" xml:lang="de">
  <title type="html">Feed &lt;em&gt;title&lt;/em&gt;</title>
  <id>tag:example.org,2024:feed</id>
  <updated>2024-05-01T10:00:00+02:00</updated>
  <link rel="self" href="feed.atom"/>
  <entry>
    <title>Entry</title>
    <link href="posts/1"/>
    <id>tag:example.org,2024:1</id>
    <author><name>Ann</name><email>ann@example.org</email><uri>/ann</uri></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>See <a href="../other">this</a>.</p></div></content>
  </entry>
</feed>)");
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.version, "atom10");
  EXPECT_EQ(str(f.feed, "title"), "Feed <em>title</em>");
  EXPECT_EQ(str(at(f.feed, "title_detail"), "language"), "de");
  EXPECT_EQ(str(f.feed, "updated"), "2024-05-01T10:00:00+02:00");
  EXPECT_EQ(at(f.feed, "updated_parsed").as_list()[3].as_int(), 8);  // UTC hour
  EXPECT_EQ(str(at(f.feed, "links").as_list()[0], "href"), "http://example.org/blog/feed.atom");
  EXPECT_EQ(str(at(f.feed, "links").as_list()[0], "type"), "application/atom+xml");
  const FeedValue& e = f.entries.at(0);
  EXPECT_EQ(str(e, "link"), "http://example.org/blog/posts/1");
  EXPECT_EQ(str(e, "author"), "Ann (ann@example.org)");
  EXPECT_EQ(str(at(e, "author_detail"), "href"), "http://example.org/ann");
  const FeedValue& content = at(e, "content").as_list().at(0);
  EXPECT_EQ(str(content, "type"), "application/xhtml+xml");
  EXPECT_EQ(str(content, "value"), "<p>See <a href=\"http://example.org/other\">this</a>.</p>");
  EXPECT_EQ(str(e, "summary"), str(content, "value"));
}

TEST(FeedParser, UndeclaredEntityIsBozoButParsed) {
  ParsedFeed f = parse_feed(
      "<rss version=\"2.0\"><channel><title>caf&eacute; &nbsp;ok</title>"
      "<item><title>a &mdash; b</title></item></channel></rss>");
  EXPECT_TRUE(f.bozo);
  EXPECT_THAT(f.bozo_exception, HasSubstr("undefined entity"));
  EXPECT_EQ(str(f.feed, "title"), "caf\xC3\xA9 \xC2\xA0ok");
  EXPECT_EQ(str(f.entries.at(0), "title"), "a \xE2\x80\x94 b");
}

TEST(FeedParser, UnescapedAmpersandAndMismatchedTags) {
  ParsedFeed f = parse_feed(
      "<rss><channel><title>Tom & Jerry</title><item><title>one</b></title>"
      "<link>http://x/?a=1&b=2</link></item><item><title>two</title></item></channel>");
  EXPECT_TRUE(f.bozo);
  EXPECT_EQ(str(f.feed, "title"), "Tom & Jerry");
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(str(f.entries[0], "link"), "http://x/?a=1&b=2");
  EXPECT_EQ(str(f.entries[1], "title"), "two");
}

TEST(FeedParser, DoctypeEntitiesExpandOnlyWhenSimple) {
  ParsedFeed ok = parse_feed(
      "<!DOCTYPE rss [\n<!ENTITY site \"Example\">\n]>\n<rss><channel><title>&site; news</title>"
      "</channel></rss>");
  EXPECT_FALSE(ok.bozo) << ok.bozo_exception;
  EXPECT_EQ(str(ok.feed, "title"), "Example news");
  // Nested entities (the "billion laughs" shape) are dropped, not expanded.
  ParsedFeed bomb = parse_feed(
      "<!DOCTYPE rss [\n<!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;\">\n]>\n"
      "<rss><channel><title>&b;</title></channel></rss>");
  EXPECT_TRUE(bomb.bozo);
  EXPECT_EQ(str(bomb.feed, "title"), "&b;");
}

TEST(FeedParser, CdataAndMissingDates) {
  ParsedFeed f = parse_feed(
      "<rss version=\"2.0\"><channel><item><title><![CDATA[A <b>bold</b> move]]></title>"
      "<pubDate>sometime last week</pubDate></item></channel></rss>");
  EXPECT_FALSE(f.bozo);
  const FeedValue& e = f.entries.at(0);
  EXPECT_EQ(str(e, "title"), "A <b>bold</b> move");
  EXPECT_EQ(str(at(e, "title_detail"), "type"), "text/html");  // plain text that looks like HTML
  EXPECT_EQ(str(e, "published"), "sometime last week");
  EXPECT_TRUE(at(e, "published_parsed").is_null());
}

TEST(FeedParser, RepairsDoubleEncodedUtf8) {
  ParsedFeed f = parse_feed("<rss><channel><title>caf&#195;&#169;</title></channel></rss>");
  EXPECT_EQ(str(f.feed, "title"), "caf\xC3\xA9");
}

TEST(FeedParser, RssRdfAndAtom03Versions) {
  EXPECT_EQ(parse_feed("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
                       "xmlns=\"http://purl.org/rss/1.0/\"><channel/></rdf:RDF>")
                .version,
            "rss10");
  EXPECT_EQ(parse_feed("<rss version=\"0.91\"><channel/></rss>").version, "rss091u");
  EXPECT_EQ(parse_feed("<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"/>").version,
            "atom03");
  EXPECT_EQ(parse_feed("<rss><channel/></rss>").version, "rss");
}

TEST(FeedParser, HeadersGiveBaseAndLanguage) {
  FeedParseOptions options;
  options.href = "http://example.com/feeds/main.xml";
  options.headers = {{"content-type", "application/rss+xml"}, {"content-language", "es"}};
  ParsedFeed f = parse_feed(
      "<rss><channel><item><title>t</title><link>../story/1</link></item></channel></rss>",
      options);
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(str(f.entries.at(0), "link"), "http://example.com/story/1");
  EXPECT_EQ(str(at(f.entries.at(0), "title_detail"), "language"), "es");
}

TEST(FeedParser, NothingCrashesOnHostileInput) {
  EXPECT_FALSE(parse_feed("").bozo);  // nothing to parse
  EXPECT_TRUE(parse_feed("<!-- just a comment -->").bozo);
  static constexpr char kGarbage[] = "\x00\x01\x02\xFF\xFE garbage <<<>>> &&& ]]>";
  EXPECT_TRUE(parse_feed(std::string(kGarbage, sizeof kGarbage - 1)).bozo);
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<a>";
  EXPECT_TRUE(parse_feed(deep).bozo);  // unclosed
  std::string nested = "<rss><channel>";
  for (int i = 0; i < 20000; ++i) nested += "<x>";
  for (int i = 0; i < 20000; ++i) nested += "</x>";
  nested += "</channel></rss>";
  EXPECT_FALSE(parse_feed(nested).bozo);
  std::string unterminated = "<rss><channel><title><![CDATA[never ends";
  EXPECT_TRUE(parse_feed(unterminated).bozo);
}

TEST(FeedParser, ArticlesFromEntries) {
  ParsedFeed f = parse_feed(R"(<rss version="2.0"><channel><language>fr</language>
<item><title>Titre &amp; plus</title><link>http://ex.fr/1</link>
<description>&lt;p&gt;Court&lt;/p&gt;</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;Un texte bien plus long.&lt;/p&gt;</content:encoded>
<pubDate>Thu, 01 Jan 2004 19:48:21 GMT</pubDate></item>
<item><guid>http://ex.fr/2</guid><title>Sans date</title></item>
</channel></rss>)");
  auto articles = feed_articles(f, "le-feed");
  ASSERT_EQ(articles.size(), 2u);
  EXPECT_EQ(articles[0].url, "http://ex.fr/1");
  EXPECT_EQ(articles[0].title, "Titre & plus");
  EXPECT_EQ(articles[0].text, "Un texte bien plus long.");
  EXPECT_EQ(articles[0].published_ms, 1072986501000);
  EXPECT_EQ(articles[0].language, "fr");
  EXPECT_EQ(articles[0].feed, "le-feed");
  EXPECT_EQ(articles[1].url, "http://ex.fr/2");  // a permalink guid is the link
  EXPECT_EQ(articles[1].published_ms, 0);
}

// ---------------------------------------------------------------------------
// JSON

TEST(FeedJson, ShapeAndPrinting) {
  ParsedFeed f = parse_feed(
      "<rss version=\"2.0\"><channel><item><title>x</title>"
      "<pubDate>Thu, 01 Jan 2004 19:48:21 GMT</pubDate></item></channel></rss>");
  std::string json = feed_to_json(f);
  EXPECT_THAT(json, HasSubstr("\"bozo\":false"));
  EXPECT_THAT(json, HasSubstr("\"version\":\"rss20\""));
  EXPECT_THAT(json, HasSubstr("\"published_parsed\":[2004,1,1,19,48,21,3,1,0]"));
  EXPECT_EQ(json.find("bozo_exception"), std::string::npos);

  std::ostringstream out, err;
  std::string path =
      std::string(SENTINEL_SOURCE_DIR) + "/tests/data/feeds/tests/wellformed/rss/channel_title.xml";
  EXPECT_EQ(print_feed_json(path, out, err), 0);
  EXPECT_THAT(out.str(), HasSubstr("\"title\":\"Example feed\""));
  EXPECT_EQ(print_feed_json("/nonexistent/feed.xml", out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("cannot read /nonexistent/feed.xml"));
}

}  // namespace feed_parser_test
}  // namespace sentinel::intel
