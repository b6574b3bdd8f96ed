// Beast/Asio implementation of HttpServer and its WebSocket connections.
//
// Threading: one io_context run by `threads` threads. The acceptor and each
// connection (Session, WsSession) live on their own strand, so a connection's
// state is only touched by one thread at a time and needs no lock. The
// connection registry (used by stop()) is shared, under sessions_mu; the one
// other shared structure is a WebSocket's send queue (WsConnection::mu_),
// which application threads fill. Lock order: lifecycle_mu before
// sessions_mu; a WsConnection's mu_ is a leaf (nothing is called under it
// but asio::post).
//
// A Session reads one request (head, optional 100 Continue, body), calls the
// handler inline, writes the response, then reads the next: pipelined requests
// wait in the read buffer and are answered in order. An upgrade request on a
// WebSocket path hands the socket to a WsSession and ends the Session.
//
// WebSocket: Beast writes the 101 response (websocket::stream::async_accept),
// then the frames are read and written here on the raw socket, because Beast
// 1.74 writes each message with its own send call and answers pings from
// inside its read operation, so it cannot batch: a broadcast of 1,000
// messages/s to 1,000 clients needs many messages per send call (on loopback
// a send call costs ~5-15 us of kernel time, a 512-byte message's copy
// ~0.05 us). A WsSession writes what is queued, up to kMaxBatchBytes, in one
// send call, control frames first: frame heads and small payloads are copied
// into one buffer, large payloads are referenced. Messages are shared_ptrs,
// so the bytes of a broadcast exist once however many clients queue them.
#include "net/http_server.h"
#include "net/ws_opcode.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "net/net_log.h"

namespace sentinel::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kServerName = "sentinel";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After the last response on a connection the server stops sending but keeps
// reading (and discarding) for a while: closing with unread upload bytes would
// make the kernel send a reset, which can destroy the response (e.g. a 413)
// before the client has read it (RFC 9112 section 9.6).
constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr size_t kDrainChunk = 64 * 1024;
// Pause before accepting again after an accept error such as EMFILE, so the
// loop does not spin while descriptors are exhausted.
constexpr std::chrono::milliseconds kAcceptRetry{50};

std::string host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

HttpResponse limit_error(int status, const char* what, uint64_t limit) {
  HttpResponse response;
  response.status = status;
  nlohmann::ordered_json body;
  body["error"] = fmt::format("{} exceeds {} bytes", what, limit);
  body["limit"] = limit;
  response.body = body.dump();
  return response;
}

bool is_http_error(const beast::error_code& ec) {
  static const boost::system::error_category& category =
      http::make_error_code(http::error::bad_method).category();
  return &ec.category() == &category;
}

// Headers the server owns: a handler setting them would break the framing.
bool is_reserved_header(beast::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection") || beast::iequals(name, "server");
}

bool has_control_chars(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// The server whose I/O thread this is (nullptr elsewhere): stop() refuses to
// run on it, since it would wait for itself. Checked before any lock, so a
// handler calling stop() while another thread is stopping cannot deadlock.
thread_local const void* t_serving_server = nullptr;

struct Route {
  std::vector<std::pair<std::string, HttpHandler>> methods;
};

// --- WebSocket framing (RFC 6455 section 5) ---

// One write: at most this many bytes (unless one message is bigger), and at
// most Asio's 64 buffers per send call. Payloads up to kInlinePayload are
// copied into the write buffer; larger ones are written from the shared string.
constexpr size_t kMaxBatchBytes = 64 * 1024;
constexpr size_t kInlinePayload = 4096;
constexpr size_t kMaxPieces = 64;
constexpr size_t kKeptWriteBuffer = 8 * 1024;  // capacity an idle connection keeps
constexpr size_t kMaxFrameHead = 10;       // server frames are not masked
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;
constexpr size_t kReadChunk = 4096;
constexpr size_t kSecWebSocketKeySize = 24;  // base64 of 16 bytes

// Writes the head of an unmasked, final frame; returns its length.
size_t frame_head(uint8_t* out, uint8_t opcode, uint64_t length) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (length < 126) {
    out[1] = static_cast<uint8_t>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(length >> 8);
    out[3] = static_cast<uint8_t>(length);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(length >> (8 * (7 - i)));
  return 10;
}

void append_control_frame(std::string& out, uint8_t opcode, std::string_view payload) {
  uint8_t head[kMaxFrameHead];
  const size_t head_size = frame_head(head, opcode, payload.size());
  out.append(reinterpret_cast<const char*>(head), head_size);
  out.append(payload);
}

// Codes an endpoint may put in a close frame (RFC 6455 section 7.4, IANA registry).
bool is_sendable_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

bool is_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

// A close reason fits a control frame and is UTF-8: cut at a character
// boundary, dropped when not UTF-8.
std::string fit_close_reason(std::string reason) {
  if (reason.size() > kMaxCloseReason) {
    size_t cut = kMaxCloseReason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason.resize(cut);
  }
  if (!is_utf8(reason)) reason.clear();
  return reason;
}

// The close frame for `code` (1005 = no status: an empty close frame).
std::string close_frame(uint16_t code, std::string_view reason) {
  std::string payload;
  if (code != WsCloseCode::kNoStatus) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason);
  }
  std::string frame;
  append_control_frame(frame, kOpClose, payload);
  return frame;
}

}  // namespace

std::vector<std::string> websocket_subprotocols(const HttpRequest& request) {
  std::vector<std::string> out;
  for (const auto& [name, value] : request.headers) {
    if (name != "sec-websocket-protocol") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string_view item(value.data() + start, comma - start);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      start = comma + 1;
    }
  }
  return out;
}

struct HttpServer::Impl {
  class Connection;
  class Session;
  class WsConnection;
  class WsSession;

  explicit Impl(HttpServerOptions opts)
      : options(std::move(opts)),
        ioc(options.threads),
        acceptor(asio::make_strand(ioc)),
        accept_retry(acceptor.get_executor()) {}

  HttpResponse dispatch(HttpRequest& request) const;
  const WebSocketAcceptor* find_websocket(const std::string& path) const {
    auto it = websocket_routes.find(path);
    return it == websocket_routes.end() ? nullptr : &it->second;
  }
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void request_stop_all(bool force);
  void record(int status) {
    requests.fetch_add(1, std::memory_order_relaxed);
    if (status >= 500) {
      responses_5xx.fetch_add(1, std::memory_order_relaxed);
    } else if (status >= 400) {
      responses_4xx.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const HttpServerOptions options;
  // Routes are written before start() and only read afterwards: no lock.
  std::unordered_map<std::string, Route> exact_routes;
  std::vector<std::pair<std::string, Route>> prefix_routes;  // longest prefix first after start()
  HttpHandler fallback;
  std::unordered_map<std::string, WebSocketAcceptor> websocket_routes;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint16_t> bound_port{0};
  std::atomic<uint64_t> ws_open{0};
  std::atomic<uint64_t> ws_accepted{0};
  std::atomic<uint64_t> ws_closed_slow{0};
  std::atomic<uint64_t> ws_messages_out{0};
  std::atomic<uint64_t> next_ws_id{1};

  std::mutex lifecycle_mu;  // serialises start() and stop()
  enum class State { kIdle, kRunning, kStopped };
  State state = State::kIdle;  // guarded by lifecycle_mu
  std::vector<std::thread> threads;

  std::mutex sessions_mu;
  std::condition_variable sessions_cv;  // notified when `sessions` becomes empty
  // Every live connection, HTTP or WebSocket; guarded by sessions_mu.
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions;
  std::atomic<bool> stopping{false};  // written under sessions_mu

  // Declared last so that it is destroyed first: handlers it still holds may
  // own connections, whose destructors use the registry above.
  asio::io_context ioc;
  tcp::acceptor acceptor;          // on its own strand
  asio::steady_timer accept_retry; // on the acceptor's strand
};

// A registered connection: stop() reaches every one through the registry,
// which it leaves when destroyed.
class HttpServer::Impl::Connection {
 public:
  explicit Connection(Impl& server) : server_(server) {}
  virtual ~Connection() {
    std::lock_guard lock(server_.sessions_mu);
    server_.sessions.erase(this);
    if (server_.sessions.empty()) server_.sessions_cv.notify_all();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Asks the connection to end (callable from any thread): gracefully, or at
  /// once when `force`.
  virtual void request_stop(bool force) = 0;

 protected:
  Impl& server_;
};

class HttpServer::Impl::Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket, std::string remote_address)
      : Connection(server), stream_(std::move(socket)), remote_address_(std::move(remote_address)) {}

  /// Starts serving; callable from any thread.
  void start() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->read_next(); });
  }

  /// Asks the session to end: at once when it waits for a request (or lingers),
  /// after the current response otherwise; `force` closes it even mid-response.
  void request_stop(bool force) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), force] {
      self->stop_requested_ = true;
      if (force || self->phase_ != Phase::kWriting) self->close();
    });
  }

 private:
  enum class Phase { kIdle, kReading, kWriting, kLingering, kClosed };

  void read_next() {
    if (stop_requested_ || phase_ == Phase::kClosed) {
      close();
      return;
    }
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<uint64_t>(server_.options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t bytes) {
    server_.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle();
    const auto& head = parser_->get();
    if (head.version() >= 11 && beast::iequals(head[http::field::expect], "100-continue")) {
      // The client waits for this before sending the body (curl does for large POSTs).
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code write_ec, size_t) {
                          if (write_ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, size_t bytes) {
    server_.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    if (ec) return on_read_error(ec);
    handle();
  }

  void on_read_error(const beast::error_code& ec) {
    const uint64_t max_body = server_.options.max_body_bytes;
    const uint64_t max_header = server_.options.max_header_bytes;
    if (ec == http::error::body_limit) {
      send(limit_error(413, "request body", max_body), false);
    } else if (ec == http::error::header_limit) {
      send(limit_error(431, "request head", max_header), false);
    } else if (is_http_error(ec) && ec != http::error::end_of_stream &&
               ec != http::error::partial_message && !stop_requested_) {
      send(make_json_error(400, "malformed request: " + ec.message()), false);
    } else {
      // The peer closed or reset, the idle timeout passed, or stop() closed
      // the socket: nobody is left to answer.
      close();
    }
  }

  void handle() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    version_ = message.version();
    if (request.method == "GET") {
      if (const WebSocketAcceptor* accept = server_.find_websocket(request.path)) {
        return handle_websocket(message, request, *accept);
      }
    }
    send(server_.dispatch(request), message.keep_alive());
  }

  // Checks the handshake (so that the acceptor sees only valid upgrades and
  // every refusal has the JSON error shape), asks the acceptor, and on
  // acceptance hands the socket to a WsSession, which writes the 101.
  void handle_websocket(http::request<http::string_body>& message, HttpRequest& request,
                        const WebSocketAcceptor& accept) {
    if (!websocket::is_upgrade(message)) {
      HttpResponse response = make_json_error(426, "WebSocket upgrade required for " + request.path);
      response.headers.emplace_back("Upgrade", "websocket");
      response.headers.emplace_back("Sec-WebSocket-Version", "13");
      return send(std::move(response), message.keep_alive());
    }
    // A refused upgrade ends the connection: WebSocket clients do not reuse
    // it, and some (Beast's) wait for the server to close it.
    constexpr bool keep_alive = false;
    if (message[http::field::sec_websocket_version] != "13") {
      HttpResponse response = make_json_error(426, "unsupported WebSocket version (this server speaks 13)");
      response.headers.emplace_back("Sec-WebSocket-Version", "13");
      return send(std::move(response), keep_alive);
    }
    if (message[http::field::host].empty()) {
      return send(make_json_error(400, "WebSocket handshake without Host"), keep_alive);
    }
    if (message[http::field::sec_websocket_key].size() != kSecWebSocketKeySize) {
      return send(make_json_error(400, "WebSocket handshake: missing or malformed Sec-WebSocket-Key"),
                  keep_alive);
    }

    const std::string path = request.path;
    std::optional<WebSocketSession> session;
    try {
      auto decision = accept(request);
      if (auto* refusal = std::get_if<HttpResponse>(&decision)) return send(std::move(*refusal), keep_alive);
      session.emplace(std::move(std::get<WebSocketSession>(decision)));
    } catch (const std::exception& e) {
      net_log()->error("websocket acceptor for {} threw: {}", path, e.what());
    } catch (...) {
      net_log()->error("websocket acceptor for {} threw a non-standard exception", path);
    }
    if (!session) return send(make_json_error(500, "internal error handling GET " + path), keep_alive);
    if (!session->subprotocol.empty()) {
      const auto offered = websocket_subprotocols(request);
      if (std::find(offered.begin(), offered.end(), session->subprotocol) == offered.end()) {
        net_log()->error("websocket acceptor for {} chose subprotocol \"{}\" the client did not offer", path,
                         session->subprotocol);
        return send(make_json_error(500, "internal error handling GET " + path), keep_alive);
      }
    }
    upgrade(std::move(message), std::move(*session));
  }

  void upgrade(http::request<http::string_body> message, WebSocketSession session);

  void send(HttpResponse response, bool keep_alive) {
    if (response.status < 200 || response.status > 599) {
      net_log()->error("handler returned invalid HTTP status {}; sending 500", response.status);
      response = make_json_error(500, fmt::format("handler returned invalid status {}", response.status));
    }
    server_.record(response.status);

    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(http::field::server, kServerName);
    // 204 and 304 carry no body and (RFC 9110 8.6) a 204 no Content-Length.
    const bool bodyless = response.status == 204 || response.status == 304;
    if (!bodyless && !response.content_type.empty()) {
      response_.set(http::field::content_type, response.content_type);
    }
    for (auto& [name, value] : response.headers) {
      if (name.empty() || has_control_chars(name) || has_control_chars(value) ||
          is_reserved_header(name)) {
        net_log()->warn("dropping response header \"{}\": reserved or contains control characters",
                        name);
        continue;
      }
      if (beast::iequals(name, "content-type")) {
        response_.set(http::field::content_type, value);  // overrides `content_type`
      } else {
        response_.insert(name, value);
      }
    }
    if (!bodyless) {
      response_.body() = std::move(response.body);
      response_.prepare_payload();
    }
    response_.keep_alive(keep_alive && !stop_requested_);

    phase_ = Phase::kWriting;
    stream_.expires_after(server_.options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), close_after = !response_.keep_alive()](
                          beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        if (close_after || self->stop_requested_) return self->linger();
                        self->read_next();
                      });
  }

  // Half-close and drain until the client closes or kLingerTimeout passes.
  void linger() {
    phase_ = Phase::kLingering;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (stop_requested_) return close();
    drain_.resize(kDrainChunk);
    stream_.expires_after(kLingerTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    phase_ = Phase::kClosed;
    if (upgraded_) return;  // the socket belongs to a WsSession now
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // kept alive until its write completes
  std::vector<char> drain_;
  const std::string remote_address_;
  unsigned version_ = 11;  // of the current request; error replies before a head use 1.1
  Phase phase_ = Phase::kIdle;
  bool stop_requested_ = false;
  bool upgraded_ = false;
};

// The application's handle on one WebSocket: the send queue, shared between
// application threads (send, close) and the WsSession's strand (which drains
// it). Holds no Asio object, so it outlives the server harmlessly.
class HttpServer::Impl::WsConnection final : public WebSocketConnection {
 public:
  WsConnection(uint64_t id, uint64_t max_queued) : id_(id), max_queued_(max_queued) {}

  bool send(std::shared_ptr<const std::string> text) override;
  void close(uint16_t code, std::string reason) override;
  uint64_t id() const override { return id_; }
  size_t queued_bytes() const override {
    std::lock_guard lock(mu_);
    return queued_;
  }
  bool is_open() const override {
    std::lock_guard lock(mu_);
    return open_;
  }

 private:
  friend class WsSession;

  struct CloseRequest {
    uint16_t code;
    std::string reason;
    bool slow;  // cut off by send(): count and log it
  };

  // Posts `fn` to the session's strand; with mu_ held and open_ true. The
  // temporary reference taken here is never the last one, so the session is
  // never destroyed on an application thread: until finish() (which needs
  // mu_, and ends open_) a pending read or the close timer holds the session.
  template <typename Fn>
  void post_locked(Fn fn);

  const uint64_t id_;
  const uint64_t max_queued_;
  mutable std::mutex mu_;
  bool open_ = false;  // accepting send(); false before on_open and once closing
  std::deque<std::shared_ptr<const std::string>> queue_;  // not yet taken by a write
  uint64_t queued_ = 0;  // payload bytes in queue_ plus those of the write in flight
  bool pump_scheduled_ = false;  // a pump() is posted or a write is in flight: it will see queue_
  std::optional<CloseRequest> close_request_;
  std::weak_ptr<WsSession> session_;
};

// One WebSocket connection on its strand: the 101 handshake (through Beast),
// then frames read and written on the raw socket.
//
// Lifecycle: start() -> handshake -> on_open -> reading, pinging and writing
// -> close handshake (either side) -> finish(): socket closed, on_close once.
// A close started here (begin_close) sends what is queued unless it discards
// it, then the close frame, then a FIN, and waits up to idle_timeout for the
// client's close frame or EOF. A close started by the client is answered
// (queue dropped) and the socket closed as soon as the answer is written.
class HttpServer::Impl::WsSession : public Connection, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Impl& server, tcp::socket socket, WebSocketSession callbacks, std::string remote_address,
            std::string_view early_bytes)
      : Connection(server),
        strand_(socket.get_executor()),
        socket_(std::move(socket)),
        callbacks_(std::move(callbacks)),
        remote_address_(std::move(remote_address)),
        connection_(std::make_shared<WsConnection>(server.next_ws_id.fetch_add(1),
                                                   server.options.ws_max_queued_bytes)),
        ping_timer_(strand_),
        close_timer_(strand_),
        rbuf_(early_bytes.begin(), early_bytes.end()),
        rbuf_len_(early_bytes.size()) {
    pieces_.reserve(kMaxPieces);
    buffers_.reserve(kMaxPieces);
  }

  /// Starts the handshake on the strand; callable from any thread.
  void start(http::request<http::string_body> request) {
    {
      std::lock_guard lock(connection_->mu_);
      connection_->session_ = weak_from_this();
    }
    asio::post(strand_, [self = shared_from_this(), request = std::move(request)]() mutable {
      self->handshake(std::move(request));
    });
  }

  void request_stop(bool force) override {
    asio::post(strand_, [self = shared_from_this(), force] {
      self->stop_requested_ = true;
      if (self->finished_) return;
      if (!self->opened_) {
        // Mid-handshake: on_handshake sees stop_requested_ and closes.
        if (force && self->handshake_) beast::get_lowest_layer(*self->handshake_).close();
        return;
      }
      if (force) {
        if (self->close_started_) return self->finish(self->close_code_, self->close_reason_);
        return self->finish(WsCloseCode::kGoingAway, "server shutting down");
      }
      self->begin_close(WsCloseCode::kGoingAway, "server shutting down", true);
    });
  }

  const asio::any_io_executor& strand() const { return strand_; }

  /// Writes what is queued (on the strand).
  void pump();

  /// Starts the close an application thread asked for (on the strand).
  void take_close_request() {
    std::optional<WsConnection::CloseRequest> request;
    {
      std::lock_guard lock(connection_->mu_);
      request.swap(connection_->close_request_);
    }
    if (!request || close_started_ || finished_) return;
    if (request->slow) {
      server_.ws_closed_slow.fetch_add(1, std::memory_order_relaxed);
      net_log()->warn("websocket {} from {}: {}; closing", connection_->id(), remote_address_, request->reason);
    }
    begin_close(request->code, std::move(request->reason), request->slow);
  }

 private:
  void handshake(http::request<http::string_body> request) {
    if (stop_requested_) return close_socket();
    request_ = std::move(request);
    handshake_ = std::make_unique<websocket::stream<beast::tcp_stream>>(std::move(socket_));
    handshake_->set_option(websocket::stream_base::decorator(
        [subprotocol = callbacks_.subprotocol](websocket::response_type& response) {
          response.set(http::field::server, kServerName);
          if (!subprotocol.empty()) response.set(http::field::sec_websocket_protocol, subprotocol);
        }));
    beast::get_lowest_layer(*handshake_).expires_after(server_.options.idle_timeout);
    handshake_->async_accept(request_, beast::bind_front_handler(&WsSession::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    // Beast sent the 101; from here the socket is ours again.
    socket_ = beast::get_lowest_layer(*handshake_).release_socket();
    handshake_.reset();
    request_ = {};
    if (ec || stop_requested_) {
      if (ec) net_log()->debug("websocket handshake with {} failed: {}", remote_address_, ec.message());
      return close_socket();
    }
    server_.record(101);
    server_.ws_accepted.fetch_add(1, std::memory_order_relaxed);
    server_.ws_open.fetch_add(1, std::memory_order_relaxed);
    opened_ = true;
    last_pong_ = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(connection_->mu_);
      connection_->open_ = true;
    }
    if (callbacks_.on_open && !call("on_open", [&] { callbacks_.on_open(connection_); })) {
      begin_close(WsCloseCode::kInternalError, "internal error", true);
    }
    if (!close_started_) arm_ping();
    // Bytes the client sent right behind its upgrade request.
    if (rbuf_len_ > 0 && !process_input()) return;
    read();
  }

  // Runs an application callback; logs and returns false when it throws.
  template <typename Fn>
  bool call(const char* what, Fn&& fn) {
    try {
      fn();
      return true;
    } catch (const std::exception& e) {
      net_log()->error("websocket {} {} threw: {}", connection_->id(), what, e.what());
    } catch (...) {
      net_log()->error("websocket {} {} threw a non-standard exception", connection_->id(), what);
    }
    return false;
  }

  void arm_ping() {
    ping_timer_.expires_after(server_.options.ws_ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_ || self->close_started_) return;
      const auto silent = std::chrono::steady_clock::now() - self->last_pong_;
      if (silent >= 2 * self->server_.options.ws_ping_interval) {
        return self->begin_close(WsCloseCode::kGoingAway, "ping timeout", true);
      }
      self->ping_due_ = true;
      self->pump();
      self->arm_ping();
    });
  }

  // Starts a close from this side: no more sends accepted; `discard` drops
  // what is queued, else it goes out before the close frame.
  void begin_close(uint16_t code, std::string reason, bool discard) {
    if (close_started_ || finished_) return;
    close_started_ = true;
    close_code_ = code;
    close_reason_ = fit_close_reason(std::move(reason));
    {
      std::lock_guard lock(connection_->mu_);
      connection_->open_ = false;
      if (discard) {
        for (const auto& message : connection_->queue_) connection_->queued_ -= message->size();
        connection_->queue_.clear();
      }
    }
    ping_timer_.cancel();
    close_timer_.expires_after(server_.options.idle_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->finish(self->close_code_, self->close_reason_);
    });
    pump();
  }

  void on_write(beast::error_code ec, size_t) {
    writing_ = false;
    if (finished_) return;
    if (ec) {
      if (close_started_) return finish(close_code_, close_reason_);
      return finish(WsCloseCode::kAbnormal, "");
    }
    {
      std::lock_guard lock(connection_->mu_);
      connection_->queued_ -= batch_payload_;
    }
    server_.ws_messages_out.fetch_add(batch_.size(), std::memory_order_relaxed);
    batch_.clear();
    batch_payload_ = 0;
    if (batch_has_close_) {
      batch_has_close_ = false;
      close_frame_sent_ = true;
      if (peer_close_received_) return finish(close_code_, close_reason_);
      // The FIN tells the client no more frames follow; it answers with its
      // close frame and closes, which ends the read loop.
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    pump();
  }

  void read() {
    if (finished_) return;
    const size_t target = std::max(rbuf_len_ + kReadChunk, need_);
    if (rbuf_.size() < target) rbuf_.resize(target);
    socket_.async_read_some(asio::buffer(rbuf_.data() + rbuf_len_, rbuf_.size() - rbuf_len_),
                            beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t bytes) {
    if (finished_) return;
    if (ec) {
      // EOF or reset: the end of a close handshake, or a client gone without one.
      if (close_started_) return finish(close_code_, close_reason_);
      return finish(peer_close_received_ ? close_code_ : WsCloseCode::kAbnormal,
                    peer_close_received_ ? close_reason_ : "");
    }
    if (discard_input_) {
      read();
      return;
    }
    rbuf_len_ += bytes;
    if (!process_input()) return;
    read();
  }

  // Stops interpreting input after a protocol violation: the close frame with
  // `code` goes out, then the read loop only waits for EOF.
  void fail_input(uint16_t code, std::string reason) {
    discard_input_ = true;
    rbuf_len_ = 0;
    need_ = 0;
    message_.clear();
    if (!close_started_) {
      net_log()->debug("websocket {} from {}: {}; closing {}", connection_->id(), remote_address_, reason, code);
    }
    begin_close(code, std::move(reason), true);
  }

  // Handles every complete frame in rbuf_. Returns false when reading must
  // stop (the client's close frame arrived, or the session finished).
  bool process_input();

  // A client frame head whose RSV bits (no extension is negotiated) and mask
  // bit were checked.
  struct FrameHead {
    bool fin = false;
    uint8_t opcode = 0;
    uint64_t length = 0;
  };
  // Decodes a frame head whose bytes (up to the mask key) are all in the buffer.
  static FrameHead parse_head(const uint8_t* p);
  // The close code and reason when `frame` breaks RFC 6455 or the limits.
  std::optional<std::pair<uint16_t, std::string>> check(const FrameHead& frame) const;

  // Handles one frame whose payload (masked) is at `payload`. Returns false as process_input().
  bool on_frame(uint8_t opcode, bool fin, const uint8_t* mask, const uint8_t* payload, size_t length);

  void finish(uint16_t code, std::string reason) {
    if (finished_) return;
    finished_ = true;
    {
      std::lock_guard lock(connection_->mu_);
      connection_->open_ = false;
      connection_->queue_.clear();
      connection_->queued_ = 0;
      connection_->close_request_.reset();
      connection_->pump_scheduled_ = true;  // nothing to post any more
    }
    ping_timer_.cancel();
    close_timer_.cancel();
    close_socket();
    if (opened_) {
      server_.ws_open.fetch_sub(1, std::memory_order_relaxed);
      if (callbacks_.on_close) {
        call("on_close", [&] { callbacks_.on_close(*connection_, code, reason); });
      }
    }
    // Release what the application's callbacks hold as soon as possible.
    callbacks_ = {};
  }

  void close_socket() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  const asio::any_io_executor strand_;
  tcp::socket socket_;
  WebSocketSession callbacks_;
  const std::string remote_address_;
  const std::shared_ptr<WsConnection> connection_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> handshake_;  // during the handshake only
  http::request<http::string_body> request_;                        // during the handshake only
  asio::steady_timer ping_timer_;
  asio::steady_timer close_timer_;
  std::chrono::steady_clock::time_point last_pong_;

  // Reading.
  std::vector<uint8_t> rbuf_;
  size_t rbuf_len_ = 0;
  size_t need_ = 0;          // bytes of the incomplete frame at the start of rbuf_, 0 = unknown
  std::string message_;      // text message being assembled from fragments
  bool in_message_ = false;  // a text message started and has not had its final frame

  // Writing: the batch in flight.
  // A piece of the write: out_[offset, offset + length), or all of *payload.
  struct Piece {
    size_t offset;
    size_t length;
    const std::string* payload;
  };
  std::string out_;  // control frames, frame heads and small payloads
  std::vector<std::shared_ptr<const std::string>> batch_;  // messages in the write, held until written
  std::vector<Piece> pieces_;
  std::vector<asio::const_buffer> buffers_;
  uint64_t batch_payload_ = 0;   // their payload bytes
  bool batch_has_close_ = false;
  std::optional<std::string> pong_;  // payload of the latest unanswered ping
  bool ping_due_ = false;
  bool writing_ = false;

  // State.
  bool opened_ = false;               // on_open called: on_close is owed
  bool stop_requested_ = false;
  bool close_started_ = false;        // close_code_/close_reason_ set, no more sends
  bool close_frame_queued_ = false;   // the close frame is in a write (or written)
  bool close_frame_sent_ = false;
  bool peer_close_received_ = false;
  bool discard_input_ = false;
  bool finished_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
};

template <typename Fn>
void HttpServer::Impl::WsConnection::post_locked(Fn fn) {
  if (auto session = session_.lock()) {
    asio::post(session->strand(), [session, fn] { (session.get()->*fn)(); });
  }
}

bool HttpServer::Impl::WsConnection::send(std::shared_ptr<const std::string> text) {
  if (!text) return false;
  std::lock_guard lock(mu_);
  if (!open_) return false;
  if (queued_ + text->size() > max_queued_) {
    open_ = false;
    const uint64_t would_queue = queued_ + text->size();
    for (const auto& message : queue_) queued_ -= message->size();
    queue_.clear();
    close_request_ = CloseRequest{WsCloseCode::kPolicy,
                                  fmt::format("slow consumer: {} bytes queued, limit {}", would_queue, max_queued_),
                                  true};
    post_locked(&WsSession::take_close_request);
    return false;
  }
  queued_ += text->size();
  queue_.push_back(std::move(text));
  if (!pump_scheduled_) {
    pump_scheduled_ = true;
    post_locked(&WsSession::pump);
  }
  return true;
}

void HttpServer::Impl::WsConnection::close(uint16_t code, std::string reason) {
  if (!is_sendable_close_code(code)) {
    net_log()->warn("websocket {}: close code {} cannot be sent; using 1011", id_, code);
    code = WsCloseCode::kInternalError;
  }
  std::lock_guard lock(mu_);
  if (!open_) return;
  open_ = false;
  close_request_ = CloseRequest{code, std::move(reason), false};
  post_locked(&WsSession::take_close_request);
}

void HttpServer::Impl::WsSession::pump() {
  if (writing_ || finished_) return;
  out_.clear();
  pieces_.clear();
  buffers_.clear();
  size_t segment_start = 0;
  auto end_segment = [&] {
    if (out_.size() > segment_start) pieces_.push_back({segment_start, out_.size() - segment_start, nullptr});
    segment_start = out_.size();
  };
  if (!close_frame_queued_) {
    if (pong_) append_control_frame(out_, kOpPong, *pong_);
    if (ping_due_) append_control_frame(out_, kOpPing, {});
  }
  pong_.reset();
  ping_due_ = false;
  {
    // Only the messages are taken under the lock (send() waits for it); they
    // are copied after it.
    std::lock_guard lock(connection_->mu_);
    if (!close_frame_queued_) {
      auto& queue = connection_->queue_;
      size_t bytes = out_.size();
      size_t referenced = 0;
      while (!queue.empty()) {
        const size_t size = queue.front()->size();
        if (!batch_.empty() && bytes + kMaxFrameHead + size > kMaxBatchBytes) break;
        // A referenced payload takes two pieces (it and the copied bytes
        // before it); one more stays free for the tail.
        if (size > kInlinePayload && 2 * (referenced + 1) + 1 > kMaxPieces) break;
        referenced += size > kInlinePayload ? 1 : 0;
        bytes += kMaxFrameHead + size;
        batch_payload_ += size;
        batch_.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      batch_has_close_ = close_started_ && queue.empty();
    }
    if (out_.empty() && batch_.empty() && !batch_has_close_) {
      connection_->pump_scheduled_ = false;
      if (out_.capacity() > kKeptWriteBuffer) std::string().swap(out_);
      return;
    }
    connection_->pump_scheduled_ = true;  // on_write pumps again
  }
  for (const auto& message : batch_) {
    const std::string& payload = *message;
    uint8_t head[kMaxFrameHead];
    out_.append(reinterpret_cast<const char*>(head), frame_head(head, kOpText, payload.size()));
    if (payload.size() <= kInlinePayload) {
      out_.append(payload);
    } else {
      end_segment();
      pieces_.push_back({0, payload.size(), &payload});
    }
  }
  if (batch_has_close_) {
    close_frame_queued_ = true;
    out_ += close_frame(close_code_, close_reason_);
  }
  end_segment();
  for (const Piece& piece : pieces_) {
    buffers_.emplace_back(piece.payload != nullptr ? piece.payload->data() : out_.data() + piece.offset, piece.length);
  }
  writing_ = true;
  asio::async_write(socket_, buffers_, beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

bool HttpServer::Impl::WsSession::process_input() {
  size_t pos = 0;
  bool keep_reading = true;
  need_ = 0;
  while (keep_reading && !finished_ && !discard_input_) {
    const uint8_t* p = rbuf_.data() + pos;
    const size_t available = rbuf_len_ - pos;
    if (available < 2) {
      need_ = 2;
      break;
    }
    // Checked on the first two bytes: an unmasked frame's head is shorter
    // than the masked head waited for below.
    if ((p[0] & 0x70) != 0) {
      fail_input(WsCloseCode::kProtocolError, "reserved bits set");
      break;
    }
    if ((p[1] & 0x80) == 0) {
      fail_input(WsCloseCode::kProtocolError, "client frame not masked");
      break;
    }
    const size_t head = 2 + ((p[1] & 0x7F) == 126 ? 2 : (p[1] & 0x7F) == 127 ? 8 : 0) + 4;
    if (available < head) {
      need_ = head;
      break;
    }
    FrameHead frame = parse_head(p);
    if (auto violation = check(frame)) {
      fail_input(violation->first, std::move(violation->second));
      break;
    }
    if (available - head < frame.length) {
      need_ = head + static_cast<size_t>(frame.length);
      break;
    }
    keep_reading = on_frame(frame.opcode, frame.fin, p + head - 4, p + head, static_cast<size_t>(frame.length));
    pos += head + static_cast<size_t>(frame.length);
  }
  if (discard_input_ || finished_) {
    rbuf_len_ = 0;
    need_ = 0;
    return !finished_;
  }
  if (pos > 0) {
    std::memmove(rbuf_.data(), rbuf_.data() + pos, rbuf_len_ - pos);
    rbuf_len_ -= pos;
  }
  return keep_reading;
}

HttpServer::Impl::WsSession::FrameHead HttpServer::Impl::WsSession::parse_head(const uint8_t* p) {
  FrameHead frame;
  frame.fin = (p[0] & 0x80) != 0;
  frame.opcode = p[0] & 0x0F;
  frame.length = p[1] & 0x7F;
  if (frame.length == 126) {
    frame.length = (uint64_t{p[2]} << 8) | p[3];
  } else if (frame.length == 127) {
    frame.length = 0;
    for (int i = 0; i < 8; ++i) frame.length = (frame.length << 8) | p[2 + i];
  }
  return frame;
}

std::optional<std::pair<uint16_t, std::string>> HttpServer::Impl::WsSession::check(const FrameHead& frame) const {
  using Violation = std::pair<uint16_t, std::string>;
  if (frame.opcode >= kOpClose) {
    if (frame.opcode > kOpPong) return Violation{WsCloseCode::kProtocolError, "unknown opcode"};
    if (!frame.fin) return Violation{WsCloseCode::kProtocolError, "fragmented control frame"};
    if (frame.length > kMaxControlPayload) {
      return Violation{WsCloseCode::kProtocolError, "control frame longer than 125 bytes"};
    }
    return std::nullopt;
  }
  if (frame.opcode > kOpBinary) return Violation{WsCloseCode::kProtocolError, "unknown opcode"};
  if (frame.opcode == kOpContinuation && !in_message_) {
    return Violation{WsCloseCode::kProtocolError, "continuation frame without a message"};
  }
  if (frame.opcode != kOpContinuation && in_message_) {
    return Violation{WsCloseCode::kProtocolError, "new message before the previous one ended"};
  }
  if (frame.opcode == kOpBinary) return Violation{WsCloseCode::kUnsupportedData, "binary messages are not supported"};
  // Checked before the payload is buffered, so an oversized frame costs no memory.
  const uint64_t max_message = server_.options.ws_max_message_bytes;
  if (frame.length > max_message || message_.size() + frame.length > max_message) {
    return Violation{WsCloseCode::kTooBig, fmt::format("message exceeds {} bytes", max_message)};
  }
  return std::nullopt;
}

bool HttpServer::Impl::WsSession::on_frame(uint8_t opcode, bool fin, const uint8_t* mask, const uint8_t* payload,
                                           size_t length) {
  auto unmask_into = [&](std::string& out) {
    const size_t old = out.size();
    out.resize(old + length);
    char* dst = out.data() + old;
    for (size_t i = 0; i < length; ++i) dst[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
  };
  switch (opcode) {
    case kOpText:
    case kOpContinuation: {
      in_message_ = !fin;
      if (close_started_) {  // closing: the application no longer hears from this client
        message_.clear();
        return true;
      }
      unmask_into(message_);
      if (!fin) return true;
      if (!is_utf8(message_)) {
        fail_input(WsCloseCode::kInvalidPayload, "text message is not UTF-8");
        return true;
      }
      if (callbacks_.on_message) {
        const bool ok = call("on_message", [&] { callbacks_.on_message(*connection_, message_); });
        message_.clear();
        if (!ok) {
          begin_close(WsCloseCode::kInternalError, "internal error", true);
        } else if (!connection_->is_open()) {
          take_close_request();  // closed from within on_message: hear no more messages
        }
      }
      message_.clear();
      return true;
    }
    case kOpPing: {
      std::string data;
      unmask_into(data);
      if (!close_started_) {
        pong_ = std::move(data);  // only the latest ping needs an answer (RFC 6455 5.5.3)
        pump();
      }
      return true;
    }
    case kOpPong:
      last_pong_ = std::chrono::steady_clock::now();
      return true;
    case kOpClose: {
      std::string data;
      unmask_into(data);
      uint16_t code = WsCloseCode::kNoStatus;
      std::string reason;
      if (data.size() == 1) {
        fail_input(WsCloseCode::kProtocolError, "close frame with a 1-byte payload");
        return true;
      }
      if (data.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<unsigned char>(data[0]) << 8) | static_cast<unsigned char>(data[1]));
        reason = data.substr(2);
        if (!is_sendable_close_code(code)) {
          fail_input(WsCloseCode::kProtocolError, fmt::format("invalid close code {}", code));
          return true;
        }
        if (!is_utf8(reason)) {
          fail_input(WsCloseCode::kInvalidPayload, "close reason is not UTF-8");
          return true;
        }
      }
      peer_close_received_ = true;
      if (!close_started_) {
        // Answer with the client's code; once the answer is written, finish().
        begin_close(code, std::move(reason), true);
      } else if (close_frame_sent_) {
        finish(close_code_, close_reason_);
      }
      return false;
    }
    default:
      return true;  // unreachable: process_input() rejected other opcodes
  }
}

void HttpServer::Impl::Session::upgrade(http::request<http::string_body> message, WebSocketSession session) {
  // Bytes behind the request in the buffer belong to the WebSocket (a client
  // must wait for the 101, but a hasty one is not punished).
  const auto early = buffer_.data();
  std::string_view early_bytes(static_cast<const char*>(early.data()), early.size());
  auto ws = std::make_shared<WsSession>(server_, stream_.release_socket(), std::move(session), remote_address_,
                                        early_bytes);
  buffer_.consume(buffer_.size());
  upgraded_ = true;
  phase_ = Phase::kClosed;
  {
    std::lock_guard lock(server_.sessions_mu);
    if (!server_.stopping.load()) {
      server_.sessions.emplace(ws.get(), ws);
      ws->start(std::move(message));
    }
  }
  // Refused while stopping: destroyed here (closing the socket), outside the lock its destructor takes.
  ws.reset();
}

HttpResponse HttpServer::Impl::dispatch(HttpRequest& request) const {
  const Route* route = nullptr;
  if (auto it = exact_routes.find(request.path); it != exact_routes.end()) {
    route = &it->second;
  } else {
    for (const auto& [prefix, candidate] : prefix_routes) {
      if (request.path.compare(0, prefix.size(), prefix) == 0) {
        route = &candidate;
        break;
      }
    }
  }

  // A WebSocket path answers GET (handled before dispatch) besides its routes.
  const bool websocket_path = find_websocket(request.path) != nullptr;
  const HttpHandler* handler = nullptr;
  if (route != nullptr || websocket_path) {
    if (route != nullptr) {
      for (const auto& [method, method_handler] : route->methods) {
        if (method == request.method) handler = &method_handler;
      }
    }
    if (handler == nullptr) {
      std::string allow = websocket_path ? "GET" : "";
      if (route != nullptr) {
        for (const auto& entry : route->methods) {
          if (!allow.empty()) allow += ", ";
          allow += entry.first;
        }
      }
      HttpResponse response =
          make_json_error(405, "method " + request.method + " not allowed for " + request.path);
      response.headers.emplace_back("Allow", std::move(allow));
      return response;
    }
  } else if (fallback && request.method == "GET") {
    handler = &fallback;
  } else {
    return make_json_error(404, "no route for " + request.method + " " + request.path);
  }

  // The handler may move these out of the request; keep them for the error path.
  const std::string method = request.method;
  const std::string path = request.path;
  try {
    return (*handler)(request);
  } catch (const std::exception& e) {
    net_log()->error("handler for {} {} threw: {}", method, path, e.what());
  } catch (...) {
    net_log()->error("handler for {} {} threw a non-standard exception", method, path);
  }
  return make_json_error(500, "internal error handling " + method + " " + path);
}

void HttpServer::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        beast::bind_front_handler(&Impl::on_accept, this));
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load()) return;
  if (ec) {
    net_log()->warn("accept on port {} failed: {}; retrying", bound_port.load(), ec.message());
    accept_retry.expires_after(kAcceptRetry);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping.load()) do_accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto endpoint = socket.remote_endpoint(ignored);
  auto session = std::make_shared<Session>(*this, std::move(socket),
                                           ignored ? std::string() : endpoint.address().to_string());
  {
    std::lock_guard lock(sessions_mu);
    if (!stopping.load()) {
      sessions.emplace(session.get(), session);
      session->start();
    }
  }
  // A session refused above is destroyed here, outside the lock its destructor takes.
  session.reset();
  do_accept();
}

void HttpServer::Impl::request_stop_all(bool force) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(sessions_mu);
    live.reserve(sessions.size());
    for (auto& [ptr, weak] : sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) session->request_stop(force);
  // `live` may hold the last references: released here, outside the lock.
}

HttpServer::HttpServer(HttpServerOptions options) {
  if (options.threads < 1) {
    throw std::invalid_argument(fmt::format("http server: threads must be >= 1, got {}", options.threads));
  }
  if (options.max_body_bytes == 0 || options.max_header_bytes == 0) {
    throw std::invalid_argument("http server: max_body_bytes and max_header_bytes must be > 0");
  }
  if (options.idle_timeout.count() <= 0) {
    throw std::invalid_argument("http server: idle_timeout must be > 0");
  }
  if (options.ws_max_queued_bytes == 0 || options.ws_max_message_bytes == 0) {
    throw std::invalid_argument("http server: ws_max_queued_bytes and ws_max_message_bytes must be > 0");
  }
  if (options.ws_ping_interval.count() <= 0) {
    throw std::invalid_argument("http server: ws_ping_interval must be > 0");
  }
  impl_ = std::make_unique<Impl>(std::move(options));
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->state != Impl::State::kIdle) {
    throw std::logic_error("HttpServer::route(" + method + " " + path + ") after start()");
  }
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("http route \"" + path + "\": path must start with '/'");
  }
  if (method.empty()) throw std::invalid_argument("http route \"" + path + "\": empty method");
  Route* route = nullptr;
  if (path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0) {
    std::string prefix = path.substr(0, path.size() - 1);
    auto it = std::find_if(impl_->prefix_routes.begin(), impl_->prefix_routes.end(),
                           [&](const auto& entry) { return entry.first == prefix; });
    if (it == impl_->prefix_routes.end()) {
      impl_->prefix_routes.emplace_back(std::move(prefix), Route{});
      route = &impl_->prefix_routes.back().second;
    } else {
      route = &it->second;
    }
  } else {
    route = &impl_->exact_routes[path];
  }
  for (const auto& entry : route->methods) {
    if (entry.first == method) {
      throw std::invalid_argument("http route " + method + " " + path + " registered twice");
    }
  }
  if (method == "GET" && impl_->websocket_routes.count(path) != 0) {
    throw std::invalid_argument("http route GET " + path + ": the path is a WebSocket route");
  }
  route->methods.emplace_back(std::move(method), std::move(handler));
}

void HttpServer::websocket(std::string path, WebSocketAcceptor accept) {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->state != Impl::State::kIdle) {
    throw std::logic_error("HttpServer::websocket(" + path + ") after start()");
  }
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("websocket route \"" + path + "\": path must start with '/'");
  }
  if (path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0) {
    throw std::invalid_argument("websocket route \"" + path + "\": only exact paths are supported");
  }
  if (!accept) throw std::invalid_argument("websocket route \"" + path + "\": empty acceptor");
  if (impl_->websocket_routes.count(path) != 0) {
    throw std::invalid_argument("websocket route " + path + " registered twice");
  }
  if (auto it = impl_->exact_routes.find(path); it != impl_->exact_routes.end()) {
    for (const auto& entry : it->second.methods) {
      if (entry.first == "GET") {
        throw std::invalid_argument("websocket route " + path + ": GET " + path + " is already routed");
      }
    }
  }
  impl_->websocket_routes.emplace(std::move(path), std::move(accept));
}

void HttpServer::fallback(HttpHandler handler) {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->state != Impl::State::kIdle) throw std::logic_error("HttpServer::fallback() after start()");
  impl_->fallback = std::move(handler);
}

void HttpServer::start() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.lifecycle_mu);
  if (impl.state != Impl::State::kIdle) {
    throw std::logic_error("HttpServer::start(): already started (a server cannot be restarted)");
  }
  std::stable_sort(impl.prefix_routes.begin(), impl.prefix_routes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

  const std::string where = host_port(impl.options.address, impl.options.port);
  auto fail = [&](const std::string& reason) {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    return std::runtime_error("cannot listen on " + where + ": " + reason);
  };
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(impl.options.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, impl.options.port);
  } else {
    // Not a literal address: resolve the host name (start-up only, so blocking is fine).
    tcp::resolver resolver(impl.ioc);
    auto results = resolver.resolve(impl.options.address, std::to_string(impl.options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) throw fail(ec ? ec.message() : "host not found");
    endpoint = results.begin()->endpoint();
  }
  impl.acceptor.open(endpoint.protocol(), ec);
  if (ec) throw fail(ec.message());
  impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) throw fail(ec.message());
  impl.acceptor.bind(endpoint, ec);
  if (ec) throw fail(ec.message());
  impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw fail(ec.message());
  impl.bound_port.store(impl.acceptor.local_endpoint().port());

  impl.do_accept();
  impl.threads.reserve(static_cast<size_t>(impl.options.threads));
  for (int i = 0; i < impl.options.threads; ++i) {
    impl.threads.emplace_back([&impl] {
      t_serving_server = &impl;
      for (;;) {
        try {
          impl.ioc.run();
          return;
        } catch (const std::exception& e) {
          // Handlers catch what they can; this keeps the thread serving after anything else.
          net_log()->error("http I/O thread caught: {}", e.what());
        }
      }
    });
  }
  impl.state = Impl::State::kRunning;
}

uint16_t HttpServer::port() const { return impl_->bound_port.load(); }

void HttpServer::stop() {
  Impl& impl = *impl_;
  if (t_serving_server == &impl) {
    throw std::logic_error("HttpServer::stop() called from one of its own I/O threads");
  }
  std::lock_guard lock(impl.lifecycle_mu);
  if (impl.state != Impl::State::kRunning) return;
  {
    std::lock_guard sessions_lock(impl.sessions_mu);
    impl.stopping.store(true);
  }
  asio::post(impl.acceptor.get_executor(), [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.accept_retry.cancel();
  });
  impl.request_stop_all(false);
  {
    std::unique_lock sessions_lock(impl.sessions_mu);
    impl.sessions_cv.wait_for(sessions_lock, impl.options.stop_grace,
                              [&impl] { return impl.sessions.empty(); });
  }
  impl.request_stop_all(true);
  // With the acceptor and every connection closed the io_context runs out of
  // work and each thread's run() returns.
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  impl.state = Impl::State::kStopped;
}

HttpStats HttpServer::stats() const {
  HttpStats stats;
  stats.requests = impl_->requests.load(std::memory_order_relaxed);
  stats.responses_4xx = impl_->responses_4xx.load(std::memory_order_relaxed);
  stats.responses_5xx = impl_->responses_5xx.load(std::memory_order_relaxed);
  stats.bytes_in = impl_->bytes_in.load(std::memory_order_relaxed);
  stats.ws_open = impl_->ws_open.load(std::memory_order_relaxed);
  stats.ws_accepted = impl_->ws_accepted.load(std::memory_order_relaxed);
  stats.ws_closed_slow = impl_->ws_closed_slow.load(std::memory_order_relaxed);
  stats.ws_messages_out = impl_->ws_messages_out.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace sentinel::net
