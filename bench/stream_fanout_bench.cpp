// The issue-4 figure for the alert stream: N WebSocket clients of
// /v1/alerts/stream on loopback, alerts emitted into the AlertStore at R/s
// (the pipeline's hand-off point: AlertStore::upsert on the merger thread),
// broadcast by the AlertStream through the real HttpServer. Measures, per
// client and per alert, emitted (upsert returned) -> the client's on_message
// for the message carrying it, and checks that every client got every alert
// exactly once in order. Target: p99 < 50 ms at 1,000 alerts/s, 1,000 clients.
//   build/<dir>/bench/stream_fanout_bench [--clients 1000] [--rate 1000] [--seconds 10]
//       [--server-threads 1] [--client-threads 1]
// Exits 1 when an alert was lost or duplicated, or a client was cut off.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/alert_store.h"
#include "core/config.h"
#include "net/http_server.h"
#include "net/ws_client.h"
#include "server/alert_stream.h"

namespace {

using namespace sentinel;
using Clock = std::chrono::steady_clock;

struct Args {
  size_t clients = 1000;
  double rate = 1000;
  double seconds = 10;
  int server_threads = 1;
  size_t client_threads = 1;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--clients") a.clients = std::strtoull(v, nullptr, 10);
    else if (k == "--rate") a.rate = std::strtod(v, nullptr);
    else if (k == "--seconds") a.seconds = std::strtod(v, nullptr);
    else if (k == "--server-threads") a.server_threads = std::atoi(v);
    else if (k == "--client-threads") a.client_threads = std::strtoull(v, nullptr, 10);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

Alert synthetic_alert(uint64_t n) {
  Alert a;
  a.alert_id = fmt::format("a-{:016x}", n * 0x9e3779b97f4a7c15ull);
  a.dedup_key = fmt::format("sensor/880e2f{:02x}/sensor.gunshot", n % 256);
  a.type = AlertType::kSensor;
  a.category = "sensor.gunshot";
  a.cell_token = "880e2f35";
  a.score.score = 0.5 + static_cast<double>(n % 50) / 100.0;
  a.score.priority = n % 7 == 0 ? Priority::kP0 : n % 3 == 0 ? Priority::kP1 : Priority::kP2;
  a.sources = {"sensor"};
  a.event_ids = {fmt::format("sensor-{:06}", n)};
  a.has_location = true;
  a.lat = 41.8 + static_cast<double>(n % 100) / 1000.0;
  a.lon = -87.6;
  a.district = "NEAR WEST SIDE";
  a.event_time = event_time_from_ms(1'546'300'800'000 + static_cast<int64_t>(n) * 1000);
  a.first_seen = a.last_seen = a.emitted_at = a.event_time;
  a.count = 1;
  return a;
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  rlimit fds{};
  getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = fds.rlim_max;
  setrlimit(RLIMIT_NOFILE, &fds);

  Config config;
  config.queue.max_alerts = 1'000'000;
  AlertStore store(config.queue);
  AlertStream stream(store, 1000, nullptr, nullptr);
  net::HttpServerOptions so;
  so.port = 0;
  so.threads = args.server_threads;
  net::HttpServer server(so);
  server.websocket("/v1/alerts/stream", [&](net::HttpRequest&) -> std::variant<net::WebSocketSession, net::HttpResponse> {
    return stream.open_session(Principal{"bench", Role::kAnalyst}, std::nullopt, "");
  });
  server.start();
  stream.start();

  const size_t total = static_cast<size_t>(args.rate * args.seconds);
  // emitted[seq] = steady ns when upsert returned; filled before any client can see seq.
  std::vector<std::atomic<int64_t>> emitted(total + 2);
  struct PerClient {
    std::atomic<uint64_t> next_seq{0};  // the seq expected next (0 until the snapshot)
    std::atomic<uint64_t> received{0};
    uint64_t out_of_order = 0;
    std::vector<double> latencies_ms;
  };
  std::vector<PerClient> per(args.clients);
  std::atomic<size_t> closed{0};
  std::atomic<bool> closing{false};  // closes after the run are ours, not cut-offs
  std::vector<std::unique_ptr<net::WsClientGroup>> groups;
  const size_t per_group = (args.clients + args.client_threads - 1) / args.client_threads;
  for (size_t g = 0; g < args.client_threads; ++g) {
    const size_t base = g * per_group;
    net::WsClientGroup::Handlers h;
    h.on_message = [&, base](size_t index, std::string_view text) {
      const int64_t now = Clock::now().time_since_epoch().count();
      PerClient& c = per[base + index];
      // A scan, not a JSON parse: the clients share the machine with the
      // server, and what is measured is the server's delivery.
      if (text.starts_with(R"({"type":"snapshot")")) {
        const size_t at = text.find(R"("seq":)");
        c.next_seq = std::strtoull(text.data() + at + 6, nullptr, 10) + 1;
        return;
      }
      if (!text.starts_with(R"({"type":"changes")")) return;
      for (size_t at = text.find(R"({"seq":)"); at != std::string_view::npos; at = text.find(R"({"seq":)", at + 7)) {
        const uint64_t seq = std::strtoull(text.data() + at + 7, nullptr, 10);
        if (seq != c.next_seq.load()) ++c.out_of_order;
        c.next_seq = seq + 1;
        c.received.fetch_add(1);
        if (seq < emitted.size()) {
          c.latencies_ms.push_back(static_cast<double>(now - emitted[seq].load()) / 1e6);
        }
      }
    };
    h.on_close = [&](size_t, const net::WsCloseInfo& info) {
      if (closing.load()) return;
      closed.fetch_add(1);
      std::fprintf(stderr, "client closed: %u %s\n", info.code, info.reason.c_str());
    };
    auto group = std::make_unique<net::WsClientGroup>(h);
    const size_t n = std::min(per_group, args.clients - std::min(args.clients, base));
    net::WsClientOptions co;
    co.subprotocols = {"sentinel.v1"};
    if (auto st = group->connect("127.0.0.1", server.port(), "/v1/alerts/stream", n, co); !st.ok()) {
      std::fprintf(stderr, "connect: %s\n", st.error().to_string().c_str());
      return 1;
    }
    groups.push_back(std::move(group));
  }
  // Every client has its snapshot before the first alert.
  for (int i = 0; i < 1000; ++i) {
    bool all = true;
    for (const auto& c : per) all = all && c.next_seq != 0;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::fprintf(stderr, "%zu clients connected; emitting %zu alerts at %.0f/s\n", args.clients, total, args.rate);
  std::string record;
  const auto start = Clock::now();
  for (size_t n = 0; n < total; ++n) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(n) / args.rate));
    std::this_thread::sleep_until(due);
    const Alert a = synthetic_alert(n);
    record.clear();
    render_alert(a, record);
    const Alert* ptr = &a;
    const std::string_view view = record;
    // The seq the store will assign is known only after upsert; stamp the
    // time first under the expectation (one change per new alert), then check.
    const uint64_t expect = store.last_seq() + 1;
    emitted[expect].store(Clock::now().time_since_epoch().count());
    const auto changes = store.upsert(std::span<const Alert* const>(&ptr, 1), std::span<const std::string_view>(&view, 1),
                                      std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch()).count());
    if (changes.size() != 1 || changes[0].seq != expect) {
      std::fprintf(stderr, "unexpected store change sequence\n");
      return 1;
    }
  }
  const double send_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Drain: wait until every client has everything (or 10 s).
  for (int i = 0; i < 1000; ++i) {
    bool done = true;
    for (const auto& c : per) done = done && c.received >= total;
    if (done || closed.load() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  closing = true;
  for (auto& g : groups) g->close_all(std::chrono::seconds(5));
  stream.stop();
  server.stop();

  std::vector<double> all;
  uint64_t lost = 0, disorder = 0;
  for (auto& c : per) {
    lost += total - std::min<uint64_t>(total, c.received.load());
    disorder += c.out_of_order;
    all.insert(all.end(), c.latencies_ms.begin(), c.latencies_ms.end());
  }
  std::printf("stream_fanout: clients %zu, alerts %zu at %.0f/s (sent in %.2f s), deliveries %zu, lost %llu, "
              "out of order %llu, cut off %zu\n",
              args.clients, total, args.rate, send_s, all.size(), static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(disorder), closed.load());
  std::printf("emitted -> client receipt: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms; messages sent %llu\n",
              percentile(all, 0.50), percentile(all, 0.95), percentile(all, 0.99), percentile(all, 1.0),
              static_cast<unsigned long long>(stream.messages_sent()));
  return lost == 0 && disorder == 0 && closed.load() == 0 ? 0 : 1;
}
