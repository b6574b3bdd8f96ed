// Small blocking HTTP/1.1 client for tests, tools and benchmarks (not for the
// per-event path). Beast lives in http_client.cpp only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_message.h"

namespace sentinel::net {

/// One keep-alive connection to host:port, opened on first use and reopened
/// when the server closed it. Not thread-safe: one per thread.
class HttpClient {
 public:
  /// `timeout` bounds each of connect, send and receive of every request.
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request and returns the complete response (any status).
  /// Adds Host, and Content-Type application/json when `body` is not empty
  /// and `headers` has none; `headers` are added as given. When a reused
  /// connection turns out closed before any response byte arrived, it is
  /// reopened and the request sent once more. Throws std::runtime_error
  /// naming the method, URL and reason on a transport error or timeout.
  HttpResponse request(std::string_view method, std::string_view target,
                       std::string_view body = {}, const HttpHeaders& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One request on a fresh connection (HttpClient without reuse); throws as HttpClient::request.
HttpResponse http_request(const std::string& host, uint16_t port, std::string_view method,
                          std::string_view target, std::string_view body = {},
                          const HttpHeaders& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace sentinel::net
