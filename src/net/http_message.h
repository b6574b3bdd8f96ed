// Plain HTTP request/response values shared by the server and the client.
// No Boost type appears here: modules that serve or call HTTP include this
// (through http_server.h or http_client.h) and never see Beast.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::net {

/// Header list in arrival order; repeated names stay repeated.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// One complete request as a handler sees it. The handler may move fields out
/// (e.g. the body); the server does not look at the request after the call.
struct HttpRequest {
  std::string method;  ///< "GET", "POST", ... as sent (case-sensitive, per RFC 9110)
  std::string target;  ///< full request target including the query
  std::string path;    ///< target without the query, not percent-decoded
  std::string query;   ///< after the first '?', raw
  HttpHeaders headers; ///< names lower-cased, values as sent
  std::string body;    ///< complete body, already bounded by max_body_bytes
  std::string remote_address;  ///< peer IP address, e.g. "127.0.0.1"

  /// First value of the header named `lower_name` ("" if absent). Names are
  /// compared case-insensitively; the view points into `headers`.
  std::string_view header(std::string_view lower_name) const;
};

/// What a handler returns, and what the client hands back. The server adds
/// Content-Length, Content-Type (from `content_type`, or a Content-Type in
/// `headers`) and `Server: sentinel`; 204 and 304 go out without body or
/// Content-Length. Content-Length, Transfer-Encoding, Connection and Server
/// in `headers`, and headers with CR/LF/NUL, are dropped (and logged).
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers (e.g. Retry-After). In a client response: every header, names lower-cased.
  HttpHeaders headers;

  /// First value of the header named `name` in `headers` (case-insensitive), "" if absent.
  std::string_view header(std::string_view name) const;
};

/// A JSON error response `{"error":"<message>"}`: the one shape every error
/// of the HTTP surface has. The message is JSON-escaped (invalid UTF-8 replaced).
HttpResponse make_json_error(int status, std::string_view message);

/// "host:port" as the Host header and URLs write it; an IPv6 literal gets
/// brackets ("[::1]:8080").
std::string authority(std::string_view host, uint16_t port);

}  // namespace sentinel::net
