// LiveService: `sentinel run` and `sentinel demo` — the pipeline fed by HTTP
// (and, for the demo, by a paced replay of files), with the command centre:
//   POST /v1/events         one object, an array, or NDJSON; 200 when all were
//                           accepted, 400 naming each bad element's field and
//                           reason (good elements in the same body are still
//                           processed), 413 over server.max_body_bytes (from
//                           the HTTP layer), 429 past the token's rate
//                           (server.ingest_rate), 503 + Retry-After when the
//                           shard queues are full — never a silent drop.
//   the alert API (api_routes.h), WebSocket /v1/alerts/stream (alert_stream.h),
//   the page (web/dist, static_files.h),
//   GET  /metrics           Prometheus text (token with read permission)
//   GET  /healthz, /readyz  liveness, and readiness (no token: for probes)
//   GET  /v1/windows/global the 24 h summary at the current watermark
// A ticker emits a watermark marker every 100 ms so windows close on a
// quiet stream (idle sources stop holding the watermark back).
// Threading: HTTP handlers, the ticker and the demo feeder serialise on one
// ingest mutex; the shards run on their own threads behind it; alerts reach
// the AlertStore on the pipeline's merger thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace sentinel {

class LiveService {
 public:
  struct Options {
    std::string out_dir = "sentinel-out";
    std::optional<std::string> checkpoint_dir;
    int shards = -1;
    std::string listen;  ///< overrides server.listen when set
    /// Files replayed into the live pipeline, merged by event time and paced
    /// at `speed` seconds of event time per second (the demo).
    std::vector<std::string> replay_inputs;
    double speed = 3600;
    /// Tokens registered in memory only, besides server.tokens (the demo's).
    std::vector<std::pair<std::string, std::string>> extra_admin_tokens;  ///< (name, token)
    /// Feed files (RSS/Atom) this server publishes at /demo/feeds/<file name>
    /// and, with intel enabled, subscribes to once it listens: the demo's
    /// news arrives through the real fetch, parse and extraction path.
    std::vector<std::string> demo_feed_files;
  };
  LiveService(const Config& config, Options options);
  ~LiveService();
  /// Starts the pipeline, the ticker and the HTTP server; throws on bind errors.
  void start();
  uint16_t port() const;
  /// Stops accepting requests, flushes the windows and writes a last checkpoint.
  void stop();
  /// One-line status for a console (events, watermark, backlog, dead letters).
  std::string status_line() const;
  /// The one-time admin token made at start when server.tokens is not set
  /// ("" otherwise). For the console only: never logged.
  const std::string& initial_token() const;
  /// True once every replay input has been fed (always true without any).
  bool replay_done() const;
  /// Whether the command-centre page was found (web/dist built).
  std::optional<std::string> web_root() const;
  /// Every (method, path) the HTTP API serves (WebSocket and static files aside).
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
