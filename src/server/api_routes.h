// The REST surface of the command centre (DESIGN.md sections 5 and 8), as
// registered on the live service's HttpServer. docs/openapi.json describes
// it and is served at /v1/openapi.json; a test keeps the two in step.
//
//   GET  /v1/alerts                 filters, cursor pagination (AlertQuery)
//   GET  /v1/alerts/{id}
//   POST /v1/alerts/{id}/ack
//   POST /v1/alerts/{id}/feedback   {"verdict":"true_positive|false_positive","note":".."}
//   GET  /v1/alerts/{id}/audit      the alert's audit trail
//   GET  /v1/alerts/export?format=cap   OASIS CAP 1.2
//   GET  /v1/stats, /v1/map, /v1/whoami, /v1/openapi.json
//   POST /v1/tokens (admin)         {"name":..,"role":..} -> the token, once
//   GET  /v1/config (admin)         the effective configuration beside the defaults
//
// Every route needs a bearer token (auth.h); a missing or unknown one gets
// 401, a role without the permission 403, and both go to the access log.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "alerts/alert_store.h"
#include "alerts/cap.h"
#include "core/config.h"
#include "net/http_server.h"
#include "server/auth.h"

namespace sentinel {

class AccessLog;
class AlertTrail;
class Pipeline;

/// The compiled-in docs/openapi.json.
std::string_view openapi_document();

/// Everything the routes use; owned by the live service.
struct ApiContext {
  const Config* config = nullptr;
  AlertStore* store = nullptr;
  TokenStore* tokens = nullptr;
  AccessLog* access = nullptr;
  AlertTrail* trail = nullptr;
  Pipeline* pipeline = nullptr;
  std::string map_json;
  std::string tokens_file;  ///< where POST /v1/tokens appends ("" = in memory only)
  CapOptions cap;           ///< sender and feed of /v1/alerts/export?format=cap
  /// Shares local changes (Redis backend); may be empty.
  std::function<void(std::span<const AlertChange>)> publish;
  /// The queue status object for /v1/stats and the stream.
  std::function<std::string()> queue_status;
  /// Events per second over the last few seconds, and the backlog (consumer lag).
  std::function<double()> event_rate;
  /// Every (method, path) registered through add_route, for the OpenAPI test.
  std::vector<std::pair<std::string, std::string>> routes;
};

/// server.route() that also records the route in ctx.routes.
void add_route(net::HttpServer& server, ApiContext& ctx, std::string method, std::string path,
               net::HttpHandler handler);

/// A route's handler once the caller is known.
using AuthedHandler = std::function<net::HttpResponse(net::HttpRequest&, const Principal&)>;

/// Wraps `handler` with authentication and the `permission` check.
net::HttpHandler guarded(ApiContext& ctx, Permission permission, AuthedHandler handler);

/// Authenticates a request; on failure the 401/403 response (already audited).
std::variant<Principal, net::HttpResponse> authenticate(ApiContext& ctx, const net::HttpRequest& req,
                                                        Permission permission);

/// Acknowledges `alert_id` for `who` (store, publish, audit); the response
/// body is the alert (200), or the error (404).
net::HttpResponse ack_alert(ApiContext& ctx, const Principal& who, std::string_view alert_id);

/// Registers every route above on `server`.
void register_api_routes(net::HttpServer& server, ApiContext& ctx);

/// Decodes %XX and '+' in a query component. Hand-written: Boost.URL is not
/// in Debian 12's Boost (1.74).
std::string url_decode(std::string_view s);
/// The raw value of `key` in a query string ("" when absent).
std::optional<std::string> query_param(std::string_view query, std::string_view key);

}  // namespace sentinel
