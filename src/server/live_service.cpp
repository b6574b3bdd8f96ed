#include "server/live_service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/cloudevents.h"
#include "core/json_writer.h"
#include "net/http_server.h"
#include "pipeline/pipeline.h"

namespace sentinel {

namespace {
constexpr size_t kHttpInput = 0;
constexpr auto kTick = std::chrono::milliseconds(100);

net::HttpResponse json_response(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
}  // namespace

struct LiveService::Impl {
  Config config;
  Options options;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<net::HttpServer> server;
  std::mutex ingest_mutex;  // serialises everything that feeds the pipeline
  std::thread ticker;
  std::mutex tick_mutex;
  std::condition_variable tick_cv;
  bool stopping = false;
  std::atomic<bool> started{false};
  std::atomic<uint64_t> rejected_busy{0};

  net::HttpResponse post_events(net::HttpRequest& req) {
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
      std::lock_guard ingest(ingest_mutex);
      pipeline->flush_marker();
    }
  }
};

LiveService::LiveService(const Config& config, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->options = std::move(options);
  PipelineOptions po;
  po.out_dir = impl_->options.out_dir;
  po.checkpoint_dir = impl_->options.checkpoint_dir;
  po.inputs = {"http"};
  po.shards = impl_->options.shards;
  po.live = true;
  impl_->pipeline = std::make_unique<Pipeline>(config, po);
  const auto [address, port] =
      net::parse_listen_address(impl_->options.listen.empty() ? config.server.listen : impl_->options.listen);
  net::HttpServerOptions so;
  so.address = address;
  so.port = port;
  so.threads = config.server.threads;
  so.max_body_bytes = config.server.max_body_bytes;
  impl_->server = std::make_unique<net::HttpServer>(so);
  Impl* self = impl_.get();
  impl_->server->route("POST", "/v1/events", [self](net::HttpRequest& r) { return self->post_events(r); });
  impl_->server->route("GET", "/healthz", [](net::HttpRequest&) { return json_response(200, R"({"status":"ok"})"); });
  impl_->server->route("GET", "/readyz", [self](net::HttpRequest&) {
    if (!self->started.load()) return json_response(503, R"({"status":"starting"})");
    if (!self->pipeline->has_capacity()) return json_response(503, R"({"status":"saturated"})");
    return json_response(200, R"({"status":"ready"})");
  });
  impl_->server->route("GET", "/metrics", [self](net::HttpRequest&) {
    net::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = self->pipeline->metrics_text();
    r.body += "# HELP sentinel_ingest_busy_rejections_total Requests answered 503 because the shard queues were full.\n"
              "# TYPE sentinel_ingest_busy_rejections_total counter\n"
              "sentinel_ingest_busy_rejections_total " + std::to_string(self->rejected_busy.load()) + "\n";
    return r;
  });
  impl_->server->route("GET", "/v1/windows/global", [self](net::HttpRequest&) {
    std::vector<std::string> lines;
    {
      std::lock_guard lock(self->ingest_mutex);
      lines = self->pipeline->global_summary();
    }
    std::string body = "{\"windows\":[";
    for (size_t i = 0; i < lines.size(); ++i) body += (i ? "," : "") + lines[i];
    body += "]}";
    return json_response(200, std::move(body));
  });
}

LiveService::~LiveService() { stop(); }

void LiveService::start() {
  impl_->pipeline->start();
  impl_->server->start();
  impl_->ticker = std::thread([this] { impl_->tick_loop(); });
  impl_->started = true;
}

uint16_t LiveService::port() const { return impl_->server->port(); }

void LiveService::stop() {
  if (!impl_ || !impl_->started.exchange(false)) return;
  impl_->server->stop();
  {
    std::lock_guard lock(impl_->tick_mutex);
    impl_->stopping = true;
  }
  impl_->tick_cv.notify_all();
  impl_->ticker.join();
  std::lock_guard lock(impl_->ingest_mutex);
  impl_->pipeline->finish();
}

std::string LiveService::status_line() const {
  const auto& c = impl_->pipeline->counters();
  const int64_t wm = c.watermark_ms.load();
  return fmt::format("events {} | watermark {} | backlog {} | dead letters {} | late {} | duplicates {} | windows {}",
                     c.events.load(), wm == INT64_MIN ? std::string("-") : format_rfc3339(event_time_from_ms(wm)),
                     impl_->pipeline->backlog(), c.dead_letters.load(), c.late.load(), c.duplicates.load(),
                     c.windows.load());
}

}  // namespace sentinel
