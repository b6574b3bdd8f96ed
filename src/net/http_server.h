// HTTP/1.1 server: routes exact paths (or "/prefix/*") to plain handlers.
//
// Lifecycle: construct, route()/fallback(), start(), ..., stop() (or destroy).
// start() binds and runs `threads` I/O threads; handlers run on those threads,
// one request at a time per connection (pipelined requests are answered in
// order), so they must be short and thread-safe across connections.
// Boost.Beast lives in http_server.cpp only (pimpl).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "net/http_message.h"

namespace sentinel::net {

/// Handler for one request. It may throw: the client then gets 500 with a
/// JSON error, the exception is logged, and the server keeps serving.
using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";  ///< IP address or host name to bind
  uint16_t port = 0;                  ///< 0 = ephemeral (see HttpServer::port())
  int threads = 1;                    ///< I/O threads, >= 1
  uint64_t max_body_bytes = 16u << 20;    ///< larger bodies get 413 and the connection closed
  uint64_t max_header_bytes = 64u << 10;  ///< larger request heads get 431
  /// Longest wait for the next request on a connection, and for reading or
  /// writing one request/response; the connection is closed after it.
  std::chrono::milliseconds idle_timeout{30000};
  /// How long stop() lets in-flight responses finish before closing their connections.
  std::chrono::milliseconds stop_grace{2000};
};

/// Counters since start(), read with relaxed atomics (for /metrics).
struct HttpStats {
  uint64_t requests = 0;       ///< responses sent, one per request (including 400/413/431)
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t bytes_in = 0;       ///< request bytes (heads and bodies) consumed by the parser
};

class HttpServer {
 public:
  /// Throws std::invalid_argument when an option is out of range (threads < 1, zero limits).
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  ///< stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Registers a handler for exact `method` + `path`; a path ending in "/*"
  /// matches every path that starts with the part before '*' (the longest such
  /// prefix wins; exact paths win over prefixes). A path that matches with
  /// another method gets 405 with Allow. Call before start(); throws
  /// std::logic_error after it, std::invalid_argument on a path not starting
  /// with '/' or a duplicate method + path.
  void route(std::string method, std::string path, HttpHandler handler);

  /// Handler for GET requests whose path matches no route (e.g. static files).
  /// Without it such requests get 404. Call before start().
  void fallback(HttpHandler handler);

  /// Binds address:port and starts the I/O threads. Throws std::runtime_error
  /// naming address:port and the reason when it cannot listen, std::logic_error
  /// when called twice.
  void start();

  /// The bound port (the ephemeral one when options.port was 0); 0 before start().
  uint16_t port() const;

  /// Stops accepting, lets in-flight responses finish (up to stop_grace),
  /// closes every connection and joins the I/O threads. Idempotent; must not
  /// be called from a handler (throws std::logic_error: it would join itself).
  void stop();

  /// Snapshot of the counters; callable from any thread.
  HttpStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Parses a listen address "host:port": "127.0.0.1:8080", "[::1]:8080",
/// "localhost:80", or ":8080" (all IPv4 interfaces, host "0.0.0.0"). Port 0 is
/// allowed (ephemeral). Throws std::invalid_argument naming the text and the reason.
std::pair<std::string, uint16_t> parse_listen_address(const std::string& text);

}  // namespace sentinel::net
