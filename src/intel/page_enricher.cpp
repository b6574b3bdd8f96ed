#include "intel/page_enricher.h"

#include "intel/feed_text.h"
#include "intel/page_text.h"

namespace sentinel::intel {

namespace {

// Without a Content-Type: HTML when the start of the body looks like it.
bool looks_like_html(std::string_view body) {
  std::string head = feedtext::lower(body.substr(0, std::min<size_t>(body.size(), 1024)));
  return head.find("<!doctype html") != std::string::npos || head.find("<html") != std::string::npos ||
         head.find("<body") != std::string::npos || head.find("<p>") != std::string::npos;
}

}  // namespace

FetchOptions PageEnricherOptions::default_fetch_options() {
  FetchOptions f;
  f.connect_timeout = std::chrono::milliseconds(5'000);
  f.timeout = std::chrono::milliseconds(20'000);
  f.max_bytes = 2u << 20;
  f.max_attempts = 3;
  f.initial_backoff = std::chrono::milliseconds(2'000);
  f.max_backoff = std::chrono::milliseconds(60'000);
  f.user_agent = "Sentinel/0.1 page enricher";
  f.accept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";
  return f;
}

PageEnricher::PageEnricher(PageEnricherOptions options, FeedFetcher::Sleeper sleeper)
    : options_(std::move(options)), fetcher_(options_.fetch, std::move(sleeper)) {}

bool PageEnricher::needs_enrichment(const Article& article) const {
  return feedtext::char_count(feedtext::strip(article.text)) < options_.min_chars;
}

Result<std::optional<EnrichedPage>> PageEnricher::enrich(const Article& article) const {
  if (!needs_enrichment(article)) return std::optional<EnrichedPage>();
  const std::string& url = !article.url.empty() ? article.url : article.canonical_url;
  if (url.empty()) return make_error(std::string(kEnrichPermanent), "the article has no URL");
  FetchResult fetched = fetcher_.fetch(url);
  if (!fetched.ok()) {
    return make_error(std::string(fetched.retryable ? kEnrichTransient : kEnrichPermanent),
                      url + ": " + fetched.error + " (after " + std::to_string(fetched.attempts) + " attempt" +
                          (fetched.attempts == 1 ? "" : "s") + ")");
  }
  if (fetched.status == 304 || fetched.body.empty()) {
    return make_error(std::string(kEnrichPermanent), url + ": empty response (HTTP " +
                                                         std::to_string(fetched.status) + ")");
  }
  const std::string* ct = find_header(fetched.headers, "content-type");
  std::string media = ct != nullptr ? feedtext::lower(feedtext::strip(ct->substr(0, ct->find(';')))) : "";
  bool html = ct != nullptr ? (media == "text/html" || media == "application/xhtml+xml")
                            : looks_like_html(fetched.body);
  if (!html) {
    return make_error(std::string(kEnrichPermanent),
                      url + ": not an HTML page (" + (ct != nullptr ? *ct : std::string("no Content-Type")) + ")");
  }
  PageText page = extract_main_text(fetched.body, fetched.headers);
  if (feedtext::char_count(page.text) <= feedtext::char_count(feedtext::strip(article.text))) return std::optional<EnrichedPage>();
  EnrichedPage out;
  out.text = std::move(page.text);
  out.title = std::move(page.title);
  out.effective_url = std::move(fetched.effective_url);
  out.encoding = std::move(page.encoding);
  out.attempts = fetched.attempts;
  return std::optional<EnrichedPage>(std::move(out));
}

}  // namespace sentinel::intel
