#include "intel/feed_fetcher.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "intel/feed_dates.h"
#include "intel/curl_transfer.h"
#include "intel/feed_text.h"

namespace sentinel::intel {

namespace {


bool transient_status(int status) {
  return status >= 500 || status == 429 || status == 408;
}

}  // namespace

FeedFetcher::FeedFetcher(FetchOptions options, Sleeper sleeper)
    : options_(std::move(options)), sleeper_(std::move(sleeper)) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  curl::init_once();
}

FetchResult FeedFetcher::attempt(const std::string& url, const FeedValidators& validators) const {
  FetchResult result;
  result.validators = validators;
  curl::Easy curl(curl_easy_init());
  if (!curl) {
    result.error = "cannot create an HTTP client handle";
    result.retryable = true;
    return result;
  }
  curl::Transfer transfer;
  transfer.max_bytes = options_.max_bytes;
  curl_slist* raw_headers = nullptr;
  raw_headers = curl_slist_append(raw_headers, ("Accept: " + options_.accept).c_str());
  if (!validators.etag.empty())
    raw_headers = curl_slist_append(raw_headers, ("If-None-Match: " + validators.etag).c_str());
  if (!validators.last_modified.empty()) {
    raw_headers =
        curl_slist_append(raw_headers, ("If-Modified-Since: " + validators.last_modified).c_str());
  }
  curl::Slist headers(raw_headers);

  CURL* c = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(options_.max_redirects));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_bytes));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl::on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl::on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  CURLcode code = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  result.status = static_cast<int>(status);
  result.effective_url = effective != nullptr ? effective : url;
  result.headers = std::move(transfer.headers);

  if (code != CURLE_OK) {
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      result.error = "response larger than " + std::to_string(options_.max_bytes) + " bytes";
      result.retryable = false;
    } else if (code == CURLE_TOO_MANY_REDIRECTS) {
      result.error = "more than " + std::to_string(options_.max_redirects) + " redirects";
      result.retryable = false;
    } else {
      result.error = std::string(curl_easy_strerror(code)) +
                     (error_buffer[0] != 0 ? std::string(": ") + error_buffer : "");
      result.retryable = curl::is_transient(code);
    }
    return result;
  }
  if (result.status == 304) return result;  // unchanged: keep the validators we sent
  if (result.status < 200 || result.status >= 300) {
    result.error = "HTTP status " + std::to_string(result.status);
    result.retryable = transient_status(result.status);
    return result;
  }
  result.body = std::move(transfer.body);
  if (const std::string* etag = find_header(result.headers, "etag");
      etag != nullptr && !etag->empty()) {
    result.validators.etag = *etag;
  }
  if (const std::string* lm = find_header(result.headers, "last-modified");
      lm != nullptr && !lm->empty()) {
    result.validators.last_modified = *lm;
  }
  return result;
}

FetchResult FeedFetcher::fetch(const std::string& url, const FeedValidators& validators) const {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  const int max_attempts = std::max(1, options_.max_attempts);
  FetchResult result;
  for (int n = 1;; ++n) {
    result = attempt(url, validators);
    result.attempts = n;
    if (result.ok() || !result.retryable || n >= max_attempts) return result;
    std::chrono::milliseconds delay = backoff;
    if (auto after = curl::retry_after(result.headers);
        after && (result.status == 429 || result.status == 503)) {
      delay = *after;
    }
    sleeper_(std::min(delay, options_.max_backoff));
    auto next = static_cast<double>(backoff.count()) * options_.backoff_multiplier;
    backoff = std::chrono::milliseconds(
        static_cast<int64_t>(std::min(next, static_cast<double>(options_.max_backoff.count()))));
  }
}

}  // namespace sentinel::intel
