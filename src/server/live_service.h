// LiveService: `sentinel run` — the pipeline fed by HTTP, with the
// operational endpoints (DESIGN.md sections 2 and 8):
//   POST /v1/events         one object, an array, or NDJSON; 200 when all were
//                           accepted, 400 naming each bad element's field and
//                           reason (good elements in the same body are still
//                           processed), 413 over server.max_body_bytes (from
//                           the HTTP layer), 503 + Retry-After when the shard
//                           queues are full — never a silent drop.
//   GET  /metrics           Prometheus text
//   GET  /healthz, /readyz  liveness, and readiness (started and not saturated)
//   GET  /v1/windows/global the 24 h summary at the current watermark
// A ticker emits a watermark marker every 100 ms so windows close on a
// quiet stream (idle sources stop holding the watermark back).
// Threading: HTTP handlers and the ticker serialise on one ingest mutex; the
// shards run on their own threads behind it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/config.h"

namespace sentinel {

class LiveService {
 public:
  struct Options {
    std::string out_dir = "sentinel-out";
    std::optional<std::string> checkpoint_dir;
    int shards = -1;
    std::string listen;  ///< overrides server.listen when set
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
