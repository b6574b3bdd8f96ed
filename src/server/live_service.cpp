#include "server/live_service.h"

#include "flows/flow_service.h"
#include "intel/intel_service.h"
#include "server/intel_routes.h"
#include "server/intel_runtime.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "alerts/alert_store.h"
#include "core/keys.h"
#include "alerts/redis_queue.h"
#include "core/cloudevents.h"
#include "core/json_writer.h"
#include "net/http_server.h"
#include "pipeline/pipeline.h"
#include "server/access_log.h"
#include "server/alert_stream.h"
#include "server/api_routes.h"
#include "server/auth.h"
#include "server/map_data.h"
#include "server/static_files.h"

namespace sentinel {

namespace {
constexpr size_t kHttpInput = 0;
constexpr size_t kReplayInput = 1;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr size_t kRateSamples = 50;            // 5 s of ticks for the event rate
constexpr size_t kFeederMaxBody = 256u << 10;  // bytes per feeder request into the pipeline

net::HttpResponse json_response(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// The event time of a CloudEvents JSON line, read without a full parse
/// (the feeder only paces by it; the pipeline validates the line).
std::optional<EventTime> line_time(std::string_view line) {
  const size_t at = line.find("\"time\":\"");
  if (at == std::string_view::npos) return std::nullopt;
  const size_t start = at + 8;
  const size_t end = line.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return parse_rfc3339(line.substr(start, end - start));
}

std::string process_id() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + TokenStore::generate().substr(4, 8);
}
}  // namespace

struct LiveService::Impl {
  Config config;
  Options options;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<net::HttpServer> server;
  std::unique_ptr<flows::FlowService> flows;  ///< the flow detection service, when telemetry is configured
  std::optional<IntelRuntime> intel;          ///< incident curation, when intel.enabled
  std::mutex ingest_mutex;  // serialises everything that feeds the pipeline
  std::thread ticker, feeder;
  std::mutex tick_mutex;
  std::condition_variable tick_cv;
  bool stopping = false;
  std::atomic<bool> started{false};
  std::atomic<bool> feeder_done{true};
  std::atomic<uint64_t> rejected_busy{0}, rejected_rate{0};

  std::unique_ptr<AlertStore> store;
  std::unique_ptr<RedisAlertQueue> redis;
  TokenStore tokens;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<AlertTrail> trail;
  std::unique_ptr<AccessLog> access;
  std::unique_ptr<AlertStream> stream;
  ApiContext ctx;
  std::string initial_token;
  std::optional<std::string> web_root;

  std::mutex rate_mutex;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> rate_samples;

  bool stop_requested() {
    std::lock_guard lock(tick_mutex);
    return stopping;
  }

  std::string queue_status() const {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("backend", config.queue.backend);
    if (!redis) {
      w.member("connected", true).key("down_since").null();
    } else {
      const RedisAlertQueue::Status s = redis->status();
      w.member("connected", s.connected).key("down_since");
      if (s.down_since) w.string(format_rfc3339(event_time_from_ms(s.down_since))); else w.null();
      w.member("unconfirmed", s.unconfirmed).member("published", s.published).member("received", s.received);
      w.member("reconnects", s.reconnects);
    }
    w.end_object();
    return out;
  }

  double event_rate() {
    std::lock_guard lock(rate_mutex);
    if (rate_samples.size() < 2) return 0;
    const auto& [t0, e0] = rate_samples.front();
    const auto& [t1, e1] = rate_samples.back();
    const double dt = std::chrono::duration<double>(t1 - t0).count();
    return dt > 0 ? static_cast<double>(e1 - e0) / dt : 0;
  }

  void on_alerts(std::span<const Alert> alerts, std::span<const std::string> records) {
    std::vector<const Alert*> ptrs;
    std::vector<std::string_view> views;
    ptrs.reserve(alerts.size());
    views.reserve(records.size());
    for (const Alert& a : alerts) ptrs.push_back(&a);
    for (const std::string& r : records) views.push_back(r);
    const std::vector<AlertChange> changes = store->upsert(ptrs, views, wall_clock_ms());
    if (redis && !changes.empty()) redis->publish(changes);
  }

  net::HttpResponse post_events(net::HttpRequest& req, const Principal& who) {
    std::chrono::milliseconds wait{0};
    if (!limiter->admit(who.name, std::chrono::steady_clock::now(), &wait)) {
      rejected_rate.fetch_add(1, std::memory_order_relaxed);
      net::HttpResponse r = json_response(
          429, "{\"error\":\"token '" + who.name + "' is over server.ingest_rate; retry later\"}");
      r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, (wait.count() + 999) / 1000)));
      return r;
    }
    std::lock_guard lock(ingest_mutex);
    if (!pipeline->has_capacity()) {
      rejected_busy.fetch_add(1, std::memory_order_relaxed);
      net::HttpResponse r = json_response(
          503, R"({"error":"pipeline is full: every shard queue is at pipeline.queue_batches; retry later"})");
      r.headers.emplace_back("Retry-After",
                             std::to_string(std::max<int64_t>(1, config.server.retry_after.count() / 1000)));
      return r;
    }
    auto body = std::make_shared<std::string>(std::move(req.body));
    const size_t length = body->size();
    body->resize(length + kJsonPadding, '\0');
    const Pipeline::BodyResult result = pipeline->ingest_body(kHttpInput, body, length);
    const auto& rejected = result.rejected;
    limiter->charge(who.name, static_cast<double>(result.accepted + result.duplicates + result.late + rejected.size()),
                    std::chrono::steady_clock::now());
    std::string out;
    JsonWriter w(out);
    // Duplicates (already processed) and late events (too old for their
    // windows, kept in late.jsonl) are not errors, but the client is told.
    w.begin_object().member("accepted", result.accepted).member("duplicates", result.duplicates);
    w.member("late", result.late).member("rejected", static_cast<uint64_t>(rejected.size()));
    if (!rejected.empty()) {
      w.key("errors").begin_array();
      for (const auto& r : rejected) {
        w.begin_object().member("line", r.line).member("offset", r.offset).member("field", r.field);
        w.member("reason", r.reason).end_object();
      }
      w.end_array();
    }
    w.end_object();
    return json_response(rejected.empty() ? 200 : 400, std::move(out));
  }

  void tick_loop() {
    std::unique_lock lock(tick_mutex);
    while (!stopping) {
      tick_cv.wait_for(lock, kTick);
      if (stopping) break;
      {
        std::lock_guard ingest(ingest_mutex);
        pipeline->flush_marker();
      }
      std::lock_guard rl(rate_mutex);
      rate_samples.emplace_back(std::chrono::steady_clock::now(), pipeline->counters().events.load());
      if (rate_samples.size() > kRateSamples) rate_samples.pop_front();
    }
  }

  /// One event of an in-process service (a flow anomaly as a `network`
  /// event, an approved incident as a `platform` event), through the same
  /// ingest as POST /v1/events; waits while the shards are full, so such an
  /// event is never dropped for want of room.
  void ingest_service_event(std::string_view event) {
    auto text = std::make_shared<std::string>(event);
    text->push_back('\n');
    const size_t length = text->size();
    text->resize(length + kJsonPadding, '\0');
    for (;;) {
      {
        std::lock_guard lock(ingest_mutex);
        if (pipeline->has_capacity()) {
          (void)pipeline->ingest_body(kHttpInput, text, length);
          return;
        }
      }
      if (stop_requested()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  /// Hands one NDJSON body to the pipeline as the replay input, waiting while
  /// the shards are full (the feeder is a well-behaved client, not a dropper).
  void feed(std::string& body) {
    if (body.empty()) return;
    for (;;) {
      {
        std::lock_guard lock(ingest_mutex);
        if (pipeline->has_capacity()) {
          auto text = std::make_shared<std::string>(std::move(body));
          const size_t length = text->size();
          text->resize(length + kJsonPadding, '\0');
          (void)pipeline->ingest_body(kReplayInput, text, length);
          break;
        }
      }
      if (stop_requested()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    body.clear();
  }

  /// Replays the inputs merged by event time at options.speed.
  void feed_loop() {
    struct Input {
      std::ifstream in;
      std::string line;
      std::optional<EventTime> time;
      bool live = false;
      void next() {
        live = static_cast<bool>(std::getline(in, line));
        time = live ? line_time(line) : std::nullopt;
      }
    };
    std::vector<std::unique_ptr<Input>> inputs;
    for (const std::string& path : options.replay_inputs) {
      auto in = std::make_unique<Input>();
      in->in.open(path);
      if (!in->in) {
        spdlog::error("demo: cannot read {}", path);
        continue;
      }
      in->next();
      inputs.push_back(std::move(in));
    }
    std::optional<EventTime> first;
    const auto wall0 = std::chrono::steady_clock::now();
    std::string body;
    uint64_t fed = 0;
    while (!stop_requested()) {
      Input* next = nullptr;
      for (auto& in : inputs) {
        if (!in->live) continue;
        // Lines without a readable time go at once; else the earliest first.
        if (next == nullptr || !in->time || (next->time && *in->time < *next->time)) next = in.get();
      }
      if (next == nullptr) break;
      if (next->time) {
        if (!first) first = next->time;
        const double offset_s = static_cast<double>(to_ms(*next->time) - to_ms(*first)) / 1000.0 / options.speed;
        const auto due = wall0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(offset_s));
        if (due > std::chrono::steady_clock::now()) {
          feed(body);
          std::unique_lock lock(tick_mutex);
          tick_cv.wait_until(lock, std::min(due, std::chrono::steady_clock::now() + kTick),
                             [this] { return stopping; });
          continue;
        }
      }
      body += next->line;
      body += '\n';
      ++fed;
      next->next();
      if (body.size() >= kFeederMaxBody) feed(body);
    }
    feed(body);
    if (!stop_requested()) spdlog::info("demo: replay finished ({} lines fed); the server keeps running", fed);
    feeder_done = true;
  }
};

LiveService::LiveService(const Config& config, Options options) : impl_(std::make_unique<Impl>()) {
  Impl& p = *impl_;
  p.config = config;
  p.options = std::move(options);
  // One id names this process in the store's origin fields and on the Redis channel.
  const std::string pid = process_id();
  p.store = std::make_unique<AlertStore>(config.queue, config.queue.backend == "redis" ? pid : "");
  p.trail = std::make_unique<AlertTrail>(config.queue.max_alerts);
  std::optional<SecretKey> access_key;
  if (!config.audit.key.empty()) access_key = load_secret_key(config.audit.key);
  std::filesystem::create_directories(p.options.out_dir);
  p.access = std::make_unique<AccessLog>(p.options.out_dir, std::move(access_key), p.trail.get());
  if (!config.server.tokens.empty()) p.tokens = TokenStore::load(config.server.tokens);
  for (const auto& [name, token] : p.options.extra_admin_tokens) {
    if (Status st = p.tokens.add(name, Role::kAdmin, TokenStore::hash(token)); !st.ok()) {
      throw std::runtime_error("token " + name + ": " + st.error().to_string());
    }
  }
  if (p.tokens.size() == 0) {
    p.initial_token = TokenStore::generate();
    (void)p.tokens.add("initial-admin", Role::kAdmin, TokenStore::hash(p.initial_token));
  }
  p.limiter = std::make_unique<RateLimiter>(config.server.ingest_rate, config.server.ingest_burst);
  // The flow detection service runs inside the server when telemetry is
  // configured (a watch directory, or a Kafka topic): its anomalies enter
  // the alert pipeline as `network` events (gated as ml_anomaly).
  if (!config.telemetry.watch_dir.empty() || !config.kafka.brokers.empty()) {
    flows::FlowServiceCallbacks cb;
    cb.on_network_event = [raw = &p](std::string_view event) { raw->ingest_service_event(event); };
    p.flows = std::make_unique<flows::FlowService>(config, std::move(cb));
  }
  if (config.intel.enabled) {
    p.intel = make_intel_runtime(config, p.options.out_dir,
                                 [raw = &p](std::string_view event) { raw->ingest_service_event(event); });
  }
  if (config.queue.backend == "redis") {
    p.redis = std::make_unique<RedisAlertQueue>(config.queue, *p.store, pid);
  }

  Impl* self = impl_.get();
  PipelineOptions po;
  po.out_dir = p.options.out_dir;
  po.checkpoint_dir = p.options.checkpoint_dir;
  po.inputs = {"http"};
  if (!p.options.replay_inputs.empty()) {
    po.inputs.push_back("replay");
    po.event_time_scores = true;  // history replayed live is scored at its own time
    p.feeder_done = false;
  }
  po.shards = p.options.shards;
  po.live = true;
  po.on_alerts = [self](std::span<const Alert> a, std::span<const std::string> r) { self->on_alerts(a, r); };
  po.on_alert_audit = [self](const AuditEntry& e) { self->trail->add("audit", e); };
  p.pipeline = std::make_unique<Pipeline>(config, po);

  p.ctx.config = &p.config;
  p.ctx.store = p.store.get();
  p.ctx.tokens = &p.tokens;
  p.ctx.access = p.access.get();
  p.ctx.trail = p.trail.get();
  p.ctx.pipeline = p.pipeline.get();
  p.ctx.map_json = build_map_json(config);
  p.ctx.tokens_file = config.server.tokens;
  {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    std::string sender = std::string("sentinel@") + host;
    std::replace_if(sender.begin(), sender.end(), [](char ch) { return ch == ' ' || ch == ',' || ch == '<' || ch == '&'; }, '-');
    p.ctx.cap.sender = sender;
    if (Status st = validate_cap_options(p.ctx.cap); !st.ok()) throw std::runtime_error("CAP export: " + st.error().to_string());
  }
  if (p.redis) {
    p.ctx.publish = [self](std::span<const AlertChange> c) { self->redis->publish(c); };
  }
  p.ctx.queue_status = [self] { return self->queue_status(); };
  p.ctx.event_rate = [self] { return self->event_rate(); };
  p.stream = std::make_unique<AlertStream>(
      *p.store, config.server.page_max, [self] { return self->queue_status(); },
      [self](const Principal& who, std::string_view id) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().member("type", "ack").member("alert_id", id);
        if (!role_allows(who.role, Permission::kOperate)) {
          w.member("ok", false).member("error", "role " + std::string(role_name(who.role)) + " may not acknowledge");
        } else {
          const net::HttpResponse r = ack_alert(self->ctx, who, id);
          w.member("ok", r.status == 200);
          if (r.status != 200) w.key("error").raw(r.body);
        }
        w.end_object();
        return out;
      },
      config.server.ws_max_queued_bytes / 2);

  const auto [address, port] =
      net::parse_listen_address(p.options.listen.empty() ? config.server.listen : p.options.listen);
  net::HttpServerOptions so;
  so.address = address;
  so.port = port;
  so.threads = config.server.threads;
  so.max_body_bytes = config.server.max_body_bytes;
  so.ws_max_queued_bytes = config.server.ws_max_queued_bytes;
  so.ws_max_message_bytes = config.server.ws_max_message_bytes;
  so.ws_ping_interval = config.server.ws_ping_interval;
  p.server = std::make_unique<net::HttpServer>(so);
  net::HttpServer& s = *p.server;
  add_route(s, p.ctx, "POST", "/v1/events", guarded(p.ctx, Permission::kIngest, [self](net::HttpRequest& r, const Principal& who) {
    return self->post_events(r, who);
  }));
  add_route(s, p.ctx, "GET", "/healthz", [](net::HttpRequest&) { return json_response(200, R"({"status":"ok"})"); });
  add_route(s, p.ctx, "GET", "/readyz", [self](net::HttpRequest&) {
    if (!self->started.load()) return json_response(503, R"({"status":"starting"})");
    if (!self->pipeline->has_capacity()) return json_response(503, R"({"status":"saturated"})");
    return json_response(200, R"({"status":"ready"})");
  });
  add_route(s, p.ctx, "GET", "/metrics", guarded(p.ctx, Permission::kRead, [self](net::HttpRequest&, const Principal&) {
    net::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = self->pipeline->metrics_text();
    auto counter = [&r](const char* name, const char* help, uint64_t v) {
      r.body += fmt::format("# HELP {0}_total {1}\n# TYPE {0}_total counter\n{0}_total {2}\n", name, help, v);
    };
    counter("sentinel_ingest_busy_rejections", "Requests answered 503 because the shard queues were full.",
            self->rejected_busy.load());
    counter("sentinel_ingest_rate_rejections", "Requests answered 429 because the token was over its rate.",
            self->rejected_rate.load());
    const AlertStoreStats st = self->store->stats(wall_clock_ms());
    r.body += fmt::format(
        "# HELP sentinel_alerts_unacked Alerts not yet acknowledged.\n# TYPE sentinel_alerts_unacked gauge\n"
        "sentinel_alerts_unacked {}\n"
        "# HELP sentinel_alerts_overdue Unacknowledged alerts past their acknowledgement SLA.\n"
        "# TYPE sentinel_alerts_overdue gauge\nsentinel_alerts_overdue {}\n"
        "# HELP sentinel_stream_clients WebSocket clients of /v1/alerts/stream.\n"
        "# TYPE sentinel_stream_clients gauge\nsentinel_stream_clients {}\n",
        st.unacked, st.overdue, self->stream->clients());
    const net::HttpStats hs = self->server->stats();
    counter("sentinel_ws_accepted", "WebSocket handshakes completed.", hs.ws_accepted);
    counter("sentinel_ws_closed_slow", "WebSocket clients cut off as slow consumers (close 1008).", hs.ws_closed_slow);
    counter("sentinel_ws_messages_out", "WebSocket messages written to clients.", hs.ws_messages_out);
    if (self->flows) r.body += self->flows->prometheus_text();
    if (self->intel) r.body += self->intel->service->metrics_text();
    if (self->redis) {
      const auto rs = self->redis->status();
      r.body += fmt::format(
          "# HELP sentinel_queue_redis_up 1 while the Redis alert queue is reachable.\n"
          "# TYPE sentinel_queue_redis_up gauge\nsentinel_queue_redis_up {}\n"
          "# HELP sentinel_queue_unconfirmed Alert changes not yet confirmed by Redis.\n"
          "# TYPE sentinel_queue_unconfirmed gauge\nsentinel_queue_unconfirmed {}\n",
          rs.connected ? 1 : 0, rs.unconfirmed);
    }
    return r;
  }));
  add_route(s, p.ctx, "GET", "/v1/windows/global", guarded(p.ctx, Permission::kRead, [self](net::HttpRequest&, const Principal&) {
    std::vector<std::string> lines;
    {
      std::lock_guard lock(self->ingest_mutex);
      lines = self->pipeline->global_summary();
    }
    std::string body = "{\"windows\":[";
    for (size_t i = 0; i < lines.size(); ++i) body += (i ? "," : "") + lines[i];
    body += "]}";
    return json_response(200, std::move(body));
  }));
  register_api_routes(s, p.ctx);
  if (p.intel) register_intel_routes(s, p.ctx, *p.intel->service, *p.intel->stream);
  for (const std::string& file : p.options.demo_feed_files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("demo feed " + file + ": cannot read");
    std::ostringstream text;
    text << in.rdbuf();
    auto body = std::make_shared<const std::string>(text.str());
    const std::string etag = fmt::format("\"{:016x}\"", std::hash<std::string>{}(*body));
    // Public like any news site's feed; conditional GET answered like one.
    s.route("GET", "/demo/feeds/" + std::filesystem::path(file).filename().string(), [body, etag](net::HttpRequest& req) {
      net::HttpResponse r;
      r.headers.emplace_back("ETag", etag);
      if (req.header("if-none-match") == etag) {
        r.status = 304;
        return r;
      }
      r.content_type = "application/rss+xml; charset=utf-8";
      r.body = *body;
      return r;
    });
  }
  s.websocket("/v1/alerts/stream", [self](net::HttpRequest& req) -> std::variant<net::WebSocketSession, net::HttpResponse> {
    auto auth = authenticate(self->ctx, req, Permission::kRead);
    if (auto* r = std::get_if<net::HttpResponse>(&auth)) return std::move(*r);
    std::optional<uint64_t> since;
    if (auto v = query_param(req.query, "since")) {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0') return net::make_json_error(400, "since: expected a sequence number");
      since = n;
    }
    net::WebSocketSession session =
        self->stream->open_session(std::get<Principal>(auth), since, query_param(req.query, "stream").value_or(""));
    // Browsers offer "sentinel.v1" (with the token); other clients may offer none.
    const auto offered = net::websocket_subprotocols(req);
    if (std::find(offered.begin(), offered.end(), session.subprotocol) == offered.end()) session.subprotocol.clear();
    return session;
  });
  p.web_root = find_web_root(config.server.web_root, config.base_dir);
  if (p.web_root) {
    const std::string root = *p.web_root;
    s.fallback([root](net::HttpRequest& req) { return serve_static(root, req.path); });
  } else {
    s.fallback([](net::HttpRequest& req) {
      if (req.path == "/") {
        return net::make_json_error(404, "the command-centre page is not built: run `make web` (web/dist)");
      }
      return net::make_json_error(404, "not found: " + req.path);
    });
  }
}

LiveService::~LiveService() { stop(); }

void LiveService::start() {
  Impl& p = *impl_;
  p.pipeline->start();
  if (p.redis) p.redis->start();
  p.stream->start();
  // Before the server: the routes need the triage settings and dedup index loaded.
  if (p.intel) p.intel->start();
  p.server->start();
  p.ticker = std::thread([this] { impl_->tick_loop(); });
  if (!p.options.replay_inputs.empty()) p.feeder = std::thread([this] { impl_->feed_loop(); });
  if (p.flows) p.flows->start();
  if (p.intel) {
    for (const std::string& file : p.options.demo_feed_files) {
      const std::string url = fmt::format("http://127.0.0.1:{}/demo/feeds/{}", p.server->port(),
                                          std::filesystem::path(file).filename().string());
      auto added = p.intel->service->add_feed({url, "Demo news (synthetic)", Millis(3'600'000)});
      if (!added.ok()) spdlog::warn("demo feed {}: {}", url, added.error().to_string());
    }
  }
  p.started = true;
}

uint16_t LiveService::port() const { return impl_->server->port(); }

void LiveService::stop() {
  if (!impl_ || !impl_->started.exchange(false)) return;
  Impl& p = *impl_;
  {
    std::lock_guard lock(p.tick_mutex);
    p.stopping = true;
  }
  p.tick_cv.notify_all();
  if (p.feeder.joinable()) p.feeder.join();
  if (p.intel) p.intel->stop();
  if (p.flows) p.flows->stop();
  p.server->stop();
  p.stream->stop();
  p.ticker.join();
  {
    std::lock_guard lock(p.ingest_mutex);
    p.pipeline->finish();
  }
  if (p.redis) p.redis->stop();
}

std::string LiveService::status_line() const {
  const auto& c = impl_->pipeline->counters();
  const int64_t wm = c.watermark_ms.load();
  const AlertStoreStats st = impl_->store->stats(wall_clock_ms());
  return fmt::format(
      "events {} | watermark {} | backlog {} | dead letters {} | late {} | duplicates {} | alerts {} (unacked {}) | "
      "clients {}",
      c.events.load(), wm == INT64_MIN ? std::string("-") : format_rfc3339(event_time_from_ms(wm)),
      impl_->pipeline->backlog(), c.dead_letters.load(), c.late.load(), c.duplicates.load(), st.alerts, st.unacked,
      impl_->stream->clients());
}

const std::string& LiveService::initial_token() const { return impl_->initial_token; }
bool LiveService::replay_done() const { return impl_->feeder_done.load(); }
std::optional<std::string> LiveService::web_root() const { return impl_->web_root; }
std::vector<std::pair<std::string, std::string>> LiveService::routes() const { return impl_->ctx.routes; }

}  // namespace sentinel
