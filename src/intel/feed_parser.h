// Feed parser: RSS 0.90/0.91/0.92/0.93/0.94/1.0/2.0, Atom 0.3/1.0, RDF and
// CDF documents, including the ill-formed ones real sites publish (wrong or
// missing encodings, undeclared entities, unescaped '&', mismatched or
// unclosed tags, relative links, missing dates).
//
// The result has the shape of Python feedparser's parse result (the keys the
// feed test corpus's expectations address): `bozo` says the document was not
// well-formed XML (with the reason in `bozo_exception`), `version` names the
// format ("rss20", "atom10", ...), `feed` and `entries` hold what was
// understood. A well-formed document is parsed with pugixml; when that fails
// the lenient tag scanner parses it again and `bozo` is set.
//
// Pure functions of their input: thread-safe, no I/O. feed_fetcher.h gets the
// bytes and headers; feed_json.h prints the result.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "intel/article.h"
#include "intel/feed_encoding.h"
#include "intel/feed_value.h"

namespace sentinel::intel {

struct FeedParseOptions {
  /// HTTP response headers (names lower-cased); empty for a local file. They
  /// decide the encoding (Content-Type charset), the base URL
  /// (Content-Location) and the default language (Content-Language).
  FeedHeaders headers;
  /// URL the document was fetched from: the base for relative links.
  std::string href;
  /// Make relative links inside HTML content absolute.
  bool resolve_relative_uris = true;
  /// Strip scripts, event handlers, unsafe URLs and CSS from HTML content.
  bool sanitize_html = true;
};

/// What the parser understood. `feed` is a dict (title, title_detail{type,
/// language, base, value}, link, links[], subtitle, updated, updated_parsed,
/// author, author_detail, id, rights, generator_detail, image, tags[], ...);
/// `entries` a list of dicts with the same kinds of keys. Dates are kept as
/// written and, under "<name>_parsed", as a 9-int UTC time tuple (FeedTime).
struct ParsedFeed {
  bool bozo = false;
  std::string bozo_exception;  ///< why the document is ill-formed ("" when not bozo)
  std::string version;   ///< "rss20", "rss091u", "rss10", "rss090", "atom10", "atom03", ... or ""
  std::string encoding;  ///< encoding the document was read as ("" when unknown)
  FeedValue namespaces = FeedValue::dict();  ///< prefix -> namespace URI declared by the document
  FeedValue feed = FeedValue::dict();
  FeedValue::List entries;
  FeedHeaders headers;  ///< response headers given in the options
  std::string href;     ///< options.href
  int status = 0;       ///< HTTP status when the document was fetched (set by the caller), else 0
};

/// Parses one document. Never throws on bad input: whatever it cannot read
/// makes the result bozo.
ParsedFeed parse_feed(std::string_view document, const FeedParseOptions& options = {});

/// Plain text of an HTML fragment: tags dropped (script/style with their
/// content), references decoded, block elements separated by newlines,
/// runs of spaces collapsed.
std::string html_to_text(std::string_view html);

/// One Article per entry (src/intel/article.h): `url` from the entry's link,
/// `title` and `text` as plain text (text = the longest of content and
/// summary), `published_ms` from the published, else updated, else created
/// date (0 when none parsed), `language` from the entry, its content or the
/// feed. `canonical_url` is left empty for the dedup stage.
std::vector<Article> feed_articles(const ParsedFeed& feed, std::string_view feed_name);

}  // namespace sentinel::intel
