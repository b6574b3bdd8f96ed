// Beast implementation of the blocking client. Each call runs asynchronous
// operations on a private io_context until they finish, because Beast's
// tcp_stream applies its timeout to asynchronous operations only.
#include "net/http_client.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace sentinel::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Responses are read whole into memory; this bounds a misbehaving server.
constexpr uint64_t kMaxResponseBytes = 1ull << 30;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// Failures of a connection that was idle in the pool: the server closed it in
// between, and the request can be sent again on a fresh one.
bool is_stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

struct HttpClient::Impl {
  Impl(std::string host_in, uint16_t port_in, std::chrono::milliseconds timeout_in)
      : host(std::move(host_in)), port(port_in), timeout(timeout_in) {}

  // Runs the io_context until the operation started by `initiate` completes; returns its error.
  template <typename Initiate>
  beast::error_code run(Initiate&& initiate) {
    beast::error_code result;
    bool done = false;
    initiate([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run();
    if (!done) result = asio::error::operation_aborted;
    return result;
  }

  beast::error_code connect() {
    stream.reset();
    buffer.clear();
    stream.emplace(ioc);
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return ec;
    stream->expires_after(timeout);
    ec = run([&](auto handler) { stream->async_connect(endpoints, std::move(handler)); });
    if (!ec) stream->socket().set_option(tcp::no_delay(true), ec);
    return ec;
  }

  void disconnect() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
  }

  // One attempt on the current connection. The response is read while the
  // request is still being written, so an early answer (e.g. 413 to a large
  // upload) is received even when the server stops reading the upload.
  struct Exchange {
    beast::error_code read_ec;
    beast::error_code write_ec;
    bool got_response_bytes = false;
  };
  Exchange exchange(const http::request<http::string_body>& request,
                    http::response_parser<http::string_body>& parser) {
    Exchange result;
    bool write_done = false;
    bool read_done = false;
    stream->expires_after(timeout);
    http::async_write(*stream, request, [&](beast::error_code ec, size_t) {
      result.write_ec = ec;
      write_done = true;
    });
    http::async_read(*stream, buffer, parser, [&](beast::error_code ec, size_t) {
      result.read_ec = ec;
      read_done = true;
    });
    ioc.restart();
    ioc.run();
    if (!write_done) result.write_ec = asio::error::operation_aborted;
    if (!read_done) result.read_ec = asio::error::operation_aborted;
    result.got_response_bytes = parser.got_some();
    return result;
  }

  HttpResponse request(std::string_view method, std::string_view target, std::string_view body,
                       const HttpHeaders& headers) {
    auto fail = [&](const std::string& reason) {
      disconnect();
      return std::runtime_error(fmt::format("{} http://{}{}: {}", method, authority(host, port), target, reason));
    };
    http::request<http::string_body> request;
    request.method_string(beast::string_view(method.data(), method.size()));
    request.target(beast::string_view(target.data(), target.size()));
    request.version(11);
    request.set(http::field::host, authority(host, port));
    request.set(http::field::user_agent, "sentinel-client");
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
      if (beast::iequals(name, "content-type")) has_content_type = true;
      request.insert(name, value);
    }
    if (!body.empty() && !has_content_type) request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
    request.prepare_payload();

    for (int attempt = 0;; ++attempt) {
      const bool reused = stream.has_value();
      if (!reused) {
        if (auto ec = connect()) throw fail("connect: " + ec.message());
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBytes);
      const Exchange result = exchange(request, parser);
      if (result.read_ec) {
        if (reused && attempt == 0 && !result.got_response_bytes && is_stale_connection(result.read_ec)) {
          disconnect();
          continue;
        }
        throw fail(result.read_ec.message());
      }
      http::response<http::string_body> message = parser.release();
      HttpResponse response;
      response.status = static_cast<int>(message.result_int());
      response.content_type = std::string(message[http::field::content_type]);
      for (const auto& field : message) {
        response.headers.emplace_back(lower({field.name_string().data(), field.name_string().size()}), std::string(field.value()));
      }
      response.body = std::move(message.body());
      // A request not sent in full leaves the connection unusable.
      if (!message.keep_alive() || result.write_ec) disconnect();
      return response;
    }
  }

  const std::string host;
  const uint16_t port;
  const std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;  // empty when not connected
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(host), port, timeout)) {}

HttpClient::~HttpClient() { impl_->disconnect(); }

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, const HttpHeaders& headers) {
  return impl_->request(method, target, body, headers);
}

HttpResponse http_request(const std::string& host, uint16_t port, std::string_view method,
                          std::string_view target, std::string_view body, const HttpHeaders& headers,
                          std::chrono::milliseconds timeout) {
  HttpClient client(host, port, timeout);
  return client.request(method, target, body, headers);
}

}  // namespace sentinel::net
