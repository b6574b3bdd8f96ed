// HTTP/1.1 server: routes exact paths (or "/prefix/*") to plain handlers,
// and exact paths to WebSocket acceptors (websocket.h).
//
// Lifecycle: construct, route()/fallback()/websocket(), start(), ..., stop()
// (or destroy). start() binds and runs `threads` I/O threads; handlers run on
// those threads, one request at a time per connection (pipelined requests are
// answered in order), so they must be short and thread-safe across connections.
// Boost.Beast lives in http_server.cpp only (pimpl).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "net/http_message.h"
#include "net/websocket.h"

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
  /// writing one request/response; the connection is closed after it. Also
  /// how long a server-initiated WebSocket close waits for the client's close
  /// frame before dropping the connection.
  std::chrono::milliseconds idle_timeout{30000};
  /// How long stop() lets in-flight responses finish before closing their
  /// connections (and WebSockets complete their close handshake).
  std::chrono::milliseconds stop_grace{2000};

  /// Payload bytes queued for one WebSocket client past which it is cut off as
  /// a slow consumer (close 1008); bounds the server's memory per client.
  uint64_t ws_max_queued_bytes = 4u << 20;
  /// Largest inbound WebSocket message (fragments joined); a bigger one closes 1009.
  uint64_t ws_max_message_bytes = 64u << 10;
  /// The server pings every WebSocket this often; a client that sent no pong
  /// for two intervals is closed with 1001 "ping timeout".
  std::chrono::milliseconds ws_ping_interval{15000};
};

/// Counters since start(), read with relaxed atomics (for /metrics).
struct HttpStats {
  uint64_t requests = 0;       ///< responses sent, one per request (including 400/413/431)
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t bytes_in = 0;       ///< request bytes (heads and bodies) consumed by the parser
  uint64_t ws_open = 0;        ///< WebSocket connections open now (between on_open and on_close)
  uint64_t ws_accepted = 0;    ///< WebSocket handshakes completed (101 sent; also counted in requests)
  uint64_t ws_closed_slow = 0; ///< WebSockets cut off as slow consumers (1008)
  uint64_t ws_messages_out = 0;  ///< WebSocket messages written to sockets
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

  /// Serves WebSockets on exact `path`: an upgrade request (GET with the
  /// RFC 6455 headers) calls `accept` on an I/O thread, which accepts with a
  /// WebSocketSession or refuses with an HttpResponse. A GET without upgrade
  /// gets 426 Upgrade Required; a bad handshake 400 (or 426 for a version
  /// other than 13); other methods go to route()s on `path`, else 405.
  /// Call before start(); throws std::logic_error after it,
  /// std::invalid_argument on a path not starting with '/', ending in "/*",
  /// registered twice, or also routed for GET.
  void websocket(std::string path, WebSocketAcceptor accept);

  /// Binds address:port and starts the I/O threads. Throws std::runtime_error
  /// naming address:port and the reason when it cannot listen, std::logic_error
  /// when called twice.
  void start();

  /// The bound port (the ephemeral one when options.port was 0); 0 before start().
  uint16_t port() const;

  /// Stops accepting, lets in-flight responses finish and closes every
  /// WebSocket with 1001 "server shutting down" (up to stop_grace), closes
  /// every connection and joins the I/O threads. No handler or WebSocket
  /// callback runs after it returns. Idempotent; must not be called from a
  /// handler (throws std::logic_error: it would join itself).
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
