// The REST and WebSocket surface of incident curation (DESIGN.md section 7),
// registered on the live service's HttpServer when intel.enabled is set.
// docs/INTEL_API.md gives the shapes; docs/openapi.json lists the routes.
//
//   GET  /v1/intel/feeds                       read
//   POST /v1/intel/feeds                       admin  {"url","title","schedule_s"}
//   POST /v1/intel/feeds/{id}/fetch            admin  fetch now
//   POST /v1/intel/feeds/{id}/status           admin  {"status":"active|paused"}
//   POST /v1/intel/articles                    curate {"url","title","text","published"}
//   GET  /v1/intel/curation                    curate ?state=open|approved|rejected|any&limit&offset
//   GET  /v1/intel/curation/{id}               curate
//   POST /v1/intel/curation/{id}/approve       curate {"corrections":{..},"note":".."}
//   POST /v1/intel/curation/{id}/reject        curate {"reason":".."}
//   POST /v1/intel/curation/{id}/correct       curate {"field":"..","value":..}
//   GET  /v1/intel/incidents                   read   ?from&to&type&district&status&limit&offset
//   GET  /v1/intel/incidents/{id}              read
//   POST /v1/intel/incidents/{id}/status       curate {"status":"..","reason":".."}
//   GET  /v1/intel/triage                      read
//   PUT  /v1/intel/triage                      admin  {"settings":{..}}
//   GET  /v1/intel/jobs                        read
//   WS   /v1/intel/jobs/stream                 read   job transitions and queue counts
#pragma once

#include <memory>

#include "net/http_server.h"
#include "server/api_routes.h"

namespace sentinel {

namespace intel {
class IntelService;
struct JobEvent;
}  // namespace intel

/// Fans job transitions out to the WebSocket clients of /v1/intel/jobs/stream
/// and, at most four times a second while jobs move, the queue counts.
/// Threading: on_job_event() from any thread; sessions on I/O threads.
class IntelJobStream {
 public:
  explicit IntelJobStream(intel::IntelService& service);
  ~IntelJobStream();  ///< stop()s
  void start();
  void stop();
  void on_job_event(const intel::JobEvent& event);
  net::WebSocketSession open_session();
  size_t clients() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Registers the routes above (and the job stream) on `server`.
void register_intel_routes(net::HttpServer& server, ApiContext& ctx, intel::IntelService& service,
                           IntelJobStream& stream);

}  // namespace sentinel
