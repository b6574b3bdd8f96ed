// WebSocket routes of HttpServer, checked with the Beast-based WsClient (an
// independent implementation of the protocol) and with raw frames for what a
// well-behaved client would never send.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net_test_support.h"

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/ws_client.h"

namespace sentinel::net {
namespace websocket_test {

using test_socket::kTestTimeout;
using test_socket::must_return;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;



std::shared_ptr<const std::string> shared(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

/// A sequence number as the 12-character prefix of a message.
std::string fmt_seq(size_t i) {
  char text[24];
  std::snprintf(text, sizeof text, "%012zu", i);
  return text;
}

/// What the server's callbacks saw, for every connection of a route.
class Recorder {
 public:
  struct Closed {
    uint64_t id;
    uint16_t code;
    std::string reason;
  };

  /// A session recording everything; `on_message` (optional) runs after recording.
  WebSocketSession session(std::string subprotocol = "",
                           std::function<void(WebSocketConnection&, std::string_view)> on_message = {}) {
    WebSocketSession s;
    s.subprotocol = std::move(subprotocol);
    s.on_open = [this](const std::shared_ptr<WebSocketConnection>& connection) {
      std::lock_guard lock(mu_);
      opened_.push_back(connection);
      cv_.notify_all();
    };
    s.on_message = [this, on_message](WebSocketConnection& connection, std::string_view message) {
      {
        std::lock_guard lock(mu_);
        messages_[connection.id()].emplace_back(message);
        cv_.notify_all();
      }
      if (on_message) on_message(connection, message);
    };
    s.on_close = [this](WebSocketConnection& connection, uint16_t code, std::string_view reason) {
      std::lock_guard lock(mu_);
      closed_.push_back({connection.id(), code, std::string(reason)});
      cv_.notify_all();
    };
    return s;
  }

  /// Waits for `n` opened connections and returns the n-th (1-based).
  std::shared_ptr<WebSocketConnection> opened(size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kTestTimeout, [&] { return opened_.size() >= n; })) {
      throw std::runtime_error("connection " + std::to_string(n) + " never opened");
    }
    return opened_[n - 1];
  }

  /// Waits until connection `id` received `n` messages; returns them.
  std::vector<std::string> messages(uint64_t id, size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kTestTimeout, [&] { return messages_[id].size() >= n; })) {
      throw std::runtime_error("connection " + std::to_string(id) + " never got " + std::to_string(n) +
                               " messages");
    }
    return messages_[id];
  }

  /// Waits until `n` connections closed; returns every close seen.
  std::vector<Closed> closed(size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kTestTimeout, [&] { return closed_.size() >= n; })) {
      throw std::runtime_error(std::to_string(n) + " connections never closed");
    }
    return closed_;
  }

  /// Waits until some connection received `message`; returns its id.
  uint64_t receiver_of(const std::string& message) {
    std::unique_lock lock(mu_);
    uint64_t id = 0;
    const bool found = cv_.wait_for(lock, kTestTimeout, [&] {
      for (const auto& [connection, received] : messages_) {
        if (std::find(received.begin(), received.end(), message) != received.end()) id = connection;
      }
      return id != 0;
    });
    if (!found) throw std::runtime_error("no connection received " + message);
    return id;
  }

  /// Closes seen so far, without waiting.
  std::vector<Closed> closed_now() {
    std::lock_guard lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<WebSocketConnection>> opened_;
  std::map<uint64_t, std::vector<std::string>> messages_;
  std::vector<Closed> closed_;
};

/// A WebSocket client on a raw POSIX socket, for frames a good client never
/// sends and for watching the server's frames (pings) one by one.
class RawWs {
 public:
  struct Frame {
    uint8_t opcode = 0;
    bool fin = false;
    std::string payload;
    uint16_t close_code() const {
      return payload.size() < 2 ? 0
                                : static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                        static_cast<unsigned char>(payload[1]));
    }
    std::string close_reason() const { return payload.size() < 2 ? "" : payload.substr(2); }
  };

  /// Connects and sends `request`; see handshake().
  RawWs(uint16_t port) {
    fd_ = test_socket::connect_loopback(port, kTestTimeout);
  }
  ~RawWs() { ::close(fd_); }
  RawWs(const RawWs&) = delete;
  RawWs& operator=(const RawWs&) = delete;

  static std::string upgrade_request(const std::string& target, const std::string& extra_headers = "") {
    return "GET " + target +
           " HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
           extra_headers + "\r\n";
  }

  /// Sends `request` and returns the response head (status line and headers).
  std::string handshake(const std::string& request) {
    if (!send_bytes(request)) throw std::runtime_error("handshake send failed");
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) throw std::runtime_error("no handshake response");
    }
    std::string head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    return head;
  }

  bool send_bytes(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// A client frame: masked unless `masked` is false.
  static std::string frame(uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
    std::string out;
    out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
    const uint8_t mask_bit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
      out.push_back(static_cast<char>(mask_bit | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
      out.push_back(static_cast<char>(mask_bit | 126));
      out.push_back(static_cast<char>(payload.size() >> 8));
      out.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
      out.push_back(static_cast<char>(mask_bit | 127));
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) out.append(key, 4);
    for (size_t i = 0; i < payload.size(); ++i) out.push_back(masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
    return out;
  }

  bool send_frame(uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
    return send_bytes(frame(opcode, payload, fin, masked));
  }

  /// The next server frame; nullopt on EOF or error.
  std::optional<Frame> read_frame() {
    if (!need(2)) return std::nullopt;
    Frame frame;
    const auto b0 = static_cast<unsigned char>(buffer_[0]);
    const auto b1 = static_cast<unsigned char>(buffer_[1]);
    frame.fin = (b0 & 0x80) != 0;
    frame.opcode = b0 & 0x0F;
    if ((b1 & 0x80) != 0) throw std::runtime_error("server frame is masked");
    size_t head = 2;
    uint64_t length = b1 & 0x7F;
    if (length == 126) head += 2;
    if (length == 127) head += 8;
    if (!need(head)) return std::nullopt;
    if (length >= 126) {
      length = 0;
      for (size_t i = 2; i < head; ++i) length = (length << 8) | static_cast<unsigned char>(buffer_[i]);
    }
    if (!need(head + length)) return std::nullopt;
    frame.payload = buffer_.substr(head, length);
    buffer_.erase(0, head + length);
    return frame;
  }

  /// The next frame that is not a ping (pings are counted in `pings`).
  std::optional<Frame> read_frame_skipping_pings(int* pings = nullptr) {
    for (;;) {
      auto frame = read_frame();
      if (!frame || frame->opcode != 0x9) return frame;
      if (pings != nullptr) ++*pings;
    }
  }

  /// Sends a FIN (the server sees EOF).
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  /// True when the server closed the connection (EOF or reset) with nothing more to read.
  bool closed_by_peer() {
    if (!buffer_.empty()) return false;
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool need(size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) return false;
    }
    return true;
  }
  bool fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

constexpr uint8_t kText = 0x1;
constexpr uint8_t kBinary = 0x2;
constexpr uint8_t kClose = 0x8;
constexpr uint8_t kPing = 0x9;
constexpr uint8_t kPong = 0xA;

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

std::unique_ptr<WsClient> connect_ok(uint16_t port, const std::string& target, const WsClientOptions& options = {}) {
  auto client = WsClient::connect("127.0.0.1", port, target, options);
  if (!client.ok()) throw std::runtime_error("connect failed: " + client.error().to_string());
  return std::move(client).value();
}

TEST(WebSocket, EchoRoundTripWithSubprotocolAndRequestSeen) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  HttpRequest seen;
  server.websocket("/v1/stream", [&](HttpRequest& request) -> std::variant<WebSocketSession, HttpResponse> {
    seen = request;
    return recorder.session("sentinel.v1", [](WebSocketConnection& connection, std::string_view message) {
      connection.send(shared("echo:" + std::string(message)));
    });
  });
  server.start();

  WsClientOptions options;
  options.subprotocols = {"sentinel.v1", "bearer.abc"};
  options.headers = {{"X-Trace", "t-1"}};
  auto client = connect_ok(server.port(), "/v1/stream?since=42", options);
  EXPECT_EQ(client->subprotocol(), "sentinel.v1");
  EXPECT_EQ(seen.path, "/v1/stream");
  EXPECT_EQ(seen.query, "since=42");
  EXPECT_EQ(seen.header("x-trace"), "t-1");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  EXPECT_THAT(websocket_subprotocols(seen), ElementsAre("sentinel.v1", "bearer.abc"));

  ASSERT_TRUE(client->send("hello").ok());
  ASSERT_TRUE(client->send("").ok());
  const std::string big(70'000, 'x');  // the 64-bit length form
  auto first = client->receive(kTestTimeout);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(*first, "echo:hello");
  auto second = client->receive(kTestTimeout);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "echo:");

  const auto connection = recorder.opened(1);
  EXPECT_EQ(connection->id(), 1u);
  EXPECT_TRUE(connection->is_open());
  ASSERT_TRUE(connection->send(shared(big)));
  auto third = client->receive(kTestTimeout);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, big);

  const HttpStats open_stats = server.stats();
  EXPECT_EQ(open_stats.ws_open, 1u);
  EXPECT_EQ(open_stats.ws_accepted, 1u);

  ASSERT_TRUE(client->close(1000, "bye").ok());
  ASSERT_TRUE(client->close_info().has_value());
  EXPECT_EQ(client->close_info()->code, 1000);
  const auto closed = recorder.closed(1);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].code, 1000);
  EXPECT_EQ(closed[0].reason, "bye");
  EXPECT_FALSE(connection->is_open());
  EXPECT_FALSE(connection->send(shared("late")));
  // Counted when a write completes, which may be after the client read it;
  // the close answer is written after every message, so all are counted by now.
  EXPECT_EQ(server.stats().ws_messages_out, 3u);
  EXPECT_EQ(server.stats().ws_open, 0u);
}

TEST(WebSocket, AcceptorRefusalIsAnHttpResponse) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/v1/stream", [&](HttpRequest& request) -> std::variant<WebSocketSession, HttpResponse> {
    if (request.header("authorization") != "Bearer good") return make_json_error(401, "unauthorised");
    return recorder.session();
  });
  server.start();

  auto refused = WsClient::connect("127.0.0.1", server.port(), "/v1/stream");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().to_string(), HasSubstr("ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/stream"));
  EXPECT_THAT(refused.error().to_string(), HasSubstr("server answered 401 instead of 101"));
  EXPECT_THAT(refused.error().to_string(), HasSubstr(R"({"error":"unauthorised"})"));
  EXPECT_EQ(server.stats().responses_4xx, 1u);

  WsClientOptions options;
  options.headers = {{"Authorization", "Bearer good"}};
  auto accepted = connect_ok(server.port(), "/v1/stream", options);
  EXPECT_TRUE(accepted->is_open());
  EXPECT_EQ(accepted->subprotocol(), "");
}

TEST(WebSocket, AcceptorErrorsGive500) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/throws", [](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    throw std::runtime_error("boom");
  });
  server.websocket("/wrong-protocol", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session("not-offered");
  });
  server.start();
  for (const std::string target : {"/throws", "/wrong-protocol"}) {
    WsClientOptions options;
    options.subprotocols = {"sentinel.v1"};
    auto result = WsClient::connect("127.0.0.1", server.port(), target, options);
    ASSERT_FALSE(result.ok()) << target;
    EXPECT_THAT(result.error().to_string(), HasSubstr("server answered 500 instead of 101")) << target;
  }
  EXPECT_EQ(server.stats().responses_5xx, 2u);
  EXPECT_EQ(server.stats().ws_accepted, 0u);
}

TEST(WebSocket, HandshakeChecksAndPlainHttpOnTheSameServer) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/v1/stream", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.route("DELETE", "/v1/stream", [](HttpRequest&) {
    HttpResponse response;
    response.status = 204;
    return response;
  });
  server.route("GET", "/v1/ping", [](HttpRequest&) {
    HttpResponse response;
    response.body = "pong";
    return response;
  });
  server.start();
  HttpClient http("127.0.0.1", server.port());

  HttpResponse plain = http.request("GET", "/v1/stream");
  EXPECT_EQ(plain.status, 426);
  EXPECT_EQ(plain.header("upgrade"), "websocket");
  EXPECT_EQ(plain.body, R"({"error":"WebSocket upgrade required for /v1/stream"})");
  HttpResponse post = http.request("POST", "/v1/stream", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, DELETE");
  EXPECT_EQ(http.request("DELETE", "/v1/stream").status, 204);

  {
    RawWs raw(server.port());
    const std::string head = raw.handshake(
        "GET /v1/stream HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    EXPECT_THAT(head, HasSubstr("HTTP/1.1 426"));
    EXPECT_THAT(head, HasSubstr("Sec-WebSocket-Version: 13"));
  }
  {
    RawWs raw(server.port());
    const std::string head = raw.handshake(
        "GET /v1/stream HTTP/1.1\r\nHost: test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_THAT(head, HasSubstr("HTTP/1.1 400"));
  }
  {
    RawWs raw(server.port());
    const std::string head = raw.handshake(RawWs::upgrade_request("/v1/stream"));
    EXPECT_THAT(head, HasSubstr("HTTP/1.1 101"));
    // RFC 6455 section 1.3's example key and answer.
    EXPECT_THAT(head, HasSubstr("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    EXPECT_THAT(head, HasSubstr("Server: sentinel"));
  }
  // HTTP keeps working, pipelined, beside an open WebSocket that is streaming.
  auto client = connect_ok(server.port(), "/v1/stream");
  const auto connection = recorder.opened(2);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(connection->send(shared("m" + std::to_string(i))));
  RawWs pipelined(server.port());
  ASSERT_TRUE(pipelined.send_bytes("GET /v1/ping HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/ping HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_THAT(pipelined.handshake(""), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(pipelined.handshake(""), HasSubstr("HTTP/1.1 200"));
  for (int i = 0; i < 50; ++i) {
    auto message = client->receive(kTestTimeout);
    ASSERT_TRUE(message.ok());
    EXPECT_EQ(*message, "m" + std::to_string(i));
  }
  EXPECT_EQ(http.request("GET", "/v1/ping").body, "pong");
}

TEST(WebSocket, QueuedMessagesThenApplicationCloseReachTheClientInOrder) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    WebSocketSession session = recorder.session();
    auto record_open = session.on_open;
    session.on_open = [record_open](const std::shared_ptr<WebSocketConnection>& connection) {
      record_open(connection);
      for (int i = 0; i < 3; ++i) connection->send(shared("n" + std::to_string(i)));
      connection->close(4401, "unauthorised");
      EXPECT_FALSE(connection->send(shared("after close")));
      connection->close(1000, "second close is ignored");
    };
    return session;
  });
  server.start();
  auto client = connect_ok(server.port(), "/s");
  for (int i = 0; i < 3; ++i) {
    auto message = client->receive(kTestTimeout);
    ASSERT_TRUE(message.ok()) << message.error().to_string();
    EXPECT_EQ(*message, "n" + std::to_string(i));
  }
  auto end = client->receive(kTestTimeout);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().field, "closed");
  ASSERT_TRUE(client->close_info().has_value());
  EXPECT_EQ(client->close_info()->code, 4401);
  EXPECT_EQ(client->close_info()->reason, "unauthorised");
  const auto closed = recorder.closed(1);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].code, 4401);
  EXPECT_EQ(closed[0].reason, "unauthorised");
}

TEST(WebSocket, SlowConsumerIsCutOffWhileAnotherClientReceivesEverything) {
  HttpServerOptions options;
  constexpr uint64_t kLimit = 64 << 10;
  options.ws_max_queued_bytes = kLimit;
  Recorder recorder;
  HttpServer server(options);
  std::mutex names_mu;
  std::map<std::string, std::shared_ptr<WebSocketConnection>> by_name;
  std::condition_variable names_cv;
  server.websocket("/s", [&](HttpRequest& request) -> std::variant<WebSocketSession, HttpResponse> {
    WebSocketSession session = recorder.session();
    auto record_open = session.on_open;
    session.on_open = [&, record_open, name = request.query](const std::shared_ptr<WebSocketConnection>& c) {
      record_open(c);
      std::lock_guard lock(names_mu);
      by_name[name] = c;
      names_cv.notify_all();
    };
    return session;
  });
  server.start();

  auto fast_client = connect_ok(server.port(), "/s?fast");
  auto slow_client = connect_ok(server.port(), "/s?slow");  // never reads until cut off
  std::shared_ptr<WebSocketConnection> fast, slow;
  {
    std::unique_lock lock(names_mu);
    ASSERT_TRUE(names_cv.wait_for(lock, kTestTimeout, [&] { return by_name.size() == 2; }));
    fast = by_name["fast"];
    slow = by_name["slow"];
  }

  // The fast client reads on its own thread; the sender keeps it at most 16
  // messages behind, so it is never near the limit.
  std::mutex progress_mu;
  std::condition_variable progress_cv;
  size_t fast_received = 0;
  bool fast_in_order = true;
  std::atomic<size_t> total{std::numeric_limits<size_t>::max()};
  std::thread reader([&] {
    for (size_t i = 0; i < total.load(); ++i) {
      auto message = fast_client->receive(kTestTimeout);
      if (!message.ok()) break;
      std::lock_guard lock(progress_mu);
      if (message->compare(0, 12, fmt_seq(i)) != 0) fast_in_order = false;
      ++fast_received;
      progress_cv.notify_all();
    }
  });

  const std::string padding(1000, 'p');
  size_t cut_at = 0;
  bool cut = false;
  uint64_t max_queued = 0;
  size_t sent = 0;
  for (size_t i = 0; i < 200'000 && (!cut || i < cut_at + 100); ++i) {
    {
      std::unique_lock lock(progress_mu);
      ASSERT_TRUE(progress_cv.wait_for(lock, kTestTimeout, [&] { return fast_received + 16 >= i; }));
    }
    auto message = shared(fmt_seq(i) + padding);
    ASSERT_TRUE(fast->send(message)) << "fast client cut at " << i;
    ++sent;
    if (!cut) {
      if (!slow->send(message)) {
        cut = true;
        cut_at = i;
      }
      max_queued = std::max<uint64_t>(max_queued, slow->queued_bytes());
    } else {
      EXPECT_FALSE(slow->send(message));
    }
  }
  ASSERT_TRUE(cut) << "the slow client was never cut off";
  total = sent;
  reader.join();
  {
    std::lock_guard lock(progress_mu);
    EXPECT_EQ(fast_received, sent);
    EXPECT_TRUE(fast_in_order);
  }
  EXPECT_LE(max_queued, kLimit);
  EXPECT_FALSE(slow->is_open());
  EXPECT_TRUE(fast->is_open());

  // The slow client now reads: an in-order prefix of what it was sent, then the close.
  size_t slow_received = 0;
  for (;;) {
    auto message = slow_client->receive(kTestTimeout);
    if (!message.ok()) {
      EXPECT_EQ(message.error().field, "closed") << message.error().to_string();
      break;
    }
    ASSERT_EQ(message->compare(0, 12, fmt_seq(slow_received)), 0) << "gap at " << slow_received;
    ++slow_received;
  }
  EXPECT_LT(slow_received, cut_at);
  ASSERT_TRUE(slow_client->close_info().has_value());
  EXPECT_EQ(slow_client->close_info()->code, 1008);
  EXPECT_THAT(slow_client->close_info()->reason,
              MatchesRegex("slow consumer: [0-9]+ bytes queued, limit 65536"));
  const auto closed = recorder.closed(1);
  EXPECT_EQ(closed[0].id, slow->id());
  EXPECT_EQ(closed[0].code, 1008);
  EXPECT_EQ(server.stats().ws_closed_slow, 1u);
  EXPECT_EQ(server.stats().ws_open, 1u);
}

TEST(WebSocket, FragmentsAreJoinedAndPingsAnswered) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  RawWs raw(server.port());
  ASSERT_THAT(raw.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  const auto connection = recorder.opened(1);
  ASSERT_TRUE(raw.send_frame(kText, "Hel", false));
  ASSERT_TRUE(raw.send_frame(kPing, "p1"));  // control frames may come between fragments
  ASSERT_TRUE(raw.send_frame(0x0, "l", false));
  ASSERT_TRUE(raw.send_frame(0x0, "o \xC3\xA9", true));  // UTF-8 split nowhere but valid as a whole
  auto pong = raw.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  EXPECT_EQ(pong->payload, "p1");
  EXPECT_THAT(recorder.messages(connection->id(), 1), ElementsAre("Hello \xC3\xA9"));

  // Client-initiated close: answered with the same code, then the server closes.
  ASSERT_TRUE(raw.send_frame(kClose, close_payload(1001, "leaving")));
  auto answer = raw.read_frame();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->opcode, kClose);
  EXPECT_EQ(answer->close_code(), 1001);
  EXPECT_TRUE(raw.closed_by_peer());
  const auto closed = recorder.closed(1);
  EXPECT_EQ(closed[0].code, 1001);
  EXPECT_EQ(closed[0].reason, "leaving");
}

TEST(WebSocket, CloseWithoutStatusIsReportedAs1005) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  RawWs raw(server.port());
  ASSERT_THAT(raw.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  ASSERT_TRUE(raw.send_frame(kClose, ""));
  auto answer = raw.read_frame();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->opcode, kClose);
  EXPECT_EQ(answer->payload, "");
  EXPECT_EQ(recorder.closed(1)[0].code, 1005);
}

struct Violation {
  const char* name;
  std::string frames;
  uint16_t code;
};

class WebSocketViolation : public ::testing::TestWithParam<Violation> {};

TEST_P(WebSocketViolation, IsClosedWithItsCode) {
  HttpServerOptions options;
  options.ws_max_message_bytes = 1024;
  Recorder recorder;
  HttpServer server(options);
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  RawWs raw(server.port());
  ASSERT_THAT(raw.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  recorder.opened(1);
  ASSERT_TRUE(raw.send_bytes(GetParam().frames));
  auto close = raw.read_frame_skipping_pings();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, kClose);
  EXPECT_EQ(close->close_code(), GetParam().code) << close->close_reason();
  // The server sent a FIN after its close frame, and ends when the client does.
  EXPECT_TRUE(raw.closed_by_peer());
  raw.shutdown_write();
  const auto closed = recorder.closed(1);
  EXPECT_EQ(closed[0].code, GetParam().code);
}

INSTANTIATE_TEST_SUITE_P(
    Frames, WebSocketViolation,
    ::testing::Values(
        Violation{"TooBig", RawWs::frame(kText, std::string(1025, 'a')), 1009},
        Violation{"TooBigInFragments",
                  RawWs::frame(kText, std::string(600, 'a'), false) + RawWs::frame(0x0, std::string(600, 'a')), 1009},
        Violation{"Binary", RawWs::frame(kBinary, "\x01\x02"), 1003},
        Violation{"InvalidUtf8", RawWs::frame(kText, "\xC3\x28"), 1007},
        Violation{"Unmasked", RawWs::frame(kText, "hi", true, false), 1002},
        Violation{"ReservedBits", std::string("\xC1\x80\x00\x00\x00\x00", 6), 1002},
        Violation{"UnknownOpcode", RawWs::frame(0x3, "x"), 1002},
        Violation{"FragmentedPing", RawWs::frame(kPing, "x", false), 1002},
        Violation{"LongPing", RawWs::frame(kPing, std::string(126, 'p')), 1002},
        Violation{"OrphanContinuation", RawWs::frame(0x0, "x"), 1002},
        Violation{"TextInsideFragmentedText", RawWs::frame(kText, "a", false) + RawWs::frame(kText, "b"), 1002},
        Violation{"InvalidCloseCode", RawWs::frame(kClose, close_payload(1006, "")), 1002},
        Violation{"OneByteClose", RawWs::frame(kClose, "\x03"), 1002}),
    [](const ::testing::TestParamInfo<Violation>& info) { return std::string(info.param.name); });

TEST(WebSocket, HandlerExceptionClosesWith1011) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session("", [](WebSocketConnection&, std::string_view) { throw std::runtime_error("boom"); });
  });
  server.start();
  auto client = connect_ok(server.port(), "/s");
  ASSERT_TRUE(client->send("x").ok());
  auto end = client->receive(kTestTimeout);
  ASSERT_FALSE(end.ok());
  ASSERT_TRUE(client->close_info().has_value());
  EXPECT_EQ(client->close_info()->code, 1011);
  EXPECT_EQ(recorder.closed(1)[0].code, 1011);
}

TEST(WebSocket, SilentClientIsClosedAfterTwoPingIntervalsAndAnsweringOneIsKept) {
  HttpServerOptions options;
  options.ws_ping_interval = 50ms;
  Recorder recorder;
  HttpServer server(options);
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();

  RawWs answering(server.port());
  ASSERT_THAT(answering.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  const auto kept = recorder.opened(1);
  // Six pings span three intervals past the timeout of two.
  for (int pings = 0; pings < 6;) {
    auto frame = answering.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->opcode, kPing) << "closed: " << frame->close_code() << " " << frame->close_reason();
    ASSERT_TRUE(answering.send_frame(kPong, frame->payload));
    ++pings;
  }
  ASSERT_TRUE(kept->is_open()) << recorder.closed_now().at(0).reason;

  RawWs silent(server.port());
  ASSERT_THAT(silent.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  int pings = 0;
  auto close = silent.read_frame_skipping_pings(&pings);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, kClose);
  EXPECT_EQ(close->close_code(), 1001);
  EXPECT_EQ(close->close_reason(), "ping timeout");
  EXPECT_GE(pings, 1);
  EXPECT_TRUE(silent.closed_by_peer());
  silent.shutdown_write();
  const auto closed = recorder.closed(1);
  EXPECT_EQ(closed[0].code, 1001);
  EXPECT_EQ(closed[0].reason, "ping timeout");
}

TEST(WebSocket, StopClosesEveryWebSocketWith1001AndCallsNoHandlerAfterwards) {
  Recorder recorder;
  std::atomic<int> calls_after_stop{0};
  std::atomic<bool> stopped{false};
  auto server = std::make_unique<HttpServer>(HttpServerOptions{});
  server->websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    WebSocketSession session = recorder.session();
    auto record_close = session.on_close;
    session.on_close = [&, record_close](WebSocketConnection& c, uint16_t code, std::string_view reason) {
      if (stopped) ++calls_after_stop;
      record_close(c, code, reason);
    };
    return session;
  });
  server->start();
  constexpr int kClients = 3;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(connect_ok(server->port(), "/s"));
  std::vector<std::shared_ptr<WebSocketConnection>> connections;
  for (int i = 1; i <= kClients; ++i) connections.push_back(recorder.opened(i));

  // The clients read while the server stops, so they answer its close frames.
  std::vector<std::future<std::optional<WsCloseInfo>>> ends;
  for (auto& client : clients) {
    ends.push_back(std::async(std::launch::async, [&client] {
      while (client->receive(kTestTimeout).ok()) {
      }
      return client->close_info();
    }));
  }
  must_return(
      [&] {
        server->stop();
        stopped = true;
      },
      "HttpServer::stop()");
  const auto closed = recorder.closed_now();
  ASSERT_EQ(closed.size(), static_cast<size_t>(kClients));
  for (const auto& c : closed) {
    EXPECT_EQ(c.code, 1001);
    EXPECT_EQ(c.reason, "server shutting down");
  }
  for (auto& end : ends) {
    const auto info = end.get();
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->code, 1001);
    EXPECT_EQ(info->reason, "server shutting down");
  }
  EXPECT_EQ(server->stats().ws_open, 0u);

  // The connections outlive the server harmlessly.
  server.reset();
  for (auto& connection : connections) {
    EXPECT_FALSE(connection->is_open());
    EXPECT_FALSE(connection->send(shared("after stop")));
    connection->close(1000, "");
    EXPECT_EQ(connection->queued_bytes(), 0u);
  }
  EXPECT_EQ(calls_after_stop.load(), 0);
}

TEST(WebSocket, StopDoesNotWaitPastGraceForAClientThatNeverAnswers) {
  HttpServerOptions options;
  options.stop_grace = 100ms;
  Recorder recorder;
  HttpServer server(options);
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  RawWs raw(server.port());
  ASSERT_THAT(raw.handshake(RawWs::upgrade_request("/s")), HasSubstr("101"));
  const auto connection = recorder.opened(1);
  // A backlog the client never reads: stop() must not wait for it.
  const auto big = shared(std::string(256 << 10, 'b'));
  for (int i = 0; i < 12; ++i) connection->send(big);
  must_return([&] { server.stop(); }, "HttpServer::stop()");
  const auto closed = recorder.closed_now();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].code, 1001);
}

TEST(WebSocket, ConcurrentSendersKeepEachThreadsOrder) {
  HttpServerOptions options;
  options.threads = 2;
  Recorder recorder;
  HttpServer server(options);
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  auto client = connect_ok(server.port(), "/s");
  const auto connection = recorder.opened(1);
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) connection->send(shared(std::to_string(t) + ":" + std::to_string(i)));
    });
  }
  std::vector<int> next(kThreads, 0);
  bool in_order = true;
  for (int n = 0; n < kThreads * kEach; ++n) {
    auto message = client->receive(kTestTimeout);
    ASSERT_TRUE(message.ok()) << message.error().to_string();
    const int t = std::stoi(message->substr(0, message->find(':')));
    const int i = std::stoi(message->substr(message->find(':') + 1));
    in_order = in_order && next[t] == i;
    next[t] = i + 1;
  }
  for (auto& sender : senders) sender.join();
  EXPECT_TRUE(in_order);
  ASSERT_TRUE(client->close().ok());
  recorder.closed(1);  // every write completed before the close answer
  EXPECT_EQ(server.stats().ws_messages_out, static_cast<uint64_t>(kThreads * kEach));
}

TEST(WebSocket, ClientGroupBroadcastAndCloseAll) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return recorder.session();
  });
  server.start();
  constexpr size_t kClients = 20;
  constexpr int kMessages = 50;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> received(kClients, 0);
  std::vector<WsCloseInfo> ends;
  bool in_order = true;
  WsClientGroup group({.on_message =
                           [&](size_t index, std::string_view message) {
                             std::lock_guard lock(mu);
                             in_order = in_order && message == std::to_string(received[index]);
                             ++received[index];
                             cv.notify_all();
                           },
                       .on_close =
                           [&](size_t, const WsCloseInfo& info) {
                             std::lock_guard lock(mu);
                             ends.push_back(info);
                           }});
  ASSERT_TRUE(group.connect("127.0.0.1", server.port(), "/s", kClients, {}, 4).ok());
  EXPECT_EQ(group.size(), kClients);
  EXPECT_EQ(group.open_count(), kClients);
  std::vector<std::shared_ptr<WebSocketConnection>> connections;
  for (size_t i = 1; i <= kClients; ++i) connections.push_back(recorder.opened(i));
  for (int m = 0; m < kMessages; ++m) {
    const auto message = shared(std::to_string(m));  // one buffer for every client
    for (auto& connection : connections) ASSERT_TRUE(connection->send(message));
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kTestTimeout, [&] {
      return std::all_of(received.begin(), received.end(), [](int n) { return n == kMessages; });
    }));
    EXPECT_TRUE(in_order);
  }
  group.send(3, "from client 3");
  const uint64_t sender = recorder.receiver_of("from client 3");
  EXPECT_EQ(recorder.messages(sender, 1).size(), 1u);
  EXPECT_EQ(group.close_all(kTestTimeout), 0u);
  EXPECT_EQ(group.open_count(), 0u);
  const auto closed = recorder.closed(kClients);
  EXPECT_EQ(closed.size(), kClients);
  std::lock_guard lock(mu);
  ASSERT_EQ(ends.size(), kClients);
  for (const auto& end : ends) EXPECT_EQ(end.code, 1000);
}

TEST(WebSocket, ClientGroupSeesMessagesSentFromOnOpenAndServerCloses) {
  Recorder recorder;
  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    WebSocketSession session = recorder.session();
    auto record_open = session.on_open;
    session.on_open = [record_open](const std::shared_ptr<WebSocketConnection>& connection) {
      connection->send(shared("welcome"));  // may reach the client in the same packet as the 101
      record_open(connection);
    };
    return session;
  });
  server.start();
  std::mutex mu;
  std::condition_variable cv;
  std::map<size_t, std::vector<std::string>> received;
  std::map<size_t, WsCloseInfo> ends;
  WsClientGroup group({.on_message =
                           [&](size_t index, std::string_view message) {
                             std::lock_guard lock(mu);
                             received[index].emplace_back(message);
                             cv.notify_all();
                           },
                       .on_close =
                           [&](size_t index, const WsCloseInfo& info) {
                             std::lock_guard lock(mu);
                             ends[index] = info;
                             cv.notify_all();
                           }});
  ASSERT_TRUE(group.connect("127.0.0.1", server.port(), "/s", 2).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kTestTimeout, [&] { return received.size() == 2; }));
    EXPECT_THAT(received[0], ElementsAre("welcome"));
    EXPECT_THAT(received[1], ElementsAre("welcome"));
  }
  const auto first = recorder.opened(1);
  first->close(4401, "unauthorised");
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kTestTimeout, [&] { return ends.size() == 1; }));
    const auto& end = ends.begin()->second;
    EXPECT_EQ(end.code, 4401);
    EXPECT_EQ(end.reason, "unauthorised");
  }
  EXPECT_EQ(group.open_count(), 1u);
  EXPECT_EQ(recorder.closed(1)[0].code, 4401);

  auto refused = group.connect("127.0.0.1", server.port(), "/nope", 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().to_string(), HasSubstr("server answered 404 instead of 101"));
  EXPECT_EQ(group.size(), 3u);
  EXPECT_EQ(group.open_count(), 1u);
}

TEST(WebSocket, ClientErrorsNameTheUrl) {
  // A bound socket that does not listen: connecting to its port is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t length = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const uint16_t port = ntohs(addr.sin_port);
  auto result = WsClient::connect("127.0.0.1", port, "/s");
  ::close(fd);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().to_string(), HasSubstr("ws://127.0.0.1:" + std::to_string(port) + "/s"));
  EXPECT_THAT(result.error().to_string(), HasSubstr("refused"));

  HttpServer server(HttpServerOptions{});
  server.websocket("/s", [](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    return WebSocketSession{};
  });
  server.start();
  auto client = connect_ok(server.port(), "/s");
  auto nothing = client->receive(10ms);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().field, "timeout");
  EXPECT_TRUE(client->is_open());  // a receive timeout leaves the connection usable
  EXPECT_TRUE(client->send("still here").ok());
}

TEST(WebSocket, RegistrationErrors) {
  HttpServer server(HttpServerOptions{});
  auto accept = [](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> { return WebSocketSession{}; };
  server.websocket("/a", accept);
  EXPECT_THROW(server.websocket("/a", accept), std::invalid_argument);
  EXPECT_THROW(server.websocket("a", accept), std::invalid_argument);
  EXPECT_THROW(server.websocket("/p/*", accept), std::invalid_argument);
  EXPECT_THROW(server.websocket("/b", nullptr), std::invalid_argument);
  EXPECT_THROW(server.route("GET", "/a", [](HttpRequest&) { return HttpResponse{}; }), std::invalid_argument);
  server.route("POST", "/a", [](HttpRequest&) { return HttpResponse{}; });
  server.route("GET", "/c", [](HttpRequest&) { return HttpResponse{}; });
  EXPECT_THROW(server.websocket("/c", accept), std::invalid_argument);
  server.start();
  EXPECT_THROW(server.websocket("/d", accept), std::logic_error);

  HttpServerOptions bad;
  bad.ws_max_queued_bytes = 0;
  EXPECT_THROW(HttpServer{bad}, std::invalid_argument);
  HttpServerOptions no_ping;
  no_ping.ws_ping_interval = 0ms;
  EXPECT_THROW(HttpServer{no_ping}, std::invalid_argument);
}

TEST(WebSocket, SubprotocolListIsParsedFromEveryHeader) {
  HttpRequest request;
  request.headers = {{"sec-websocket-protocol", "sentinel.v1, bearer.tok"},
                     {"other", "x"},
                     {"sec-websocket-protocol", " third ,, "}};
  EXPECT_THAT(websocket_subprotocols(request), ElementsAre("sentinel.v1", "bearer.tok", "third"));
  EXPECT_TRUE(websocket_subprotocols(HttpRequest{}).empty());
}

}  // namespace websocket_test
}  // namespace sentinel::net
