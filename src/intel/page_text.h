// Main text of a web page: what a reader would call the article, without the
// navigation, header, footer, sidebars, comments and forms around it.
//
// The page is decoded to UTF-8 (byte order mark, HTTP charset, <meta
// charset>, then valid UTF-8, statistical detection, windows-1252), parsed
// with gumbo (an HTML5 parser: malformed markup parses the way browsers
// parse it), and scored readability-style: each paragraph (<p> of 25+
// characters) adds 1 + its commas + one point per 100 characters (at most 3)
// to its parent and half that to its grandparent; a container's score is
// weighted by its tag and by class/id words ("article", "content" up;
// "comment", "sidebar" down) and multiplied by (1 - link density). The best
// container's paragraphs (and those of sibling containers scoring at least a
// fifth of it), minus link-dense ones, joined with blank lines, are the
// text. With no scoring paragraph: every <p>; with no <p>: the visible text.
//
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "intel/feed_encoding.h"

namespace sentinel::intel {

struct PageText {
  std::string title;  ///< og:title, else <title>, else the first <h1>; white space collapsed
  std::string text;   ///< paragraphs joined with "\n\n"; "" when the page has no text
  std::string encoding;  ///< what the page was decoded as ("utf-8", "windows-1252", ...)
  /// How the text was found: "container" (the scored container), "paragraphs"
  /// (every <p>), "body" (visible text), "none".
  std::string method;
  size_t paragraphs = 0;  ///< paragraphs in `text`
};

/// Extracts the title and main text of `html` (bytes as fetched). `headers`
/// are the HTTP response headers (names lower-cased; the Content-Type
/// charset is used) or empty for a file. Never fails: an empty or
/// undecodable page gives an empty text.
PageText extract_main_text(std::string_view html, const FeedHeaders& headers = {});

/// Decodes an HTML page to UTF-8 (see the file comment for the order);
/// `encoding` receives the encoding used. Returns "" when nothing decodes it.
std::string html_to_utf8(std::string_view html, const FeedHeaders& headers, std::string* encoding);

}  // namespace sentinel::intel
