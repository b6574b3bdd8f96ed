#include "intel/curl_transfer.h"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <string_view>

#include "intel/feed_dates.h"
#include "intel/feed_text.h"

namespace sentinel::intel::curl {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (feedtext::starts_with(line, "HTTP/")) {
    t->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = feedtext::lower(feedtext::strip(line.substr(0, colon)));
  if (!name.empty()) t->headers.emplace_back(std::move(name), std::string(feedtext::strip(line.substr(colon + 1))));
  return n;
}

bool is_transient(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::optional<std::chrono::milliseconds> retry_after(const FeedHeaders& headers) {
  const std::string* v = find_header(headers, "retry-after");
  if (v == nullptr) return std::nullopt;
  if (auto secs = feedtext::parse_int(*v)) {
    if (*secs < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<int64_t>(*secs, 365LL * 86400) * 1000);
  }
  if (auto t = parse_feed_date(*v)) {
    int64_t delta = feed_time_to_unix(*t) - static_cast<int64_t>(std::time(nullptr));
    return std::chrono::milliseconds(std::max<int64_t>(delta, 0) * 1000);
  }
  return std::nullopt;
}

}  // namespace sentinel::intel::curl
