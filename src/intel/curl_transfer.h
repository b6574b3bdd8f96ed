// The libcurl plumbing shared by the HTTP clients of this module (feed
// fetcher, page enricher through it, LLM providers): global initialisation,
// owning handles, and a transfer that keeps the body up to a limit and the
// last response's headers (names lower-cased).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "intel/feed_encoding.h"

namespace sentinel::intel::curl {

/// curl_global_init, once per process (thread-safe).
void init_once();

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

/// What one transfer received. Pass it as CURLOPT_WRITEDATA and
/// CURLOPT_HEADERDATA with on_body / on_header.
struct Transfer {
  std::string body;
  FeedHeaders headers;
  size_t max_bytes = 0;
  bool too_large = false;  ///< the body passed max_bytes; the transfer was aborted
};

/// CURLOPT_WRITEFUNCTION: appends to Transfer::body, aborting past max_bytes.
size_t on_body(char* data, size_t size, size_t count, void* transfer);
/// CURLOPT_HEADERFUNCTION: keeps the headers of the last response only
/// (redirects and 100 Continue each start a new one).
size_t on_header(char* data, size_t size, size_t count, void* transfer);

/// Whether a transfer that failed with `code` may succeed when tried again
/// (timeouts, refused or reset connections, name resolution, TLS set-up).
bool is_transient(CURLcode code);

/// The delay a Retry-After header asks for (delay-seconds, capped at a year,
/// or an HTTP date); nullopt when absent or unreadable.
std::optional<std::chrono::milliseconds> retry_after(const FeedHeaders& headers);

}  // namespace sentinel::intel::curl
