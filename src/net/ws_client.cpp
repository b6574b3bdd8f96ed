// Beast implementation of the WebSocket clients. The blocking client runs
// asynchronous operations on a private io_context until they finish or a
// deadline passes (Beast's timeouts apply to asynchronous operations only);
// a read stays pending between calls, so nothing is read while the caller
// does not call receive(). The group runs every client on one thread.
#include "net/ws_client.h"
#include "net/ws_opcode.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <fmt/format.h>

namespace sentinel::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr uint16_t kAbnormalClose = 1006;
constexpr uint16_t kProtocolErrorClose = 1002;

// Handshake headers, subprotocols, limits and timeouts of `options` on `ws`.
void configure(websocket::stream<beast::tcp_stream>& ws, const WsClientOptions& options) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.timeout;  // also bounds close()
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  ws.read_message_max(options.max_message_bytes);
  ws.set_option(websocket::stream_base::decorator(
      [headers = options.headers, subprotocols = options.subprotocols](websocket::request_type& request) {
        request.set(http::field::user_agent, "sentinel-client");
        for (const auto& [name, value] : headers) request.insert(name, value);
        if (!subprotocols.empty()) {
          std::string offered;
          for (const auto& protocol : subprotocols) {
            if (!offered.empty()) offered += ", ";
            offered += protocol;
          }
          request.set(http::field::sec_websocket_protocol, offered);
        }
      }));
}

// The reason of a failed handshake, naming the server's answer when it refused.
std::string handshake_error(const beast::error_code& ec, const websocket::response_type& response) {
  if (ec == websocket::error::upgrade_declined) {
    return fmt::format("server answered {} instead of 101: {}", response.result_int(), response.body());
  }
  return "handshake: " + ec.message();
}

std::string to_string(const websocket::close_reason& reason) {
  return std::string(reason.reason.data(), reason.reason.size());
}

WsCloseInfo close_info_of(const websocket::stream<beast::tcp_stream>& ws, const beast::error_code& ec) {
  if (ec == websocket::error::closed) return WsCloseInfo{ws.reason().code, to_string(ws.reason())};
  return WsCloseInfo{kAbnormalClose, ""};
}

}  // namespace

// --- WsClient ---

struct WsClient::Impl {
  explicit Impl(WsClientOptions options_in) : options(std::move(options_in)) {}

  ~Impl() {
    // Run the handlers of the operations the close aborts (they refer to this
    // object); a timer Beast may leave armed is destroyed with the io_context.
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    ioc.restart();
    ioc.poll();
  }

  // Runs the io_context until `done()` or the deadline; returns done().
  template <typename Done>
  bool run_until(Done&& done, std::chrono::steady_clock::time_point deadline) {
    ioc.restart();
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) return done();
    }
    return true;
  }

  // The connection is unusable (timeout mid-operation, transport error): drop it.
  void fail(const std::string& why) {
    if (!close_info) close_info = WsCloseInfo{kAbnormalClose, ""};
    open = false;
    failure = why;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    run_until([this] { return !read_pending; }, std::chrono::steady_clock::time_point::max());
  }

  void start_read() {
    if (read_pending || !open) return;
    read_pending = true;
    ws.async_read(read_buffer, [this](beast::error_code ec, size_t) {
      read_pending = false;
      if (ec) {
        // During close() the close handshake's outcome is recorded there.
        if (!close_info && !closing) close_info = close_info_of(ws, ec);
        if (ec != websocket::error::closed && failure.empty()) failure = ec.message();
        open = false;
        return;
      }
      if (ws.got_text()) inbox.push_back(beast::buffers_to_string(read_buffer.data()));
      read_buffer.consume(read_buffer.size());
      start_read();
    });
  }

  Error error(const char* field, const std::string& reason) const {
    return make_error(field, fmt::format("{}: {}", url, reason));
  }

  const WsClientOptions options;
  std::string url;
  std::string subprotocol;
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer read_buffer;
  std::deque<std::string> inbox;
  bool read_pending = false;
  bool open = false;
  bool closing = false;  // close() in progress
  std::optional<WsCloseInfo> close_info;
  std::string failure;  // transport error that ended the connection
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

Result<std::unique_ptr<WsClient>> WsClient::connect(const std::string& host, uint16_t port,
                                                    const std::string& target,
                                                    const WsClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  Impl& c = *impl;
  c.url = fmt::format("ws://{}{}", authority(host, port), target);
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;

  beast::error_code ec;
  tcp::resolver resolver(c.ioc);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return c.error("connect", "resolve: " + ec.message());

  bool connected = false;
  beast::get_lowest_layer(c.ws).expires_after(options.timeout);
  beast::get_lowest_layer(c.ws).async_connect(endpoints, [&](beast::error_code connect_ec, const tcp::endpoint&) {
    ec = connect_ec;
    connected = true;
  });
  if (!c.run_until([&] { return connected; }, deadline)) return c.error("connect", "timeout");
  if (ec) return c.error("connect", "connect: " + ec.message());
  beast::get_lowest_layer(c.ws).expires_never();  // the websocket timeouts take over
  beast::error_code ignored;
  beast::get_lowest_layer(c.ws).socket().set_option(tcp::no_delay(true), ignored);

  configure(c.ws, options);
  websocket::response_type response;
  bool shaken = false;
  c.ws.async_handshake(response, authority(host, port), target, [&](beast::error_code handshake_ec) {
    ec = handshake_ec;
    shaken = true;
  });
  if (!c.run_until([&] { return shaken; }, deadline)) {
    c.fail("handshake timeout");
    return c.error("connect", "handshake timeout");
  }
  if (ec) return c.error("connect", handshake_error(ec, response));
  c.subprotocol = std::string(response[http::field::sec_websocket_protocol]);
  c.open = true;
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

const std::string& WsClient::subprotocol() const { return impl_->subprotocol; }

Status WsClient::send(std::string_view text) {
  Impl& c = *impl_;
  if (!c.open) return c.error("closed", "send on a closed connection");
  auto done = std::make_shared<std::optional<beast::error_code>>();
  c.ws.text(true);
  c.ws.async_write(asio::buffer(text.data(), text.size()),
                   [done](beast::error_code ec, size_t) { *done = ec; });
  if (!c.run_until([&] { return done->has_value(); }, std::chrono::steady_clock::now() + c.options.timeout)) {
    c.fail("send timeout");
    return c.error("timeout", "send timeout");
  }
  if (**done) {
    const std::string why = (*done)->message();
    c.fail(why);
    return c.error("transport", why);
  }
  return Ok{};
}

Result<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  Impl& c = *impl_;
  if (c.inbox.empty() && c.open) {
    c.start_read();
    c.run_until([&] { return !c.inbox.empty() || !c.open; }, std::chrono::steady_clock::now() + timeout);
  }
  if (!c.inbox.empty()) {
    std::string message = std::move(c.inbox.front());
    c.inbox.pop_front();
    return message;
  }
  if (!c.open) {
    if (!c.failure.empty()) return c.error("transport", c.failure);
    return c.error("closed", fmt::format("closed by the server: {} {}", c.close_info->code, c.close_info->reason));
  }
  return c.error("timeout", fmt::format("no message within {} ms", timeout.count()));
}

Status WsClient::close(uint16_t code, std::string_view reason) {
  Impl& c = *impl_;
  if (!c.open) return Ok{};
  auto done = std::make_shared<std::optional<beast::error_code>>();
  c.closing = true;
  c.ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), beast::string_view(reason.data(), reason.size())),
                   [done](beast::error_code ec) { *done = ec; });
  const bool finished = c.run_until([&] { return done->has_value() && !c.read_pending; },
                                    std::chrono::steady_clock::now() + c.options.timeout);
  c.inbox.clear();
  if (!finished) {
    c.fail("close timeout");
    return c.error("timeout", "close timeout");
  }
  c.open = false;
  if (!c.close_info) c.close_info = WsCloseInfo{c.ws.reason().code, to_string(c.ws.reason())};
  if (**done && **done != websocket::error::closed) return c.error("transport", (*done)->message());
  return Ok{};
}

const std::optional<WsCloseInfo>& WsClient::close_info() const { return impl_->close_info; }

bool WsClient::is_open() const { return impl_->open; }

// --- WsClientGroup ---
//
// The group's clients read frames on the raw socket, many per read call, and
// hand unfragmented text to on_message straight from the read buffer: Beast's
// websocket::stream completes every message through the io_context, which at
// 1,000 clients x 1,000 messages/s costs more than the server under test.
// Beast still writes the upgrade request and parses the 101 response.

namespace {

constexpr size_t kGroupReadChunk = 64 * 1024;

// A masked client frame (RFC 6455 section 5.3).
std::string masked_frame(uint8_t opcode, std::string_view payload, std::mt19937& prng) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  const uint32_t key = static_cast<uint32_t>(prng());
  char mask[4];
  std::memcpy(mask, &key, 4);
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
  return frame;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

}  // namespace

struct WsClientGroup::Impl {
  struct Batch;

  // One connection; touched only on the group's thread after creation.
  struct Client : std::enable_shared_from_this<Client> {
    Client(Impl& group_in, size_t index_in)
        : group(group_in), index(index_in), socket(group_in.ioc), timer(group_in.ioc), prng(std::random_device{}()) {}

    // Connect, upgrade request, 101 response; `done` gets "" or why it failed.
    void start(const std::shared_ptr<Batch>& batch, std::function<void(std::string)> done);

    void read() {
      const size_t target = std::max(rlen + kGroupReadChunk / 4, need);
      if (rbuf.size() < target) rbuf.resize(std::max(target, kGroupReadChunk));
      socket.async_read_some(asio::buffer(rbuf.data() + rlen, rbuf.size() - rlen),
                             [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_read(ec, n); });
    }

    void on_read(beast::error_code ec, size_t bytes) {
      if (ended) return;
      if (ec) return end(close_received ? close_info : WsCloseInfo{kAbnormalClose, ""});
      rlen += bytes;
      process_and_read();
    }

    // Handles every complete frame in rbuf, then reads more.
    void process_and_read() {
      size_t pos = 0;
      need = 0;
      while (!ended) {
        const uint8_t* p = rbuf.data() + pos;
        const size_t available = rlen - pos;
        if (available < 2) break;
        if ((p[1] & 0x80) != 0) return fail("server frame is masked");
        uint64_t length = p[1] & 0x7F;
        const size_t head = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0);
        if (available < head) break;
        if (length == 126) {
          length = (uint64_t{p[2]} << 8) | p[3];
        } else if (length == 127) {
          length = 0;
          for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
        }
        if (length > max_message) return fail("message exceeds max_message_bytes");
        if (available - head < length) {
          need = head + static_cast<size_t>(length);
          break;
        }
        on_frame(p[0] & 0x0F, (p[0] & 0x80) != 0,
                 std::string_view(reinterpret_cast<const char*>(p + head), static_cast<size_t>(length)));
        pos += head + static_cast<size_t>(length);
      }
      if (ended) return;
      if (pos > 0) {
        std::memmove(rbuf.data(), rbuf.data() + pos, rlen - pos);
        rlen -= pos;
      }
      read();
    }

    void on_frame(uint8_t opcode, bool fin, std::string_view payload) {
      if (opcode == kOpClose) {
        close_received = true;
        close_info.code = payload.size() >= 2 ? static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                                      static_cast<unsigned char>(payload[1]))
                                              : uint16_t{1005};
        close_info.reason = payload.size() > 2 ? std::string(payload.substr(2)) : std::string();
        // Answer (unless this was the answer), then wait for the server to close the TCP connection.
        if (!closing) {
          closing = true;
          write(masked_frame(kOpClose, payload.size() >= 2 ? payload.substr(0, 2) : std::string_view(), prng));
          arm_close_deadline();
        }
        return;
      }
      if (opcode == kOpPing) {
        if (!closing) write(masked_frame(0xA, payload, prng));
        return;
      }
      if (opcode > kOpClose) return;  // pong
      if (opcode != kOpContinuation) text = opcode == kOpText;
      if (fin && message.empty() && opcode != kOpContinuation) {
        if (text && group.handlers.on_message) group.handlers.on_message(index, payload);
        return;
      }
      message.append(payload);
      if (fin) {
        if (text && group.handlers.on_message) group.handlers.on_message(index, message);
        message.clear();
      }
    }

    void write(std::string frame) {
      outbox.push_back(std::move(frame));
      if (!writing) write_next();
    }

    void write_next() {
      writing = true;
      asio::async_write(socket, asio::buffer(outbox.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
        self->writing = false;
        self->outbox.pop_front();
        // A failed write also fails the pending read, which ends the client.
        if (!ec && !self->outbox.empty()) self->write_next();
      });
    }

    void send(std::string text) {
      if (!open || closing) return;
      write(masked_frame(kOpText, text, prng));
    }

    void close() {
      if (!open || closing) return;
      closing = true;
      write(masked_frame(kOpClose, close_payload(1000, ""), prng));
      arm_close_deadline();
    }

    void arm_close_deadline() {
      timer.expires_after(timeout);
      timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->end(self->close_received ? self->close_info : WsCloseInfo{kAbnormalClose, ""});
      });
    }

    // The server broke the protocol: drop the connection, reporting 1002 and why.
    void fail(const char* why) { end(WsCloseInfo{kProtocolErrorClose, why}); }

    void end(const WsCloseInfo& info) {
      if (ended) return;
      ended = true;
      timer.cancel();
      beast::error_code ignored;
      socket.close(ignored);
      if (!open) return;
      open = false;
      group.open.fetch_sub(1);
      if (group.handlers.on_close) group.handlers.on_close(index, info);
      std::lock_guard lock(group.mu);
      group.closed_cv.notify_all();
    }

    Impl& group;
    const size_t index;
    tcp::socket socket;
    asio::steady_timer timer;  // handshake deadline, then close deadline
    std::chrono::milliseconds timeout{0};
    uint64_t max_message = 0;
    std::mt19937 prng;  // mask keys

    // Handshake.
    http::request<http::empty_body> request;
    beast::flat_buffer handshake_buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    websocket::detail::sec_ws_key_type key;

    // Reading.
    std::vector<uint8_t> rbuf;
    size_t rlen = 0;
    size_t need = 0;
    std::string message;  // fragments of a message
    bool text = false;    // the current message is text
    WsCloseInfo close_info;
    bool close_received = false;

    std::deque<std::string> outbox;
    bool writing = false;
    bool open = false;
    bool closing = false;
    bool ended = false;
  };

  // Progress of one connect() call; touched only on the group's thread.
  struct Batch {
    std::vector<std::shared_ptr<Client>> clients;
    std::string host;
    std::string target;
    tcp::resolver::results_type endpoints;
    WsClientOptions options;
    size_t next = 0;
    size_t in_progress = 0;
    std::optional<Error> error;
    std::promise<Status> done;
  };

  explicit Impl(Handlers handlers_in)
      : handlers(std::move(handlers_in)), work(asio::make_work_guard(ioc)), thread([this] { ioc.run(); }) {}

  void start_next(const std::shared_ptr<Batch>& batch, size_t parallel) {
    while (!batch->error && batch->in_progress < parallel && batch->next < batch->clients.size()) {
      auto client = batch->clients[batch->next++];
      ++batch->in_progress;
      client->start(batch, [this, batch, client, parallel](std::string error) {
        --batch->in_progress;
        if (!error.empty()) {
          if (!batch->error) {
            batch->error = make_error("connect", fmt::format("ws://{}{} (client {}): {}", batch->host, batch->target,
                                                             client->index, error));
          }
          client->end(WsCloseInfo{kAbnormalClose, ""});
        } else {
          client->open = true;
          open.fetch_add(1);
          client->process_and_read();  // frames that came with the 101 first
        }
        start_next(batch, parallel);
      });
    }
    if (batch->in_progress == 0 && (batch->error || batch->next == batch->clients.size())) {
      if (batch->error) {
        batch->done.set_value(*batch->error);
      } else {
        batch->done.set_value(Ok{});
      }
    }
  }

  Handlers handlers;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  mutable std::mutex mu;
  std::condition_variable closed_cv;  // notified when a client ends
  std::vector<std::shared_ptr<Client>> clients;  // guarded by mu
  std::atomic<size_t> open{0};
  std::thread thread;  // last: starts once everything above exists
};

void WsClientGroup::Impl::Client::start(const std::shared_ptr<Batch>& batch, std::function<void(std::string)> done) {
  timeout = batch->options.timeout;
  max_message = batch->options.max_message_bytes;
  auto finish = std::make_shared<std::function<void(std::string)>>(std::move(done));
  timer.expires_after(timeout);
  timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->open) {
      beast::error_code ignored;
      self->socket.close(ignored);  // the pending step fails with operation_aborted
    }
  });
  asio::async_connect(socket, batch->endpoints, [self = shared_from_this(), batch, finish](beast::error_code ec,
                                                                                           const tcp::endpoint&) {
    if (ec) return (*finish)("connect: " + ec.message());
    beast::error_code ignored;
    self->socket.set_option(tcp::no_delay(true), ignored);
    websocket::detail::make_sec_ws_key(self->key);
    auto& request = self->request;
    request.method(http::verb::get);
    request.target(batch->target);
    request.version(11);
    request.set(http::field::host, batch->host);
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::sec_websocket_key, beast::string_view(self->key.data(), self->key.size()));
    request.set(http::field::sec_websocket_version, "13");
    request.set(http::field::user_agent, "sentinel-client");
    for (const auto& [name, value] : batch->options.headers) request.insert(name, value);
    if (!batch->options.subprotocols.empty()) {
      std::string offered;
      for (const auto& protocol : batch->options.subprotocols) offered += (offered.empty() ? "" : ", ") + protocol;
      request.set(http::field::sec_websocket_protocol, offered);
    }
    http::async_write(self->socket, request, [self, finish](beast::error_code write_ec, size_t) {
      if (write_ec) return (*finish)("handshake: " + write_ec.message());
      self->parser.emplace();
      http::async_read(self->socket, self->handshake_buffer, *self->parser,
                       [self, finish](beast::error_code read_ec, size_t) {
                         if (read_ec) return (*finish)("handshake: " + read_ec.message());
                         const auto& response = self->parser->get();
                         if (response.result() != http::status::switching_protocols) {
                           return (*finish)(fmt::format("server answered {} instead of 101: {}",
                                                        response.result_int(), response.body()));
                         }
                         websocket::detail::sec_ws_accept_type accept;
                         websocket::detail::make_sec_ws_accept(accept, self->key);
                         if (response[http::field::sec_websocket_accept] !=
                             beast::string_view(accept.data(), accept.size())) {
                           return (*finish)("handshake: wrong Sec-WebSocket-Accept");
                         }
                         // Frames the server sent right behind the 101.
                         const auto early = self->handshake_buffer.data();
                         self->rbuf.assign(static_cast<const uint8_t*>(early.data()),
                                           static_cast<const uint8_t*>(early.data()) + early.size());
                         self->rlen = self->rbuf.size();
                         self->handshake_buffer = {};
                         self->parser.reset();
                         self->timer.cancel();
                         (*finish)("");
                       });
    });
  });
}

WsClientGroup::WsClientGroup(Handlers handlers) : impl_(std::make_unique<Impl>(std::move(handlers))) {}

WsClientGroup::~WsClientGroup() {
  Impl& g = *impl_;
  asio::post(g.ioc, [&g] {
    std::vector<std::shared_ptr<Impl::Client>> clients;
    {
      std::lock_guard lock(g.mu);
      clients = g.clients;
    }
    for (auto& client : clients) client->end(WsCloseInfo{kAbnormalClose, ""});
  });
  g.work.reset();
  g.thread.join();
}

Status WsClientGroup::connect(const std::string& host, uint16_t port, const std::string& target, size_t count,
                              const WsClientOptions& options, size_t parallel) {
  Impl& g = *impl_;
  auto batch = std::make_shared<Impl::Batch>();
  beast::error_code ec;
  tcp::resolver resolver(g.ioc);
  batch->endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return make_error("connect", fmt::format("ws://{}{}: resolve: {}", authority(host, port), target, ec.message()));
  batch->host = authority(host, port);
  batch->target = target;
  batch->options = options;
  {
    std::lock_guard lock(g.mu);
    for (size_t i = 0; i < count; ++i) {
      batch->clients.push_back(std::make_shared<Impl::Client>(g, g.clients.size()));
      g.clients.push_back(batch->clients.back());
    }
  }
  auto done = batch->done.get_future();
  parallel = std::max<size_t>(parallel, 1);
  asio::post(g.ioc, [&g, batch, parallel] { g.start_next(batch, parallel); });
  return done.get();
}

size_t WsClientGroup::size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->clients.size();
}

size_t WsClientGroup::open_count() const { return impl_->open.load(); }

void WsClientGroup::send(size_t index, std::string text) {
  std::shared_ptr<Impl::Client> client;
  {
    std::lock_guard lock(impl_->mu);
    if (index >= impl_->clients.size()) return;
    client = impl_->clients[index];
  }
  asio::post(impl_->ioc, [client, text = std::move(text)]() mutable { client->send(std::move(text)); });
}

size_t WsClientGroup::close_all(std::chrono::milliseconds timeout) {
  Impl& g = *impl_;
  asio::post(g.ioc, [&g] {
    std::vector<std::shared_ptr<Impl::Client>> clients;
    {
      std::lock_guard lock(g.mu);
      clients = g.clients;
    }
    for (auto& client : clients) client->close();
  });
  std::unique_lock lock(g.mu);
  g.closed_cv.wait_for(lock, timeout, [&g] { return g.open.load() == 0; });
  return g.open.load();
}

}  // namespace sentinel::net
