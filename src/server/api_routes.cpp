#include "server/api_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "alerts/cap.h"
#include "core/json_writer.h"
#include "pipeline/pipeline.h"
#include "pipeline/alerting.h"
#include "server/access_log.h"

namespace sentinel {

namespace {

EventTime wall_event_time() { return event_time_from_ms(wall_clock_ms()); }

net::HttpResponse json_ok(std::string body) {
  net::HttpResponse r;
  r.body = std::move(body);
  return r;
}

std::string alert_body(const StoredAlert& a) {
  std::string out;
  render_stored_alert(a, out);
  return out;
}

void audit_denied(ApiContext& ctx, const net::HttpRequest& req, int status, std::string_view who,
                  std::string_view why) {
  std::string reasons;
  JsonWriter w(reasons);
  w.begin_object().member("status", static_cast<uint64_t>(status)).member("method", req.method);
  w.member("path", req.path).member("remote", req.remote_address).member("token", who).member("reason", why);
  w.end_object();
  ctx.access->record(wall_event_time(), AuditDecision::kAccessDenied, req.path, reasons);
}

bool parse_priorities(std::string_view text, std::vector<Priority>& out) {
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    bool found = false;
    for (Priority p : {Priority::kP0, Priority::kP1, Priority::kP2, Priority::kP3}) {
      if (priority_name(p) == item) {
        out.push_back(p);
        found = true;
      }
    }
    if (!found) return false;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return true;
}

/// Builds an AlertQuery from the query string; an error names the parameter.
Result<AlertQuery> parse_alert_query(std::string_view query, uint32_t page_max) {
  AlertQuery q;
  static constexpr std::string_view kKnown[] = {"priority", "status", "type", "district", "from",
                                                "to",       "acked",  "limit", "cursor"};
  for (std::string_view rest = query; !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const std::string_view key = pair.substr(0, pair.find('='));
    if (!key.empty() && std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return make_error(std::string(key), "unknown parameter (known: priority, status, type, district, from, "
                                          "to, acked, limit, cursor)");
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  if (auto v = query_param(query, "priority")) {
    if (!parse_priorities(*v, q.priorities)) return make_error("priority", "expected P0..P3, comma-separated");
  }
  if (auto v = query_param(query, "status")) {
    if (*v == "alert") q.status = AlertStatus::kAlert;
    else if (*v == "trend_watch") q.status = AlertStatus::kTrendWatch;
    else return make_error("status", "expected alert or trend_watch");
  }
  if (auto v = query_param(query, "type")) {
    bool found = false;
    for (AlertType t : {AlertType::kSensor, AlertType::kCorrelation, AlertType::kGeofence, AlertType::kSpike,
                        AlertType::kMlAnomaly}) {
      if (alert_type_name(t) == *v) {
        q.type = t;
        found = true;
      }
    }
    if (!found) return make_error("type", "expected sensor, correlation, geofence, spike or ml_anomaly");
  }
  if (auto v = query_param(query, "district")) q.district = *v;
  for (const char* key : {"from", "to"}) {
    if (auto v = query_param(query, key)) {
      auto t = parse_rfc3339(*v);
      if (!t) return make_error(key, "expected an RFC 3339 time like 2019-03-01T12:00:00Z");
      (std::string_view(key) == "from" ? q.from : q.to) = *t;
    }
  }
  if (auto v = query_param(query, "acked")) {
    if (*v == "true") q.acked = true;
    else if (*v == "false") q.acked = false;
    else return make_error("acked", "expected true or false");
  }
  if (auto v = query_param(query, "limit")) {
    char* end = nullptr;
    const long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 1 || n > static_cast<long>(page_max)) {
      return make_error("limit", fmt::format("expected an integer from 1 to {} (server.page_max)", page_max));
    }
    q.limit = static_cast<uint32_t>(n);
  }
  if (auto v = query_param(query, "cursor")) q.cursor = *v;
  return q;
}


std::string stats_json(ApiContext& ctx) {
  const WallMs now = wall_clock_ms();
  const AlertStoreStats s = ctx.store->stats(now);
  const auto& c = ctx.pipeline->counters();
  const auto& a = ctx.pipeline->alert_counters();
  const auto lat = ctx.pipeline->latency_state();
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("now", format_rfc3339(event_time_from_ms(now)));
  w.key("events").begin_object().member("total", c.events.load());
  w.member("rate_per_s", ctx.event_rate ? ctx.event_rate() : 0.0).end_object();
  w.member("dead_letters", c.dead_letters.load()).member("late", c.late.load());
  w.member("duplicates", c.duplicates.load()).member("suppressed", a.suppressed.load());
  w.member("unscored", a.unscored.load());
  w.member("alerts", s.alerts).member("trend_watch", s.trend_watch).member("unacked", s.unacked);
  w.member("overdue", s.overdue).member("evicted", s.evicted).member("last_seq", s.last_seq);
  w.key("by_priority").begin_object();
  for (Priority p : {Priority::kP0, Priority::kP1, Priority::kP2, Priority::kP3}) {
    w.member(priority_name(p), s.by_priority[static_cast<int>(p)]);
  }
  w.end_object();
  w.member("degraded", lat.degraded).member("latency_warning", lat.warning);
  w.member("consumer_lag", ctx.pipeline->backlog());
  const int64_t wm = c.watermark_ms.load();
  w.key("watermark");
  // Before the first event the watermark is at (or near) the start of time.
  if (wm <= to_ms(kMinEventTime)) w.null(); else w.string(format_rfc3339(event_time_from_ms(wm)));
  w.key("latency").begin_object();
  w.member("budget_ms", static_cast<uint64_t>(ctx.config->latency.budget.count()));
  w.member("warn_p95_ms", static_cast<uint64_t>(ctx.config->latency.warn_p95.count()));
  w.member("rolling_p95_ms", static_cast<double>(lat.p95.count()) / 1e6);
  w.key("stages").begin_array();
  for (const StageLatency& st : ctx.pipeline->stage_latencies()) {
    const auto ms = [&](double q) { return static_cast<double>(st.histogram.quantile(q).count()) / 1e6; };
    w.begin_object().member("stage", st.stage).member("count", st.histogram.count());
    w.member("p50_ms", ms(0.5)).member("p95_ms", ms(0.95)).member("p99_ms", ms(0.99)).end_object();
  }
  w.end_array().end_object();
  w.key("queue").raw(ctx.queue_status ? ctx.queue_status() : R"({"backend":"memory","connected":true})");
  w.end_object();
  return out;
}

/// Splits "/v1/alerts/{id}[/action]".
std::pair<std::string, std::string> alert_path(std::string_view path) {
  path.remove_prefix(std::string_view("/v1/alerts/").size());
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {url_decode(path), ""};
  return {url_decode(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::variant<Principal, net::HttpResponse> authenticate(ApiContext& ctx, const net::HttpRequest& req,
                                                        Permission permission) {
  const std::string_view token = presented_token(req.header("authorization"), req.header("sec-websocket-protocol"));
  if (token.empty()) {
    audit_denied(ctx, req, 401, "", "no bearer token");
    net::HttpResponse r = net::make_json_error(401, "missing bearer token (Authorization: Bearer <token>)");
    r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="sentinel")");
    return r;
  }
  auto who = ctx.tokens->find(token);
  if (!who) {
    audit_denied(ctx, req, 401, "", "unknown token");
    net::HttpResponse r = net::make_json_error(401, "unknown or revoked token");
    r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="sentinel", error="invalid_token")");
    return r;
  }
  if (!role_allows(who->role, permission)) {
    audit_denied(ctx, req, 403, who->name, std::string("role ") + std::string(role_name(who->role)) + " may not");
    return net::make_json_error(403, "token '" + who->name + "' has role " + std::string(role_name(who->role)) +
                                         ", which may not do this");
  }
  return *who;
}

net::HttpHandler guarded(ApiContext& ctx, Permission permission, AuthedHandler handler) {
  return [&ctx, permission, handler = std::move(handler)](net::HttpRequest& req) {
    auto auth = authenticate(ctx, req, permission);
    if (auto* r = std::get_if<net::HttpResponse>(&auth)) return std::move(*r);
    return handler(req, std::get<Principal>(auth));
  };
}

net::HttpResponse ack_alert(ApiContext& ctx, const Principal& who, std::string_view alert_id) {
  const WallMs now = wall_clock_ms();
  auto result = ctx.store->ack(alert_id, who.name, now);
  if (!result.ok()) return net::make_json_error(404, result.error().to_string());
  if (result->has_value()) {
    const AlertChange& change = **result;
    if (ctx.publish) ctx.publish(std::span<const AlertChange>(&change, 1));
    std::string reasons;
    JsonWriter w(reasons);
    w.begin_object().member("by", who.name).member("priority", priority_name(change.alert.priority));
    w.key("due");
    if (change.alert.ack_due) w.string(format_rfc3339(event_time_from_ms(change.alert.ack_due))); else w.null();
    w.member("late", change.alert.ack_late()).end_object();
    ctx.access->record(event_time_from_ms(now), AuditDecision::kAck, alert_id, reasons);
    return json_ok(alert_body(change.alert));
  }
  auto current = ctx.store->get(alert_id);
  if (!current) return net::make_json_error(404, "no alert " + std::string(alert_id));
  return json_ok(alert_body(*current));
}

void add_route(net::HttpServer& server, ApiContext& ctx, std::string method, std::string path,
               net::HttpHandler handler) {
  ctx.routes.emplace_back(method, path);
  server.route(std::move(method), std::move(path), std::move(handler));
}

void register_api_routes(net::HttpServer& server, ApiContext& ctx) {
  ApiContext* c = &ctx;
  const auto route = [&](std::string method, std::string path, net::HttpHandler h) {
    add_route(server, ctx, std::move(method), std::move(path), std::move(h));
  };
  route("GET", "/v1/alerts", guarded(ctx, Permission::kRead, [c](net::HttpRequest& req, const Principal&) {
    auto q = parse_alert_query(req.query, c->config->server.page_max);
    if (!q.ok()) return net::make_json_error(400, q.error().to_string());
    auto page = c->store->list(*q);
    if (!page.ok()) return net::make_json_error(400, page.error().to_string());
    std::string out = R"({"alerts":[)";
    for (size_t i = 0; i < page->alerts.size(); ++i) {
      if (i) out += ',';
      render_stored_alert(page->alerts[i], out);
    }
    out += R"(],"next_cursor":)";
    if (page->next_cursor.empty()) {
      out += "null";
    } else {
      JsonWriter(out).string(page->next_cursor);
    }
    out += '}';
    return json_ok(std::move(out));
  }));
  route("GET", "/v1/alerts/export", guarded(ctx, Permission::kRead, [c](net::HttpRequest& req, const Principal&) {
    const auto format = query_param(req.query, "format");
    if (!format || *format != "cap") return net::make_json_error(400, "format: expected cap");
    auto q = parse_alert_query("", c->config->server.page_max);
    AlertQuery query = *q;
    query.status = AlertStatus::kAlert;
    query.limit = c->config->server.page_max;
    auto page = c->store->list(query);
    if (!page.ok()) return net::make_json_error(400, page.error().to_string());
    net::HttpResponse r;
    // An Atom feed with one CAP 1.2 <alert> per entry (cap.h says why).
    r.content_type = "application/atom+xml; charset=utf-8";
    CapOptions options = c->cap;
    options.now = wall_clock_ms();
    r.body = render_cap(page->alerts, options);
    return r;
  }));
  auto alert_routes = [c](net::HttpRequest& req, const Principal&) -> net::HttpResponse {
    const auto [id, action] = alert_path(req.path);
    if (id.empty()) return net::make_json_error(404, "no alert id in the path");
    if (req.method == "GET" && action.empty()) {
      auto a = c->store->get(id);
      if (!a) return net::make_json_error(404, "no alert " + id);
      return json_ok(alert_body(*a));
    }
    if (req.method == "GET" && action == "audit") {
      if (!c->store->get(id)) return net::make_json_error(404, "no alert " + id);
      std::string out;
      JsonWriter w(out);
      w.begin_object().member("alert_id", id).key("records").raw(c->trail->json(id)).end_object();
      return json_ok(std::move(out));
    }
    return net::make_json_error(404, "no such resource: " + req.path);
  };
  route("GET", "/v1/alerts/*", guarded(ctx, Permission::kRead, alert_routes));
  route("POST", "/v1/alerts/*", guarded(ctx, Permission::kOperate, [c](net::HttpRequest& req, const Principal& who) {
    const auto [id, action] = alert_path(req.path);
    if (action == "ack") return ack_alert(*c, who, id);
    if (action != "feedback") return net::make_json_error(404, "no such action: " + req.path);
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return net::make_json_error(400, "body: expected a JSON object {\"verdict\":..,\"note\":..}");
    }
    if (!body.contains("verdict") || !body["verdict"].is_string()) {
      return net::make_json_error(400, "verdict: expected \"true_positive\" or \"false_positive\"");
    }
    const auto verdict = parse_verdict(body["verdict"].get<std::string>());
    if (!verdict || *verdict == Verdict::kNone) {
      return net::make_json_error(400, "verdict: expected \"true_positive\" or \"false_positive\"");
    }
    std::string note;
    if (body.contains("note")) {
      if (!body["note"].is_string()) return net::make_json_error(400, "note: expected a string");
      note = body["note"].get<std::string>();
    }
    for (const auto& [key, value] : body.items()) {
      if (key != "verdict" && key != "note") return net::make_json_error(400, key + ": unknown member");
    }
    const WallMs now = wall_clock_ms();
    auto change = c->store->feedback(id, *verdict, who.name, note, now);
    if (!change.ok()) {
      // The store names the field: "alert_id" is an unknown alert, anything else a bad body.
      return net::make_json_error(change.error().field == "alert_id" ? 404 : 400, change.error().to_string());
    }
    if (c->publish) c->publish(std::span<const AlertChange>(&*change, 1));
    std::string reasons;
    JsonWriter w(reasons);
    w.begin_object().member("by", who.name).member("verdict", verdict_name(*verdict));
    w.member("note_bytes", static_cast<uint64_t>(note.size())).end_object();
    c->access->record(event_time_from_ms(now), AuditDecision::kFeedback, id, reasons);
    return json_ok(alert_body(change->alert));
  }));
  route("GET", "/v1/stats", guarded(ctx, Permission::kRead, [c](net::HttpRequest&, const Principal&) {
    return json_ok(stats_json(*c));
  }));
  route("GET", "/v1/map", guarded(ctx, Permission::kRead, [c](net::HttpRequest&, const Principal&) {
    return json_ok(c->map_json);
  }));
  route("GET", "/v1/whoami", guarded(ctx, Permission::kRead, [](net::HttpRequest&, const Principal& who) {
    std::string out;
    JsonWriter(out).begin_object().member("name", who.name).member("role", role_name(who.role)).end_object();
    return json_ok(std::move(out));
  }));
  route("GET", "/v1/config", guarded(ctx, Permission::kAdmin, [c](net::HttpRequest&, const Principal&) {
    // The effective configuration, with the defaults beside it so a reader
    // sees at once what this deployment changed (thresholds, weights, ...).
    const auto values = config_values(*c->config);
    const auto defaults = config_values(Config{});
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("keys").begin_array();
    for (size_t i = 0; i < values.size(); ++i) {
      w.begin_object().member("key", values[i].first).member("value", values[i].second);
      w.member("default", defaults[i].second).member("changed", values[i].second != defaults[i].second).end_object();
    }
    w.end_array().end_object();
    return json_ok(std::move(out));
  }));
  route("GET", "/v1/openapi.json", [](net::HttpRequest&) { return json_ok(std::string(openapi_document())); });
  route("POST", "/v1/tokens", guarded(ctx, Permission::kAdmin, [c](net::HttpRequest& req, const Principal& who) {
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("name") || !body["name"].is_string() ||
        !body.contains("role") || !body["role"].is_string()) {
      return net::make_json_error(400, "body: expected {\"name\":\"..\",\"role\":\"analyst|curator|ingest|admin\"}");
    }
    const auto role = parse_role(body["role"].get<std::string>());
    if (!role) return net::make_json_error(400, "role: expected analyst, curator, ingest or admin");
    const std::string name = body["name"].get<std::string>();
    const std::string token = TokenStore::generate();
    const std::string hash = TokenStore::hash(token);
    if (Status st = c->tokens->add(name, *role, hash); !st.ok()) return net::make_json_error(409, st.error().to_string());
    if (!c->tokens_file.empty()) {
      std::ofstream out(c->tokens_file, std::ios::app);
      out << TokenStore::file_line(name, *role, hash) << '\n';
      if (!out) spdlog::error("tokens: cannot append to {}", c->tokens_file);
    }
    std::string reasons;
    JsonWriter w(reasons);
    w.begin_object().member("by", who.name).member("name", name).member("role", role_name(*role)).end_object();
    c->access->record(wall_event_time(), AuditDecision::kTokenCreated, name, reasons);
    std::string out;
    JsonWriter(out).begin_object().member("name", name).member("role", role_name(*role)).member("token", token).end_object();
    net::HttpResponse r = json_ok(std::move(out));
    r.status = 201;
    return r;
  }));
}

}  // namespace sentinel
