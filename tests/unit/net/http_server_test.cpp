#include "net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net_test_support.h"

#include "net/http_client.h"

namespace sentinel::net {
namespace http_server_test {

using test_socket::kTestTimeout;
using test_socket::must_return;

using ::testing::HasSubstr;
using namespace std::chrono_literals;


/// A response as read off a raw socket.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) != 0; }
};

/// Blocking POSIX client socket to 127.0.0.1, for what HttpClient would not send:
/// garbage, pipelined or partial requests. Reads time out after kTestTimeout.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = test_socket::connect_loopback(port, kTestTimeout);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends everything; false when the peer refused it (reset or closed).
  bool send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// Reads one complete response (Content-Length framed, or none for 1xx/204).
  std::optional<RawResponse> read_response() {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    RawResponse response;
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[name] = value;
    }
    const size_t length = response.has("content-length") ? std::stoul(response.headers["content-length"]) : 0;
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  /// True when the server closed the connection gracefully (FIN) with nothing more to read.
  bool at_eof() {
    if (!buffer_.empty()) return false;
    char byte;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

  /// True when the server closed the connection (EOF or reset) with nothing more to read.
  bool closed_by_peer() {
    if (!buffer_.empty()) return false;
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
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

std::string get_request(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::string post_request(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}


HttpResponse text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    server_->route("GET", "/v1/ping", [](HttpRequest&) { return text("pong"); });
    server_->route("POST", "/v1/echo", [](HttpRequest& request) {
      HttpResponse response;
      response.body = request.body;
      response.headers.emplace_back("X-Method", request.method);
      return response;
    });
    server_->route("GET", "/v1/items", [](HttpRequest&) { return text("items"); });
    server_->route("PUT", "/v1/items", [](HttpRequest&) { return text("put"); });
    server_->route("GET", "/v1/throw", [](HttpRequest&) -> HttpResponse {
      throw std::runtime_error("boom");
    });
    for (auto& [path, handler] : extra_routes_) server_->route("GET", path, handler);
    server_->start();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  std::vector<std::pair<std::string, HttpHandler>> extra_routes_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, GetAndPostRoundTrip) {
  start();
  HttpClient client("127.0.0.1", port_);
  HttpResponse get = client.request("GET", "/v1/ping");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "pong");
  EXPECT_EQ(get.content_type, "text/plain");
  EXPECT_EQ(get.header("server"), "sentinel");
  EXPECT_EQ(get.header("content-length"), "4");

  HttpResponse post = client.request("POST", "/v1/echo", R"({"id":"e1"})");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, R"({"id":"e1"})");
  EXPECT_EQ(post.content_type, "application/json");
  EXPECT_EQ(post.header("x-method"), "POST");
  EXPECT_EQ(post.header("content-length"), "11");
}

TEST_F(HttpServerTest, HandlerSeesTargetPathQueryHeadersAndPeer) {
  HttpRequest seen;
  extra_routes_.emplace_back("/v1/inspect", [&seen](HttpRequest& request) {
    seen = request;
    return text("ok");
  });
  start();
  HttpResponse response = http_request("127.0.0.1", port_, "GET", "/v1/inspect?limit=5&x=%20", "",
                                       {{"X-Custom-Token", "Abc"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/v1/inspect?limit=5&x=%20");
  EXPECT_EQ(seen.path, "/v1/inspect");
  EXPECT_EQ(seen.query, "limit=5&x=%20");
  EXPECT_EQ(seen.header("x-custom-token"), "Abc");
  EXPECT_EQ(seen.header("absent"), "");
  bool all_lower = true;
  for (const auto& [name, value] : seen.headers) {
    for (char c : name) all_lower = all_lower && !(c >= 'A' && c <= 'Z');
  }
  EXPECT_TRUE(all_lower);
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  RawConnection connection(port_);
  for (int i = 0; i < 5; ++i) {
    const std::string body = "{\"n\":" + std::to_string(i) + "}";
    ASSERT_TRUE(connection.send(post_request("/v1/echo", body)));
    auto response = connection.read_response();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, body);
    EXPECT_EQ(response->headers["server"], "sentinel");
  }
  EXPECT_EQ(server_->stats().requests, 5u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(post_request("/v1/echo", "first") + get_request("/v1/ping") +
                              get_request("/nope") + post_request("/v1/echo", "last")));
  auto r1 = connection.read_response();
  auto r2 = connection.read_response();
  auto r3 = connection.read_response();
  auto r4 = connection.read_response();
  ASSERT_TRUE(r1 && r2 && r3 && r4);
  EXPECT_EQ(r1->body, "first");
  EXPECT_EQ(r2->body, "pong");
  EXPECT_EQ(r3->status, 404);
  EXPECT_EQ(r4->body, "last");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  start();
  HttpClient client("127.0.0.1", port_);
  HttpResponse missing = client.request("GET", "/x?y=1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"no route for GET /x"})");
  EXPECT_EQ(missing.content_type, "application/json");

  HttpResponse wrong = client.request("DELETE", "/v1/items");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "GET, PUT");
  EXPECT_EQ(wrong.body, R"({"error":"method DELETE not allowed for /v1/items"})");

  EXPECT_EQ(client.request("PUT", "/v1/items").body, "put");
}

TEST_F(HttpServerTest, ErrorBodiesAreValidJsonForHostilePaths) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(get_request("/a\"b\\c")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":"no route for GET /a\"b\\c"})");
}

TEST(HttpServerRoutes, PrefixRoutesLongestWinsAndExactBeatsPrefix) {
  HttpServer server(HttpServerOptions{});
  server.route("GET", "/v1/alerts/*", [](HttpRequest& r) { return text("alerts:" + r.path); });
  server.route("GET", "/v1/alerts/stream", [](HttpRequest&) { return text("stream"); });
  server.route("GET", "/v1/alerts/special/*", [](HttpRequest&) { return text("special"); });
  server.route("POST", "/v1/alerts/*", [](HttpRequest&) { return text("post"); });
  server.start();
  HttpClient client("127.0.0.1", server.port());
  EXPECT_EQ(client.request("GET", "/v1/alerts/a-1").body, "alerts:/v1/alerts/a-1");
  EXPECT_EQ(client.request("GET", "/v1/alerts/stream").body, "stream");
  EXPECT_EQ(client.request("GET", "/v1/alerts/special/x").body, "special");
  EXPECT_EQ(client.request("POST", "/v1/alerts/a-1/ack").body, "post");
  EXPECT_EQ(client.request("GET", "/v1/alerts").status, 404);
  HttpResponse wrong = client.request("DELETE", "/v1/alerts/a-1");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "GET, POST");
}

TEST(HttpServerRoutes, FallbackServesUnroutedGetsOnly) {
  HttpServer server(HttpServerOptions{});
  server.route("POST", "/v1/events", [](HttpRequest&) { return text("ingested"); });
  server.fallback([](HttpRequest& r) {
    HttpResponse response = text("static:" + r.path);
    response.content_type = "text/html";
    return response;
  });
  server.start();
  HttpClient client("127.0.0.1", server.port());
  HttpResponse page = client.request("GET", "/index.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "static:/index.html");
  EXPECT_EQ(page.content_type, "text/html");
  EXPECT_EQ(client.request("POST", "/index.html").status, 404);
  EXPECT_EQ(client.request("GET", "/v1/events").status, 405);
}

TEST(HttpServerRoutes, RegistrationErrors) {
  HttpServer server(HttpServerOptions{});
  server.route("GET", "/a", [](HttpRequest&) { return HttpResponse{}; });
  EXPECT_THROW(server.route("GET", "/a", [](HttpRequest&) { return HttpResponse{}; }),
               std::invalid_argument);
  EXPECT_THROW(server.route("GET", "a", [](HttpRequest&) { return HttpResponse{}; }),
               std::invalid_argument);
  server.start();
  EXPECT_THROW(server.route("GET", "/b", [](HttpRequest&) { return HttpResponse{}; }), std::logic_error);
  EXPECT_THROW(server.start(), std::logic_error);
}

TEST(HttpServerOptionsCheck, RejectsOutOfRangeOptions) {
  HttpServerOptions no_threads;
  no_threads.threads = 0;
  EXPECT_THROW(HttpServer{no_threads}, std::invalid_argument);
  HttpServerOptions no_body;
  no_body.max_body_bytes = 0;
  EXPECT_THROW(HttpServer{no_body}, std::invalid_argument);
}

TEST_F(HttpServerTest, BodyAnnouncedOverLimitGets413AndClose) {
  start();  // default limit: 16 MiB
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send("POST /v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 16777217\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body exceeds 16777216 bytes","limit":16777216})");
  EXPECT_EQ(response->headers["content-type"], "application/json");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_EQ(server_->stats().responses_4xx, 1u);
}

TEST_F(HttpServerTest, UploadOverLimitGets413AndIsDrainedNotReset) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  start(options);
  RawConnection connection(port_);
  constexpr size_t kAnnounced = 8 << 20;  // twice the largest client send buffer (tcp_wmem)
  ASSERT_TRUE(connection.send("POST /v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                              std::to_string(kAnnounced) + "\r\n\r\n" + std::string(1024, 'x')));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body exceeds 1024 bytes","limit":1024})");
  // A client that keeps uploading after the early 413 (as most do) must not be
  // reset: a reset can destroy the 413 before a remote client has read it.
  // The server drains the rest (more than the socket buffers hold), then EOF.
  const std::string piece(64 * 1024, 'x');
  for (size_t sent = 1024; sent < kAnnounced; sent += piece.size()) {
    ASSERT_TRUE(connection.send(piece.substr(0, std::min(piece.size(), kAnnounced - sent))))
        << "reset after " << sent << " bytes";
  }
  EXPECT_TRUE(connection.at_eof());
}

TEST_F(HttpServerTest, ChunkedBodyWithinLimitIsJoined) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  start(options);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(
      "POST /v1/echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world");
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitGets413AndClose) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  start(options);
  RawConnection connection(port_);
  std::string request = "POST /v1/echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) request += "200\r\n" + std::string(512, 'a' + i) + "\r\n";
  request += "0\r\n\r\n";
  connection.send(request);
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body exceeds 1024 bytes","limit":1024})");
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(HttpServerTest, GarbageGets400AndClose) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send("GARBAGE\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr(R"({"error":"malformed request: )"));
  EXPECT_EQ(response->headers["server"], "sentinel");
  EXPECT_TRUE(connection.closed_by_peer());

  // The server is unharmed.
  EXPECT_EQ(http_request("127.0.0.1", port_, "GET", "/v1/ping").status, 200);
}

TEST_F(HttpServerTest, OversizedHeadGets431) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  start(options);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(get_request("/v1/ping", "X-Big: " + std::string(4096, 'b') + "\r\n")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, R"({"error":"request head exceeds 1024 bytes","limit":1024})");
}

TEST_F(HttpServerTest, Expect100ContinueGetsInterimResponse) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(
      "POST /v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = connection.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.send("hello"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
}

TEST_F(HttpServerTest, Http10WithoutKeepAliveIsClosedAfterResponse) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send("GET /v1/ping HTTP/1.0\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "pong");
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(HttpServerTest, IdleAndStalledConnectionsAreClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(100);
  start(options);
  RawConnection silent(port_);
  RawConnection stalled(port_);
  ASSERT_TRUE(stalled.send("GET /v1/ping HTTP/1.1\r\nHost: te"));  // never finished
  RawConnection kept(port_);
  ASSERT_TRUE(kept.send(get_request("/v1/ping")));
  ASSERT_TRUE(kept.read_response());
  // Each recv returns when the server closes; it would time out (and fail) otherwise.
  EXPECT_TRUE(silent.at_eof());
  EXPECT_TRUE(stalled.at_eof());
  EXPECT_TRUE(kept.at_eof());
}

TEST_F(HttpServerTest, HandlerExceptionGives500AndServerKeepsServing) {
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(get_request("/v1/throw")));
  auto failed = connection.read_response();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body, R"({"error":"internal error handling GET /v1/throw"})");
  // Same connection, then a new one.
  ASSERT_TRUE(connection.send(get_request("/v1/ping")));
  auto next = connection.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(http_request("127.0.0.1", port_, "GET", "/v1/ping").body, "pong");
  EXPECT_EQ(server_->stats().responses_5xx, 1u);
}

TEST_F(HttpServerTest, HandlerHeadersAreSentButUnsafeOnesDropped) {
  extra_routes_.emplace_back("/v1/busy", [](HttpRequest&) {
    HttpResponse response = make_json_error(503, "busy");
    response.headers.emplace_back("Retry-After", "1");
    response.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=1");
    response.headers.emplace_back("Content-Length", "999");
    return response;
  });
  extra_routes_.emplace_back("/v1/bad-status", [](HttpRequest&) {
    HttpResponse response;
    response.status = 42;
    return response;
  });
  extra_routes_.emplace_back("/v1/empty", [](HttpRequest&) {
    HttpResponse response;
    response.status = 204;
    response.body = "ignored";
    return response;
  });
  start();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(get_request("/v1/busy") + get_request("/v1/bad-status") +
                              get_request("/v1/empty") + get_request("/v1/ping")));
  auto busy = connection.read_response();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->headers["retry-after"], "1");
  EXPECT_FALSE(busy->has("x-evil"));
  EXPECT_FALSE(busy->has("set-cookie"));
  EXPECT_EQ(busy->headers["content-length"], std::to_string(busy->body.size()));
  auto bad = connection.read_response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 500);
  auto empty = connection.read_response();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");
  auto after = connection.read_response();  // framing intact after the 204
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "pong");
}

TEST_F(HttpServerTest, ContentTypeInHeadersReplacesTheDefault) {
  extra_routes_.emplace_back("/v1/page", [](HttpRequest&) {
    HttpResponse response;
    response.body = "<p>hi</p>";
    response.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    return response;
  });
  start();
  HttpResponse page = http_request("127.0.0.1", port_, "GET", "/v1/page");
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  int content_types = 0;
  for (const auto& [name, value] : page.headers) content_types += name == "content-type" ? 1 : 0;
  EXPECT_EQ(content_types, 1);
}

TEST_F(HttpServerTest, StatsCountResponsesByClassAndBytesIn) {
  start();
  HttpClient client("127.0.0.1", port_);
  client.request("GET", "/v1/ping");
  client.request("POST", "/v1/echo", "abc");
  client.request("GET", "/missing");
  client.request("GET", "/v1/throw");
  const HttpStats stats = server_->stats();
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.responses_4xx, 1u);
  EXPECT_EQ(stats.responses_5xx, 1u);
  EXPECT_GT(stats.bytes_in, 4u * 30u);  // four request heads plus a body
}

TEST_F(HttpServerTest, ConcurrentClientsAreAllAnswered) {
  HttpServerOptions options;
  options.threads = 2;
  start(options);
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      HttpClient client("127.0.0.1", port_);
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        HttpResponse response = client.request("POST", "/v1/echo", body);
        if (response.status == 200 && response.body == body) correct.fetch_add(1);
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(correct.load(), kThreads * kRequests);
  EXPECT_EQ(server_->stats().requests, static_cast<uint64_t>(kThreads * kRequests));
}

TEST_F(HttpServerTest, StopWithConnectedClientsReturnsAndClosesThem) {
  start();
  RawConnection idle(port_);
  ASSERT_TRUE(idle.send(get_request("/v1/ping")));
  ASSERT_TRUE(idle.read_response());  // accepted and now waiting for its next request
  RawConnection partial(port_);
  ASSERT_TRUE(partial.send("POST /v1/echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nhalf"));
  // Make sure the server has accepted `partial` too: a request on a third
  // connection is answered only after the accept loop passed it.
  ASSERT_EQ(http_request("127.0.0.1", port_, "GET", "/v1/ping").status, 200);

  must_return([&] { server_->stop(); }, "HttpServer::stop()");
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(partial.closed_by_peer());
  must_return([&] { server_->stop(); }, "second HttpServer::stop()");
}

TEST_F(HttpServerTest, StopFromHandlerIsRefusedNotDeadlocked) {
  extra_routes_.emplace_back("/v1/stop", [this](HttpRequest&) {
    server_->stop();
    return text("stopped");
  });
  start();
  EXPECT_EQ(http_request("127.0.0.1", port_, "GET", "/v1/stop").status, 500);
  EXPECT_EQ(http_request("127.0.0.1", port_, "GET", "/v1/ping").status, 200);
}

TEST(HttpServerLifecycle, StopBeforeStartAndDestroyWithoutStart) {
  HttpServer never_started(HttpServerOptions{});
  never_started.stop();
  EXPECT_EQ(never_started.port(), 0);
}

TEST(HttpServerLifecycle, PortInUseNamesAddressAndReason) {
  HttpServer first(HttpServerOptions{});
  first.start();
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(options);
  try {
    second.start();
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(first.port())));
    EXPECT_THAT(e.what(), HasSubstr("in use"));
  }
}

TEST(HttpServerLifecycle, BadAddressNamesIt) {
  HttpServerOptions options;
  options.address = "no-such-host.invalid";
  HttpServer server(options);
  try {
    server.start();
    FAIL() << "start succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no-such-host.invalid:0"));
  }
}

TEST(HttpClientTest, ReconnectsWhenServerClosedKeptAliveConnection) {
  HttpServerOptions options;
  auto first = std::make_unique<HttpServer>(options);
  first->route("GET", "/who", [](HttpRequest&) { return text("first"); });
  first->start();
  options.port = first->port();
  HttpClient client("127.0.0.1", options.port);
  EXPECT_EQ(client.request("GET", "/who").body, "first");
  first->stop();  // closes the client's kept-alive connection

  HttpServer second(options);
  second.route("GET", "/who", [](HttpRequest&) { return text("second"); });
  second.start();
  EXPECT_EQ(client.request("GET", "/who").body, "second");
}

TEST(HttpClientTest, ConnectionRefusedThrowsNamingTarget) {
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
  try {
    http_request("127.0.0.1", port, "GET", "/v1/ping");
    ADD_FAILURE() << "request succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("GET http://127.0.0.1:" + std::to_string(port) + "/v1/ping"));
    EXPECT_THAT(e.what(), HasSubstr("refused"));
  }
  ::close(fd);
}

TEST(HttpClientTest, ReceivesEarly413WhileUploading) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  HttpServer server(options);
  server.route("POST", "/v1/events", [](HttpRequest&) { return text("ok"); });
  server.start();
  HttpResponse response =
      http_request("127.0.0.1", server.port(), "POST", "/v1/events", std::string(4 << 20, 'z'));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, R"({"error":"request body exceeds 1024 bytes","limit":1024})");
}

}  // namespace http_server_test
}  // namespace sentinel::net
