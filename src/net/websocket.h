// WebSocket (RFC 6455) values shared by the server (http_server.h) and the
// application: the connection a route hands out, and what an acceptor returns
// to take an upgrade. No Boost type appears here; the protocol lives in
// http_server.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/http_message.h"

namespace sentinel::net {

/// Close status codes used by the server (RFC 6455 section 7.4.1); an
/// application may also use 4000-4999 (e.g. 4401 unauthorised).
struct WsCloseCode {
  static constexpr uint16_t kNormal = 1000;
  static constexpr uint16_t kGoingAway = 1001;       ///< server shutting down, ping timeout
  static constexpr uint16_t kProtocolError = 1002;
  static constexpr uint16_t kUnsupportedData = 1003; ///< binary message to a text-only route
  static constexpr uint16_t kNoStatus = 1005;        ///< close frame without a code (never sent)
  static constexpr uint16_t kAbnormal = 1006;        ///< connection lost without a close frame (never sent)
  static constexpr uint16_t kInvalidPayload = 1007;  ///< text that is not UTF-8
  static constexpr uint16_t kPolicy = 1008;          ///< slow consumer
  static constexpr uint16_t kTooBig = 1009;          ///< inbound message over ws_max_message_bytes
  static constexpr uint16_t kInternalError = 1011;   ///< a handler threw
};

/// One accepted WebSocket connection. Handed out as std::shared_ptr by
/// WebSocketSession::on_open; every method is thread-safe and never blocks on
/// the network. The object stays valid (and harmless: send() returns false)
/// after the connection closed and after the server was stopped or destroyed.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;

  /// Queues one text message (the caller guarantees UTF-8). Shared so that one
  /// buffer serves every client of a broadcast. Returns false when the
  /// connection is closed or closing, or `text` is null. When the bytes queued
  /// for this client (not yet written to its socket) would pass
  /// HttpServerOptions::ws_max_queued_bytes, the message is not queued, the
  /// queue is dropped, the connection is closed with 1008 and the reason
  /// "slow consumer: N bytes queued, limit M", and false is returned.
  virtual bool send(std::shared_ptr<const std::string> text) = 0;

  /// Starts the close handshake: messages already queued are sent, then a
  /// close frame with `code` (1000-4999; others become 1011) and `reason`
  /// (cut to 123 bytes). Idempotent; later calls and sends are ignored.
  virtual void close(uint16_t code, std::string reason) = 0;

  /// Unique within the server, from 1.
  virtual uint64_t id() const = 0;

  /// Payload bytes accepted by send() and not yet written to the socket.
  virtual size_t queued_bytes() const = 0;

  /// False once a close started (from either side) or the connection is gone.
  virtual bool is_open() const = 0;
};

/// What an acceptor returns to accept an upgrade. The callbacks run on the
/// server's I/O threads, one at a time per connection (never concurrently for
/// one connection), and never after HttpServer::stop() returned. They must be
/// short: a connection's reading waits while its callback runs. A callback that
/// throws is logged and the connection closed with 1011.
struct WebSocketSession {
  /// Echoed in Sec-WebSocket-Protocol; "" = none. Must be one the client
  /// offered (websocket_subprotocols()), else the upgrade fails with 500.
  std::string subprotocol;
  /// Called once the handshake completed, before any other callback.
  std::function<void(const std::shared_ptr<WebSocketConnection>&)> on_open;
  /// One complete text message (fragments joined, UTF-8 checked).
  std::function<void(WebSocketConnection&, std::string_view message)> on_message;
  /// Called exactly once after on_open, when the connection is gone. `code` is
  /// the close code of whichever side closed first (1005 when the client sent
  /// none, 1006 when the connection was lost without a close frame).
  std::function<void(WebSocketConnection&, uint16_t code, std::string_view reason)> on_close;
};

/// Decides on an upgrade request (on an I/O thread, after the server checked
/// the handshake headers): a WebSocketSession accepts it, an HttpResponse
/// (e.g. 401) refuses it and is sent as a normal HTTP response. It may throw:
/// the client then gets 500 and the exception is logged.
using WebSocketAcceptor = std::function<std::variant<WebSocketSession, HttpResponse>(HttpRequest&)>;

/// The subprotocols a client offered in Sec-WebSocket-Protocol, in order
/// (every such header, comma-separated, blanks trimmed, empty items dropped).
std::vector<std::string> websocket_subprotocols(const HttpRequest& request);

}  // namespace sentinel::net
