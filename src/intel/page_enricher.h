// PageEnricher: when a feed gave only a snippet (an article text under
// `min_chars` characters), fetch the article's page and take its main text
// (page_text.h) instead.
//
// The fetch is FeedFetcher's (feed_fetcher.h): connect and total timeouts, a
// maximum body size, retries with exponential backoff on transient failures
// honouring Retry-After, and an Accept header asking for HTML. Only HTML
// answers (text/html, application/xhtml+xml, or no Content-Type with an
// HTML-looking body) are read.
//
// Errors carry their kind in the field, for the job queue's retry policy:
// "enrich.transient" (timeouts, refused connections, 408/429/5xx after the
// fetcher's own retries) and "enrich.permanent" (404, other 4xx, a page
// larger than the limit, a body that is not HTML, a bad URL).
//
// Blocking (call from a job worker). Holds only its options and the
// fetcher, so one instance may be shared by threads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "intel/article.h"
#include "intel/feed_fetcher.h"

namespace sentinel::intel {

inline constexpr std::string_view kEnrichTransient = "enrich.transient";
inline constexpr std::string_view kEnrichPermanent = "enrich.permanent";

/// Whether retrying the enrichment later can help.
inline bool enrich_error_is_transient(const Error& e) { return e.field == kEnrichTransient; }

struct PageEnricherOptions {
  /// Articles whose text has fewer characters (code points) than this are enriched.
  size_t min_chars = 500;
  /// The fetch: HTML Accept, 2 MiB, 5 s connect / 20 s total, 3 attempts
  /// from 2 s backoff (capped at 60 s, also for Retry-After).
  FetchOptions fetch = default_fetch_options();

  static FetchOptions default_fetch_options();
};

/// The page text that replaces a snippet.
struct EnrichedPage {
  std::string text;           ///< main text of the page, paragraphs separated by blank lines
  std::string title;          ///< the page's title ("" when none)
  std::string effective_url;  ///< the page's URL after redirects
  std::string encoding;       ///< what the page was decoded as
  int attempts = 0;           ///< HTTP attempts the fetch took
};

class PageEnricher {
 public:
  explicit PageEnricher(PageEnricherOptions options = {}, FeedFetcher::Sleeper sleeper = {});

  /// True when `article`'s text is under min_chars characters.
  bool needs_enrichment(const Article& article) const;

  /// Fetches the page of `article` (its url, else its canonical_url) when it
  /// needs enrichment. nullopt: nothing to change (the text is long enough,
  /// or the page's main text is not longer than the article's).
  Result<std::optional<EnrichedPage>> enrich(const Article& article) const;

  const PageEnricherOptions& options() const { return options_; }

 private:
  PageEnricherOptions options_;
  FeedFetcher fetcher_;
};

}  // namespace sentinel::intel
