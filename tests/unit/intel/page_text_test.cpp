// Main-text extraction on small handwritten pages: a news page with
// navigation, comments and a sidebar; a page without <article>; malformed
// markup; pages in other encodings; the fallbacks.
#include "intel/page_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace sentinel::intel {
namespace page_text_test {

using ::testing::HasSubstr;
using ::testing::Not;

const char* const kNewsPage = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Two hurt in Pilsen shooting | Example News</title>
<meta property="og:title" content="Two hurt in Pilsen shooting">
<script>var tracking = "do not read this, it is a script with commas, many, many";</script>
<style>p { color: red }</style></head>
<body>
<header><a href="/">Example News</a><p>Breaking news, weather, traffic and sports from around the city.</p></header>
<nav><ul><li><a href="/metro">Metro</a></li><li><a href="/sports">Sports</a></li></ul>
  <p>Navigation paragraph that is long enough to count, with commas, and more words.</p></nav>
<div class="layout">
  <article class="story">
    <h1>Two hurt in Pilsen shooting</h1>
    <p>Two men were wounded in a shooting in the 1800 block of South Blue Island Avenue on Saturday night, police said.</p>
    <p>The men, 24 and 31, were standing outside when someone in a passing car opened fire, according to police.</p>
    <p>Both were taken to Stroger Hospital in fair condition. No one was in custody, and detectives were investigating.</p>
    <div class="share-tools"><p><a href="/share">Share this story on social media, by email, or print it</a></p></div>
    <section id="comments"><h2>Comments</h2>
      <p>Reader comment: this neighbourhood has changed so much, and not for the better, in my opinion.</p>
      <p>Another reader comment, which is long, opinionated, and full of commas, as comments are.</p>
    </section>
  </article>
  <aside class="sidebar"><h3>Most read</h3>
    <p><a href="/a">Sidebar story one with a long headline that goes on and on</a></p>
    <p>Sidebar teaser text that is long enough to be scored, with commas, and with more words.</p></aside>
</div>
<footer><p>Copyright Example News. All rights reserved, everywhere, always, forever.</p></footer>
<form><p>Subscribe to our newsletter for daily updates, offers, and more news.</p></form>
</body></html>)";

TEST(PageTextTest, NewsPageKeepsTheArticleOnly) {
  PageText p = extract_main_text(kNewsPage);
  EXPECT_EQ(p.title, "Two hurt in Pilsen shooting");
  EXPECT_EQ(p.method, "container");
  EXPECT_EQ(p.encoding, "utf-8");
  EXPECT_EQ(p.paragraphs, 3u);
  EXPECT_EQ(p.text,
            "Two men were wounded in a shooting in the 1800 block of South Blue Island Avenue on Saturday night, "
            "police said.\n\n"
            "The men, 24 and 31, were standing outside when someone in a passing car opened fire, according to "
            "police.\n\n"
            "Both were taken to Stroger Hospital in fair condition. No one was in custody, and detectives were "
            "investigating.");
  for (const char* noise : {"Reader comment", "Sidebar", "Navigation", "Copyright", "newsletter", "tracking",
                            "Share this", "Breaking news", "color"}) {
    EXPECT_THAT(p.text, Not(HasSubstr(noise))) << noise;
  }
}

TEST(PageTextTest, PageWithoutArticleElementUsesTheBestContainer) {
  const char* html = R"(<html><head><title>Robbery on the Red Line</title></head><body>
    <div id="menu"><a href="/">Home</a> <a href="/news">News</a></div>
    <div class="main-content">
      <div class="entry-text">
        <p>A man was robbed at gunpoint on a Red Line train near the Garfield station early Sunday, police said.</p>
        <p>The robber took his phone and wallet, then fled at the next stop, according to a police report.</p>
      </div>
      <div class="related-links"><p><a href="/1">Related: another robbery, on another train, last week</a></p></div>
    </div>
    <div class="promo"><p>Get our app for breaking news alerts, weather, and traffic, free today.</p></div>
    </body></html>)";
  PageText p = extract_main_text(html);
  EXPECT_EQ(p.title, "Robbery on the Red Line");
  EXPECT_EQ(p.method, "container");
  EXPECT_THAT(p.text, HasSubstr("robbed at gunpoint"));
  EXPECT_THAT(p.text, HasSubstr("\n\nThe robber took"));
  EXPECT_THAT(p.text, Not(HasSubstr("Related")));
  EXPECT_THAT(p.text, Not(HasSubstr("Get our app")));
  EXPECT_THAT(p.text, Not(HasSubstr("Home")));
}

TEST(PageTextTest, MalformedMarkupStillYieldsText) {
  // Unclosed paragraphs and divs, a stray end tag, an unterminated comment-like
  // fragment and attributes without quotes: gumbo parses it as browsers do.
  const char* html = "<html><title>Fire</title><body><div class=story><p>A fire damaged a two-flat in "
                     "Austin on Monday, firefighters said, and displaced six people.<p>No one was hurt, "
                     "officials said, and the cause was under investigation.</span></div></div><p><b>Bold "
                     "<i>nested text, with commas, that is long enough</b></i> to be counted here";
  PageText p = extract_main_text(html);
  EXPECT_EQ(p.title, "Fire");
  EXPECT_THAT(p.text, HasSubstr("A fire damaged a two-flat in Austin on Monday"));
  EXPECT_THAT(p.text, HasSubstr("\n\nNo one was hurt"));
}

TEST(PageTextTest, Latin1PageDeclaredInMeta) {
  std::string html =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"
      "<title>Ataque en Bogot\xE1</title></head><body><article><p>Un ataque con explosivos en Bogot\xE1 "
      "dej\xF3 tres heridos el s\xE1" "bado, seg\xFAn la polic\xED" "a nacional.</p></article></body></html>";
  PageText p = extract_main_text(html);
  EXPECT_EQ(p.encoding, "windows-1252");
  EXPECT_EQ(p.title, "Ataque en Bogot\xC3\xA1");
  EXPECT_THAT(p.text, HasSubstr("Bogot\xC3\xA1 dej\xC3\xB3 tres heridos el s\xC3\xA1" "bado, seg\xC3\xBAn"));
}

TEST(PageTextTest, HttpCharsetAndUndeclaredEncodings) {
  // windows-1251 from the Content-Type header.
  std::string cyrillic = "<html><body><p>\xCF\xF0\xE8\xE2\xE5\xF2, \xEC\xE8\xF0! This paragraph is long enough "
                         "to be a paragraph.</p></body></html>";
  PageText p = extract_main_text(cyrillic, {{"content-type", "text/html; charset=windows-1251"}});
  EXPECT_EQ(p.encoding, "windows-1251");
  EXPECT_THAT(p.text, HasSubstr("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"));  // Привет
  // A header that lies (says UTF-8, bytes are Latin-1): the next candidate decodes it.
  std::string latin = "<html><body><p>Caf\xE9 owner robbed on Tuesday night, police said, near the corner.</p></body></html>";
  PageText q = extract_main_text(latin, {{"content-type", "text/html; charset=utf-8"}});
  EXPECT_FALSE(q.encoding.empty());
  EXPECT_NE(q.encoding, "utf-8");
  EXPECT_THAT(q.text, HasSubstr("Caf\xC3\xA9 owner robbed"));
}

TEST(PageTextTest, FallsBackToParagraphsThenBodyText) {
  PageText short_ps = extract_main_text("<html><body><p>Short one.</p><div><p>Short two.</p></div></body></html>");
  EXPECT_EQ(short_ps.method, "paragraphs");
  EXPECT_EQ(short_ps.text, "Short one.\n\nShort two.");
  PageText no_p = extract_main_text("<html><body><div>First block of text</div><div>Second <b>block</b></div>"
                                    "<nav>menu</nav></body></html>");
  EXPECT_EQ(no_p.method, "body");
  EXPECT_EQ(no_p.text, "First block of text\n\nSecond block");
  PageText empty = extract_main_text("");
  EXPECT_EQ(empty.text, "");
  EXPECT_EQ(empty.method, "none");
}

TEST(PageTextTest, DeepNestingDoesNotExhaustTheStack) {
  std::string html = "<html><body>";
  for (int i = 0; i < 5000; ++i) html += "<div>";
  html += "<p>Deep paragraph, with commas, long enough to count as article text.</p>";
  PageText p = extract_main_text(html);
  EXPECT_THAT(p.text, HasSubstr("Deep paragraph"));
}

TEST(PageTextTest, HiddenElementsAreSkipped) {
  const char* html = R"(<html><body><article>
    <p>Visible paragraph about the incident, with enough words to be scored properly.</p>
    <p style="display: none">Hidden paragraph, with enough words to be scored, but hidden.</p>
    <p hidden>Another hidden paragraph, with enough words to count, if it were shown.</p>
    </article></body></html>)";
  PageText p = extract_main_text(html);
  EXPECT_THAT(p.text, HasSubstr("Visible paragraph"));
  EXPECT_THAT(p.text, Not(HasSubstr("hidden")));
}

}  // namespace page_text_test
}  // namespace sentinel::intel
