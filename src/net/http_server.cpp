// Beast/Asio implementation of HttpServer.
//
// Threading: one io_context run by `threads` threads. The acceptor and each
// connection (Session) live on their own strand, so a Session's state is only
// touched by one thread at a time and needs no lock. The session registry
// (used by stop()) is the one shared structure, under sessions_mu_.
// Lock order: lifecycle_mu_ before sessions_mu_.
//
// A Session reads one request (head, optional 100 Continue, body), calls the
// handler inline, writes the response, then reads the next: pipelined requests
// wait in the read buffer and are answered in order.
#include "net/http_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
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
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/net_log.h"

namespace sentinel::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

}  // namespace

struct HttpServer::Impl {
  class Session;

  explicit Impl(HttpServerOptions opts)
      : options(std::move(opts)),
        ioc(options.threads),
        acceptor(asio::make_strand(ioc)),
        accept_retry(acceptor.get_executor()) {}

  HttpResponse dispatch(HttpRequest& request) const;
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

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint16_t> bound_port{0};

  std::mutex lifecycle_mu;  // serialises start() and stop()
  enum class State { kIdle, kRunning, kStopped };
  State state = State::kIdle;  // guarded by lifecycle_mu
  std::vector<std::thread> threads;

  std::mutex sessions_mu;
  std::condition_variable sessions_cv;  // notified when `sessions` becomes empty
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by sessions_mu
  std::atomic<bool> stopping{false};  // written under sessions_mu

  // Declared last so that it is destroyed first: handlers it still holds may
  // own Sessions, whose destructors use the registry above.
  asio::io_context ioc;
  tcp::acceptor acceptor;          // on its own strand
  asio::steady_timer accept_retry; // on the acceptor's strand
};

class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket, std::string remote_address)
      : server_(server), stream_(std::move(socket)), remote_address_(std::move(remote_address)) {}

  ~Session() {
    std::lock_guard lock(server_.sessions_mu);
    server_.sessions.erase(this);
    if (server_.sessions.empty()) server_.sessions_cv.notify_all();
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts serving; callable from any thread.
  void start() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->read_next(); });
  }

  /// Asks the session to end: at once when it waits for a request (or lingers),
  /// after the current response otherwise; `force` closes it even mid-response.
  void request_stop(bool force) {
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
    send(server_.dispatch(request), message.keep_alive());
  }

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
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // kept alive until its write completes
  std::vector<char> drain_;
  const std::string remote_address_;
  unsigned version_ = 11;  // of the current request; error replies before a head use 1.1
  Phase phase_ = Phase::kIdle;
  bool stop_requested_ = false;
};

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

  const HttpHandler* handler = nullptr;
  if (route != nullptr) {
    for (const auto& [method, method_handler] : route->methods) {
      if (method == request.method) handler = &method_handler;
    }
    if (handler == nullptr) {
      std::string allow;
      for (const auto& entry : route->methods) {
        if (!allow.empty()) allow += ", ";
        allow += entry.first;
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
  std::vector<std::shared_ptr<Session>> live;
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
  route->methods.emplace_back(std::move(method), std::move(handler));
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
  return stats;
}

}  // namespace sentinel::net
