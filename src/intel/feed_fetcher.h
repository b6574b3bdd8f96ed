// Feed fetcher: one HTTP(S) GET of a feed URL with libcurl, the way a polite
// aggregator does it — conditional GET (If-None-Match / If-Modified-Since
// from the validators stored for the feed), gzip/deflate, a bounded number
// of redirects, connect and total timeouts, a maximum body size, and retries
// with exponential backoff on transient failures (5xx, 408, 429, timeouts,
// connection errors), honouring Retry-After.
//
// Blocking: call it from a job worker, not an I/O thread. A FeedFetcher holds
// only its options, so one instance may be shared by threads.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "intel/feed_encoding.h"

namespace sentinel::intel {

struct FetchOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  ///< whole transfer, per attempt
  size_t max_bytes = 10u << 20;               ///< larger bodies fail (permanently)
  int max_redirects = 5;
  int max_attempts = 4;  ///< first try plus retries of transient failures
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{5 * 60'000};  ///< also caps Retry-After
  double backoff_multiplier = 2.0;
  std::string user_agent = "Sentinel/0.1 feed fetcher";
  std::string accept =
      "application/atom+xml,application/rdf+xml,application/rss+xml,application/xml;q=0.9,text/"
      "xml;q=0.2,*/*;q=0.1";
};

/// Conditional-GET state kept per feed between fetches ("" when unknown).
struct FeedValidators {
  std::string etag;           ///< ETag of the last 200 response
  std::string last_modified;  ///< Last-Modified of the last 200 response, as the server wrote it
};

struct FetchResult {
  /// "" on success: a 2xx response, or 304 when the feed has not changed.
  std::string error;
  /// The failure may go away by itself (the job can be retried later).
  bool retryable = false;
  int status = 0;  ///< final HTTP status; 0 when no response arrived
  std::string body;
  FeedHeaders headers;        ///< final response headers, names lower-cased
  std::string effective_url;  ///< URL after redirects
  /// Validators to store for the next fetch: the response's, or the ones sent
  /// when the response is 304 or did not carry them.
  FeedValidators validators;
  int attempts = 0;

  bool ok() const { return error.empty(); }
  bool not_modified() const { return ok() && status == 304; }
};

class FeedFetcher {
 public:
  /// Waits between attempts; tests inject one that records instead of sleeping.
  using Sleeper = std::function<void(std::chrono::milliseconds)>;

  explicit FeedFetcher(FetchOptions options = {}, Sleeper sleeper = {});

  /// Fetches `url` (http or https only). Transient failures are retried up to
  /// max_attempts, waiting initial_backoff, then multiplied each time (or the
  /// server's Retry-After), capped at max_backoff.
  FetchResult fetch(const std::string& url, const FeedValidators& validators = {}) const;

  const FetchOptions& options() const { return options_; }

 private:
  FetchResult attempt(const std::string& url, const FeedValidators& validators) const;

  FetchOptions options_;
  Sleeper sleeper_;
};

}  // namespace sentinel::intel
