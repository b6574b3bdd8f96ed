// WebSocket clients for tests, tools and load generators (not for the
// per-event path): a blocking one (WsClient) and many connections on one I/O
// thread (WsClientGroup). Both use Beast's websocket::stream, an
// implementation independent of the server's framing, in ws_client.cpp only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "net/http_message.h"

namespace sentinel::net {

struct WsClientOptions {
  HttpHeaders headers;                    ///< extra handshake headers (e.g. Authorization)
  std::vector<std::string> subprotocols;  ///< offered in Sec-WebSocket-Protocol, in order
  /// Bounds connect + handshake, each send, and the wait for the close handshake.
  std::chrono::milliseconds timeout{10000};
  uint64_t max_message_bytes = 64u << 20;  ///< a bigger server message fails the connection
};

/// The close frame seen from the server (code 1005 when it carried none), or
/// 1006 when the connection ended without one.
struct WsCloseInfo {
  uint16_t code = 0;
  std::string reason;
};

/// One blocking connection. Messages are read only inside receive() and
/// close(): a client that does not call them stops reading, like a stalled
/// browser (the kernel buffers fill, then the server's queue). Server pings are
/// answered while reading. Not thread-safe: one per thread.
class WsClient {
 public:
  /// Connects to ws://host:port/target. The error names the URL and says why:
  /// transport ("connect: Connection refused"), timeout, or a refused upgrade
  /// ("server answered 401 instead of 101: <body>").
  static Result<std::unique_ptr<WsClient>> connect(const std::string& host, uint16_t port,
                                                   const std::string& target,
                                                   const WsClientOptions& options = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// The subprotocol the server chose ("" = none).
  const std::string& subprotocol() const;

  /// Sends one text message; fails when closed, on a transport error or timeout.
  Status send(std::string_view text);

  /// The next text message, waiting up to `timeout`. Errors: field "timeout"
  /// (the connection stays usable), field "closed" once the connection ended
  /// (close_info() says how), or field "transport".
  Result<std::string> receive(std::chrono::milliseconds timeout);

  /// Closes with `code`/`reason` and waits (up to options.timeout) for the
  /// server's close frame; messages still unread are dropped. No-op when closed.
  Status close(uint16_t code = 1000, std::string_view reason = {});

  /// How the connection ended; empty while it is open.
  const std::optional<WsCloseInfo>& close_info() const;

  /// True until a close frame was seen or sent, or the connection failed.
  bool is_open() const;

 private:
  struct Impl;
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Many client connections served by one I/O thread, for load generators.
/// Handlers run on that thread, one at a time, so they need no lock between
/// themselves. Every client reads continuously (and answers pings).
class WsClientGroup {
 public:
  struct Handlers {
    /// A text message arrived on client `index`.
    std::function<void(size_t index, std::string_view message)> on_message;
    /// Client `index` ended; once per client that connect() opened.
    std::function<void(size_t index, const WsCloseInfo& info)> on_close;
  };

  explicit WsClientGroup(Handlers handlers);
  /// Drops every connection (without a close handshake) and joins the thread.
  ~WsClientGroup();
  WsClientGroup(const WsClientGroup&) = delete;
  WsClientGroup& operator=(const WsClientGroup&) = delete;

  /// Opens `count` more clients to ws://host:port/target, with up to
  /// `parallel` handshakes at once, and returns when all are open; indexes
  /// continue from size(). On the first failure it returns that error after
  /// the handshakes in progress ended (the clients already open stay open).
  Status connect(const std::string& host, uint16_t port, const std::string& target, size_t count,
                 const WsClientOptions& options = {}, size_t parallel = 64);

  /// Clients opened so far (open or since closed).
  size_t size() const;

  /// Clients open now.
  size_t open_count() const;

  /// Queues a text message on client `index` (any thread); dropped when that
  /// client is closed.
  void send(size_t index, std::string text);

  /// Closes every open client with 1000 and waits up to `timeout` for their
  /// close handshakes; returns how many clients are still open after it.
  size_t close_all(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::net
