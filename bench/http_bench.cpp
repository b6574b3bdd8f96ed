// Cost of the HTTP layer alone: small JSON POSTs over keep-alive loopback
// connections with the in-repo client, handler doing no work.
//   build/<dir>/bench/http_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <string>

#include "net/http_client.h"
#include "net/http_server.h"

namespace {

using sentinel::net::HttpClient;
using sentinel::net::HttpRequest;
using sentinel::net::HttpResponse;
using sentinel::net::HttpServer;
using sentinel::net::HttpServerOptions;

// One server for every benchmark thread; started on first use, stopped at exit.
HttpServer& shared_server() {
  static HttpServer server([] {
    HttpServerOptions options;
    options.threads = 2;
    return options;
  }());
  static const bool started = [] {
    server.route("POST", "/v1/events", [](HttpRequest& request) {
      HttpResponse response;
      response.status = 202;
      response.body = "{\"accepted\":" + std::to_string(request.body.empty() ? 0 : 1) + "}";
      return response;
    });
    server.start();
    return true;
  }();
  (void)started;
  return server;
}

constexpr const char* kEvent =
    R"({"specversion":"1.0","id":"cad-000123","source":"cad","type":"cad.call.weapon",)"
    R"("time":"2026-03-01T22:14:05Z","lat":41.8781,"lon":-87.6298,)"
    R"("severity":"violent","confidence":0.92,"data":{"call_id":"c-1"}})";

// Each benchmark thread drives its own keep-alive connection.
void BM_HttpPostSmallKeepAlive(benchmark::State& state) {
  HttpServer& server = shared_server();
  HttpClient client("127.0.0.1", server.port());
  const std::string body = kEvent;
  for (auto _ : state) {
    HttpResponse response = client.request("POST", "/v1/events", body);
    if (response.status != 202) {
      state.SkipWithError("unexpected status");
      break;
    }
    benchmark::DoNotOptimize(response.body.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_HttpPostSmallKeepAlive)->UseRealTime()->Threads(1)->Threads(4)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
